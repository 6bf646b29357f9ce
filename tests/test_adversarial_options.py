"""AdversarialModel's perturbation, built on advkeras.attacks.core: defaults and the options.

The defaults must train to the very numbers of the code the book's cached
networks were trained with; ``norm``, ``targeted`` and ``layer`` are checked
against hand computations of J̃ = α·J(x) + (1 − α)·J(x + η).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras import models
from advkeras.training import AdversarialModel

D, K, N = 5, 3, 8


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(N, D)).astype(np.float32)
    y = (np.arange(N) % K).astype(np.int64)
    return x, y


def _linear(seed: int = 0, k: int = K) -> keras.Model:
    rng = np.random.default_rng(seed + 100)
    w = rng.normal(0.0, 0.5, size=(D, k)).astype(np.float32)
    b = rng.normal(0.0, 0.1, size=(k,)).astype(np.float32)
    return keras.Sequential(
        [
            keras.Input((D,)),
            keras.layers.Dense(
                k,
                name="out",
                kernel_initializer=keras.initializers.Constant(w),
                bias_initializer=keras.initializers.Constant(b),
            ),
        ]
    )


def _mlp(seed: int = 0, dropout: bool = False) -> keras.Model:
    """x → Dense "h0" (tanh) → Dense "h1" (tanh) → [Dropout] → Dense "out" (logits)."""
    keras.utils.set_random_seed(seed)
    layers = [
        keras.Input((D,)),
        keras.layers.Dense(6, activation="tanh", name="h0"),
        keras.layers.Dense(4, activation="tanh", name="h1"),
    ]
    if dropout:
        layers.append(keras.layers.Dropout(0.5, name="drop"))
    layers.append(keras.layers.Dense(K, name="out"))
    return keras.Sequential(layers)


def _ce(out: tf.Tensor, y: np.ndarray) -> tf.Tensor:
    return tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.convert_to_tensor(y), logits=out
    )


def _sgd_step(model: keras.Model, objective, lr: float) -> list[np.ndarray]:
    """The weights after one plain SGD step on ``objective()`` (the model is left unchanged)."""
    with tf.GradientTape() as tape:
        value = objective()
    grads = tape.gradient(value, model.trainable_variables)
    return [(v - lr * g).numpy() for v, g in zip(model.trainable_variables, grads, strict=True)]


def _input_gradient(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tf.Tensor:
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(_ce(model(xt), y))
    return tape.gradient(total, xt)


# --------------------------------------------------------------------------- defaults


def _reference_fit(model: keras.Model, x, y, *, eps, alpha, lr, batch, clip=None):
    """Plain-TF J̃ training: the pre-core AdversarialModel.train_step, step for step.

    Pass 1 differentiates the clean mean loss with respect to x and θ at once,
    η = ε·sign(∇ₓJ) is a constant, pass 2 differentiates (1 − α)·J(x + η), and
    SGD applies α·∇θJ(x) + ∇θ[(1 − α)J(x + η)].
    """
    tvars = model.trainable_variables

    @tf.function(autograph=False)
    def step(xb, yb):
        yb = tf.cast(yb, tf.int32)
        with tf.GradientTape() as tape:
            tape.watch(xb)
            clean = tf.reduce_mean(_ce(model(xb, training=True), yb))
        grads = tape.gradient(clean, [xb, *tvars])
        x_adv = xb + tf.stop_gradient(eps * tf.sign(grads[0]))
        if clip is not None:
            x_adv = tf.clip_by_value(x_adv, clip[0], clip[1])
        with tf.GradientTape() as tape:
            adv = tf.reduce_mean(_ce(model(x_adv, training=True), yb))
            scaled = (1.0 - alpha) * adv + tf.constant(0.0)
        grads_adv = tape.gradient(scaled, tvars)
        for v, gc, ga in zip(tvars, grads[1:], grads_adv, strict=True):
            v.assign_sub(tf.multiply(alpha * gc + ga, tf.cast(lr, v.dtype)))

    for start in range(0, len(x), batch):
        step(tf.constant(x[start : start + batch]), tf.constant(y[start : start + batch]))
    return [v.numpy() for v in tvars]


@pytest.mark.parametrize("clip", [None, (0.0, 1.0)])
def test_defaults_train_to_the_weights_of_plain_tf_j_tilde_bit_for_bit(clip):
    """Same seed, three SGD steps: the core-built train step equals the plain-TF J̃ exactly."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 1.0, size=(12, D)).astype(np.float32)
    y = (np.arange(12) % K).astype(np.int64)
    adv = AdversarialModel(_mlp(1), eps=0.1, clip=clip)
    adv.compile(optimizer=keras.optimizers.SGD(0.3), jit_compile=False)
    adv.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    want = _reference_fit(_mlp(1), x, y, eps=0.1, alpha=0.5, lr=0.3, batch=4, clip=clip)
    for got, expected in zip(adv.base_model.get_weights(), want, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_default_options_are_the_papers_and_round_trip():
    adv = AdversarialModel(_linear())
    assert (adv.norm, adv.targeted, adv.layer) == ("inf", False, None)
    config = adv.get_config()
    assert (config["norm"], config["targeted"], config["layer"]) == ("inf", False, None)
    # A config written before the options existed still loads, with the defaults.
    for key in ("norm", "targeted", "layer"):
        config.pop(key)
    old = AdversarialModel.from_config(config)
    assert (old.norm, old.targeted, old.layer) == ("inf", False, None)


# --------------------------------------------------------------------------- norm


@pytest.mark.parametrize("norm", [2, "2"])
def test_l2_step_is_the_normalised_gradient(norm):
    if norm == "2":
        with pytest.raises(ValueError, match="`norm`"):
            AdversarialModel(_linear(), norm=norm)
        return
    x, y = _data()
    eps, lr = 0.3, 0.5
    reference = _linear()
    g = _input_gradient(reference, x, y).numpy().astype(np.float64)
    x_adv = (x + eps * g / np.linalg.norm(g, axis=1, keepdims=True)).astype(np.float32)
    want = _sgd_step(reference, lambda: tf.reduce_mean(_ce(reference(x_adv), y)), lr)

    adv = AdversarialModel(_linear(), eps=eps, alpha=0.0, norm=norm)
    assert adv.get_config()["norm"] == 2
    adv.compile(optimizer=keras.optimizers.SGD(lr))
    adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    for got, expected in zip(adv.base_model.get_weights(), want, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    # Evaluation measures the same L2 step: ‖η‖₂ = ε, so J rises by about ε‖∇J‖₂.
    logs = adv.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    g = _input_gradient(adv.base_model, x, y).numpy().astype(np.float64)
    x_val = (x + eps * g / np.linalg.norm(g, axis=1, keepdims=True)).astype(np.float32)
    expected_adv = float(tf.reduce_mean(_ce(adv.base_model(x_val), y)))
    assert logs["adv_loss"] == pytest.approx(expected_adv, abs=1e-5)


def test_np_inf_and_inf_name_the_same_norm():
    assert AdversarialModel(_linear(), norm=np.inf).norm == "inf"
    assert AdversarialModel(_linear(), norm="inf").norm == "inf"


# --------------------------------------------------------------------------- targeted


@pytest.mark.parametrize("targeted", ["least_likely", 1])
def test_targeted_step_descends_the_cost_of_the_target(targeted):
    x, y = _data(1)
    eps, lr = 0.2, 0.5
    reference = _linear(1)
    z = reference(x).numpy()
    t = z.argmin(axis=1) if targeted == "least_likely" else np.full(N, targeted)
    x_adv = x - eps * np.sign(_input_gradient(reference, x, t).numpy())
    want = _sgd_step(reference, lambda: tf.reduce_mean(_ce(reference(x_adv), y)), lr)

    adv = AdversarialModel(_linear(1), eps=eps, alpha=0.0, targeted=targeted)
    adv.compile(optimizer=keras.optimizers.SGD(lr))
    adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    for got, expected in zip(adv.base_model.get_weights(), want, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    # The evaluation's step is targeted too.
    model = adv.base_model
    z = model(x).numpy()
    t = z.argmin(axis=1) if targeted == "least_likely" else np.full(N, targeted)
    x_val = x - eps * np.sign(_input_gradient(model, x, t).numpy())
    logs = adv.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    assert logs["adv_loss"] == pytest.approx(float(tf.reduce_mean(_ce(model(x_val), y))), abs=1e-5)


def test_targeted_binary_model_targets_the_other_class():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.0, 1.0, size=(N, D)).astype(np.float32)
    y = np.arange(N) % 2
    adv = AdversarialModel(_linear(3, k=1), eps=0.1, targeted="least_likely")
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    logs = adv.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    # Toward the class not predicted is away from the predicted one: untargeted FGSM
    # against the predictions, x − ε·sign(w)·(2ŷ − 1)... of which the logistic loss is known.
    w, b = (a.astype(np.float64) for a in adv.base_model.get_weights())
    z = x @ w[:, 0] + b[0]
    pred = (z > 0).astype(float)
    z_adv = (x - 0.1 * (2 * pred - 1)[:, None] * np.sign(w[:, 0])) @ w[:, 0] + b[0]
    y_pm = 2.0 * y - 1.0
    expected = np.mean(np.log1p(np.exp(-y_pm * z_adv)))
    assert logs["adv_loss"] == pytest.approx(expected, abs=1e-5)


# --------------------------------------------------------------------------- layer


def test_hidden_layer_perturbation_follows_the_hand_computed_j_tilde():
    x, y = _data(4)
    eps, alpha, lr = 0.2, 0.3, 0.5
    reference = _mlp(5)
    h0, h1, out = (reference.get_layer(n) for n in ("h0", "h1", "out"))

    def objective():
        h = h0(tf.constant(x))
        with tf.GradientTape() as inner:
            inner.watch(h)
            clean = tf.reduce_mean(_ce(out(h1(h)), y))
        eta = eps * tf.sign(tf.stop_gradient(inner.gradient(clean, h)))
        adv = tf.reduce_mean(_ce(out(h1(h + eta)), y))
        return alpha * clean + (1.0 - alpha) * adv

    want = _sgd_step(reference, objective, lr)
    adv = AdversarialModel(_mlp(5), eps=eps, alpha=alpha, layer="h0")
    adv.compile(optimizer=keras.optimizers.SGD(lr))
    hist = adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0).history
    assert hist["loss"][0] == pytest.approx(float(objective()), abs=1e-5)
    for got, expected in zip(adv.base_model.get_weights(), want, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    # The encoder's weights moved (the adversarial term's gradient reaches them through h).
    assert np.abs(adv.base_model.get_layer("h0").get_weights()[0] - h0.get_weights()[0]).max() > 0

    # Evaluation perturbs the same layer.
    model = adv.base_model
    h = model.get_layer("h0")(tf.constant(x))
    with tf.GradientTape() as tape:
        tape.watch(h)
        clean = tf.reduce_mean(_ce(model.get_layer("out")(model.get_layer("h1")(h)), y))
    h_adv = h + eps * tf.sign(tape.gradient(clean, h))
    expected_adv = tf.reduce_mean(_ce(model.get_layer("out")(model.get_layer("h1")(h_adv)), y))
    logs = adv.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    assert logs["adv_loss"] == pytest.approx(float(expected_adv), abs=1e-5)
    assert logs["clean_loss"] == pytest.approx(float(clean), abs=1e-5)


def test_hidden_layer_noise_control_is_bounded_and_not_clipped():
    x, y = _data(5)
    adv = AdversarialModel(
        _mlp(6), eps=0.5, perturbation="sign_noise", layer="h0", clip=(0.0, 1.0), seed=0
    )
    h = adv.base_model.get_layer("h0")(tf.constant(x))
    eta = (adv.perturb(h) - h).numpy()  # tanh in (−1, 1): ±0.5 leaves [0, 1], unclipped
    np.testing.assert_allclose(np.abs(eta), 0.5, atol=1e-6)
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    hist = adv.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    assert np.isfinite(hist["loss"][0]) and "adv_accuracy" in hist


@pytest.mark.parametrize(
    ("layer", "dropout"),
    [("h1", False), ("out", False), ("h1", True), ("drop", True), ("nope", False), (3, False)],
)
def test_final_hidden_layer_output_layer_and_unknown_names_are_refused(layer, dropout):
    with pytest.raises(ValueError, match=r"`layer`.*'h0'"):
        AdversarialModel(_mlp(0, dropout=dropout), layer=layer)


def test_a_model_without_a_layer_before_its_final_hidden_layer_is_refused():
    with pytest.raises(ValueError, match=r"`layer`.*\(none in this model\)"):
        AdversarialModel(_linear(), layer="out")


def test_options_round_trip_through_get_config_and_keras_saving(tmp_path):
    x, y = _data(6)
    adv = AdversarialModel(_mlp(7), eps=0.1, norm=2, targeted="least_likely", layer="h0")
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    adv.fit(x, y, batch_size=4, epochs=1, verbose=0)
    config = adv.get_config()
    assert (config["norm"], config["targeted"], config["layer"]) == (2, "least_likely", "h0")
    rebuilt = AdversarialModel.from_config(config)
    assert (rebuilt.norm, rebuilt.targeted, rebuilt.layer) == (2, "least_likely", "h0")
    path = tmp_path / "adv.keras"
    adv.save(path)
    loaded = keras.saving.load_model(path)
    assert (loaded.norm, loaded.targeted, loaded.layer) == (2, "least_likely", "h0")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), adv.predict(x, verbose=0), atol=1e-6)
    logs = [m.evaluate(x, y, batch_size=N, verbose=0, return_dict=True) for m in (adv, loaded)]
    assert logs[0]["adv_loss"] == pytest.approx(logs[1]["adv_loss"], abs=1e-6)
    # The split sub-models share the base model's variables: nothing is counted twice.
    assert len(adv.trainable_variables) == len(adv.base_model.trainable_variables)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"norm": 3}, "norm"),
        ({"norm": "l2"}, "norm"),
        ({"targeted": True}, "targeted"),
        ({"targeted": K}, "targeted"),
        ({"targeted": -1}, "targeted"),
        ({"targeted": "most_likely"}, "targeted"),
        ({"targeted": 1.0}, "targeted"),
    ],
)
def test_bad_options_raise_value_errors_naming_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        AdversarialModel(_linear(), **kwargs)


