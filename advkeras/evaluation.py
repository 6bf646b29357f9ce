"""How the paper scores a model: error rates, confidence on mistakes, transfer, ensembles, rubbish.

Every fraction is in [0, 1] (``as_percent`` / ``to_markdown`` turn them into
the paper's percentages). A model's raw output is read through
:mod:`advkeras.losses`: softmax probabilities, logits, one binary unit, or
independent per-class probabilities (RBF units, sigmoids), for which
"confidence" is the largest per-class output and can be tiny (the paper's
C22: 1.2% on the RBF network's mistakes).

Definitions used throughout:

error
    fraction of examples whose predicted class differs from the label.
confidence on mistakes
    mean probability that the model gives its (wrong) predicted class, over the
    misclassified examples only; NaN when there are none.
confidence (clean)
    mean probability of the predicted class over all examples.

Example:

>>> import keras, numpy as np
>>> from advkeras import evaluation
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
>>> report = evaluation.evaluate(model, np.zeros((4, 2), "float32"), np.array([0, 1, 0, 1]))
>>> report.error, report.n
(0.5, 4)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import (
    check_choice,
    check_eps,
    check_epsilons,
    check_positive_int,
    invalid,
)
from advkeras.losses import (
    class_probabilities,
    labels_for,
    predicted_labels,
    resolve_output_kind,
)

# --------------------------------------------------------------------------------------
# Predictions


def _inputs(x: Any, argument: str = "x") -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise invalid(
            argument, "an array (N, ...) of N >= 1 examples", f"an array of shape {arr.shape}"
        )
    if arr.dtype.kind not in "fiub":
        raise invalid(argument, "a numeric array", f"dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def _raw_outputs(model: keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's outputs on ``x`` in inference mode, computed ``batch_size`` rows at a time."""
    batch_size = check_positive_int(batch_size, "batch_size")
    parts = [
        keras.ops.convert_to_numpy(model(x[start : start + batch_size], training=False))
        for start in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts, axis=0)


