"""AdversarialModel as an ordinary Keras model: compile's loss and metrics, save and load, inputs,
and the default training step against the same update written in plain TensorFlow."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras.pipeline import array_dataset
from advkeras.pylearn2 import MomentumSchedule, PaperSGD
from advkeras.training import AdversarialModel

D, K, N = 5, 3, 8


def make_data(seed: int = 0, n: int = N) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, D)).astype(np.float32)
    y = (np.arange(n) % K).astype(np.int64)
    w = rng.normal(0.0, 0.5, size=(D, K)).astype(np.float32)
    b = rng.normal(0.0, 0.1, size=(K,)).astype(np.float32)
    return x, y, w, b


def linear(w: np.ndarray, b: np.ndarray, activation: str | None = None) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((w.shape[0],)),
            keras.layers.Dense(
                w.shape[1],
                activation=activation,
                name="dense",
                kernel_initializer=keras.initializers.Constant(w),
                bias_initializer=keras.initializers.Constant(b),
            ),
        ]
    )


def fgsm_by_hand(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray, eps: float):
    """x + ε·sign(∇ₓJ) for the softmax cross-entropy of a linear model, in float64."""
    z = x.astype(np.float64) @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    gx = (p - np.eye(w.shape[1])[y]) @ w.T
    assert np.abs(gx).min() > 1e-5  # no sign ties
    return (x + eps * np.sign(gx)).astype(np.float32)


# --------------------------------------------------------------------------- the loss


def doubled_ce(y_true, y_pred):
    """Twice the softmax cross-entropy of logits (a plain function: no from_logits argument)."""
    return 2.0 * keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)


@pytest.mark.parametrize(
    ("activation", "loss", "scale"),
    [
        (None, keras.losses.SparseCategoricalCrossentropy(from_logits=True), 1.0),
        (None, doubled_ce, 2.0),
        ("softmax", "sparse_categorical_crossentropy", 1.0),
    ],
)
def test_a_compiled_loss_is_j(activation, loss, scale):
    """J = the given loss in both terms of J̃ and in ∇ₓJ: a loss c·CE trains as CE with c·lr."""
    x, y, w, b = make_data()
    weights, losses = [], []
    for given, lr in ((None, 0.5 * scale), (loss, 0.5)):
        adv = AdversarialModel(linear(w, b, activation), eps=0.1)
        adv.compile(optimizer=keras.optimizers.SGD(lr), loss=given)
        hist = adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0).history
        weights.append(adv.base_model.get_weights())
        losses.append(hist["loss"][0])
    for a, c in zip(*weights, strict=True):
        np.testing.assert_allclose(a, c, atol=1e-6)
    assert losses[1] == pytest.approx(scale * losses[0], rel=1e-5)


def test_a_binary_keras_loss_on_one_logit_equals_the_logistic_loss():
    x, y, w, b = make_data()
    y01 = y % 2
    weights = []
    for loss in (None, keras.losses.BinaryCrossentropy(from_logits=True)):
        adv = AdversarialModel(linear(w[:, :1], b[:1]), eps=0.1)
        adv.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
        adv.fit(x, y01, batch_size=N, epochs=1, shuffle=False, verbose=0)
        weights.append(adv.base_model.get_weights())
    for a, c in zip(*weights, strict=True):
        np.testing.assert_allclose(a, c, atol=1e-6)


@pytest.mark.parametrize(
    ("activation", "loss", "expected"),
    [
        (None, keras.losses.SparseCategoricalCrossentropy(), "from_logits=True"),
        (None, "sparse_categorical_crossentropy", "from_logits=True"),
        (
            "softmax",
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "from_logits=False",
        ),
        ("sigmoid", keras.losses.BinaryCrossentropy(from_logits=True), "from_logits=False"),
    ],
)
def test_a_loss_that_misreads_the_output_is_refused(activation, loss, expected):
    _, _, w, b = make_data()
    adv = AdversarialModel(linear(w, b, activation))
    with pytest.raises(ValueError, match=f"`loss`.*{expected}"):
        adv.compile(optimizer="sgd", loss=loss)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"loss": 3}, "loss"),
        ({"loss": "no_such_loss"}, "loss"),
        ({"loss_weights": [1.0]}, "loss_weights"),
        ({"metrics": [keras.metrics.SparseCategoricalAccuracy(name="adv_loss")]}, r"metrics\[0\]"),
        ({"metrics": ["mae", "mae"]}, r"metrics\[1\]"),
        ({"metrics": {"dense": "mae"}}, "metrics"),
        ({"weighted_metrics": [42]}, r"weighted_metrics\[0\]"),
    ],
)
def test_compile_rejects_bad_arguments(kwargs, argument):
    _, _, w, b = make_data()
    adv = AdversarialModel(linear(w, b))
    with pytest.raises(ValueError, match=argument):
        adv.compile(optimizer="sgd", **kwargs)


# --------------------------------------------------------------------------- metrics


def test_metrics_are_the_metrics_property_and_weighted_by_sample_weight():
    """accuracy/adv_accuracy and weighted_metrics are weighted means; metrics are not weighted."""
    x, y, w, b = make_data(n=12)
    sw = np.linspace(0.5, 2.0, 12).astype(np.float32)
    adv = AdversarialModel(linear(w, b), eps=0.1)
    adv.compile(
        optimizer=keras.optimizers.SGD(0.1),
        metrics=["accuracy", keras.metrics.SparseCategoricalAccuracy(name="plain")],
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="weighted")],
    )
    names = [m.name for m in adv.metrics]
    assert names == [
        "loss",
        "clean_loss",
        "adv_loss",
        "accuracy",
        "adv_accuracy",
        "plain",
        "weighted",
        "adv_plain",
        "adv_weighted",
    ]
    logs = adv.evaluate(x, y, sample_weight=sw, batch_size=5, verbose=0, return_dict=True)
    assert sorted(logs) == sorted(names)
    assert logs == pytest.approx({m.name: float(m.result()) for m in adv.metrics})
    correct = (x @ w + b).argmax(1) == y
    correct_adv = (fgsm_by_hand(w, b, x, y, 0.1) @ w + b).argmax(1) == y
    assert 0 < correct.mean() < 1 and 0 < correct_adv.mean() < 1
    weighted = float((sw * correct).sum() / sw.sum())
    weighted_adv = float((sw * correct_adv).sum() / sw.sum())
    assert logs["accuracy"] == pytest.approx(weighted, abs=1e-6)
    assert logs["weighted"] == pytest.approx(weighted, abs=1e-6)
    assert logs["plain"] == pytest.approx(correct.mean(), abs=1e-6)
    assert logs["adv_accuracy"] == pytest.approx(weighted_adv, abs=1e-6)
    assert logs["adv_weighted"] == pytest.approx(weighted_adv, abs=1e-6)
    assert logs["adv_plain"] == pytest.approx(correct_adv.mean(), abs=1e-6)
    # fit logs the same names, val_ prefixed on validation data; clean training has no adv_.
    hist = adv.fit(x, y, epochs=1, batch_size=6, validation_data=(x, y), verbose=0).history
    assert set(hist) == set(names) | {f"val_{n}" for n in names}
    clean = AdversarialModel(linear(w, b), perturbation="none", eps=0.0)
    clean.compile(
        optimizer="sgd", metrics=[keras.metrics.SparseCategoricalCrossentropy(from_logits=True)]
    )
    assert [m.name for m in clean.metrics][-1] == "sparse_categorical_crossentropy"
    assert not any(m.name.startswith("adv_") for m in clean.metrics)
    hist = clean.fit(x, y, epochs=1, verbose=0).history
    assert set(hist) == {"loss", "clean_loss", "accuracy", "sparse_categorical_crossentropy"}
    np.testing.assert_allclose(
        hist["sparse_categorical_crossentropy"], hist["clean_loss"], rtol=1e-6
    )


def test_accuracy_reads_a_binary_logit_as_keras_cannot():
    """One logit z: predicted class 1 iff z > 0 (Keras' BinaryAccuracy would threshold at .5)."""
    x = np.linspace(-1.0, 1.0, 10, dtype=np.float32)[:, None]
    y = (x[:, 0] > -0.25).astype(np.int64)  # z = x: right for x > 0 and for x <= -0.25
    base = linear(np.ones((1, 1), np.float32), np.zeros(1, np.float32))
    adv = AdversarialModel(base, eps=0.0)
    adv.compile(optimizer="sgd", metrics=["accuracy"])
    logs = adv.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(np.mean((x[:, 0] > 0) == y))


# --------------------------------------------------------------------------- inputs, save and load


def test_several_inputs_are_refused():
    a, c = keras.Input((2,)), keras.Input((3,))
    two = keras.Model([a, c], keras.layers.Dense(3)(keras.layers.Concatenate()([a, c])))
    with pytest.raises(ValueError, match="base_model.*one input"):
        AdversarialModel(two)
    x, y, w, b = make_data()
    adv = AdversarialModel(linear(w, b))
    adv.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="`x`"):
        adv.fit((x, x), y, epochs=1, verbose=0)


