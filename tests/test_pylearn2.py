"""Tests of advkeras.pylearn2: the learning-rate decay, PaperSGD, the momentum ramp, the callbacks."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras.pylearn2 import (
    ExponentialDecayWithFloor,
    MomentumSchedule,
    PaperSGD,
    early_stopping,
    paper_callbacks,
    paper_sgd,
    set_momentum,
)


def test_paper_sgd_learning_rate_is_divided_per_step_with_a_floor():
    schedule = ExponentialDecayWithFloor(0.1, 1.000004, 1e-6)
    for k in (0, 1, 1000, 250_000, 1_000_000):
        assert float(schedule(k)) == pytest.approx(0.1 / 1.000004**k, rel=1e-5)
    assert float(schedule(10**8)) == pytest.approx(1e-6, rel=1e-6)
    opt = paper_sgd()
    var = keras.Variable(np.zeros(3, np.float32))
    for _ in range(3):
        opt.apply_gradients([(tf.ones(3), var)])
    assert float(opt.learning_rate) == pytest.approx(0.1 / 1.000004**3, rel=1e-6)
    assert opt.momentum == 0.5
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(restored, PaperSGD) and restored.momentum == 0.5
    assert restored.get_config()["learning_rate"]["config"]["decay_factor"] == 1.000004


@pytest.mark.parametrize("nesterov", [False, True])
def test_paper_sgd_update_equals_keras_sgd(nesterov):
    grads = [np.array([1.0, -2.0], np.float32), np.array([0.5, 0.5], np.float32)] * 2
    results = []
    for cls in (PaperSGD, keras.optimizers.SGD):
        opt = cls(learning_rate=0.1, momentum=0.6, nesterov=nesterov)
        var = keras.Variable(np.array([0.3, -0.1], np.float32))
        for g in grads:
            opt.apply_gradients([(tf.constant(g), var)])
        results.append(var.numpy())
    np.testing.assert_allclose(results[0], results[1], atol=1e-7)


def test_momentum_schedule_values_follow_pylearn2():
    sched = MomentumSchedule()
    assert sched.momentum_at(1) == 0.5
    assert sched.momentum_at(250) == pytest.approx(0.7)
    assert sched.momentum_at(1000) == pytest.approx(0.7)
    assert sched.momentum_at(125.5) == pytest.approx(0.6)
    assert MomentumSchedule(0.5, 0.7, 3, 3).momentum_at(2) == 0.5


@pytest.mark.parametrize("optimizer", ["paper", "keras"])
def test_momentum_schedule_changes_the_effective_momentum(optimizer):
    """Constant gradient 1, lr 1: w after epochs 1..3 is -1, -1 - (1 + m2), ..."""
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    if optimizer == "paper":
        opt, start = paper_sgd(learning_rate=1.0, decay_factor=1.0, min_lr=0.0, momentum=0.0), 0.0
    else:
        opt, start = keras.optimizers.SGD(1.0, momentum=0.1), 0.1
    model.compile(optimizer=opt, loss=lambda y_true, y_pred: keras.ops.mean(y_pred))
    trajectory = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: trajectory.append(float(model.get_weights()[0][0, 0]))
    )
    hist = model.fit(
        np.ones((1, 1), np.float32),
        np.zeros((1, 1), np.float32),
        epochs=3,
        verbose=0,
        callbacks=[MomentumSchedule(start, 0.9, 1, 2), record],
    )
    v1 = -1.0
    v2 = 0.9 * v1 - 1.0
    v3 = 0.9 * v2 - 1.0
    np.testing.assert_allclose(trajectory, [v1, v1 + v2, v1 + v2 + v3], atol=1e-5)
    assert hist.history["momentum"] == pytest.approx([start, 0.9, 0.9])


def test_set_momentum_refuses_sgd_without_momentum_slots():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    with pytest.raises(ValueError, match="model.optimizer"):
        set_momentum(model, 0.5)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    with pytest.raises(ValueError, match="model.optimizer"):
        set_momentum(model, 0.5)


def test_paper_callbacks_and_error_monitors():
    cbs = paper_callbacks(patience=5, monitor="val_adv_error")
    assert isinstance(cbs[0], MomentumSchedule)
    stop = cbs[1]
    assert stop.monitor == "val_adv_accuracy" and stop.patience == 5 and stop.restore_best_weights
    assert stop.mode == "max"  # higher accuracy = lower error is better
    assert early_stopping("val_loss", 2).mode == "min"


@pytest.mark.parametrize(
    ("factory", "argument"),
    [
        (lambda: paper_sgd(learning_rate=0.0), "initial_learning_rate"),
        (lambda: paper_sgd(decay_factor=0.5), "decay_factor"),
        (lambda: paper_sgd(min_lr=-1.0), "min_lr"),
        (lambda: paper_sgd(momentum=1.5), "momentum"),
        (lambda: MomentumSchedule(start=2.0), "start"),
        (lambda: MomentumSchedule(end=-0.1), "end"),
        (lambda: MomentumSchedule(start_epoch=0), "start_epoch"),
        (lambda: MomentumSchedule(start_epoch=5, end_epoch=2), "end_epoch"),
        (lambda: paper_callbacks(patience=0), "patience"),
    ],
)
def test_recipe_rejects_bad_arguments(factory, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        factory()