@dataclass(frozen=True, eq=False)
class _Predictions:
    kind: str
    probabilities: np.ndarray  # (N, K); (N, 2) for binary kinds
    labels: np.ndarray  # (N,) predicted classes
    width: int  # the model's number of outputs

    @property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class, per example."""
        return self.probabilities[np.arange(len(self.labels)), self.labels]


def _predict(
    model: keras.Model, x: Any, output: str | None, batch_size: int, argument: str = "x"
) -> _Predictions:
    kind = resolve_output_kind(model, output)
    out = _raw_outputs(model, _inputs(x, argument), batch_size)
    return _Predictions(
        kind=kind,
        probabilities=class_probabilities(out, kind),
        labels=predicted_labels(out, kind),
        width=int(out.shape[-1]),
    )


def _labels(y: Any, pred: _Predictions) -> np.ndarray:
    return labels_for(y, pred.kind, len(pred.labels), pred.width, argument="y")


def _kind_and_labels(
    model: keras.Model, output: str | None, y: Any, n: int
) -> tuple[str, np.ndarray]:
    """Resolve the output kind and validate ``y`` without a forward pass."""
    kind = resolve_output_kind(model, output)
    width = int(model.output_shape[-1])
    return kind, labels_for(y, kind, n, width, argument="y")


def _mean_or_nan(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else math.nan


def predict_proba(
    model: keras.Model, x: Any, *, output: str | None = None, batch_size: int = 1000
) -> np.ndarray:
    """Per-class probabilities ``(N, K)`` (``(N, 2)`` for a one-unit binary model).

    Rows sum to one except for ``"independent"`` outputs (RBF, sigmoids).

    Args:
        model: a Keras classifier.
        x: inputs ``(N, ...)``.
        output: the output kind (see :mod:`advkeras.losses`); ``None`` infers it.
        batch_size: examples per forward pass.
    """
    return _predict(model, x, output, batch_size).probabilities


def predict_labels(
    model: keras.Model, x: Any, *, output: str | None = None, batch_size: int = 1000
) -> np.ndarray:
    """Predicted classes ``(N,)`` as ``int64`` (binary models: 1 where p(y=1|x) > 0.5)."""
    return _predict(model, x, output, batch_size).labels


def error_rate(
    model: keras.Model, x: Any, y: Any, *, output: str | None = None, batch_size: int = 1000
) -> float:
    """Fraction of ``x`` misclassified (labels ``y``: ``(N,)`` indices, one-hot, or ±1 for binary).

    Example:

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])  # binary logit
    >>> m.set_weights([np.ones((1, 1)), np.zeros(1)])
    >>> error_rate(m, np.array([[-1.0], [2.0]]), np.array([-1, -1]))
    0.5
    """
    pred = _predict(model, x, output, batch_size)
    return float(np.mean(pred.labels != _labels(y, pred)))


def confidence_on_mistakes(
    model: keras.Model, x: Any, y: Any, *, output: str | None = None, batch_size: int = 1000
) -> float:
    """Mean probability of the (wrong) predicted class over misclassified examples; NaN if none."""
    pred = _predict(model, x, output, batch_size)
    wrong = pred.labels != _labels(y, pred)
    return _mean_or_nan(pred.confidence[wrong])


def mean_confidence(
    model: keras.Model, x: Any, *, output: str | None = None, batch_size: int = 1000
) -> float:
    """Mean probability of the predicted class (the largest probability) over ``x``."""
    return float(np.mean(_predict(model, x, output, batch_size).confidence))


@dataclass(frozen=True)
class Report:
    """Error and confidences of a model on one set of examples (fractions in [0, 1]).

    Attributes:
        error: fraction misclassified.
        confidence_on_mistakes: mean probability of the predicted class over the
            misclassified examples (NaN when there are none).
        confidence_clean: mean probability of the predicted class over all examples
            (on adversarial examples, over those).
        n: number of examples.
    """

    error: float
    confidence_on_mistakes: float
    confidence_clean: float
    n: int

    def as_percent(self) -> dict[str, float]:
        """The three fractions in percent, and ``n``."""
        return {
            "error": 100.0 * self.error,
            "confidence_on_mistakes": 100.0 * self.confidence_on_mistakes,
            "confidence_clean": 100.0 * self.confidence_clean,
            "n": self.n,
        }


def _report(pred: _Predictions, labels: np.ndarray) -> Report:
    wrong = pred.labels != labels
    return Report(
        error=float(np.mean(wrong)),
        confidence_on_mistakes=_mean_or_nan(pred.confidence[wrong]),
        confidence_clean=float(np.mean(pred.confidence)),
        n=int(len(labels)),
    )


def evaluate(
    model: keras.Model, x: Any, y: Any, *, output: str | None = None, batch_size: int = 1000
) -> Report:
    """Error, confidence on mistakes and mean confidence of ``model`` on ``(x, y)``, in one pass.

    Args:
        model: a Keras classifier.
        x: inputs ``(N, ...)``.
        y: labels: ``(N,)`` class indices, one-hot ``(N, K)``, or {0, 1} / {−1, +1} for binary models.
        output: the output kind; ``None`` infers it from the last layer.
        batch_size: examples per forward pass.

    Returns:
        A :class:`Report`.
    """
    pred = _predict(model, x, output, batch_size)
    return _report(pred, _labels(y, pred))


def attack_report(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    eps: float,
    norm: str | int | float = "inf",
    clip: tuple[float, float] | None = (0.0, 1.0),
    output: str | None = None,
    batch_size: int = 1000,
) -> Report:
    """FGSM on ``model`` with the true labels, then :func:`evaluate` on the adversarial examples.

    Args:
        model: the classifier attacked and evaluated.
        x: clean inputs.
        y: true labels (the attack increases their cost).
        eps: the FGSM step ε (the paper: .25 on MNIST, .1 on CIFAR-10).
        norm: ``"inf"`` (the sign step) or 2, as in :func:`advkeras.attacks.fgsm`.
        clip: box the adversarial examples are clipped to, or ``None``.
        output: the output kind; ``None`` infers it.
        batch_size: examples per forward/backward pass.

    Returns:
        A :class:`Report` on the adversarial examples.
    """
    from advkeras.attacks import fgsm

    eps = check_eps(eps)
    xs = _inputs(x)
    kind, labels = _kind_and_labels(model, output, y, len(xs))
    x_adv = fgsm(
        model, xs, labels, eps=eps, norm=norm, clip=clip, output=kind, batch_size=batch_size
    )
    return evaluate(model, x_adv, labels, output=kind, batch_size=batch_size)


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a success rate measured on ``n`` examples, as fractions.

    The interval that a rate measured on few examples (chapter 2's 20 L-BFGS
    attacks) should be read with; unlike the normal approximation it stays in
    [0, 1] and is not empty at 0 or ``n`` successes.

    Args:
        successes: the count, an integer in [0, n].
        n: the number of examples, >= 1.
        confidence: the coverage, in (0, 1).

    Returns:
        ``(low, high)`` with ``0 <= low <= successes / n <= high <= 1``.

    Example:

    >>> low, high = wilson_interval(20, 20)
    >>> round(low, 3), high
    (0.839, 1.0)
    """
    n = check_positive_int(n, "n")
    if isinstance(successes, bool) or not isinstance(successes, int | np.integer):
        raise invalid("successes", f"an integer in [0, {n}]", successes)
    if not 0 <= successes <= n:
        raise invalid("successes", f"an integer in [0, {n}]", successes)
    try:
        level = float(confidence)
    except (TypeError, ValueError):
        raise invalid("confidence", "a number in (0, 1)", confidence) from None
    if not 0.0 < level < 1.0:
        raise invalid("confidence", "a number in (0, 1)", confidence)
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return float(low), float(high)


