"""Argument checks shared by every public function.

Each check raises ``ValueError`` naming the argument, the value received and
what is allowed, in the style of Keras' own messages. Nothing is clamped
silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

NORMS = ("inf", 1, 2)


def invalid(argument: str, expected: str, value: Any) -> ValueError:
    """Build the project's standard error for a bad argument."""
    return ValueError(
        f"Received an invalid value for argument `{argument}`. "
        f"Expected {expected}. Received: {argument}={value!r}"
    )


def _finite_number(
    value: Any,
    argument: str,
    expected: str,
    accept: Callable[[float], bool],
    *,
    allow_bool: bool = True,
) -> float:
    """``value`` as a finite float for which ``accept`` holds, else the standard error."""
    if isinstance(value, bool) and not allow_bool:
        raise invalid(argument, expected, value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise invalid(argument, expected, value) from None
    if not math.isfinite(v) or not accept(v):
        raise invalid(argument, expected, value)
    return v


def check_eps(eps: Any, argument: str = "eps") -> float:
    """Return ``eps`` as a float if it is a finite number >= 0."""
    return _finite_number(eps, argument, "a finite number >= 0", lambda v: v >= 0)


def check_epsilons(epsilons: Any, argument: str = "epsilons") -> list[float]:
    """Return a non-empty list of valid epsilons."""
    if np.isscalar(epsilons):
        epsilons = [epsilons]
    values = list(epsilons)
    if not values:
        raise invalid(argument, "a non-empty sequence of finite numbers >= 0", epsilons)
    return [check_eps(e, f"{argument}[{i}]") for i, e in enumerate(values)]


def check_fraction(value: Any, argument: str) -> float:
    """Return ``value`` as a float in the closed interval [0, 1]."""
    return _finite_number(value, argument, "a number in [0, 1]", lambda v: 0.0 <= v <= 1.0)


def check_positive_int(value: Any, argument: str) -> int:
    """Return ``value`` as an int if it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise invalid(argument, "a positive integer", value)
    return int(value)


def check_norm(norm: Any, argument: str = "norm") -> str | int:
    """Normalise a norm name: ``"inf"`` (also ``np.inf``), ``1`` or ``2``."""
    if isinstance(norm, str) and norm.lower() in ("inf", "linf", "l_inf"):
        return "inf"
    if isinstance(norm, float) and math.isinf(norm) and norm > 0:
        return "inf"
    if not isinstance(norm, bool) and isinstance(norm, int | float | np.integer) and norm in (1, 2):
        return int(norm)
    raise invalid(argument, "one of 'inf' (or numpy.inf), 1, 2", norm)


def check_clip(clip: Any, argument: str = "clip") -> tuple[float, float] | None:
    """Return ``None`` or a ``(low, high)`` pair of finite floats with low <= high."""
    if clip is None:
        return None
    if isinstance(clip, str) or not isinstance(clip, Sequence) or len(clip) != 2:
        raise invalid(argument, "None or a pair (min, max) with min <= max", clip)
    try:
        low, high = float(clip[0]), float(clip[1])
    except (TypeError, ValueError):
        raise invalid(argument, "None or a pair (min, max) of numbers", clip) from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise invalid(argument, "None or a pair (min, max) of finite numbers with min <= max", clip)
    return low, high


def check_finite(x: np.ndarray, argument: str = "x") -> tuple[float, float]:
    """Refuse a non-empty array holding NaN or ±inf; return its (min, max).

    ``np.min`` and ``np.max`` propagate NaN and reach ±inf, so no temporary
    array the size of ``x`` is made (``np.isfinite`` would make one).
    """
    x_min, x_max = float(np.min(x)), float(np.max(x))
    if not (math.isfinite(x_min) and math.isfinite(x_max)):
        raise invalid(argument, "finite values", "an array containing NaN or inf")
    return x_min, x_max


def check_inputs_in_clip(
    x: np.ndarray, clip: tuple[float, float] | None, argument: str = "x"
) -> None:
    """Refuse inputs outside the clip box (e.g. uint8 images in [0, 255] with clip (0, 1))."""
    if clip is None or x.size == 0:
        return
    low, high = clip
    x_min, x_max = check_finite(x, argument)
    tol = 1e-6 * max(1.0, high - low)
    if x_min < low - tol or x_max > high + tol:
        hint = ""
        if x.dtype == np.uint8:
            hint = " (uint8 images: divide by 255 first)"
        raise ValueError(
            f"Received an invalid value for argument `{argument}`: its values lie in "
            f"[{x_min:g}, {x_max:g}], outside clip=({low:g}, {high:g}){hint}. "
            "Expected inputs inside the clip range, or clip=None."
        )


def check_labels(
    y: Any, n: int, n_classes: int, argument: str = "y", binary: bool = False
) -> np.ndarray:
    """Validate integer class labels.

    Multi-class: shape (n,) with values in [0, n_classes); one-hot (n, n_classes)
    is converted to indices. Binary (one output unit): values in {0, 1} or
    {-1, +1}; returned as {0, 1}.
    """
    arr = np.asarray(y)
    if not binary and arr.ndim == 2 and arr.shape == (n, n_classes) and n_classes > 1:
        if not np.all((arr == 0) | (arr == 1)) or not np.all(arr.sum(axis=1) == 1):
            raise invalid(argument, f"one-hot rows of width {n_classes}", "a non one-hot matrix")
        arr = arr.argmax(axis=1)
    if binary and arr.ndim == 2 and arr.shape == (n, 1):
        arr = arr[:, 0]
    if arr.shape != (n,):
        raise invalid(
            argument, f"labels of shape ({n},) to match x", f"an array of shape {arr.shape}"
        )
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise invalid(argument, "integer labels", "non-integer values")
    elif arr.dtype.kind not in "iub":
        raise invalid(argument, "integer labels", f"dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if binary:
        values = set(np.unique(arr).tolist())
        if values <= {0, 1}:
            return arr
        if values <= {-1, 1}:
            return (arr > 0).astype(np.int64)
        raise invalid(argument, "binary labels in {0, 1} or {-1, +1}", sorted(values)[:5])
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise invalid(
            argument,
            f"class indices in [0, {n_classes - 1}]",
            f"values in [{int(arr.min())}, {int(arr.max())}]",
        )
    return arr


def check_choice(value: Any, allowed: Sequence[Any], argument: str) -> Any:
    """Return ``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise invalid(argument, "one of " + ", ".join(repr(a) for a in allowed), value)
    return value


def check_positive_float(value: Any, argument: str, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float if it is a finite number > 0 (or None when ``allow_none``)."""
    if value is None and allow_none:
        return None
    expected = "a finite number > 0" + (" or None" if allow_none else "")
    return _finite_number(value, argument, expected, lambda v: v > 0, allow_bool=False)


def check_rate(value: Any, argument: str = "rate") -> float:
    """Return ``value`` as a float if it is a dropout rate in [0, 1)."""
    return _finite_number(
        value, argument, "a number in [0, 1)", lambda v: 0.0 <= v < 1.0, allow_bool=False
    )


def check_feature_rows(x: Any, argument: str = "x") -> np.ndarray:
    """``x`` as a float32 array of shape (N, features), N >= 1, with finite values."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise invalid(argument, "a non-empty array of shape (N, features)", f"shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise invalid(argument, "finite values", "an array containing NaN or inf")
    return arr
