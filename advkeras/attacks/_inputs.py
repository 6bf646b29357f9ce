"""What the attacks check and convert before they run: arrays, labels, seeds, batches.

Each check raises the project's ``ValueError`` naming the argument (see
:mod:`advkeras._validation`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import check_finite, check_inputs_in_clip, check_positive_int, invalid
from advkeras.losses import labels_for

DEFAULT_BATCH_SIZE = 1000
"""Examples per gradient computation when ``batch_size`` is not given."""


def as_array(x: Any, argument: str = "x") -> np.ndarray:
    """``x`` (an array or a tensor) as a numeric NumPy array of shape (N, ...)."""
    arr = np.asarray(x.numpy() if tf.is_tensor(x) else x)
    if arr.dtype.kind not in "iuf" or arr.ndim < 1:
        raise invalid(
            argument,
            "a numeric array of shape (N, ...)",
            f"an array of dtype {arr.dtype} and shape {arr.shape}",
        )
    return arr


def check_values(arr: np.ndarray, clip: tuple[float, float] | None, argument: str = "x") -> None:
    """Inputs inside the clip box; without a box, finite."""
    check_inputs_in_clip(arr, clip, argument)
    if clip is None and arr.dtype.kind == "f" and arr.size:
        check_finite(arr, argument)


def check_tensor_values(x: tf.Tensor, clip: tuple[float, float] | None) -> None:
    """:func:`check_values` for a tensor ``x``."""
    if x.shape.rank is None or x.shape.rank < 1 or not (x.dtype.is_floating or x.dtype.is_integer):
        raise invalid(
            "x", "a numeric tensor of shape (N, ...)", f"{x.dtype.name} of shape {x.shape}"
        )
    if x.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(x))):
        raise invalid("x", "finite values", "a tensor containing NaN or inf")
    if clip is not None and int(tf.size(x)) > 0:
        extremes = np.array([tf.reduce_min(x).numpy(), tf.reduce_max(x).numpy()])
        check_inputs_in_clip(extremes.astype(x.dtype.as_numpy_dtype), clip, "x")


def check_bool(value: Any, argument: str) -> bool:
    """``value`` if it is True or False."""
    if not isinstance(value, bool | np.bool_):
        raise invalid(argument, "True or False", value)
    return bool(value)


def check_loss(loss: Any) -> Callable[..., Any] | None:
    """``None`` or a callable per-example loss."""
    if loss is not None and not callable(loss):
        raise invalid("loss", "None or a callable (y_true, y_pred) -> per-example loss (N,)", loss)
    return loss


def check_batch_size(batch_size: Any) -> int | None:
    """``None`` or a positive int."""
    return None if batch_size is None else check_positive_int(batch_size, "batch_size")


def check_number(value: Any, argument: str, expected: str = "a finite number") -> float:
    """``value`` as a finite float."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise invalid(argument, expected, value) from None
    if not math.isfinite(v):
        raise invalid(argument, expected, value)
    return v


def n_outputs(model: keras.Model) -> int:
    """The width K of the model's output (N, K)."""
    return int(model.output_shape[-1])


def class_labels(y: Any, kind: str, n: int, model: keras.Model, argument: str = "y") -> np.ndarray:
    """Checked integer labels (N,) for the model's output kind ({0, 1} for binary kinds)."""
    if tf.is_tensor(y):
        y = y.numpy()
    return labels_for(y, kind, n, n_outputs(model), argument=argument)


def target_labels(target: Any, kind: str, n: int, model: keras.Model) -> np.ndarray:
    """Checked target classes (N,): one int for every example, or (N,) ints."""
    if tf.is_tensor(target):
        target = target.numpy()
    arr = np.asarray(target)
    if arr.ndim == 0:
        arr = np.full(n, arr.item())
    return labels_for(arr, kind, n, n_outputs(model), argument="target")


def make_rng(seed: Any) -> np.random.Generator:
    """A NumPy generator from ``None``, an int or a generator."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise invalid("seed", "None, a non-negative integer or a numpy Generator", seed) from None


def batches(n: int, batch_size: int | None) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of each batch of ``batch_size`` (default :data:`DEFAULT_BATCH_SIZE`)."""
    size = batch_size or DEFAULT_BATCH_SIZE
    for start in range(0, n, size):
        yield start, min(start + size, n)


def clip_tensors(clip: tuple[float, float] | None) -> tuple[tf.Tensor, tf.Tensor]:
    """The clip bounds as float32 scalars (zeros without a box: they are then unused)."""
    low, high = clip if clip is not None else (0.0, 0.0)
    return tf.constant(low, tf.float32), tf.constant(high, tf.float32)


def float32(x: np.ndarray) -> tf.Tensor:
    """A NumPy array as a float32 tensor."""
    return tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
