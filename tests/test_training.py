"""Tests of advkeras.training (the J̃ update against closed forms, plumbing), with
fit_classifier (advkeras.fitting) and the §5 closed form (advkeras.losses) that it trains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras import losses
from advkeras.fitting import fit_classifier
from advkeras.losses import adversarial_logistic_objective
from advkeras.pipeline import array_dataset
from advkeras.pylearn2 import (
    PaperSGD,
    paper_sgd,
)
from advkeras.training import AdversarialModel

D, K, N = 5, 3, 8


def _data(seed: int = 0, n: int = N, d: int = D, k: int = K):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, d)).astype(np.float32)
    y = (np.arange(n) % k).astype(np.int64)
    w = rng.normal(0.0, 0.5, size=(d, k)).astype(np.float32)
    b = rng.normal(0.0, 0.1, size=(k,)).astype(np.float32)
    return x, y, w, b


def _softmax_model(w: np.ndarray, b: np.ndarray, name: str = "dense") -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((w.shape[0],)),
            keras.layers.Dense(
                w.shape[1],
                name=name,
                kernel_initializer=keras.initializers.Constant(w),
                bias_initializer=keras.initializers.Constant(b),
            ),
        ]
    )


def _hand_grads(w, b, x, y):
    """Mean softmax cross-entropy of a linear model: (dJ/dW, dJ/db, dJ/dx, J), float64."""
    w, b, x = (np.asarray(a, np.float64) for a in (w, b, x))
    z = x @ w + b
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.eye(w.shape[1])[y]
    delta = (p - onehot) / len(x)
    j = -np.mean(np.log(p[np.arange(len(x)), y]))
    return x.T @ delta, delta.sum(axis=0), delta @ w.T, j


def _hand_step(w, b, x, y, *, eps, alpha, lr):
    """One SGD step on J̃ = αJ(x) + (1−α)J(x + ε sign ∇ₓJ), ∇ₓJ held constant."""
    gw, gb, gx, j_clean = _hand_grads(w, b, x, y)
    assert np.abs(gx).min() > 1e-5  # no sign ties in the test data
    x_adv = x + eps * np.sign(gx)
    gw2, gb2, _, j_adv = _hand_grads(w, b, x_adv, y)
    w1 = w - lr * (alpha * gw + (1 - alpha) * gw2)
    b1 = b - lr * (alpha * gb + (1 - alpha) * gb2)
    return w1, b1, alpha * j_clean + (1 - alpha) * j_adv


# ---------------------------------------------------------------------------
# The update is the gradient of J̃
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("jit_compile", [False, True])
def test_one_sgd_step_equals_hand_computed_update(jit_compile):
    x, y, w, b = _data()
    adv = AdversarialModel(_softmax_model(w, b), eps=0.1, alpha=0.5)
    adv.compile(optimizer=keras.optimizers.SGD(0.5), jit_compile=jit_compile)
    hist = adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    w1, b1, j_tilde = _hand_step(w, b, x, y, eps=0.1, alpha=0.5, lr=0.5)
    kernel, bias = adv.base_model.get_layer("dense").get_weights()
    np.testing.assert_allclose(kernel, w1, atol=1e-5)
    np.testing.assert_allclose(bias, b1, atol=1e-5)
    assert hist.history["loss"][0] == pytest.approx(j_tilde, abs=1e-5)
    # The test step (FGSM at evaluation, also compiled) agrees with the hand computation.
    _, _, gx, j_clean = _hand_grads(kernel, bias, x, y)
    _, _, _, j_adv = _hand_grads(kernel, bias, x + 0.1 * np.sign(gx), y)
    logs = adv.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    assert logs["clean_loss"] == pytest.approx(j_clean, abs=1e-5)
    assert logs["adv_loss"] == pytest.approx(j_adv, abs=1e-5)


def test_alpha_one_equals_clean_training_and_alpha_matters():
    x, y, w, b = _data(1)
    weights = {}
    for label, kwargs in {
        "alpha1": {"alpha": 1.0, "perturbation": "fgsm"},
        "clean": {"perturbation": "none"},
        "alpha0": {"alpha": 0.0, "perturbation": "fgsm"},
    }.items():
        adv = AdversarialModel(_softmax_model(w, b), eps=0.2, **kwargs)
        adv.compile(optimizer=keras.optimizers.SGD(0.5))
        adv.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        weights[label] = adv.base_model.get_layer("dense").get_weights()[0]
    np.testing.assert_allclose(weights["alpha1"], weights["clean"], atol=1e-6)
    assert np.abs(weights["alpha0"] - weights["clean"]).max() > 1e-3


def test_logistic_regression_with_pm1_labels_follows_the_closed_form_gradient():
    """alpha=0 FGSM training of logistic regression = gradient step on ζ(ε‖w‖₁ − y(wᵀx+b))."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, size=(N, D)).astype(np.float32)
    y_pm = np.where(np.arange(N) % 2 == 0, 1, -1)
    w0 = rng.normal(0, 0.5, size=(D, 1)).astype(np.float32)

    def make():
        return _softmax_model(w0, np.zeros(1, np.float32))

    ref = make()
    with tf.GradientTape() as tape:
        obj = adversarial_logistic_objective(ref, x, y_pm, 0.2)
    grads = tape.gradient(obj, ref.trainable_variables)
    expected = [
        v.numpy() - 0.5 * g.numpy() for v, g in zip(ref.trainable_variables, grads, strict=True)
    ]

    adv = AdversarialModel(make(), eps=0.2, alpha=0.0)
    assert adv.output_kind == "binary_logit"
    adv.compile(optimizer=keras.optimizers.SGD(0.5))
    adv.fit(x, y_pm, batch_size=N, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(adv.base_model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_closed_form_logistic_objective_equals_loss_at_optimal_perturbation():
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, size=(20, D)).astype(np.float32)
    y_pm = rng.choice([-1, 1], size=20)
    w = rng.normal(0, 1, size=(D, 1)).astype(np.float32)
    model = _softmax_model(w, np.array([0.3], np.float32))
    eps = 0.25
    eta = -eps * y_pm[:, None] * np.sign(w[:, 0])[None, :]
    direct = losses.logistic_loss(y_pm.astype(np.float32), model(x + eta)[:, 0]).numpy()
    closed = adversarial_logistic_objective(model, x, y_pm, eps, reduction="none").numpy()
    np.testing.assert_allclose(closed, direct, atol=1e-5)
    # {0, 1} labels mean the same thing (0 -> -1).
    closed01 = adversarial_logistic_objective(model, x, (y_pm > 0).astype(int), eps).numpy()
    assert closed01 == pytest.approx(direct.mean(), abs=1e-5)
    # And the FGSM validation loss of AdversarialModel is that closed form (FGSM is exact here).
    adv = AdversarialModel(model, eps=eps)
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    logs = adv.evaluate(x, y_pm, batch_size=20, verbose=0, return_dict=True)
    assert logs["adv_loss"] == pytest.approx(direct.mean(), abs=1e-5)


# ---------------------------------------------------------------------------
# Cost and plumbing
# ---------------------------------------------------------------------------


class _CallCounter(keras.layers.Layer):
    """Identity layer counting how many times the graph runs it (and in training mode)."""

    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")
        self.training_calls = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="training_calls"
        )

    def call(self, inputs, training=None):
        self.calls.assign_add(1.0)
        if training:
            self.training_calls.assign_add(1.0)
        return inputs


