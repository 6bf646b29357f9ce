"""Tests of advkeras.rubbish and the Appendix A recipes (maxout_sigmoid, maxout_rubbish)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

from advkeras import attacks, evaluation, losses, rubbish
from advkeras.book import experiments, profiles

TINY = profiles.get_profile("smoke").replace(
    mnist_train=300, mnist_val=100, mnist_test=100, maxout_units=8, epochs_variant=1
)


def _identity_sigmoid(k: int) -> keras.Model:
    """p_k(x) = sigmoid(x_k): the gradient of log p_k is along x_k alone, and positive."""
    model = keras.Sequential([keras.Input((k,)), keras.layers.Dense(k, activation="sigmoid")])
    model.layers[-1].set_weights([np.eye(k, dtype="float32"), np.zeros(k, "float32")])
    return model


# --------------------------------------------------------------------------- targeted_fooling


def test_targeted_fooling_matches_the_closed_form_of_independent_sigmoids():
    k, eps = 4, 0.3
    model = _identity_sigmoid(k)
    x = attacks.gaussian_rubbish(200, (k,), seed=1)
    report = rubbish.targeted_fooling(model, x, eps=eps, keep=3)
    # The step toward k adds eps to x_k only; p_k > .5 exactly when x_k + eps > 0.
    np.testing.assert_array_equal(report.successes, (x > -eps).sum(axis=0))
    expected_conf = (1 / (1 + np.exp(-(x + eps)))).mean(axis=0)
    np.testing.assert_allclose(report.confidence, expected_conf, rtol=1e-5)
    for target in range(k):
        shifted = x[:3].copy()
        shifted[:, target] += eps
        np.testing.assert_allclose(report.examples[target], shifted, atol=1e-6)
        np.testing.assert_array_equal(report.fooled[target], x[:3, target] > -eps)
    assert report.mean_success == pytest.approx(float(np.mean(x > -eps)))
    low, high = report.intervals().T
    assert np.all((low <= report.success_rate) & (report.success_rate <= high))
    assert report.as_percent()["n"] == 200


def test_targeted_fooling_with_a_zero_step_scores_the_samples_themselves():
    model = _identity_sigmoid(3)
    x = attacks.gaussian_rubbish(50, (3,), seed=2)
    report = rubbish.targeted_fooling(model, x, eps=0.0, classes=2)
    np.testing.assert_array_equal(report.successes, (x[:, :2] > 0).sum(axis=0))
    assert report.examples.shape == (2, 10, 3)


def test_targeted_fooling_runs_on_cifar_shaped_inputs_and_scores_by_the_model():
    """The CIFAR-10 path of chapter 11: a conv net on (32, 32, 3) Gaussian rubbish."""
    net = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(2, 3, kernel_initializer=keras.initializers.RandomNormal(seed=0)),
            keras.layers.Flatten(),
            keras.layers.Dense(
                10, "softmax", kernel_initializer=keras.initializers.RandomNormal(seed=1)
            ),
        ]
    )
    x = attacks.gaussian_rubbish(20, (32, 32, 3), seed=4)
    report = rubbish.targeted_fooling(net, x, eps=0.1, keep=4)
    assert report.examples.shape == (10, 4, 32, 32, 3)
    for target in (0, 7):
        stepped = attacks.fooling_step(net, x, target, eps=0.1)
        np.testing.assert_allclose(report.examples[target], stepped[:4], atol=1e-6)
        p = evaluation.predict_proba(net, stepped)[:, target]
        assert report.successes[target] == int(np.sum(p > 0.5))
        assert np.max(np.abs(stepped - x)) == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize(
    ("argument", "kwargs"),
    [
        ("eps", {"eps": -1.0}),
        ("threshold", {"eps": 0.1, "threshold": 1.0}),
        ("threshold", {"eps": 0.1, "threshold": "half"}),
        ("keep", {"eps": 0.1, "keep": 0}),
        ("classes", {"eps": 0.1, "classes": 4}),
    ],
)
def test_targeted_fooling_rejects_bad_arguments(argument: str, kwargs: dict[str, Any]):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        rubbish.targeted_fooling(_identity_sigmoid(3), np.zeros((2, 3)), **kwargs)


# --------------------------------------------------------------------------- with_rubbish_class


def test_with_rubbish_class_appends_reproducible_gaussian_samples_with_a_new_label():
    x, y = np.full((5, 6), 0.5, "float32"), np.array([0, 1, 2, 2, 1])
    x2, y2 = rubbish.with_rubbish_class(x, y, 400, seed=3, std=2.0)
    assert x2.shape == (405, 6) and x2.dtype == np.float32
    np.testing.assert_array_equal(x2[:5], x)
    assert y2.tolist() == [0, 1, 2, 2, 1] + [3] * 400
    np.testing.assert_array_equal(x2[5:], attacks.gaussian_rubbish(400, (6,), seed=3, std=2.0))
    assert abs(float(x2[5:].std()) - 2.0) < 0.1
    _, y3 = rubbish.with_rubbish_class(x, y, 2, label=7)
    assert y3[-2:].tolist() == [7, 7]


@pytest.mark.parametrize(
    ("argument", "call"),
    [
        ("label", lambda x, y: rubbish.with_rubbish_class(x, y, 2, label=1)),
        ("label", lambda x, y: rubbish.with_rubbish_class(x, y, 2, label=-1)),
        ("n", lambda x, y: rubbish.with_rubbish_class(x, y, 0)),
        ("y", lambda x, y: rubbish.with_rubbish_class(x, y[:2], 2)),
        ("y", lambda x, y: rubbish.with_rubbish_class(x, y.astype(float), 2)),
        ("x", lambda x, y: rubbish.with_rubbish_class(x[0], y, 2)),
    ],
)
def test_with_rubbish_class_rejects_bad_arguments(argument: str, call: Any):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        call(np.zeros((3, 4)), np.array([0, 1, 2]))


# --------------------------------------------------------------------------- known_classes


def test_known_classes_keeps_the_first_softmax_columns_and_scores_rubbish_on_them():
    net = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="softmax")])
    kernel = np.zeros((5, 4), "float32")
    kernel[0, 3] = 10.0  # x_0 large: the last ("rubbish") class wins
    kernel[1, 0] = 10.0  # x_1 large: class 0 wins
    net.layers[-1].set_weights([kernel, np.zeros(4, "float32")])
    known = rubbish.known_classes(net, 3)
    x = np.zeros((2, 5), "float32")
    x[0, 0], x[1, 1] = 1.0, 1.0
    full = np.asarray(net(x))
    np.testing.assert_allclose(np.asarray(known(x)), full[:, :3], rtol=1e-6)
    report = evaluation.rubbish_report(known, x, output="independent")
    # Only the second input gives a real class p > .5; the first is called rubbish.
    assert report.error == 0.5 and report.class_counts.tolist() == [1, 0, 0]
    assert losses.resolve_output_kind(net) == "probabilities"


@pytest.mark.parametrize("classes", [0, 4, 5])
def test_known_classes_rejects_a_count_that_leaves_no_rubbish_column(classes: int):
    net = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="softmax")])
    with pytest.raises(ValueError, match="`classes`"):
        rubbish.known_classes(net, classes)


# --------------------------------------------------------------------------- recipes


def _output_layer(spec: dict[str, Any]) -> dict[str, Any]:
    (layer,) = [la for la in spec["model"]["config"]["layers"] if la["config"]["name"] == "y"]
    return layer["config"]


def test_maxout_sigmoid_is_the_maxout_recipe_with_sigmoid_outputs_on_the_short_budget(recorded):
    experiments.maxout_sigmoid(TINY.replace(epochs_variant=3))
    experiments.maxout_sigmoid(TINY, epochs=2)
    first, second = recorded
    assert first["name"] == "maxout8-sigmoid" and first["recipe"] == "maxout"
    assert first["fit"]["epochs"] == 3 and second["fit"]["epochs"] == 2
    assert _output_layer(first)["activation"] == "sigmoid"
    with pytest.raises(ValueError, match="`epochs`"):
        experiments.maxout_sigmoid(TINY, epochs=0)


def test_maxout_rubbish_keys_on_its_extra_class_and_its_rubbish(recorded):
    experiments.maxout_rubbish(TINY)
    experiments.maxout_rubbish(TINY, fraction=0.2)
    experiments.maxout_rubbish(TINY, seed=1)
    first, other_fraction, other_seed = recorded
    assert first["name"] == "maxout8-rubbish" and _output_layer(first)["units"] == 11
    assert _output_layer(first)["activation"] == "softmax"
    assert first["data"]["rubbish"]["fraction"] == 0.1
    assert first["data"]["rubbish"]["seed"] == experiments.RUBBISH_SEED_OFFSET
    assert other_seed["data"]["rubbish"]["seed"] == experiments.RUBBISH_SEED_OFFSET + 1
    assert other_fraction["data"] != first["data"]
    assert first["fit"]["epochs"] == TINY.epochs_variant


@pytest.mark.parametrize("fraction", [0, 1.5, -0.1, "a"])
def test_maxout_rubbish_rejects_a_bad_fraction(fraction: Any):
    with pytest.raises(ValueError, match="`fraction`"):
        experiments.maxout_rubbish(TINY, fraction=fraction)
