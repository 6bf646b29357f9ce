"""Tests for advkeras.layers: numerics against NumPy, serialization, validation, constraints."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from advkeras import losses
from advkeras.layers import (
    DEFAULT_RBF_BETA,
    RBF,
    CeilMaxPooling2D,
    InputDropout,
    MaxNormColumns,
    Maxout,
    MaxoutConv2D,
)

RNG = np.random.default_rng(0)


def np_(x):
    return keras.ops.convert_to_numpy(x)


def assert_config_round_trip(layer: keras.layers.Layer) -> None:
    """from_config(get_config()) rebuilds an equal config that holds every constructor argument
    (but those the layer leaves out at their defaults, ``config_omits_defaults``)."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    params = set(inspect.signature(type(layer).__init__).parameters) - {"self", "kwargs"}
    omitted = getattr(layer, "config_omits_defaults", {})
    missing = params - set(config)
    assert missing <= set(omitted), missing - set(omitted)
    assert all(getattr(layer, option) == omitted[option] for option in missing)


def keras_round_trip(model: keras.Model, tmp_path, x: np.ndarray) -> keras.Model:
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np_(loaded(x)), np_(model(x)), rtol=1e-6, atol=1e-7)
    return loaded


# --------------------------------------------------------------------------- MaxNormColumns


def test_max_norm_columns_dense_rescales_only_long_columns():
    w = RNG.normal(size=(6, 5)).astype("float32")
    w[:, 1] *= 0.01  # short column: must stay untouched
    norms = np.linalg.norm(w, axis=0)
    c = 0.5 * float(np.median(norms))
    out = np_(MaxNormColumns(c)(w))
    expected = w * np.where(norms > c, c / norms, 1.0)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_array_equal(out[:, 1], w[:, 1])
    assert np.all(np.linalg.norm(out, axis=0) <= c * (1 + 1e-6))


def test_max_norm_columns_conv_kernel_norm_per_output_filter():
    w = RNG.normal(size=(3, 3, 2, 4)).astype("float32")
    norms = np.sqrt((w**2).sum(axis=(0, 1, 2)))
    out = np_(MaxNormColumns(3.0)(w))
    np.testing.assert_allclose(out, w * np.where(norms > 3.0, 3.0 / norms, 1.0), rtol=1e-6)
    np.testing.assert_allclose(
        np.sqrt((out**2).sum(axis=(0, 1, 2))), np.minimum(norms, 3.0), rtol=1e-5
    )


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.floats(0.01, 10.0),
    st.integers(0, 2**31 - 1),
)
def test_max_norm_columns_property(rows, cols, max_norm, seed):
    w = np.random.default_rng(seed).normal(scale=3.0, size=(rows, cols)).astype("float32")
    out = np_(MaxNormColumns(max_norm)(w)).astype(np.float64)
    assert np.all(np.linalg.norm(out, axis=0) <= max_norm * (1 + 1e-5))
    # each column is w's column times a factor in (0, 1]: direction kept
    ratio = np.where(np.abs(w) > 1e-6, out / np.where(w == 0, 1, w), 1.0)
    assert np.all(ratio > 0) and np.all(ratio <= 1 + 1e-6)
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio.max(axis=0), ratio.shape), rtol=1e-4)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "big", True, None])
def test_max_norm_columns_rejects_bad_max_norm(bad):
    with pytest.raises(ValueError, match="max_norm"):
        MaxNormColumns(bad)


def test_max_norm_columns_config():
    c = MaxNormColumns(1.9365)
    assert c.get_config() == {"max_norm": 1.9365}
    restored = keras.constraints.deserialize(keras.constraints.serialize(c))
    assert isinstance(restored, MaxNormColumns) and restored.max_norm == 1.9365


# --------------------------------------------------------------------------- Maxout


