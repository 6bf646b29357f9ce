"""FGSM against an ensemble of softmax classifiers, with the exact gradient of −log p̄(y | x).

§9's ensemble predicts with the arithmetic mean of its members' class
probabilities, p̄(y | x) = (1/M) Σ_m p_m(y | x) (:func:`advkeras.models.ensemble`),
and the attack on the whole ensemble steps along ε·sign(∇ₓ −log p̄_y). Computed
the usual way in float32, that gradient loses a term on every digit that a
member classifies so confidently that its softmax rounds p_y to exactly 1:
the factor 1 − p_y of ∇z_y is then 0, and what is left is the push on the other
classes' logits alone. Written with the softmax's normalisation explicit,

    ∇ₓ −log p̄_y = Σ_m c_m Σ_{k≠y} q_mk (∇z_mk − ∇z_my),

    c_m ∝ p_my (1 − p_my),   q_mk = p_mk / (1 − p_my)   (k ≠ y),

every factor can be computed from the logits z in log space without rounding
to 0 or 1, and since FGSM keeps only the sign, c_m is normalised per example.
For one member it is the gradient of that member's own cost, so the attack on
"the whole ensemble" of one member and the attack "through" it are the same.

The paper does not say how its ensemble combines its members. ``combine="geometric"``
is the other common reading: the normalised geometric mean of the members'
probabilities, softmax((1/M) Σ_m z_m), whose gradient Σ_{k≠y} q_k (∇z̄_k − ∇z̄_y)
is computed the same way from the averaged logits z̄.

- :func:`logits_function`: the logits behind a model's softmax output layer;
- :func:`fgsm_direction`: sign(∇ₓ −log p̄_y) for one or more members;
- :func:`ensemble_fgsm`: x + ε·that direction, optionally clipped;
- :func:`mean_probabilities`: p̄(y | x), either way.

Example:

>>> import keras, numpy as np
>>> from advkeras import models
>>> nets = [models.shallow_softmax(4, 3), models.shallow_softmax(4, 3)]
>>> x = np.random.default_rng(0).random((5, 4)).astype("float32")
>>> ensemble_fgsm(nets, x, np.zeros(5, int), eps=0.1).shape
(5, 4)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import (
    check_choice,
    check_clip,
    check_eps,
    check_feature_rows,
    check_labels,
    check_positive_int,
    invalid,
)

#: How the members' predictions are combined: the arithmetic mean of their
#: probabilities, or the normalised geometric mean (the softmax of their mean logits).
COMBINE = ("mean", "geometric")

__all__ = ["ensemble_fgsm", "fgsm_direction", "logits_function", "mean_probabilities"]


def _is_softmax(layer: Any) -> bool:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", activation) == "softmax"


def logits_function(model: keras.Model) -> Callable[[tf.Tensor], tf.Tensor]:
    """The logits z behind a model's softmax output: a function ``x → z`` sharing its weights.

    The model's output layer must be a ``Dense`` layer with a softmax activation
    (the maxout networks' and softmax regression's ``"y"``); the function runs
    the layers below it in inference mode (dropout off) and applies that layer's
    kernel and bias without the softmax.

    Args:
        model: a functional Keras classifier with a softmax ``Dense`` output layer.

    Returns:
        A function of a float32 tensor (N, ...) returning the logits (N, K).

    Example:

    >>> from advkeras import models
    >>> net = models.shallow_softmax(4, 3)
    >>> x = np.ones((2, 4), "float32")
    >>> z = logits_function(net)(tf.constant(x))
    >>> bool(np.allclose(tf.nn.softmax(z), net(x)))
    True
    """
    outputs = getattr(model, "outputs", None) if isinstance(model, keras.Model) else None
    if not outputs or len(outputs) != 1:
        raise invalid("model", "a functional keras.Model with one output", model)
    last = outputs[0]._keras_history.operation
    if not isinstance(last, keras.layers.Dense) or not _is_softmax(last):
        raise invalid(
            "model",
            "a classifier whose output layer is a Dense layer with softmax activation",
            f"{model.name!r} with output layer {last.name!r} ({type(last).__name__})",
        )
    body = keras.Model(model.inputs[0], last.input)

    def logits(x: tf.Tensor) -> tf.Tensor:
        h = body(x, training=False)
        return tf.matmul(h, tf.cast(last.kernel, h.dtype)) + tf.cast(last.bias, h.dtype)

    return logits


def _members(members: Any) -> list[keras.Model]:
    if isinstance(members, keras.Model) or not isinstance(members, Sequence) or not members:
        raise invalid("members", "a non-empty sequence of keras.Model", members)
    return list(members)


def _direction_step(
    logit_fns: Sequence[Callable[[tf.Tensor], tf.Tensor]], classes: int, combine: str
) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    @tf.function(reduce_retracing=True)
    def step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = tf.stack([f(x) for f in logit_fns], axis=0)  # (M, N, K)
            if combine == "geometric":  # one "member": the softmax of the mean logits
                z = tf.reduce_mean(z, axis=0, keepdims=True)
            onehot = tf.one_hot(y, classes)[None] > 0.5  # (1, N, K), boolean
            z_y = tf.reduce_sum(tf.where(onehot, z, 0.0), axis=-1)  # (M, N)
            others = tf.where(onehot, tf.constant(-np.inf, z.dtype), z)
            log_norm = tf.reduce_logsumexp(z, axis=-1)
            log_py = z_y - log_norm  # log p_my
            log_1m = tf.reduce_logsumexp(others, axis=-1) - log_norm  # log(1 − p_my)
            # c_m ∝ w_m (1 − p_my), w_m = p_my / Σ p_m'y: normalised over members per example.
            c = tf.nn.softmax(tf.nn.log_softmax(log_py, axis=0) + log_1m, axis=0)
            q = tf.nn.softmax(others, axis=-1)  # p_mk / (1 − p_my), 0 at k = y
            c, q = tf.stop_gradient(c), tf.stop_gradient(q)
            surrogate = tf.reduce_sum(c * tf.reduce_sum(q * (z - z_y[..., None]), axis=-1))
        return tf.sign(tape.gradient(surrogate, x))

    return step


def _check_members(members: Any) -> tuple[list[Callable[[tf.Tensor], tf.Tensor]], int]:
    members = _members(members)
    fns = [logits_function(m) for m in members]
    classes = {int(m.output_shape[-1]) for m in members}
    if len(classes) != 1:
        raise invalid("members", "classifiers with one common number of classes", sorted(classes))
    return fns, classes.pop()


def fgsm_direction(
    members: Sequence[keras.Model],
    x: Any,
    y: Any,
    *,
    combine: str = "mean",
    batch_size: int = 1000,
) -> np.ndarray:
    """sign(∇ₓ −log p̄(y | x)) for the members' combined softmax outputs, computed stably.

    Args:
        members: one or more classifiers accepted by :func:`logits_function`,
            with the same number of classes.
        x: inputs, shape (N, features).
        y: true labels, shape (N,).
        combine: ``"mean"`` (p̄ = mean of the probabilities) or ``"geometric"``
            (p̄ = softmax of the mean logits).
        batch_size: examples per gradient.

    Returns:
        The direction, float32 array of x's shape with entries in {−1, 0, 1}.

    Example:

    >>> from advkeras import models
    >>> net = models.shallow_softmax(3, 2)
    >>> _ = net.get_layer("y").kernel.assign([[1.0, -1.0], [0.0, 0.0], [-2.0, 2.0]])
    >>> fgsm_direction([net], np.zeros((1, 3), "float32"), [0])  # raise z_1 − z_0
    array([[-1.,  0.,  1.]], dtype=float32)
    """
    fns, k = _check_members(members)
    combine = check_choice(combine, COMBINE, "combine")
    xs = check_feature_rows(x)
    labels = check_labels(y, len(xs), k)
    batch_size = check_positive_int(batch_size, "batch_size")
    step = _direction_step(fns, k, combine)
    out = np.empty_like(xs)
    for start in range(0, len(xs), batch_size):
        stop = start + batch_size
        out[start:stop] = step(tf.constant(xs[start:stop]), tf.constant(labels[start:stop]))
    return out


def ensemble_fgsm(
    members: Sequence[keras.Model],
    x: Any,
    y: Any,
    *,
    eps: float,
    clip: tuple[float, float] | None = None,
    combine: str = "mean",
    batch_size: int = 1000,
) -> np.ndarray:
    """FGSM against the members' combined probabilities: x + ε·:func:`fgsm_direction`.

    Pass all the members for the attack on the whole ensemble, or ``[members[j]]``
    for the attack through member ``j`` alone (then score the examples with
    :func:`mean_probabilities` of all of them).

    Args:
        members: one or more softmax classifiers (see :func:`logits_function`).
        x: clean inputs, shape (N, features).
        y: true labels, shape (N,).
        eps: the step ε >= 0.
        clip: ``None`` (the paper's unclipped examples) or ``(low, high)``.
        combine: ``"mean"`` or ``"geometric"``, as in :func:`fgsm_direction`.
        batch_size: examples per gradient.

    Returns:
        The adversarial examples, float32, x's shape.
    """
    eps = check_eps(eps)
    clip = check_clip(clip)
    xs = check_feature_rows(x)
    direction = fgsm_direction(members, xs, y, combine=combine, batch_size=batch_size)
    out = xs + np.float32(eps) * direction
    return out if clip is None else np.clip(out, *clip).astype(np.float32)


def mean_probabilities(
    members: Sequence[keras.Model], x: Any, *, combine: str = "mean", batch_size: int = 1000
) -> np.ndarray:
    """p̄(y | x), shape (N, K): what the ensemble predicts with.

    ``combine="mean"``: (1/M) Σ_m p_m(y | x), the members' predictions averaged;
    ``"geometric"``: softmax((1/M) Σ_m z_m), from the members' logits.

    Example:

    >>> from advkeras import models
    >>> nets = [models.shallow_softmax(4, 3), models.shallow_softmax(4, 3)]
    >>> mean_probabilities(nets, np.ones((2, 4), "float32")).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """
    combine = check_choice(combine, COMBINE, "combine")
    xs = check_feature_rows(x)
    batch_size = check_positive_int(batch_size, "batch_size")
    if combine == "mean":
        members = _members(members)
        return np.mean([m.predict(xs, batch_size=batch_size, verbose=0) for m in members], axis=0)
    fns, _ = _check_members(members)
    out = []
    for start in range(0, len(xs), batch_size):
        xb = tf.constant(xs[start : start + batch_size])
        out.append(tf.nn.softmax(tf.reduce_mean([f(xb) for f in fns], axis=0)).numpy())
    return np.concatenate(out)
