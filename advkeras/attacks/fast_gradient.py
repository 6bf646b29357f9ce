r"""The fast gradient sign method (§4): one gradient gives an adversarial example.

Goodfellow, Shlens & Szegedy (2015, §4) linearise the cost J(θ, x, y) around
the input and take the max-norm-constrained step that increases it most:

.. math::

    \eta = \epsilon \, \operatorname{sign}\left(\nabla_x J(\theta, x, y)\right),
    \qquad \tilde{x} = x + \eta .

For a linear model wᵀx the step changes the activation by ε‖w‖₁, which grows
with the dimension: the paper's linear explanation of adversarial examples.

:func:`fgsm` is the attack (ε·sign(∇), or ε·∇/‖∇‖₂ with ``norm=2``; targeted or
untargeted; NumPy arrays, tensors and ``tf.data`` pipelines),
:func:`fgsm_sweep` a robustness curve (one gradient per batch, many ε) and
:func:`input_gradient` ∇ₓJ itself. Their graphs are the steps of
:mod:`advkeras.attacks.core`, compiled by :mod:`advkeras.attacks.compiled`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import check_clip, check_eps, check_epsilons, check_norm, invalid
from advkeras.attacks import core
from advkeras.attacks._inputs import (
    DEFAULT_BATCH_SIZE,
    as_array,
    batches,
    check_batch_size,
    check_bool,
    check_loss,
    check_tensor_values,
    check_values,
    class_labels,
    clip_tensors,
    float32,
    n_outputs,
)
from advkeras.attacks.compiled import (
    chunk_batches,
    direction_function,
    fgsm_function,
    gradient_function,
    perturbed_forward_function,
)
from advkeras.losses import class_probabilities, predicted_labels, resolve_output_kind

__all__ = ["SweepResult", "fgsm", "fgsm_sweep", "input_gradient"]


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :func:`fgsm_sweep`: one row per ε.

    Attributes:
        epsilons: (E,) the ε values, in the order given.
        error: (E,) fraction of examples misclassified after the attack.
        confidence_on_mistakes: (E,) mean probability the model gives its (wrong)
            predicted class over the misclassified examples; NaN where there is none.
        success: (E, N) bool, True where example n is misclassified at ε_e (with
            ``y=None``: where the prediction differs from the clean prediction).
        norm: the norm of the perturbation (``"inf"``, 1 or 2).
    """

    epsilons: np.ndarray
    error: np.ndarray
    confidence_on_mistakes: np.ndarray
    success: np.ndarray = field(repr=False)
    norm: str | int = "inf"

    def rows(self) -> list[dict[str, float]]:
        """One dict per ε with keys ``eps``, ``error``, ``confidence_on_mistakes``."""
        return [
            {"eps": float(e), "error": float(err), "confidence_on_mistakes": float(c)}
            for e, err, c in zip(
                self.epsilons, self.error, self.confidence_on_mistakes, strict=True
            )
        ]

    def as_dict(self) -> dict[str, list[float]]:
        """Column lists (JSON-friendly): ``epsilons``, ``error``, ``confidence_on_mistakes``."""
        return {
            "epsilons": [float(e) for e in self.epsilons],
            "error": [float(e) for e in self.error],
            "confidence_on_mistakes": [float(c) for c in self.confidence_on_mistakes],
        }


# --------------------------------------------------------------------------- FGSM