def _set_maxout(layer: Maxout, input_dim: int) -> tuple[np.ndarray, np.ndarray]:
    if not layer.built:
        layer.build((None, input_dim))
    w = RNG.normal(size=(input_dim, layer.units * layer.pieces)).astype("float32")
    b = RNG.normal(size=(layer.units * layer.pieces,)).astype("float32")
    layer.kernel.assign(w)
    layer.bias.assign(b)
    return w, b


def test_maxout_matches_numpy():
    layer = Maxout(4, pieces=3)
    w, b = _set_maxout(layer, 7)
    x = RNG.normal(size=(5, 7)).astype("float32")
    expected = (x @ w + b).reshape(5, 4, 3).max(axis=-1)
    np.testing.assert_allclose(np_(layer(x)), expected, rtol=1e-5, atol=1e-6)


def test_maxout_pieces_are_consecutive_columns():
    # identity kernel: unit j sees exactly the inputs j*pieces .. (j+1)*pieces - 1
    units, pieces = 3, 4
    layer = Maxout(units, pieces, kernel_initializer="identity", use_bias=False)
    x = RNG.normal(size=(6, units * pieces)).astype("float32")
    expected = np.stack([x[:, j * pieces : (j + 1) * pieces].max(axis=1) for j in range(units)], 1)
    np.testing.assert_allclose(np_(layer(x)), expected, rtol=1e-6)


def test_maxout_unit_filters_layout():
    layer = Maxout(3, pieces=5)
    w, _ = _set_maxout(layer, 8)
    filters = layer.unit_filters()
    assert filters.shape == (3, 5, 8)
    for j in range(3):
        for i in range(5):
            np.testing.assert_array_equal(filters[j, i], w[:, j * 5 + i])


def test_maxout_unit_filters_needs_weights():
    with pytest.raises(ValueError, match="no weights"):
        Maxout(2).unit_filters()


def test_maxout_default_init_is_pylearn2_uniform_and_nd_inputs():
    layer = Maxout(10, pieces=5)
    out = layer(np.zeros((2, 3, 50), "float32"))
    assert tuple(out.shape) == (2, 3, 10)
    w = np_(layer.kernel)
    assert w.shape == (50, 50)
    assert np.abs(w).max() <= 0.005 and np.abs(w).max() > 0.004
    np.testing.assert_array_equal(np_(layer.bias), 0.0)
    assert layer.compute_output_shape((None, 3, 50)) == (None, 3, 10)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"units": 0}, "units"),
        ({"units": -3}, "units"),
        ({"units": 2.5}, "units"),
        ({"units": "4"}, "units"),
        ({"units": True}, "units"),
        ({"units": 4, "pieces": 0}, "pieces"),
        ({"units": 4, "pieces": 1.5}, "pieces"),
        ({"units": 4, "max_norm": 0}, "max_norm"),
        ({"units": 4, "max_norm": -1.0}, "max_norm"),
        ({"units": 4, "max_norm": 1.0, "kernel_constraint": "non_neg"}, "kernel_constraint"),
    ],
)
def test_maxout_validation(kwargs, argument):
    with pytest.raises(ValueError, match=argument) as info:
        Maxout(**kwargs)
    assert "Received" in str(info.value)


def test_maxout_config_round_trip():
    layer = Maxout(
        7,
        pieces=2,
        max_norm=1.5,
        kernel_regularizer=keras.regularizers.L1(0.01),
        name="h0",
    )
    assert_config_round_trip(layer)
    clone = Maxout.from_config(layer.get_config())
    clone.build((None, 3))
    assert isinstance(clone.kernel.constraint, MaxNormColumns)
    assert clone.kernel.constraint.max_norm == 1.5


