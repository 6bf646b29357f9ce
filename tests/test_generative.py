"""advkeras.generative: the classification RBM's posterior is Bayes' rule, CD training raises log p(x, y)."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras import attacks, generative
from advkeras.losses import infer_output_kind


def _states(n: int) -> np.ndarray:
    """Every binary vector of length n, shape (2**n, n)."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _random_rbm(inputs: int, classes: int, hidden: int, seed: int) -> keras.Model:
    model = generative.class_rbm(inputs, classes, hidden, seed=seed)
    rng = np.random.default_rng(seed)
    for w in model.get_layer("rbm").weights:
        w.assign(rng.normal(scale=0.8, size=w.shape).astype("float32"))
    return model


def _params(model: keras.Model) -> tuple[np.ndarray, ...]:
    rbm = model.get_layer("rbm")
    return tuple(
        np.asarray(v.numpy(), np.float64)
        for v in (rbm.kernel, rbm.label_kernel, rbm.visible_bias, rbm.hidden_bias, rbm.label_bias)
    )


def _neg_energy(params: tuple[np.ndarray, ...], x: np.ndarray, y: int, h: np.ndarray) -> float:
    """−E(x, y, h) = bᵀx + cᵀh + d_y + xᵀWh + U_yᵀh, written out for one configuration."""
    w, u, b, c, d = params
    return float(b @ x + c @ h + d[y] + x @ w @ h + u[y] @ h)


def test_posterior_and_free_energy_are_sums_over_the_hidden_states() -> None:
    model = _random_rbm(3, 3, 4, seed=1)
    params = _params(model)
    x = np.random.default_rng(2).random((5, 3)).astype("float32")  # intensities, not only 0/1
    hs = _states(4)
    joint = np.array(
        [[sum(np.exp(_neg_energy(params, xi, y, h)) for h in hs) for y in range(3)] for xi in x]
    )
    bayes = joint / joint.sum(axis=1, keepdims=True)  # p(y|x) = p(x, y) / sum_k p(x, k)
    posterior = keras.ops.convert_to_numpy(keras.ops.softmax(model(x)))
    np.testing.assert_allclose(posterior, bayes, rtol=1e-4, atol=1e-6)
    free = keras.ops.convert_to_numpy(model.get_layer("rbm").free_energy(x))
    np.testing.assert_allclose(free, -np.log(joint), rtol=1e-4, atol=1e-4)


def test_conditionals_are_the_exact_conditionals() -> None:
    model = _random_rbm(3, 2, 3, seed=3)
    rbm, params = model.get_layer("rbm"), _params(model)
    xs, hs = _states(3), _states(3)
    weights = np.array(  # exp(−E) over (x, y, h), binary x
        [[[np.exp(_neg_energy(params, x, y, h)) for h in hs] for y in range(2)] for x in xs]
    )
    # p(h_j = 1 | x, y)
    x, y = xs[5], 1
    p_h = (weights[5, y][:, None] * hs).sum(0) / weights[5, y].sum()
    got = rbm.hidden_probabilities(x[None].astype("float32"), np.eye(2, dtype="float32")[[y]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got)[0], p_h, rtol=1e-4)
    # p(x_i = 1 | h) and p(y | h)
    k = 6
    p_xy = weights[:, :, k] / weights[:, :, k].sum()
    p_x = (p_xy.sum(1)[:, None] * xs).sum(0)
    h = hs[[k]].astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(rbm.visible_probabilities(h))[0], p_x, rtol=1e-4
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(rbm.label_probabilities(h))[0], p_xy.sum(0), rtol=1e-4
    )


def _log_likelihood(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Exact mean log p(x, y) of binary data, the partition function by enumeration."""
    params = _params(model)
    xs, hs = _states(x.shape[1]), _states(params[0].shape[1])
    classes = params[1].shape[0]

    def log_unnormalised(xi: np.ndarray, yi: int) -> float:
        return float(np.log(sum(np.exp(_neg_energy(params, xi, yi, h)) for h in hs)))

    log_z = np.log(sum(np.exp(log_unnormalised(xi, k)) for xi in xs for k in range(classes)))
    return float(
        np.mean([log_unnormalised(xi, int(yi)) for xi, yi in zip(x, y, strict=True)]) - log_z
    )


def _toy_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    prototypes = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], "float32")
    flips = rng.random((200, 4)) < 0.1
    return np.abs(prototypes[y] - flips).astype("float32"), y


def test_contrastive_divergence_raises_the_exact_log_likelihood() -> None:
    x, y = _toy_data()
    model = generative.class_rbm(4, 2, 3, seed=0)
    before = _log_likelihood(model, x, y)
    generative.fit_class_rbm(
        model, x, y, epochs=30, batch_size=20, learning_rate=0.1, validation_data=(x, y)
    )
    after = _log_likelihood(model, x, y)
    assert after > before + 1.0, (before, after)
    # labels were modelled like pixels, yet Bayes' rule now classifies the prototypes
    assert model.advkeras_history["val_error"][-1] < 0.15
    assert len(model.advkeras_history["loss"]) == 30


def test_training_is_deterministic_given_the_seed() -> None:
    x, y = _toy_data()
    runs = [
        generative.fit_class_rbm(
            generative.class_rbm(4, 2, 3, seed=0), x, y, epochs=2, batch_size=50, seed=4
        )
        for _ in range(2)
    ]
    for a, b in zip(runs[0].weights, runs[1].weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fgsm_differentiates_the_posterior() -> None:
    model = _random_rbm(5, 3, 4, seed=5)
    assert infer_output_kind(model) == "logits"
    x = np.random.default_rng(6).random((4, 5)).astype("float32")
    y = np.array([0, 1, 2, 1])
    with tf.GradientTape() as tape:
        xt = tf.constant(x)
        tape.watch(xt)
        nll = -tf.math.log(tf.gather(tf.nn.softmax(model(xt)), y, batch_dims=1))
    expected = x + 0.1 * np.sign(tape.gradient(nll, xt).numpy())
    got = attacks.fgsm(model, x, y, eps=0.1, clip=None)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_save_and_load(tmp_path) -> None:
    model = _random_rbm(4, 3, 2, seed=7)
    path = tmp_path / "rbm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.random.default_rng(0).random((3, 4)).astype("float32")
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    assert loaded.get_layer("rbm").get_config()["hidden"] == 2


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: generative.ClassRBM(1, 3), "classes"),
        (lambda: generative.ClassRBM(2, 0), "hidden"),
        (lambda: generative.ClassRBM(2, 3, seed="0"), "seed"),
        (lambda: generative.class_rbm(0), "input_dim"),
    ],
)
def test_bad_layer_arguments(call, argument) -> None:
    with pytest.raises(ValueError, match=f"`{argument}`"):
        call()


def test_bad_fit_arguments() -> None:
    x, y = _toy_data()
    model = generative.class_rbm(4, 2, 3, seed=0)
    cases = {
        "x": dict(x=x * 2),
        "y": dict(y=y + 5),
        "epochs": dict(epochs=0),
        "momentum": dict(momentum=1.0),
        "learning_rate": dict(learning_rate=-0.1),
        "cd_steps": dict(cd_steps=0),
        "seed": dict(seed=-1),
        "validation_data": dict(validation_data=x),
    }
    for argument, change in cases.items():
        kwargs = dict(x=x, y=y, epochs=1) | change
        with pytest.raises(ValueError, match=f"`{argument}"):
            generative.fit_class_rbm(model, **kwargs)
    with pytest.raises(ValueError, match="`model`"):
        generative.fit_class_rbm(keras.Sequential([keras.Input((4,))]), x, y, epochs=1)