def sign_test(only_a: int, only_b: int) -> float:
    """Exact two-sided sign (McNemar) test p-value for two classifiers on the same examples.

    ``only_a``: examples that classifier A alone gets wrong; ``only_b``: those
    B alone gets wrong. Under "equally accurate", each of the n = only_a +
    only_b discordant examples is A's alone with probability ½; the p-value is
    twice the binomial tail of the smaller count, capped at 1 (chapter 6
    compares the naive and adversarially trained networks this way).

    Example:

    >>> sign_test(5, 5), sign_test(0, 0)
    (1.0, 1.0)
    >>> round(sign_test(41, 32), 2)
    0.35
    """
    counts = []
    for name, k in (("only_a", only_a), ("only_b", only_b)):
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise invalid(name, "an integer >= 0", k)
        counts.append(int(k))
    n = sum(counts)
    tail = sum(math.comb(n, i) for i in range(min(counts) + 1)) / 2**n
    return min(1.0, 2 * tail)


# --------------------------------------------------------------------------------------
# Linearity along the attack direction (§4)


@dataclass(frozen=True, eq=False)
class LinearityResult:
    """The cost along the FGSM direction against its first-order Taylor expansion (§4).

    For each example, ``g = ∇ₓJ(θ, x, y)``; the input moves along ``sign(g)``
    without clipping. All costs are means over the examples.

    Attributes:
        epsilons: the step sizes ε, shape ``(E,)``.
        cost: mean ``J(θ, x + ε·sign(g), y)``, shape ``(E,)``.
        linear: mean ``J(θ, x, y) + ε·‖g‖₁``, the linearisation, shape ``(E,)``.
        gradient_l1: ``‖g‖₁`` per example, shape ``(N,)``.
        n: number of examples.
    """

    epsilons: np.ndarray
    cost: np.ndarray
    linear: np.ndarray
    gradient_l1: np.ndarray = field(repr=False)
    n: int

    @property
    def clean_cost(self) -> float:
        """Mean ``J(θ, x, y)`` on the clean inputs (the linearisation at ε = 0)."""
        return float(self.linear[0] - self.epsilons[0] * np.mean(self.gradient_l1))

    @property
    def realised(self) -> np.ndarray:
        """Rise of the cost as a fraction of the rise the linearisation predicts (NaN at ε = 0).

        1 means the cost is exactly linear along the direction; above 1, it rises
        faster than its tangent (convex along the line); below 1, slower.
        """
        predicted = self.linear - self.clean_cost
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(predicted > 0, (self.cost - self.clean_cost) / predicted, np.nan)

    def as_dict(self) -> dict[str, Any]:
        """Plain lists, for a results file."""
        return {
            "epsilons": self.epsilons.tolist(),
            "cost": self.cost.tolist(),
            "linear": self.linear.tolist(),
            "realised": self.realised.tolist(),
            "mean_gradient_l1": float(np.mean(self.gradient_l1)),
            "n": self.n,
        }