@pytest.mark.parametrize(
    ("perturbation", "expected"), [("fgsm", 2), ("uniform_noise", 2), ("none", 1)]
)
def test_forward_passes_per_train_step(perturbation, expected):
    x, y, w, b = _data()
    counter = _CallCounter()
    base = keras.Sequential([keras.Input((D,)), counter, keras.layers.Dense(K)])
    adv = AdversarialModel(base, eps=0.1, perturbation=perturbation)
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    counter.calls.assign(0.0)
    counter.training_calls.assign(0.0)
    adv.fit(x, y, batch_size=2, epochs=1, verbose=0)
    steps = N // 2
    assert float(counter.calls.numpy()) == expected * steps
    # Both passes run the base model in training mode (dropout on).
    assert float(counter.training_calls.numpy()) == expected * steps
    # Evaluation: clean + FGSM pass per batch, in inference mode.
    adv.evaluate(x, y, batch_size=2, verbose=0)
    assert float(counter.calls.numpy()) == expected * steps + 2 * steps
    assert float(counter.training_calls.numpy()) == expected * steps


def test_history_has_the_documented_metrics():
    x, y, w, b = _data()
    adv = AdversarialModel(_softmax_model(w, b), eps=0.1)
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    hist = adv.fit(x, y, batch_size=4, epochs=2, validation_data=(x, y), verbose=0).history
    names = {"loss", "clean_loss", "adv_loss", "accuracy", "adv_accuracy"}
    assert set(hist) == names | {f"val_{n}" for n in names}
    for key in ("accuracy", "adv_accuracy", "val_accuracy", "val_adv_accuracy"):
        assert all(0.0 <= v <= 1.0 for v in hist[key])
    # Validation loss is J̃ at FGSM examples: between its two terms for alpha = .5.
    for i in range(2):
        lo, hi = sorted((hist["val_clean_loss"][i], hist["val_adv_loss"][i]))
        assert lo - 1e-6 <= hist["val_loss"][i] <= hi + 1e-6