def fgsm(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    eps: float,
    targeted: bool = False,
    norm: str | int | float = "inf",
    clip: tuple[float, float] | None = (0.0, 1.0),
    loss: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
    output: str | None = None,
    batch_size: int | None = None,
) -> Any:
    """Fast gradient sign method: x̃ = clip(x + ε·sign(∇ₓJ(θ, x, y))).

    The gradient is taken in a ``tf.function`` compiled once per model and input
    shape (ε and the clip bounds are tensor arguments), with the model called in
    inference mode (``training=False``: dropout off).

    Args:
        model: a Keras classifier with one output of shape (N, K).
        x: inputs, one of: a NumPy array (N, ...) (returns a NumPy float32 array;
            processed in batches written into one preallocated output); a
            ``tf.Tensor`` (returns a ``tf.Tensor``); a ``tf.data.Dataset`` yielding
            ``x`` or ``(x, y)`` batches, or single examples (returns a Dataset with
            the same structure, attacked lazily; labels and value ranges are
            checked in the graph with ``tf.debugging`` assertions).
        y: labels (N,) as class indices, one-hot rows, or for one-unit models
            {0, 1} / {−1, +1}. ``None`` (default): the model's own predictions, so
            that the true label does not leak into the attack. Must be ``None``
            for a Dataset (the labels come from the Dataset).
        eps: ε >= 0, the size of the step (max-norm radius for ``norm="inf"``).
            ``eps=0`` returns ``x`` unchanged (as float32).
        targeted: if True, ``y`` is the target class and the step *lowers* its
            loss, x̃ = x − ε·sign(∇ₓJ(θ, x, target)).
        norm: ``"inf"`` (ε·sign(∇), the paper's method), ``2`` (ε·∇/‖∇‖₂ per
            example) or ``1`` (ε on the coordinate(s) of largest ``|∇|``).
        clip: ``(min, max)`` box the result is clipped to, and that ``x`` must lie
            in; ``None`` turns clipping off (the paper's Fig. 4 does not clip).
        loss: optional per-example cost ``loss(y_int, y_pred) -> (N,)``, called
            with int64 labels (binary labels in {0, 1}); default: the cost of
            :mod:`advkeras.losses` for the model's output kind. Each distinct
            callable is compiled once.
        output: the output kind (``"logits"``, ``"probabilities"``,
            ``"binary_logit"``, ``"binary_probability"``, ``"independent"``) when
            it cannot be read from the model's last layer.
        batch_size: examples per gradient for NumPy inputs (default 1000).

    Returns:
        The adversarial examples, in the type of ``x``.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> x = np.full((2, 4), 0.5, dtype="float32")
        >>> x_adv = fgsm(model, x, np.array([0, 2]), eps=0.1)
        >>> float(np.abs(x_adv - x).max()) <= 0.1 + 1e-6
        True
    """
    eps = check_eps(eps)
    norm = check_norm(norm)
    clip = check_clip(clip)
    targeted = check_bool(targeted, "targeted")
    loss = check_loss(loss)
    batch_size = check_batch_size(batch_size)
    kind = resolve_output_kind(model, output)
    if targeted and y is None and not isinstance(x, tf.data.Dataset):
        raise invalid("y", "the target labels when targeted=True", None)
    options = dict(eps=eps, targeted=targeted, norm=norm, clip=clip, loss=loss, kind=kind)
    if isinstance(x, tf.data.Dataset):
        if y is not None:
            raise invalid("y", "None when x is a tf.data.Dataset (labels come from it)", "labels")
        return _fgsm_dataset(model, x, **options)
    if tf.is_tensor(x):
        return _fgsm_tensor(model, x, y, batch_size=batch_size, **options)
    return _fgsm_numpy(model, x, y, batch_size=batch_size, **options)


