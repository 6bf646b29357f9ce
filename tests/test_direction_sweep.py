"""Tests of advkeras.direction_sweep: logits, sweep curves, linearity and error measures."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from advkeras import direction_sweep

RNG = np.random.default_rng(0)


def _linear(d: int = 6, k: int = 3, activation: str | None = "softmax") -> keras.Model:
    model = keras.Sequential(
        [keras.Input((d,)), keras.layers.Dense(k, activation=activation, name="y")]
    )
    w = RNG.normal(size=(d, k)).astype("float32")
    b = RNG.normal(size=(k,)).astype("float32")
    model.get_layer("y").set_weights([w, b])
    return model


def _relu_net(d: int = 6, k: int = 3) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((d,)),
            keras.layers.Dense(8, activation="relu", name="h0"),
            keras.layers.Dense(k, activation="softmax", name="y"),
        ]
    )


def test_logits_are_the_softmax_argument():
    model = _linear()
    x = RNG.normal(size=(5, 6)).astype("float32")
    w, b = model.get_layer("y").get_weights()
    z = direction_sweep.logits(model, x, batch_size=2)
    np.testing.assert_allclose(z, x @ w + b, rtol=1e-5, atol=1e-5)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(p, model.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


def test_linear_model_sweep_is_exactly_linear_with_slope_w_dot_direction():
    model = _linear()
    x = RNG.uniform(size=(4, 6)).astype("float32")
    y = np.array([0, 1, 2, 0])
    s = direction_sweep.sweep(model, x, y, np.linspace(10, -10, 21))
    assert np.all(np.diff(s.epsilons) > 0)  # sorted
    assert s.logits.shape == (4, 21, 3)
    np.testing.assert_allclose(s.linear_fit_r2("both"), 1.0, atol=1e-6)
    w = model.get_layer("y").get_weights()[0]
    np.testing.assert_allclose(s.slopes("negative"), s.directions @ w, rtol=1e-4, atol=1e-4)
    # moving along +sign(grad of the cost) lowers the true class's logit relative to the others
    true_slope = s.slopes("positive")[np.arange(4), y]
    assert np.all(true_slope < s.slopes("positive").max(axis=1) + 1e-9)


def test_inputs_and_correct_and_error_by_eps_are_consistent():
    model = _relu_net()
    x = RNG.uniform(size=(6, 6)).astype("float32")
    y = model.predict(x, verbose=0).argmax(1)
    eps = np.linspace(-3, 3, 7)
    s = direction_sweep.sweep(model, x, y, eps)
    moved = s.inputs(2)
    np.testing.assert_allclose(moved[3], x[2])  # eps = 0 is the clean input
    np.testing.assert_allclose(
        direction_sweep.logits(model, moved), s.logits[2], rtol=1e-5, atol=1e-5
    )
    assert np.all(s.correct[:, 3])  # labels are the clean predictions
    np.testing.assert_allclose(s.error_by_eps(), 1 - s.correct.mean(0))
    r2 = s.linear_fit_r2("positive")
    assert r2.shape == (6, 3) and np.all(r2 <= 1 + 1e-12)


def test_bad_inputs_raise_value_errors_naming_the_argument():
    model = _linear()
    x = np.zeros((2, 6), "float32")
    with pytest.raises(ValueError, match="layer"):
        direction_sweep.logits(model, x, layer="nope")
    with pytest.raises(ValueError, match="epsilons"):
        direction_sweep.sweep(model, x, [0, 1], [1.0])
    with pytest.raises(ValueError, match="y"):
        direction_sweep.sweep(model, x, [0, 7], [0.0, 1.0])
    with pytest.raises(ValueError, match="x"):
        direction_sweep.logits(model, np.zeros((2, 3, 2)))
    s = direction_sweep.sweep(model, x, [0, 1], [-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="side"):
        s.linear_fit_r2("positive")  # only two epsilons >= 0
    with pytest.raises(ValueError, match="side"):
        s.linear_fit_r2("up")
    with pytest.raises(ValueError, match="index"):
        s.inputs(5)
    relu = keras.Sequential([keras.Input((6,)), keras.layers.ReLU(name="y")])
    with pytest.raises(ValueError, match="Dense"):
        direction_sweep.logits(relu, x)