def test_save_and_load_keep_the_loss_metrics_and_optimizer_state(tmp_path):
    x, y, w, b = make_data(n=16)
    adv = AdversarialModel(linear(w, b), eps=0.1)
    adv.compile(
        optimizer=PaperSGD(0.1, momentum=0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
    )
    adv.fit(x, y, batch_size=8, epochs=1, verbose=0)
    adv.save(tmp_path / "adv.keras")
    loaded = keras.saving.load_model(tmp_path / "adv.keras")
    assert isinstance(loaded, AdversarialModel)
    assert [m.name for m in loaded.metrics] == [m.name for m in adv.metrics]
    assert isinstance(loaded.loss, keras.losses.SparseCategoricalCrossentropy)
    assert isinstance(loaded.optimizer, PaperSGD) and loaded.optimizer.momentum == 0.5
    want = adv.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert got == pytest.approx(want, abs=1e-6)
    # Both continue training the same way (the optimizer's momentum slots came back too).
    adv.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, c in zip(adv.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_allclose(a, c, atol=1e-6)
    # The base model alone saves and loads as any Keras model.
    adv.base_model.save(tmp_path / "base.keras")
    base = keras.saving.load_model(tmp_path / "base.keras")
    np.testing.assert_allclose(base.predict(x, verbose=0), adv.predict(x, verbose=0), atol=1e-6)


# --------------------------------------------------------------------------- the default update


def test_default_fit_is_the_pylearn2_update_of_j_tilde_in_plain_tensorflow():
    """compile() with no argument: paper_sgd (lr .1 / 1.000004 per step, momentum), ε .25, α .5;
    with MomentumSchedule .5 → .7 over epochs 1–2. Four steps against a hand-written loop."""
    x, y, w, b = make_data(n=8)
    adv = AdversarialModel(linear(w, b))
    adv.compile()
    adv.fit(
        array_dataset(x, y, batch_size=4),
        epochs=2,
        shuffle=False,
        callbacks=[MomentumSchedule(0.5, 0.7, 1, 2)],
        verbose=0,
    )
    kernel, bias = tf.Variable(w), tf.Variable(b)
    slots = [tf.zeros_like(w), tf.zeros_like(b)]
    step = 0
    for momentum in (0.5, 0.7):
        for i in (0, 4):
            xb, yb = tf.constant(x[i : i + 4]), tf.constant(y[i : i + 4])

            def j(inputs, labels=yb):
                logits = tf.matmul(inputs, kernel) + bias
                return tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
                )

            with tf.GradientTape(persistent=True) as tape:
                tape.watch(xb)
                clean = j(xb)
            x_adv = xb + 0.25 * tf.sign(tape.gradient(clean, xb))
            grads_clean = tape.gradient(clean, [kernel, bias])
            with tf.GradientTape() as tape:
                perturbed = j(x_adv)
            grads_adv = tape.gradient(perturbed, [kernel, bias])
            grads = [0.5 * gc + 0.5 * ga for gc, ga in zip(grads_clean, grads_adv, strict=True)]
            lr = 0.1 / 1.000004**step
            for k, (var, g) in enumerate(zip((kernel, bias), grads, strict=True)):
                slots[k] = momentum * slots[k] - lr * g
                var.assign_add(slots[k])
            step += 1
    got_kernel, got_bias = adv.base_model.get_weights()
    np.testing.assert_allclose(got_kernel, kernel.numpy(), atol=1e-6)
    np.testing.assert_allclose(got_bias, bias.numpy(), atol=1e-6)
