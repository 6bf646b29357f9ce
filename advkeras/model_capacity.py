"""§7 of the paper: models that may say "I don't know", and what that costs.

An RBF network's outputs are independent probabilities, so it can give every
class a low one. The paper: "RBF networks are able to achieve high precision by
abstaining when they are unsure, at the cost of recall", where the linear
models behind the softmax "must sacrifice precision". A classifier that answers
only when its confidence (its largest output) reaches a threshold ``t`` has

- precision(t): the share of correct answers among the examples it answers,
- recall(t): the share of all examples that it answers correctly,

and :func:`precision_recall` traces both over thresholds.
:func:`true_class_nll_loss` is the per-example cost −log p_y alone, the cost
an FGSM step may follow on a network with independent outputs instead of its
training cost (which also pushes every wrong class's output down).

Example:

>>> conf = np.array([0.9, 0.8, 0.3, 0.2])
>>> correct = np.array([True, False, True, False])
>>> curve = precision_recall(conf, correct, thresholds=[0.0, 0.5, 0.85])
>>> curve.precision.tolist(), curve.recall.tolist()
([0.5, 0.5, 1.0], [0.5, 0.25, 0.25])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from advkeras._validation import invalid

__all__ = ["PrecisionRecall", "largest_miss", "precision_recall", "true_class_nll_loss"]


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision, recall and coverage of a thresholded classifier, one entry per threshold.

    Attributes:
        thresholds: ``(T,)``, increasing.
        precision: ``(T,)``; NaN where no example reaches the threshold.
        recall: ``(T,)``, correct answers over all examples.
        coverage: ``(T,)``, the share of examples answered.
    """

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    coverage: np.ndarray

    def at(self, threshold: float) -> dict[str, float]:
        """The entry for the largest threshold <= ``threshold``."""
        i = np.searchsorted(self.thresholds, float(threshold), side="right") - 1
        if i < 0:
            raise invalid("threshold", f"a value >= {self.thresholds[0]}", threshold)
        return {
            "threshold": float(self.thresholds[i]),
            "precision": float(self.precision[i]),
            "recall": float(self.recall[i]),
            "coverage": float(self.coverage[i]),
        }


def precision_recall(confidence: Any, correct: Any, thresholds: Any = None) -> PrecisionRecall:
    """Precision and recall of answering only when ``confidence >= t``, for every threshold t.

    Args:
        confidence: ``(N,)`` the classifier's confidence in its predicted class
            (its largest output), in [0, 1].
        correct: ``(N,)`` booleans, whether the predicted class is the true one.
        thresholds: increasing thresholds in [0, 1]; default 101 points from 0 to 1.

    Returns:
        A :class:`PrecisionRecall`.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    if conf.ndim != 1 or conf.size == 0 or not np.all((conf >= 0) & (conf <= 1)):
        raise invalid("confidence", "a non-empty 1-D array of values in [0, 1]", conf.shape)
    ok = np.asarray(correct)
    if ok.shape != conf.shape or ok.dtype != bool:
        raise invalid("correct", f"a boolean array of shape {conf.shape}", f"{ok.dtype} {ok.shape}")
    t = np.linspace(0.0, 1.0, 101) if thresholds is None else np.asarray(thresholds, np.float64)
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) <= 0) or t[0] < 0 or t[-1] > 1:
        raise invalid("thresholds", "a non-empty increasing sequence in [0, 1]", thresholds)
    answered = conf[None, :] >= t[:, None]
    n_answered = answered.sum(axis=1)
    n_right = (answered & ok[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_answered > 0, n_right / np.maximum(n_answered, 1), np.nan)
    return PrecisionRecall(t, precision, n_right / conf.size, n_answered / conf.size)


def true_class_nll_loss(y: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
    """Per-example −log p_y for independent per-class probabilities (the wrong classes ignored).

    Pass it as ``loss=`` to :func:`advkeras.attacks.fgsm`. ``p_y`` is floored at
    1e-30 so that the cost stays finite.

    Example:

    >>> p = tf.constant([[0.5, 0.1], [0.2, 0.25]])
    >>> [round(float(v), 4) for v in true_class_nll_loss(tf.constant([0, 1]), p)]
    [0.6931, 1.3863]
    """
    labels = tf.cast(tf.reshape(y, [-1]), tf.int32)
    p_true = tf.gather(probabilities, labels, axis=1, batch_dims=1)
    return -tf.math.log(tf.maximum(p_true, 1e-30))


def largest_miss(
    ours: Mapping[str, float], paper: Mapping[str, float], tolerance: Mapping[str, float]
) -> float:
    """How far a measurement is from the paper's: its largest miss in units of its tolerance.

    ``max_k |ours[k] − paper[k]| / tolerance[k]`` over the keys of ``paper``: at
    most 1 exactly when every number is within its tolerance (the book's
    "reproduced"), and the one that misses most says by how much otherwise.
    Chapter 7 gives it for each reading of the RBF network.

    Args:
        ours: measured numbers, with every key of ``paper``.
        paper: the paper's numbers.
        tolerance: a tolerance > 0 for every key of ``paper``.

    Returns:
        The largest miss, in tolerances.

    Example:

    >>> largest_miss({"err": 58.4, "conf": 1.0}, {"err": 55.4, "conf": 1.2}, {"err": 2, "conf": 1})
    1.5
    """
    if not paper:
        raise invalid("paper", "at least one number", dict(paper))
    for name, given in (("ours", ours), ("tolerance", tolerance)):
        missing = sorted(set(paper) - set(given))
        if missing:
            raise invalid(name, f"a value for every key of `paper` ({sorted(paper)})", missing)
    misses = []
    for key, value in paper.items():
        tol = float(tolerance[key])
        if not np.isfinite(tol) or tol <= 0:
            raise invalid("tolerance", f"a finite value > 0 for {key!r}", tolerance[key])
        misses.append(abs(float(ours[key]) - float(value)) / tol)
    return float(max(misses))
