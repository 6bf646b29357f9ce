"""Compiled attack functions: one ``tf.function`` per model, kind of step and input shape.

Every gradient of the attacks is taken in a ``tf.function`` with a full
``input_signature`` (ε and the clip bounds are scalar tensor arguments, the
batch dimension is ``None``), so that a new ε, clip box or batch size never
retraces. The functions are built from :mod:`advkeras.attacks.core` and kept
in a cache keyed by the model (weakly: a model that goes out of scope frees its
entry) and by what changes the graph (the kind of step, output kind, loss,
norm, targeting, clipping, input shape).

Dense models run under XLA (:func:`use_xla`), with a fallback to TensorFlow's
graph runtime for ops that XLA cannot compile; under XLA, FGSM on NumPy
arrays runs several batches per call (:func:`chunk_batches`). What was compiled can be
inspected with :func:`compiled_functions` and :func:`trace_count`, and dropped
with :func:`clear_compiled`.
"""

from __future__ import annotations

import collections
import math
import os
import weakref
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from advkeras import environment
from advkeras._validation import invalid
from advkeras.attacks import core
from advkeras.losses import per_example_loss

__all__ = [
    "CompiledFunction",
    "XlaOrGraph",
    "CONVOLUTIONS",
    "cached_function",
    "chunk_batches",
    "clear_compiled",
    "compile_function",
    "compiled_functions",
    "direction_function",
    "fgsm_function",
    "is_convolution",
    "fooling_function",
    "forward_function",
    "gradient_function",
    "perturbed_forward_function",
    "pgd_function",
    "trace_count",
    "unrolled_steps",
    "use_xla",
    "MAX_UNROLL",
    "CHUNK_BYTES",
    "MAX_CHUNK",
]

# One dict of compiled functions per model; the functions hold only a weak
# reference to the model, so a model that goes out of scope frees its entry.
_COMPILED: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
# How many times each kind of compiled function has been traced.
_TRACES: collections.Counter[str] = collections.Counter()

SCALAR = tf.TensorSpec(shape=(), dtype=tf.float32)
"""Spec of ε and of the clip bounds."""
COUNT = tf.TensorSpec(shape=(), dtype=tf.int32)
"""Spec of a number of steps."""
LABELS = tf.TensorSpec(shape=(None,), dtype=tf.int64)
"""Spec of the labels (empty when the model's predictions are used)."""

CHUNK_BYTES = 2_600_000
"""At most this many bytes of inputs in one call of a chunked FGSM function (:func:`chunk_batches`)."""
MAX_CHUNK = 16
"""At most this many batches in one call of a chunked FGSM function."""

_XLA_ERRORS = (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError)


# --------------------------------------------------------------------------- inspection


def trace_count(kind: str | None = None) -> int:
    """How many times compiled attack functions have been traced, in this process.

    A trace builds a graph (slow); calling a traced function again with a new
    ε, clip box or batch size must not trace.

    Args:
        kind: one kind of function (``"fgsm"``, ``"pgd"``, ``"gradient"``, ``"direction"``,
            ``"perturbed_forward"``, ``"forward"``, ``"fooling"``), or ``None``
            for all of them.

    Returns:
        The number of traces.

    Example:
        >>> trace_count("fgsm") >= 0
        True
    """
    if kind is None:
        return sum(_TRACES.values())
    return _TRACES[kind]


def compiled_functions(model: Any) -> dict[tuple[Any, ...], str]:
    """The compiled functions cached for ``model``, each with the runtime it runs in.

    Args:
        model: a Keras model.

    Returns:
        ``{key: runtime}``: ``key[0]`` is the kind of function (see
        :func:`trace_count`), the rest what its graph depends on; ``runtime`` is
        ``"xla"``, or ``"graph"`` (TensorFlow's graph runtime: chosen by
        :func:`use_xla`, or fallen back to because XLA could not compile the model).

    Example:
        >>> import keras, numpy as np
        >>> from advkeras.attacks import fgsm
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> _ = fgsm(model, np.zeros((1, 2)), eps=0.1)
        >>> [key[0] for key in compiled_functions(model)]
        ['fgsm']
    """
    try:
        per_model = _COMPILED.get(model, {})
    except TypeError:
        return {}
    return {key: getattr(fn, "runtime", "graph") for key, fn in per_model.items()}


