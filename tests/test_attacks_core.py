"""The perturbation core (advkeras.attacks.core): closed forms and properties of each piece."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from advkeras import attacks, losses
from advkeras.attacks import core

FAST = settings(max_examples=25, deadline=None)
finite = st.floats(-10.0, 10.0, width=32, allow_subnormal=False)  # CPUs flush subnormals
gradients = hnp.arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite)


def _linear(d: int, k: int, seed: int = 0) -> keras.Model:
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(k)])
    model.set_weights([rng.standard_normal((d, k)), 0.1 * rng.standard_normal(k)])
    return model


# --------------------------------------------------------------------------- labels


def test_labels_to_indices_reads_indices_one_hot_columns_and_pm1():
    assert core.labels_to_indices([2, 0, 1], "logits").numpy().tolist() == [2, 0, 1]
    assert core.labels_to_indices([[2], [0]], "probabilities").numpy().tolist() == [2, 0]
    one_hot = np.eye(3)[[1, 2]]
    assert core.labels_to_indices(one_hot, "independent").numpy().tolist() == [1, 2]
    for y in ([-1, 1, 1], [0, 1, 1], [[-1.0], [1.0], [1.0]], [False, True, True]):
        got = core.labels_to_indices(y, "binary_probability", dtype=tf.int32)
        assert got.dtype == tf.int32 and got.numpy().tolist() == [0, 1, 1]


@FAST
@given(out=hnp.arrays(np.float32, st.tuples(st.integers(1, 5), st.integers(2, 4)), elements=finite))
def test_predicted_and_least_likely_classes_follow_the_numpy_rule(out):
    for kind in ("logits", "probabilities", "independent"):
        np.testing.assert_array_equal(
            core.predicted_classes(out, kind).numpy(), losses.predicted_labels(out, kind)
        )
        np.testing.assert_array_equal(core.least_likely_classes(out, kind).numpy(), out.argmin(1))
    one = out[:, :1]
    for kind in ("binary_logit", "binary_probability"):
        predicted = core.predicted_classes(one, kind).numpy()
        np.testing.assert_array_equal(predicted, losses.predicted_labels(one, kind))
        np.testing.assert_array_equal(core.least_likely_classes(one, kind).numpy(), 1 - predicted)


def test_label_checks_fail_on_labels_the_model_cannot_take_when_run():
    @tf.function
    def check(y, kind, n):
        with tf.control_dependencies(core.label_checks(y, kind, n)):
            return tf.identity(y)

    check(tf.constant([0, 2]), "logits", 3)
    check(tf.constant([-1, 1]), "binary_logit", 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`y`: expected class indices"):
        check(tf.constant([0, 3]), "logits", 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`y`: expected binary labels"):
        check(tf.constant([0, 2]), "binary_logit", 1)


def test_log_probability_is_a_distribution_for_logits_and_the_output_for_independent_units():
    out = tf.constant([[0.3, -1.0, 2.0], [0.0, 0.0, 0.0]])
    total = sum(np.exp(core.log_probability(out, tf.constant([k, k]), "logits")) for k in range(3))
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)
    p = tf.constant([[0.2, 0.9]])
    log_p = core.log_probability(p, tf.constant([1]), "independent")
    np.testing.assert_allclose(log_p, np.log(0.9), rtol=1e-6)


# --------------------------------------------------------------------------- gradient


def test_loss_gradient_of_softmax_regression_is_p_minus_onehot_times_w_transposed():
    model = _linear(4, 3, seed=1)
    w, b = model.get_weights()
    x = np.random.default_rng(2).random((5, 4), dtype=np.float32)
    y = np.array([0, 1, 2, 1, 0])
    g, total, used = core.loss_gradient(model, tf.constant(x), tf.constant(y), "logits")
    z = x @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(g, (p - np.eye(3)[y]) @ w.T, atol=1e-5)
    assert float(total) == pytest.approx(-np.log(p[np.arange(5), y]).sum(), rel=1e-5)
    assert used.numpy().tolist() == y.tolist()
    # Without labels: the model's own predictions.
    _, _, predicted = core.loss_gradient(model, tf.constant(x), None, "logits")
    np.testing.assert_array_equal(predicted, z.argmax(1))


# --------------------------------------------------------------------------- step per norm


@FAST
@given(g=gradients)
def test_direction_has_unit_norm_and_ascends(g):
    tf_g = tf.constant(g)
    nonzero = np.abs(g).max(axis=1) > 0
    for norm, dual in (("inf", 1), (2, 2), (1, np.inf)):
        d = core.direction(tf_g, norm).numpy().astype(np.float64)
        length = np.linalg.norm(d, ord={"inf": np.inf, 2: 2, 1: 1}[norm], axis=1)
        np.testing.assert_allclose(length[nonzero], 1.0, rtol=1e-5)
        assert np.all(d[~nonzero] == 0)
        # ⟨g, d⟩ = ‖g‖_dual: the steepest ascent of the linearised cost.
        ascent = np.sum(g.astype(np.float64) * d, axis=1)
        np.testing.assert_allclose(
            ascent, np.linalg.norm(g, ord=dual, axis=1), rtol=1e-4, atol=1e-6
        )


def test_l2_direction_of_a_tiny_gradient_does_not_underflow():
    d = core.direction(tf.constant([[3e-30, -4e-30]]), 2).numpy()  # ‖g‖₂² underflows
    np.testing.assert_allclose(d, [[0.6, -0.8]], rtol=1e-6)


@FAST
@given(g=gradients, eps=st.one_of(st.just(0.0), st.floats(1e-3, 2.0)))
def test_optimize_linear_is_eps_times_the_direction_and_targeted_is_its_opposite(g, eps):
    for norm in ("inf", 2, 1):
        eta = core.optimize_linear(tf.constant(g), eps, norm).numpy()
        np.testing.assert_array_equal(eta, np.float32(eps) * core.direction(g, norm).numpy())
        targeted = core.optimize_linear(tf.constant(g), eps, norm, targeted=True).numpy()
        np.testing.assert_array_equal(targeted, -eta)


def test_norm_names_are_checked():
    with pytest.raises(ValueError, match="`norm`"):
        core.direction(tf.ones((1, 2)), 3)


# --------------------------------------------------------------------------- projection and clipping


@FAST
@given(
    eta=hnp.arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite),
    eps=st.floats(0.0, 3.0),
)
def test_clip_eta_projects_onto_the_ball_and_is_idempotent(eta, eps):
    for norm, order in (("inf", np.inf), (2, 2), (1, 1)):
        projected = core.clip_eta(tf.constant(eta), eps, norm).numpy()
        length = np.linalg.norm(projected.astype(np.float64), ord=order, axis=1)
        assert np.all(length <= eps * (1 + 1e-5) + 1e-6)
        again = core.clip_eta(tf.constant(projected), eps, norm).numpy()
        np.testing.assert_allclose(again, projected, rtol=1e-5, atol=1e-6)
        inside = np.linalg.norm(eta.astype(np.float64), ord=order, axis=1) <= eps
        np.testing.assert_allclose(projected[inside], eta[inside], rtol=1e-6)


def test_perturb_adds_and_clips_into_the_box():
    x = tf.constant([[0.9, 0.1, 0.5]])
    eta = tf.constant([[0.25, -0.25, 0.25]])
    np.testing.assert_allclose(core.perturb(x, eta), [[1.15, -0.15, 0.75]], rtol=1e-6)
    np.testing.assert_allclose(core.perturb(x, eta, (0.0, 1.0)), [[1.0, 0.0, 0.75]], rtol=1e-6)


def test_random_eta_has_max_norm_eps():
    sign = core.random_eta((500, 4), 0.3, "sign_noise", seed=0).numpy()
    np.testing.assert_allclose(np.abs(sign), 0.3)
    uniform = core.random_eta((500, 4), 0.3, "uniform_noise", seed=0).numpy()
    assert np.abs(uniform).max() <= 0.3 and np.abs(uniform).mean() == pytest.approx(0.15, abs=0.02)
    with pytest.raises(ValueError, match="`noise`"):
        core.random_eta((1, 1), 0.3, "gaussian")


# --------------------------------------------------------------------------- FGSM is the core's step


def _mlp(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(4),
        ]
    )


@pytest.mark.parametrize("clip", [(0.0, 1.0), None])
@pytest.mark.parametrize("labels", [True, False])
def test_fgsm_is_bit_for_bit_clip_of_x_plus_eps_sign_of_the_gradient(clip, labels):
    """The numbers FGSM gives: exactly clip(x + ε·sign(∇ₓΣJ)), from an eager plain-TF gradient."""
    model = _mlp(3)
    x = np.random.default_rng(4).random((40, 12), dtype=np.float32)
    y = np.arange(40) % 4
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = model(xt, training=False)
        target = tf.constant(y) if labels else tf.argmax(out, axis=-1)
        total = tf.reduce_sum(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=out)
        )
    expected = xt + np.float32(0.1) * tf.sign(tape.gradient(total, xt))
    if clip is not None:
        expected = tf.clip_by_value(expected, *clip)
    got = attacks.fgsm(model, x, y if labels else None, eps=0.1, clip=clip, batch_size=16)
    np.testing.assert_array_equal(got, expected.numpy())
    sweep = attacks.fgsm_sweep(model, x, y if labels else None, [0.1], clip=clip)
    wrong = model(expected).numpy().argmax(1) != (y if labels else out.numpy().argmax(1))
    np.testing.assert_array_equal(sweep.success[0], wrong)


def test_the_package_offers_the_names_of_the_former_module_attacks_py():
    import advkeras
    from advkeras.attacks import fast_gradient, lbfgs, noise, projected_gradient, rotation

    assert sorted(attacks.__all__) == [
        "LBFGSResult",
        "PGDMonitor",
        "SweepResult",
        "fgsm",
        "fgsm_sweep",
        "fooling_step",
        "gaussian_rubbish",
        "input_gradient",
        "lbfgs_attack",
        "pgd",
        "random_ball",
        "random_sign_noise",
        "rotate_toward_gradient",
        "uniform_noise",
    ]
    homes = {fast_gradient, lbfgs, noise, projected_gradient, rotation}
    for name in attacks.__all__:
        (home,) = [m for m in homes if name in m.__all__]
        assert getattr(attacks, name) is getattr(home, name)
    assert advkeras.fgsm is attacks.fgsm and advkeras.fgsm_sweep is attacks.fgsm_sweep
    assert advkeras.pgd is attacks.pgd
    assert attacks.DEFAULT_BATCH_SIZE == 1000
