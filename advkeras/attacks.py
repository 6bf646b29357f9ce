r"""The fast gradient sign method and the paper's other perturbations.

Goodfellow, Shlens & Szegedy (2015, §4) linearise the cost J(θ, x, y) around
the input and take the max-norm-constrained step that increases it most:

.. math::

    \eta = \epsilon \, \operatorname{sign}\left(\nabla_x J(\theta, x, y)\right),
    \qquad \tilde{x} = x + \eta .

One gradient (one backward pass) gives an adversarial example. For a linear
model wᵀx the step changes the activation by ε‖w‖₁, which grows with the
dimension: the paper's linear explanation of adversarial examples.

What lives here:

- :func:`fgsm` (the attack; ε·sign(∇), or ε·∇/‖∇‖₂ with ``norm=2``; targeted or
  untargeted; NumPy arrays, tensors and ``tf.data`` pipelines) and
  :func:`fgsm_sweep` (one gradient per batch, many ε: a robustness curve);
- :func:`input_gradient` (∇ₓJ itself, for figures);
- :func:`rotate_toward_gradient` (§4: "rotating x by a small angle in the
  direction of the gradient reliably produces adversarial examples");
- :func:`random_sign_noise`, :func:`uniform_noise` (§6's noise controls);
- :func:`gaussian_rubbish`, :func:`fooling_step` (Appendix A's rubbish-class
  examples);
- :func:`lbfgs_attack` (Szegedy et al. 2014's box-constrained L-BFGS, the slow
  attack that FGSM is compared with).

The cost J comes from :mod:`advkeras.losses`: it is read from the model's
output layer (logits, softmax, one binary unit, independent sigmoids/RBF units),
or given with ``output=``. Losses are summed over the batch, so each example's
gradient is the gradient of its own loss. Every gradient is taken in a
``tf.function`` compiled once per model and input shape; ε and the clip bounds
are tensor arguments, so sweeping ε never retraces.
"""

from __future__ import annotations

import collections
import math
import os
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import scipy.optimize
import tensorflow as tf

from advkeras import environment
from advkeras._validation import (
    check_clip,
    check_eps,
    check_epsilons,
    check_finite,
    check_inputs_in_clip,
    check_norm,
    check_positive_int,
    invalid,
)
from advkeras.losses import (
    class_probabilities,
    labels_for,
    per_example_loss,
    predicted_labels,
    resolve_output_kind,
)

__all__ = [
    "LBFGSResult",
    "SweepResult",
    "fgsm",
    "fgsm_sweep",
    "fooling_step",
    "gaussian_rubbish",
    "input_gradient",
    "lbfgs_attack",
    "random_sign_noise",
    "rotate_toward_gradient",
    "uniform_noise",
]

DEFAULT_BATCH_SIZE = 1000
"""Examples per gradient computation when ``batch_size`` is not given."""

_PROB_EPS = 1e-7

# One dict of compiled functions per model; the functions hold only a weak
# reference to the model, so a model that goes out of scope frees its entry.
_COMPILED: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
# How many times each kind of compiled function has been traced (tests read it).
_trace_counts: collections.Counter[str] = collections.Counter()

_SCALAR = tf.TensorSpec(shape=(), dtype=tf.float32)
_LABELS = tf.TensorSpec(shape=(None,), dtype=tf.int64)


# --------------------------------------------------------------------------- results


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


@dataclass(frozen=True)
class LBFGSResult:
    """Outcome of :func:`lbfgs_attack`, one entry per example.

    Attributes:
        x_adv: (N, ...) float32 adversarial examples (for a failure: the
            minimiser found with the weakest penalty tried).
        success: (N,) bool, True where the model predicts the target on ``x_adv``.
        l2: (N,) ‖x_adv − x‖₂.
        linf: (N,) ‖x_adv − x‖∞.
        seconds: (N,) wall-clock time spent on each example.
        c: (N,) the penalty weight c of the returned example (NaN where the model
            already predicted the target, so that nothing was optimised).
    """

    x_adv: np.ndarray = field(repr=False)
    success: np.ndarray
    l2: np.ndarray
    linf: np.ndarray
    seconds: np.ndarray
    c: np.ndarray

    @property
    def success_rate(self) -> float:
        """Fraction of examples for which the target was reached."""
        return float(np.mean(self.success)) if self.success.size else float("nan")


# --------------------------------------------------------------------------- validation helpers


def _as_array(x: Any, argument: str = "x") -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf" or arr.ndim < 1:
        raise invalid(
            argument,
            "a numeric array of shape (N, ...)",
            f"an array of dtype {arr.dtype} and shape {arr.shape}",
        )
    return arr


def _check_values(arr: np.ndarray, clip: tuple[float, float] | None, argument: str = "x") -> None:
    check_inputs_in_clip(arr, clip, argument)
    if clip is None and arr.dtype.kind == "f" and arr.size:
        check_finite(arr, argument)


