"""The pylearn2 optimisation recipe of the original maxout network.

Goodfellow et al. trained their maxout networks with pylearn2 (``mnist_pi.yaml``):
SGD with a learning rate of .1 divided by 1.000004 after every minibatch
(floor 1e-6), classical momentum rising linearly from .5 in epoch 1 to .7 in
epoch 250, and early stopping on a validation error that keeps the best
epoch's weights. This module is that recipe in Keras:

- :class:`ExponentialDecayWithFloor`, the learning-rate schedule;
- :class:`PaperSGD` and :func:`paper_sgd`, SGD whose momentum can change between epochs;
- :class:`MomentumSchedule` and :func:`set_momentum`, the momentum ramp;
- :func:`early_stopping` and :func:`paper_callbacks`, the callbacks of a run.

Example:

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer=paper_sgd(), loss="mse")
>>> hist = model.fit(np.ones((4, 2)), np.ones(4), epochs=2, verbose=0,
...                  callbacks=paper_callbacks())
>>> [round(m, 4) for m in hist.history["momentum"]]
[0.5, 0.5008]
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf

from advkeras._validation import check_eps, check_fraction, check_positive_int, invalid

__all__ = [
    "ExponentialDecayWithFloor",
    "MomentumSchedule",
    "PaperSGD",
    "early_stopping",
    "paper_callbacks",
    "paper_sgd",
    "set_momentum",
]


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
            "a keras.optimizers.SGD (preferably advkeras.pylearn2.PaperSGD)",
            type(optimizer).__name__,
        )
    if optimizer.momentum == 0 and value != 0:
        raise invalid(
            "model.optimizer",
            "an SGD created with momentum > 0 (Keras builds no momentum slots at 0), "
            "or advkeras.pylearn2.paper_sgd()",
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
        callbacks.append(early_stopping(monitor, patience))
    return callbacks


def early_stopping(monitor: str, patience: int) -> keras.callbacks.EarlyStopping:
    """pylearn2's early stopping: stop after ``patience`` epochs without a strict improvement.

    The best epoch's weights are restored at the end. The mode follows the
    metric: ``max`` for ``*accuracy``, ``min`` otherwise; ``*error`` monitors
    are read as ``*accuracy`` (the same ordering).

    Args:
        monitor: a logged metric, e.g. ``"val_adv_accuracy"`` or ``"val_error"``.
        patience: epochs without improvement before stopping, >= 1.

    Returns:
        A ``keras.callbacks.EarlyStopping`` with ``restore_best_weights=True``.

    Example:

    >>> stop = early_stopping("val_adv_error", 5)
    >>> stop.monitor, stop.mode, stop.restore_best_weights
    ('val_adv_accuracy', 'max', True)
    """
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
