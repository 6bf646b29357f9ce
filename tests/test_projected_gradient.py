"""advkeras.attacks.pgd: the ball and the box, FGSM as its one-step case, never weaker than FGSM."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from advkeras import attacks, losses
from advkeras.attacks import compiled, core

D, K = 12, 3
DERANDOMISED = settings(max_examples=20, deadline=None, derandomize=True, database=None)


def _mlp(seed: int = 0) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((D,)),
            keras.layers.Dense(
                16, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
            ),
            keras.layers.Dense(K, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ]
    )


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes, each a blob of [0, 1]^D around its own corner."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % K
    centres = rng.random((K, D))
    x = np.clip(centres[y] + 0.15 * rng.standard_normal((n, D)), 0.0, 1.0)
    return x.astype(np.float32), y


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return _mlp()


@pytest.fixture(scope="module")
def trained() -> tuple[keras.Model, np.ndarray, np.ndarray]:
    keras.utils.set_random_seed(0)
    net = _mlp(seed=5)
    x, y = _data(600)
    net.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    net.fit(x, y, epochs=30, batch_size=50, verbose=0)
    x_test, y_test = _data(300, seed=1)
    return net, x_test, y_test


def _loss(net: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return losses.per_example_loss("logits")(y, net(x, training=False)).numpy()


@DERANDOMISED
@given(
    eps=st.floats(0.01, 0.6),
    steps=st.integers(1, 6),
    ratio=st.floats(0.1, 2.0),
    norm=st.sampled_from(["inf", 2]),
    clipped=st.booleans(),
    start=st.booleans(),
    seed=st.integers(0, 2**16),
    best=st.booleans(),
)
def test_pgd_stays_in_the_ball_and_the_box(
    model, eps, steps, ratio, norm, clipped, start, seed, best
):
    x, y = _data(17, seed)
    clip = (0.0, 1.0) if clipped else None
    x_adv = attacks.pgd(
        model,
        x,
        y,
        eps=eps,
        steps=steps,
        step_size=ratio * eps,
        norm=norm,
        clip=clip,
        random_start=start,
        seed=seed,
        keep_best=best,
    )
    delta = (x_adv - x).reshape(len(x), -1)
    size = np.abs(delta).max(axis=1) if norm == "inf" else np.linalg.norm(delta, axis=1)
    assert (size <= eps * (1 + 1e-5) + 1e-6).all()
    if clipped:
        assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0


@pytest.mark.parametrize(("targeted", "labels"), [(False, True), (False, False), (True, True)])
def test_one_step_of_size_eps_without_random_start_is_fgsm_exactly(trained, targeted, labels):
    net, x, y = trained
    y_given = (y + 1) % K if targeted else (y if labels else None)
    for eps in (0.05, 0.25):
        expected = attacks.fgsm(net, x, y_given, eps=eps, targeted=targeted)
        got = attacks.pgd(
            net, x, y_given, eps=eps, steps=1, step_size=eps, random_start=False, targeted=targeted
        )
        np.testing.assert_array_equal(got, expected)


def test_l2_one_step_matches_l2_fgsm(trained):
    net, x, y = trained
    expected = attacks.fgsm(net, x, y, eps=0.5, norm=2, clip=None)
    got = attacks.pgd(
        net, x, y, eps=0.5, steps=1, step_size=0.5, random_start=False, norm=2, clip=None
    )
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("eps", [0.1, 0.3])
def test_pgd_is_never_weaker_than_fgsm_on_a_trained_model(trained, eps):
    """More errors and a higher mean cost than FGSM at the same ε.

    Not example by example: PGD's small steps can end in a local maximum below
    FGSM's corner of the ball for a few examples (measured in chapter 12).
    """
    net, x, y = trained
    x_fgsm = attacks.fgsm(net, x, y, eps=eps)
    x_pgd = attacks.pgd(net, x, y, eps=eps, steps=20, step_size=eps / 4, seed=0)
    fgsm_loss, pgd_loss = _loss(net, x_fgsm, y), _loss(net, x_pgd, y)
    assert pgd_loss.mean() > fgsm_loss.mean()
    wrong = [np.mean(net(a, training=False).numpy().argmax(1) != y) for a in (x_fgsm, x_pgd)]
    assert wrong[1] >= wrong[0]


@pytest.mark.parametrize("targeted", [False, True])
@pytest.mark.parametrize("eps", [0.1, 0.3])
def test_keep_best_is_never_weaker_than_fgsm_or_the_last_iterate_example_by_example(
    trained, eps, targeted
):
    """With ``keep_best`` FGSM's example and the last iterate are candidates: no example loses."""
    net, x, y = trained
    labels = (y + 1) % K if targeted else y
    x_fgsm = attacks.fgsm(net, x, labels, eps=eps, targeted=targeted)
    kwargs = {"eps": eps, "steps": 20, "step_size": eps / 4, "seed": 0, "targeted": targeted}
    x_last = attacks.pgd(net, x, labels, **kwargs)
    x_best = attacks.pgd(net, x, labels, keep_best=True, **kwargs)
    sign = -1.0 if targeted else 1.0  # a targeted attack lowers the target's cost
    best = sign * _loss(net, x_best, labels)
    for other in (x_fgsm, x_last):
        reference = sign * _loss(net, other, labels)
        assert (best >= reference - 1e-5 * (1.0 + np.abs(reference))).all()
    # and it is a real choice: on some examples the last iterate is not the best point
    assert not np.array_equal(x_best, x_last)
    assert np.abs(x_best - x).max() <= eps + 1e-6 and 0.0 <= x_best.min() <= x_best.max() <= 1.0


