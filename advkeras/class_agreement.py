"""§8 of the paper: do different models assign adversarial examples the *same* wrong class?

The paper crafts FGSM examples on a maxout network and classifies them with a
shallow softmax and a shallow RBF network; it reports how often two models
predict the same class, each time on a subset of the examples defined by which
models misclassify them (claims C24–C26). :func:`agreement_on` computes one such
rate with its subset written out in words and a Wilson score interval
(:func:`wilson_interval`), since some subsets are small.

Example:

>>> labels = np.array([0, 0, 0, 0])
>>> preds = {"A": np.array([1, 2, 0, 3]), "B": np.array([1, 0, 0, 3])}
>>> row = agreement_on(labels, preds, "A", "B", wrong=("A",))
>>> row.agree, row.n, row.subset
(2, 3, 'the examples that A misclassifies')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from advkeras._validation import invalid

__all__ = ["Agreement", "agreement_on", "wilson_interval"]


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n`` (default: 95 %).

    Returns ``(nan, nan)`` for ``n = 0``.

    Example:

    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise invalid(name, "an integer >= 0", value)
    if k > n:
        raise invalid("k", f"an integer in [0, n = {n}]", k)
    if not isinstance(z, int | float) or not math.isfinite(z) or z <= 0:
        raise invalid("z", "a finite number > 0", z)
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Agreement:
    """How often models ``a`` and ``b`` predict the same class on a subset of examples.

    Attributes:
        a, b: the two models' names.
        subset: the subset in words.
        n: the subset's size.
        agree: on how many of them ``a`` and ``b`` predict the same class.
        rate: ``agree / n`` (NaN for an empty subset).
        low, high: the 95 % Wilson interval of ``rate``.
    """

    a: str
    b: str
    subset: str
    n: int
    agree: int
    rate: float
    low: float
    high: float


def _subset_words(wrong: Sequence[str]) -> str:
    if not wrong:
        return "all examples"
    if len(wrong) == 1:
        return f"the examples that {wrong[0]} misclassifies"
    names = ", ".join(wrong[:-1]) + f" and {wrong[-1]}"
    return f"the examples that {names} {'both' if len(wrong) == 2 else 'all'} misclassify"


def agreement_on(
    labels: Any,
    predictions: Mapping[str, Any],
    a: str,
    b: str,
    *,
    wrong: Sequence[str] = (),
) -> Agreement:
    """The agreement of ``a`` and ``b`` on the examples that every model in ``wrong`` gets wrong.

    Args:
        labels: true classes ``(N,)``.
        predictions: model name → predicted classes ``(N,)``.
        a, b: names in ``predictions``.
        wrong: names in ``predictions``; an example counts when each of them
            misclassifies it (empty: all examples).

    Returns:
        An :class:`Agreement`.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise invalid("labels", "a 1-D array of integer classes", f"{y.dtype} {y.shape}")
    if not isinstance(predictions, Mapping) or not predictions:
        raise invalid("predictions", "a non-empty mapping name -> predicted classes", predictions)
    preds = {}
    for name, p in predictions.items():
        arr = np.asarray(p)
        if arr.shape != y.shape or arr.dtype.kind not in "iu":
            raise invalid(
                "predictions", f"integer arrays of shape {y.shape}", f"{name}: {arr.shape}"
            )
        preds[name] = arr
    names = sorted(preds)
    for argument, name in (("a", a), ("b", b)):
        if name not in preds:
            raise invalid(argument, f"one of {names}", name)
    if isinstance(wrong, str):
        raise invalid("wrong", "a sequence of model names", wrong)
    for name in wrong:
        if name not in preds:
            raise invalid("wrong", f"names among {names}", list(wrong))
    keep = np.ones(y.shape, dtype=bool)
    for name in wrong:
        keep &= preds[name] != y
    n = int(keep.sum())
    agree = int(np.sum((preds[a] == preds[b]) & keep))
    low, high = wilson_interval(agree, n)
    rate = agree / n if n else math.nan
    return Agreement(a, b, _subset_words(tuple(wrong)), n, agree, rate, low, high)
