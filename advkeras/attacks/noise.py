"""Random perturbations and rubbish inputs: the paper's controls for FGSM.

- :func:`random_sign_noise`, :func:`uniform_noise` (§6): noise of the same max
  norm ε as an FGSM step, which barely changes a network's error: the
  direction of the gradient, not the size of the step, makes FGSM work.
- :func:`gaussian_rubbish`, :func:`fooling_step` (Appendix A): Gaussian noise
  that a network classifies confidently after one gradient step toward a class.

The noise is drawn with NumPy (one seed, one noise); the step, ``x + η`` and
its clipping are those of :mod:`advkeras.attacks.core`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import check_clip, check_eps, check_positive_int, invalid
from advkeras.attacks import core
from advkeras.attacks._inputs import (
    as_array,
    batches,
    check_bool,
    check_values,
    clip_tensors,
    float32,
    make_rng,
    target_labels,
)
from advkeras.attacks.compiled import fooling_function
from advkeras.losses import resolve_output_kind

__all__ = ["fooling_step", "gaussian_rubbish", "random_sign_noise", "uniform_noise"]


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
    rng = make_rng(seed)
    arr = as_array(x)
    check_values(arr, clip)
    signs = rng.integers(0, 2, size=arr.shape, dtype=np.int8) * 2 - 1
    eta = np.float32(eps) * signs.astype(np.float32)
    return core.perturb(float32(arr), eta, clip).numpy()


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
    rng = make_rng(seed)
    arr = as_array(x)
    check_values(arr, clip)
    unit = 2.0 * rng.random(arr.shape, dtype=np.float32) - 1.0  # uniform on [-1, 1)
    return core.perturb(float32(arr), np.float32(eps) * unit, clip).numpy()


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
    rng = make_rng(seed)
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
    use_sign = check_bool(sign, "sign")
    clip = check_clip(clip)
    kind = resolve_output_kind(model, output)
    arr = as_array(x)
    check_values(arr, clip)
    targets = target_labels(target, kind, arr.shape[0], model)
    fn = fooling_function(model, kind, use_sign, clip is not None, arr.shape[1:])
    eps_t = tf.constant(eps, tf.float32)
    low, high = clip_tensors(clip)
    result = np.empty(arr.shape, dtype=np.float32)
    for start, stop in batches(arr.shape[0], None):
        xb, tb = float32(arr[start:stop]), tf.constant(targets[start:stop])
        result[start:stop] = fn(xb, tb, eps_t, low, high).numpy()
    return result
