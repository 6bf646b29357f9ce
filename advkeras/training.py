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

The module also has the pylearn2 optimisation recipe of the original maxout
network (:func:`paper_sgd`, :class:`MomentumSchedule`), the closed-form
adversarial logistic regression of §5
(:func:`adversarial_logistic_objective`), and :func:`fit_classifier`, the one
call that the chapters use.
"""

from __future__ import annotations

import math
import types
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras import losses as losses_lib
from advkeras._validation import (
    check_choice,
    check_clip,
    check_eps,
    check_finite,
    check_fraction,
    check_norm,
    check_positive_int,
    invalid,
)
from advkeras.attacks import core

PERTURBATIONS: tuple[str, ...] = ("fgsm", "sign_noise", "uniform_noise", "none")

#: Version of the training code, part of every cached model's key
#: (:mod:`advkeras.book.cache`). Bump it when a change to this package alters the
#: numbers that a given configuration (model, optimizer, callbacks, ``fit``
#: arguments, data, seed) trains to, e.g. a new order of random draws or a
#: different loss. Changes that keep the numbers (refactors, renames,
#: docstrings) must not bump it: trained networks are shipped with the book.
TRAINING_VERSION = 1

__all__ = [
    "PERTURBATIONS",
    "TRAINING_VERSION",
    "AdversarialModel",
    "ExponentialDecayWithFloor",
    "MomentumSchedule",
    "PaperSGD",
    "adversarial_logistic_objective",
    "array_dataset",
    "fit_classifier",
    "paper_callbacks",
    "paper_sgd",
    "set_momentum",
]


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


def _in_memory(a: Any) -> bool:
    """A NumPy array or a dense tensor: data that Keras would slice into batches itself."""
    return isinstance(a, np.ndarray) or (
        isinstance(a, tf.Tensor) and not isinstance(a, tf.RaggedTensor | tf.SparseTensor)
    )


def array_dataset(
    x: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """In-memory arrays as a batched ``tf.data`` pipeline with tf.data autotuning off.

    This is what :meth:`AdversarialModel.fit` trains on when it is given
    NumPy arrays. Keras' own array adapter builds an autotuned pipeline
    (parallel ``map`` and ``prefetch(AUTOTUNE)``); on a 2-core CPU its
    background threads compete with the training step, and whole epochs then
    run on one core (measured: an adversarial epoch of the 240-unit maxout
    network on 10,000 MNIST images took 5.2 s in 6 of 9 autotuned runs,
    2.7–3.7 s in all 9 runs without autotuning). Here the arrays are held
    once, the indices are shuffled (anew at every epoch) and gathered batch
    by batch in the iterator's own thread.

    Args:
        x: inputs, an array of shape (N, ...).
        y: labels, an array of length N.
        sample_weight: None or weights of length N.
        batch_size: integer >= 1; the last batch may be smaller.
        shuffle: shuffle the examples at every pass over the dataset.
        seed: shuffling seed; None follows TensorFlow's global seed (set by
            ``keras.utils.set_random_seed``).

    Returns:
        A dataset of ``(x, y)`` or ``(x, y, sample_weight)`` batches.

    Example:

    >>> ds = array_dataset(np.zeros((5, 2)), np.arange(5), batch_size=2)
    >>> [int(len(b[1])) for b in ds]
    [2, 2, 1]
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(shuffle, bool):
        raise invalid("shuffle", "True or False", shuffle)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise invalid("seed", "None or an integer", seed)
    arrays = [("x", x), ("y", y)] + (
        [] if sample_weight is None else [("sample_weight", sample_weight)]
    )
    tensors = []
    for name, a in arrays:
        if not _in_memory(a) and not hasattr(a, "__array__"):
            raise invalid(name, "an array", type(a).__name__)
        t = tf.convert_to_tensor(a)
        if t.shape.rank is None or t.shape.rank == 0:
            raise invalid(name, "an array with a first (example) axis", f"shape {t.shape}")
        tensors.append(t)
    n = int(tensors[0].shape[0])
    for (name, _), t in zip(arrays[1:], tensors[1:], strict=True):
        if int(t.shape[0]) != n:
            raise invalid(name, f"{n} rows, as many as x", f"{int(t.shape[0])} rows")
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(max(n, 1), seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size)
    whole = tf.data.Dataset.from_tensors(tuple(tensors)).repeat()

    def gather(idx: tf.Tensor, data: tuple[tf.Tensor, ...]) -> tuple[tf.Tensor, ...]:
        return tuple(tf.gather(t, idx) for t in data)

    dataset = tf.data.Dataset.zip((indices, whole)).map(gather)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.map_parallelization = False
    return dataset.with_options(options)


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

    J is derived from the base model's output (see :mod:`advkeras.losses`):
    softmax cross-entropy for logits or softmax outputs, the logistic loss for
    one binary unit (labels in {0, 1} or {−1, +1}), summed binary
    cross-entropies for independent sigmoid or RBF outputs. So ``compile``
    takes no ``loss``. ``y`` holds integer labels (one-hot rows are accepted).

    Logged metrics (``val_`` prefixed on validation data): ``loss`` (J̃ plus
    regularisation), ``clean_loss`` (J(x)), ``adv_loss`` (J(x + η)),
    ``accuracy`` and ``adv_accuracy``. In training, the ``adv_*`` metrics are
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
            shape (batch, classes) (TensorFlow backend).
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
            ``1`` puts ε on the largest |gᵢ|. The noise controls are max-norm
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
        **kwargs: Any,
    ) -> None:
        if not isinstance(base_model, keras.Model):
            raise invalid("base_model", "a keras.Model", type(base_model).__name__)
        eps = check_eps(eps)
        norm = check_norm(norm)
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
        # f₁ and f₂ of a hidden-layer perturbation, in a namespace that Keras
        # neither tracks nor saves (their layers are base_model's).
        self._split = split
        self._n_outputs = int(base_model.output_shape[-1])
        self._loss_fn = losses_lib.per_example_loss(kind)
        if perturbation in ("sign_noise", "uniform_noise"):
            self._noise_seed = keras.random.SeedGenerator(self.seed, name="noise_seed")
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
        metrics: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Configure training; the loss is derived from the base model's output.

        Args:
            optimizer: a Keras optimizer (or its name). ``None``: :func:`paper_sgd`
                (add ``MomentumSchedule()`` to the ``fit`` callbacks for the full
                pylearn2 recipe).
            loss: must be ``None``: J comes from :mod:`advkeras.losses`.
            metrics: extra metrics evaluated on the clean outputs against the
                integer labels ({0, 1} for binary models). ``"accuracy"`` (and
                ``"acc"``) are dropped from the list: ``accuracy`` and
                ``adv_accuracy`` are always reported.
            **kwargs: other ``keras.Model.compile`` arguments
                (``jit_compile``, ``steps_per_execution``, ``run_eagerly``...).
        """
        if loss is not None:
            raise ValueError(
                "Received an invalid value for argument `loss`. Expected None: "
                "AdversarialModel derives J from the base model's output kind "
                f"({self.output_kind!r}); pass `output=` to AdversarialModel to change it. "
                f"Received: loss={loss!r}"
            )
        if optimizer is None:
            optimizer = paper_sgd()
        if metrics is not None:
            metrics = [m for m in metrics if not (isinstance(m, str) and m in ("accuracy", "acc"))]
            metrics = metrics or None
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: Any = True,
        class_weight: Any = None,
        sample_weight: Any = None,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """``keras.Model.fit``, with in-memory arrays fed through :func:`array_dataset`.

        Same arguments and behaviour as ``keras.Model.fit``. When ``x`` and
        ``y`` are NumPy arrays (or tensors), ``shuffle`` is True or False and
        neither ``validation_split``, ``class_weight`` nor ``steps_per_epoch``
        is used, the arrays (and array ``validation_data``) are batched by
        :func:`array_dataset`, which shuffles the same way at every epoch but
        runs without tf.data's autotuning threads (faster on small CPUs). Any
        other input goes to Keras unchanged.
        """
        simple = (
            _in_memory(x)
            and _in_memory(y)
            and (sample_weight is None or _in_memory(sample_weight))
            and isinstance(shuffle, bool)
            and not validation_split
            and class_weight is None
            and kwargs.get("steps_per_epoch") is None
        )
        if simple:
            size = 32 if batch_size is None else check_positive_int(batch_size, "batch_size")
            x = array_dataset(x, y, sample_weight, batch_size=size, shuffle=shuffle)
            y = sample_weight = batch_size = None
            shuffle = False  # array_dataset shuffles; Keras would warn that it cannot
            if (
                isinstance(validation_data, tuple | list)
                and len(validation_data) in (2, 3)
                and _in_memory(validation_data[0])
                and _in_memory(validation_data[1])
                and (
                    len(validation_data) == 2
                    or validation_data[2] is None
                    or _in_memory(validation_data[2])
                )
                and kwargs.get("validation_steps") is None
            ):
                val_size = kwargs.pop("validation_batch_size", None) or size
                validation_data = array_dataset(*validation_data, batch_size=val_size)
        return super().fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            class_weight=class_weight,
            sample_weight=sample_weight,
            **kwargs,
        )

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Compile from a saved compile config (used by ``keras.saving.load_model``)."""
        config = keras.saving.deserialize_keras_object(config)
        config.pop("loss", None)
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
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AdversarialModel:
        """Rebuild from :meth:`get_config`."""
        config = dict(config)
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
        return types.SimpleNamespace(encoder=encoder, head=head)

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
        return tf.reduce_sum(self._loss_fn(self._targets(out), out))

    def _mean_loss(self, y: tf.Tensor, out: tf.Tensor, sample_weight: Any) -> tf.Tensor:
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

        η is a constant (no gradient flows through it) computed in float32 by
        :mod:`advkeras.attacks.core`; x + η is clipped into ``clip`` when ``x``
        is an input.

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
            eta = core.optimize_linear(
                tf.stop_gradient(grad), self.eps, self.norm, targeted=self.targeted is not False
            )
        elif self.perturbation in ("sign_noise", "uniform_noise"):
            eta = core.random_eta(tf.shape(x), self.eps, self.perturbation, self._noise_seed)
        else:
            raise invalid(
                "grad",
                f"the gradient of the cost with respect to x for perturbation={self.perturbation!r}",
                None,
            )
        return core.perturb(x, eta, self.clip if self.layer is None else None)

    def _update_compiled_metrics(self, y: tf.Tensor, out: tf.Tensor, logs: dict) -> None:
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, out)
            logs.update(self._compile_metrics.result())

    # -- steps ----------------------------------------------------------------

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One minibatch of J̃: 2 forward + 2 backward passes (1 + 1 for ``"none"``)."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = _single_input(x)
        y = self._labels(y)
        n = tf.shape(x)[0]
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
            self._loss_tracker.update_state(total, sample_weight=n)
            self.clean_loss_tracker.update_state(clean, sample_weight=n)
            self.accuracy_tracker.update_state(self._correct(y, out))
            logs = {
                "loss": self._loss_tracker.result(),
                "clean_loss": self.clean_loss_tracker.result(),
                "accuracy": self.accuracy_tracker.result(),
            }
            self._update_compiled_metrics(y, out, logs)
            return logs

        if self.layer is not None:
            return self._train_step_hidden(x, y, sample_weight)

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
        self._loss_tracker.update_state(total, sample_weight=n)
        self.clean_loss_tracker.update_state(clean, sample_weight=n)
        self.adv_loss_tracker.update_state(adv, sample_weight=n)
        self.accuracy_tracker.update_state(self._correct(y, out))
        self.adv_accuracy_tracker.update_state(self._correct(y, out_adv))
        logs = {
            "loss": self._loss_tracker.result(),
            "clean_loss": self.clean_loss_tracker.result(),
            "adv_loss": self.adv_loss_tracker.result(),
            "accuracy": self.accuracy_tracker.result(),
            "adv_accuracy": self.adv_accuracy_tracker.result(),
        }
        self._update_compiled_metrics(y, out, logs)
        return logs

    def _train_step_hidden(
        self, x: tf.Tensor, y: tf.Tensor, sample_weight: Any
    ) -> dict[str, tf.Tensor]:
        """:meth:`train_step` with η on the activations h = f₁(x) of ``layer``."""
        n = tf.shape(x)[0]
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
        self._loss_tracker.update_state(total, sample_weight=n)
        self.clean_loss_tracker.update_state(clean, sample_weight=n)
        self.adv_loss_tracker.update_state(adv, sample_weight=n)
        self.accuracy_tracker.update_state(self._correct(y, out))
        self.adv_accuracy_tracker.update_state(self._correct(y, out_adv))
        logs = {
            "loss": self._loss_tracker.result(),
            "clean_loss": self.clean_loss_tracker.result(),
            "adv_loss": self.adv_loss_tracker.result(),
            "accuracy": self.accuracy_tracker.result(),
            "adv_accuracy": self.adv_accuracy_tracker.result(),
        }
        self._update_compiled_metrics(y, out, logs)
        return logs

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Clean and (when eps > 0) FGSM metrics, dropout off; needs a gradient tape."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = _single_input(x)
        y = self._labels(y)
        n = tf.shape(x)[0]
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
        logs = {}
        if with_adv:
            grad = tape.gradient(
                objective, point, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )
            point_adv = self.perturb(point, grad)
            out_adv = core.forward(network, point_adv, training=False)
            adv = self._mean_loss(y, out_adv, sample_weight)
            self.adv_loss_tracker.update_state(adv, sample_weight=n)
            self.adv_accuracy_tracker.update_state(self._correct(y, out_adv))
        if with_adv and self.perturbation == "fgsm":
            total = self.alpha * clean + (1.0 - self.alpha) * adv + reg
        else:
            total = clean + reg
        self._loss_tracker.update_state(total, sample_weight=n)
        self.clean_loss_tracker.update_state(clean, sample_weight=n)
        self.accuracy_tracker.update_state(self._correct(y, out))
        logs["loss"] = self._loss_tracker.result()
        logs["clean_loss"] = self.clean_loss_tracker.result()
        logs["accuracy"] = self.accuracy_tracker.result()
        if with_adv:
            logs["adv_loss"] = self.adv_loss_tracker.result()
            logs["adv_accuracy"] = self.adv_accuracy_tracker.result()
        self._update_compiled_metrics(y, out, logs)
        return logs


