"""A generatively trained classifier: the joint restricted Boltzmann machine of pixels and labels.

§9 of the paper attacks a multi-prediction deep Boltzmann machine (MP-DBM), a
generative model of images and labels, and finds it no harder to fool than a
discriminative network. Keras has no MP-DBM; the closest model it expresses in
a few lines is its one-layer relative, the *classification RBM* (Larochelle &
Bengio 2008): one layer of binary hidden units h connected to the pixels x and
to a one-hot label y, with the energy

    E(x, y, h) = −bᵀx − cᵀh − dᵀy − xᵀWh − yᵀUh,

and the joint distribution p(x, y, h) ∝ exp(−E). Trained *generatively*, by
contrastive divergence on log p(x, y), it models the images and the labels
together; it classifies by Bayes' rule, p(y | x) = p(x, y) / Σ_k p(x, k), which
for an RBM is exact and cheap: summing out h gives the free energy

    F(x, y) = −bᵀx − d_y − Σ_j softplus(c_j + (xW)_j + U_yj),

and p(y | x) = softmax_y(−F(x, y)), in which bᵀx cancels. :class:`ClassRBM`
outputs these logits, d_y + Σ_j softplus(c_j + (xW)_j + U_yj), so FGSM
differentiates the model's own posterior, −log p(y | x), exactly.

- :class:`ClassRBM`: the Keras layer (logits of p(y | x); free energy; the
  conditionals used by Gibbs sampling);
- :func:`class_rbm`: a functional model around it (output kind ``"logits"``);
- :func:`fit_class_rbm`: contrastive-divergence training (CD-k).

Example:

>>> import numpy as np
>>> model = class_rbm(input_dim=4, classes=3, hidden=5, seed=0)
>>> logits = keras.ops.convert_to_numpy(model(np.zeros((2, 4), "float32")))
>>> logits.shape
(2, 3)
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from advkeras._validation import (
    check_feature_rows,
    check_fraction,
    check_labels,
    check_positive_float,
    check_positive_int,
    invalid,
)

__all__ = ["ClassRBM", "class_rbm", "fit_class_rbm"]

#: Standard deviation of the initial weights W and U (Hinton's practical guide: 0.01).
WEIGHT_STD = 0.01


@keras.saving.register_keras_serializable(package="advkeras")
class ClassRBM(keras.layers.Layer):
    """A restricted Boltzmann machine over inputs ``x`` and a one-hot label ``y``.

    The layer's output is the vector of logits of the exact posterior,
    ``−F(x, y) + bᵀx = d_y + Σ_j softplus(c_j + (xW)_j + U_yj)`` for every class
    ``y``, so ``softmax`` of it is p(y | x) by Bayes' rule (output kind
    ``"logits"``). Inputs are pixel intensities in [0, 1], read as the
    probabilities of binary visible units.

    Weights: ``kernel`` W (in, hidden), ``label_kernel`` U (classes, hidden),
    ``visible_bias`` b (in,), ``hidden_bias`` c (hidden,), ``label_bias`` d (classes,).

    Args:
        classes: number of classes, an integer >= 2.
        hidden: number of binary hidden units, a positive integer.
        seed: optional integer seed of the initial weights, N(0, 0.01²); biases start at 0.
        **kwargs: base ``Layer`` arguments.

    Example:

    >>> rbm = ClassRBM(classes=2, hidden=3, seed=0)
    >>> _ = rbm.build((None, 4))
    >>> x = np.ones((1, 4), "float32")
    >>> logits = keras.ops.convert_to_numpy(rbm(x))
    >>> f = keras.ops.convert_to_numpy(rbm.free_energy(x))  # F(x, y) for y = 0, 1
    >>> bool(np.allclose(logits, -f, atol=1e-5))  # b = 0 at initialization
    True
    """

    advkeras_output_kind = "logits"

    def __init__(self, classes: int, hidden: int, *, seed: int | None = None, **kwargs: Any):
        classes = check_positive_int(classes, "classes")
        if classes < 2:
            raise invalid("classes", "an integer >= 2", classes)
        hidden = check_positive_int(hidden, "hidden")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise invalid("seed", "an integer or None", seed)
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.classes = classes
        self.hidden = hidden
        self.seed = None if seed is None else int(seed)
        self.input_spec = keras.layers.InputSpec(ndim=2)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        input_dim = input_shape[-1]
        seed = self.seed

        def normal(offset: int) -> keras.initializers.Initializer:
            return keras.initializers.RandomNormal(
                stddev=WEIGHT_STD, seed=None if seed is None else seed + offset
            )

        self.kernel = self.add_weight(
            name="kernel", shape=(input_dim, self.hidden), initializer=normal(0)
        )
        self.label_kernel = self.add_weight(
            name="label_kernel", shape=(self.classes, self.hidden), initializer=normal(1)
        )
        self.visible_bias = self.add_weight(
            name="visible_bias", shape=(input_dim,), initializer="zeros"
        )
        self.hidden_bias = self.add_weight(
            name="hidden_bias", shape=(self.hidden,), initializer="zeros"
        )
        self.label_bias = self.add_weight(
            name="label_bias", shape=(self.classes,), initializer="zeros"
        )
        self.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: input_dim})

    def _hidden_inputs(self, x: Any) -> Any:
        """c + xW + U_y for every class y: shape (N, classes, hidden)."""
        pre = ops.matmul(x, self.kernel) + self.hidden_bias
        return pre[:, None, :] + self.label_kernel[None, :, :]

    def call(self, inputs: Any) -> Any:
        return self.label_bias + ops.sum(ops.softplus(self._hidden_inputs(inputs)), axis=-1)

    def free_energy(self, x: Any) -> Any:
        """F(x, y) = −bᵀx − d_y − Σ_j softplus(c_j + (xW)_j + U_yj) for every class, (N, classes)."""
        return -ops.matmul(x, self.visible_bias)[:, None] - self.call(x)

    def hidden_probabilities(self, x: Any, y_onehot: Any) -> Any:
        """p(h_j = 1 | x, y) = σ(c_j + (xW)_j + (yU)_j), shape (N, hidden)."""
        return ops.sigmoid(
            ops.matmul(x, self.kernel) + ops.matmul(y_onehot, self.label_kernel) + self.hidden_bias
        )

    def visible_probabilities(self, h: Any) -> Any:
        """p(x_i = 1 | h) = σ(b_i + (Wh)_i), shape (N, in)."""
        return ops.sigmoid(ops.matmul(h, ops.transpose(self.kernel)) + self.visible_bias)

    def label_probabilities(self, h: Any) -> Any:
        """p(y | h) = softmax(d + Uh), shape (N, classes)."""
        return ops.softmax(ops.matmul(h, ops.transpose(self.label_kernel)) + self.label_bias)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self.classes)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "classes": self.classes,
            "hidden": self.hidden,
            "seed": self.seed,
        }


def class_rbm(
    input_dim: int = 784,
    classes: int = 10,
    hidden: int = 500,
    *,
    seed: int | None = None,
    name: str = "class_rbm",
) -> keras.Model:
    """A classification RBM as a Keras model: x → logits of p(y | x) (layer ``"rbm"``).

    Untrained: train it with :func:`fit_class_rbm` (contrastive divergence), not
    with ``fit`` (which would train it discriminatively, on −log p(y | x)).

    Args:
        input_dim: number of inputs (784 for MNIST).
        classes: number of classes, >= 2.
        hidden: number of hidden units.
        seed: optional integer seed of the initial weights.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` with output kind ``"logits"``.

    Example:

    >>> from advkeras.losses import infer_output_kind
    >>> model = class_rbm(6, 3, 4, seed=1)
    >>> infer_output_kind(model), model.count_params()  # W 6x4, U 3x4, b 6, c 4, d 3
    ('logits', 49)
    """
    input_dim = check_positive_int(input_dim, "input_dim")
    inputs = keras.Input((input_dim,), name="x")
    outputs = ClassRBM(classes, hidden, seed=seed, name="rbm")(inputs)
    return keras.Model(inputs, outputs, name=name)


def _rbm_layer(model: Any) -> ClassRBM:
    if isinstance(model, keras.Model):
        for layer in model.layers:
            if isinstance(layer, ClassRBM):
                return layer
    raise invalid("model", "a keras.Model holding a ClassRBM layer (class_rbm())", model)


def fit_class_rbm(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int = 100,
    learning_rate: float = 0.05,
    momentum: float = 0.5,
    cd_steps: int = 1,
    seed: int = 0,
    validation_data: tuple[Any, Any] | None = None,
    init_visible_bias: bool = True,
) -> keras.Model:
    """Train a :func:`class_rbm` generatively, by contrastive divergence (CD-k) on log p(x, y).

    For each minibatch, the positive phase takes the data (x, y) and
    h⁺ = p(h | x, y); the negative phase runs ``cd_steps`` steps of block Gibbs
    sampling from it (sample h, then x⁻ = p(x | h) as probabilities and y⁻ ~
    p(y | h) as a one-hot sample, then h⁻ = p(h | x⁻, y⁻)). Every weight moves
    along ⟨data statistic⟩ − ⟨model statistic⟩, e.g. ΔW ∝ x⁺ᵀh⁺ − x⁻ᵀh⁻, with
    classical momentum. Nothing in the update looks at p(y | x): the labels are
    modelled like the pixels. With ``init_visible_bias`` the visible biases start
    at the log-odds of the mean training pixel (clipped to [0.001, 0.999]).

    Args:
        model: a :func:`class_rbm` model (any Keras model whose layers include a :class:`ClassRBM`).
        x: inputs in [0, 1], shape (N, in).
        y: integer labels, shape (N,).
        epochs: passes over the data, a positive integer.
        batch_size: examples per update.
        learning_rate: step size, > 0.
        momentum: in [0, 1).
        cd_steps: Gibbs steps of the negative phase (k of CD-k).
        seed: integer seed of the minibatch order and of the Gibbs samples.
        validation_data: optional ``(x_val, y_val)``; its error is recorded each epoch.
        init_visible_bias: start b at the data's log-odds (Hinton's practical guide).

    Returns:
        ``model``, trained in place, with ``advkeras_history``: per epoch ``loss``
        (the mean squared reconstruction error ‖x − x⁻‖²/in, what CD is usually
        monitored with; CD minimises no loss), ``seconds`` and, with validation
        data, ``val_error`` (of argmax p(y | x)).

    Example:

    >>> rng = np.random.default_rng(0)
    >>> x = (rng.random((40, 6)) < 0.5).astype("float32"); y = (x[:, 0] > 0).astype(int)
    >>> model = fit_class_rbm(class_rbm(6, 2, 8, seed=0), x, y, epochs=2, batch_size=10)
    >>> len(model.advkeras_history["loss"])
    2
    """
    layer = _rbm_layer(model)
    x = check_feature_rows(x)
    if float(x.min()) < 0 or float(x.max()) > 1:
        raise invalid("x", "values in [0, 1] (pixel intensities)", f"[{x.min():g}, {x.max():g}]")
    y = check_labels(y, len(x), layer.classes)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_float(learning_rate, "learning_rate")
    momentum = check_fraction(momentum, "momentum")
    if momentum >= 1:
        raise invalid("momentum", "a number in [0, 1)", momentum)
    cd_steps = check_positive_int(cd_steps, "cd_steps")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise invalid("seed", "an integer >= 0", seed)
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise invalid("validation_data", "None or a pair (x_val, y_val)", validation_data)
        x_val = check_feature_rows(validation_data[0], "validation_data[0]")
        y_val = check_labels(validation_data[1], len(x_val), layer.classes, "validation_data[1]")
    if not layer.built:
        layer.build((None, x.shape[1]))
    if init_visible_bias:
        mean = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
        layer.visible_bias.assign(np.log(mean / (1 - mean)).astype("float32"))

    variables = [
        layer.kernel,
        layer.label_kernel,
        layer.visible_bias,
        layer.hidden_bias,
        layer.label_bias,
    ]
    velocities = [tf.Variable(tf.zeros(v.shape, tf.float32)) for v in variables]
    generator = tf.random.Generator.from_seed(int(seed))
    classes = layer.classes

    @tf.function
    def step(x0: tf.Tensor, y0: tf.Tensor) -> tf.Tensor:
        n = tf.cast(tf.shape(x0)[0], tf.float32)
        h0 = layer.hidden_probabilities(x0, y0)
        h = h0
        for _ in range(cd_steps):
            h_sample = tf.cast(generator.uniform(tf.shape(h)) < h, tf.float32)
            x1 = layer.visible_probabilities(h_sample)
            logits = tf.math.log(layer.label_probabilities(h_sample) + 1e-30)
            draws = tf.random.stateless_categorical(logits, 1, generator.make_seeds(1)[:, 0])
            y1 = tf.one_hot(draws[:, 0], classes)
            h = layer.hidden_probabilities(x1, y1)
        grads = [
            (tf.matmul(x0, h0, transpose_a=True) - tf.matmul(x1, h, transpose_a=True)) / n,
            (tf.matmul(y0, h0, transpose_a=True) - tf.matmul(y1, h, transpose_a=True)) / n,
            tf.reduce_mean(x0 - x1, axis=0),
            tf.reduce_mean(h0 - h, axis=0),
            tf.reduce_mean(y0 - y1, axis=0),
        ]
        for var, vel, g in zip(variables, velocities, grads, strict=True):
            vel.assign(momentum * vel + lr * g)
            var.assign_add(vel)
        return tf.reduce_mean(tf.square(x0 - x1))

    onehot = np.eye(classes, dtype="float32")[y]
    order = np.random.default_rng(int(seed))
    history: dict[str, list[float]] = {"loss": [], "seconds": []}
    if validation_data is not None:
        history["val_error"] = []
    for _ in range(epochs):
        started = time.perf_counter()
        perm = order.permutation(len(x))
        total, batches = 0.0, 0
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            total += float(step(tf.constant(x[idx]), tf.constant(onehot[idx])))
            batches += 1
        history["loss"].append(total / batches)
        history["seconds"].append(time.perf_counter() - started)
        if validation_data is not None:
            pred = np.argmax(model.predict(x_val, batch_size=1000, verbose=0), axis=-1)
            history["val_error"].append(float(np.mean(pred != y_val)))
    model.advkeras_history = history
    return model