def test_targeted_pgd_lowers_the_targets_cost(trained):
    net, x, y = trained
    target = (y + 1) % K
    before = _loss(net, x, target)
    after = _loss(
        net, attacks.pgd(net, x, target, eps=0.3, steps=10, targeted=True, seed=0), target
    )
    assert after.mean() < before.mean()


def test_a_fixed_seed_gives_identical_examples_whatever_the_batch(trained):
    net, x, y = trained
    a = attacks.pgd(net, x, y, eps=0.2, steps=5, seed=7)
    b = attacks.pgd(net, x, y, eps=0.2, steps=5, seed=7, batch_size=64)
    c = attacks.pgd(net, x, y, eps=0.2, steps=5, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_tensor_inputs_give_tensors_and_a_new_eps_or_k_does_not_retrace(trained):
    net, x, y = trained
    out = attacks.pgd(net, tf.constant(x), y, eps=0.2, steps=3, seed=1)
    assert tf.is_tensor(out)
    np.testing.assert_array_equal(out.numpy(), attacks.pgd(net, x, y, eps=0.2, steps=3, seed=1))
    before = compiled.trace_count("pgd")
    attacks.pgd(net, x, y, eps=0.3, steps=7, step_size=0.05, seed=1)
    assert compiled.trace_count("pgd") == before


def test_a_conv_net_runs_written_out_steps_that_match_an_eager_loop():
    """The graph runtime unrolls the k steps: same iterates as k eager steps, one trace per k."""
    net = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(
                3, 3, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(0)
            ),
            keras.layers.Flatten(),
            keras.layers.Dense(K, kernel_initializer=keras.initializers.GlorotUniform(1)),
        ]
    )
    assert compiled.unrolled_steps(net, 4) == 4
    rng = np.random.default_rng(0)
    x = rng.random((5, 6, 6, 1), dtype=np.float32)
    y = np.arange(5) % K
    eps, a, k = 0.2, 0.07, 4
    got = attacks.pgd(net, x, y, eps=eps, step_size=a, steps=k, seed=3)
    expected = tf.constant(x + attacks.random_ball(x.shape, eps, "inf", 3))
    expected = core.project(expected, tf.constant(x), eps, "inf", (0.0, 1.0))
    for _ in range(k):
        g, _, _ = core.loss_gradient(net, expected, tf.constant(y), "logits")
        moved = core.perturb(expected, core.optimize_linear(g, a), (0.0, 1.0))
        expected = core.project(moved, tf.constant(x), eps, "inf", (0.0, 1.0))
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-6)
    before = compiled.trace_count("pgd")
    attacks.pgd(net, x, y, eps=0.1, step_size=a, steps=k, seed=3)  # a new ε: no new trace
    assert compiled.trace_count("pgd") == before
    attacks.pgd(net, x, y, eps=eps, step_size=a, steps=k + 1, seed=3)  # a new k: one
    assert compiled.trace_count("pgd") == before + 1


