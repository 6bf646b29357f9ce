"""Tests of advkeras.model_capacity: thresholded precision/recall and the true-class cost."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from advkeras import model_capacity as mc

RNG = np.random.default_rng(2)


def test_precision_recall_against_a_direct_count():
    conf = RNG.uniform(size=500)
    correct = RNG.uniform(size=500) < conf  # more confident, more often right
    curve = mc.precision_recall(conf, correct)
    for i in (0, 30, 70):
        t = curve.thresholds[i]
        keep = conf >= t
        assert curve.precision[i] == pytest.approx(correct[keep].mean())
        assert curve.recall[i] == pytest.approx((correct & keep).mean())
        assert curve.coverage[i] == pytest.approx(keep.mean())
    assert curve.recall[0] == pytest.approx(correct.mean())  # t = 0 answers everything
    assert np.all(np.diff(curve.recall) <= 1e-12)  # recall never grows with the threshold
    assert curve.precision[60] > curve.precision[0]  # calibrated-like scores: precision grows
    assert curve.at(0.305) == curve.at(0.30)


def test_nothing_answered_gives_nan_precision_and_zero_recall():
    curve = mc.precision_recall([0.2, 0.4], np.array([True, False]), thresholds=[0.1, 0.5])
    assert np.isnan(curve.precision[1]) and curve.recall[1] == 0 and curve.coverage[1] == 0


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="confidence"):
        mc.precision_recall([1.5], np.array([True]))
    with pytest.raises(ValueError, match="correct"):
        mc.precision_recall([0.5], [1])
    with pytest.raises(ValueError, match="thresholds"):
        mc.precision_recall([0.5], np.array([True]), thresholds=[0.5, 0.2])
    with pytest.raises(ValueError, match="threshold"):
        mc.precision_recall([0.5], np.array([True]), thresholds=[0.2, 0.5]).at(0.1)


def test_true_class_nll_gradient_ignores_the_wrong_classes():
    p = tf.Variable([[0.3, 0.6, 0.1]])
    with tf.GradientTape() as tape:
        cost = mc.true_class_nll_loss(tf.constant([0]), p)
    g = tape.gradient(cost, p).numpy()
    np.testing.assert_allclose(g, [[-1 / 0.3, 0.0, 0.0]], rtol=1e-5)
    assert np.isfinite(
        mc.true_class_nll_loss(tf.constant([1]), tf.constant([[1.0, 0.0]])).numpy()
    ).all()


def test_largest_miss_is_at_most_one_exactly_when_all_are_within_tolerance():
    paper, tol = {"err": 55.4, "mis": 1.2, "clean": 60.6}, {"err": 2.0, "mis": 1.0, "clean": 2.0}
    rng = np.random.default_rng(0)
    for _ in range(200):
        ours = {k: v + rng.uniform(-3, 3) * tol[k] for k, v in paper.items()}
        within = all(abs(ours[k] - paper[k]) <= tol[k] for k in paper)
        assert (mc.largest_miss(ours, paper, tol) <= 1) == within
    ours = {"err": 87.5, "mis": 2.9, "clean": 50.3}
    assert mc.largest_miss(ours, paper, tol) == pytest.approx((87.5 - 55.4) / 2)
    assert mc.largest_miss({**ours, "extra": 1e9}, paper, tol) == pytest.approx(16.05)


def test_largest_miss_validation():
    paper, tol = {"err": 55.4}, {"err": 2.0}
    with pytest.raises(ValueError, match="`ours`"):
        mc.largest_miss({}, paper, tol)
    with pytest.raises(ValueError, match="`tolerance`"):
        mc.largest_miss(paper, paper, {"err": 0.0})
    with pytest.raises(ValueError, match="`tolerance`"):
        mc.largest_miss(paper, paper, {})
    with pytest.raises(ValueError, match="`paper`"):
        mc.largest_miss(paper, {}, tol)