# ---------------------------------------------------------------------------
# §5: closed-form adversarial logistic regression
# ---------------------------------------------------------------------------


def _linear_unit(model: keras.Model) -> tuple[tf.Tensor, int]:
    kernels = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    if len(kernels) != 1 or tuple(kernels[0].kernel.shape)[-1] != 1:
        raise invalid(
            "model",
            "a linear model with one Dense unit (output kind 'binary_logit')",
            f"a model with {len(kernels)} layers with a kernel",
        )
    return kernels[0].kernel, int(np.prod(kernels[0].kernel.shape))


def adversarial_logistic_objective(
    model: keras.Model,
    x: Any,
    y_pm: Any,
    eps: float,
    *,
    reduction: str = "mean",
) -> tf.Tensor:
    """The §5 closed form ζ(ε‖w‖₁ − y(wᵀx + b)) for a one-unit linear Keras model.

    For logistic regression the worst max-norm perturbation is known exactly,
    η* = −ε·y·sign(w), so training on x + η* minimises this objective, with no
    gradient with respect to x to compute. It uses the corrected form of the
    paper's equation (see :func:`advkeras.losses.adversarial_logistic_loss`).
    The value is differentiable with respect to the model's weights, so it can
    be minimised with a ``tf.GradientTape``.

    Args:
        model: a linear classifier with one output logit (e.g. ``Input(784) →
            Dense(1)``, output kind ``"binary_logit"``).
        x: inputs, shape (N, d) (anything the model accepts).
        y_pm: labels in {−1, +1} (or {0, 1}, read as 0 → −1), shape (N,).
        eps: ε >= 0.
        reduction: ``"mean"`` (a scalar) or ``"none"`` (shape (N,)).

    Returns:
        A float32 tensor.

    Example:

    >>> import keras, numpy as np
    >>> lr = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> x = np.ones((2, 3), "float32"); y = np.array([1, -1])
    >>> float(adversarial_logistic_objective(lr, x, y, 0.0)) > 0
    True
    """
    eps = check_eps(eps)
    check_choice(reduction, ("mean", "none"), "reduction")
    kind = losses_lib.resolve_output_kind(model)
    if kind != "binary_logit":
        raise invalid("model", "a model whose output kind is 'binary_logit'", kind)
    w, _ = _linear_unit(model)
    x = tf.convert_to_tensor(x, tf.float32)
    y01 = losses_lib.labels_for(np.asarray(y_pm), kind, int(x.shape[0]), 1, argument="y_pm")
    y = tf.constant(2.0 * y01 - 1.0, tf.float32)
    logits = tf.cast(model(x, training=False)[:, 0], tf.float32)
    per_example = losses_lib.adversarial_logistic_loss(y, logits, w, eps)
    return tf.reduce_mean(per_example) if reduction == "mean" else per_example