def linearity_along_sign(
    model: keras.Model,
    x: Any,
    y: Any,
    epsilons: Sequence[float],
    *,
    output: str | None = None,
    batch_size: int = 1000,
) -> LinearityResult:
    """How close to linear the cost is along ``sign(∇ₓJ)``: ``J(x + εs)`` against ``J(x) + ε‖∇ₓJ‖₁``.

    The hypothesis of §4 is that networks are close enough to linear in their
    input that the first-order expansion predicts what the FGSM step does to the
    cost. This measures both sides for each ε (inputs are not clipped).

    Args:
        model: a Keras classifier.
        x: clean inputs ``(N, ...)``.
        y: true labels.
        epsilons: step sizes ε >= 0.
        output: the output kind; ``None`` infers it.
        batch_size: examples per pass.

    Returns:
        A :class:`LinearityResult`.

    Example (logistic regression: the logit moves by exactly ε‖w‖₁, and the
    softplus cost is convex along the line, so the cost rises at least as fast as
    its tangent):

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> m.set_weights([np.array([[1.0], [-2.0], [0.5]]), np.zeros(1)])
    >>> r = linearity_along_sign(m, np.zeros((1, 3)), np.array([1]), [0.0, 0.5])
    >>> bool(r.cost[1] >= r.linear[1]), round(float(r.cost[1]), 4)  # softplus(0 + .5 * 3.5) = log(1 + e^1.75)
    (True, 1.9102)
    """
    from advkeras.attacks import input_gradient
    from advkeras.losses import per_example_loss

    eps = np.asarray(check_epsilons(epsilons), dtype=np.float64)
    xs = _inputs(x)
    kind, labels = _kind_and_labels(model, output, y, len(xs))
    cost_of = per_example_loss(kind)

    def cost(inputs: np.ndarray) -> np.ndarray:
        out = _raw_outputs(model, inputs, batch_size)
        return np.asarray(cost_of(tf.constant(labels), tf.constant(out)), dtype=np.float64)

    grad = input_gradient(model, xs, labels, output=kind, batch_size=batch_size)
    direction = np.sign(grad).astype(np.float32)
    g_l1 = np.abs(grad.reshape(len(xs), -1)).astype(np.float64).sum(axis=1)
    j0 = cost(xs)
    costs = np.array([np.mean(cost(xs + np.float32(e) * direction)) for e in eps])
    linear = float(np.mean(j0)) + eps * float(np.mean(g_l1))
    return LinearityResult(epsilons=eps, cost=costs, linear=linear, gradient_l1=g_l1, n=len(xs))


# --------------------------------------------------------------------------------------
# Agreement and transfer (§6, §8)