def test_maxout_max_norm_enforced_after_optimizer_step():
    # One batch for both runs (drawn here, not from the module's RNG, whose state depends
    # on which tests ran before): the capped run must see what the free run saw.
    x = np.random.default_rng(1).normal(size=(8, 6)) * 10

    def train_once(max_norm):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((6,)), Maxout(4, 3, max_norm=max_norm)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=100.0), loss="mse")
        model.train_on_batch(x, np.full((8, 4), 100.0))
        return np.linalg.norm(np_(model.layers[-1].kernel), axis=0)

    free = train_once(None)
    assert free.max() > 1.0  # the step alone would break the cap ...
    capped = train_once(1.0)
    assert np.all(capped <= 1.0 + 1e-5)  # ... and the constraint restores it
    np.testing.assert_allclose(capped, np.minimum(free, 1.0), rtol=1e-4)


def test_maxout_keras_file_round_trip(tmp_path):
    model = keras.Sequential(
        [keras.Input((5,)), Maxout(3, 2, max_norm=2.0, name="h0")], name="maxout_seq"
    )
    _set_maxout(model.layers[0], 5)
    loaded = keras_round_trip(model, tmp_path, RNG.normal(size=(4, 5)).astype("float32"))
    assert isinstance(loaded.get_layer("h0"), Maxout)
    assert loaded.get_layer("h0").max_norm == 2.0


# --------------------------------------------------------------------------- MaxoutConv2D


def _np_conv_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    kh, kw = w.shape[:2]
    n, h, wd, _ = x.shape
    out = np.zeros((n, h - kh + 1, wd - kw + 1, w.shape[-1]))
    for r in range(out.shape[1]):
        for c in range(out.shape[2]):
            out[:, r, c] = np.einsum("nijc,ijco->no", x[:, r : r + kh, c : c + kw], w)
    return out


def test_maxout_conv_matches_numpy_valid():
    layer = MaxoutConv2D(2, 3, (3, 2))
    layer.build((None, 6, 5, 4))
    w = RNG.normal(size=(3, 2, 4, 6)).astype("float32")
    b = RNG.normal(size=(6,)).astype("float32")
    layer.kernel.assign(w)
    layer.bias.assign(b)
    x = RNG.normal(size=(2, 6, 5, 4)).astype("float32")
    z = _np_conv_valid(x, w) + b
    expected = z.reshape(*z.shape[:-1], 2, 3).max(axis=-1)
    out = np_(layer(x))
    assert out.shape == (2, 4, 4, 2) == (2, *layer.compute_output_shape((None, 6, 5, 4))[1:])
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_maxout_conv_same_padding_strides_match_keras_conv():
    layer = MaxoutConv2D(3, 2, 3, strides=2, padding="same")
    x = RNG.normal(size=(2, 7, 7, 2)).astype("float32")
    out = np_(layer(x))
    conv = keras.layers.Conv2D(6, 3, strides=2, padding="same")
    conv.build(x.shape)
    conv.set_weights([np_(layer.kernel), np_(layer.bias)])
    z = np_(conv(x))
    np.testing.assert_allclose(out, z.reshape(2, 4, 4, 3, 2).max(-1), rtol=1e-5, atol=1e-7)
    assert layer.compute_output_shape((None, 7, 7, 2)) == (None, 4, 4, 3)