def test_the_papers_maxout_network_perturbs_h0_but_not_its_final_hidden_layer_h1():
    """§6 on the functional maxout MLP: h0 (or its dropout) may be perturbed, h1 may not."""
    x, y = _data(7)
    base = models.maxout_mlp(6, 2, input_dim=D, classes=K, seed=0)
    with pytest.raises(ValueError, match=r"`layer`.*'h0'.*Received: layer='h1'"):
        AdversarialModel(base, layer="h1")
    with pytest.raises(ValueError, match="`layer`"):
        AdversarialModel(base, layer="drop_h1")
    adv = AdversarialModel(base, eps=0.1, layer="h0")
    adv.compile(optimizer=keras.optimizers.SGD(0.1))
    hist = adv.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), verbose=0).history
    assert all(np.isfinite(hist[k][0]) for k in ("loss", "adv_loss", "val_adv_loss"))
    rebuilt = AdversarialModel.from_config(adv.get_config())  # a deserialized functional model
    assert rebuilt.layer == "h0"
    rebuilt.compile(optimizer=keras.optimizers.SGD(0.1))
    logs = rebuilt.evaluate(x, y, batch_size=N, verbose=0, return_dict=True)
    assert np.isfinite(logs["adv_loss"])


def test_perturb_needs_a_gradient_unless_the_perturbation_is_noise():
    adv = AdversarialModel(_linear(), eps=0.1, clip=(0.0, 1.0))
    with pytest.raises(ValueError, match="`grad`"):
        adv.perturb(np.full((2, D), 0.5, np.float32))
    x = np.full((2, D), 0.95, np.float32)
    grad = np.tile(np.array([1.0, -2.0, 0.0, 3.0, -1.0], np.float32), (2, 1))
    np.testing.assert_allclose(
        adv.perturb(x, grad), np.clip(x + 0.1 * np.sign(grad), 0.0, 1.0), atol=1e-7
    )


