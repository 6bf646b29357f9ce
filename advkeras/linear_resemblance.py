"""§8's hypothesis, measured: do deep networks resemble the linear model learnt on the same data?

The paper explains why adversarial examples transfer by the hypothesis that
networks trained with current methods "all resemble the linear classifier
learned on the same training set". A softmax regression with weights ``W``
(``D × K``) has logits ``z_k(x) = W[:, k]ᵀx + b_k``, so its input gradient of
class ``k``'s logit is ``W[:, k]`` everywhere. A network resembles it, locally,
when the input gradient of its own logit ``k``, ``∇ₓz_k(x)``, points the same
way.

Softmax outputs are unchanged when the same vector is added to every class's
weights, so both sides are first *centred* over the classes
(``v_k − (1/K) Σ_j v_j``): only the differences between classes decide the
prediction. :func:`logit_jacobian` gives ``∇ₓz_k(x)`` for every example and
class; :func:`cosine_to_linear` the cosine between the centred gradients and the
centred weight columns, one number per example and class.

Example:

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="y")])
>>> w = model.get_layer("y").get_weights()[0]
>>> cos = cosine_to_linear(model, np.zeros((4, 3), "float32"), w)
>>> bool(np.allclose(cos, 1.0, atol=1e-5))  # a linear model resembles itself exactly
True
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import check_feature_rows, invalid

__all__ = ["centered", "cosine_to_linear", "logit_jacobian", "sign_agreement"]


def centered(v: Any, axis: int = -1) -> np.ndarray:
    """``v`` minus its mean over ``axis`` (the class axis): what softmax can tell apart.

    Example:

    >>> centered(np.array([[1.0, 3.0], [2.0, 2.0]]), axis=0).tolist()
    [[-0.5, 0.5], [0.5, -0.5]]
    """
    arr = np.asarray(v, dtype=np.float64)
    return arr - arr.mean(axis=axis, keepdims=True)


def logit_jacobian(
    model: keras.Model, x: Any, *, layer: str = "y", batch_size: int = 500
) -> np.ndarray:
    """``∇ₓz_k(x)`` for every example and class: the input gradient of each logit.

    Args:
        model: a classifier whose ``Dense`` layer ``layer`` computes the logits
            (its activation, e.g. softmax, is left out).
        x: inputs ``(N, D)``.
        layer: the name of the Dense layer.
        batch_size: examples per gradient computation.

    Returns:
        ``float64`` array ``(N, K, D)``.
    """
    from advkeras.direction_sweep import _dense_top

    top = _dense_top(model, layer)
    arr = check_feature_rows(x)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise invalid("batch_size", "a positive integer", batch_size)
    hidden = keras.Model(model.inputs[0], top.input)
    kernel = tf.constant(top.get_weights()[0], tf.float32)

    @tf.function(reduce_retracing=True)
    def jac(xb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(xb)
            z = tf.matmul(hidden(xb, training=False), kernel)
        return tape.batch_jacobian(z, xb)

    out = [
        jac(tf.constant(arr[start : start + batch_size])).numpy()
        for start in range(0, len(arr), batch_size)
    ]
    return np.concatenate(out).astype(np.float64)


def cosine_to_linear(
    model: keras.Model,
    x: Any,
    weights: Any,
    *,
    layer: str = "y",
    batch_size: int = 500,
) -> np.ndarray:
    """Cosine between a network's centred logit gradients and a linear model's centred weights.

    Args:
        model: the network (a Dense logit layer named ``layer``).
        x: the inputs at which its gradients are taken ``(N, D)``.
        weights: the linear model's weight matrix ``(D, K)`` (e.g. the kernel of
            softmax regression's ``"y"`` layer).
        layer: the network's logit layer.
        batch_size: examples per gradient computation.

    Returns:
        ``(N, K)``: cosine of ``centred ∇ₓz_k(x)`` with ``centred W[:, k]``, in [−1, 1].
    """
    w = np.asarray(weights, dtype=np.float64)
    arr = check_feature_rows(x)
    if w.ndim != 2 or w.shape[0] != arr.shape[1]:
        raise invalid("weights", f"a matrix of shape ({arr.shape[1]}, classes)", f"shape {w.shape}")
    jac = centered(logit_jacobian(model, arr, layer=layer, batch_size=batch_size), axis=1)
    if jac.shape[1] != w.shape[1]:
        raise invalid("weights", f"{jac.shape[1]} columns (one per class)", f"shape {w.shape}")
    wc = centered(w, axis=1).T  # (K, D)
    num = np.einsum("nkd,kd->nk", jac, wc)
    den = np.linalg.norm(jac, axis=2) * np.linalg.norm(wc, axis=1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def sign_agreement(a: Any, b: Any, *, skip_zeros: bool = False) -> np.ndarray:
    """Per row, the fraction of coordinates where ``sign(a) == sign(b)``.

    For two FGSM directions: the share of pixels that both perturbations push
    the same way (0.5 for independent random signs).

    Args:
        a, b: arrays of the same shape ``(N, D)``.
        skip_zeros: count only the coordinates where neither ``a`` nor ``b`` is 0
            (e.g. the border pixels of MNIST, where a linear model's gradient is
            exactly 0); a row with no such coordinate gives NaN.

    Example:

    >>> sign_agreement([[1.0, -2.0, 3.0, 0.5]], [[2.0, 1.0, 1.0, -1.0]]).tolist()
    [0.5]
    >>> sign_agreement([[1.0, -2.0, 0.0]], [[2.0, -1.0, 1.0]], skip_zeros=True).tolist()
    [1.0]
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 2:
        raise invalid("a", "an array of shape (N, D)", f"shape {x.shape}")
    if y.shape != x.shape:
        raise invalid("b", f"an array of shape {x.shape}", f"shape {y.shape}")
    if not isinstance(skip_zeros, bool):
        raise invalid("skip_zeros", "True or False", skip_zeros)
    same = np.sign(x) == np.sign(y)
    if not skip_zeros:
        return np.mean(same, axis=1)
    keep = (x != 0) & (y != 0)
    counts = keep.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (same & keep).sum(axis=1) / np.maximum(counts, 1), np.nan)
