"""Dropout masks (and a step's other random numbers) drawn before an XLA-compiled step.

XLA on CPU draws random numbers slowly inside a training step: one clean
epoch of the paper's maxout network in Keras' own ``fit`` with
``jit_compile=True`` took 19.7 s, against 5.5 s in TensorFlow's graph runtime
and 4.6 s under XLA without dropout (``benchmarks/RESULTS.md`` §5). So
:class:`~advkeras.training.AdversarialModel` compiled with ``jit_compile=True``
draws every dropout mask of a step in the graph runtime, with the layers' own
seed generators, and passes the masks to the XLA-compiled step as arguments.
Inside it, each layer multiplies by its next mask instead of drawing one.

Two kinds of layers take part: Keras' own ``keras.layers.Dropout`` (without a
``noise_shape``), and any layer that defines ``draw_mask(shape)`` (a tensor
that its training-mode output equals ``inputs`` times) and calls :func:`take`
in its ``call``, as :class:`~advkeras.layers.InputDropout` does. The masks
are the ones the layers would have drawn themselves, with the same seed
generators in the same order, so the step computes the same function; only
XLA's floating-point rounding differs from the graph runtime's. A layer whose
masks run out (or that no mask was drawn for) draws its own.

Example:

>>> import numpy as np
>>> layer = keras.layers.Dropout(0.5, seed=0)
>>> mask = draw_mask(layer, (2, 3))
>>> with given({layer: [mask]}):
...     y = layer(np.full((2, 3), 3.0, "float32"), training=True)
>>> bool(np.array_equal(y, 3.0 * mask))
True
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import keras

__all__ = ["draw", "draw_mask", "given", "maskable_layers", "take"]

_STATE = threading.local()


def _is_keras_dropout(layer: Any) -> bool:
    """Keras' own Dropout (not a subclass, whose ``call`` may differ)."""
    return type(layer) is keras.layers.Dropout


def _masked_dropout_call(layer: Any) -> Any:
    """``keras.layers.Dropout.call`` that multiplies by the layer's next given mask, if any."""
    original = layer.call

    def call(inputs: Any, training: bool = False) -> Any:
        mask = take(layer) if training else None
        if mask is None:
            return original(inputs, training=training)
        return inputs * keras.ops.cast(mask, inputs.dtype)

    return call


@contextlib.contextmanager
def given(masks: Mapping[Any, Sequence[Any]]) -> Iterator[None]:
    """Within the block, each layer in ``masks`` takes its masks, in order, from there.

    A ``keras.layers.Dropout`` among them has its ``call`` replaced, on that
    instance and for the block only, by one that multiplies by the given mask.

    Args:
        masks: ``{layer: [mask, ...]}``; the first training-mode call of a
            layer uses its first mask, the next call the second... Any
            object can be a key: :func:`take` with it returns its tensors.
    """
    previous = getattr(_STATE, "queues", None)
    _STATE.queues = {id(layer): list(ms) for layer, ms in masks.items()}
    patched = [layer for layer in masks if _is_keras_dropout(layer) and "call" not in vars(layer)]
    for layer in patched:
        layer.call = _masked_dropout_call(layer)
    try:
        yield
    finally:
        for layer in patched:
            del layer.call
        _STATE.queues = previous


def take(layer: Any) -> Any | None:
    """The next tensor given to ``layer`` (any key) by :func:`given`, or None (draw your own)."""
    queues = getattr(_STATE, "queues", None)
    queue = queues.get(id(layer)) if queues else None
    return queue.pop(0) if queue else None


def draw_mask(layer: Any, shape: Any) -> Any:
    """The mask of ``shape`` that ``layer``'s next training-mode call would multiply by.

    It advances the layer's seed generator as that call would.
    """
    if _is_keras_dropout(layer):
        ones = keras.ops.ones(shape, dtype=layer.compute_dtype)
        return keras.random.dropout(ones, layer.rate, seed=layer.seed_generator)
    return layer.draw_mask(shape)


def _maskable(layer: Any) -> bool:
    if _is_keras_dropout(layer):
        return layer.rate > 0 and layer.noise_shape is None
    return hasattr(layer, "draw_mask") and bool(getattr(layer, "maskable", True))


def _sublayers(model: Any) -> Iterator[Any]:
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _sublayers(layer)


def maskable_layers(model: keras.Model) -> list[Any]:
    """The layers of ``model`` (nested models included) that can take drawn masks.

    Keras' ``Dropout`` layers (rate > 0, no ``noise_shape``) and layers that
    define ``draw_mask``, whose input shape apart from the batch axis is known
    (a functional or ``Sequential`` model that has been built).
    """
    found = []
    for layer in _sublayers(model):
        if not _maskable(layer):
            continue
        try:
            shape = tuple(layer.input.shape)
        except (AttributeError, ValueError):
            continue
        if all(d is not None for d in shape[1:]) and layer not in found:
            found.append(layer)
    return found


def draw(layers: Sequence[Any], batch: Any, passes: Mapping[Any, int]) -> list[list[Any]]:
    """Every mask of one step: ``passes[layer]`` masks of shape (batch, ...) per layer.

    Args:
        layers: from :func:`maskable_layers`.
        batch: the batch size (a scalar tensor in a traced step).
        passes: how many training-mode calls the step makes of each layer.

    Returns:
        One list of masks per layer, in the order of ``layers``; each layer's
        seed generator advances as many times as it would in the step itself.
    """
    return [
        [draw_mask(layer, (batch, *tuple(layer.input.shape)[1:])) for _ in range(passes[layer])]
        for layer in layers
    ]