# ---------------------------------------------------------------------------
# differentiable=True: the weights' gradient flows through η (§6's differentiable adversary)
# ---------------------------------------------------------------------------


def _double_backprop_step(model: keras.Model, x, y, *, eps: float, alpha: float, lr: float):
    """One SGD step on J̃ with η = ε·∇ₓJ/‖∇ₓJ‖₂ a function of the weights, by hand."""
    w, b = (tf.Variable(v) for v in model.get_weights())
    x = tf.constant(x)

    def cost(inputs):
        logits = inputs @ w + b
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))

    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            clean = cost(x)
        g = inner.gradient(clean, x)
        eta = eps * g / tf.maximum(tf.norm(g, axis=1, keepdims=True), 1e-12)
        total = alpha * clean + (1 - alpha) * cost(x + eta)
    gw, gb = outer.gradient(total, [w, b])
    return w.numpy() - lr * gw.numpy(), b.numpy() - lr * gb.numpy()


def test_differentiable_step_is_the_double_backpropagation_of_j_tilde():
    x, y = _data()
    expected = _double_backprop_step(_linear(), x, y, eps=0.5, alpha=0.5, lr=0.5)
    results = {}
    for differentiable in (True, False):
        adv = AdversarialModel(_linear(), eps=0.5, alpha=0.5, norm=2, differentiable=differentiable)
        adv.compile(optimizer=keras.optimizers.SGD(0.5))
        adv.fit(x, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
        results[differentiable] = adv.base_model.get_weights()
    for got, want in zip(results[True], expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # Holding η constant (the paper's adversarial training) is another update.
    assert not np.allclose(results[False][0], expected[0], atol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"norm": "inf"},
        {"norm": 2, "perturbation": "sign_noise"},
        {"norm": 2, "targeted": "least_likely"},
        {"norm": 2, "differentiable": "yes"},
    ],
)
def test_differentiable_refuses_what_has_no_derivative_to_follow(kwargs):
    kwargs = {"differentiable": True, **kwargs}
    with pytest.raises(ValueError, match="differentiable"):
        AdversarialModel(_linear(), eps=0.5, **kwargs)


def test_differentiable_survives_get_config():
    adv = AdversarialModel(_linear(), eps=0.5, norm=2, differentiable=True)
    again = AdversarialModel.from_config(adv.get_config())
    assert again.differentiable and again.norm == 2