def agreement_rate(pred_a: Any, pred_b: Any, mask: Any = None) -> float:
    """Fraction of examples on which two models predict the same class (§8).

    Args:
        pred_a: predicted classes of model A, shape ``(N,)``.
        pred_b: predicted classes of model B, shape ``(N,)``.
        mask: optional boolean ``(N,)``: only these examples count (e.g. those
            both models misclassify).

    Returns:
        The agreement in [0, 1]; NaN when ``mask`` selects nothing.

    Example:

    >>> import numpy as np
    >>> agreement_rate(np.array([1, 2, 3, 4]), np.array([1, 0, 3, 0]), np.array([True, True, True, False]))
    0.6666666666666666
    """
    a = np.asarray(pred_a)
    b = np.asarray(pred_b)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise invalid("pred_a", "a 1-D array of integer class labels", f"{a.dtype} array {a.shape}")
    if b.shape != a.shape or b.dtype.kind not in "iu":
        raise invalid(
            "pred_b", f"integer class labels of shape {a.shape}", f"{b.dtype} array {b.shape}"
        )
    if mask is None:
        keep = np.ones(a.shape, dtype=bool)
    else:
        keep = np.asarray(mask)
        if keep.shape != a.shape or keep.dtype != bool:
            raise invalid(
                "mask", f"a boolean array of shape {a.shape}", f"{keep.dtype} array {keep.shape}"
            )
    return _mean_or_nan((a == b)[keep])


AGREEMENT_SUBSETS = ("all", "a_wrong", "b_wrong", "both_wrong")


@dataclass(frozen=True, eq=False)
class TransferResult:
    """FGSM examples crafted on each model and classified by every model.

    Attributes:
        names: the models' names, in order.
        eps: the FGSM ε.
        error: ``(M, M)``; ``error[i, j]`` is the error of model ``j`` on
            examples crafted against model ``i`` (the diagonal: white-box error).
        confidence_on_mistakes: ``(M, M)``, same layout (NaN where no mistakes).
        predictions: ``(M, M, N)`` ``int64``: model ``j``'s classes on the examples
            crafted against model ``i``.
        labels: the true labels ``(N,)``.
    """

    names: tuple[str, ...]
    eps: float
    error: np.ndarray
    confidence_on_mistakes: np.ndarray
    predictions: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    def _index(self, name: str, argument: str) -> int:
        if name not in self.names:
            raise invalid(argument, "one of " + ", ".join(map(repr, self.names)), name)
        return self.names.index(name)

    def error_of(self, source: str, target: str) -> float:
        """Error of ``target`` on the examples crafted against ``source``."""
        return float(self.error[self._index(source, "source"), self._index(target, "target")])

    def agreement(self, source: str, a: str, b: str, *, on: str = "a_wrong") -> float:
        """How often models ``a`` and ``b`` predict the same class on ``source``'s examples (§8).

        Args:
            source: the model the examples were crafted against.
            a: first model (e.g. the maxout network).
            b: second model (e.g. the RBF network).
            on: the examples counted: ``"all"``, ``"a_wrong"`` (those ``a``
                misclassifies, the paper's C24), ``"b_wrong"``, or ``"both_wrong"`` (C25, C26).

        Returns:
            The agreement in [0, 1]; NaN when the subset is empty.
        """
        check_choice(on, AGREEMENT_SUBSETS, "on")
        s = self._index(source, "source")
        pa = self.predictions[s, self._index(a, "a")]
        pb = self.predictions[s, self._index(b, "b")]
        mask = {
            "all": np.ones(pa.shape, dtype=bool),
            "a_wrong": pa != self.labels,
            "b_wrong": pb != self.labels,
            "both_wrong": (pa != self.labels) & (pb != self.labels),
        }[on]
        return agreement_rate(pa, pb, mask)

    def to_markdown(self, *, digits: int = 1) -> str:
        """Markdown table of the errors in percent: rows crafted on, columns evaluated by."""
        header = "| crafted on \\ evaluated by | " + " | ".join(self.names) + " |"
        rule = "|---|" + "---:|" * len(self.names)
        rows = [
            f"| {name} | " + " | ".join(f"{100 * e:.{digits}f}%" for e in self.error[i]) + " |"
            for i, name in enumerate(self.names)
        ]
        return "\n".join([header, rule, *rows])