def clear_compiled(model: Any = None) -> None:
    """Drop the compiled functions of ``model`` (of every model when ``None``).

    The next attack compiles afresh, e.g. after :data:`advkeras.environment.JIT_COMPILE`
    changed.

    Example:
        >>> clear_compiled()
    """
    if model is None:
        _COMPILED.clear()
        return
    try:
        _COMPILED.pop(model, None)
    except TypeError:
        pass


# --------------------------------------------------------------------------- XLA or graph


#: Keras' convolution layers (XLA on the CPU differentiates convolutions slowly).
CONVOLUTIONS: tuple[type, ...] = tuple(
    getattr(keras.layers, name)
    for name in (
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "Conv1DTranspose",
        "Conv2DTranspose",
        "Conv3DTranspose",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "SeparableConv1D",
        "SeparableConv2D",
    )
    if hasattr(keras.layers, name)
)


def _layers(model: keras.layers.Layer) -> list[keras.layers.Layer]:
    """Every layer inside ``model``, nested models' layers included (public attributes only)."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_layers(layer))
    return found


def is_convolution(layer: keras.layers.Layer) -> bool:
    """A Keras convolution layer, or a layer whose class name says it convolves.

    Example:
        >>> import keras
        >>> is_convolution(keras.layers.Conv2D(4, 3)), is_convolution(keras.layers.Dense(3))
        (True, False)
    """
    return isinstance(layer, CONVOLUTIONS) or "conv" in type(layer).__name__.lower()


def use_xla(model: keras.Model) -> bool:
    """Whether the attack functions of ``model`` are compiled with XLA.

    The rule, from the FGSM matrix of ``make bench`` (``benchmarks/RESULTS.md``,
    2 CPU cores, batches of 32, 100 and 500): XLA fuses the elementwise work
    around the matrix products (bias adds, the maxout max and its gradient,
    the sign step), so the maxout MLP runs up to ~1.6x faster than in
    TensorFlow's graph runtime and a ReLU MLP about as fast; but XLA:CPU
    differentiates convolutions 1.8-2.5x more slowly than TensorFlow's
    oneDNN kernels, so a model with a convolution layer (:func:`is_convolution`,
    nested models searched) stays in the graph runtime.
    ``ADVKERAS_JIT_COMPILE=1`` or ``0`` overrides the choice.

    Example:
        >>> import keras
        >>> dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> conv = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
        >>> use_xla(dense), use_xla(conv)
        (True, False)
    """
    env = os.environ.get(environment.JIT_COMPILE, "").strip()
    if env in ("0", "1"):
        return env == "1"
    return not any(is_convolution(layer) for layer in _layers(model))


class CompiledFunction:
    """A ``tf.function`` with a full ``input_signature``, called through its concrete function.

    Calling the concrete function skips the polymorphic function's signature
    binding and cache lookup in eager mode: on 2 CPU cores this took FGSM on
    the 240-unit maxout MLP from 1.15x to 1.01x the bare XLA forward+backward
    pass (batches of 100 MNIST digits, ``benchmarks/RESULTS.md``). Called
    inside another graph (e.g. ``tf.data.Dataset.map``), the polymorphic
    function is used.

    Args:
        function: a ``tf.function`` with an ``input_signature``.
        signature: that signature (its dtypes convert non-tensor arguments).
        runtime: ``"xla"`` or ``"graph"``, what :func:`compiled_functions` reports.
    """

    def __init__(
        self, function: Any, signature: list[tf.TensorSpec], runtime: str = "graph"
    ) -> None:
        self.function = function
        self.runtime = runtime
        self._dtypes = [spec.dtype for spec in signature]
        self._concrete: Any = None

    def __call__(self, *args: Any) -> Any:
        """Call the function (its concrete function when eager)."""
        if not tf.executing_eagerly():
            return self.function(*args)
        if self._concrete is None:
            self._concrete = self.function.get_concrete_function()
        args = tuple(
            a if tf.is_tensor(a) else tf.convert_to_tensor(a, dtype=dtype)
            for a, dtype in zip(args, self._dtypes, strict=True)
        )
        return self._concrete(*args)


class XlaOrGraph:
    """An XLA-compiled function that falls back to its graph-runtime twin.

    The first eager call that XLA cannot compile (an op without an XLA kernel)
    switches to the graph-runtime function for good. Called inside another
    graph (e.g. ``tf.data.Dataset.map``), the graph twin is used.

    Args:
        xla: the ``tf.function`` with ``jit_compile=True``.
        graph: the same function without XLA.
        signature: their ``input_signature``.
    """

    def __init__(self, xla: Any, graph: Any, signature: list[tf.TensorSpec]) -> None:
        self._xla: CompiledFunction | None = CompiledFunction(xla, signature, "xla")
        self._graph = CompiledFunction(graph, signature)
        self._checked = False

    @property
    def runtime(self) -> str:
        """``"xla"``, or ``"graph"`` once XLA failed to compile."""
        return "graph" if self._xla is None else "xla"

    def __call__(self, *args: Any) -> Any:
        """Call the XLA function, or the graph one when XLA cannot compile it."""
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


def compile_function(fn: Callable[..., Any], signature: list[Any], model: keras.Model) -> Any:
    """``tf.function`` of ``fn`` with ``signature``, XLA-compiled when :func:`use_xla` says so.

    Returns:
        A :class:`CompiledFunction` (graph runtime) or an :class:`XlaOrGraph`.
    """
    graph = tf.function(fn, input_signature=signature, autograph=False)
    if not use_xla(model):
        return CompiledFunction(graph, signature)
    xla = tf.function(fn, input_signature=signature, autograph=False, jit_compile=True)
    return XlaOrGraph(xla, graph, signature)


def cached_function(model: keras.Model, key: tuple[Any, ...], build: Callable[[Any], Any]) -> Any:
    """The function cached for ``(model, key)``; ``build(weakref_to_model)`` makes it once.

    Raises:
        ValueError: ``model`` cannot be weakly referenced (not a Keras model).
    """
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


# --------------------------------------------------------------------------- the functions


def chunk_batches(model: keras.Model, batch_size: int, feature_shape: tuple[int, ...]) -> int:
    """How many batches one call of the FGSM function runs, in a loop, on NumPy inputs.

    Each eager call of a compiled function costs a fixed time (binding its
    arguments, converting the batch, launching it). In a first measurement on
    2 CPU cores (5,000 MNIST digits, a ReLU MLP, other work running), 8
    batches per call made FGSM 22 % faster with batches of 32 and 8 % faster
    with batches of 100, with the very same examples (``tests/test_attacks.py``;
    the FGSM matrix of ``benchmarks/RESULTS.md`` has the full picture). Under XLA the batches run one
    after another in a ``tf.while_loop``, so memory holds one batch's
    activations, plus the chunk's inputs and outputs: at most
    :data:`CHUNK_BYTES` of inputs and :data:`MAX_CHUNK` batches. In the graph
    runtime (models with convolutions, :func:`use_xla`) a batch costs much
    more than a call, and each call runs one batch.

    Example:
        >>> import keras
        >>> dense = keras.Sequential([keras.Input((784,)), keras.layers.Dense(3)])
        >>> [chunk_batches(dense, b, (784,)) for b in (32, 100, 1000)]
        [16, 8, 1]
    """
    if not use_xla(model):
        return 1
    row_bytes = 4 * math.prod(feature_shape)
    return max(1, min(MAX_CHUNK, CHUNK_BYTES // max(1, row_bytes * batch_size)))


def fgsm_function(
    model: keras.Model,
    kind: str,
    loss: Callable[..., Any] | None,
    norm: str | int,
    targeted: bool,
    clipped: bool,
    use_predictions: bool,
    feature_shape: tuple[int | None, ...],
    batches: int = 1,
) -> Any:
    """``step(x, y, eps, low, high) -> x_adv``: one FGSM step (see :func:`advkeras.attacks.fgsm`).

    ``y`` is ignored (pass an empty int64 tensor) when ``use_predictions``; the
    clip bounds are ignored unless ``clipped``. With ``batches`` > 1 the
    function takes ``x`` of shape (batches, batch size, ...) and ``y`` of
    shape (batches, batch size) (or (batches, 0)) and runs the step on each
    batch in turn (:func:`chunk_batches`).
    """
    key = ("fgsm", kind, loss, norm, targeted, clipped, use_predictions, feature_shape, batches)
    loss_fn = loss if loss is not None else per_example_loss(kind)

    def build(model_ref: Any) -> Any:
        def step(x: tf.Tensor, y: tf.Tensor, eps: tf.Tensor, low: tf.Tensor, high: tf.Tensor):
            _TRACES["fgsm"] += 1
            labels = None if use_predictions else y
            g, _, _ = core.loss_gradient(model_ref(), x, labels, kind, loss_fn=loss_fn)
            eta = core.optimize_linear(g, eps, norm, targeted=targeted)
            return core.perturb(x, eta, (low, high) if clipped else None)

        if batches == 1:
            signature = [_x_spec(feature_shape), LABELS, SCALAR, SCALAR, SCALAR]
            return compile_function(step, signature, model_ref())

        def chunk(xs: tf.Tensor, ys: tf.Tensor, eps: tf.Tensor, low: tf.Tensor, high: tf.Tensor):
            def body(i: tf.Tensor, out: tf.TensorArray) -> tuple[tf.Tensor, tf.TensorArray]:
                return i + 1, out.write(i, step(xs[i], ys[i], eps, low, high))

            out = tf.TensorArray(tf.float32, size=batches)
            _, out = tf.while_loop(lambda i, _: i < batches, body, (tf.constant(0), out))
            return out.stack()

        signature = [
            tf.TensorSpec((batches, None, *feature_shape), tf.float32),
            tf.TensorSpec((batches, None), tf.int64),
            SCALAR,
            SCALAR,
            SCALAR,
        ]
        return compile_function(chunk, signature, model_ref())

    return cached_function(model, key, build)


def pgd_function(
    model: keras.Model,
    kind: str,
    loss: Callable[..., Any] | None,
    norm: str | int,
    targeted: bool,
    clipped: bool,
    use_predictions: bool,
    feature_shape: tuple[int | None, ...],
    keep_best: bool = False,
    unroll: int | None = None,
) -> Any:
    """``attack(x, y, eta0, eps, step, steps, low, high) -> x_adv``: PGD (see :func:`advkeras.attacks.pgd`).

    Starts from x + η₀ projected on the ball and the box, then takes ``steps``
    FGSM steps of size ``step``, each projected (:func:`advkeras.attacks.core.project`),
    in one ``tf.while_loop``. ``y`` is ignored (pass an empty int64 tensor) when
    ``use_predictions``: the labels are then the predictions on the clean ``x``.
    With ``keep_best``, returns each example's best point among FGSM's example
    (one step of size ε from ``x``), the start and every iterate: the highest
    cost (the lowest for ``targeted``), the earliest on ties.

    ``unroll``: ``None`` loops in a ``tf.while_loop`` (``steps`` a tensor: a new
    k does not retrace); an int k writes the k steps out one after the other,
    what the graph runtime needs (:func:`unrolled_steps`); ``steps`` is then
    ignored.
    """
    key = (
        "pgd",
        kind,
        loss,
        norm,
        targeted,
        clipped,
        use_predictions,
        feature_shape,
        keep_best,
        unroll,
    )
    loss_fn = loss if loss is not None else per_example_loss(kind)
    rank = len(feature_shape) + 1

    def loop(steps: tf.Tensor, body: Callable[..., Any], state: tuple[Any, ...]) -> Any:
        """``body(i, *state)`` repeated ``steps`` (or ``unroll``) times; the final state."""
        if unroll is None:
            return tf.while_loop(lambda i, *_: i < steps, body, (tf.constant(0, tf.int32), *state))[
                1:
            ]
        for i in range(unroll):
            state = body(tf.constant(i, tf.int32), *state)[1:]
        return state

    def build(model_ref: Any) -> Any:
        def attack(
            x: tf.Tensor,
            y: tf.Tensor,
            eta0: tf.Tensor,
            eps: tf.Tensor,
            step: tf.Tensor,
            steps: tf.Tensor,
            low: tf.Tensor,
            high: tf.Tensor,
        ):
            _TRACES["pgd"] += 1
            model = model_ref()
            box = (low, high) if clipped else None
            if use_predictions:
                labels = core.predicted_classes(core.forward(model, x), kind)
            else:
                labels = y
            start = core.project(x + eta0, x, eps, norm, box)

            def move(x_adv: tf.Tensor, g: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
                moved = core.perturb(
                    x_adv, core.optimize_linear(g, size, norm, targeted=targeted), box
                )
                return core.project(moved, x, eps, norm, box)

            if not keep_best:

                def body(i: tf.Tensor, x_adv: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                    g, _, _ = core.loss_gradient(model, x_adv, labels, kind, loss_fn=loss_fn)
                    return i + 1, move(x_adv, g, step)

                return loop(steps, body, (start,))[0]

            def cost(x_adv: tf.Tensor) -> tf.Tensor:
                return tf.cast(loss_fn(labels, core.forward(model, x_adv)), tf.float32)

            def keep(
                best: tuple[tf.Tensor, tf.Tensor], x_adv: tf.Tensor, c: tf.Tensor
            ) -> tuple[tf.Tensor, tf.Tensor]:
                better = tf.less(c, best[1]) if targeted else tf.greater(c, best[1])
                pick = tf.reshape(better, [-1] + [1] * (rank - 1))
                return tf.where(pick, x_adv, best[0]), tf.where(better, c, best[1])

            g0, _, _ = core.loss_gradient(model, x, labels, kind, loss_fn=loss_fn)
            x_fgsm = move(x, g0, eps)

            def best_body(
                i: tf.Tensor, x_adv: tf.Tensor, best_x: tf.Tensor, best_c: tf.Tensor
            ) -> tuple[tf.Tensor, ...]:
                g, c, _ = core.loss_gradient(
                    model, x_adv, labels, kind, loss_fn=loss_fn, per_example=True
                )
                best_x, best_c = keep((best_x, best_c), x_adv, c)
                return i + 1, move(x_adv, g, step), best_x, best_c

            x_adv, best_x, best_c = loop(steps, best_body, (start, x_fgsm, cost(x_fgsm)))
            return keep((best_x, best_c), x_adv, cost(x_adv))[0]

        spec = _x_spec(feature_shape)
        signature = [spec, LABELS, spec, SCALAR, SCALAR, COUNT, SCALAR, SCALAR]
        return compile_function(attack, signature, model_ref())

    return cached_function(model, key, build)


#: The most steps :func:`pgd_function` writes out one after the other in the graph runtime.
MAX_UNROLL = 200


def unrolled_steps(model: keras.Model, steps: int) -> int | None:
    """``steps`` when PGD's loop should be written out step by step, else ``None`` (a while loop).

    In TensorFlow's graph runtime (models with convolutions, :func:`use_xla`)
    a ``tf.while_loop`` over the gradient steps of a trained conv net ran
    1.5-1.7x slower than the same steps written out (``make bench``, 2 CPU
    cores, PGD-20 on 500 MNIST digits), as CleverHans' Python loop inside
    ``tf.function`` writes them; XLA compiles the while loop as fast as the
    unrolled steps. Unrolling costs one trace per new k, so it stops at
    :data:`MAX_UNROLL` steps.

    Example:
        >>> import keras
        >>> dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> conv = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
        >>> unrolled_steps(dense, 40), unrolled_steps(conv, 40), unrolled_steps(conv, 1000)
        (None, 40, None)
    """
    return steps if not use_xla(model) and steps <= MAX_UNROLL else None


def gradient_function(
    model: keras.Model,
    kind: str,
    loss: Callable[..., Any] | None,
    use_predictions: bool,
    feature_shape: tuple[int | None, ...],
) -> Any:
    """``gradient(x, y) -> (∇ₓΣJ, ΣJ, labels)``: :func:`advkeras.attacks.core.loss_gradient`."""
    key = ("gradient", kind, loss, use_predictions, feature_shape)
    loss_fn = loss if loss is not None else per_example_loss(kind)

    def build(model_ref: Any) -> Any:
        def gradient(x: tf.Tensor, y: tf.Tensor):
            _TRACES["gradient"] += 1
            labels = None if use_predictions else y
            return core.loss_gradient(model_ref(), x, labels, kind, loss_fn=loss_fn)

        return compile_function(gradient, [_x_spec(feature_shape), LABELS], model_ref())

    return cached_function(model, key, build)


def direction_function(
    model: keras.Model,
    kind: str,
    norm: str | int,
    use_predictions: bool,
    feature_shape: tuple[int | None, ...],
) -> Any:
    """``direction(x, y) -> (unit step, labels)``: FGSM's direction, computed once for many ε."""
    key = ("direction", kind, norm, use_predictions, feature_shape)

    def build(model_ref: Any) -> Any:
        def direction(x: tf.Tensor, y: tf.Tensor):
            _TRACES["direction"] += 1
            labels = None if use_predictions else y
            g, _, labels = core.loss_gradient(model_ref(), x, labels, kind)
            return core.direction(g, norm), labels

        return compile_function(direction, [_x_spec(feature_shape), LABELS], model_ref())

    return cached_function(model, key, build)


