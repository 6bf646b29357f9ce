"""Tests of advkeras.class_agreement: Wilson intervals and agreement on misclassified subsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advkeras import class_agreement as ca

RNG = np.random.default_rng(3)


def test_wilson_interval_contains_the_rate_and_shrinks_with_n():
    lo, hi = ca.wilson_interval(30, 100)
    assert lo < 0.3 < hi
    lo2, hi2 = ca.wilson_interval(300, 1000)
    assert hi2 - lo2 < hi - lo
    # closed form at k = 0: [0, z^2 / (n + z^2)]
    z = 1.959963984540054
    assert ca.wilson_interval(0, 50) == pytest.approx((0.0, z**2 / (50 + z**2)))
    assert all(math.isnan(v) for v in ca.wilson_interval(0, 0))


def test_wilson_coverage_is_about_95_percent():
    p, n = 0.16, 80
    k = RNG.binomial(n, p, size=4000)
    inside = [lo <= p <= hi for lo, hi in (ca.wilson_interval(int(v), n) for v in k)]
    assert 0.93 < np.mean(inside) < 0.97


def test_agreement_on_subsets_against_direct_counts():
    y = RNG.integers(0, 10, size=2000)
    preds = {
        "maxout": np.where(RNG.uniform(size=2000) < 0.9, (y + 1) % 10, y),
        "softmax": np.where(RNG.uniform(size=2000) < 0.5, (y + 1) % 10, RNG.integers(0, 10, 2000)),
        "rbf": RNG.integers(0, 10, size=2000),
    }
    row = ca.agreement_on(y, preds, "maxout", "softmax", wrong=("maxout", "softmax"))
    keep = (preds["maxout"] != y) & (preds["softmax"] != y)
    assert row.n == keep.sum()
    assert row.agree == np.sum((preds["maxout"] == preds["softmax"]) & keep)
    assert row.rate == pytest.approx(row.agree / row.n)
    assert row.low <= row.rate <= row.high
    assert row.subset == "the examples that maxout and softmax both misclassify"
    three = ca.agreement_on(y, preds, "rbf", "softmax", wrong=("maxout", "rbf", "softmax"))
    assert three.subset == "the examples that maxout, rbf and softmax all misclassify"
    assert three.n <= row.n
    everything = ca.agreement_on(y, preds, "rbf", "softmax")
    assert everything.n == 2000 and everything.subset == "all examples"
    none = ca.agreement_on(y, {"a": y, "b": y}, "a", "b", wrong=("a",))
    assert none.n == 0 and math.isnan(none.rate)


def test_bad_inputs_raise_value_errors():
    y = np.array([0, 1])
    preds = {"a": np.array([0, 1]), "b": np.array([1, 1])}
    with pytest.raises(ValueError, match="`b`"):
        ca.agreement_on(y, preds, "a", "c")
    with pytest.raises(ValueError, match="wrong"):
        ca.agreement_on(y, preds, "a", "b", wrong="a")
    with pytest.raises(ValueError, match="wrong"):
        ca.agreement_on(y, preds, "a", "b", wrong=("z",))
    with pytest.raises(ValueError, match="predictions"):
        ca.agreement_on(y, {"a": np.array([0])}, "a", "a")
    with pytest.raises(ValueError, match="labels"):
        ca.agreement_on(np.array([0.5, 1.0]), preds, "a", "b")
    with pytest.raises(ValueError, match="`k`"):
        ca.wilson_interval(5, 3)