def test_random_ball_is_uniform_in_the_linf_ball_and_inside_the_l2_ball():
    d = attacks.random_ball((4000, 3), 0.5, seed=0)
    assert np.abs(d).max() <= 0.5
    assert abs(float(np.mean(np.abs(d))) - 0.25) < 0.01  # E|U(-ε, ε)| = ε/2
    r = np.linalg.norm(attacks.random_ball((4000, 2), 1.0, 2, seed=0), axis=1)
    assert r.max() <= 1.0 + 1e-6
    assert abs(float(np.mean(r**2)) - 0.5) < 0.02  # uniform in a disc: E r² = ε²/2


def test_project_keeps_points_inside_the_linf_ball_bit_for_bit():
    x = tf.constant([[0.3, 0.7]])
    inside = x + tf.constant([[0.25, -0.25]])
    np.testing.assert_array_equal(core.project(inside, x, 0.25).numpy(), inside.numpy())


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"eps": -0.1}, "eps"),
        ({"eps": 0.1, "steps": 0}, "steps"),
        ({"eps": 0.1, "steps": 2.5}, "steps"),
        ({"eps": 0.1, "step_size": 0.0}, "step_size"),
        ({"eps": 0.1, "step_size": float("nan")}, "step_size"),
        ({"eps": 0.1, "norm": 1}, "norm"),
        ({"eps": 0.1, "norm": 3}, "norm"),
        ({"eps": 0.1, "random_start": "yes"}, "random_start"),
        ({"eps": 0.1, "keep_best": 1}, "keep_best"),
        ({"eps": 0.1, "seed": "abc"}, "seed"),
        ({"eps": 0.1, "clip": (1.0, 0.0)}, "clip"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(model, kwargs, argument):
    x, y = _data(4)
    with pytest.raises(ValueError, match=rf"argument `{argument}`.*Expected .*Received"):
        attacks.pgd(model, x, y, **kwargs)


def test_a_targeted_attack_without_targets_and_inputs_outside_the_box_are_refused(model):
    x, _ = _data(4)
    with pytest.raises(ValueError, match="argument `y`"):
        attacks.pgd(model, x, eps=0.1, targeted=True)
    with pytest.raises(ValueError, match="argument `x`"):
        attacks.pgd(model, x * 255, eps=0.1)


def test_pgd_monitor_logs_the_pgd_error_of_the_trained_weights():
    """The last epoch's ``val_pgd_error`` is the PGD error of the final weights, same start."""
    keras.utils.set_random_seed(0)
    net = _mlp(seed=9)
    net.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = _data(120)
    x_val, y_val = _data(40, seed=2)
    monitor = attacks.PGDMonitor(x_val, y_val, eps=0.2, steps=4, seed=3)
    history = net.fit(x, y, epochs=2, batch_size=40, verbose=0, callbacks=[monitor])
    x_adv = attacks.pgd(net, x_val, y_val, eps=0.2, steps=4, seed=3)
    wrong = np.mean(net(x_adv, training=False).numpy().argmax(1) != y_val)
    assert history.history["val_pgd_error"][-1] == pytest.approx(wrong)
    assert monitor.get_config()["n"] == 40 and monitor.get_config()["steps"] == 4
    with pytest.raises(ValueError, match="argument `y`"):
        attacks.PGDMonitor(x_val, y_val[:3], eps=0.2)
    with pytest.raises(ValueError, match="argument `steps`"):
        attacks.PGDMonitor(x_val, y_val, eps=0.2, steps=0)
