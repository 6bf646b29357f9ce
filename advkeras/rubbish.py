"""Rubbish-class examples (Appendix A): inputs that belong to no class, and what a model says.

Appendix A feeds samples of N(0, I) to classifiers and counts an error whenever
some class gets a probability above .5 (:func:`advkeras.evaluation.rubbish_report`).
This module holds the rest of the appendix:

- :func:`targeted_fooling`: one gradient step from each rubbish sample toward
  each class (:func:`advkeras.attacks.fooling_step`), and the share of steps
  after which the target class gets p > .5 (Fig. 5's per-class success rate);
- :func:`with_rubbish_class`: a training set with Gaussian samples added as an
  extra class, to train a network against rubbish (C36);
- :func:`known_classes`: the outputs of such a network for the real classes
  only, so that it is scored on rubbish by the same rule as the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from advkeras import evaluation
from advkeras._validation import check_eps, check_positive_int, invalid
from advkeras.attacks.noise import fooling_step, gaussian_rubbish

__all__ = ["FoolingReport", "known_classes", "targeted_fooling", "with_rubbish_class"]


def _threshold(value: Any) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise invalid("threshold", "a probability in (0, 1)", value) from None
    if not 0.0 < t < 1.0:
        raise invalid("threshold", "a probability in (0, 1)", value)
    return t


@dataclass(frozen=True, eq=False)
class FoolingReport:
    """Per-class success of one gradient step toward each class (Appendix A, Fig. 5).

    Attributes:
        successes: ``(K,)`` how many of the ``n`` steps toward class k gave p(k | x') > threshold.
        confidence: ``(K,)`` mean p(k | x') after the step toward k, over all ``n`` samples.
        n: number of rubbish samples (each is stepped toward every class).
        eps: the step size.
        threshold: the success threshold (the paper: .5).
        examples: ``(K, keep, ...)`` the first ``keep`` stepped inputs of each class.
        fooled: ``(K, keep)`` whether each of those examples succeeded.
    """

    successes: np.ndarray
    confidence: np.ndarray
    n: int
    eps: float
    threshold: float
    examples: np.ndarray
    fooled: np.ndarray

    @property
    def success_rate(self) -> np.ndarray:
        """``successes / n`` per class."""
        return self.successes / self.n

    @property
    def mean_success(self) -> float:
        """Success rate averaged over the classes (the paper's 75.3 % for CIFAR-10)."""
        return float(np.mean(self.success_rate))

    def intervals(self, confidence: float = 0.95) -> np.ndarray:
        """``(K, 2)`` Wilson intervals of the per-class success rates."""
        return np.array(
            [
                evaluation.wilson_interval(int(s), self.n, confidence=confidence)
                for s in self.successes
            ]
        )

    def as_percent(self) -> dict[str, Any]:
        """Per-class success rates and confidences in percent, their mean, ``n`` and ``eps``."""
        return {
            "success": [100.0 * float(r) for r in self.success_rate],
            "confidence": [100.0 * float(c) for c in self.confidence],
            "mean_success": 100.0 * self.mean_success,
            "n": self.n,
            "eps": self.eps,
        }


def targeted_fooling(
    model: keras.Model,
    x: Any,
    *,
    eps: float,
    classes: int | None = None,
    threshold: float = 0.5,
    sign: bool = True,
    output: str | None = None,
    keep: int = 10,
) -> FoolingReport:
    """Step every sample of ``x`` once toward every class and count the successes (Fig. 5).

    For each class k, x' = :func:`~advkeras.attacks.fooling_step` (x, k, eps)
    (with ``sign=True``: x + ε·sign(∇ₓ log p(k | x))), and the step succeeds when
    p(k | x') > ``threshold``. Nothing is clipped (rubbish is unbounded).

    Args:
        model: a Keras classifier.
        x: the starting inputs (N, ...), e.g. :func:`~advkeras.attacks.gaussian_rubbish` samples.
        eps: step size ε >= 0.
        classes: how many classes to target, 0 … classes − 1; ``None``: every output
            of the model (a network with an extra rubbish class passes the real ones).
        threshold: the success threshold, in (0, 1).
        sign: gradient-sign step (True) or raw gradient of p (False), as ``fooling_step``.
        output: the output kind, when it cannot be inferred.
        keep: how many stepped inputs of each class to keep for a figure (positive).

    Returns:
        A :class:`FoolingReport`.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, "softmax")])
        >>> report = targeted_fooling(model, gaussian_rubbish(8, seed=0), eps=1.0, keep=2)
        >>> report.successes.shape, report.examples.shape
        ((10,), (10, 2, 784))
    """
    eps = check_eps(eps)
    threshold = _threshold(threshold)
    keep = check_positive_int(keep, "keep")
    width = int(model.output_shape[-1])
    k = width if classes is None else check_positive_int(classes, "classes")
    if k > width:
        raise invalid("classes", f"at most the model's {width} outputs", classes)
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim < 2 or len(arr) == 0:
        raise invalid("x", "an array (N, ...) of N >= 1 inputs", f"an array of shape {arr.shape}")
    n, kept = len(arr), min(keep, len(arr))
    successes = np.zeros(k, dtype=np.int64)
    confidence = np.zeros(k)
    examples = np.empty((k, kept, *arr.shape[1:]), dtype=np.float32)
    fooled = np.zeros((k, kept), dtype=bool)
    for target in range(k):
        stepped = fooling_step(model, arr, target, eps=eps, sign=sign, output=output)
        p = evaluation.predict_proba(model, stepped, output=output)[:, target]
        hit = p > threshold
        successes[target] = int(hit.sum())
        confidence[target] = float(p.mean())
        examples[target] = stepped[:kept]
        fooled[target] = hit[:kept]
    return FoolingReport(successes, confidence, n, eps, threshold, examples, fooled)


def with_rubbish_class(
    x: Any,
    y: Any,
    n: int,
    *,
    label: int | None = None,
    seed: Any = None,
    std: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` with ``n`` samples of N(0, std²·I) appended as an extra class (C36).

    Args:
        x: training inputs (N, ...).
        y: integer labels (N,) in 0 … K − 1.
        n: how many rubbish samples to add (positive).
        label: the rubbish class's label; ``None``: ``y.max() + 1`` (10 for MNIST).
            It must not be one of the labels in ``y``.
        seed: None, an int or a ``numpy.random.Generator`` for the samples.
        std: their standard deviation (the paper's rubbish: 1).

    Returns:
        ``(x', y')``: float32 inputs and int64 labels, the ``n`` rubbish samples last.

    Example:
        >>> import numpy as np
        >>> x2, y2 = with_rubbish_class(np.zeros((4, 3)), np.array([0, 1, 2, 1]), 2, seed=0)
        >>> x2.shape, y2.tolist()
        ((6, 3), [0, 1, 2, 1, 3, 3])
    """
    arr = np.asarray(x, dtype=np.float32)
    labels = np.asarray(y)
    if arr.ndim < 2 or len(arr) == 0:
        raise invalid("x", "an array (N, ...) of N >= 1 inputs", f"an array of shape {arr.shape}")
    if labels.shape != (len(arr),) or labels.dtype.kind not in "iu":
        raise invalid(
            "y", f"integer labels of shape ({len(arr)},)", f"{labels.dtype} {labels.shape}"
        )
    n = check_positive_int(n, "n")
    if label is None:
        label = int(labels.max()) + 1
    elif isinstance(label, bool) or not isinstance(label, int | np.integer) or label < 0:
        raise invalid("label", "None or an integer >= 0", label)
    if np.any(labels == label):
        raise invalid("label", "a label that y does not use", label)
    rubbish = gaussian_rubbish(n, arr.shape[1:], seed=seed, std=std)
    return (
        np.concatenate([arr, rubbish]),
        np.concatenate([labels.astype(np.int64), np.full(n, int(label), dtype=np.int64)]),
    )


class _FirstColumns(keras.layers.Layer):
    """The first ``k`` columns of its input."""

    def __init__(self, k: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = k

    def call(self, inputs: Any) -> Any:
        return inputs[:, : self.k]

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self.k)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "k": self.k}


def known_classes(model: keras.Model, classes: int = 10) -> keras.Model:
    """The model's probabilities of its first ``classes`` outputs only (output kind ``"independent"``).

    A network trained with an extra rubbish class (:func:`with_rubbish_class`) says
    "rubbish" through its last softmax output. Scored by the paper's rule (an error
    when some *real* class gets p > .5), only the real classes count: this model
    shares the network's layers and weights and drops the rubbish column, so its
    rows need not sum to one. Pass ``output="independent"`` to the functions that
    score it.

    Args:
        model: a classifier with more than ``classes`` probability outputs.
        classes: the number of real classes (positive, below the model's outputs).

    Returns:
        A ``keras.Model`` with the same input, outputs ``(N, classes)``.

    Example:
        >>> import keras, numpy as np
        >>> net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(11, "softmax")])
        >>> p = known_classes(net)(np.ones((2, 4)))
        >>> tuple(p.shape), bool(float(keras.ops.max(keras.ops.sum(p, axis=1))) < 1.0)
        ((2, 10), True)
    """
    classes = check_positive_int(classes, "classes")
    width = int(model.output_shape[-1])
    if classes >= width:
        raise invalid("classes", f"fewer than the model's {width} outputs", classes)
    inputs = keras.Input(model.input_shape[1:])
    outputs = _FirstColumns(classes, name="known_classes")(model(inputs))
    return keras.Model(inputs, outputs, name=f"{model.name}_known")