def transfer_matrix(
    models: Mapping[str, keras.Model],
    x: Any,
    y: Any,
    *,
    eps: float,
    norm: str | int | float = "inf",
    clip: tuple[float, float] | None = (0.0, 1.0),
    outputs: Mapping[str, str] | None = None,
    batch_size: int = 1000,
) -> TransferResult:
    """Cross-model FGSM: craft on each model, classify with every model (C16, C24–C26).

    Args:
        models: name → classifier; all must have the same number of outputs.
        x: clean inputs ``(N, ...)``.
        y: true labels.
        eps: the FGSM ε.
        norm: FGSM norm (``"inf"`` or 2).
        clip: box for the adversarial examples, or ``None``.
        outputs: optional name → output kind, for models whose kind cannot be inferred.
        batch_size: examples per pass.

    Returns:
        A :class:`TransferResult`.
    """
    from advkeras.attacks import fgsm

    if not isinstance(models, Mapping) or not models:
        raise invalid("models", "a non-empty mapping name -> keras.Model", models)
    outputs = dict(outputs or {})
    unknown = set(outputs) - set(models)
    if unknown:
        raise invalid("outputs", "keys that are names in `models`", sorted(unknown))
    eps = check_eps(eps)
    xs = _inputs(x)
    names = tuple(str(n) for n in models)
    models_list = list(models.values())
    kinds = [
        resolve_output_kind(m, outputs.get(n)) for n, m in zip(models, models_list, strict=True)
    ]
    widths = {int(m.output_shape[-1]) for m in models_list}
    if len(widths) != 1:
        raise invalid("models", "classifiers with the same number of outputs", sorted(widths))
    _, labels = _kind_and_labels(models_list[0], kinds[0], y, len(xs))
    m = len(models_list)
    error = np.zeros((m, m))
    conf = np.zeros((m, m))
    predictions = np.zeros((m, m, len(labels)), dtype=np.int64)
    for i, (source, kind) in enumerate(zip(models_list, kinds, strict=True)):
        x_adv = fgsm(
            source, xs, labels, eps=eps, norm=norm, clip=clip, output=kind, batch_size=batch_size
        )
        for j, (target, target_kind) in enumerate(zip(models_list, kinds, strict=True)):
            pred = _predict(target, x_adv, target_kind, batch_size)
            report = _report(pred, labels)
            error[i, j] = report.error
            conf[i, j] = report.confidence_on_mistakes
            predictions[i, j] = pred.labels
    return TransferResult(names, eps, error, conf, predictions, labels)


# --------------------------------------------------------------------------------------
# Ensembles (§9, C28)


