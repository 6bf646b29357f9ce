"""Adversarial training with other adversaries than the input's sign step (§6, C20 and C21).

The paper reports two variations of its adversarial training that worked less
well: a *differentiable* adversary (small rotations, or adding the scaled
gradient instead of its sign, C20) and perturbing a *hidden layer* instead of
the input (C21). :func:`fit_adversary` trains a classifier on
J̃ = α·J(x) + (1 − α)·J(x + η) with such an η, through
:class:`~advkeras.training.AdversarialModel`'s ``norm`` and ``layer`` options,
with the same optimizer, minibatches and early stopping as
:func:`advkeras.fitting.fit_classifier`:

- ``norm=2``: η = ε·∇ₓJ/‖∇ₓJ‖₂, the gradient itself, scaled (no sign);
- ``layer="h0"``: η = ε·sign(∇_h J) added to the activations h of that layer;
- ``differentiable=True`` (with ``norm=2``): the same scaled gradient, but the
  cost's gradient with respect to the weights flows *through* η (double
  backpropagation, :class:`DifferentiableAdversaryModel`), so that learning
  "can take the reaction of the adversary into account", the paper's reason
  for calling such perturbations differentiable. The sign step has a zero
  derivative, and :class:`~advkeras.training.AdversarialModel` holds every η
  constant.

:func:`l2_radius_of_sign_step` gives the L2 size of the sign step, the ε at
which the scaled gradient carries as much energy as FGSM.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras import losses
from advkeras._validation import check_eps, check_fraction, check_positive_int, invalid
from advkeras.pipeline import array_dataset
from advkeras.pylearn2 import MomentumSchedule, early_stopping, paper_sgd
from advkeras.training import AdversarialModel

__all__ = ["DifferentiableAdversaryModel", "fit_adversary", "l2_radius_of_sign_step"]


class DifferentiableAdversaryModel(keras.Model):
    """Train on J̃ = αJ(x) + (1 − α)J(x + η), η = ε·∇ₓJ/‖∇ₓJ‖₂, differentiating through η.

    The train step computes ∇ₓJ inside the tape that differentiates J̃ with
    respect to the weights, so their update accounts for how η moves when
    they change (double backpropagation; about twice the cost of an FGSM
    step). Dropout draws one mask for the clean pass (which also gives ∇ₓJ)
    and one for the perturbed pass. Validation reports the clean ``loss``
    and ``accuracy`` only.

    Args:
        base_model: a built Keras classifier with softmax or logit outputs.
        eps: the L2 length of η, > 0.
        alpha: weight α of the clean term, in [0, 1].

    Example:

    >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model = DifferentiableAdversaryModel(base, eps=0.5)
    >>> model.compile(optimizer=keras.optimizers.SGD(0.1))
    >>> x = np.random.rand(8, 4).astype("float32"); y = np.arange(8) % 3
    >>> sorted(model.fit(x, y, epochs=1, verbose=0).history)
    ['accuracy', 'adv_loss', 'clean_loss', 'loss']
    """

    def __init__(self, base_model: keras.Model, *, eps: float, alpha: float = 0.5, **kwargs: Any):
        if not isinstance(base_model, keras.Model):
            raise invalid("base_model", "a keras.Model", type(base_model).__name__)
        eps = check_eps(eps)
        if eps == 0:
            raise invalid("eps", "a number > 0", eps)
        super().__init__(**kwargs)
        self.base_model = base_model
        self.eps = eps
        self.alpha = check_fraction(alpha, "alpha")
        self._loss_fn = losses.per_example_loss(losses.resolve_output_kind(base_model, None))
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.clean_loss_tracker = keras.metrics.Mean(name="clean_loss")
        self.adv_loss_tracker = keras.metrics.Mean(name="adv_loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        if base_model.built:
            self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Run the base classifier."""
        return self.base_model(inputs, training=training)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [
            self.loss_tracker,
            self.clean_loss_tracker,
            self.adv_loss_tracker,
            self.accuracy_tracker,
        ]

    def _accuracy(self, y: tf.Tensor, out: tf.Tensor) -> tf.Tensor:
        pred = tf.argmax(out, axis=-1, output_type=tf.int64)
        return tf.reduce_mean(tf.cast(tf.equal(pred, tf.cast(y, tf.int64)), tf.float32))

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        x, y = data
        x = tf.convert_to_tensor(x)
        weights = self.base_model.trainable_variables
        with tf.GradientTape() as tape:
            with tf.GradientTape() as inner:
                inner.watch(x)
                out = self.base_model(x, training=True)
                clean = self._loss_fn(y, out)
                clean_sum = tf.reduce_sum(clean)
            grad = inner.gradient(clean_sum, x)
            norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=-1, keepdims=True))
            eta = self.eps * grad / tf.maximum(norm, 1e-12)
            adv = self._loss_fn(y, self.base_model(x + eta, training=True))
            total = self.alpha * tf.reduce_mean(clean) + (1 - self.alpha) * tf.reduce_mean(adv)
        self.optimizer.apply_gradients(zip(tape.gradient(total, weights), weights, strict=True))
        self.loss_tracker.update_state(total)
        self.clean_loss_tracker.update_state(tf.reduce_mean(clean))
        self.adv_loss_tracker.update_state(tf.reduce_mean(adv))
        self.accuracy_tracker.update_state(self._accuracy(y, out))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        x, y = data
        out = self.base_model(x, training=False)
        clean = tf.reduce_mean(self._loss_fn(y, out))
        self.loss_tracker.update_state(clean)
        self.clean_loss_tracker.update_state(clean)
        self.accuracy_tracker.update_state(self._accuracy(y, out))
        return {
            m.name: m.result()
            for m in (self.loss_tracker, self.clean_loss_tracker, self.accuracy_tracker)
        }


