"""Szegedy et al. (2014)'s box-constrained L-BFGS attack: the slow attack FGSM is compared with.

:func:`lbfgs_attack` searches, one example at a time, for the smallest
perturbation r that makes the model predict a target class, minimising
c·‖r‖₂² + J(x + r, target) with ``scipy.optimize`` and a line search over c.
Its gradients are those of :func:`advkeras.attacks.core.loss_gradient`,
compiled once per model by :mod:`advkeras.attacks.compiled`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import scipy.optimize
import tensorflow as tf

from advkeras._validation import check_clip, check_positive_int, invalid
from advkeras.attacks._inputs import (
    as_array,
    check_number,
    check_values,
    float32,
    target_labels,
)
from advkeras.attacks.compiled import forward_function, gradient_function
from advkeras.losses import predicted_labels, resolve_output_kind

__all__ = ["LBFGSResult", "lbfgs_attack"]


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
    c_init = check_number(c_init, "c_init", "a finite number > 0")
    if c_init <= 0:
        raise invalid("c_init", "a finite number > 0", c_init)
    c_steps = check_positive_int(c_steps, "c_steps")
    max_iter = check_positive_int(max_iter, "max_iter")
    kind = resolve_output_kind(model, output)
    arr = as_array(x)
    check_values(arr, clip)
    n, feature_shape = arr.shape[0], arr.shape[1:]
    targets = target_labels(target, kind, n, model)
    gradient = gradient_function(model, kind, None, False, feature_shape)
    forward = forward_function(model, feature_shape)
    d = int(np.prod(feature_shape))
    bounds = None
    if clip is not None:
        bounds = scipy.optimize.Bounds(np.full(d, clip[0]), np.full(d, clip[1]))

    def predict(z: np.ndarray) -> int:
        out = forward(float32(z.reshape((1, *feature_shape)))).numpy()
        return int(predicted_labels(out, kind)[0])

    if n:  # trace outside the timed loop, so that seconds[0] measures the attack alone
        gradient(float32(arr[:1]), tf.constant(targets[:1]))
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
            g, total, _ = gradient(float32(z.reshape((1, *feature_shape))), target_t)
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