class _LogMeanProbabilities(keras.layers.Layer):
    """log((1/K) Σ_k p_k): the log of the members' averaged class probabilities.

    Its output is a valid logit vector (its softmax is the average), so FGSM on
    it with the ``"logits"`` cost differentiates −log p̄_y exactly. Softmax
    members are read through their logits when the graph exposes them (as
    Keras' own cross-entropy does), so confident members keep their gradient.
    """

    advkeras_output_kind = "logits"

    def __init__(self, kinds: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kinds = tuple(kinds)

    @staticmethod
    def _log_probs(p: tf.Tensor, kind: str) -> tf.Tensor:
        if kind == "logits":
            return tf.nn.log_softmax(p, axis=-1)
        logits = getattr(p, "_keras_logits", None)
        if logits is None and not tf.executing_eagerly() and getattr(p, "op", None) is not None:
            if p.op.type == "Softmax":
                logits = p.op.inputs[0]
        if logits is not None:
            return tf.nn.log_softmax(logits, axis=-1)
        return tf.math.log(tf.maximum(p, tf.constant(1e-30, p.dtype)))

    def call(self, members_outputs: Sequence[tf.Tensor]) -> tf.Tensor:
        logs = [self._log_probs(p, k) for p, k in zip(members_outputs, self.kinds, strict=True)]
        stacked = tf.stack(logs, axis=0)
        return tf.reduce_logsumexp(stacked, axis=0) - math.log(len(logs))

    def compute_output_shape(self, input_shape: Sequence[tuple[int | None, ...]]) -> tuple:
        return tuple(input_shape[0])


def _ensemble_kinds(
    members: Sequence[keras.Model], outputs: Sequence[str | None] | None
) -> list[str]:
    if outputs is None:
        outputs = [None] * len(members)
    if len(outputs) != len(members):
        raise invalid(
            "outputs", f"a sequence of {len(members)} output kinds (one per member)", outputs
        )
    kinds = [resolve_output_kind(m, o) for m, o in zip(members, outputs, strict=True)]
    bad = sorted({k for k in kinds if k not in ("logits", "probabilities")})
    if bad:
        raise invalid("members", "softmax classifiers (output 'logits' or 'probabilities')", bad)
    return kinds


def _log_mean_model(
    members: Sequence[keras.Model], kinds: Sequence[str], shape: tuple
) -> keras.Model:
    inputs = keras.Input(shape=shape)
    out = _LogMeanProbabilities(kinds)([m(inputs) for m in members])
    return keras.Model(inputs, out, name="averaged_ensemble")


def ensemble_attack(
    members: Sequence[keras.Model],
    x: Any,
    y: Any,
    *,
    eps: float,
    member: int = 0,
    norm: str | int | float = "inf",
    clip: tuple[float, float] | None = (0.0, 1.0),
    outputs: Sequence[str | None] | None = None,
    batch_size: int = 1000,
) -> dict[str, float]:
    """FGSM against a whole ensemble versus against one member (C28a, C28b).

    The ensemble predicts with its members' averaged class probabilities. The
    whole-ensemble attack differentiates −log p̄_y of that average; the member
    attack differentiates one member's own cost. Both are scored by the ensemble.

    Args:
        members: softmax classifiers (``"probabilities"`` or ``"logits"`` outputs).
        x: clean inputs.
        y: true labels.
        eps: the FGSM ε.
        member: index of the member attacked alone.
        norm: FGSM norm.
        clip: box for the adversarial examples, or ``None``.
        outputs: optional output kind per member.
        batch_size: examples per pass.

    Returns:
        A dict of plain numbers: ``n``, ``members``, ``member``, ``eps``,
        ``error_clean``, ``confidence_clean``, ``error_vs_ensemble`` (C28a),
        ``confidence_on_mistakes_vs_ensemble``, ``error_vs_member`` (C28b),
        ``confidence_on_mistakes_vs_member``, and ``member_error_vs_member`` (the
        attacked member's own error on its examples).
    """
    from advkeras.attacks import fgsm

    members = list(members)
    if not members:
        raise invalid("members", "a non-empty sequence of keras models", members)
    if (
        isinstance(member, bool)
        or not isinstance(member, int | np.integer)
        or not 0 <= member < len(members)
    ):
        raise invalid("member", f"an index in [0, {len(members) - 1}]", member)
    member = int(member)
    eps = check_eps(eps)
    kinds = _ensemble_kinds(members, outputs)
    xs = _inputs(x)

    def averaged(inputs: np.ndarray) -> _Predictions:
        probs = np.mean(
            [
                _predict(m, inputs, k, batch_size).probabilities
                for m, k in zip(members, kinds, strict=True)
            ],
            axis=0,
        )
        return _Predictions(
            "probabilities", probs, probs.argmax(axis=-1).astype(np.int64), probs.shape[-1]
        )

    clean = averaged(xs)
    labels = _labels(y, clean)
    ensemble_model = _log_mean_model(members, kinds, xs.shape[1:])
    x_ens = fgsm(
        ensemble_model,
        xs,
        labels,
        eps=eps,
        norm=norm,
        clip=clip,
        output="logits",
        batch_size=batch_size,
    )
    x_mem = fgsm(
        members[member],
        xs,
        labels,
        eps=eps,
        norm=norm,
        clip=clip,
        output=kinds[member],
        batch_size=batch_size,
    )
    clean_report = _report(clean, labels)
    vs_ensemble = _report(averaged(x_ens), labels)
    vs_member = _report(averaged(x_mem), labels)
    own = _report(_predict(members[member], x_mem, kinds[member], batch_size), labels)
    return {
        "n": int(len(labels)),
        "members": len(members),
        "member": member,
        "eps": eps,
        "error_clean": clean_report.error,
        "confidence_clean": clean_report.confidence_clean,
        "error_vs_ensemble": vs_ensemble.error,
        "confidence_on_mistakes_vs_ensemble": vs_ensemble.confidence_on_mistakes,
        "error_vs_member": vs_member.error,
        "confidence_on_mistakes_vs_member": vs_member.confidence_on_mistakes,
        "member_error_vs_member": own.error,
    }


# --------------------------------------------------------------------------------------
# Rubbish examples (Appendix A)


@dataclass(frozen=True, eq=False)
class RubbishReport:
    """How a model classifies rubbish (e.g. Gaussian noise) inputs, Appendix A.

    Attributes:
        error: fraction of samples on which some class gets probability > ``threshold``.
        confidence_on_mistakes: mean largest probability over those samples (NaN if none).
        class_counts: ``(K,)`` how many of those false positives each class received
            (the class with the largest probability).
        n: number of samples.
        threshold: the probability above which a sample counts as a (false) detection.
    """

    error: float
    confidence_on_mistakes: float
    class_counts: np.ndarray
    n: int
    threshold: float

    @property
    def class_shares(self) -> np.ndarray:
        """``class_counts`` as fractions of all false positives (NaN if there are none)."""
        total = int(self.class_counts.sum())
        if total == 0:
            return np.full(self.class_counts.shape, math.nan)
        return self.class_counts / total

    def as_percent(self) -> dict[str, float]:
        """Error and confidence on mistakes in percent, and ``n``."""
        return {
            "error": 100.0 * self.error,
            "confidence_on_mistakes": 100.0 * self.confidence_on_mistakes,
            "n": self.n,
        }

    def error_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson interval of ``error`` (fractions): the false positives are ``class_counts``."""
        return wilson_interval(int(self.class_counts.sum()), self.n, confidence=confidence)

    def to_markdown(self, class_names: Sequence[str] | None = None, *, digits: int = 1) -> str:
        """Markdown table of false positives per class (count and share in percent)."""
        names = (
            list(class_names)
            if class_names is not None
            else [str(i) for i in range(len(self.class_counts))]
        )
        if len(names) != len(self.class_counts):
            raise invalid("class_names", f"{len(self.class_counts)} names", class_names)
        shares = self.class_shares
        rows = [
            f"| {name} | {int(c)} | {100 * s:.{digits}f}% |"
            for name, c, s in zip(names, self.class_counts, shares, strict=True)
        ]
        return "\n".join(["| class | false positives | share |", "|---|---:|---:|", *rows])


def rubbish_report(
    model: keras.Model,
    x_rubbish: Any,
    *,
    threshold: float = 0.5,
    output: str | None = None,
    batch_size: int = 1000,
) -> RubbishReport:
    """Score a model on rubbish inputs: any class with p > ``threshold`` is a mistake (C29–C34).

    Args:
        model: a Keras classifier.
        x_rubbish: inputs that belong to no class, e.g. samples of N(0, I).
        threshold: a probability in (0, 1] (the paper: 0.5).
        output: the output kind; ``None`` infers it.
        batch_size: examples per forward pass.

    Returns:
        A :class:`RubbishReport`.
    """
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise invalid("threshold", "a probability in (0, 1]", threshold) from None
    if not math.isfinite(t) or not 0.0 < t <= 1.0:
        raise invalid("threshold", "a probability in (0, 1]", threshold)
    pred = _predict(model, x_rubbish, output, batch_size, argument="x_rubbish")
    top = pred.probabilities.max(axis=-1)
    fooled = top > t
    counts = np.bincount(
        pred.probabilities.argmax(axis=-1)[fooled], minlength=pred.probabilities.shape[-1]
    )
    return RubbishReport(
        error=float(np.mean(fooled)),
        confidence_on_mistakes=_mean_or_nan(top[fooled]),
        class_counts=counts.astype(np.int64),
        n=int(len(top)),
        threshold=t,
    )
