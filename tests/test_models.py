"""Tests for advkeras.models: the paper's architectures, output kinds, sizes, serialization."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from advkeras import losses, models
from advkeras.layers import (
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


def n_trainable(model: keras.Model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def round_trip(model: keras.Model, tmp_path, x: np.ndarray) -> keras.Model:
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np_(loaded(x)), np_(model(x)), rtol=1e-6, atol=1e-7)
    return loaded


@pytest.fixture(scope="module")
def small_mlp() -> keras.Model:
    return models.maxout_mlp(8, 3, input_dim=20, seed=0)


# --------------------------------------------------------------------------- output kinds


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (lambda: models.logistic_regression(12), "binary_logit"),
        (lambda: models.shallow_softmax(12, 4), "probabilities"),
        (lambda: models.maxout_mlp(4, 2, input_dim=12), "probabilities"),
        (lambda: models.maxout_mlp(4, 2, input_dim=12, top="sigmoid"), "independent"),
        (lambda: models.rbf_network(12, 4), "independent"),
        (lambda: models.ensemble([models.shallow_softmax(12, 4)] * 2), "probabilities"),
    ],
)
def test_output_kinds_are_inferred(build, kind):
    assert losses.infer_output_kind(build()) == kind


def test_conv_net_output_kind_shape_and_probabilities():
    model = models.conv_maxout_cifar10(width=0.125, seed=0)
    assert losses.infer_output_kind(model) == "probabilities"
    out = np_(model(RNG.normal(size=(2, 32, 32, 3)).astype("float32")))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


# --------------------------------------------------------------------------- sizes


def test_maxout_mlp_parameter_count_matches_pylearn2():
    model = models.maxout_mlp(240, 5)
    expected = (784 * 1200 + 1200) + (240 * 1200 + 1200) + (240 * 10 + 10)
    assert n_trainable(model) == expected == model.count_params()
    assert tuple(model.get_layer("h0").kernel.shape) == (784, 1200)
    assert tuple(model.get_layer("h1").kernel.shape) == (240, 1200)
    assert tuple(model.get_layer("y").kernel.shape) == (240, 10)


def test_conv_net_layer_shapes_match_pylearn2_at_full_width():
    model = models.conv_maxout_cifar10(width=1.0, dropout=False)
    shapes = {name: model.get_layer(name).output.shape[1:] for name in ("h0", "pool0", "pool1")}
    # pylearn2: 32 + 2*4 - 8 + 1 = 33 -> ceil pooling 4/2 -> 16 -> pad 3, 8x8 -> 15 -> 7
    assert shapes == {"h0": (33, 33, 96), "pool0": (16, 16, 96), "pool1": (7, 7, 192)}
    assert model.get_layer("pool2").output.shape[1:] == (5, 5, 192)
    assert tuple(model.get_layer("h3").kernel.shape) == (5 * 5 * 192, 500 * 5)
    assert tuple(model.get_layer("h0").kernel.shape) == (8, 8, 3, 96 * 2)


def test_conv_net_parameter_count_at_width_one_eighth():
    model = models.conv_maxout_cifar10(width=0.125)
    c0, c1, c2, u = 12, 24, 24, 63  # 96/8, 192/8, 192/8, 500/8 = 62.5 rounded half up
    expected = (
        (8 * 8 * 3 * 2 * c0 + 2 * c0)
        + (8 * 8 * c0 * 2 * c1 + 2 * c1)
        + (5 * 5 * c1 * 2 * c2 + 2 * c2)
        + (5 * 5 * c2 * 5 * u + 5 * u)
        + (u * 10 + 10)
    )
    assert n_trainable(model) == expected


def test_conv_net_pylearn2_constraints_and_layers():
    model = models.conv_maxout_cifar10(width=0.125)
    norms = {
        n: model.get_layer(n).kernel.constraint.max_norm for n in ("h0", "h1", "h2", "h3", "y")
    }
    assert norms == {"h0": 0.9, "h1": 1.9365, "h2": 1.9365, "h3": 1.9, "y": 1.9365}
    assert [model.get_layer(f"h{i}").pieces for i in range(4)] == [2, 2, 2, 5]
    assert all(isinstance(model.get_layer(f"pool{i}"), CeilMaxPooling2D) for i in range(3))
    assert [model.get_layer(f"pad{i}").padding for i in range(3)] == [
        ((4, 4), (4, 4)),
        *[((3, 3), (3, 3))] * 2,
    ]
    assert isinstance(model.get_layer("drop_x"), InputDropout)
    assert not model.get_layer("drop_x").rescale
    no_dropout = models.conv_maxout_cifar10(width=0.125, dropout=False)
    assert not [layer for layer in no_dropout.layers if "drop" in layer.name]


# --------------------------------------------------------------------------- maxout_mlp details


def test_maxout_mlp_layers_follow_mnist_pi_yaml():
    model = models.maxout_mlp(240, 5)
    names = [layer.name for layer in model.layers]
    assert names == ["x", "drop_x", "h0", "drop_h0", "h1", "drop_h1", "y"]
    drop_x = model.get_layer("drop_x")
    assert isinstance(drop_x, InputDropout) and drop_x.rate == 0.2 and drop_x.rescale is False
    assert model.get_layer("drop_h0").rate == 0.5 and model.get_layer("drop_h1").rate == 0.5
    for name in ("h0", "h1"):
        layer = model.get_layer(name)
        assert isinstance(layer, Maxout) and (layer.units, layer.pieces) == (240, 5)
    for name in ("h0", "h1", "y"):
        constraint = model.get_layer(name).kernel.constraint
        assert isinstance(constraint, MaxNormColumns) and constraint.max_norm == 1.9365
        w = np_(model.get_layer(name).kernel)
        assert np.abs(w).max() <= 0.005  # pylearn2 irange .005
    assert model.get_layer("y").activation.__name__ == "softmax"


def test_maxout_mlp_without_dropout_or_max_norm():
    model = models.maxout_mlp(4, 2, dropout=None, max_norm=None, input_dim=6)
    assert [layer.name for layer in model.layers] == ["x", "h0", "h1", "y"]
    assert model.get_layer("h0").kernel.constraint is None
    partial = models.maxout_mlp(4, 2, dropout=(0.0, 0.5, 0.0), input_dim=6)
    assert [layer.name for layer in partial.layers] == ["x", "h0", "drop_h0", "h1", "y"]


def test_maxout_mlp_seed_fixes_weights_and_masks():
    a = models.maxout_mlp(6, 2, input_dim=10, seed=7)
    b = models.maxout_mlp(6, 2, input_dim=10, seed=7)
    c = models.maxout_mlp(6, 2, input_dim=10, seed=8)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(
        a.get_layer("h0").get_weights()[0], c.get_layer("h0").get_weights()[0]
    )
    x = RNG.uniform(size=(4, 10)).astype("float32")
    np.testing.assert_array_equal(np_(a(x, training=True)), np_(b(x, training=True)))


def test_maxout_mlp_sigmoid_top_is_independent():
    model = models.maxout_mlp(4, 2, input_dim=12, top="sigmoid", seed=1)
    out = np_(model(RNG.uniform(size=(3, 12)).astype("float32")))
    assert model.get_layer("y").activation.__name__ == "sigmoid"
    # tiny initial weights: every sigmoid starts near 1/2, so rows sum to ~5, not 1
    np.testing.assert_allclose(out, 0.5, atol=0.01)


def test_maxout_mlp_dropout_semantics(small_mlp):
    x = RNG.uniform(0.5, 1.0, size=(400, 20)).astype("float32")
    np.testing.assert_array_equal(np_(small_mlp(x)), np_(small_mlp(x)))  # inference: no noise
    probe = keras.Model(
        small_mlp.input,
        [small_mlp.get_layer(n).output for n in ("drop_x", "h0", "drop_h0")],
    )
    dropped_x, h0, dropped_h0 = (np_(t) for t in probe(x, training=True))
    zeros = dropped_x == 0
    assert abs(zeros.mean() - 0.2) < 0.02  # input: keep .8 ...
    np.testing.assert_array_equal(dropped_x[~zeros], x[~zeros])  # ... with scale 1 (pylearn2)
    kept = dropped_h0 != 0
    assert abs(kept.mean() - 0.5) < 0.03  # hidden: keep .5 ...
    np.testing.assert_allclose(dropped_h0[kept], 2 * h0[kept], rtol=1e-6)  # ... with scale 2


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"units": 0}, "units"),
        ({"pieces": -1}, "pieces"),
        ({"dropout": (0.2, 0.5)}, "dropout"),
        ({"dropout": (0.2, 1.0, 0.5)}, "dropout"),
        ({"dropout": "0.5"}, "dropout"),
        ({"max_norm": 0.0}, "max_norm"),
        ({"top": "relu"}, "top"),
        ({"classes": 1}, "classes"),
        ({"input_dim": 0}, "input_dim"),
        ({"seed": "a"}, "seed"),
    ],
)
def test_maxout_mlp_validation(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        models.maxout_mlp(**{"units": 4, "pieces": 2, "input_dim": 6, **kwargs})


def test_builders_validate_arguments():
    with pytest.raises(ValueError, match="input_dim"):
        models.logistic_regression(0)
    with pytest.raises(ValueError, match="classes"):
        models.shallow_softmax(10, 1)
    with pytest.raises(ValueError, match="beta"):
        models.rbf_network(10, 3, beta=-1.0)
    with pytest.raises(ValueError, match="width"):
        models.conv_maxout_cifar10(width=0)
    with pytest.raises(ValueError, match="input_shape"):
        models.conv_maxout_cifar10(width=0.125, input_shape=(32, 32))


# --------------------------------------------------------------------------- shallow models


def test_logistic_regression_is_affine_and_starts_at_zero():
    model = models.logistic_regression(5)
    layer = model.get_layer("logit")
    np.testing.assert_array_equal(np_(layer.kernel), 0.0)
    w = RNG.normal(size=(5, 1)).astype("float32")
    layer.set_weights([w, np.array([0.3], "float32")])
    x = RNG.normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(np_(model(x)), x @ w + 0.3, rtol=1e-5)
    assert model.count_params() == 6


def test_shallow_softmax_is_softmax_regression():
    model = models.shallow_softmax(6, 3)
    w = RNG.normal(size=(6, 3)).astype("float32")
    b = RNG.normal(size=(3,)).astype("float32")
    model.get_layer("y").set_weights([w, b])
    x = RNG.normal(size=(4, 6)).astype("float32")
    z = x @ w + b
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(np_(model(x)), expected, rtol=1e-5)


def test_rbf_network_structure_and_default_beta():
    model = models.rbf_network(784, 10)
    assert [layer.name for layer in model.layers] == ["x", "rbf"]
    rbf = model.get_layer("rbf")
    assert isinstance(rbf, RBF) and tuple(rbf.centers.shape) == (10, 784)
    np.testing.assert_allclose(np_(rbf.beta), 0.05, rtol=1e-6)
    assert model.count_params() == 10 * 784 + 10
    custom = models.rbf_network(4, 2, beta=0.3)
    np.testing.assert_allclose(np_(custom.get_layer("rbf").beta), 0.3, rtol=1e-6)
    diagonal = models.rbf_network(784, 10, per_dimension=True)
    assert diagonal.count_params() == 2 * 10 * 784


def test_deep_rbf_network_structure_and_closed_form():
    model = models.deep_rbf_network(5, 3, hidden=4, beta=0.2)
    assert [layer.name for layer in model.layers] == ["x", "rbf0", "rbf"]
    assert losses.infer_output_kind(model) == "independent"
    assert model.count_params() == (4 * 5 + 4) + (3 * 4 + 3)
    first, top = model.get_layer("rbf0"), model.get_layer("rbf")
    c0, c1 = np_(first.centers).astype(np.float64), np_(top.centers).astype(np.float64)
    x = RNG.uniform(size=(6, 5)).astype("float32")
    h = np.exp(-0.2 * ((x[:, None, :] - c0[None]) ** 2).sum(-1))
    expected = np.exp(-0.2 * ((h[:, None, :] - c1[None]) ** 2).sum(-1))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="hidden"):
        models.deep_rbf_network(5, 3, hidden=0)


# --------------------------------------------------------------------------- ensemble


def _trained_like_softmax(seed: int) -> keras.Model:
    model = models.shallow_softmax(6, 3)
    rng = np.random.default_rng(seed)
    model.get_layer("y").set_weights(
        [rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
    )
    return model


def test_ensemble_is_mean_of_members_and_shares_weights():
    members = [_trained_like_softmax(s) for s in range(3)]
    ens = models.ensemble(members)
    x = RNG.normal(size=(5, 6)).astype("float32")
    expected = np.mean([np_(m(x)) for m in members], axis=0)
    np.testing.assert_allclose(np_(ens(x)), expected, rtol=1e-5)
    np.testing.assert_allclose(np_(ens(x)).sum(1), 1.0, rtol=1e-5)
    # same-named members are accepted, and training a member changes the ensemble
    assert len({m.name for m in members}) == 1
    members[0].get_layer("y").set_weights([np.zeros((6, 3), "float32"), np.zeros(3, "float32")])
    expected = np.mean([np_(m(x)) for m in members], axis=0)
    np.testing.assert_allclose(np_(ens(x)), expected, rtol=1e-5)


def test_ensemble_of_maxout_nets_and_single_member(small_mlp):
    x = RNG.uniform(size=(4, 20)).astype("float32")
    other = models.maxout_mlp(8, 3, input_dim=20, seed=1)
    ens = models.ensemble([small_mlp, other])
    np.testing.assert_allclose(
        np_(ens(x)), (np_(small_mlp(x)) + np_(other(x))) / 2, rtol=1e-5, atol=1e-7
    )
    single = models.ensemble([small_mlp])
    np.testing.assert_allclose(np_(single(x)), np_(small_mlp(x)), rtol=1e-6)
    assert losses.infer_output_kind(single) == "probabilities"


def test_ensemble_validation():
    with pytest.raises(ValueError, match="members"):
        models.ensemble([])
    with pytest.raises(ValueError, match="members"):
        models.ensemble(models.shallow_softmax(4, 3))
    with pytest.raises(ValueError, match=r"members\[1\]"):
        models.ensemble([models.shallow_softmax(4, 3), "net"])
    with pytest.raises(ValueError, match="input shape"):
        models.ensemble([models.shallow_softmax(4, 3), models.shallow_softmax(5, 3)])
    with pytest.raises(ValueError, match="output shape"):
        models.ensemble([models.shallow_softmax(4, 3), models.shallow_softmax(4, 2)])
    with pytest.raises(ValueError, match="probabilities"):
        models.ensemble([models.rbf_network(4, 3), models.rbf_network(4, 3)])


def test_nested_model_output_kind_follows_its_last_layer():
    inner = models.shallow_softmax(4, 3)
    x = keras.Input((4,))
    outer = keras.Model(x, inner(x))
    assert losses.infer_output_kind(outer) == "probabilities"
    sig = models.maxout_mlp(3, 2, input_dim=4, top="sigmoid")
    x = keras.Input((4,))
    assert losses.infer_output_kind(keras.Model(x, sig(x))) == "independent"


# --------------------------------------------------------------------------- .keras round trips


def test_maxout_mlp_keras_round_trip(small_mlp, tmp_path):
    loaded = round_trip(small_mlp, tmp_path, RNG.uniform(size=(4, 20)).astype("float32"))
    assert isinstance(loaded.get_layer("drop_x"), InputDropout)
    assert loaded.get_layer("h0").max_norm == 1.9365
    assert losses.infer_output_kind(loaded) == "probabilities"


def test_rbf_network_keras_round_trip(tmp_path):
    model = models.rbf_network(6, 3)
    x = RNG.uniform(size=(9, 6))
    model.get_layer("rbf").init_centers(x, np.arange(9) % 3, fit_beta=True)
    loaded = round_trip(model, tmp_path, x.astype("float32"))
    np.testing.assert_allclose(
        np_(loaded.get_layer("rbf").beta), np_(model.get_layer("rbf").beta), rtol=1e-6
    )
    assert losses.infer_output_kind(loaded) == "independent"


def test_ensemble_keras_round_trip(tmp_path):
    ens = models.ensemble([_trained_like_softmax(s) for s in range(2)])
    loaded = round_trip(ens, tmp_path, RNG.normal(size=(3, 6)).astype("float32"))
    assert losses.infer_output_kind(loaded) == "probabilities"


def test_conv_layers_survive_keras_round_trip(tmp_path):
    x = keras.Input((9, 9, 2))
    h = MaxoutConv2D(2, 2, 3, max_norm=0.9, name="c")(keras.layers.ZeroPadding2D(1)(x))
    model = keras.Model(x, CeilMaxPooling2D(4, 2, name="p")(h), name="conv_bits")
    loaded = round_trip(model, tmp_path, RNG.normal(size=(2, 9, 9, 2)).astype("float32"))
    assert loaded.output_shape == (None, 4, 4, 2)


def test_output_layers_stay_float32_under_mixed_precision():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        builds = [
            models.maxout_mlp(4, 2, input_dim=6),
            models.rbf_network(6, 3),
            models.logistic_regression(6),
            models.shallow_softmax(6, 3),
        ]
    finally:
        keras.mixed_precision.set_global_policy(previous)
    x = RNG.uniform(size=(2, 6)).astype("float32")
    assert builds[0].get_layer("h0").compute_dtype == "float16"
    for model in builds:
        assert keras.backend.standardize_dtype(model(x).dtype) == "float32", model.name