def _fgsm_numpy(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    eps: float,
    targeted: bool,
    norm: str | int,
    clip: tuple[float, float] | None,
    loss: Callable[..., Any] | None,
    kind: str,
    batch_size: int | None,
) -> np.ndarray:
    arr = as_array(x)
    check_values(arr, clip)
    n = arr.shape[0]
    labels = None if y is None else class_labels(y, kind, n, model)
    if eps == 0.0:
        return arr.astype(np.float32, copy=True)
    options = (model, kind, loss, norm, targeted, clip is not None, y is None, arr.shape[1:])
    eps_t = tf.constant(eps, tf.float32)
    low, high = clip_tensors(clip)
    result = np.empty(arr.shape, dtype=np.float32)
    # Whole chunks of k batches, one call each (XLA: a loop over the batches), then the rest.
    size = batch_size or DEFAULT_BATCH_SIZE
    k = chunk_batches(model, size, arr.shape[1:])
    rows = k * size
    done = (n // rows) * rows if k > 1 else 0
    if done:
        many = fgsm_function(*options, batches=k)
        no_labels = tf.zeros([k, 0], tf.int64)
        for start in range(0, done, rows):
            part = slice(start, start + rows)
            xs = float32(arr[part].reshape(k, size, *arr.shape[1:]))
            ys = no_labels if labels is None else tf.constant(labels[part].reshape(k, size))
            result[part] = many(xs, ys, eps_t, low, high).numpy().reshape(rows, *arr.shape[1:])
    fn = fgsm_function(*options)
    empty = tf.zeros([0], tf.int64)
    for start, stop in batches(n - done, batch_size):
        part = slice(done + start, done + stop)
        yb = empty if labels is None else tf.constant(labels[part])
        result[part] = fn(float32(arr[part]), yb, eps_t, low, high).numpy()
    return result


def _fgsm_tensor(
    model: keras.Model,
    x: tf.Tensor,
    y: Any,
    *,
    eps: float,
    targeted: bool,
    norm: str | int,
    clip: tuple[float, float] | None,
    loss: Callable[..., Any] | None,
    kind: str,
    batch_size: int | None,
) -> tf.Tensor:
    check_tensor_values(x, clip)
    n = int(tf.shape(x)[0])
    labels = None if y is None else class_labels(y, kind, n, model)
    xf = tf.cast(x, tf.float32)
    if eps == 0.0:
        return tf.identity(xf)
    fn = fgsm_function(
        model, kind, loss, norm, targeted, clip is not None, y is None, tuple(x.shape[1:])
    )
    eps_t = tf.constant(eps, tf.float32)
    low, high = clip_tensors(clip)
    empty = tf.zeros([0], tf.int64)
    size = batch_size or max(n, 1)
    pieces = []
    for start in range(0, max(n, 1), size):
        stop = min(start + size, n)
        yb = empty if labels is None else tf.constant(labels[start:stop])
        pieces.append(fn(xf[start:stop], yb, eps_t, low, high))
    return pieces[0] if len(pieces) == 1 else tf.concat(pieces, axis=0)


def _model_input_rank(model: keras.Model) -> int | None:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1:
        return None
    return len(inputs[0].shape)


def _fgsm_dataset(
    model: keras.Model,
    dataset: tf.data.Dataset,
    *,
    eps: float,
    targeted: bool,
    norm: str | int,
    clip: tuple[float, float] | None,
    loss: Callable[..., Any] | None,
    kind: str,
) -> tf.data.Dataset:
    spec = dataset.element_spec
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], tf.TensorSpec):
        has_labels, x_spec = True, spec[0]
    elif isinstance(spec, tf.TensorSpec):
        has_labels, x_spec = False, spec
    else:
        raise invalid("x", "a tf.data.Dataset yielding x or (x, y) tensors", spec)
    if targeted and not has_labels:
        raise invalid("x", "a Dataset yielding (x, target) pairs when targeted=True", spec)
    if x_spec.shape.rank is None:
        raise invalid("x", "a Dataset whose x has a known rank", x_spec)
    rank = _model_input_rank(model)
    single = rank is not None and x_spec.shape.rank == rank - 1
    feature_shape = tuple(x_spec.shape) if single else tuple(x_spec.shape[1:])
    width = n_outputs(model)
    clipped = clip is not None
    fn = fgsm_function(model, kind, loss, norm, targeted, clipped, not has_labels, feature_shape)
    eps_t = tf.constant(eps, tf.float32)
    low, high = clip_tensors(clip)
    tolerance = 1e-6 * max(1.0, (clip[1] - clip[0]) if clip else 1.0)

    def attack(x: tf.Tensor, y: tf.Tensor | None = None) -> Any:
        xb = tf.cast(x, tf.float32)
        if single:
            xb = xb[tf.newaxis]
        checks = [tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(xb)), ["`x`: NaN or inf"])]
        if clipped:
            inside = tf.reduce_all((xb >= low - tolerance) & (xb <= high + tolerance))
            message = (
                f"`x`: values outside clip=({clip[0]:g}, {clip[1]:g}); for uint8 divide by 255"
            )
            checks.append(tf.debugging.Assert(inside, [message]))
        yb = tf.zeros([0], tf.int64)
        if has_labels:
            yy = y[tf.newaxis] if single else y
            checks += core.label_checks(yy, kind, width)
            yb = core.labels_to_indices(yy, kind)
        with tf.control_dependencies(checks):
            x_adv = fn(xb, yb, eps_t, low, high) if eps > 0 else tf.identity(xb)
        if single:
            x_adv = x_adv[0]
        return (x_adv, y) if has_labels else x_adv

    return dataset.map(attack)


# --------------------------------------------------------------------------- sweep and gradient


