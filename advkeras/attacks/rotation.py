"""Rotation toward the gradient (§4): a small turn of x that raises the cost.

"Rotating x by a small angle in the direction of the gradient reliably
produces adversarial examples": :func:`rotate_toward_gradient` turns each input
on the sphere of its own norm, toward the component of ∇ₓJ orthogonal to it.
The gradient comes from :mod:`advkeras.attacks.core` (through
:func:`advkeras.attacks.input_gradient`); the turn is computed in float64.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from advkeras._validation import check_clip
from advkeras.attacks._inputs import as_array, check_number, check_values
from advkeras.attacks.fast_gradient import input_gradient
from advkeras.losses import resolve_output_kind

__all__ = ["rotate_toward_gradient"]


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
    a = check_number(angle, "angle", "a finite angle in radians")
    clip = check_clip(clip)
    kind = resolve_output_kind(model, output)
    arr = as_array(x)
    check_values(arr, clip)
    g = input_gradient(model, arr, y, output=kind).reshape(len(arr), -1).astype(np.float64)
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