def l2_radius_of_sign_step(eps: float, dimensions: int) -> float:
    """‖ε·sign(g)‖₂ = ε·√n: the L2 length of a sign step in ``dimensions`` inputs.

    A scaled-gradient step (``norm=2``) of this length moves the input as far,
    in Euclidean distance, as FGSM at ``eps`` does when no gradient component is zero.

    Example:

    >>> l2_radius_of_sign_step(0.25, 784)
    7.0
    """
    eps = check_eps(eps)
    dimensions = check_positive_int(dimensions, "dimensions")
    return eps * math.sqrt(dimensions)


def fit_adversary(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int = 100,
    validation_data: tuple[Any, Any] | None = None,
    eps: float = 0.25,
    alpha: float = 0.5,
    norm: str | int | float = "inf",
    layer: str | None = None,
    differentiable: bool = False,
    patience: int | None = None,
    monitor: str = "val_error",
    seed: int = 0,
    optimizer: keras.optimizers.Optimizer | None = None,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
    steps_per_execution: int = 100,
) -> keras.Model:
    """Train ``model`` on J̃ with an FGSM-like step of another ``norm`` or on a hidden ``layer``.

    Args:
        model: a built Keras classifier with one input (see
            :class:`~advkeras.training.AdversarialModel`).
        x, y: training inputs (N, ...) and integer labels.
        epochs: number of epochs (the maximum with ``patience``).
        batch_size: minibatch size.
        validation_data: ``(x_val, y_val)`` or None; validation metrics then
            include the ``adv_`` ones for this same adversary.
        eps: size of η (L2 length with ``norm=2``, max-norm otherwise).
        alpha: weight α of the clean term.
        norm: ``"inf"`` (the sign step) or ``2`` (the scaled gradient).
        layer: ``None`` (perturb the input) or a hidden layer's name.
        differentiable: differentiate through η (:class:`DifferentiableAdversaryModel`);
            only with ``norm=2`` and ``layer=None``. Validation then has clean metrics only.
        patience: early-stopping patience in epochs (None: train all epochs).
        monitor: the metric early stopping watches (default the clean
            validation error: the adversarial one measures another attack for
            each variant).
        seed: passed to ``keras.utils.set_random_seed`` before wrapping.
        optimizer: a Keras optimizer; None: ``paper_sgd()`` with ``MomentumSchedule()``.
        callbacks: extra callbacks.
        steps_per_execution: minibatches per compiled call (same weights).

    Returns:
        The trained base model with ``advkeras_history`` (lists of floats, with
        ``error`` keys as 1 − accuracy).

    Example:

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> x = np.random.rand(20, 4).astype("float32"); y = np.arange(20) % 3
    >>> m = fit_adversary(m, x, y, epochs=1, batch_size=10, norm=2, eps=0.5)
    >>> sorted(k for k in m.advkeras_history if k.endswith("error"))
    ['adv_error', 'error']
    """
    if not isinstance(model, keras.Model):
        raise invalid("model", "a keras.Model", type(model).__name__)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    eps = check_eps(eps)
    if eps == 0:
        raise invalid("eps", "a number > 0 (eps=0 is plain training)", eps)
    alpha = check_fraction(alpha, "alpha")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise invalid("seed", "an integer", seed)
    kind = losses.resolve_output_kind(model, None)
    n_outputs = int(model.output_shape[-1])
    x = np.asarray(x, dtype=np.float32)
    y = losses.labels_for(y, kind, len(x), n_outputs)
    if not isinstance(differentiable, bool):
        raise invalid("differentiable", "True or False", differentiable)
    if differentiable and (norm not in (2, 2.0) or layer is not None):
        raise invalid(
            "differentiable",
            "False unless norm=2 and layer=None (the scaled gradient)",
            differentiable,
        )
    keras.utils.set_random_seed(int(seed))
    if differentiable:
        adv: keras.Model = DifferentiableAdversaryModel(model, eps=eps, alpha=alpha)
    else:
        adv = AdversarialModel(
            model, eps=eps, alpha=alpha, perturbation="fgsm", norm=norm, layer=layer, seed=int(seed)
        )
    cbs = list(callbacks or [])
    if optimizer is None:
        optimizer = paper_sgd()
        cbs.append(MomentumSchedule())
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise invalid("validation_data", "None or a pair (x_val, y_val)", type(validation_data))
        x_val = np.asarray(validation_data[0], dtype=np.float32)
        y_val = losses.labels_for(validation_data[1], kind, len(x_val), n_outputs)
        val = (x_val, y_val)
    if patience is not None:
        if val is None:
            raise invalid("validation_data", f"(x_val, y_val) to monitor {monitor!r}", None)
        cbs.append(early_stopping(monitor, patience))
    adv.compile(
        optimizer=optimizer,
        steps_per_execution=check_positive_int(steps_per_execution, "steps_per_execution"),
    )
    train = array_dataset(x, y, batch_size=batch_size, shuffle=True)
    history = adv.fit(
        train,
        epochs=epochs,
        validation_data=None if val is None else array_dataset(*val, batch_size=batch_size),
        shuffle=False,
        callbacks=cbs,
        verbose=0,
    )
    record = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    for key in list(record):
        if key.endswith("accuracy"):
            record[key[: -len("accuracy")] + "error"] = [1.0 - v for v in record[key]]
    model.advkeras_history = record
    return model
