"""The cost J(θ, x, y) that the attacks differentiate and adversarial training minimises.

The loss is derived from the model: its last layer says whether it outputs
logits, a softmax distribution, one binary unit, or independent per-class
probabilities (sigmoids, RBF units). A model whose output is none of these
gets a clear error, and the kind can always be given explicitly.

Output kinds:

``"logits"``
    (N, K) unnormalised scores, K > 1. Cost: softmax cross-entropy.
``"probabilities"``
    (N, K) softmax distribution. Cost: −log p_y (Keras uses the logits behind a
    softmax activation when they are available, so this stays numerically exact).
``"binary_logit"`` / ``"binary_probability"``
    (N, 1): one logit z with p(y=1|x) = σ(z), or σ(z) itself. Labels in {0, 1}
    or {−1, +1}. Cost: ζ(−y z) with y ∈ {−1, +1}, the paper's logistic loss.
``"independent"``
    (N, K) per-class probabilities that need not sum to one (independent
    sigmoids, RBF units). Cost: sum over classes of the binary cross-entropy
    against the one-hot label.

The §5 closed form of adversarial logistic regression is here too:
:func:`adversarial_logistic_loss` (per example) and
:func:`adversarial_logistic_objective` (for a one-unit Keras model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import check_choice, check_eps, check_labels, invalid

OutputKind = Literal["logits", "probabilities", "binary_logit", "binary_probability", "independent"]
#: The output kinds a model can have, the values of ``output=``.
OUTPUT_KINDS: tuple[str, ...] = (
    "logits",
    "probabilities",
    "binary_logit",
    "binary_probability",
    "independent",
)
_PROB_EPS = 1e-7

PerExampleLoss = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


def _activation_name(layer: Any) -> str | None:
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", None)


def _kind_of_layer(layer: Any, units: int) -> str | None:
    declared = getattr(layer, "advkeras_output_kind", None)
    if declared is not None:
        return declared
    if isinstance(layer, keras.Model):  # a nested model (e.g. an ensemble member): its own output
        return _kind_of_layer(_output_layer(layer), units)
    if isinstance(layer, keras.layers.Average | keras.layers.Maximum | keras.layers.Minimum):
        kinds = {_kind_of_layer(_inbound(t), units) for t in _inputs_of(layer)}
        return kinds.pop() if len(kinds) == 1 else None
    name = _activation_name(layer)
    if name == "softmax":
        return "probabilities" if units > 1 else None
    if name in ("linear", None) and hasattr(layer, "kernel"):
        return "logits" if units > 1 else "binary_logit"
    if name == "linear":
        return "logits" if units > 1 else "binary_logit"
    if name == "sigmoid":
        return "independent" if units > 1 else "binary_probability"
    return None


def _inputs_of(layer: Any) -> list[Any]:
    node = layer._inbound_nodes[0]
    return list(node.input_tensors)


def _inbound(tensor: Any) -> Any:
    return tensor._keras_history.operation


def _output_layer(model: keras.Model) -> Any:
    outputs = getattr(model, "outputs", None)
    if outputs:
        if len(outputs) != 1:
            raise ValueError(
                "Received a model with several outputs. Expected a classifier with one output. "
                f"Received: {len(outputs)} outputs"
            )
        return _inbound(outputs[0])
    if getattr(model, "layers", None):
        return model.layers[-1]
    raise ValueError(
        "Cannot find the output layer of this model (a subclassed model that was never built?). "
        "Pass `output=` explicitly, one of " + ", ".join(OUTPUT_KINDS)
    )


def infer_output_kind(model: keras.Model) -> str:
    """Read the model's output kind (see the module docstring) from its last layer."""
    layer = _output_layer(model)
    shape = tuple(model.output_shape) if hasattr(model, "output_shape") else None
    if shape is None or len(shape) != 2 or shape[-1] is None:
        raise ValueError(
            "Expected a classifier whose output has shape (batch, classes). "
            f"Received: output shape {shape}"
        )
    kind = _kind_of_layer(layer, int(shape[-1]))
    if kind is None:
        raise ValueError(
            f"Cannot tell whether the output of layer {layer.name!r} "
            f"(activation {_activation_name(layer)!r}, width {shape[-1]}) is logits or "
            "probabilities. Pass `output=` explicitly, one of " + ", ".join(OUTPUT_KINDS)
        )
    return kind