def _check_tensor_values(x: tf.Tensor, clip: tuple[float, float] | None) -> None:
    if x.shape.rank is None or x.shape.rank < 1 or not (x.dtype.is_floating or x.dtype.is_integer):
        raise invalid(
            "x", "a numeric tensor of shape (N, ...)", f"{x.dtype.name} of shape {x.shape}"
        )
    if x.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(x))):
        raise invalid("x", "finite values", "a tensor containing NaN or inf")
    if clip is not None and int(tf.size(x)) > 0:
        extremes = np.array([tf.reduce_min(x).numpy(), tf.reduce_max(x).numpy()])
        check_inputs_in_clip(extremes.astype(x.dtype.as_numpy_dtype), clip, "x")


def _check_bool(value: Any, argument: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise invalid(argument, "True or False", value)
    return bool(value)


def _check_loss(loss: Any) -> Callable[..., Any] | None:
    if loss is not None and not callable(loss):
        raise invalid("loss", "None or a callable (y_true, y_pred) -> per-example loss (N,)", loss)
    return loss


def _check_batch_size(batch_size: Any) -> int | None:
    return None if batch_size is None else check_positive_int(batch_size, "batch_size")


def _check_finite(value: Any, argument: str, expected: str = "a finite number") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise invalid(argument, expected, value) from None
    if not math.isfinite(v):
        raise invalid(argument, expected, value)
    return v


def _n_outputs(model: keras.Model) -> int:
    return int(model.output_shape[-1])


def _labels(y: Any, kind: str, n: int, model: keras.Model, argument: str = "y") -> np.ndarray:
    if tf.is_tensor(y):
        y = y.numpy()
    return labels_for(y, kind, n, _n_outputs(model), argument=argument)


def _targets(target: Any, kind: str, n: int, model: keras.Model) -> np.ndarray:
    if tf.is_tensor(target):
        target = target.numpy()
    arr = np.asarray(target)
    if arr.ndim == 0:
        arr = np.full(n, arr.item())
    return labels_for(arr, kind, n, _n_outputs(model), argument="target")


def _rng(seed: Any) -> np.random.Generator:
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise invalid("seed", "None, a non-negative integer or a numpy Generator", seed) from None


def _batches(n: int, batch_size: int | None) -> Iterator[tuple[int, int]]:
    size = batch_size or DEFAULT_BATCH_SIZE
    for start in range(0, n, size):
        yield start, min(start + size, n)


def _clip_tensors(clip: tuple[float, float] | None) -> tuple[tf.Tensor, tf.Tensor]:
    low, high = clip if clip is not None else (0.0, 0.0)
    return tf.constant(low, tf.float32), tf.constant(high, tf.float32)


def _f32(x: np.ndarray) -> tf.Tensor:
    return tf.convert_to_tensor(np.asarray(x, dtype=np.float32))


# --------------------------------------------------------------------------- graph pieces


def _predicted_labels_graph(out: tf.Tensor, kind: str) -> tf.Tensor:
    if kind == "binary_logit":
        return tf.cast(out[:, 0] > 0.0, tf.int64)
    if kind == "binary_probability":
        return tf.cast(out[:, 0] > 0.5, tf.int64)
    return tf.argmax(out, axis=-1, output_type=tf.int64)


def _forward(model: keras.Model, x: tf.Tensor) -> tf.Tensor:
    out = model(x, training=False)
    if out.dtype != tf.float32:  # mixed precision
        out = tf.cast(out, tf.float32)
    return out


def _gradient_graph(
    model: keras.Model,
    x: tf.Tensor,
    y: tf.Tensor,
    kind: str,
    loss_fn: Callable[..., Any],
    use_predictions: bool,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """∇ₓ Σᵢ J(xᵢ, yᵢ), the summed loss, and the labels used (given or predicted)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = _forward(model, x)
        if use_predictions:
            y = _predicted_labels_graph(out, kind)
        total = tf.reduce_sum(tf.cast(loss_fn(y, out), tf.float32))
    return tape.gradient(total, x), total, y


def _direction(g: tf.Tensor, norm: str | int) -> tf.Tensor:
    """The unit-norm step that maximises the linearised loss: sign(g), g/‖g‖₂, or ±ε on argmax|g|."""
    if norm == "inf":
        return tf.sign(g)
    flat = tf.reshape(g, [tf.shape(g)[0], -1])
    scale = tf.reduce_max(tf.abs(flat), axis=1, keepdims=True)
    flat = tf.math.divide_no_nan(flat, scale)  # avoids underflow of tiny gradients
    if norm == 2:
        length = tf.norm(flat, axis=1, keepdims=True)
        step = tf.math.divide_no_nan(flat, length)
    else:
        magnitude = tf.abs(flat)
        top = tf.logical_and(
            tf.equal(magnitude, tf.reduce_max(magnitude, axis=1, keepdims=True)), magnitude > 0
        )
        mask = tf.cast(top, flat.dtype)
        count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        step = tf.sign(flat) * mask / count
    return tf.reshape(step, tf.shape(g))


def _log_target_probability(out: tf.Tensor, target: tf.Tensor, kind: str) -> tf.Tensor:
    """log p(target | x) for each example."""
    if kind == "independent":
        p = tf.gather(out, target, axis=1, batch_dims=1)
        return tf.math.log(tf.clip_by_value(p, _PROB_EPS, 1.0))
    # For the other kinds the loss is exactly −log p(y | x).
    return -per_example_loss(kind)(target, out)


# --------------------------------------------------------------------------- compiled functions


_XLA_ERRORS = (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError)


def _use_xla(model: keras.Model) -> bool:
    """Whether the attack functions of ``model`` are compiled with XLA.

    XLA fuses the elementwise work around the matrix products (bias adds, the
    maxout max and its gradient, the sign step): on 2 CPU cores FGSM on the
    240-unit maxout MLP runs ~1.35x faster than in TensorFlow's graph runtime.
    But XLA:CPU differentiates convolutions several times more slowly than
    TensorFlow's oneDNN kernels (3x on a small MNIST conv net), so a model with
    any convolution layer stays in the graph runtime. ``ADVKERAS_JIT_COMPILE=1``
    or ``0`` overrides the choice.
    """
    env = os.environ.get(environment.JIT_COMPILE, "").strip()
    if env in ("0", "1"):
        return env == "1"
    layers = model._flatten_layers(include_self=False, recursive=True)
    return not any("conv" in type(layer).__name__.lower() for layer in layers)


class _Compiled:
    """A ``tf.function`` with a full ``input_signature``, called through its concrete function.

    Calling the concrete function skips the polymorphic function's signature
    binding and cache lookup in eager mode: on 2 CPU cores this took FGSM on
    the 240-unit maxout MLP from 1.15x to 1.01x the bare XLA forward+backward
    pass (batches of 100 MNIST digits, ``benchmarks/RESULTS.md``). Called
    inside another graph (e.g. ``tf.data.Dataset.map``), the polymorphic
    function is used.
    """

    def __init__(self, function: Any, signature: list[tf.TensorSpec]) -> None:
        self.function = function
        self._dtypes = [spec.dtype for spec in signature]
        self._concrete: Any = None

    def __call__(self, *args: Any) -> Any:
        if not tf.executing_eagerly():
            return self.function(*args)
        if self._concrete is None:
            self._concrete = self.function.get_concrete_function()
        args = tuple(
            a if tf.is_tensor(a) else tf.convert_to_tensor(a, dtype=dtype)
            for a, dtype in zip(args, self._dtypes, strict=True)
        )
        return self._concrete(*args)


class _XlaOrGraph:
    """An XLA-compiled function that falls back to its graph-runtime twin.

    The first eager call that XLA cannot compile (an op without an XLA kernel)
    switches to the graph-runtime function for good. Called inside another
    graph (e.g. ``tf.data.Dataset.map``), the graph twin is used.
    """

    def __init__(self, xla: Any, graph: Any, signature: list[tf.TensorSpec]) -> None:
        self._xla: _Compiled | None = _Compiled(xla, signature)
        self._graph = _Compiled(graph, signature)
        self._checked = False

    def __call__(self, *args: Any) -> Any:
        if self._xla is None or not tf.executing_eagerly():
            return self._graph(*args)
        if self._checked:
            return self._xla(*args)
        try:
            result = self._xla(*args)
        except _XLA_ERRORS as exc:
            if "xla" not in str(exc).lower() and "compil" not in str(exc).lower():
                raise
            self._xla = None
            return self._graph(*args)
        self._checked = True
        return result


def _function(fn: Callable[..., Any], signature: list[Any], model: keras.Model) -> Any:
    """``tf.function`` of ``fn`` with ``signature``, XLA-compiled when :func:`_use_xla` says so."""
    graph = tf.function(fn, input_signature=signature, autograph=False)
    if not _use_xla(model):
        return _Compiled(graph, signature)
    xla = tf.function(fn, input_signature=signature, autograph=False, jit_compile=True)
    return _XlaOrGraph(xla, graph, signature)


def _compiled(model: keras.Model, key: tuple[Any, ...], build: Callable[[Any], Any]) -> Any:
    try:
        per_model = _COMPILED.setdefault(model, {})
    except TypeError:
        raise invalid("model", "a keras.Model", type(model).__name__) from None
    fn = per_model.get(key)
    if fn is None:
        fn = build(weakref.ref(model))
        per_model[key] = fn
    return fn


def _x_spec(feature_shape: tuple[int | None, ...]) -> tf.TensorSpec:
    return tf.TensorSpec(shape=(None, *feature_shape), dtype=tf.float32)


def _fgsm_fn(
    model: keras.Model,
    kind: str,
    loss: Callable[..., Any] | None,
    norm: str | int,
    targeted: bool,
    clipped: bool,
    use_predictions: bool,
    feature_shape: tuple[int | None, ...],
) -> Any:
    key = ("fgsm", kind, loss, norm, targeted, clipped, use_predictions, feature_shape)
    loss_fn = loss if loss is not None else per_example_loss(kind)

    def build(model_ref: Any) -> Any:
        def step(x: tf.Tensor, y: tf.Tensor, eps: tf.Tensor, low: tf.Tensor, high: tf.Tensor):
            _trace_counts["fgsm"] += 1
            g, _, _ = _gradient_graph(model_ref(), x, y, kind, loss_fn, use_predictions)
            if targeted:
                g = -g
            x_adv = x + eps * _direction(g, norm)
            if clipped:
                x_adv = tf.clip_by_value(x_adv, low, high)
            return x_adv

        signature = [_x_spec(feature_shape), _LABELS, _SCALAR, _SCALAR, _SCALAR]
        return _function(step, signature, model_ref())

    return _compiled(model, key, build)


def _gradient_fn(
    model: keras.Model,
    kind: str,
    loss: Callable[..., Any] | None,
    use_predictions: bool,
    feature_shape: tuple[int | None, ...],
) -> Any:
    key = ("gradient", kind, loss, use_predictions, feature_shape)
    loss_fn = loss if loss is not None else per_example_loss(kind)

    def build(model_ref: Any) -> Any:
        def gradient(x: tf.Tensor, y: tf.Tensor):
            _trace_counts["gradient"] += 1
            return _gradient_graph(model_ref(), x, y, kind, loss_fn, use_predictions)

        return _function(gradient, [_x_spec(feature_shape), _LABELS], model_ref())

    return _compiled(model, key, build)


def _direction_fn(
    model: keras.Model,
    kind: str,
    norm: str | int,
    use_predictions: bool,
    feature_shape: tuple[int | None, ...],
) -> Any:
    key = ("direction", kind, norm, use_predictions, feature_shape)
    loss_fn = per_example_loss(kind)

    def build(model_ref: Any) -> Any:
        def direction(x: tf.Tensor, y: tf.Tensor):
            _trace_counts["direction"] += 1
            g, _, labels = _gradient_graph(model_ref(), x, y, kind, loss_fn, use_predictions)
            return _direction(g, norm), labels

        return _function(direction, [_x_spec(feature_shape), _LABELS], model_ref())

    return _compiled(model, key, build)


def _perturbed_forward_fn(
    model: keras.Model, clipped: bool, feature_shape: tuple[int | None, ...]
) -> Any:
    key = ("perturbed_forward", clipped, feature_shape)

    def build(model_ref: Any) -> Any:
        def forward(x: tf.Tensor, d: tf.Tensor, eps: tf.Tensor, low: tf.Tensor, high: tf.Tensor):
            _trace_counts["perturbed_forward"] += 1
            x_adv = x + eps * d
            if clipped:
                x_adv = tf.clip_by_value(x_adv, low, high)
            return _forward(model_ref(), x_adv)

        spec = _x_spec(feature_shape)
        signature = [spec, spec, _SCALAR, _SCALAR, _SCALAR]
        return _function(forward, signature, model_ref())

    return _compiled(model, key, build)


def _forward_fn(model: keras.Model, feature_shape: tuple[int | None, ...]) -> Any:
    def build(model_ref: Any) -> Any:
        def forward(x: tf.Tensor):
            _trace_counts["forward"] += 1
            return _forward(model_ref(), x)

        return _function(forward, [_x_spec(feature_shape)], model_ref())

    return _compiled(model, ("forward", feature_shape), build)


def _fooling_fn(
    model: keras.Model,
    kind: str,
    use_sign: bool,
    clipped: bool,
    feature_shape: tuple[int | None, ...],
) -> Any:
    key = ("fooling", kind, use_sign, clipped, feature_shape)

    def build(model_ref: Any) -> Any:
        def step(x: tf.Tensor, target: tf.Tensor, eps: tf.Tensor, low: tf.Tensor, high: tf.Tensor):
            _trace_counts["fooling"] += 1
            with tf.GradientTape() as tape:
                tape.watch(x)
                log_p = _log_target_probability(_forward(model_ref(), x), target, kind)
                objective = tf.reduce_sum(log_p if use_sign else tf.exp(log_p))
            g = tape.gradient(objective, x)
            x_new = x + eps * (tf.sign(g) if use_sign else g)
            if clipped:
                x_new = tf.clip_by_value(x_new, low, high)
            return x_new

        signature = [_x_spec(feature_shape), _LABELS, _SCALAR, _SCALAR, _SCALAR]
        return tf.function(step, input_signature=signature, autograph=False)

    return _compiled(model, key, build)


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
    targeted = _check_bool(targeted, "targeted")
    loss = _check_loss(loss)
    batch_size = _check_batch_size(batch_size)
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
    arr = _as_array(x)
    _check_values(arr, clip)
    n = arr.shape[0]
    labels = None if y is None else _labels(y, kind, n, model)
    if eps == 0.0:
        return arr.astype(np.float32, copy=True)
    fn = _fgsm_fn(model, kind, loss, norm, targeted, clip is not None, y is None, arr.shape[1:])
    eps_t = tf.constant(eps, tf.float32)
    low, high = _clip_tensors(clip)
    empty = tf.zeros([0], tf.int64)
    result = np.empty(arr.shape, dtype=np.float32)
    for start, stop in _batches(n, batch_size):
        yb = empty if labels is None else tf.constant(labels[start:stop])
        result[start:stop] = fn(_f32(arr[start:stop]), yb, eps_t, low, high).numpy()
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
    _check_tensor_values(x, clip)
    n = int(tf.shape(x)[0])
    labels = None if y is None else _labels(y, kind, n, model)
    xf = tf.cast(x, tf.float32)
    if eps == 0.0:
        return tf.identity(xf)
    fn = _fgsm_fn(
        model, kind, loss, norm, targeted, clip is not None, y is None, tuple(x.shape[1:])
    )
    eps_t = tf.constant(eps, tf.float32)
    low, high = _clip_tensors(clip)
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


def _labels_graph(y: tf.Tensor, kind: str, n_outputs: int) -> tuple[tf.Tensor, list[Any]]:
    """Dataset labels -> int64 (N,), with assertions that run when the pipeline does."""
    if kind.startswith("binary"):
        if y.shape.rank == 2:
            y = y[:, 0]
        y = tf.cast(y, tf.float32)
        ok = tf.reduce_all((y == 0.0) | (y == 1.0) | (y == -1.0))
        checks = [tf.debugging.Assert(ok, ["`y`: expected binary labels in {0, 1} or {-1, +1}"])]
        return tf.cast(y > 0.0, tf.int64), checks
    if y.shape.rank == 2:
        y = tf.argmax(y, axis=-1, output_type=tf.int64)
    y = tf.cast(y, tf.int64)
    ok = tf.reduce_all((y >= 0) & (y < n_outputs))
    checks = [tf.debugging.Assert(ok, [f"`y`: expected class indices in [0, {n_outputs - 1}]"])]
    return y, checks


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
    n_outputs = _n_outputs(model)
    clipped = clip is not None
    fn = _fgsm_fn(model, kind, loss, norm, targeted, clipped, not has_labels, feature_shape)
    eps_t = tf.constant(eps, tf.float32)
    low, high = _clip_tensors(clip)
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
            yb, label_checks = _labels_graph(y[tf.newaxis] if single else y, kind, n_outputs)
            checks += label_checks
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
    batch_size = _check_batch_size(batch_size)
    kind = resolve_output_kind(model, output)
    arr = _as_array(x.numpy() if tf.is_tensor(x) else x)
    _check_values(arr, clip)
    n = arr.shape[0]
    labels = None if y is None else _labels(y, kind, n, model)
    direction = _direction_fn(model, kind, norm, y is None, arr.shape[1:])
    forward = _perturbed_forward_fn(model, clip is not None, arr.shape[1:])
    low, high = _clip_tensors(clip)
    eps_tensors = [tf.constant(e, tf.float32) for e in eps_values]
    empty = tf.zeros([0], tf.int64)
    success = np.zeros((len(eps_values), n), dtype=bool)
    confidence_sum = np.zeros(len(eps_values))
    for start, stop in _batches(n, batch_size):
        xb = _f32(arr[start:stop])
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
    loss = _check_loss(loss)
    batch_size = _check_batch_size(batch_size)
    kind = resolve_output_kind(model, output)
    arr = _as_array(x.numpy() if tf.is_tensor(x) else x)
    _check_values(arr, None)
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
    labels = None if y is None else _labels(y, kind, n, model)
    fn = _gradient_fn(model, kind, loss, y is None, arr.shape[1:])
    empty = tf.zeros([0], tf.int64)
    result = np.empty(arr.shape, dtype=np.float32)
    for start, stop in _batches(n, batch_size):
        yb = empty if labels is None else tf.constant(labels[start:stop])
        result[start:stop] = fn(_f32(arr[start:stop]), yb)[0].numpy()
    return result


# --------------------------------------------------------------------------- rotation


def rotate_toward_gradient(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    angle: float,
    clip: tuple[float, float] | None = None,
    output: str | None = None,
) -> np.ndarray:
    """Rotate each input by ``angle`` radians toward its loss gradient, keeping ‖x‖₂ (§4).

    With x̂ = x/‖x‖ and u the unit vector of the gradient's component orthogonal
    to x, u = (g − (g·x̂)x̂)/‖g − (g·x̂)x̂‖, the rotated input is
    x' = cos(a)·x + sin(a)·‖x‖·u: it stays on the sphere of radius ‖x‖ and, for a
    small angle, moves in the direction that increases J. Inputs are flattened
    per example. An input that is zero, or whose gradient is parallel to it, is
    returned unchanged.

    Args:
        model: a Keras classifier with one output of shape (N, K).
        x: inputs (N, ...), NumPy array or tensor.
        y: labels (N,), or ``None`` for the model's predictions.
        angle: rotation angle in radians (any finite number; negative rotates away).
        clip: optional ``(min, max)`` box applied after the rotation (this can
            change the norm); ``None`` (default) keeps the norm exactly.
        output: the output kind, when it cannot be inferred.

    Returns:
        A float32 array shaped like ``x``.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> x = np.ones((1, 4), dtype="float32")
        >>> x_rot = rotate_toward_gradient(model, x, np.array([0]), angle=0.1)
        >>> bool(np.isclose(np.linalg.norm(x_rot), 2.0))
        True
    """
    a = _check_finite(angle, "angle", "a finite angle in radians")
    clip = check_clip(clip)
    kind = resolve_output_kind(model, output)
    arr = _as_array(x.numpy() if tf.is_tensor(x) else x)
    _check_values(arr, clip)
    g = _gradient(model, arr, y, kind, None, None).reshape(len(arr), -1).astype(np.float64)
    flat = arr.reshape(len(arr), -1).astype(np.float64)
    length = np.linalg.norm(flat, axis=1, keepdims=True)
    x_hat = np.divide(flat, length, out=np.zeros_like(flat), where=length > 0)
    ortho = g - np.sum(g * x_hat, axis=1, keepdims=True) * x_hat
    ortho_length = np.linalg.norm(ortho, axis=1, keepdims=True)
    u = np.divide(ortho, ortho_length, out=np.zeros_like(ortho), where=ortho_length > 0)
    rotated = math.cos(a) * flat + math.sin(a) * length * u
    keep = (length[:, 0] == 0) | (ortho_length[:, 0] <= 1e-12 * np.maximum(length[:, 0], 1e-30))
    rotated[keep] = flat[keep]
    if clip is not None:
        rotated = np.clip(rotated, clip[0], clip[1])
    return rotated.reshape(arr.shape).astype(np.float32)


# --------------------------------------------------------------------------- noise


def random_sign_noise(
    x: Any,
    eps: float,
    *,
    seed: Any = None,
    clip: tuple[float, float] | None = (0.0, 1.0),
) -> np.ndarray:
    """Add ε·s with s uniform on {−1, +1}ᵈ: FGSM's step size in a random orthant (§6 control).

    Args:
        x: inputs (N, ...), NumPy array or tensor, inside ``clip``.
        eps: ε >= 0.
        seed: None, an int or a ``numpy.random.Generator`` (same seed, same noise).
        clip: ``(min, max)`` box for the result, or ``None``.

    Returns:
        A float32 array shaped like ``x``.

    Example:
        >>> import numpy as np
        >>> noisy = random_sign_noise(np.full((2, 3), 0.5), 0.1, seed=0)
        >>> bool(np.allclose(np.abs(noisy - 0.5), 0.1))
        True
    """
    eps = check_eps(eps)
    clip = check_clip(clip)
    rng = _rng(seed)
    arr = _as_array(x.numpy() if tf.is_tensor(x) else x)
    _check_values(arr, clip)
    signs = rng.integers(0, 2, size=arr.shape, dtype=np.int8) * 2 - 1
    noisy = arr.astype(np.float32) + np.float32(eps) * signs.astype(np.float32)
    return noisy if clip is None else np.clip(noisy, clip[0], clip[1])


def uniform_noise(
    x: Any,
    eps: float,
    *,
    seed: Any = None,
    clip: tuple[float, float] | None = (0.0, 1.0),
) -> np.ndarray:
    """Add noise drawn uniformly from [−ε, ε] independently per coordinate (§6 control).

    Args:
        x: inputs (N, ...), NumPy array or tensor, inside ``clip``.
        eps: ε >= 0.
        seed: None, an int or a ``numpy.random.Generator`` (same seed, same noise).
        clip: ``(min, max)`` box for the result, or ``None``.

    Returns:
        A float32 array shaped like ``x``.

    Example:
        >>> import numpy as np
        >>> noisy = uniform_noise(np.full((2, 3), 0.5), 0.1, seed=0)
        >>> bool(np.all(np.abs(noisy - 0.5) <= 0.1 + 1e-7))
        True
    """
    eps = check_eps(eps)
    clip = check_clip(clip)
    rng = _rng(seed)
    arr = _as_array(x.numpy() if tf.is_tensor(x) else x)
    _check_values(arr, clip)
    unit = 2.0 * rng.random(arr.shape, dtype=np.float32) - 1.0  # uniform on [-1, 1)
    noisy = arr.astype(np.float32) + np.float32(eps) * unit
    return noisy if clip is None else np.clip(noisy, clip[0], clip[1])


# --------------------------------------------------------------------------- rubbish (Appendix A)


def gaussian_rubbish(
    n: int,
    shape: int | tuple[int, ...] = (784,),
    *,
    seed: Any = None,
    std: float = 1.0,
) -> np.ndarray:
    """Samples x ~ N(0, std²·I): Appendix A's "rubbish class" inputs.

    Args:
        n: number of samples (positive int).
        shape: shape of one sample, e.g. ``(784,)`` for MNIST or ``(32, 32, 3)``.
        seed: None, an int or a ``numpy.random.Generator``.
        std: standard deviation (finite, >= 0); the paper uses 1.

    Returns:
        A float32 array of shape ``(n, *shape)``.

    Example:
        >>> gaussian_rubbish(5, seed=0).shape
        (5, 784)
    """
    n = check_positive_int(n, "n")
    dims = (
        (shape,) if isinstance(shape, int | np.integer) and not isinstance(shape, bool) else shape
    )
    try:
        dims = tuple(dims)
        ok = bool(dims) and all(
            isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0 for d in dims
        )
    except TypeError:
        ok = False
    if not ok:
        raise invalid("shape", "a positive int or a non-empty tuple of positive ints", shape)
    std = check_eps(std, "std")
    rng = _rng(seed)
    samples = rng.standard_normal((n, *(int(d) for d in dims)), dtype=np.float32)
    return samples * np.float32(std)


def fooling_step(
    model: keras.Model,
    x: Any,
    target: Any,
    *,
    eps: float,
    sign: bool = True,
    output: str | None = None,
    clip: tuple[float, float] | None = None,
) -> np.ndarray:
    """One gradient step that increases p(target | x) (Appendix A, Fig. 5).

    ``sign=True`` (Fig. 5's "gradient sign step"): x + ε·sign(∇ₓ log p(target|x)).
    ``sign=False`` (the appendix text, "adding ∇ₓp(y=i|x)"): x + ε·∇ₓ p(target|x).
    For ``"independent"`` outputs p(target|x) is the target's own output.

    Args:
        model: a Keras classifier with one output of shape (N, K).
        x: inputs (N, ...), e.g. :func:`gaussian_rubbish` samples.
        target: the class to push toward: one int for every example, or (N,) ints.
        eps: step size ε >= 0.
        sign: use the gradient's sign (True) or the raw gradient of p (False).
        output: the output kind, when it cannot be inferred.
        clip: optional ``(min, max)`` box (default ``None``: rubbish is unbounded).

    Returns:
        A float32 array shaped like ``x``.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
        >>> fooled = fooling_step(model, gaussian_rubbish(4, seed=0), 3, eps=0.1)
        >>> fooled.shape
        (4, 784)
    """
    eps = check_eps(eps)
    use_sign = _check_bool(sign, "sign")
    clip = check_clip(clip)
    kind = resolve_output_kind(model, output)
    arr = _as_array(x.numpy() if tf.is_tensor(x) else x)
    _check_values(arr, clip)
    targets = _targets(target, kind, arr.shape[0], model)
    fn = _fooling_fn(model, kind, use_sign, clip is not None, arr.shape[1:])
    eps_t = tf.constant(eps, tf.float32)
    low, high = _clip_tensors(clip)
    result = np.empty(arr.shape, dtype=np.float32)
    for start, stop in _batches(arr.shape[0], None):
        xb, tb = _f32(arr[start:stop]), tf.constant(targets[start:stop])
        result[start:stop] = fn(xb, tb, eps_t, low, high).numpy()
    return result


# --------------------------------------------------------------------------- L-BFGS (Szegedy et al.)


def lbfgs_attack(
    model: keras.Model,
    x: Any,
    target: Any,
    *,
    clip: tuple[float, float] | None = (0.0, 1.0),
    c_init: float = 1.0,
    c_steps: int = 6,
    max_iter: int = 100,
    output: str | None = None,
) -> LBFGSResult:
    """Szegedy et al. (2014)'s box-constrained L-BFGS attack, one example at a time.

    For each example it solves min_r c·‖r‖₂² + J(x + r, target) subject to
    x + r in the clip box, with ``scipy.optimize.minimize(method="L-BFGS-B")`` on
    float64 (the gradient comes from a compiled ``tf.function``), and searches
    over c for the smallest successful perturbation: a large c weights ‖r‖ more.
    c starts at ``c_init``, is multiplied by 10 while every solve succeeds and
    divided by 10 while every solve fails, then bisected geometrically between
    the largest successful and the smallest failing c; ``c_steps`` solves in all.
    The returned example is the successful one of smallest ‖r‖₂.

    Args:
        model: a Keras classifier with one output of shape (N, K).
        x: inputs (N, ...), NumPy array or tensor, inside ``clip``.
        target: the class to reach: one int, or (N,) ints.
        clip: ``(min, max)`` box (the paper's [0, 1]) or ``None`` (unconstrained).
        c_init: first penalty weight c > 0.
        c_steps: number of L-BFGS solves per example (positive int).
        max_iter: L-BFGS iterations per solve (positive int).
        output: the output kind, when it cannot be inferred.

    Returns:
        An :class:`LBFGSResult`.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> x = np.full((2, 4), 0.5, dtype="float32")
        >>> result = lbfgs_attack(model, x, 1, c_steps=2, max_iter=20)
        >>> result.x_adv.shape
        (2, 4)
    """
    clip = check_clip(clip)
    c_init = _check_finite(c_init, "c_init", "a finite number > 0")
    if c_init <= 0:
        raise invalid("c_init", "a finite number > 0", c_init)
    c_steps = check_positive_int(c_steps, "c_steps")
    max_iter = check_positive_int(max_iter, "max_iter")
    kind = resolve_output_kind(model, output)
    arr = _as_array(x.numpy() if tf.is_tensor(x) else x)
    _check_values(arr, clip)
    n, feature_shape = arr.shape[0], arr.shape[1:]
    targets = _targets(target, kind, n, model)
    gradient = _gradient_fn(model, kind, None, False, feature_shape)
    forward = _forward_fn(model, feature_shape)
    d = int(np.prod(feature_shape))
    bounds = None
    if clip is not None:
        bounds = scipy.optimize.Bounds(np.full(d, clip[0]), np.full(d, clip[1]))

    def predict(z: np.ndarray) -> int:
        out = forward(_f32(z.reshape((1, *feature_shape)))).numpy()
        return int(predicted_labels(out, kind)[0])

    if n:  # trace outside the timed loop, so that seconds[0] measures the attack alone
        gradient(_f32(arr[:1]), tf.constant(targets[:1]))
        predict(arr[0].astype(np.float64))
    x_adv = np.empty(arr.shape, dtype=np.float32)
    success = np.zeros(n, dtype=bool)
    c_used = np.full(n, np.nan)
    seconds = np.zeros(n)
    for i in range(n):
        started = time.perf_counter()
        x0 = arr[i].astype(np.float64).ravel()
        t = int(targets[i])
        target_t = tf.constant([t], tf.int64)
        if predict(x0) == t:
            x_adv[i], success[i] = arr[i], True
            seconds[i] = time.perf_counter() - started
            continue

        def objective(
            z: np.ndarray, c: float, x0: np.ndarray, target_t: tf.Tensor
        ) -> tuple[float, np.ndarray]:
            g, total, _ = gradient(_f32(z.reshape((1, *feature_shape))), target_t)
            r = z - x0
            value = c * float(r @ r) + float(total)
            return value, 2.0 * c * r + g.numpy().ravel().astype(np.float64)

        best: tuple[float, np.ndarray, float] | None = None  # (l2, z, c)
        fallback: tuple[np.ndarray, float] | None = None  # weakest-penalty failure
        c, c_ok, c_fail = c_init, None, None
        for _ in range(c_steps):
            solution = scipy.optimize.minimize(
                objective,
                x0,
                args=(c, x0, target_t),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": max_iter},
            )
            z = solution.x if clip is None else np.clip(solution.x, clip[0], clip[1])
            z = z.astype(np.float32).astype(np.float64)
            if predict(z) == t:
                l2 = float(np.linalg.norm(z - x0))
                if best is None or l2 < best[0]:
                    best = (l2, z, c)
                c_ok = c if c_ok is None else max(c_ok, c)
            else:
                if fallback is None or c < fallback[1]:
                    fallback = (z, c)
                c_fail = c if c_fail is None else min(c_fail, c)
            if c_fail is None:
                c *= 10.0
            elif c_ok is None:
                c /= 10.0
            else:
                c = math.sqrt(c_ok * c_fail)
        if best is not None:
            _, z, c_used[i] = best
            success[i] = True
        elif fallback is not None:
            z, c_used[i] = fallback
        x_adv[i] = z.reshape(feature_shape)
        seconds[i] = time.perf_counter() - started
    delta = (x_adv.astype(np.float64) - arr.astype(np.float64)).reshape(n, -1)
    return LBFGSResult(
        x_adv=x_adv,
        success=success,
        l2=np.linalg.norm(delta, axis=1),
        linf=np.abs(delta).max(axis=1) if d else np.zeros(n),
        seconds=seconds,
        c=c_used,
    )
