"""Properties and closed forms of advkeras.attacks, on tiny linear Keras models."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from advkeras import attacks, environment, losses
from advkeras.attacks import compiled

D, K = 5, 3
FAST = settings(max_examples=25, deadline=None)


def _dense(units: int, activation: str | None = None, d: int = D) -> keras.Model:
    return keras.Sequential([keras.Input((d,)), keras.layers.Dense(units, activation=activation)])


@pytest.fixture(scope="module")
def logits_model() -> keras.Model:
    return _dense(K)


@pytest.fixture(scope="module")
def two_class_model() -> keras.Model:
    return _dense(2)


@pytest.fixture(scope="module")
def logreg() -> keras.Model:
    return _dense(1)


@pytest.fixture(scope="module")
def sigmoid_model() -> keras.Model:
    return _dense(K, "sigmoid")


def _set(model: keras.Model, w: np.ndarray, b: np.ndarray | None = None) -> None:
    w = np.asarray(w, dtype=np.float32)
    b = np.zeros(w.shape[1], np.float32) if b is None else np.asarray(b, np.float32)
    model.set_weights([w, b])


def _random_weights(model: keras.Model, seed: int, scale: float = 1.0) -> None:
    rng = np.random.default_rng(seed)
    d, units = model.layers[-1].kernel.shape
    _set(model, scale * rng.standard_normal((d, units)), 0.1 * rng.standard_normal(units))


def _loss(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    kind = losses.infer_output_kind(model)
    out = model(tf.constant(x, tf.float32), training=False)
    return losses.per_example_loss(kind)(tf.constant(y, tf.int64), out).numpy()


def _predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(tf.constant(x, tf.float32), training=False))


def _float32_sum_error(x: np.ndarray, step: float) -> np.ndarray:
    """A bound, per element, on how far |fl32(x ± fl32(step)) − x| can be from ``step``.

    Rounding ``step`` to float32 costs half a unit in its last place (ulp), rounding the sum
    half an ulp of the result, which is at most |x| + step: one ulp of each bounds both. A
    relative tolerance on ``step`` cannot: at |x| ~ 1 an ulp is 1.2e-7, 1e-4 of ε = .001.
    """
    big = np.abs(np.asarray(x, np.float64)) + abs(step)
    return np.spacing(big.astype(np.float32)).astype(np.float64) + np.spacing(np.float32(step))


# No subnormal floats: TensorFlow's CPU kernels flush them to zero (FTZ/DAZ) and NumPy does
# not, so a closed form checked exactly would fail on ε = 1.9e-42 (found by a random run),
# which no image or attack ever uses.
pixels = st.floats(0, 1, width=32, allow_subnormal=False)
inputs = hnp.arrays(np.float32, (4, D), elements=pixels)
weight_seeds = st.integers(0, 2**16)
epsilons = pixels


# --------------------------------------------------------------------------- FGSM properties


@FAST
@given(x=inputs, seed=weight_seeds)
def test_eps_zero_returns_x_exactly(logits_model, x, seed):
    _random_weights(logits_model, seed)
    y = np.arange(4) % K
    out = attacks.fgsm(logits_model, x, y, eps=0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(attacks.fgsm(logits_model, tf.constant(x), eps=0.0).numpy(), x)


@FAST
@given(x=inputs, seed=weight_seeds, eps=epsilons, norm=st.sampled_from(["inf", 2, 1]))
def test_perturbation_bounded_and_inside_clip(logits_model, x, seed, eps, norm):
    _random_weights(logits_model, seed)
    x_adv = attacks.fgsm(logits_model, x, eps=eps, norm=norm)
    assert x_adv.dtype == np.float32 and x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    delta = (x_adv.astype(np.float64) - x).reshape(len(x), -1)
    size = {"inf": np.abs(delta).max(axis=1), 2: np.linalg.norm(delta, axis=1)}
    size[1] = np.abs(delta).sum(axis=1)
    assert np.all(size[norm] <= eps + 1e-6)


@FAST
@given(x=inputs, seed=weight_seeds, eps=epsilons, clip=st.sampled_from([(0.0, 1.0), None]))
def test_untargeted_step_never_lowers_the_loss_of_a_linear_softmax(
    logits_model, x, seed, eps, clip
):
    # J is convex in x and the step has a non-negative inner product with ∇J (also
    # after clipping), so J(x + η) >= J(x) + ∇J·η >= J(x).
    _random_weights(logits_model, seed)
    y = np.array([0, 1, 2, 0])
    x_adv = attacks.fgsm(logits_model, x, y, eps=eps, clip=clip)
    before, after = _loss(logits_model, x, y), _loss(logits_model, x_adv, y)
    assert np.all(after >= before - 1e-5 * (1 + before))


@FAST
@given(x=inputs, seed=weight_seeds, eps=epsilons)
def test_targeted_step_lowers_the_target_loss_with_two_classes(two_class_model, x, seed, eps):
    # With two classes J(target) = softplus(−margin) and the sign step raises the
    # margin by ε·‖w_t − w_o‖₁ (less where clipped, never negative).
    _random_weights(two_class_model, seed)
    target = np.array([0, 1, 1, 0])
    x_adv = attacks.fgsm(two_class_model, x, target, eps=eps, targeted=True)
    before, after = _loss(two_class_model, x, target), _loss(two_class_model, x_adv, target)
    assert np.all(after <= before + 1e-5 * (1 + before))


def test_targeted_step_reaches_the_target_more_often(logits_model):
    _random_weights(logits_model, 3, scale=2.0)
    x = np.random.default_rng(1).random((200, D), dtype=np.float32)
    target = np.full(200, 2)
    before = _loss(logits_model, x, target)
    x_adv = attacks.fgsm(logits_model, x, target, eps=0.01, targeted=True, clip=None)
    after = _loss(logits_model, x_adv, target)
    assert np.all(after < before)
    big = attacks.fgsm(logits_model, x, target, eps=0.5, targeted=True)
    hit_before = np.mean(_predict(logits_model, x).argmax(1) == 2)
    assert np.mean(_predict(logits_model, big).argmax(1) == 2) > hit_before


# --------------------------------------------------------------------------- closed forms


@FAST
@given(
    x=hnp.arrays(np.float32, (6, D), elements=pixels),
    w=hnp.arrays(np.float32, (D,), elements=st.floats(0.0625, 2, width=32)),
    flips=hnp.arrays(bool, (D,)),
    eps=epsilons,
)
def test_fgsm_on_logistic_regression_is_minus_eps_y_sign_w(logreg, x, w, flips, eps):
    w = np.where(flips, -w, w).astype(np.float32)
    _set(logreg, w[:, None], [0.1])
    y_pm = np.array([1, -1, 1, 1, -1, -1])
    expected = x + np.float32(eps) * (-y_pm[:, None] * np.sign(w)).astype(np.float32)
    exact = attacks.fgsm(logreg, x, y_pm, eps=eps, clip=None)
    np.testing.assert_array_equal(exact, expected)
    clipped = attacks.fgsm(logreg, x, (y_pm > 0).astype(int), eps=eps)  # {0, 1} labels
    np.testing.assert_array_equal(clipped, np.clip(expected, 0, 1))


def test_fgsm_without_labels_attacks_the_models_own_prediction(logreg, logits_model):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(D).astype(np.float32)
    _set(logreg, w[:, None], [-0.2])
    x = rng.random((20, D), dtype=np.float32)
    y_hat = np.where(x @ w - 0.2 > 0, 1, -1)
    expected = x - np.float32(0.1) * (y_hat[:, None] * np.sign(w)).astype(np.float32)
    np.testing.assert_array_equal(attacks.fgsm(logreg, x, eps=0.1, clip=None), expected)
    _random_weights(logits_model, 5)
    pred = _predict(logits_model, x).argmax(1)
    np.testing.assert_array_equal(
        attacks.fgsm(logits_model, x, eps=0.2), attacks.fgsm(logits_model, x, pred, eps=0.2)
    )


def test_l2_fgsm_has_norm_eps_and_follows_w_on_logistic_regression(logreg, logits_model):
    rng = np.random.default_rng(1)
    w = rng.standard_normal(D).astype(np.float32)
    _set(logreg, w[:, None])
    x = rng.random((8, D), dtype=np.float32)
    y_pm = np.where(rng.random(8) > 0.5, 1, -1)
    eta = attacks.fgsm(logreg, x, y_pm, eps=0.3, norm=2, clip=None) - x
    np.testing.assert_allclose(np.linalg.norm(eta, axis=1), 0.3, rtol=1e-5)
    np.testing.assert_allclose(eta, -0.3 * y_pm[:, None] * w / np.linalg.norm(w), atol=1e-6)
    _random_weights(logits_model, 2)
    eta = attacks.fgsm(logits_model, x, eps=0.7, norm=2, clip=None) - x
    np.testing.assert_allclose(np.linalg.norm(eta, axis=1), 0.7, rtol=1e-5)
    eta1 = attacks.fgsm(logits_model, x, eps=0.7, norm=1, clip=None) - x
    np.testing.assert_allclose(np.abs(eta1).sum(axis=1), 0.7, rtol=1e-5)
    assert np.all((np.abs(eta1) > 0).sum(axis=1) == 1)


def test_l2_fgsm_of_a_zero_gradient_is_zero():
    model = _dense(K)
    _set(model, np.zeros((D, K)))  # constant output: ∇ₓJ = 0
    x = np.full((3, D), 0.5, np.float32)
    for norm in ("inf", 2, 1):
        np.testing.assert_array_equal(
            attacks.fgsm(model, x, np.zeros(3, int), eps=0.2, norm=norm), x
        )


def test_softmax_output_gives_the_same_attack_as_logits(logits_model):
    _random_weights(logits_model, 7)
    probs = _dense(K, "softmax")
    probs.set_weights(logits_model.get_weights())
    assert losses.infer_output_kind(probs) == "probabilities"
    x = np.random.default_rng(2).random((30, D), dtype=np.float32)
    y = np.arange(30) % K
    np.testing.assert_allclose(
        attacks.fgsm(probs, x, y, eps=0.1), attacks.fgsm(logits_model, x, y, eps=0.1), atol=1e-6
    )


def test_custom_loss_is_used(logits_model):
    _random_weights(logits_model, 8)
    x = np.random.default_rng(3).random((10, D), dtype=np.float32)
    y = np.arange(10) % K
    default = losses.per_example_loss("logits")
    same = attacks.fgsm(logits_model, x, y, eps=0.1, clip=None, loss=default)
    np.testing.assert_array_equal(same, attacks.fgsm(logits_model, x, y, eps=0.1, clip=None))

    def negated(y_true, y_pred):
        return -default(y_true, y_pred)

    flipped = attacks.fgsm(logits_model, x, y, eps=0.1, clip=None, loss=negated)
    np.testing.assert_allclose(flipped - x, -(same - x), atol=1e-7)


# --------------------------------------------------------------------------- input types, tracing


def test_numpy_tensor_and_dataset_inputs_agree(logits_model):
    _random_weights(logits_model, 9)
    rng = np.random.default_rng(4)
    x = rng.random((23, D), dtype=np.float32)
    y = rng.integers(0, K, 23)
    ref = attacks.fgsm(logits_model, x, y, eps=0.15)
    np.testing.assert_array_equal(attacks.fgsm(logits_model, x, y, eps=0.15, batch_size=4), ref)
    as_tensor = attacks.fgsm(logits_model, tf.constant(x), tf.constant(y), eps=0.15)
    assert tf.is_tensor(as_tensor)
    np.testing.assert_allclose(as_tensor.numpy(), ref, atol=1e-7)
    one_hot = np.eye(K)[y]
    np.testing.assert_array_equal(attacks.fgsm(logits_model, x, one_hot, eps=0.15), ref)

    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(5)
    adv = attacks.fgsm(logits_model, ds, eps=0.15)
    assert isinstance(adv, tf.data.Dataset)
    xs, ys = zip(*[(a.numpy(), b.numpy()) for a, b in adv], strict=True)
    np.testing.assert_allclose(np.concatenate(xs), ref, atol=1e-7)
    np.testing.assert_array_equal(np.concatenate(ys), y)

    single = attacks.fgsm(logits_model, tf.data.Dataset.from_tensor_slices((x, y)), eps=0.15)
    np.testing.assert_allclose(np.stack([a.numpy() for a, _ in single]), ref, atol=1e-7)

    x_only = attacks.fgsm(logits_model, tf.data.Dataset.from_tensor_slices(x).batch(7), eps=0.15)
    np.testing.assert_allclose(
        np.concatenate([a.numpy() for a in x_only]),
        attacks.fgsm(logits_model, x, eps=0.15),
        atol=1e-7,
    )


def test_dataset_labels_are_checked_when_iterated(logits_model):
    x = np.full((4, D), 0.5, np.float32)
    bad = attacks.fgsm(
        logits_model,
        tf.data.Dataset.from_tensor_slices((x, np.array([0, 1, 2, 3]))).batch(4),
        eps=0.1,
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="`y`"):
        list(bad)
    outside = attacks.fgsm(
        logits_model, tf.data.Dataset.from_tensor_slices(3 * x).batch(4), eps=0.1
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="`x`"):
        list(outside)


def test_new_eps_or_batch_size_does_not_retrace():
    model = _dense(K)
    x = np.random.default_rng(5).random((12, D), dtype=np.float32)
    y = np.arange(12) % K
    attacks.fgsm(model, x, y, eps=0.1)
    traced = compiled.trace_count("fgsm")
    first = attacks.fgsm(model, x, y, eps=0.2)
    attacks.fgsm(model, x[:5], y[:5], eps=0.3)
    attacks.fgsm(model, tf.constant(x), y, eps=0.05, batch_size=5)
    assert compiled.trace_count("fgsm") == traced
    assert not np.array_equal(first, attacks.fgsm(model, x, y, eps=0.1))
    attacks.fgsm(model, x, y, eps=0.1, targeted=True)  # a different attack: one new trace
    assert compiled.trace_count("fgsm") == traced + 1


def test_compiled_functions_do_not_keep_a_model_alive():
    model = _dense(K)
    attacks.fgsm(model, np.full((2, D), 0.5, np.float32), eps=0.1)
    assert compiled.compiled_functions(model)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


# --------------------------------------------------------------------------- bad input


def _bad_calls(model, logreg):
    x = np.full((3, D), 0.5, np.float32)
    y = np.array([0, 1, 2])
    relu = _dense(K, "relu")
    return [
        ("eps", lambda: attacks.fgsm(model, x, y, eps=-0.1)),
        ("eps", lambda: attacks.fgsm(model, x, y, eps=float("nan"))),
        ("eps", lambda: attacks.fgsm(model, x, y, eps=float("inf"))),
        ("clip", lambda: attacks.fgsm(model, x, y, eps=0.1, clip=(1.0, 0.0))),
        ("x", lambda: attacks.fgsm(model, np.full((3, D), 200, np.uint8), y, eps=0.1)),
        ("x", lambda: attacks.fgsm(model, x * np.nan, y, eps=0.1, clip=None)),
        ("y", lambda: attacks.fgsm(model, x, np.array([0, 1, 3]), eps=0.1)),
        ("y", lambda: attacks.fgsm(model, x, np.array([0, -1, 2]), eps=0.1)),
        ("y", lambda: attacks.fgsm(model, x, np.array([0, 1]), eps=0.1)),
        ("y", lambda: attacks.fgsm(model, x, None, eps=0.1, targeted=True)),
        ("y", lambda: attacks.fgsm(logreg, np.full((3, D), 0.5), np.array([0, 2, 1]), eps=0.1)),
        ("norm", lambda: attacks.fgsm(model, x, y, eps=0.1, norm=3)),
        ("output", lambda: attacks.fgsm(model, x, y, eps=0.1, output="binary_logit")),
        ("output", lambda: attacks.fgsm(model, x, y, eps=0.1, output="scores")),
        ("output", lambda: attacks.fgsm(relu, x, y, eps=0.1)),
        ("batch_size", lambda: attacks.fgsm(model, x, y, eps=0.1, batch_size=0)),
        ("loss", lambda: attacks.fgsm(model, x, y, eps=0.1, loss="mse")),
        ("targeted", lambda: attacks.fgsm(model, x, y, eps=0.1, targeted="yes")),
        ("epsilons", lambda: attacks.fgsm_sweep(model, x, y, [])),
        ("epsilons", lambda: attacks.fgsm_sweep(model, x, y, [0.1, -1])),
        ("angle", lambda: attacks.rotate_toward_gradient(model, x, y, angle=float("nan"))),
        ("eps", lambda: attacks.random_sign_noise(x, -1)),
        ("x", lambda: attacks.uniform_noise(x + 1, 0.1)),
        ("seed", lambda: attacks.uniform_noise(x, 0.1, seed="abc")),
        ("n", lambda: attacks.gaussian_rubbish(0)),
        ("shape", lambda: attacks.gaussian_rubbish(2, shape=(0, 3))),
        ("std", lambda: attacks.gaussian_rubbish(2, std=-1.0)),
        ("target", lambda: attacks.fooling_step(model, x, 5, eps=0.1)),
        ("sign", lambda: attacks.fooling_step(model, x, 1, eps=0.1, sign=None)),
        ("c_init", lambda: attacks.lbfgs_attack(model, x, 1, c_init=0.0)),
        ("max_iter", lambda: attacks.lbfgs_attack(model, x, 1, max_iter=0)),
        ("target", lambda: attacks.lbfgs_attack(model, x, np.array([0, 1]))),
    ]


def test_bad_input_raises_value_error_naming_the_argument(logits_model, logreg):
    for argument, call in _bad_calls(logits_model, logreg):
        with pytest.raises(ValueError, match=f"`{argument}[`\\[]|{argument}="):
            call()


def test_uint8_hint_in_the_error(logits_model):
    with pytest.raises(ValueError, match="divide by 255"):
        attacks.fgsm(logits_model, np.full((2, D), 255, np.uint8), eps=0.1)


# --------------------------------------------------------------------------- sweep, gradient


def test_sweep_matches_one_fgsm_call_per_eps(logits_model):
    _random_weights(logits_model, 10, scale=3.0)
    rng = np.random.default_rng(6)
    x = rng.random((40, D), dtype=np.float32)
    y = _predict(logits_model, x).argmax(1)
    y[:5] = (y[:5] + 1) % K  # a few clean mistakes
    eps_values = [0.0, 0.05, 0.2, 0.5]
    result = attacks.fgsm_sweep(logits_model, x, y, eps_values, batch_size=16)
    assert result.success.shape == (4, 40) and result.success.dtype == bool
    for e, eps in enumerate(eps_values):
        probs = losses.class_probabilities(
            _predict(logits_model, attacks.fgsm(logits_model, x, y, eps=eps)), "logits"
        )
        wrong = probs.argmax(1) != y
        np.testing.assert_array_equal(result.success[e], wrong)
        assert result.error[e] == pytest.approx(wrong.mean())
        conf = probs.max(1)[wrong].mean()
        assert result.confidence_on_mistakes[e] == pytest.approx(conf, rel=1e-5)
    assert np.all((result.error >= 0) & (result.error <= 1))
    assert result.error[0] == pytest.approx(5 / 40) and result.error[-1] > result.error[0]
    rows = result.rows()
    assert [r["eps"] for r in rows] == pytest.approx(eps_values)
    assert result.as_dict()["error"] == pytest.approx(list(result.error))


def test_sweep_without_mistakes_has_nan_confidence_and_uses_max_output_for_sigmoids(sigmoid_model):
    _random_weights(sigmoid_model, 11, scale=3.0)
    x = np.random.default_rng(7).random((30, D), dtype=np.float32)
    result = attacks.fgsm_sweep(sigmoid_model, x, None, [0.0, 1.0])
    assert result.error[0] == 0 and np.isnan(result.confidence_on_mistakes[0])
    x_adv = attacks.fgsm(sigmoid_model, x, eps=1.0)
    out = _predict(sigmoid_model, x_adv)
    wrong = out.argmax(1) != _predict(sigmoid_model, x).argmax(1)
    assert wrong.any()
    np.testing.assert_array_equal(result.success[1], wrong)
    assert result.confidence_on_mistakes[1] == pytest.approx(out.max(1)[wrong].mean(), rel=1e-5)


def test_sweep_l2_matches_fgsm_l2(logits_model):
    _random_weights(logits_model, 12, scale=3.0)
    x = np.random.default_rng(8).random((25, D), dtype=np.float32)
    y = np.arange(25) % K
    result = attacks.fgsm_sweep(logits_model, x, y, 0.4, norm=2)
    x_adv = attacks.fgsm(logits_model, x, y, eps=0.4, norm=2)
    np.testing.assert_array_equal(result.success[0], _predict(logits_model, x_adv).argmax(1) != y)


def test_input_gradient_closed_form_for_logistic_regression(logreg):
    rng = np.random.default_rng(9)
    w = rng.standard_normal(D).astype(np.float32)
    _set(logreg, w[:, None], [0.3])
    x = rng.random((7, D), dtype=np.float32)
    y_pm = np.where(rng.random(7) > 0.5, 1, -1)
    z = x.astype(np.float64) @ w + 0.3
    expected = (-y_pm / (1 + np.exp(y_pm * z)))[:, None] * w  # ∇ softplus(−y z)
    g = attacks.input_gradient(logreg, x, y_pm, batch_size=3)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- rotation


@FAST
@given(x=inputs, seed=weight_seeds, angle=st.floats(-1.5, 1.5))
def test_rotation_keeps_the_norm_and_turns_by_the_angle(logits_model, x, seed, angle):
    _random_weights(logits_model, seed)
    x = x + 0.01  # non-zero inputs
    x_rot = attacks.rotate_toward_gradient(logits_model, x, angle=angle).astype(np.float64)
    length = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(np.linalg.norm(x_rot, axis=1), length, rtol=1e-5)
    cosine = np.sum(x_rot * x, axis=1) / length**2
    g = attacks.input_gradient(logits_model, x, None).astype(np.float64)
    # Where g is within ~1.4e-3 rad of ±x, the part of g orthogonal to x is float32
    # cancellation noise: the rotation plane is undefined there, so the angle is not checked.
    parallel = np.abs(np.sum(g * x, axis=1)) >= (1 - 1e-6) * np.linalg.norm(g, axis=1) * length
    np.testing.assert_allclose(cosine[~parallel], np.cos(angle), atol=1e-5)


def test_small_rotation_toward_the_gradient_raises_the_loss(logits_model):
    _random_weights(logits_model, 13)
    x = np.random.default_rng(10).random((50, D), dtype=np.float32) + 0.1
    y = np.arange(50) % K
    before = _loss(logits_model, x, y)
    after = _loss(logits_model, attacks.rotate_toward_gradient(logits_model, x, y, angle=0.02), y)
    away = _loss(logits_model, attacks.rotate_toward_gradient(logits_model, x, y, angle=-0.02), y)
    assert np.all(after > before) and np.all(away < before)
    np.testing.assert_allclose(attacks.rotate_toward_gradient(logits_model, x, y, angle=0.0), x)
    clipped = attacks.rotate_toward_gradient(logits_model, x, y, angle=1.0, clip=(0.0, 1.1))
    assert clipped.min() >= 0 and clipped.max() <= 1.1


# --------------------------------------------------------------------------- noise, rubbish


@FAST
@given(x=inputs, eps=epsilons, seed=st.integers(0, 1000))
def test_noise_is_bounded_and_reproducible(x, eps, seed):
    for noise in (attacks.random_sign_noise, attacks.uniform_noise):
        a = noise(x, eps, seed=seed)
        np.testing.assert_array_equal(a, noise(x, eps, seed=seed))
        assert a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
        assert np.all(np.abs(a - x) <= eps + 1e-6)
        free = noise(x, eps, seed=seed, clip=None)
        assert np.all(np.abs(free - x) <= eps + 1e-6)
    free = attacks.random_sign_noise(x, eps, seed=seed, clip=None)
    np.testing.assert_allclose(np.abs(free.astype(np.float64) - x), eps, atol=1e-6)


def test_noise_statistics_and_seeds():
    x = np.full((200, 50), 0.5, np.float32)
    signs = attacks.random_sign_noise(x, 0.1, seed=1, clip=None) - x
    assert abs(np.mean(signs > 0) - 0.5) < 0.02
    uniform = attacks.uniform_noise(x, 0.1, seed=1, clip=None) - x
    assert abs(uniform.mean()) < 0.003 and abs(uniform.std() - 0.1 / np.sqrt(3)) < 0.002
    assert not np.array_equal(
        attacks.uniform_noise(x, 0.1, seed=1), attacks.uniform_noise(x, 0.1, seed=2)
    )


def test_gaussian_rubbish_shape_dtype_and_moments():
    r = attacks.gaussian_rubbish(400, seed=0, std=2.0)
    assert r.shape == (400, 784) and r.dtype == np.float32
    assert abs(r.mean()) < 0.02 and abs(r.std() - 2.0) < 0.02
    np.testing.assert_array_equal(r, attacks.gaussian_rubbish(400, seed=0, std=2.0))
    assert attacks.gaussian_rubbish(3, (32, 32, 3), seed=1).shape == (3, 32, 32, 3)
    assert attacks.gaussian_rubbish(3, 10).shape == (3, 10)


# --------------------------------------------------------------------------- fooling (Appendix A)


@FAST
@given(seed=weight_seeds, eps=st.floats(0.001, 2), target=st.integers(0, K - 1), sign=st.booleans())
# Found by a random run: |x| ~ 1 and ε = .001, where float32 cannot hold x + ε to 1e-5 of ε.
@example(seed=0, eps=0.001, target=0, sign=True)
def test_fooling_step_raises_the_target_probability_of_independent_units(
    sigmoid_model, seed, eps, target, sign
):
    # p_t = σ(w_tᵀx + b_t) depends on x only through its own logit, which the step raises.
    _random_weights(sigmoid_model, seed)
    x = attacks.gaussian_rubbish(6, (D,), seed=seed)
    fooled = attacks.fooling_step(sigmoid_model, x, target, eps=eps, sign=sign)
    before, after = (
        _predict(sigmoid_model, x)[:, target],
        _predict(sigmoid_model, fooled)[:, target],
    )
    assert np.all(after >= before - 1e-6)
    if sign:
        step = np.abs(fooled.astype(np.float64) - x)
        np.testing.assert_array_less(np.abs(step - eps), _float32_sum_error(x, eps))


def test_fooling_step_on_softmax(logits_model):
    _random_weights(logits_model, 14)
    x = attacks.gaussian_rubbish(100, (D,), seed=3)
    for sign in (True, False):
        fooled = attacks.fooling_step(logits_model, x, 1, eps=0.01, sign=sign)
        p_before = losses.class_probabilities(_predict(logits_model, x), "logits")[:, 1]
        p_after = losses.class_probabilities(_predict(logits_model, fooled), "logits")[:, 1]
        # (a raw-gradient step on p ~ 1e-7 is below float32 resolution: no change)
        assert np.all(p_after >= p_before) and np.mean(p_after > p_before) > 0.9
    np.testing.assert_array_equal(
        attacks.fooling_step(logits_model, x, 1, eps=0.3),
        attacks.fooling_step(logits_model, x, np.ones(100, int), eps=0.3),
    )
    np.testing.assert_array_equal(
        attacks.fooling_step(logits_model, x, 1, eps=0.3),
        attacks.fgsm(logits_model, x, np.ones(100, int), eps=0.3, targeted=True, clip=None),
    )
    boxed = attacks.fooling_step(logits_model, x.clip(0, 1), 2, eps=0.5, clip=(0, 1))
    assert boxed.min() >= 0 and boxed.max() <= 1


# --------------------------------------------------------------------------- L-BFGS


def test_lbfgs_reaches_the_target_inside_the_box_near_the_minimal_distance(two_class_model):
    rng = np.random.default_rng(15)
    w = rng.standard_normal((D, 2)).astype(np.float32)
    _set(two_class_model, w, [0.0, 0.0])
    x = rng.uniform(0.3, 0.7, (4, D)).astype(np.float32)
    target = 1 - _predict(two_class_model, x).argmax(1)
    result = attacks.lbfgs_attack(two_class_model, x, target, c_steps=4, max_iter=50)
    assert result.success.all() and result.success_rate == 1.0
    assert result.x_adv.min() >= 0 and result.x_adv.max() <= 1
    np.testing.assert_array_equal(_predict(two_class_model, result.x_adv).argmax(1), target)
    delta = (result.x_adv.astype(np.float64) - x).reshape(4, -1)
    np.testing.assert_allclose(result.l2, np.linalg.norm(delta, axis=1), rtol=1e-6)
    np.testing.assert_allclose(result.linf, np.abs(delta).max(1), rtol=1e-6)
    # Any successful example is at least |margin| / ‖w_t − w_o‖₂ away (the hyperplane distance).
    dw = w[:, 1] - w[:, 0]
    margin = np.abs(x.astype(np.float64) @ dw)
    assert np.all(result.l2 >= margin / np.linalg.norm(dw) - 1e-6)
    # ... and does better in L2 than the smallest successful FGSM on a grid (two classes:
    # leaving the predicted class is reaching the target).
    grid = np.linspace(0.005, 1, 200)
    sweep = attacks.fgsm_sweep(two_class_model, x, None, grid)
    assert sweep.success[-1].all()
    for i, eps in enumerate(grid[sweep.success.argmax(axis=0)]):
        x_fgsm = attacks.fgsm(
            two_class_model, x[i : i + 1], target[i : i + 1], eps=eps, targeted=True
        )
        assert _predict(two_class_model, x_fgsm).argmax(1)[0] == target[i]
        assert result.l2[i] <= np.linalg.norm(x_fgsm - x[i]) + 1e-6
    assert np.all(result.seconds > 0) and np.all(result.c > 0)


def test_lbfgs_leaves_examples_already_in_the_target_class(two_class_model):
    _random_weights(two_class_model, 16)
    x = np.random.default_rng(17).random((3, D), dtype=np.float32)
    pred = _predict(two_class_model, x).argmax(1)
    result = attacks.lbfgs_attack(two_class_model, x, pred)
    np.testing.assert_array_equal(result.x_adv, x)
    assert result.success.all() and np.all(result.l2 == 0) and np.all(np.isnan(result.c))


# --------------------------------------------------------------------------- XLA or graph runtime


class _HostScale(keras.layers.Layer):
    """Multiplies by 1.0 computed on the host (``tf.numpy_function``): an op XLA cannot compile."""

    def call(self, x):
        one = tf.numpy_function(lambda: np.float32(1.0), [], tf.float32, stateful=False)
        return x * tf.reshape(one, [])


def test_xla_is_used_for_dense_models_and_not_for_convolutions(monkeypatch):
    monkeypatch.delenv(environment.JIT_COMPILE, raising=False)
    dense = _dense(K)
    conv = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(K),
        ]
    )
    assert compiled.use_xla(dense) and not compiled.use_xla(conv)

    class Filters(keras.layers.Conv2D):  # a convolution whatever its class name says
        pass

    inner = keras.Sequential([keras.Input((6, 6, 1)), Filters(2, 3), keras.layers.Flatten()])
    nested = keras.Sequential([keras.Input((6, 6, 1)), inner, keras.layers.Dense(K)])
    assert not compiled.use_xla(nested)
    assert compiled.is_convolution(Filters(2, 3)) and not compiled.is_convolution(dense.layers[0])
    monkeypatch.setenv(environment.JIT_COMPILE, "0")
    assert not compiled.use_xla(dense)
    monkeypatch.setenv(environment.JIT_COMPILE, "1")
    assert compiled.use_xla(conv)


def test_fgsm_falls_back_to_the_graph_runtime_when_xla_cannot_compile(monkeypatch):
    monkeypatch.setenv(environment.JIT_COMPILE, "1")
    model = keras.Sequential([keras.Input((D,)), _HostScale(), keras.layers.Dense(1)])
    w = np.array([[1.0], [-2.0], [0.5], [-0.1], [3.0]], np.float32)
    model.set_weights([w, np.zeros(1, np.float32)])
    x = np.full((4, D), 0.5, np.float32)
    y = np.array([1, 0, 1, 0])
    x_adv = attacks.fgsm(model, x, y, eps=0.1)
    # logistic regression: FGSM is x − ε·y±·sign(w), with y± in {−1, +1}
    y_pm = np.where(y == 1, 1.0, -1.0)[:, None]
    np.testing.assert_allclose(x_adv, x - 0.1 * y_pm * np.sign(w[:, 0]), atol=1e-6)
    (runtime,) = [r for key, r in compiled.compiled_functions(model).items() if key[0] == "fgsm"]
    assert runtime == "graph"  # switched for good


def test_xla_and_graph_runtime_give_the_same_examples_on_a_linear_model(monkeypatch):
    model = _dense(K)
    _random_weights(model, seed=3)
    x = np.random.default_rng(0).uniform(size=(64, D)).astype(np.float32)
    y = np.arange(64) % K
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv(environment.JIT_COMPILE, flag)
        compiled.clear_compiled(model)
        results.append(attacks.fgsm(model, x, y, eps=0.2, clip=(0.0, 1.0)))
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize(
    ("labels", "targeted"),
    [(True, False), (False, False), (True, True)],
    ids=["y", "predicted", "targeted"],
)
def test_fgsm_on_arrays_runs_chunks_of_batches_with_the_very_same_examples(labels, targeted):
    """NumPy inputs under XLA: chunks of k batches per call (a loop), then the rest, one by one.

    The examples equal those of the tensor path, which calls once per batch, bit for bit.
    """
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((20,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)]
    )
    assert compiled.use_xla(model)
    k = compiled.chunk_batches(model, 4, (20,))
    assert k == compiled.MAX_CHUNK
    rng = np.random.default_rng(0)
    n = 2 * k * 4 + 6  # two whole chunks, then a batch of 4 and one of 2
    x = rng.uniform(0, 1, (n, 20)).astype(np.float32)
    y = rng.integers(0, 4, n) if labels else None
    options = dict(eps=0.1, clip=(0.0, 1.0), batch_size=4, targeted=targeted)
    chunked = attacks.fgsm(model, x, y, **options)
    one_by_one = attacks.fgsm(model, tf.constant(x), y, **options).numpy()
    np.testing.assert_array_equal(chunked, one_by_one)
    assert np.abs(chunked - x).max() > 0
    kinds = {key[-1] for key in compiled.compiled_functions(model) if key[0] == "fgsm"}
    assert kinds == {1, k}  # the chunked function and the one-batch one
    # A convolution keeps one batch per call (graph runtime).
    conv = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
    assert compiled.chunk_batches(conv, 4, (8, 8, 1)) == 1