def perturbed_forward_function(
    model: keras.Model, clipped: bool, feature_shape: tuple[int | None, ...]
) -> Any:
    """``forward(x, d, eps, low, high) -> model(clip(x + eps·d))``, inference mode."""
    key = ("perturbed_forward", clipped, feature_shape)

    def build(model_ref: Any) -> Any:
        def forward(x: tf.Tensor, d: tf.Tensor, eps: tf.Tensor, low: tf.Tensor, high: tf.Tensor):
            _TRACES["perturbed_forward"] += 1
            x_adv = core.perturb(x, eps * d, (low, high) if clipped else None)
            return core.forward(model_ref(), x_adv)

        spec = _x_spec(feature_shape)
        signature = [spec, spec, SCALAR, SCALAR, SCALAR]
        return compile_function(forward, signature, model_ref())

    return cached_function(model, key, build)


def forward_function(model: keras.Model, feature_shape: tuple[int | None, ...]) -> Any:
    """``forward(x) -> model(x)`` in inference mode, as float32."""

    def build(model_ref: Any) -> Any:
        def forward(x: tf.Tensor):
            _TRACES["forward"] += 1
            return core.forward(model_ref(), x)

        return compile_function(forward, [_x_spec(feature_shape)], model_ref())

    return cached_function(model, ("forward", feature_shape), build)


def fooling_function(
    model: keras.Model,
    kind: str,
    use_sign: bool,
    clipped: bool,
    feature_shape: tuple[int | None, ...],
) -> Any:
    """``step(x, target, eps, low, high)``: x + ε·sign(∇ₓ log p(target|x)), or + ε·∇ₓ p."""
    key = ("fooling", kind, use_sign, clipped, feature_shape)

    def build(model_ref: Any) -> Any:
        def step(x: tf.Tensor, target: tf.Tensor, eps: tf.Tensor, low: tf.Tensor, high: tf.Tensor):
            _TRACES["fooling"] += 1
            with tf.GradientTape() as tape:
                tape.watch(x)
                log_p = core.log_probability(core.forward(model_ref(), x), target, kind)
                objective = tf.reduce_sum(log_p if use_sign else tf.exp(log_p))
            g = tape.gradient(objective, x)
            eta = core.optimize_linear(g, eps) if use_sign else eps * g
            return core.perturb(x, eta, (low, high) if clipped else None)

        signature = [_x_spec(feature_shape), LABELS, SCALAR, SCALAR, SCALAR]
        return tf.function(step, input_signature=signature, autograph=False)

    return cached_function(model, key, build)