def resolve_output_kind(model: keras.Model, output: str | None = None) -> str:
    """Return the explicit ``output`` after validation, else the inferred kind."""
    if output is None:
        return infer_output_kind(model)
    kind = check_choice(output, OUTPUT_KINDS, "output")
    width = model.output_shape[-1]
    if kind.startswith("binary") and width != 1:
        raise ValueError(
            f"Received output={output!r} for a model with {width} outputs. "
            "Expected a single output unit for a binary kind."
        )
    if not kind.startswith("binary") and width == 1:
        raise ValueError(
            f"Received output={output!r} for a model with 1 output. "
            "Expected 'binary_logit' or 'binary_probability'."
        )
    return kind


def per_example_loss(kind: str) -> PerExampleLoss:
    """Return ``loss(y, y_pred) -> (N,)`` for integer labels ``y`` (binary labels in {0, 1})."""
    check_choice(kind, OUTPUT_KINDS, "output")

    if kind == "logits":

        def loss(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
            return tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.cast(y, tf.int32), logits=out
            )

    elif kind == "probabilities":

        def loss(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
            return keras.losses.sparse_categorical_crossentropy(y, out)

    elif kind == "binary_logit":

        def loss(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
            z = out[:, 0]
            sign = 2.0 * tf.cast(y, z.dtype) - 1.0
            return tf.nn.softplus(-sign * z)

    elif kind == "binary_probability":

        def loss(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
            p = tf.clip_by_value(out[:, 0], _PROB_EPS, 1.0 - _PROB_EPS)
            t = tf.cast(y, p.dtype)
            return -(t * tf.math.log(p) + (1.0 - t) * tf.math.log(1.0 - p))

    else:

        def loss(y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
            p = tf.clip_by_value(out, _PROB_EPS, 1.0 - _PROB_EPS)
            t = tf.one_hot(tf.cast(y, tf.int32), tf.shape(out)[-1], dtype=p.dtype)
            bce = -(t * tf.math.log(p) + (1.0 - t) * tf.math.log(1.0 - p))
            return tf.reduce_sum(bce, axis=-1)

    return loss


def labels_for(y: Any, kind: str, n: int, n_outputs: int, argument: str = "y") -> np.ndarray:
    """Validate labels for a model output kind; binary labels come back in {0, 1}."""
    return check_labels(y, n, n_outputs, argument=argument, binary=kind.startswith("binary"))


def predicted_labels(out: np.ndarray | tf.Tensor, kind: str) -> np.ndarray:
    """Class predictions from model outputs (binary: 1 where p(y=1|x) > 0.5)."""
    out = np.asarray(out)
    if kind == "binary_logit":
        return (out[:, 0] > 0).astype(np.int64)
    if kind == "binary_probability":
        return (out[:, 0] > 0.5).astype(np.int64)
    return out.argmax(axis=-1).astype(np.int64)


def class_probabilities(out: np.ndarray | tf.Tensor, kind: str) -> np.ndarray:
    """Per-class probabilities from model outputs: (N, K), or (N, 2) for binary models.

    For ``"independent"`` outputs the rows need not sum to one (an RBF network
    can be unsure of every class).
    """
    out = np.asarray(out, dtype=np.float64)
    if kind == "logits":
        z = out - out.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)
    if kind == "binary_logit":
        p1 = 1.0 / (1.0 + np.exp(-out[:, 0]))
        return np.stack([1.0 - p1, p1], axis=-1)
    if kind == "binary_probability":
        return np.stack([1.0 - out[:, 0], out[:, 0]], axis=-1)
    return out


def logistic_loss(y_pm: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """ζ(−y(wᵀx + b)) for labels y ∈ {−1, +1}: the paper's §5 logistic regression cost."""
    return tf.nn.softplus(-tf.cast(y_pm, logits.dtype) * logits)


def adversarial_logistic_loss(
    y_pm: tf.Tensor, logits: tf.Tensor, w: tf.Tensor, eps: float
) -> tf.Tensor:
    """Closed-form adversarial logistic loss ζ(ε‖w‖₁ − y(wᵀx + b)).

    For logistic regression the worst perturbation with ‖η‖∞ ≤ ε is exactly
    η* = −ε·y·sign(w), so J(x + η*) has this closed form. The paper prints it as
    ζ(y(ε‖w‖₁ − wᵀx − b)), which multiplies the penalty ε‖w‖₁ by y: a typo, since
    for y = −1 it would *reward* a large ‖w‖₁. This function uses the corrected
    form, derived from training on x − ε·y·sign(w).

    Args:
        y_pm: labels in {−1, +1}, shape (N,).
        logits: wᵀx + b on the clean inputs, shape (N,).
        w: the weight vector (any shape; only ‖w‖₁ is used).
        eps: the max-norm radius ε >= 0.
    """
    eps = check_eps(eps)
    y = tf.cast(y_pm, logits.dtype)
    return tf.nn.softplus(eps * tf.reduce_sum(tf.abs(tf.cast(w, logits.dtype))) - y * logits)


def adversarial_logistic_loss_as_printed(
    y_pm: tf.Tensor, logits: tf.Tensor, w: tf.Tensor, eps: float
) -> tf.Tensor:
    """The formula exactly as printed in §5, ζ(y(ε‖w‖₁ − wᵀx − b)), kept to show the typo."""
    eps = check_eps(eps)
    y = tf.cast(y_pm, logits.dtype)
    return tf.nn.softplus(y * (eps * tf.reduce_sum(tf.abs(tf.cast(w, logits.dtype))) - logits))


def _linear_unit(model: keras.Model) -> tuple[tf.Tensor, int]:
    kernels = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    if len(kernels) != 1 or tuple(kernels[0].kernel.shape)[-1] != 1:
        raise invalid(
            "model",
            "a linear model with one Dense unit (output kind 'binary_logit')",
            f"a model with {len(kernels)} layers with a kernel",
        )
    return kernels[0].kernel, int(np.prod(kernels[0].kernel.shape))


def adversarial_logistic_objective(
    model: keras.Model,
    x: Any,
    y_pm: Any,
    eps: float,
    *,
    reduction: str = "mean",
) -> tf.Tensor:
    """The §5 closed form ζ(ε‖w‖₁ − y(wᵀx + b)) for a one-unit linear Keras model.

    For logistic regression the worst max-norm perturbation is known exactly,
    η* = −ε·y·sign(w), so training on x + η* minimises this objective, with no
    gradient with respect to x to compute. It uses the corrected form of the
    paper's equation (see :func:`adversarial_logistic_loss`).
    The value is differentiable with respect to the model's weights, so it can
    be minimised with a ``tf.GradientTape``.

    Args:
        model: a linear classifier with one output logit (e.g. ``Input(784) →
            Dense(1)``, output kind ``"binary_logit"``).
        x: inputs, shape (N, d) (anything the model accepts).
        y_pm: labels in {−1, +1} (or {0, 1}, read as 0 → −1), shape (N,).
        eps: ε >= 0.
        reduction: ``"mean"`` (a scalar) or ``"none"`` (shape (N,)).

    Returns:
        A float32 tensor.

    Example:

    >>> import keras, numpy as np
    >>> lr = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> x = np.ones((2, 3), "float32"); y = np.array([1, -1])
    >>> float(adversarial_logistic_objective(lr, x, y, 0.0)) > 0
    True
    """
    eps = check_eps(eps)
    check_choice(reduction, ("mean", "none"), "reduction")
    kind = resolve_output_kind(model)
    if kind != "binary_logit":
        raise invalid("model", "a model whose output kind is 'binary_logit'", kind)
    w, _ = _linear_unit(model)
    x = tf.convert_to_tensor(x, tf.float32)
    y01 = labels_for(np.asarray(y_pm), kind, int(x.shape[0]), 1, argument="y_pm")
    y = tf.constant(2.0 * y01 - 1.0, tf.float32)
    logits = tf.cast(model(x, training=False)[:, 0], tf.float32)
    per_example = adversarial_logistic_loss(y, logits, w, eps)
    return tf.reduce_mean(per_example) if reduction == "mean" else per_example
