"""Tests of advkeras.adversary_variants and the experiments.maxout_adversary recipe (C20, C21)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from advkeras import adversary_variants, models
from advkeras.book import experiments


def _data(n: int = 60, d: int = 6, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((n, d)).astype("float32")
    return x, (np.arange(n) % k)


def _mlp(d: int = 6, k: int = 3) -> keras.Model:
    keras.utils.set_random_seed(0)
    return models.maxout_mlp(4, 2, input_dim=d, classes=k, dropout=None, seed=0)


def test_l2_radius_is_the_length_of_the_sign_step() -> None:
    g = np.random.default_rng(0).normal(size=784)
    eta = 0.25 * np.sign(g)
    assert adversary_variants.l2_radius_of_sign_step(0.25, 784) == pytest.approx(
        np.linalg.norm(eta)
    )
    with pytest.raises(ValueError, match="argument `eps`"):
        adversary_variants.l2_radius_of_sign_step(-1.0, 784)


def test_the_adversarial_term_costs_more_than_the_clean_one() -> None:
    # A step along the gradient raises the cost (to first order): J(x + eta) > J(x).
    x, y = _data()
    for kwargs in ({"norm": 2, "eps": 2.0}, {"layer": "h0", "eps": 1.0}):
        m = adversary_variants.fit_adversary(_mlp(), x, y, epochs=2, batch_size=20, **kwargs)
        h = m.advkeras_history
        assert all(a > c for a, c in zip(h["adv_loss"], h["clean_loss"], strict=True)), kwargs
        assert h["error"] == [1 - a for a in h["accuracy"]]


def test_alpha_one_trains_like_the_clean_objective() -> None:
    # With alpha = 1 the perturbed term has weight 0: the same weights whatever the adversary.
    x, y = _data()
    a = adversary_variants.fit_adversary(_mlp(), x, y, epochs=1, batch_size=20, alpha=1.0, norm=2)
    b = adversary_variants.fit_adversary(
        _mlp(), x, y, epochs=1, batch_size=20, alpha=1.0, layer="h0"
    )
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, atol=1e-6)


def test_bad_input() -> None:
    x, y = _data()
    with pytest.raises(ValueError, match="argument `eps`"):
        adversary_variants.fit_adversary(_mlp(), x, y, epochs=1, eps=0.0)
    with pytest.raises(ValueError, match="argument `validation_data`"):
        adversary_variants.fit_adversary(_mlp(), x, y, epochs=1, patience=2)
    with pytest.raises(ValueError, match="argument `layer`"):  # the final hidden layer
        adversary_variants.fit_adversary(_mlp(), x, y, epochs=1, layer="h1")
    with pytest.raises(ValueError, match="argument `adversary`"):
        experiments.maxout_adversary("smoke", adversary="rotation")


def test_recipe_keys_the_adversary_and_its_size() -> None:
    grad = experiments.recipe_spec("maxout_adversary", "smoke", adversary="scaled_gradient")
    hidden = experiments.recipe_spec("maxout_adversary", "smoke", adversary="hidden_h0")
    assert grad["fit"]["eps"] == pytest.approx(7.0) and grad["fit"]["norm"] == 2
    assert hidden["fit"]["eps"] == 0.25 and hidden["fit"]["layer"] == "h0"
    assert grad["name"] != hidden["name"]
    other = experiments.recipe_spec("maxout_adversary", "smoke", adversary="hidden_h0", eps=0.5)
    assert other["fit"]["eps"] == 0.5 and other != hidden


def _tanh_net() -> keras.Model:
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(3)]
    )


def test_differentiating_through_eta_changes_the_update_not_the_adversary() -> None:
    # One SGD step on one batch, no dropout: the same eta (same clean and perturbed cost) but
    # a different weight update, because d(eta)/d(weights) enters the gradient.
    x, y = _data(n=20)
    runs = {}
    for differentiable in (False, True):
        m = adversary_variants.fit_adversary(
            _tanh_net(),
            x,
            y,
            epochs=1,
            batch_size=20,
            norm=2,
            eps=1.0,
            differentiable=differentiable,
            optimizer=keras.optimizers.SGD(0.5),
        )
        runs[differentiable] = m
    h0, h1 = runs[False].advkeras_history, runs[True].advkeras_history
    assert h0["clean_loss"] == pytest.approx(h1["clean_loss"], rel=1e-5)
    assert h0["adv_loss"] == pytest.approx(h1["adv_loss"], rel=1e-5)
    gap = max(
        float(np.abs(a - b).max())
        for a, b in zip(runs[False].get_weights(), runs[True].get_weights(), strict=True)
    )
    assert gap > 1e-4


def test_differentiable_needs_the_scaled_gradient() -> None:
    x, y = _data()
    with pytest.raises(ValueError, match="argument `differentiable`"):
        adversary_variants.fit_adversary(_mlp(), x, y, epochs=1, differentiable=True)
    spec = experiments.recipe_spec(
        "maxout_adversary", "smoke", adversary="scaled_gradient_differentiable"
    )
    assert spec["fit"]["differentiable"] is True and spec["fit"]["eps"] == pytest.approx(7.0)
    plain = experiments.recipe_spec("maxout_adversary", "smoke", adversary="scaled_gradient")
    assert "differentiable" not in plain["fit"]