@pytest.mark.parametrize("kind", ["sign_noise", "uniform_noise"])
def test_noise_perturbations_are_bounded_by_eps(kind):
    x = tf.constant(np.full((200, 10), 0.5, np.float32))
    _, _, w, b = _data(d=10)
    adv = AdversarialModel(_softmax_model(w, b), eps=0.3, perturbation=kind, seed=1)
    eta = (adv.perturb(x) - x).numpy()
    assert np.abs(eta).max() <= 0.3 + 1e-6
    assert (eta > 0).mean() == pytest.approx(0.5, abs=0.05)
    if kind == "sign_noise":
        np.testing.assert_allclose(np.abs(eta), 0.3, atol=1e-6)
    else:
        assert np.abs(eta).mean() == pytest.approx(0.15, abs=0.01)
    clipped = AdversarialModel(
        _softmax_model(w, b), eps=0.8, perturbation=kind, clip=(0.0, 1.0), seed=1
    ).perturb(x)
    assert 0.0 <= float(tf.reduce_min(clipped)) and float(tf.reduce_max(clipped)) <= 1.0


def test_l1_penalty_adds_coef_times_abs_kernel_sum():
    x, y, w, b = _data()
    adv = AdversarialModel(_softmax_model(w, b), perturbation="none", l1=("dense", 0.01))
    assert float(adv.regularization_loss()) == pytest.approx(0.01 * np.abs(w).sum(), rel=1e-5)
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    logs = adv.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["clean_loss"] + 0.01 * np.abs(w).sum(), abs=1e-5)
    # The L1 gradient is in the update: coef·sign(W) on top of the plain step.
    adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    gw, *_ = _hand_grads(w, b, x, y)
    expected = w - 0.1 * (gw + 0.01 * np.sign(w))
    np.testing.assert_allclose(
        adv.base_model.get_layer("dense").kernel.numpy(), expected, atol=1e-6
    )


def test_keras_round_trip_of_adversarial_and_base_model(tmp_path):
    x, y, w, b = _data()
    adv = AdversarialModel(
        _softmax_model(w, b), eps=0.2, alpha=0.3, clip=(0.0, 1.0), l1=("dense", 0.001)
    )
    adv.compile(optimizer=paper_sgd())
    adv.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = tmp_path / "adv.keras"
    adv.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, AdversarialModel)
    assert (loaded.eps, loaded.alpha, loaded.clip, loaded.l1) == (
        0.2,
        0.3,
        (0.0, 1.0),
        ("dense", 0.001),
    )
    assert loaded.perturbation == "fgsm" and loaded.output_kind == "logits"
    np.testing.assert_allclose(loaded.predict(x, verbose=0), adv.predict(x, verbose=0), atol=1e-6)
    assert isinstance(loaded.optimizer, PaperSGD)
    assert int(loaded.optimizer.iterations.numpy()) == 2
    base_path = tmp_path / "base.keras"
    adv.base_model.save(base_path)
    base = keras.saving.load_model(base_path)
    np.testing.assert_allclose(base.predict(x, verbose=0), adv.predict(x, verbose=0), atol=1e-6)


