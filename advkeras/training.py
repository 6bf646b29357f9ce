"""Adversarial training as a Keras ``fit()`` loop (§5 and §6 of the paper).

The paper trains on the mixture

    J̃(θ, x, y) = α·J(θ, x, y) + (1 − α)·J(θ, x + ε·sign(∇ₓJ(θ, x, y)), y)

with α = 0.5 and ε = .25 on MNIST, regenerating the adversarial examples
against the current weights at every minibatch. :class:`AdversarialModel`
wraps any Keras classifier and does exactly that in ``train_step``, so the
usual ``compile``/``fit``/``evaluate``/``predict``, callbacks,
``tf.distribute`` strategies, XLA and mixed precision keep working.

Cost: one forward and one backward pass over the clean batch give *both*
∇ₓJ (for the perturbation) and ∇θJ(x) (for the update); a second forward and
backward pass over the perturbed batch gives ∇θJ(x + η). That is 2 forward +
2 backward passes per batch, against 1 + 1 for ordinary training.

Choices the paper leaves open (flagged in the book):

- Dropout: the base model runs with ``training=True`` in both passes, so the
  adversarial direction is computed through one dropout mask and the
  adversarial batch is evaluated through another (the paper does not say
  which it did). At evaluation time both passes run in inference mode.
- Clipping: ``clip=None`` by default; the paper mentions no clipping of
  x + η to [0, 1].
- ∇ₓJ is a constant of the update (``tf.stop_gradient`` on η): the paper
  differentiates J̃ with respect to θ only through the second argument of J.
- Regularisation losses of the base model (``base_model.losses``, e.g. kernel
  regularisers) and the optional L1 penalty are added once, not once per term.

What trains around it lives in modules of its own: the pylearn2 recipe of the
original maxout network in :mod:`advkeras.pylearn2`, the array pipeline in
:mod:`advkeras.pipeline`, the §5 closed form in :mod:`advkeras.losses`, and
:func:`advkeras.fitting.fit_classifier`, the one call the chapters use. Their
names stay importable from here (``advkeras.training.fit_classifier``...) for
code written before the split.
"""

from __future__ import annotations

import importlib
import inspect
import math
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras import losses as losses_lib
from advkeras import masks
from advkeras._validation import (
    check_choice,
    check_clip,
    check_eps,
    check_fraction,
    check_norm,
    check_positive_float,
    invalid,
)
from advkeras.attacks import core
from advkeras.pylearn2 import paper_sgd

PERTURBATIONS: tuple[str, ...] = ("fgsm", "sign_noise", "uniform_noise", "none")

#: Version of the training code, part of every cached model's key
#: (:mod:`advkeras.book.cache`). Bump it when a change to this package alters the
#: numbers that a given configuration (model, optimizer, callbacks, ``fit``
#: arguments, data, seed) trains to, e.g. a new order of random draws or a
#: different loss. Changes that keep the numbers (refactors, renames,
#: docstrings) must not bump it: trained networks are shipped with the book.
TRAINING_VERSION = 1

__all__ = ["PERTURBATIONS", "TRAINING_VERSION", "AdversarialModel"]

#: Names that lived here before the package was split into one module per idea:
#: ``advkeras.training.<name>`` still finds them (see :func:`__getattr__`).
_MOVED = {
    "ExponentialDecayWithFloor": "advkeras.pylearn2",
    "MomentumSchedule": "advkeras.pylearn2",
    "PaperSGD": "advkeras.pylearn2",
    "paper_callbacks": "advkeras.pylearn2",
    "paper_sgd": "advkeras.pylearn2",
    "set_momentum": "advkeras.pylearn2",
    "array_dataset": "advkeras.pipeline",
    "adversarial_logistic_objective": "advkeras.losses",
    "fit_classifier": "advkeras.fitting",
}


def __getattr__(name: str) -> Any:
    """``advkeras.training.fit_classifier`` and the other moved names, from their new modules.

    Example:

    >>> import advkeras.fitting, advkeras.training
    >>> advkeras.training.fit_classifier is advkeras.fitting.fit_classifier
    True
    """
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'advkeras.training' has no attribute {name!r}")


# ---------------------------------------------------------------------------
# Helpers shared by the train and test steps
# ---------------------------------------------------------------------------


def _check_l1(l1: Any, model: keras.Model) -> tuple[str, float] | None:
    """Validate ``l1 = (layer_name, coefficient)`` against the layers of ``model``."""
    if l1 is None:
        return None
    names = [layer.name for layer in model.layers if getattr(layer, "kernel", None) is not None]
    expected = "None or a pair (layer_name, coefficient >= 0) with layer_name one of " + (
        ", ".join(repr(n) for n in names) if names else "(no layer with a kernel)"
    )
    if isinstance(l1, str) or not isinstance(l1, Sequence) or len(l1) != 2:
        raise invalid("l1", expected, l1)
    name, coef = l1
    if not isinstance(name, str) or name not in names:
        raise invalid("l1", expected, l1)
    try:
        value = float(coef)
    except (TypeError, ValueError):
        raise invalid("l1", expected, l1) from None
    if not math.isfinite(value) or value < 0:
        raise invalid("l1", expected, l1)
    return name, value


def _num_replicas() -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


def _single_input(x: Any) -> tf.Tensor:
    if isinstance(x, Mapping) or (isinstance(x, list | tuple) and len(x) != 1):
        raise ValueError(
            "Received an invalid value for argument `x`. Expected a single input tensor "
            f"(AdversarialModel perturbs one input). Received: {type(x).__name__}"
        )
    if isinstance(x, list | tuple):
        x = x[0]
    x = tf.convert_to_tensor(x)
    return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