# ---------------------------------------------------------------------------
# The pylearn2 recipe of the original maxout network
# ---------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="advkeras")
class ExponentialDecayWithFloor(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = max(initial / decay_factor**step, min_lr): pylearn2's ``ExponentialDecay``.

    Args:
        initial_learning_rate: the rate at step 0, > 0.
        decay_factor: divide by this after every minibatch, >= 1.
        min_lr: the floor, >= 0.
    """

    def __init__(
        self,
        initial_learning_rate: float = 0.1,
        decay_factor: float = 1.000004,
        min_lr: float = 1e-6,
    ) -> None:
        initial = check_eps(initial_learning_rate, "initial_learning_rate")
        if initial == 0:
            raise invalid("initial_learning_rate", "a finite number > 0", initial_learning_rate)
        decay = check_eps(decay_factor, "decay_factor")
        if decay < 1:
            raise invalid("decay_factor", "a finite number >= 1", decay_factor)
        self.initial_learning_rate = initial
        self.decay_factor = decay
        self.min_lr = check_eps(min_lr, "min_lr")
        # log computed in float64 so that 1e6 steps in float32 stay accurate.
        self._log_decay = math.log(decay)

    def __call__(self, step: Any) -> tf.Tensor:
        step = tf.cast(step, tf.float32)
        lr = self.initial_learning_rate * tf.exp(-step * self._log_decay)
        return tf.maximum(lr, self.min_lr)

    def get_config(self) -> dict[str, float]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_factor": self.decay_factor,
            "min_lr": self.min_lr,
        }


@keras.saving.register_keras_serializable(package="advkeras")
class PaperSGD(keras.optimizers.SGD):
    """Keras SGD whose momentum is a variable, so it can change between epochs.

    Keras' ``SGD`` reads ``momentum`` as a Python float when ``fit`` traces
    its train function, so assigning a new value later has no effect until
    the function is traced again. Here ``momentum`` is backed by a
    non-trainable variable read at every step; setting
    ``optimizer.momentum = 0.6`` takes effect at the next step. Momentum
    slots are always created (even at momentum 0). Otherwise identical to
    ``keras.optimizers.SGD`` (classical momentum, as in pylearn2).
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            momentum=check_fraction(momentum, "momentum"),
            nesterov=nesterov,
            **kwargs,
        )

    @property
    def momentum(self) -> float:
        return self.__dict__.get("_momentum_value", 0.0)

    @momentum.setter
    def momentum(self, value: float) -> None:
        value = check_fraction(value, "momentum")
        var = self.__dict__.get("_momentum_variable")
        if var is None:
            with keras.name_scope(self.name, caller=self):
                var = keras.Variable(
                    value,
                    name="momentum",
                    dtype="float32",
                    trainable=False,
                    aggregation="only_first_replica",
                )
            self._momentum_variable = var
        else:
            var.assign(value)
        self._momentum_value = value

    def build(self, variables: list[Any]) -> None:
        if self.built:
            return
        keras.optimizers.Optimizer.build(self, variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        learning_rate = tf.cast(learning_rate, variable.dtype)
        gradient = tf.cast(gradient, variable.dtype)
        momentum = tf.cast(tf.convert_to_tensor(self._momentum_variable), variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        step = m * momentum - gradient * learning_rate
        self.assign(m, step)
        if self.nesterov:
            self.assign_add(variable, step * momentum - gradient * learning_rate)
        else:
            self.assign_add(variable, step)


def paper_sgd(
    learning_rate: float = 0.1,
    decay_factor: float = 1.000004,
    min_lr: float = 1e-6,
    momentum: float = 0.5,
) -> PaperSGD:
    """SGD as in pylearn2's ``mnist_pi.yaml``: lr .1 divided by 1.000004 per batch, momentum .5.

    Pair it with :class:`MomentumSchedule` (momentum .5 → .7 over epochs 1 to
    250). Create it inside a ``tf.distribute`` strategy's scope when using one.

    Args:
        learning_rate: initial learning rate (> 0).
        decay_factor: the rate is divided by this after every minibatch (>= 1).
        min_lr: floor of the learning rate (>= 0).
        momentum: initial momentum in [0, 1].

    Returns:
        A :class:`PaperSGD` (a ``keras.optimizers.SGD``) with an
        :class:`ExponentialDecayWithFloor` schedule.

    Example:

    >>> opt = paper_sgd()
    >>> round(float(opt.learning_rate), 6), opt.momentum
    (0.1, 0.5)
    """
    schedule = ExponentialDecayWithFloor(learning_rate, decay_factor, min_lr)
    return PaperSGD(learning_rate=schedule, momentum=momentum)


def set_momentum(model: keras.Model, value: float) -> None:
    """Set the momentum of ``model.optimizer`` so that the next training step uses it.

    A :class:`PaperSGD` (also inside a ``LossScaleOptimizer``) is updated in
    place. A plain ``keras.optimizers.SGD`` reads its momentum when the train
    function is traced, so the value is set and the train function is traced
    again (a few seconds); it must have been created with momentum > 0.

    Args:
        model: a compiled model.
        value: the new momentum in [0, 1].
    """
    value = check_fraction(value, "momentum")
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    if isinstance(optimizer, PaperSGD):
        optimizer.momentum = value
        return
    if not isinstance(optimizer, keras.optimizers.SGD):
        raise invalid(
            "model.optimizer",
            "a keras.optimizers.SGD (preferably advkeras.training.PaperSGD)",
            type(optimizer).__name__,
        )
    if optimizer.momentum == 0 and value != 0:
        raise invalid(
            "model.optimizer",
            "an SGD created with momentum > 0 (Keras builds no momentum slots at 0), "
            "or advkeras.training.paper_sgd()",
            "SGD(momentum=0.0)",
        )
    if optimizer.momentum != value:
        optimizer.momentum = value
        if model.train_function is not None:
            model.make_train_function(force=True)


class MomentumSchedule(keras.callbacks.Callback):
    """Raise the momentum linearly per epoch: pylearn2's ``MomentumAdjustor``.

    Epoch e (counted from 1) uses start + (end − start)·clip((e − start_epoch)
    / (end_epoch − start_epoch), 0, 1): with the defaults, .5 in epoch 1,
    rising to .7 in epoch 250 and after. The value is logged as ``momentum``.

    Args:
        start: momentum up to ``start_epoch``, in [0, 1].
        end: momentum from ``end_epoch`` on, in [0, 1].
        start_epoch: first epoch of the ramp (>= 1).
        end_epoch: last epoch of the ramp (>= start_epoch).

    Example:

    >>> MomentumSchedule().momentum_at(250)
    0.7
    """

    def __init__(
        self,
        start: float = 0.5,
        end: float = 0.7,
        start_epoch: int = 1,
        end_epoch: int = 250,
    ) -> None:
        super().__init__()
        self.start = check_fraction(start, "start")
        self.end = check_fraction(end, "end")
        self.start_epoch = check_positive_int(start_epoch, "start_epoch")
        self.end_epoch = check_positive_int(end_epoch, "end_epoch")
        if self.end_epoch < self.start_epoch:
            raise invalid("end_epoch", f"an integer >= start_epoch={start_epoch}", end_epoch)
        self._current: float | None = None

    def get_config(self) -> dict[str, Any]:
        """The schedule's parameters (part of a cached model's key, see :mod:`advkeras.book.cache`).

        Example:

        >>> MomentumSchedule(end=0.9).get_config()["end"]
        0.9
        """
        return {
            "start": self.start,
            "end": self.end,
            "start_epoch": self.start_epoch,
            "end_epoch": self.end_epoch,
        }

    def momentum_at(self, epoch: int) -> float:
        """The momentum of epoch ``epoch`` (counted from 1)."""
        width = self.end_epoch - self.start_epoch
        if width == 0:
            frac = 1.0 if epoch >= self.start_epoch else 0.0
        else:
            frac = min(max((epoch - self.start_epoch) / width, 0.0), 1.0)
        return self.start * (1.0 - frac) + self.end * frac

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current = self.momentum_at(epoch + 1)
        set_momentum(self.model, self._current)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None and self._current is not None:
            logs["momentum"] = self._current


def _monitor_mode(monitor: str) -> str:
    return "max" if monitor.endswith("accuracy") else "min"


def paper_callbacks(
    *,
    patience: int | None = None,
    monitor: str = "val_accuracy",
    momentum_start: float = 0.5,
    momentum_end: float = 0.7,
    start_epoch: int = 1,
    end_epoch: int = 250,
) -> list[keras.callbacks.Callback]:
    """The pylearn2 callbacks: a :class:`MomentumSchedule`, and early stopping if asked.

    Early stopping keeps the best weights (pylearn2 ``MonitorBased`` with
    ``prop_decrease=0`` and a best-model checkpoint): it stops after
    ``patience`` epochs without a strict improvement of ``monitor`` and
    restores the best epoch's weights. ``*_error`` monitors are read as
    ``*_accuracy`` (the same ordering).

    Args:
        patience: epochs without improvement before stopping (None: never stop).
        monitor: a logged metric, e.g. ``"val_accuracy"`` (pylearn2's
            ``valid_y_misclass``) or ``"val_adv_accuracy"`` (§6).
        momentum_start, momentum_end, start_epoch, end_epoch: see
            :class:`MomentumSchedule`.

    Returns:
        A list of callbacks for ``fit``.
    """
    callbacks: list[keras.callbacks.Callback] = [
        MomentumSchedule(momentum_start, momentum_end, start_epoch, end_epoch)
    ]
    if patience is not None:
        callbacks.append(_early_stopping(monitor, patience))
    return callbacks


def _early_stopping(monitor: str, patience: int) -> keras.callbacks.EarlyStopping:
    patience = check_positive_int(patience, "patience")
    if not isinstance(monitor, str) or not monitor:
        raise invalid("monitor", "a logged metric name such as 'val_adv_accuracy'", monitor)
    if monitor.endswith("error"):
        monitor = monitor[: -len("error")] + "accuracy"
    return keras.callbacks.EarlyStopping(
        monitor=monitor,
        mode=_monitor_mode(monitor),
        patience=patience,
        restore_best_weights=True,
    )


# ---------------------------------------------------------------------------
# One call for the chapters
# ---------------------------------------------------------------------------


def _as_inputs(x: Any, argument: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise invalid(argument, "an array of shape (N, ...) with N >= 1", f"shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise invalid(argument, "a numeric array", f"dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if arr.size:
        check_finite(arr, argument)
    return arr


def fit_classifier(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int = 100,
    validation_data: tuple[Any, Any] | None = None,
    adversarial: bool = False,
    eps: float = 0.25,
    alpha: float = 0.5,
    perturbation: str = "fgsm",
    l1: tuple[str, float] | None = None,
    patience: int | None = None,
    monitor: str | None = None,
    seed: int = 0,
    optimizer: Any = None,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
    verbose: int = 2,
    clip: tuple[float, float] | None = None,
    output: str | None = None,
) -> keras.Model:
    """Train a classifier cleanly, adversarially (§6) or with a noise control.

    The model is wrapped in an :class:`AdversarialModel`, compiled with
    :func:`paper_sgd` and :class:`MomentumSchedule` unless ``optimizer`` is
    given, and fitted with shuffled minibatches. What it trains on:

    - ``perturbation="sign_noise"`` or ``"uniform_noise"``: the §6 noise
      controls, α·J(x) + (1 − α)·J(x + noise), whatever ``adversarial`` says;
    - otherwise ``adversarial=True``: the paper's J̃ with FGSM examples;
    - otherwise: plain training on J(x) (one forward/backward pass a batch).

    With ``validation_data`` and ``eps > 0`` the validation metrics include
    FGSM ones (``val_adv_loss``, ``val_adv_accuracy``); pass ``eps=0`` to a
    clean run to skip them. With ``patience``, training stops after that
    many epochs without a strict improvement of ``monitor`` and the best
    epoch's weights are restored. ``monitor`` defaults to
    ``"val_adv_accuracy"`` for FGSM training (the paper's adversarial
    validation error) and ``"val_accuracy"`` otherwise (pylearn2's
    ``valid_y_misclass``); ``"val_adv_error"``/``"val_error"`` are accepted.

    Args:
        model: a built Keras classifier (see :class:`AdversarialModel`).
        x, y: training inputs (N, ...) and integer labels (binary models:
            {0, 1} or {−1, +1}).
        epochs: number of epochs (the maximum with ``patience``).
        batch_size: minibatch size (100 in pylearn2).
        validation_data: ``(x_val, y_val)`` or None.
        adversarial: train on J̃ with FGSM examples.
        eps: ε of the perturbation and of the adversarial validation metrics.
        alpha: α of J̃.
        perturbation: ``"fgsm"``, ``"sign_noise"``, ``"uniform_noise"`` or ``"none"``.
        l1: ``(layer_name, coefficient)``: L1 weight decay of that layer's kernel.
        patience: early-stopping patience in epochs (None: train all epochs).
        monitor: the metric early stopping watches (see above).
        seed: passed to ``keras.utils.set_random_seed`` (shuffling, dropout
            masks of layers built afterwards, noise).
        optimizer: a Keras optimizer; None: ``paper_sgd()`` + ``MomentumSchedule()``.
        callbacks: extra callbacks.
        verbose: ``fit`` verbosity.
        clip: ``(min, max)`` clipping of x + η, None for none (the paper's choice).
        output: the model's output kind (inferred when None).

    Returns:
        The trained *base* model, with ``advkeras_history``: the fit history
        as a dict of lists of floats, plus ``error`` keys (1 − accuracy) for
        every accuracy key (e.g. ``val_adv_error``).

    Example:

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> x = np.random.rand(20, 4).astype("float32"); y = np.arange(20) % 3
    >>> m = fit_classifier(m, x, y, epochs=1, batch_size=10, adversarial=True, verbose=0)
    >>> "adv_error" in m.advkeras_history
    True
    """
    if not isinstance(model, keras.Model):
        raise invalid("model", "a keras.Model", type(model).__name__)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    perturbation = check_choice(perturbation, PERTURBATIONS, "perturbation")
    if not isinstance(adversarial, bool):
        raise invalid("adversarial", "True or False", adversarial)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise invalid("seed", "an integer", seed)
    if perturbation in ("sign_noise", "uniform_noise"):
        train_perturbation = perturbation
    elif adversarial:
        if perturbation == "none":
            raise invalid(
                "perturbation",
                "'fgsm', 'sign_noise' or 'uniform_noise' when adversarial=True",
                perturbation,
            )
        train_perturbation = "fgsm"
    else:
        train_perturbation = "none"

    kind = losses_lib.resolve_output_kind(model, output)
    n_outputs = int(model.output_shape[-1])
    x = _as_inputs(x, "x")
    y = losses_lib.labels_for(y, kind, len(x), n_outputs)
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise invalid("validation_data", "None or a pair (x_val, y_val)", type(validation_data))
        x_val = _as_inputs(validation_data[0], "validation_data[0]")
        y_val = losses_lib.labels_for(
            validation_data[1], kind, len(x_val), n_outputs, argument="validation_data[1]"
        )
        validation_data = (x_val, y_val)

    keras.utils.set_random_seed(int(seed))
    adv = AdversarialModel(
        model,
        eps=eps,
        alpha=alpha,
        perturbation=train_perturbation,
        clip=clip,
        output=kind,
        l1=l1,
        seed=int(seed),
    )
    cbs = list(callbacks or [])
    if optimizer is None:
        optimizer = paper_sgd()
        cbs.append(MomentumSchedule())
    if patience is not None:
        if monitor is None:
            monitor = "val_adv_accuracy" if train_perturbation == "fgsm" else "val_accuracy"
        if monitor.startswith("val_") and validation_data is None:
            raise invalid("validation_data", f"(x_val, y_val) to monitor {monitor!r}", None)
        if "adv_" in monitor and adv.eps == 0:
            raise invalid("monitor", "a metric without 'adv_' when eps=0", monitor)
        cbs.append(_early_stopping(monitor, patience))
    adv.compile(optimizer=optimizer)
    history = adv.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation_data,
        shuffle=True,
        callbacks=cbs,
        verbose=verbose,
    )
    record = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    for key in list(record):
        if key.endswith("accuracy"):
            record[key[: -len("accuracy")] + "error"] = [1.0 - v for v in record[key]]
    model.advkeras_history = record
    return model