def test_mixed_precision_step_is_finite():
    x, y, *_ = _data()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        base = keras.Sequential(
            [keras.Input((D,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(K)]
        )
        adv = AdversarialModel(base, eps=0.1)
        adv.compile(optimizer=keras.optimizers.SGD(0.1))
        assert isinstance(adv.optimizer, keras.optimizers.LossScaleOptimizer)
        before = [v.numpy().copy() for v in base.trainable_variables]
        hist = adv.fit(x, y, batch_size=N, epochs=1, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.isfinite(hist[k][0]) for k in ("loss", "clean_loss", "adv_loss"))
    after = [v.numpy() for v in base.trainable_variables]
    assert any(np.abs(a - b0).max() > 0 for a, b0 in zip(after, before, strict=True))


_MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras
    import numpy as np
    from advkeras.training import AdversarialModel
    args = json.loads(sys.argv[1])
    x, y = np.array(args["x"], np.float32), np.array(args["y"])
    w, b = np.array(args["w"], np.float32), np.array(args["b"], np.float32)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": strategy.num_replicas_in_sync}
    for perturbation in ("fgsm", "sign_noise"):
        with strategy.scope():
            base = keras.Sequential([keras.Input((w.shape[0],)), keras.layers.Dense(
                w.shape[1], kernel_initializer=keras.initializers.Constant(w),
                bias_initializer=keras.initializers.Constant(b))])
            adv = AdversarialModel(base, eps=args["eps"], alpha=args["alpha"],
                                   perturbation=perturbation, seed=0)
            adv.compile(optimizer=keras.optimizers.SGD(args["lr"]))
        hist = adv.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
        out[perturbation] = {"w": base.get_weights()[0].tolist(), "b": base.get_weights()[1].tolist(),
                             "loss": hist.history["loss"][0]}
    print("RESULT" + json.dumps(out))
    """
)


def test_mirrored_strategy_on_two_replicas_matches_single_device():
    x, y, w, b = _data(2)
    args = {"x": x.tolist(), "y": y.tolist(), "w": w.tolist(), "b": b.tolist()}
    args.update(eps=0.1, alpha=0.5, lr=0.5)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [sys.executable, "-c", _MIRRORED_SCRIPT, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    out = json.loads(line[len("RESULT") :])
    assert out["replicas"] == 2
    w1, b1, j_tilde = _hand_step(w, b, x, y, eps=0.1, alpha=0.5, lr=0.5)
    np.testing.assert_allclose(np.array(out["fgsm"]["w"]), w1, atol=1e-5)
    np.testing.assert_allclose(np.array(out["fgsm"]["b"]), b1, atol=1e-5)
    assert out["fgsm"]["loss"] == pytest.approx(j_tilde, abs=1e-5)
    assert np.isfinite(out["sign_noise"]["loss"])
    assert np.abs(np.array(out["sign_noise"]["w"]) - w).max() > 0


# ---------------------------------------------------------------------------
# fit_classifier
# ---------------------------------------------------------------------------


def test_fit_classifier_returns_the_base_model_with_history():
    x, y, w, b = _data(n=40)
    model = _softmax_model(w, b)
    out = fit_classifier(
        model,
        x,
        y,
        epochs=3,
        batch_size=10,
        validation_data=(x[:20], y[:20]),
        adversarial=True,
        patience=2,
        verbose=0,
    )
    assert out is model
    hist = out.advkeras_history
    assert len(hist["loss"]) <= 3 and all(isinstance(v, float) for v in hist["loss"])
    for key in ("adv_loss", "val_adv_loss", "val_adv_accuracy", "momentum"):
        assert key in hist
    np.testing.assert_allclose(
        hist["val_adv_error"], 1.0 - np.array(hist["val_adv_accuracy"]), atol=1e-12
    )
    assert hist["momentum"][0] == 0.5
    # Early stopping restored the best epoch: the final adversarial validation accuracy
    # of the returned weights equals the best one seen.
    adv = AdversarialModel(model, eps=0.25)
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    logs = adv.evaluate(x[:20], y[:20], batch_size=20, verbose=0, return_dict=True)
    assert logs["adv_accuracy"] == pytest.approx(max(hist["val_adv_accuracy"]), abs=1e-6)


def test_fit_classifier_clean_run_is_plain_training():
    x, y, w, b = _data(n=8)
    model = fit_classifier(
        _softmax_model(w, b),
        x,
        y,
        epochs=1,
        batch_size=8,
        eps=0.0,
        optimizer=keras.optimizers.SGD(0.5),
        verbose=0,
    )
    gw, gb, _, _ = _hand_grads(w, b, x, y)
    np.testing.assert_allclose(model.get_weights()[0], w - 0.5 * gw, atol=1e-6)
    assert set(model.advkeras_history) == {"loss", "clean_loss", "accuracy", "error"}


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------


def _base():
    _, _, w, b = _data()
    return _softmax_model(w, b)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"eps": -0.1}, "eps"),
        ({"eps": float("nan")}, "eps"),
        ({"alpha": 1.5}, "alpha"),
        ({"perturbation": "pgd"}, "perturbation"),
        ({"clip": (1.0, 0.0)}, "clip"),
        ({"clip": "01"}, "clip"),
        ({"output": "scores"}, "output"),
        ({"output": "binary_logit"}, "binary_logit"),
        ({"l1": ("missing", 0.1)}, "l1"),
        ({"l1": ("dense", -1.0)}, "l1"),
        ({"l1": "dense"}, "l1"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_adversarial_model_rejects_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        AdversarialModel(_base(), **kwargs)


def test_bad_base_model_and_compile_loss_are_rejected():
    with pytest.raises(ValueError, match="base_model"):
        AdversarialModel(object())
    adv = AdversarialModel(_base())
    # The base model outputs logits: a loss reading probabilities is refused.
    with pytest.raises(ValueError, match="`loss`.*from_logits=True"):
        adv.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"perturbation": "pgd"}, "perturbation"),
        ({"adversarial": True, "perturbation": "none"}, "perturbation"),
        ({"patience": 3}, "validation_data"),
        ({"y": np.full(N, 7)}, "y"),
        ({"x": np.zeros((0, D))}, "x"),
        ({"validation_data": (np.zeros((2, D)), np.zeros(3))}, r"validation_data\[1\]"),
        ({"seed": "zero"}, "seed"),
        ({"eps": -1.0}, "eps"),
        ({"steps_per_execution": 0}, "steps_per_execution"),
    ],
)
def test_fit_classifier_rejects_bad_arguments(kwargs, argument):
    x, y, _, _ = _data()
    call = {"x": x, "y": y, "epochs": 1, "verbose": 0}
    call.update(kwargs)
    model = _base()
    with pytest.raises(ValueError, match=argument):
        fit_classifier(model, call.pop("x"), call.pop("y"), **call)


def test_adversarial_logistic_objective_rejects_non_linear_binary_models():
    with pytest.raises(ValueError, match="model"):
        adversarial_logistic_objective(_base(), np.zeros((2, D)), np.array([1, -1]), 0.1)
    lr = _softmax_model(np.zeros((D, 1), np.float32), np.zeros(1, np.float32))
    with pytest.raises(ValueError, match="y_pm"):
        adversarial_logistic_objective(lr, np.zeros((2, D)), np.array([2, -1]), 0.1)
    with pytest.raises(ValueError, match="reduction"):
        adversarial_logistic_objective(
            lr, np.zeros((2, D)), np.array([1, -1]), 0.1, reduction="sum"
        )


# ---------------------------------------------------------------------------
# In-memory arrays: array_dataset and AdversarialModel.fit
# ---------------------------------------------------------------------------


def test_array_dataset_trains_as_keras_own_pipeline():
    """array_dataset changes the input pipeline only: same batches, same weights."""
    x, y, w, b = _data(n=24)
    sw = np.linspace(0.5, 1.5, 24).astype(np.float32)
    results = []
    for ours in (True, False):
        adv = AdversarialModel(_softmax_model(w, b), eps=0.1, alpha=0.5)
        adv.compile(optimizer=keras.optimizers.SGD(0.3))
        if ours:
            hist = adv.fit(
                array_dataset(x, y, sw, batch_size=8),
                validation_data=array_dataset(x[:8], y[:8], batch_size=8),
                epochs=2,
                shuffle=False,  # array_dataset shuffles (here: not at all)
                verbose=0,
            )
        else:
            hist = adv.fit(
                x,
                y,
                sample_weight=sw,
                validation_data=(x[:8], y[:8]),
                batch_size=8,
                epochs=2,
                shuffle=False,
                verbose=0,
            )
        results.append((adv.base_model.get_weights(), hist.history))
    (w0, h0), (w1, h1) = results
    for a, c in zip(w0, w1, strict=True):
        np.testing.assert_allclose(a, c, atol=1e-6)
    assert h0.keys() == h1.keys() and "val_adv_loss" in h0
    np.testing.assert_allclose(h0["val_loss"], h1["val_loss"], atol=1e-6)


def _small_maxout() -> keras.Model:
    """A maxout network with dropout and max-norm, as the book's, small."""
    from advkeras.models import maxout_mlp

    return maxout_mlp(6, 3, input_dim=12, classes=4, seed=3)


def _small_maxout_data():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 1.0, size=(60, 12)).astype(np.float32)
    return x, (np.arange(60) % 4).astype(np.int64)


@pytest.mark.parametrize("adversarial", [False, True])
def test_steps_per_execution_leaves_the_weights_unchanged(adversarial):
    """fit_classifier's fast path runs the same steps: bitwise the weights of one step a call."""
    x, y = _small_maxout_data()
    weights = []
    for steps in (1, 4):  # 6 steps an epoch: 4 leaves a partial call
        model = fit_classifier(
            _small_maxout(),
            x,
            y,
            epochs=2,
            batch_size=10,
            validation_data=(x[:20], y[:20]),
            adversarial=adversarial,
            eps=0.1,
            seed=5,
            verbose=0,
            steps_per_execution=steps,
        )
        weights.append((model.get_weights(), model.advkeras_history))
    (w1, h1), (w4, h4) = weights
    for a, b in zip(w1, w4, strict=True):
        np.testing.assert_array_equal(a, b)
    assert h1 == h4


@pytest.mark.parametrize("adversarial", [False, True])
def test_fast_path_matches_the_plain_keras_path(adversarial):
    """array_dataset + several steps a call give the weights of Keras' own fit on arrays.

    The plain path is ``keras.Model.fit`` on NumPy arrays, one step a call: the
    base model compiled with a Keras loss for clean training, the
    AdversarialModel for FGSM training. Dropout and max-norm are on.
    """
    x, y = _small_maxout_data()
    results = []
    for fast in (True, False):
        keras.utils.set_random_seed(7)
        base = _small_maxout()
        optimizer = keras.optimizers.SGD(0.1, momentum=0.5)
        if adversarial:
            model = AdversarialModel(base, eps=0.1, alpha=0.5)
            model.compile(optimizer=optimizer, steps_per_execution=4 if fast else 1)
        elif fast:
            model = AdversarialModel(base, eps=0.0, perturbation="none")
            model.compile(optimizer=optimizer, steps_per_execution=4)
        else:
            model = base
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        if fast:
            model.fit(array_dataset(x, y, batch_size=10), epochs=2, shuffle=False, verbose=0)
        else:
            model.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
        results.append(base.get_weights())
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("options", [{"norm": 2}, {"layer": "h"}, {"norm": 2, "layer": "h"}])
def test_fit_classifier_trains_with_the_models_norm_and_layer_options(options):
    """fit_classifier(norm=, layer=) is AdversarialModel(norm=, layer=) fitted (one full batch)."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0.0, 1.0, size=(16, 5)).astype(np.float32)
    y = (np.arange(16) % 3).astype(np.int64)

    def mlp() -> keras.Model:
        keras.utils.set_random_seed(11)
        return keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(6, activation="relu", name="h"),
                keras.layers.Dense(6, activation="relu", name="g"),
                keras.layers.Dense(3, name="out"),
            ]
        )

    ours = fit_classifier(
        mlp(),
        x,
        y,
        epochs=1,
        batch_size=16,
        adversarial=True,
        eps=0.1,
        optimizer=keras.optimizers.SGD(0.5),
        verbose=0,
        **options,
    )
    base = mlp()
    adv = AdversarialModel(base, eps=0.1, alpha=0.5, **options)
    adv.compile(optimizer=keras.optimizers.SGD(0.5))
    adv.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    plain = fit_classifier(
        mlp(),
        x,
        y,
        epochs=1,
        batch_size=16,
        adversarial=True,
        eps=0.1,
        optimizer=keras.optimizers.SGD(0.5),
        verbose=0,
    )
    for a, b in zip(ours.get_weights(), base.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert any(  # and the option changed what was learnt
        not np.allclose(a, b) for a, b in zip(ours.get_weights(), plain.get_weights(), strict=True)
    )


def test_fit_is_keras_fit_with_validation_split():
    x, y, w, b = _data(n=20)
    adv = AdversarialModel(_softmax_model(w, b), eps=0.1)
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    hist = adv.fit(x, y, batch_size=5, epochs=1, validation_split=0.25, verbose=0)
    assert "val_loss" in hist.history
