"""advkeras.ensembles: the ensemble's FGSM direction is the sign of the exact gradient of −log p̄_y."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from advkeras import attacks, ensembles, models


def _linear_members(scale: float, seed: int = 0, m: int = 3) -> list[keras.Model]:
    """Softmax regressions with random weights (larger scale: more confident)."""
    rng = np.random.default_rng(seed)
    nets = []
    for _ in range(m):
        net = models.shallow_softmax(6, 4)
        net.get_layer("y").kernel.assign(rng.normal(scale=scale, size=(6, 4)).astype("float32"))
        net.get_layer("y").bias.assign(rng.normal(scale=scale, size=4).astype("float32"))
        nets.append(net)
    return nets


def _exact_gradient(nets: list[keras.Model], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∇ₓ −log p̄_y in float64, for linear logits z_m = x W_m + b_m, from log-space weights."""
    grads = []
    for xi, yi in zip(x.astype(np.float64), y, strict=True):
        terms, log_c = [], []
        for net in nets:
            w = net.get_layer("y").kernel.numpy().astype(np.float64)
            b = net.get_layer("y").bias.numpy().astype(np.float64)
            z = xi @ w + b
            log_p = z - np.logaddexp.reduce(z)
            others = np.delete(np.arange(len(z)), yi)
            log_1m = np.logaddexp.reduce(z[others]) - np.logaddexp.reduce(z)
            q = np.exp(z[others] - np.logaddexp.reduce(z[others]))
            terms.append((w[:, others] - w[:, [yi]]) @ q)  # Σ_k q_k (∇z_k − ∇z_y)
            log_c.append(log_p[yi] + log_1m)  # p_my (1 − p_my), up to a common factor
        c = np.exp(np.array(log_c) - np.max(log_c))
        grads.append(sum(ci * t for ci, t in zip(c, terms, strict=True)))
    return np.array(grads)


def test_direction_is_the_sign_of_the_exact_gradient() -> None:
    nets = _linear_members(scale=1.0)
    rng = np.random.default_rng(1)
    x, y = rng.random((50, 6)).astype("float32"), rng.integers(0, 4, 50)
    got = ensembles.fgsm_direction(nets, x, y)
    np.testing.assert_array_equal(got, np.sign(_exact_gradient(nets, x, y)))


def test_saturated_members_keep_the_true_class_term() -> None:
    """Where float32 softmax rounds p_y to 1, the usual FGSM drops −∇z_y; this one does not."""
    nets = _linear_members(scale=30.0, seed=2, m=1)
    rng = np.random.default_rng(3)
    x = rng.random((200, 6)).astype("float32")
    y = nets[0].predict(x, verbose=0).argmax(1)  # correct and very confident
    p_y = nets[0].predict(x, verbose=0)[np.arange(200), y]
    assert np.mean(p_y == 1.0) > 0.3
    got = ensembles.fgsm_direction(nets, x, y)
    np.testing.assert_array_equal(got, np.sign(_exact_gradient(nets, x, y)))
    usual = np.sign(attacks.fgsm(nets[0], x, y, eps=1.0, clip=None) - x)
    saturated = p_y == 1.0
    assert np.mean(usual[saturated] != got[saturated]) > 0.05
    assert np.array_equal(usual[~saturated & (p_y < 0.99)], got[~saturated & (p_y < 0.99)])


def test_one_member_equals_its_own_exact_attack_and_the_mean_is_the_prediction() -> None:
    nets = _linear_members(scale=1.0, seed=4)
    rng = np.random.default_rng(5)
    x, y = rng.random((20, 6)).astype("float32"), rng.integers(0, 4, 20)
    one = ensembles.ensemble_fgsm(nets[:1], x, y, eps=0.3)
    np.testing.assert_allclose(one, x + 0.3 * np.sign(_exact_gradient(nets[:1], x, y)), atol=1e-7)
    clipped = ensembles.ensemble_fgsm(nets, x, y, eps=0.3, clip=(0.0, 1.0))
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    mean = ensembles.mean_probabilities(nets, x)
    np.testing.assert_allclose(mean, models.ensemble(nets).predict(x, verbose=0), rtol=1e-5)


def test_maxout_members_logits_match_their_softmax() -> None:
    nets = [models.maxout_mlp(8, 2, seed=s) for s in range(2)]
    x = np.random.default_rng(0).random((4, 784)).astype("float32")
    for net in nets:
        z = ensembles.logits_function(net)(keras.ops.convert_to_tensor(x))
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras.ops.softmax(z)), net.predict(x, verbose=0), rtol=1e-5
        )
    assert ensembles.fgsm_direction(nets, x, np.arange(4)).shape == x.shape


def test_bad_input() -> None:
    nets = _linear_members(scale=1.0)
    x, y = np.zeros((3, 6), "float32"), np.zeros(3, int)
    with pytest.raises(ValueError, match="`members`"):
        ensembles.fgsm_direction([], x, y)
    with pytest.raises(ValueError, match="`members`"):
        ensembles.fgsm_direction(nets[0], x, y)
    with pytest.raises(ValueError, match="`members`"):
        ensembles.fgsm_direction([nets[0], models.shallow_softmax(6, 3)], x, y)
    with pytest.raises(ValueError, match="`model`"):
        ensembles.logits_function(models.rbf_network(6, 4))
    with pytest.raises(ValueError, match="`y`"):
        ensembles.fgsm_direction(nets, x, np.array([0, 1, 7]))
    with pytest.raises(ValueError, match="`eps`"):
        ensembles.ensemble_fgsm(nets, x, y, eps=-1)
    with pytest.raises(ValueError, match="`clip`"):
        ensembles.ensemble_fgsm(nets, x, y, eps=0.1, clip=(1, 0))


def test_geometric_combination_is_the_softmax_of_the_mean_logits() -> None:
    nets = _linear_members(scale=1.0, seed=6)
    rng = np.random.default_rng(7)
    x, y = rng.random((40, 6)).astype("float32"), rng.integers(0, 4, 40)
    w = np.mean([n.get_layer("y").kernel.numpy() for n in nets], axis=0).astype(np.float64)
    b = np.mean([n.get_layer("y").bias.numpy() for n in nets], axis=0).astype(np.float64)
    z = x.astype(np.float64) @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    got = ensembles.mean_probabilities(nets, x, combine="geometric")
    np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-7)
    exact = np.array(
        [(w - w[:, [yi]]) @ pi for yi, pi in zip(y, p, strict=True)]
    )  # Σ p_k ∇(z_k − z_y)
    direction = ensembles.fgsm_direction(nets, x, y, combine="geometric")
    np.testing.assert_array_equal(direction, np.sign(exact))
    # one member: both readings are the same model
    np.testing.assert_array_equal(
        ensembles.fgsm_direction(nets[:1], x, y, combine="geometric"),
        ensembles.fgsm_direction(nets[:1], x, y),
    )
    with pytest.raises(ValueError, match="`combine`"):
        ensembles.mean_probabilities(nets, x, combine="vote")