def test_maxout_conv_max_kernel_norm_after_step():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((5, 5, 2)), MaxoutConv2D(2, 2, 3, max_norm=0.5)])
    model.add(keras.layers.Flatten())
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=50.0), loss="mse")
    model.train_on_batch(RNG.normal(size=(4, 5, 5, 2)) * 5, np.full((4, 18), 50.0))
    w = np_(model.layers[0].kernel)
    norms = np.sqrt((w**2).sum(axis=(0, 1, 2)))
    assert norms.shape == (4,)
    np.testing.assert_allclose(norms, 0.5, rtol=1e-4)  # every filter was pushed past the cap


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"filters": 0, "pieces": 2, "kernel_size": 3}, "filters"),
        ({"filters": 2, "pieces": 0, "kernel_size": 3}, "pieces"),
        ({"filters": 2, "pieces": 2, "kernel_size": 0}, "kernel_size"),
        ({"filters": 2, "pieces": 2, "kernel_size": (3,)}, "kernel_size"),
        ({"filters": 2, "pieces": 2, "kernel_size": "3"}, "kernel_size"),
        ({"filters": 2, "pieces": 2, "kernel_size": 3, "strides": 0}, "strides"),
        ({"filters": 2, "pieces": 2, "kernel_size": 3, "padding": "full"}, "padding"),
        ({"filters": 2, "pieces": 2, "kernel_size": 3, "max_norm": -2}, "max_norm"),
    ],
)
def test_maxout_conv_validation(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        MaxoutConv2D(**kwargs)


def test_maxout_conv_config_round_trip():
    assert_config_round_trip(
        MaxoutConv2D(4, 2, (5, 3), strides=(2, 1), padding="same", max_norm=0.9)
    )


# --------------------------------------------------------------------------- CeilMaxPooling2D


def _np_ceil_pool(x: np.ndarray, k: int, s: int) -> np.ndarray:
    n, h, w, c = x.shape
    oh = int(np.ceil((h - k) / s)) + 1
    ow = int(np.ceil((w - k) / s)) + 1
    out = np.empty((n, oh, ow, c), x.dtype)
    for r in range(oh):
        for q in range(ow):
            out[:, r, q] = x[:, r * s : r * s + k, q * s : q * s + k].max(axis=(1, 2))
    return out


@pytest.mark.parametrize(
    ("size", "k", "s", "expected"), [(33, 4, 2, 16), (15, 4, 2, 7), (9, 2, 2, 5), (8, 2, 2, 4)]
)
def test_ceil_max_pooling_matches_cuda_convnet(size, k, s, expected):
    x = RNG.normal(size=(2, size, size + 1, 3)).astype("float32") - 5.0  # negative: pads matter
    out = np_(CeilMaxPooling2D(k, s)(x))
    ref = _np_ceil_pool(x, k, s)
    assert out.shape[1] == expected
    np.testing.assert_array_equal(out, ref)
    shape = CeilMaxPooling2D(k, s).compute_output_shape((None, size, size + 1, 3))
    assert shape == (None, *ref.shape[1:])


def test_ceil_max_pooling_gradient_is_finite_and_routes_one_per_output():
    x = tf.constant(RNG.normal(size=(1, 9, 9, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = CeilMaxPooling2D(4, 2)(x)
        total = tf.reduce_sum(y)
    g = tape.gradient(total, x).numpy()
    assert np.all(np.isfinite(g))
    assert g.sum() == pytest.approx(float(np.prod(y.shape)))


def test_ceil_max_pooling_validation_and_config():
    with pytest.raises(ValueError, match="strides"):
        CeilMaxPooling2D(2, 3)
    with pytest.raises(ValueError, match="pool_size"):
        CeilMaxPooling2D(0)
    assert_config_round_trip(CeilMaxPooling2D((4, 3), (2, 1)))
    assert CeilMaxPooling2D(3).strides == (3, 3)


# --------------------------------------------------------------------------- InputDropout


def test_input_dropout_training_statistics_unscaled():
    x = RNG.uniform(0.5, 1.5, size=(200, 500)).astype("float32")
    y = np_(InputDropout(0.2, seed=3)(x, training=True))
    dropped = y == 0
    assert abs(dropped.mean() - 0.2) < 0.01  # sd of the fraction ~0.0013
    np.testing.assert_array_equal(y[~dropped], x[~dropped])  # kept values NOT rescaled


def test_input_dropout_rescale_matches_keras_dropout_semantics():
    x = RNG.uniform(0.5, 1.5, size=(100, 400)).astype("float32")
    y = np_(InputDropout(0.5, rescale=True, seed=4)(x, training=True))
    kept = y != 0
    assert abs(kept.mean() - 0.5) < 0.01
    np.testing.assert_allclose(y[kept], 2.0 * x[kept], rtol=1e-6)


def test_input_dropout_is_identity_at_inference():
    x = RNG.normal(size=(10, 30)).astype("float32")
    layer = InputDropout(0.9, seed=0)
    np.testing.assert_array_equal(np_(layer(x)), x)
    np.testing.assert_array_equal(np_(layer(x, training=False)), x)
    model = keras.Sequential([keras.Input((30,)), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_input_dropout_seeded_masks_repeat():
    x = np.ones((20, 50), "float32")
    a = np_(InputDropout(0.3, seed=11)(x, training=True))
    b = np_(InputDropout(0.3, seed=11)(x, training=True))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"rate": 1.0}, "rate"),
        ({"rate": -0.1}, "rate"),
        ({"rate": "half"}, "rate"),
        ({"rate": 0.2, "seed": "s"}, "seed"),
    ],
)
def test_input_dropout_validation(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        InputDropout(**kwargs)


def test_input_dropout_config_round_trip():
    assert_config_round_trip(InputDropout(0.2, rescale=False, seed=5))


# --------------------------------------------------------------------------- RBF


def _rbf_with(centers: np.ndarray, beta: np.ndarray) -> RBF:
    layer = RBF(centers.shape[0])
    layer.build((None, centers.shape[1]))
    layer.centers.assign(centers.astype("float32"))
    layer.log_beta.assign(np.log(beta).astype("float32"))
    return layer


def test_rbf_matches_numpy_with_the_sign_right():
    centers = RNG.uniform(size=(4, 9))
    beta = np.array([0.1, 0.5, 1.0, 2.0])
    layer = _rbf_with(centers, beta)
    x = RNG.uniform(size=(6, 9)).astype("float32")
    d2 = ((x[:, None, :] - centers[None]) ** 2).sum(-1)
    out = np_(layer(x))
    np.testing.assert_allclose(out, np.exp(-beta * d2), rtol=1e-4, atol=1e-7)
    assert np.all((out > 0) & (out <= 1))
    np.testing.assert_allclose(np_(layer(centers.astype("float32"))).diagonal(), 1.0, rtol=1e-5)


def test_rbf_input_gradient_closed_form():
    centers = RNG.uniform(size=(3, 5))
    beta = np.array([0.3, 0.7, 1.1])
    layer = _rbf_with(centers, beta)
    x = tf.constant(RNG.uniform(size=(2, 5)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        p1 = layer(x)[:, 1]
        total = tf.reduce_sum(p1)
    g = tape.gradient(total, x).numpy()
    expected = -2 * beta[1] * p1.numpy()[:, None] * (x.numpy() - centers[1])
    np.testing.assert_allclose(g, expected, rtol=1e-3, atol=1e-6)


def test_rbf_defaults_and_output_kind():
    assert RBF.advkeras_output_kind == "independent"
    model = keras.Sequential([keras.Input((784,)), RBF(10)])
    assert losses.infer_output_kind(model) == "independent"
    layer = model.layers[-1]
    np.testing.assert_allclose(np_(layer.beta), DEFAULT_RBF_BETA, rtol=1e-6)
    # with the default beta an MNIST-like distance of 50-100 gives usable, non-degenerate outputs
    p = np.exp(-DEFAULT_RBF_BETA * np.array([50.0, 100.0]))
    assert np.all((p > 1e-3) & (p < 0.5))


def test_rbf_beta_stays_positive_after_a_big_step():
    # Both targets positive: the loss beta*d^2 pushes beta down by lr * d^2 >> 0.01 per step,
    # which would make a raw beta negative; exp(log_beta) only shrinks towards zero.
    init = keras.initializers.Constant(0.01)
    model = keras.Sequential([keras.Input((3,)), RBF(2, beta_initializer=init)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=10.0), loss="binary_crossentropy")
    model.train_on_batch(RNG.uniform(size=(8, 3)) + 1.0, np.ones((8, 2)))
    beta = np_(model.layers[-1].beta)
    assert np.all(np.isfinite(beta)) and np.all(beta > 0) and np.all(beta < 0.01)


def test_rbf_init_centers_class_means_and_fit_beta():
    x = RNG.uniform(size=(63, 4))  # 21 per class: an odd count has an exact median
    y = np.arange(63) % 3
    layer = RBF(3).init_centers(x, y, fit_beta=True)
    means = np.stack([x[y == k].mean(0) for k in range(3)])
    np.testing.assert_allclose(np_(layer.centers), means, rtol=1e-5)
    p = np_(layer(x.astype("float32")))
    for k in range(3):
        assert np.median(p[y == k, k]) == pytest.approx(0.5, abs=1e-4)


def test_rbf_init_centers_validation():
    layer = RBF(3)
    with pytest.raises(ValueError, match="`y`"):
        layer.init_centers(np.zeros((4, 2)), np.array([0, 1, 0, 1]))  # no example of class 2
    with pytest.raises(ValueError, match="`y`"):
        layer.init_centers(np.zeros((4, 2)), np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="`x`"):
        layer.init_centers(np.zeros((4, 5)), np.array([0, 1, 2, 0]))  # built for 2 features
    with pytest.raises(ValueError, match="`x`"):
        RBF(2).init_centers(np.zeros(4), np.array([0, 1, 0, 1]))


def test_rbf_validation():
    for bad in (0, -1, 1.5, "10"):
        with pytest.raises(ValueError, match="units"):
            RBF(bad)
    layer = RBF(2, beta_initializer=keras.initializers.Constant(-0.1))
    with pytest.raises(ValueError, match="beta_initializer"):
        layer.build((None, 3))


def test_rbf_config_and_keras_file_round_trip(tmp_path):
    layer = RBF(3, centers_regularizer=keras.regularizers.L2(1e-3), train_beta=False, name="rbf")
    assert_config_round_trip(layer)
    model = keras.Sequential([keras.Input((4,)), layer], name="rbf_seq")
    layer.centers.assign(RNG.uniform(size=(3, 4)).astype("float32"))
    layer.log_beta.assign(np.log([0.2, 0.4, 0.8]).astype("float32"))
    loaded = keras_round_trip(model, tmp_path, RNG.uniform(size=(5, 4)).astype("float32"))
    np.testing.assert_allclose(np_(loaded.get_layer("rbf").beta), [0.2, 0.4, 0.8], rtol=1e-6)
    assert loaded.get_layer("rbf").log_beta.trainable is False


def test_rbf_per_dimension_matches_numpy_and_reduces_to_scalar_beta():
    centers = RNG.uniform(size=(3, 5))
    beta = RNG.uniform(0.1, 2.0, size=(3, 5))
    layer = RBF(3, per_dimension=True)
    layer.build((None, 5))
    assert tuple(layer.log_beta.shape) == (3, 5)
    layer.centers.assign(centers.astype("float32"))
    layer.log_beta.assign(np.log(beta).astype("float32"))
    x = RNG.uniform(size=(4, 5)).astype("float32")
    expected = np.exp(-np.einsum("nkd,kd->nk", (x[:, None, :] - centers[None]) ** 2, beta))
    np.testing.assert_allclose(np_(layer(x)), expected, rtol=1e-4, atol=1e-7)
    # the same beta in every dimension is the scalar-beta layer
    same = np.repeat(beta[:, :1], 5, axis=1)
    layer.log_beta.assign(np.log(same).astype("float32"))
    scalar = _rbf_with(centers, beta[:, 0])
    np.testing.assert_allclose(np_(layer(x)), np_(scalar(x)), rtol=1e-4, atol=1e-7)


def test_rbf_per_dimension_fit_beta_is_scaled_diagonal_gaussian_precision():
    x = RNG.uniform(size=(63, 4)) * np.array([1.0, 0.1, 2.0, 0.5])
    y = np.arange(63) % 3
    layer = RBF(3, per_dimension=True).init_centers(x, y, fit_beta=True, variance_floor=0.01)
    beta = np_(layer.beta)
    for k in range(3):
        inverse = 1.0 / (x[y == k].var(0) + 0.01)
        ratio = beta[k] / inverse
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)  # proportional to 1/(var+floor)
    p = np_(layer(x.astype("float32")))
    for k in range(3):
        assert np.median(p[y == k, k]) == pytest.approx(0.5, abs=1e-4)
    with pytest.raises(ValueError, match="variance_floor"):
        layer.init_centers(x, y, fit_beta=True, variance_floor=0.0)
    with pytest.raises(ValueError, match="per_dimension"):
        RBF(3, per_dimension="yes")


def test_rbf_per_dimension_config_round_trip_and_old_configs_load(tmp_path):
    layer = RBF(2, per_dimension=True, name="rbf")
    assert_config_round_trip(layer)
    old = RBF(2).get_config()
    old.pop("per_dimension")  # a config written before the option existed
    assert RBF.from_config(old).per_dimension is False
    model = keras.Sequential([keras.Input((3,)), layer], name="rbf_seq")
    layer.log_beta.assign(np.log(RNG.uniform(0.1, 1.0, size=(2, 3))).astype("float32"))
    loaded = keras_round_trip(model, tmp_path, RNG.uniform(size=(5, 3)).astype("float32"))
    np.testing.assert_allclose(np_(loaded.get_layer("rbf").beta), np_(layer.beta), rtol=1e-6)


def test_rbf_shared_beta_is_one_isotropic_precision_for_every_unit(tmp_path):
    centers = RNG.uniform(size=(3, 5))
    layer = RBF(3, shared_beta=True, name="rbf")
    layer.build((None, 5))
    assert tuple(layer.log_beta.shape) == (1,)
    layer.centers.assign(centers.astype("float32"))
    layer.log_beta.assign(np.log([0.7]).astype("float32"))
    x = RNG.uniform(size=(4, 5)).astype("float32")
    d2 = ((x[:, None, :] - centers[None]) ** 2).sum(-1)
    np.testing.assert_allclose(np_(layer(x)), np.exp(-0.7 * d2), rtol=1e-4, atol=1e-7)
    # the same as per-unit scalars that happen to be equal
    np.testing.assert_allclose(
        np_(layer(x)), np_(_rbf_with(centers, np.full(3, 0.7))(x)), rtol=1e-5, atol=1e-7
    )
    # fit_beta: the median example, at its own class's centre, starts at p_y = 0.5
    xs = RNG.uniform(size=(63, 5)) * np.array([1.0, 0.1, 2.0, 0.5, 1.0])
    ys = np.arange(63) % 3
    fitted = RBF(3, shared_beta=True).init_centers(xs, ys, fit_beta=True)
    p = np_(fitted(xs.astype("float32")))
    assert np.median(p[np.arange(63), ys]) == pytest.approx(0.5, abs=1e-4)
    assert_config_round_trip(layer)
    assert layer.get_config()["shared_beta"] is True
    assert "shared_beta" not in RBF(3).get_config()  # older configs and cache keys unchanged
    model = keras.Sequential([keras.Input((5,)), layer], name="rbf_seq")
    loaded = keras_round_trip(model, tmp_path, x)
    np.testing.assert_allclose(np_(loaded.get_layer("rbf").beta), [0.7], rtol=1e-6)


def test_rbf_shared_beta_validation():
    with pytest.raises(ValueError, match="shared_beta"):
        RBF(3, shared_beta="yes")
    with pytest.raises(ValueError, match="shared_beta"):
        RBF(3, shared_beta=True, per_dimension=True)