def fgsm_sweep(
    model: keras.Model,
    x: Any,
    y: Any,
    epsilons: Any,
    *,
    norm: str | int | float = "inf",
    clip: tuple[float, float] | None = (0.0, 1.0),
    output: str | None = None,
    batch_size: int | None = None,
) -> SweepResult:
    """Error and confidence of untargeted FGSM at many ε, from one gradient per batch.

    The direction sign(∇ₓJ) does not depend on ε, so it is computed once per
    batch and reused: a whole robustness curve costs one backward pass plus one
    forward pass per ε (Foolbox-style ``epsilons=[...]``).

    Args:
        model: a Keras classifier with one output of shape (N, K).
        x: NumPy array (or tensor) of inputs (N, ...).
        y: true labels (N,) (see :func:`fgsm`), or ``None`` for the model's
            predictions (then "error" is the fraction of changed predictions).
        epsilons: one ε or a sequence of ε >= 0.
        norm: ``"inf"``, ``2`` or ``1``, as in :func:`fgsm`.
        clip: ``(min, max)`` box, or ``None``.
        output: the output kind, when it cannot be inferred.
        batch_size: examples per gradient (default 1000).

    Returns:
        A :class:`SweepResult`. ``confidence_on_mistakes`` is the mean
        probability of the predicted (wrong) class; for ``"independent"`` outputs
        (RBF, sigmoids) that is the largest per-class output.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> x = np.random.default_rng(0).random((8, 4), dtype="float32")
        >>> result = fgsm_sweep(model, x, np.zeros(8, int), [0.0, 0.1, 0.3])
        >>> result.success.shape
        (3, 8)
    """
    eps_values = check_epsilons(epsilons)
    norm = check_norm(norm)
    clip = check_clip(clip)
    batch_size = check_batch_size(batch_size)
    kind = resolve_output_kind(model, output)
    arr = as_array(x)
    check_values(arr, clip)
    n = arr.shape[0]
    labels = None if y is None else class_labels(y, kind, n, model)
    direction = direction_function(model, kind, norm, y is None, arr.shape[1:])
    forward = perturbed_forward_function(model, clip is not None, arr.shape[1:])
    low, high = clip_tensors(clip)
    eps_tensors = [tf.constant(e, tf.float32) for e in eps_values]
    empty = tf.zeros([0], tf.int64)
    success = np.zeros((len(eps_values), n), dtype=bool)
    confidence_sum = np.zeros(len(eps_values))
    for start, stop in batches(n, batch_size):
        xb = float32(arr[start:stop])
        d, used = direction(xb, empty if labels is None else tf.constant(labels[start:stop]))
        used = used.numpy()
        for e, eps_t in enumerate(eps_tensors):
            out = forward(xb, d, eps_t, low, high).numpy()
            predicted = predicted_labels(out, kind)
            wrong = predicted != used
            success[e, start:stop] = wrong
            probs = class_probabilities(out, kind)
            confidence_sum[e] += probs[np.arange(len(out)), predicted][wrong].sum()
    mistakes = success.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(mistakes > 0, confidence_sum / np.maximum(mistakes, 1), np.nan)
    error = success.mean(axis=1) if n else np.full(len(eps_values), np.nan)
    return SweepResult(
        epsilons=np.asarray(eps_values, dtype=np.float64),
        error=error,
        confidence_on_mistakes=confidence,
        success=success,
        norm=norm,
    )


def input_gradient(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    output: str | None = None,
    loss: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
    batch_size: int | None = None,
) -> np.ndarray:
    """The gradient of each example's cost with respect to its input, ∇ₓJ(θ, x, y).

    Args:
        model: a Keras classifier with one output of shape (N, K).
        x: inputs (N, ...), NumPy array or tensor (no clip box is imposed).
        y: labels (N,) (see :func:`fgsm`), or ``None`` for the model's predictions.
        output: the output kind, when it cannot be inferred.
        loss: optional per-example cost ``loss(y_int, y_pred) -> (N,)``.
        batch_size: examples per gradient (default 1000).

    Returns:
        A float32 array shaped like ``x``; ``np.sign`` of it is FGSM's direction.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> input_gradient(model, np.ones((2, 4)), np.array([0, 1])).shape
        (2, 4)
    """
    loss = check_loss(loss)
    batch_size = check_batch_size(batch_size)
    kind = resolve_output_kind(model, output)
    arr = as_array(x)
    check_values(arr, None)
    return _gradient(model, arr, y, kind, loss, batch_size)


def _gradient(
    model: keras.Model,
    arr: np.ndarray,
    y: Any,
    kind: str,
    loss: Callable[..., Any] | None,
    batch_size: int | None,
) -> np.ndarray:
    n = arr.shape[0]
    labels = None if y is None else class_labels(y, kind, n, model)
    fn = gradient_function(model, kind, loss, y is None, arr.shape[1:])
    empty = tf.zeros([0], tf.int64)
    result = np.empty(arr.shape, dtype=np.float32)
    for start, stop in batches(n, batch_size):
        yb = empty if labels is None else tf.constant(labels[start:stop])
        result[start:stop] = fn(float32(arr[start:stop]), yb)[0].numpy()
    return result