def _check_one_input(model: keras.Model) -> None:
    """Refuse a base model with several inputs: η perturbs one input tensor."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):  # a subclassed model: checked at each batch
        return
    if inputs is not None and len(inputs) != 1:
        raise invalid(
            "base_model",
            "a classifier with one input (AdversarialModel perturbs one input tensor)",
            f"a model with {len(inputs)} inputs",
        )


def _as_list(given: Any, argument: str) -> list[Any]:
    if given is None:
        return []
    if isinstance(given, Mapping):
        raise invalid(
            argument, "None or a list of metrics (AdversarialModel has one output)", given
        )
    if isinstance(given, str) or not isinstance(given, Sequence):
        return [given]
    return list(given)


def _make_metric(identifier: Any, prefix: str, argument: str) -> keras.metrics.Metric:
    """A new metric from a name, a function or a ``Metric`` (copied), named ``prefix + name``."""
    if isinstance(identifier, keras.metrics.Metric):
        config = identifier.get_config()
        config["name"] = prefix + identifier.name
        return type(identifier).from_config(config)
    try:
        fn = keras.metrics.get(identifier)
    except (TypeError, ValueError):
        raise invalid(
            argument, "a Keras metric: a name, a function or a Metric", identifier
        ) from None
    if isinstance(fn, keras.metrics.Metric):  # e.g. a registered class name
        return _make_metric(fn, prefix, argument)
    name = identifier if isinstance(identifier, str) else getattr(fn, "__name__", "metric")
    return keras.metrics.MeanMetricWrapper(fn, name=prefix + name)


#: Output kinds whose values are logits (a loss must take from_logits=True); the others are
#: probabilities.
_LOGIT_KINDS = ("logits", "binary_logit")


class _KerasJ:
    """J from a Keras loss: ``j(y, out, sample_weight)``, the loss of a batch."""

    def __init__(self, loss: Any, kind: str, width: int) -> None:
        try:
            fn = keras.losses.get(loss)
        except (TypeError, ValueError):
            fn = None
        if fn is None or not callable(fn):
            raise invalid(
                "loss", "None, a Keras loss, a loss name or a function loss(y_true, y_pred)", loss
            )
        self.fn = fn
        self.kind = kind
        self.width = width
        from_logits = _from_logits(fn)
        if from_logits is not None and from_logits != (kind in _LOGIT_KINDS):
            expected = (
                f"a loss with from_logits={kind in _LOGIT_KINDS} for the base model's "
                f"output kind {kind!r} ("
                + ("unnormalised scores" if kind in _LOGIT_KINDS else "probabilities")
                + "), or loss=None to derive J from the output kind"
            )
            raise invalid("loss", expected, f"{loss!r} (from_logits={from_logits})")
        name = getattr(fn, "name", None) or getattr(fn, "__name__", "")
        self.one_hot = kind == "independent" or str(name).startswith("categorical_")

    def targets(self, y: tf.Tensor) -> tf.Tensor:
        """The labels as the loss (and the compiled metrics) receive them."""
        if not self.one_hot:
            return y
        return tf.one_hot(y, self.width)

    def __call__(self, y: tf.Tensor, out: tf.Tensor, sample_weight: Any) -> tf.Tensor:
        target = self.targets(y)
        if isinstance(self.fn, keras.losses.Loss):
            value = self.fn(target, out, sample_weight=sample_weight)
            return tf.cast(value, tf.float32)
        per_example = tf.cast(self.fn(target, out), tf.float32)
        per_example = tf.reshape(per_example, [tf.shape(out)[0], -1])
        per_example = tf.reduce_mean(per_example, axis=-1)
        if sample_weight is not None:
            per_example = per_example * tf.reshape(tf.cast(sample_weight, tf.float32), [-1])
        return tf.reduce_mean(per_example)


def _from_logits(fn: Any) -> bool | None:
    """The ``from_logits`` setting of a Keras loss (None when it has none)."""
    if isinstance(fn, keras.losses.Loss):
        value = fn.get_config().get("from_logits")
        return None if value is None else bool(value)
    try:
        parameter = inspect.signature(fn).parameters.get("from_logits")
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return bool(parameter.default)


@dataclass
class _Setup:
    """What :meth:`AdversarialModel.compile` was given, and the metrics it made."""

    j: _KerasJ | None = None
    loss: Any = None
    metrics: list[Any] = field(default_factory=list)
    weighted_metrics: list[Any] = field(default_factory=list)
    clean: list[tuple[keras.metrics.Metric, bool]] = field(default_factory=list)
    adv: list[tuple[keras.metrics.Metric, bool]] = field(default_factory=list)


@keras.saving.register_keras_serializable(package="advkeras")
class AdversarialModel(keras.Model):
    """Train any Keras classifier on the paper's adversarial objective J̃.

    ``train_step`` minimises J̃ = α·J(θ, x, y) + (1 − α)·J(θ, x + η, y) where
    η is recomputed at every batch against the current weights:

    - ``"fgsm"``: η = ε·sign(∇ₓJ(θ, x, y)) (the paper's adversarial training;
      ε·∇ₓJ/‖∇ₓJ‖₂ with ``norm=2``, a step toward a target class with
      ``targeted``);
    - ``"sign_noise"``: η = ±ε per input component, random signs (control, §6);
    - ``"uniform_noise"``: η ~ U(−ε, ε) per input component (control, §6);
    - ``"none"``: plain training on J(x); one forward and one backward pass,
      and ``alpha`` has no effect.

    η comes from the perturbation core, :mod:`advkeras.attacks.core`, as in
    :func:`advkeras.attacks.fgsm`. With ``layer``, η perturbs the activations
    h of that hidden layer instead of the input (the paper's §6 experiment
    on hidden layers): J̃ = α·J(f₂(h)) + (1 − α)·J(f₂(h + η)) with h = f₁(x),
    f₁ the network up to ``layer`` and f₂ the rest; the adversarial term's
    gradient reaches f₁ through h (η is a constant), h is computed once per
    batch (one dropout mask for the layers of f₁) and f₂ runs twice.

    By default J is derived from the base model's output (see
    :mod:`advkeras.losses`): softmax cross-entropy for logits or softmax
    outputs, the logistic loss for one binary unit (labels in {0, 1} or
    {−1, +1}), summed binary cross-entropies for independent sigmoid or RBF
    outputs. A Keras loss given to :meth:`compile` replaces it (checked
    against the output kind). ``y`` holds integer labels (one-hot rows are
    accepted). Otherwise the wrapper is an ordinary Keras model: Keras' own
    ``fit``, ``evaluate``, ``predict``, callbacks, ``save`` and
    ``keras.saving.load_model``.

    Speed: ``compile(..., steps_per_execution=100)`` and batches from
    :func:`advkeras.pipeline.array_dataset` give the same weights as ``fit``
    on arrays with Keras' defaults, faster on few cores (``benchmarks/RESULTS.md``,
    section 5); :func:`advkeras.fitting.fit_classifier` uses both.

    Logged metrics (``val_`` prefixed on validation data), the :attr:`metrics`
    of the model: ``loss`` (J̃ plus regularisation), ``clean_loss`` (J(x)),
    ``adv_loss`` (J(x + η)), ``accuracy`` and ``adv_accuracy``, then every
    metric given to :meth:`compile` twice, on the clean outputs (its name)
    and on the perturbed ones (``adv_`` + its name). The accuracies are
    weighted by ``sample_weight``, as the losses are. In training, the ``adv_*`` metrics are
    measured on the perturbed batch (noise for the noise controls; absent for
    ``"none"``). At evaluation they are always measured on FGSM examples at
    ``eps`` (computed with dropout off), whatever the training perturbation,
    so ``EarlyStopping(monitor="val_adv_accuracy", mode="max")`` is the
    paper's early stopping on the adversarial validation error (§6). The
    validation ``loss`` is α·J(x) + (1 − α)·J(x_fgsm) for ``"fgsm"`` and J(x)
    otherwise (both plus regularisation). With ``eps=0`` no adversarial
    metric is computed at evaluation. The evaluation's FGSM step is the
    training's: same ``norm``, ``targeted`` and ``layer``.

    Args:
        base_model: a built Keras classifier with one input and one output of
            shape (batch, classes) (TensorFlow backend). A model with several
            inputs is refused: η perturbs one input.
        eps: ε, the max-norm size of η, a finite number >= 0. Default .25
            (the paper's MNIST value).
        alpha: α in [0, 1], the weight of the clean term. Default 0.5 (the
            paper's value in all experiments).
        perturbation: one of ``"fgsm"``, ``"sign_noise"``,
            ``"uniform_noise"``, ``"none"``.
        clip: ``None`` (default, as in the paper) or ``(min, max)``: clip
            x + η into that box.
        output: the base model's output kind, inferred when ``None`` (see
            :mod:`advkeras.losses`).
        l1: ``None`` or ``(layer_name, coefficient)``: add coefficient·Σ|W| of
            that layer's kernel to the cost (the L1 weight decay control of
            §5).
        seed: seed of the noise perturbations (``None``: drawn from Keras'
            global seed, see ``keras.utils.set_random_seed``).
        norm: the norm of the FGSM step: ``np.inf`` (default, also ``"inf"``;
            η = ε·sign(g), the paper's) or ``2`` (η = ε·g/‖g‖₂ per example);
            ``1`` puts ε on the largest ``|gᵢ|``. The noise controls are max-norm
            whatever ``norm`` says.
        targeted: ``False`` (default): η raises the cost of the true label.
            Otherwise η lowers the cost of a target class, η = −ε·sign(∇J(x, t)),
            with t either ``"least_likely"``, the class the model finds least
            likely on the clean batch (Kurakin et al. 2017; for one binary unit,
            the class it does not predict), or an int, one class id for every
            example (in [0, classes), {0, 1} for one binary unit). Only FGSM
            steps are targeted; ∇J(x, t) costs one more backward pass.
        layer: ``None`` (default: perturb the input) or the name of a hidden
            layer of ``base_model`` (a functional or ``Sequential`` model) whose
            activations are perturbed (``clip`` then does not apply). The
            output layer, and the final hidden layer (the one whose output feeds
            the output layer, directly or through layers without weights such
            as dropout), are refused: the network could undo a perturbation of
            its last linear input by scaling its weights.
        differentiable: ``False`` (default: η is a constant, as in the paper's
            adversarial training) or ``True``: the weights' gradient flows
            through η = ε·∇ₓJ/‖∇ₓJ‖ (double backpropagation, about twice the
            cost of a step), the paper's "differentiable" adversary of §6.
            Only with ``perturbation="fgsm"``, ``norm`` 1 or 2, no target and
            no ``layer``: the sign step has a zero derivative.
        random_start: ``False`` (default: the FGSM step starts from x, the
            paper's) or ``True``: Wong, Rice & Kolter (2020)'s "FGSM with
            random initialization": the step starts from x + δ₀, δ₀ ~ U(−ε, ε)
            per component (drawn with ``seed``), and x + δ₀ + a·sign(∇J(x + δ₀))
            is projected back on the ε-ball around x (and into ``clip``). The
            gradient at x + δ₀ costs one more forward and backward pass. Only
            with ``perturbation="fgsm"``, no target, no ``layer`` and not
            ``differentiable``. Evaluation still uses FGSM from x.
        step_size: ``None`` (default: a = ε) or a > 0, the size of the FGSM
            step, projected back on the ε-ball (Wong et al. use a = 1.25ε with
            a random start; larger steps lead to "catastrophic overfitting").
            Same restrictions as ``random_start``.
        **kwargs: passed to ``keras.Model`` (``name``, ``dtype``...). The
            dtype policy defaults to the base model's, so a base model built
            under ``mixed_float16`` gets a ``LossScaleOptimizer`` at compile.

    Example:

    >>> import keras, numpy as np
    >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> adv = AdversarialModel(base, eps=0.1)
    >>> adv.compile(optimizer=keras.optimizers.SGD(0.1))
    >>> x = np.random.rand(8, 4).astype("float32"); y = np.arange(8) % 3
    >>> sorted(adv.fit(x, y, epochs=1, verbose=0).history)
    ['accuracy', 'adv_accuracy', 'adv_loss', 'clean_loss', 'loss']

    With a Keras loss and metrics:

    >>> adv.compile(
    ...     optimizer="adam",
    ...     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...     metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
    ... )
    >>> [m.name for m in adv.metrics]
    ['loss', 'clean_loss', 'adv_loss', 'accuracy', 'adv_accuracy', 'top2', 'adv_top2']
    """

    def __init__(
        self,
        base_model: keras.Model,
        *,
        eps: float = 0.25,
        alpha: float = 0.5,
        perturbation: str = "fgsm",
        clip: tuple[float, float] | None = None,
        output: str | None = None,
        l1: tuple[str, float] | None = None,
        seed: int | None = None,
        norm: str | int | float = np.inf,
        targeted: bool | int | str = False,
        layer: str | None = None,
        differentiable: bool = False,
        random_start: bool = False,
        step_size: float | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(base_model, keras.Model):
            raise invalid("base_model", "a keras.Model", type(base_model).__name__)
        _check_one_input(base_model)
        eps = check_eps(eps)
        norm = check_norm(norm)
        if not isinstance(differentiable, bool | np.bool_):
            raise invalid("differentiable", "True or False", differentiable)
        if differentiable and (
            perturbation != "fgsm" or norm == "inf" or targeted is not False or layer is not None
        ):
            raise invalid(
                "differentiable",
                "False, or True with perturbation='fgsm', norm=1 or 2, no target and no layer "
                "(the sign step of norm='inf' has a zero derivative)",
                f"True with perturbation={perturbation!r}, norm={norm!r}, "
                f"targeted={targeted!r}, layer={layer!r}",
            )
        if not isinstance(random_start, bool | np.bool_):
            raise invalid("random_start", "True or False", random_start)
        if step_size is not None:
            step_size = check_positive_float(step_size, "step_size")
        if (random_start or step_size is not None) and (
            perturbation != "fgsm" or targeted is not False or layer is not None or differentiable
        ):
            raise invalid(
                "random_start" if random_start else "step_size",
                "its default, or another value with perturbation='fgsm', no target, no layer "
                "and differentiable=False",
                f"{random_start if random_start else step_size!r} with perturbation="
                f"{perturbation!r}, targeted={targeted!r}, layer={layer!r}, "
                f"differentiable={differentiable!r}",
            )
        alpha = check_fraction(alpha, "alpha")
        perturbation = check_choice(perturbation, PERTURBATIONS, "perturbation")
        clip = check_clip(clip)
        kind = losses_lib.resolve_output_kind(base_model, output)
        l1 = _check_l1(l1, base_model)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise invalid("seed", "None or an integer", seed)
        targeted = self._check_targeted(targeted, kind, int(base_model.output_shape[-1]))
        split = None if layer is None else self._split_at(base_model, layer)
        kwargs.setdefault("dtype", base_model.dtype_policy)
        super().__init__(**kwargs)
        self.base_model = base_model
        self.eps = eps
        self.alpha = alpha
        self.perturbation = perturbation
        self.clip = clip
        self.output_kind = kind
        self.l1 = l1
        self.seed = None if seed is None else int(seed)
        self.norm = norm
        self.targeted = targeted
        self.layer = layer
        self.differentiable = bool(differentiable)
        self.random_start = bool(random_start)
        self.step_size = None if step_size is None else float(step_size)
        # f₁ and f₂ of a hidden-layer perturbation, in a namespace that Keras
        # neither tracks nor saves (their layers are base_model's).
        self._split = split
        self._n_outputs = int(base_model.output_shape[-1])
        self._loss_fn = losses_lib.per_example_loss(kind)
        self._setup = _Setup()
        if perturbation in ("sign_noise", "uniform_noise"):
            self._noise_seed = keras.random.SeedGenerator(self.seed, name="noise_seed")
        if self.random_start:
            self._start_seed = keras.random.SeedGenerator(self.seed, name="start_seed")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.clean_loss_tracker = keras.metrics.Mean(name="clean_loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        if perturbation != "none" or eps > 0:
            self.adv_loss_tracker = keras.metrics.Mean(name="adv_loss")
            self.adv_accuracy_tracker = keras.metrics.Mean(name="adv_accuracy")
        if base_model.built:
            self.built = True

    # -- Keras plumbing ------------------------------------------------------

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Run the base classifier (the wrapper adds nothing at inference)."""
        return self.base_model(inputs, training=training)

    def compile(
        self,
        optimizer: Any = None,
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Sequence[Any] | None = None,
        weighted_metrics: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Configure training, as ``keras.Model.compile``.

        Args:
            optimizer: a Keras optimizer (or its name). ``None``:
                :func:`advkeras.pylearn2.paper_sgd` (add ``MomentumSchedule()``
                to the ``fit`` callbacks for the full pylearn2 recipe).
            loss: ``None`` (J derived from the base model's output kind, see
                :mod:`advkeras.losses`) or a Keras loss (an instance, a name
                such as ``"sparse_categorical_crossentropy"``, or a function
                ``loss(y_true, y_pred)`` returning one value per example),
                used for J in both terms of J̃ and for ∇ₓJ. It must suit the
                output kind: ``from_logits=True`` for ``"logits"`` and
                ``"binary_logit"``, ``from_logits=False`` for probabilities.
                It receives integer labels ({0, 1} for one binary unit), or
                one-hot rows for ``"independent"`` outputs and ``categorical_*``
                losses.
            loss_weights: must be ``None`` (one output).
            metrics: metrics computed against the labels the loss receives,
                on the clean outputs (logged under their name; a ``Metric``
                given is the one updated) and on the perturbed ones (a copy
                named ``adv_`` + name; none when the model logs no ``adv_*``).
                ``"accuracy"`` (or ``"acc"``) is the model's own
                ``accuracy``/``adv_accuracy`` pair, which reads every output
                kind correctly (a binary logit is > 0) and is always logged.
            weighted_metrics: as ``metrics``, weighted by ``sample_weight``.
            **kwargs: other ``keras.Model.compile`` arguments
                (``jit_compile``, ``steps_per_execution``, ``run_eagerly``...).
                With ``jit_compile=True`` the training step's random numbers
                are drawn outside XLA (:meth:`make_train_function`).
        """
        if loss_weights is not None:
            raise invalid("loss_weights", "None (AdversarialModel has one output)", loss_weights)
        j = None if loss is None else _KerasJ(loss, self.output_kind, self._n_outputs)
        taken = {m.name for m in self._own_metrics()}
        perturbed = getattr(self, "adv_loss_tracker", None) is not None
        clean, adv = [], []
        for argument, given, weighted in (
            ("metrics", metrics, False),
            ("weighted_metrics", weighted_metrics, True),
        ):
            for i, identifier in enumerate(_as_list(given, argument)):
                if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
                    continue
                where = f"{argument}[{i}]"
                pair = [
                    identifier
                    if isinstance(identifier, keras.metrics.Metric)
                    else _make_metric(identifier, "", where)
                ]
                if perturbed:
                    pair.append(_make_metric(identifier, "adv_", where))
                for metric in pair:
                    if metric.name in taken:
                        raise invalid(
                            f"{argument}[{i}]",
                            "a metric whose name is not logged already (taken: "
                            + ", ".join(sorted(taken))
                            + ")",
                            metric.name,
                        )
                    taken.add(metric.name)
                clean.append((pair[0], weighted))
                adv.extend((metric, weighted) for metric in pair[1:])
        if optimizer is None:
            optimizer = paper_sgd()
        super().compile(optimizer=optimizer, **kwargs)
        self.loss = loss
        self._setup = _Setup(
            j=j,
            loss=loss,
            metrics=list(metrics or []),
            weighted_metrics=list(weighted_metrics or []),
            clean=clean,
            adv=adv,
        )

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """The metrics ``fit`` and ``evaluate`` log and reset, in the order they are logged.

        ``loss``, ``clean_loss``, ``adv_loss``, ``accuracy``, ``adv_accuracy``
        (no ``adv_*`` with ``perturbation="none"`` and ``eps=0``), then the
        compiled metrics on clean outputs, then their ``adv_`` twins.
        """
        compiled = [m for m, _ in self._setup.clean] + [m for m, _ in self._setup.adv]
        return self._own_metrics() + compiled

    def _own_metrics(self) -> list[keras.metrics.Metric]:
        names = ("loss", "clean_loss", "adv_loss", "accuracy", "adv_accuracy")
        found = [getattr(self, f"{name}_tracker", None) for name in names]
        return [m for m in found if m is not None]

    def get_compile_config(self) -> dict[str, Any]:
        """``keras.Model.get_compile_config`` with the loss and metrics of :meth:`compile`."""
        config = super().get_compile_config()
        if config:
            serialize = keras.saving.serialize_keras_object
            config["loss"] = serialize(self._setup.loss)
            config["metrics"] = serialize(self._setup.metrics) or None
            config["weighted_metrics"] = serialize(self._setup.weighted_metrics) or None
        return config

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Compile from a saved compile config (used by ``keras.saving.load_model``)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, with the base model serialised."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "base_model": keras.saving.serialize_keras_object(self.base_model),
            "eps": self.eps,
            "alpha": self.alpha,
            "perturbation": self.perturbation,
            "clip": None if self.clip is None else list(self.clip),
            "output": self.output_kind,
            "l1": None if self.l1 is None else list(self.l1),
            "seed": self.seed,
            "norm": self.norm,
            "targeted": self.targeted,
            "layer": self.layer,
            "differentiable": self.differentiable,
            # Options added later are named only when set, so that the configs of
            # models trained before them do not change.
            **({"random_start": True} if self.random_start else {}),
            **({} if self.step_size is None else {"step_size": self.step_size}),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AdversarialModel:
        """Rebuild from :meth:`get_config`."""
        config = dict(config)
        importlib.import_module("advkeras.layers")  # registers Maxout, RBF... for the base model
        base = keras.saving.deserialize_keras_object(config.pop("base_model"))
        return cls(base, **config)

    # -- the cost -------------------------------------------------------------

    @staticmethod
    def _check_targeted(targeted: Any, kind: str, n_outputs: int) -> bool | int | str:
        """``False``, ``"least_likely"`` or a class id the model can output."""
        classes = 2 if kind.startswith("binary") else n_outputs
        expected = f"False, 'least_likely' or a class index in [0, {classes - 1}]"
        if targeted is False or targeted == "least_likely":
            return targeted
        if isinstance(targeted, bool) or not isinstance(targeted, int | np.integer):
            raise invalid("targeted", expected, targeted)
        if not 0 <= targeted < classes:
            raise invalid("targeted", expected, targeted)
        return int(targeted)

    @staticmethod
    def _split_at(model: keras.Model, layer: Any) -> types.SimpleNamespace:
        """f₁ (input → ``layer``) and f₂ (``layer`` → output), as ``f(x, training=...)``.

        A ``Sequential`` model is cut in its list of layers; a functional model
        in its graph (``keras.Model`` from the layer's output to the model's).
        """
        layers = list(getattr(model, "layers", []))
        last = layers[-1] if layers else None
        splits: dict[str, tuple[Any, Any]] = {}

        def chain(part: list[Any]) -> Any:
            def run(x: Any, training: bool | None = None) -> Any:
                for inner in part:
                    x = inner(x, training=training)
                return x

            return run

        def has_hidden_weights(part: list[Any]) -> bool:
            # f₂ needs weights of its own besides the output layer's.
            return any(inner.weights and inner is not last for inner in part)

        outputs = getattr(model, "outputs", None)
        if isinstance(model, keras.Sequential):
            for i, candidate in enumerate(layers[:-1]):
                if has_hidden_weights(layers[i + 1 :]):
                    splits[candidate.name] = (chain(layers[: i + 1]), chain(layers[i + 1 :]))
        elif outputs and len(outputs) == 1 and len(model.inputs) == 1:
            for candidate in layers[:-1]:
                if isinstance(candidate, keras.layers.InputLayer):
                    continue
                try:
                    head = keras.Model(candidate.output, outputs[0])
                    encoder = keras.Model(model.inputs, candidate.output)
                except (ValueError, AttributeError):
                    continue  # a layer used several times, or off the path to the output
                if has_hidden_weights(head.layers):
                    splits[candidate.name] = (encoder, head)
        if not isinstance(layer, str) or layer not in splits:
            names = ", ".join(repr(n) for n in splits) or "(none in this model)"
            raise invalid(
                "layer",
                "None or the name of a hidden layer before the final hidden layer: one of " + names,
                layer,
            )
        encoder, head = splits[layer]
        if isinstance(model, keras.Sequential):
            encoder_layers = layers[: [x.name for x in layers].index(layer) + 1]
        else:
            encoder_layers = list(encoder.layers)
        return types.SimpleNamespace(encoder=encoder, head=head, encoder_layers=encoder_layers)

    def _labels(self, y: Any) -> tf.Tensor:
        """Integer labels in graph: {0, 1} for binary kinds, class indices otherwise."""
        if y is None:
            raise ValueError(
                "Received an invalid value for argument `y`. Expected labels: "
                "adversarial training needs the true class. Received: y=None"
            )
        return core.labels_to_indices(y, self.output_kind, dtype=tf.int32)

    def _forward(self, x: tf.Tensor, training: bool) -> tf.Tensor:
        return core.forward(self.base_model, x, training=training)

    def _targets(self, out: tf.Tensor) -> tf.Tensor:
        """The target class of each example (``targeted`` set), from the clean outputs."""
        if self.targeted == "least_likely":
            return core.least_likely_classes(out, self.output_kind, dtype=tf.int32)
        return tf.fill(tf.shape(out)[:1], tf.constant(self.targeted, tf.int32))

    def _step_objective(self, y: tf.Tensor, out: tf.Tensor, clean: tf.Tensor) -> tf.Tensor:
        """What the FGSM step differentiates: the clean cost, or the targets' summed cost."""
        if self.targeted is False:
            return clean
        if self._setup.j is not None:  # a compiled loss: its mean (same sign and L2 direction)
            return self._setup.j(self._targets(out), out, None)
        return tf.reduce_sum(self._loss_fn(self._targets(out), out))

    def _mean_loss(self, y: tf.Tensor, out: tf.Tensor, sample_weight: Any) -> tf.Tensor:
        if self._setup.j is not None:
            return self._setup.j(y, out, sample_weight)
        per_example = self._loss_fn(y, out)
        if sample_weight is not None:
            per_example = per_example * tf.reshape(tf.cast(sample_weight, per_example.dtype), [-1])
        return tf.reduce_mean(per_example)

    def _correct(self, y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
        pred = core.predicted_classes(out, self.output_kind, dtype=tf.int32)
        return tf.cast(tf.equal(pred, y), tf.float32)

    def regularization_loss(self) -> tf.Tensor:
        """Σ base_model.losses + the L1 penalty coefficient·Σ|W| (0 when there is none)."""
        total = tf.constant(0.0, tf.float32)
        for term in self.base_model.losses:
            total = total + tf.cast(term, tf.float32)
        if self.l1 is not None:
            name, coef = self.l1
            kernel = tf.convert_to_tensor(self.base_model.get_layer(name).kernel)
            total = total + coef * tf.reduce_sum(tf.abs(tf.cast(kernel, tf.float32)))
        return total

    def perturb(self, x: Any, grad: Any = None) -> tf.Tensor:
        """x + η: the perturbation that the train step applies to a batch.

        η is computed in float32 by :mod:`advkeras.attacks.core` and is a
        constant (no gradient flows through it) unless ``differentiable``;
        x + η is clipped into ``clip`` when ``x`` is an input.

        Args:
            x: (N, ...) inputs, or the activations of ``layer`` when it is set
                (then nothing is clipped).
            grad: for an FGSM step, the gradient with respect to ``x`` of the
                cost of the true labels (of the targets when ``targeted``);
                η = ε·direction(grad) for ``norm``. ``None`` draws the noise of
                ``"sign_noise"`` or ``"uniform_noise"``.

        Returns:
            A tensor shaped like ``x``.

        Example:

        >>> import keras, numpy as np
        >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> adv = AdversarialModel(base, eps=0.1, perturbation="sign_noise", seed=0)
        >>> x = np.full((2, 4), 0.5, "float32")
        >>> bool(np.allclose(np.abs(adv.perturb(x) - x), 0.1))
        True
        """
        x = tf.convert_to_tensor(x)
        if grad is not None:
            g = grad if self.differentiable else tf.stop_gradient(grad)
            eta = core.optimize_linear(g, self.eps, self.norm, targeted=self.targeted is not False)
        elif self.perturbation in ("sign_noise", "uniform_noise"):
            eta = masks.take(self._noise_seed)  # drawn before an XLA step
            if eta is None:
                eta = core.random_eta(tf.shape(x), self.eps, self.perturbation, self._noise_seed)
        else:
            raise invalid(
                "grad",
                f"the gradient of the cost with respect to x for perturbation={self.perturbation!r}",
                None,
            )
        return core.perturb(x, eta, self.clip if self.layer is None else None)

    def _record(
        self,
        y: tf.Tensor,
        sample_weight: Any,
        total: tf.Tensor,
        clean: tf.Tensor,
        out: tf.Tensor,
        adv: tf.Tensor | None = None,
        out_adv: tf.Tensor | None = None,
    ) -> dict[str, tf.Tensor]:
        """Update the metrics with one batch; return the logs of the metrics this step measures.

        As in Keras' guide "Customizing what happens in fit()": every logged
        value is the result of a metric in :attr:`metrics`. The losses are
        averaged over examples, the accuracies (and ``weighted_metrics``)
        weighted by ``sample_weight``.
        """
        n = tf.shape(out)[0]
        weights = None
        if sample_weight is not None:
            weights = tf.reshape(tf.cast(sample_weight, tf.float32), [-1])
        target = self._setup.j.targets(y) if self._setup.j is not None else y
        self.loss_tracker.update_state(total, sample_weight=n)
        self.clean_loss_tracker.update_state(clean, sample_weight=n)
        self.accuracy_tracker.update_state(self._correct(y, out), sample_weight=weights)
        for metric, weighted in self._setup.clean:
            metric.update_state(target, out, sample_weight=weights if weighted else None)
        measured = [self.loss_tracker, self.clean_loss_tracker, self.accuracy_tracker]
        measured += [m for m, _ in self._setup.clean]
        if out_adv is not None:
            self.adv_loss_tracker.update_state(adv, sample_weight=n)
            self.adv_accuracy_tracker.update_state(self._correct(y, out_adv), sample_weight=weights)
            for metric, weighted in self._setup.adv:
                metric.update_state(target, out_adv, sample_weight=weights if weighted else None)
            measured += [self.adv_loss_tracker, self.adv_accuracy_tracker]
            measured += [m for m, _ in self._setup.adv]
        ids = {id(m) for m in measured}
        return {m.name: m.result() for m in self.metrics if id(m) in ids}

    # -- XLA ------------------------------------------------------------------

    def make_train_function(self, force: bool = False) -> Any:
        """Keras' train function; with ``jit_compile=True``, random numbers are drawn outside XLA.

        XLA on CPU draws random numbers slowly inside a training step, and
        other ones than the graph runtime (see :mod:`advkeras.masks`). When
        the model is compiled with ``jit_compile=True`` and its step draws
        any (dropout layers that can take ready-drawn masks, the noise of
        ``"sign_noise"``/``"uniform_noise"``, a ``random_start``), the step
        runs in TensorFlow's graph runtime only to draw them, and everything
        else (forward and backward passes, FGSM, the update, the metrics) in
        one XLA-compiled function that receives them. Same random numbers,
        same function: the weights agree with the graph runtime's to float
        rounding (``tests/test_masks.py``).
        """
        if self.train_function is not None and not force:
            return self.train_function
        layers = masks.maskable_layers(self.base_model)
        sources = self._random_sources()
        xla = bool(self.jit_compile) and not self.run_eagerly and bool(layers or sources)
        # In a namespace that Keras neither tracks nor saves (the layers are base_model's).
        self._xla_masked = None
        if not xla:
            return super().make_train_function(force)
        self._xla_masked = types.SimpleNamespace(
            layers=layers,
            keys=[*layers, *sources],  # what each list of drawn tensors belongs to
            step=tf.function(self._train_step_given_masks, jit_compile=True, reduce_retracing=True),
        )
        self.jit_compile = False  # Keras' function stays in the graph runtime...
        try:
            return super().make_train_function(force)
        finally:
            self.jit_compile = True  # ...and train_step calls the XLA one.

    def _mask_passes(self, layers: Sequence[Any]) -> dict[Any, int]:
        """How many training-mode calls one train step makes of each of ``layers``."""
        if self.perturbation == "none":
            return dict.fromkeys(layers, 1)
        if self.layer is None:
            passes = 3 if self.random_start or self.step_size is not None else 2
            return dict.fromkeys(layers, passes)
        encoder = {id(layer) for layer in self._split.encoder_layers}
        return {layer: 1 if id(layer) in encoder else 2 for layer in layers}

    def _random_sources(self) -> list[Any]:
        """The seed generators of the step's own random numbers: the noise of η, the random start."""
        sources = []
        if self.perturbation in ("sign_noise", "uniform_noise"):
            sources.append(self._noise_seed)
        if self.random_start:
            sources.append(self._start_seed)
        return sources

    def _random_draws(self, x: tf.Tensor) -> list[list[tf.Tensor]]:
        """What :meth:`_random_sources` draw in one step, in their order, one list each."""
        draws = []
        if self.perturbation in ("sign_noise", "uniform_noise"):
            if self.layer is None:
                shape = tf.shape(x)
            else:
                hidden = self.base_model.get_layer(self.layer).output.shape[1:]
                shape = tf.concat([tf.shape(x)[:1], tf.constant(hidden, tf.int32)], axis=0)
            draws.append([core.random_eta(shape, self.eps, self.perturbation, self._noise_seed)])
        if self.random_start:
            delta = core.random_eta(tf.shape(x), self.eps, "uniform_noise", self._start_seed)
            draws.append([delta])
        return draws

    def _train_step_given_masks(self, data: Any, drawn: list[list[tf.Tensor]]) -> Any:
        keys = self._xla_masked.keys
        with masks.given(dict(zip(keys, drawn, strict=True))):
            return self._train_step(data)

    # -- steps ----------------------------------------------------------------

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One minibatch of J̃: 2 forward + 2 backward passes (1 + 1 for ``"none"``).

        Under ``jit_compile=True`` the step's dropout masks are drawn first
        and the rest runs under XLA (:meth:`make_train_function`).
        """
        if getattr(self, "_xla_masked", None) is None:
            return self._train_step(data)
        layers = self._xla_masked.layers
        x = _single_input(keras.utils.unpack_x_y_sample_weight(data)[0])
        drawn = masks.draw(layers, tf.shape(x)[0], self._mask_passes(layers))
        return self._xla_masked.step(data, [*drawn, *self._random_draws(x)])

    def _train_step(self, data: Any) -> dict[str, tf.Tensor]:
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = _single_input(x)
        y = self._labels(y)
        per_replica = 1.0 / _num_replicas()
        tvars = self.trainable_variables
        zero = tf.UnconnectedGradients.ZERO

        if self.perturbation == "none":
            with tf.GradientTape() as tape:
                out = self._forward(x, training=True)
                clean = self._mean_loss(y, out, sample_weight)
                total = clean + self.regularization_loss()
                scaled = self.optimizer.scale_loss(total * per_replica)
            grads = tape.gradient(scaled, tvars, unconnected_gradients=zero)
            self.optimizer.apply_gradients(zip(grads, tvars, strict=True))
            return self._record(y, sample_weight, total, clean, out)

        if self.layer is not None:
            return self._train_step_hidden(x, y, sample_weight)
        if self.random_start or self.step_size is not None:
            return self._train_step_from_start(x, y, sample_weight)
        if self.differentiable:
            return self._train_step_differentiable(x, y, sample_weight)

        # Pass 1: clean batch. One gradient call gives ∇ₓJ and ∇θJ(x)
        # (a targeted step differentiates the targets' cost: one more backward pass).
        fgsm = self.perturbation == "fgsm"
        targeted = fgsm and self.targeted is not False
        with tf.GradientTape(persistent=targeted) as tape:
            if fgsm:
                tape.watch(x)
            out = self._forward(x, training=True)
            clean = self._mean_loss(y, out, sample_weight)
            scaled_clean = self.optimizer.scale_loss(clean * per_replica)
            if targeted:
                objective = self._step_objective(y, out, clean)
        if targeted:
            grads_clean = tape.gradient(scaled_clean, tvars, unconnected_gradients=zero)
            grad_x = tape.gradient(objective, x, unconnected_gradients=zero)
            del tape
        else:
            sources = [x, *tvars] if fgsm else list(tvars)
            grads = tape.gradient(scaled_clean, sources, unconnected_gradients=zero)
            grad_x, grads_clean = (grads[0], grads[1:]) if fgsm else (None, grads)
        x_adv = self.perturb(x, grad_x)

        # Pass 2: perturbed batch, plus the regularisation terms.
        with tf.GradientTape() as tape:
            out_adv = self._forward(x_adv, training=True)
            adv = self._mean_loss(y, out_adv, sample_weight)
            reg = self.regularization_loss()
            scaled_adv = self.optimizer.scale_loss(((1.0 - self.alpha) * adv + reg) * per_replica)
        grads_adv = tape.gradient(scaled_adv, tvars, unconnected_gradients=zero)
        grads = [self.alpha * gc + ga for gc, ga in zip(grads_clean, grads_adv, strict=True)]
        self.optimizer.apply_gradients(zip(grads, tvars, strict=True))

        total = self.alpha * clean + (1.0 - self.alpha) * adv + reg
        return self._record(y, sample_weight, total, clean, out, adv, out_adv)

    def start(self, x: Any) -> tf.Tensor:
        """Where the training's FGSM step starts: x, or x + δ₀, δ₀ ~ U(−ε, ε), with ``random_start``.

        Example:

        >>> import keras, numpy as np
        >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> adv = AdversarialModel(base, eps=0.1, random_start=True, clip=(0, 1), seed=0)
        >>> x = np.full((2, 4), 0.5, "float32")
        >>> bool(np.abs(adv.start(x) - x).max() <= 0.1)
        True
        """
        x = tf.convert_to_tensor(x)
        if not self.random_start:
            return x
        delta = masks.take(self._start_seed)  # drawn before an XLA step
        if delta is None:
            delta = core.random_eta(tf.shape(x), self.eps, "uniform_noise", self._start_seed)
        return core.perturb(x, delta, self.clip)

    def step_from(self, x: Any, start: Any, grad: Any) -> tf.Tensor:
        """start + a·direction(grad), projected on the ε-ball around x and into ``clip``.

        ``a`` is ``step_size`` (ε when ``None``); η is a constant. With ``start``
        = x and a = ε this is :meth:`perturb`'s FGSM step.

        Example:

        >>> import keras, numpy as np
        >>> base = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> adv = AdversarialModel(base, eps=0.25, step_size=0.5)
        >>> x = np.zeros((1, 2), "float32")
        >>> adv.step_from(x, x + 0.1, np.array([[1.0, -1.0]], "float32")).numpy().tolist()
        [[0.25, -0.25]]
        """
        x = tf.convert_to_tensor(x)
        a = self.eps if self.step_size is None else self.step_size
        eta = core.optimize_linear(tf.stop_gradient(grad), a, self.norm)
        moved = core.perturb(tf.convert_to_tensor(start), eta)
        return core.project(moved, x, self.eps, self.norm, self.clip)

    def _train_step_from_start(
        self, x: tf.Tensor, y: tf.Tensor, sample_weight: Any
    ) -> dict[str, tf.Tensor]:
        """:meth:`train_step` with the FGSM step from :meth:`start` and of ``step_size``.

        One more forward and backward pass than :meth:`train_step` (the input
        gradient is taken at the start point, not at x).
        """
        tvars = self.trainable_variables
        zero = tf.UnconnectedGradients.ZERO
        x0 = tf.stop_gradient(self.start(x))
        with tf.GradientTape() as inner:
            inner.watch(x0)
            out0 = self._forward(x0, training=True)
            objective = self._mean_loss(y, out0, sample_weight)
        x_adv = self.step_from(x, x0, inner.gradient(objective, x0, unconnected_gradients=zero))
        with tf.GradientTape() as tape:
            out = self._forward(x, training=True)
            clean = self._mean_loss(y, out, sample_weight)
            out_adv = self._forward(x_adv, training=True)
            adv = self._mean_loss(y, out_adv, sample_weight)
            reg = self.regularization_loss()
            total = self.alpha * clean + (1.0 - self.alpha) * adv + reg
            scaled = self.optimizer.scale_loss(total / _num_replicas())
        grads = tape.gradient(scaled, tvars, unconnected_gradients=zero)
        self.optimizer.apply_gradients(zip(grads, tvars, strict=True))
        return self._record(y, sample_weight, total, clean, out, adv, out_adv)

    def _train_step_differentiable(
        self, x: tf.Tensor, y: tf.Tensor, sample_weight: Any
    ) -> dict[str, tf.Tensor]:
        """:meth:`train_step` with the weights' gradient flowing through η (double backprop).

        ∇ₓJ is taken inside the tape that differentiates J̃ with respect to the
        weights, so the update accounts for how η = ε·∇ₓJ/‖∇ₓJ‖ moves with them.
        """
        tvars = self.trainable_variables
        with tf.GradientTape() as tape:
            with tf.GradientTape() as inner:
                inner.watch(x)
                out = self._forward(x, training=True)
                clean = self._mean_loss(y, out, sample_weight)
            x_adv = self.perturb(x, inner.gradient(clean, x))
            out_adv = self._forward(x_adv, training=True)
            adv = self._mean_loss(y, out_adv, sample_weight)
            reg = self.regularization_loss()
            total = self.alpha * clean + (1.0 - self.alpha) * adv + reg
            scaled = self.optimizer.scale_loss(total / _num_replicas())
        grads = tape.gradient(scaled, tvars, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        self.optimizer.apply_gradients(zip(grads, tvars, strict=True))
        return self._record(y, sample_weight, total, clean, out, adv, out_adv)

    def _train_step_hidden(
        self, x: tf.Tensor, y: tf.Tensor, sample_weight: Any
    ) -> dict[str, tf.Tensor]:
        """:meth:`train_step` with η on the activations h = f₁(x) of ``layer``."""
        tvars = self.trainable_variables
        zero = tf.UnconnectedGradients.ZERO
        fgsm = self.perturbation == "fgsm"
        with tf.GradientTape() as tape:
            h = self._split.encoder(x, training=True)
            with tf.GradientTape() as inner:
                inner.watch(h)
                out = core.forward(self._split.head, h, training=True)
                clean = self._mean_loss(y, out, sample_weight)
                objective = self._step_objective(y, out, clean) if fgsm else None
            grad_h = None
            if fgsm:
                with tape.stop_recording():
                    grad_h = inner.gradient(objective, h, unconnected_gradients=zero)
            h_adv = self.perturb(h, grad_h)
            out_adv = core.forward(self._split.head, h_adv, training=True)
            adv = self._mean_loss(y, out_adv, sample_weight)
            reg = self.regularization_loss()
            total = self.alpha * clean + (1.0 - self.alpha) * adv + reg
            scaled = self.optimizer.scale_loss(total * (1.0 / _num_replicas()))
        grads = tape.gradient(scaled, tvars, unconnected_gradients=zero)
        self.optimizer.apply_gradients(zip(grads, tvars, strict=True))
        return self._record(y, sample_weight, total, clean, out, adv, out_adv)

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Clean and (when eps > 0) FGSM metrics, dropout off; needs a gradient tape."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = _single_input(x)
        y = self._labels(y)
        with_adv = self.eps > 0
        # With ``layer``, the FGSM step perturbs h = f₁(x) and f₂ computes the outputs.
        hidden = self.layer is not None
        point = self._split.encoder(x, training=False) if hidden else x
        network = self._split.head if hidden else self.base_model
        with tf.GradientTape() as tape:
            tape.watch(point)
            out = core.forward(network, point, training=False)
            clean = self._mean_loss(y, out, sample_weight)
            objective = self._step_objective(y, out, clean) if with_adv else clean
        reg = self.regularization_loss()
        adv = out_adv = None
        if with_adv:
            grad = tape.gradient(
                objective, point, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )
            point_adv = self.perturb(point, grad)
            out_adv = core.forward(network, point_adv, training=False)
            adv = self._mean_loss(y, out_adv, sample_weight)
        if with_adv and self.perturbation == "fgsm":
            total = self.alpha * clean + (1.0 - self.alpha) * adv + reg
        else:
            total = clean + reg
        return self._record(y, sample_weight, total, clean, out, adv, out_adv)
