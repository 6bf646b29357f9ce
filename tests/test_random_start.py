"""AdversarialModel's random start and step size (Wong, Rice & Kolter 2020's FGSM training).

The options must leave the configs of the models trained before them unchanged,
reduce to the paper's FGSM step when the start is x and the step ε, and train on
x + δ₀ + a·sign(∇J(x + δ₀)) projected back on the ε-ball otherwise.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras.attacks import core
from advkeras.training import AdversarialModel

D, K, N = 6, 3, 20


def _mlp(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((D,)),
            keras.layers.Dense(8, activation="tanh", name="h0"),
            keras.layers.Dense(K, name="out"),
        ]
    )


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 1.0, (N, D)).astype(np.float32), np.arange(N) % K


def _ce(out: tf.Tensor, y: np.ndarray) -> tf.Tensor:
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out)


def _one_step(**options: object) -> list[np.ndarray]:
    x, y = _data()
    adv = AdversarialModel(_mlp(), eps=0.2, clip=(0.0, 1.0), seed=3, **options)
    adv.compile(optimizer=keras.optimizers.SGD(0.5))
    adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    return adv.base_model.get_weights()


def test_the_config_names_the_options_only_when_set():
    base = _mlp()
    default = AdversarialModel(base).get_config()
    assert "random_start" not in default and "step_size" not in default
    config = AdversarialModel(base, random_start=True, step_size=0.3).get_config()
    assert config["random_start"] is True and config["step_size"] == 0.3
    again = AdversarialModel.from_config(config)
    assert again.random_start and again.step_size == 0.3


def test_start_lies_in_the_ball_and_the_box_and_step_from_x_of_size_eps_is_fgsm():
    x, y = _data()
    adv = AdversarialModel(_mlp(), eps=0.3, clip=(0.0, 1.0), random_start=True, seed=0)
    x0 = adv.start(x).numpy()
    assert np.abs(x0 - x).max() <= 0.3 + 1e-6 and x0.min() >= 0.0 and x0.max() <= 1.0
    assert not np.array_equal(x0, x)
    g, _, _ = core.loss_gradient(adv.base_model, tf.constant(x), tf.constant(y), "logits")
    plain = AdversarialModel(adv.base_model, eps=0.3, clip=(0.0, 1.0))
    np.testing.assert_array_equal(plain.step_from(x, x, g).numpy(), plain.perturb(x, g).numpy())
    big = AdversarialModel(adv.base_model, eps=0.3, clip=(0.0, 1.0), step_size=0.6)
    moved = big.step_from(x, x0, g).numpy()
    assert np.abs(moved - x).max() <= 0.3 + 1e-6


def test_zero_start_and_a_step_of_eps_train_as_the_papers_fgsm():
    for got, expected in zip(_one_step(step_size=0.2), _one_step(), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_random_start_step_is_the_hand_computed_one():
    """One SGD step on J̃ at the adversarial point from x + δ₀, recomputed by hand."""
    x, y = _data()
    alpha, lr, eps, a = 0.5, 0.5, 0.2, 0.25
    adv = AdversarialModel(_mlp(), eps=eps, clip=(0.0, 1.0), seed=3, random_start=True, step_size=a)
    adv.compile(optimizer=keras.optimizers.SGD(lr))
    # The same δ₀ as the train step draws: a twin SeedGenerator in the same state.
    twin = keras.random.SeedGenerator(3)
    delta = core.random_eta((N, D), eps, "uniform_noise", twin)
    base = _mlp()
    x0 = tf.clip_by_value(x + delta, 0.0, 1.0)
    with tf.GradientTape() as tape:
        tape.watch(x0)
        j0 = tf.reduce_mean(_ce(base(x0), y))
    g = tape.gradient(j0, x0)
    x_adv = tf.clip_by_value(tf.clip_by_value(x0 + a * tf.sign(g), x - eps, x + eps), 0.0, 1.0)
    with tf.GradientTape() as tape:
        total = alpha * tf.reduce_mean(_ce(base(x), y)) + (1 - alpha) * tf.reduce_mean(
            _ce(base(x_adv), y)
        )
    grads = tape.gradient(total, base.trainable_variables)
    expected = [
        w.numpy() - lr * gw.numpy() for w, gw in zip(base.trainable_variables, grads, strict=True)
    ]
    adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(adv.base_model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_seed_sets_the_random_start():
    a = _one_step(random_start=True)
    b = _one_step(random_start=True)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not all(np.array_equal(u, v) for u, v in zip(a, _one_step(), strict=True))


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"random_start": "yes"}, "random_start"),
        ({"step_size": 0.0}, "step_size"),
        ({"step_size": float("inf")}, "step_size"),
        ({"random_start": True, "perturbation": "sign_noise"}, "random_start"),
        ({"step_size": 0.3, "targeted": "least_likely"}, "step_size"),
    ],
)
def test_bad_options_name_the_argument_and_value(options, argument):
    with pytest.raises(ValueError, match=rf"argument `{argument}`.*Expected .*Received"):
        AdversarialModel(_mlp(), **options)
