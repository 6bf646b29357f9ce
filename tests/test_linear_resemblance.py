"""Tests of advkeras.linear_resemblance: Jacobians, cosines to a linear model, sign agreement."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from advkeras import linear_resemblance as lr

RNG = np.random.default_rng(1)


def _linear(w: np.ndarray) -> keras.Model:
    model = keras.Sequential(
        [keras.Input((w.shape[0],)), keras.layers.Dense(w.shape[1], activation="softmax", name="y")]
    )
    model.get_layer("y").set_weights([w.astype("float32"), np.zeros(w.shape[1], "float32")])
    return model


def test_jacobian_of_a_linear_model_is_its_weights_everywhere():
    w = RNG.normal(size=(5, 3))
    jac = lr.logit_jacobian(_linear(w), RNG.normal(size=(4, 5)), batch_size=3)
    assert jac.shape == (4, 3, 5)
    np.testing.assert_allclose(jac, np.broadcast_to(w.T, (4, 3, 5)), rtol=1e-5, atol=1e-6)


def test_cosine_is_one_for_scaled_and_shifted_weights_and_matches_closed_form():
    w = RNG.normal(size=(7, 4))
    x = RNG.normal(size=(3, 7))
    # 2W plus the same vector in every column: the same softmax ordering, cosine 1
    shifted = 2 * w + RNG.normal(size=(7, 1))
    np.testing.assert_allclose(lr.cosine_to_linear(_linear(shifted), x, w), 1.0, atol=1e-5)
    other = RNG.normal(size=(7, 4))
    a, b = lr.centered(other, axis=1), lr.centered(w, axis=1)
    expected = np.sum(a * b, 0) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0)
    cos = lr.cosine_to_linear(_linear(other), x, w)
    np.testing.assert_allclose(cos, np.broadcast_to(expected, (3, 4)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lr.cosine_to_linear(_linear(-w), x, w), -1.0, atol=1e-5)


def test_sign_agreement_closed_form_and_random_baseline():
    a = RNG.normal(size=(2, 20_000))
    assert abs(lr.sign_agreement(a, RNG.normal(size=a.shape)).mean() - 0.5) < 0.01
    np.testing.assert_allclose(lr.sign_agreement(a, 3 * a), 1.0)
    np.testing.assert_allclose(lr.sign_agreement(a, -a), 0.0)
    # zeros in one argument: mismatches unless skipped
    b = a.copy()
    b[:, : a.shape[1] // 2] = 0.0
    np.testing.assert_allclose(lr.sign_agreement(a, b), 0.5)
    np.testing.assert_allclose(lr.sign_agreement(a, b, skip_zeros=True), 1.0)
    assert np.isnan(lr.sign_agreement(a, np.zeros_like(a), skip_zeros=True)).all()


def test_bad_inputs_raise_value_errors():
    w = RNG.normal(size=(5, 3))
    model = _linear(w)
    with pytest.raises(ValueError, match="weights"):
        lr.cosine_to_linear(model, np.zeros((2, 5)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="weights"):
        lr.cosine_to_linear(model, np.zeros((2, 5)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="x"):
        lr.logit_jacobian(model, np.zeros((0, 5)))
    with pytest.raises(ValueError, match="b"):
        lr.sign_agreement(np.zeros((2, 3)), np.zeros((2, 4)))
