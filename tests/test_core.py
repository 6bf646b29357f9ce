"""Tests of the lead's core modules: validation, losses, profiles, cache, reporting."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras import _validation as v
from advkeras import losses
from advkeras.book import cache, profiles, reporting

# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("eps", [-0.1, float("nan"), float("inf"), "abc", None])
def test_check_eps_rejects(eps):
    with pytest.raises(ValueError, match="`eps`"):
        v.check_eps(eps)


def test_check_eps_accepts_zero_and_numpy():
    assert v.check_eps(0) == 0.0
    assert v.check_eps(np.float32(0.25)) == pytest.approx(0.25)


@pytest.mark.parametrize("clip", [(1.0, 0.0), (0.0,), "01", (0.0, float("nan"))])
def test_check_clip_rejects(clip):
    with pytest.raises(ValueError, match="`clip`"):
        v.check_clip(clip)


def test_check_norm():
    assert v.check_norm(np.inf) == "inf"
    assert v.check_norm("inf") == "inf"
    assert v.check_norm(2) == 2
    for bad in (3, "l3", True, 0):
        with pytest.raises(ValueError, match="`norm`"):
            v.check_norm(bad)


def test_inputs_outside_clip_uint8_hint():
    x = np.array([[0, 255]], dtype=np.uint8)
    with pytest.raises(ValueError, match="divide by 255"):
        v.check_inputs_in_clip(x, (0.0, 1.0))
    v.check_inputs_in_clip(x.astype(np.float32) / 255, (0.0, 1.0))


def test_check_labels_multiclass_and_binary():
    assert v.check_labels([0, 2, 1], 3, 3).tolist() == [0, 2, 1]
    assert v.check_labels(np.eye(3)[[2, 0]], 2, 3).tolist() == [2, 0]
    assert v.check_labels([-1, 1, 1], 3, 1, binary=True).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\]"):
        v.check_labels([0, 3], 2, 3)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        v.check_labels([0, 1], 3, 3)
    with pytest.raises(ValueError, match="binary labels"):
        v.check_labels([0, 2], 2, 1, binary=True)
    with pytest.raises(ValueError, match="integer labels"):
        v.check_labels([0.5, 1.0], 2, 3)


def test_check_fraction_and_positive_int():
    assert v.check_fraction(1, "alpha") == 1.0
    with pytest.raises(ValueError, match="`alpha`"):
        v.check_fraction(1.5, "alpha")
    with pytest.raises(ValueError, match="`units`"):
        v.check_positive_int(0, "units")
    with pytest.raises(ValueError, match="`units`"):
        v.check_positive_int(True, "units")


# --------------------------------------------------------------------------- losses


def _dense(units, activation):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])


@pytest.mark.parametrize(
    ("units", "activation", "kind"),
    [
        (3, "softmax", "probabilities"),
        (3, None, "logits"),
        (1, None, "binary_logit"),
        (1, "sigmoid", "binary_probability"),
        (3, "sigmoid", "independent"),
    ],
)
def test_infer_output_kind(units, activation, kind):
    assert losses.infer_output_kind(_dense(units, activation)) == kind


def test_infer_output_kind_functional_average_and_activation_layer():
    inp = keras.Input((4,))
    a = keras.layers.Dense(3, activation="softmax")(inp)
    b = keras.layers.Dense(3, activation="softmax")(inp)
    avg = keras.Model(inp, keras.layers.Average()([a, b]))
    assert losses.infer_output_kind(avg) == "probabilities"
    act = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Softmax()])
    assert losses.infer_output_kind(act) == "probabilities"


def test_infer_output_kind_refuses_unknown_activation():
    with pytest.raises(ValueError, match="output="):
        losses.infer_output_kind(_dense(3, "relu"))


def test_resolve_output_kind_checks_width():
    with pytest.raises(ValueError, match="binary"):
        losses.resolve_output_kind(_dense(3, None), "binary_logit")
    with pytest.raises(ValueError, match="`output`"):
        losses.resolve_output_kind(_dense(3, None), "probs")
    assert losses.resolve_output_kind(_dense(3, "relu"), "logits") == "logits"


def test_per_example_losses_match_closed_forms():
    z = np.array([[1.0, -2.0, 0.5], [0.0, 0.3, -0.7]], dtype=np.float32)
    y = np.array([2, 0])
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    expected = -np.log(p[np.arange(2), y])
    got = losses.per_example_loss("logits")(tf.constant(y), tf.constant(z)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    got = losses.per_example_loss("probabilities")(tf.constant(y), tf.constant(p)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    # Binary: ζ(−y z) with y in {−1, +1}; labels given as {0, 1}.
    zb = np.array([[0.7], [-1.2]], dtype=np.float32)
    yb = np.array([1, 0])
    expected_b = np.log1p(np.exp(-np.array([1.0, -1.0]) * zb[:, 0]))
    got = losses.per_example_loss("binary_logit")(tf.constant(yb), tf.constant(zb)).numpy()
    np.testing.assert_allclose(got, expected_b, rtol=1e-5)
    sb = 1 / (1 + np.exp(-zb))
    got = losses.per_example_loss("binary_probability")(tf.constant(yb), tf.constant(sb)).numpy()
    np.testing.assert_allclose(got, expected_b, rtol=1e-4)
    # Independent outputs: sum of per-class binary cross-entropies against the one-hot label.
    q = np.array([[0.2, 0.9, 0.1]], dtype=np.float32)
    expected_i = -(np.log(1 - 0.2) + np.log(0.9) + np.log(1 - 0.1))
    got = losses.per_example_loss("independent")(tf.constant([1]), tf.constant(q)).numpy()
    np.testing.assert_allclose(got, [expected_i], rtol=1e-5)


def test_predictions_and_probabilities():
    z = np.array([[0.3], [-0.1]])
    assert losses.predicted_labels(z, "binary_logit").tolist() == [1, 0]
    probs = losses.class_probabilities(z, "binary_logit")
    np.testing.assert_allclose(probs.sum(1), 1.0)
    logits = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(losses.class_probabilities(logits, "logits"), [[1.0, 0.0, 0.0]])


def test_adversarial_logistic_loss_is_the_worst_case_loss():
    rng = np.random.default_rng(0)
    w = rng.normal(size=5).astype(np.float32)
    b = np.float32(0.3)
    x = rng.normal(size=(7, 5)).astype(np.float32)
    y = rng.choice([-1.0, 1.0], size=7).astype(np.float32)
    eps = 0.1
    x_worst = x - eps * y[:, None] * np.sign(w)[None, :]
    worst = losses.logistic_loss(tf.constant(y), tf.constant(x_worst @ w + b)).numpy()
    closed = losses.adversarial_logistic_loss(
        tf.constant(y), tf.constant(x @ w + b), w, eps
    ).numpy()
    np.testing.assert_allclose(closed, worst, rtol=1e-5)
    printed = losses.adversarial_logistic_loss_as_printed(
        tf.constant(y), tf.constant(x @ w + b), w, eps
    ).numpy()
    # The printed form agrees for y = +1 and differs (rewards ‖w‖₁) for y = −1.
    np.testing.assert_allclose(printed[y > 0], closed[y > 0], rtol=1e-5)
    assert np.all(printed[y < 0] < closed[y < 0])


# --------------------------------------------------------------------------- profiles


def test_profiles_env_and_errors(monkeypatch):
    monkeypatch.setenv("ADVKERAS_PROFILE", "smoke")
    assert profiles.get_profile().name == "smoke"
    monkeypatch.setenv("ADVKERAS_PROFILE", "fast")
    with pytest.raises(ValueError, match="ADVKERAS_PROFILE.*'smoke', 'book', 'paper'"):
        profiles.get_profile()
    monkeypatch.delenv("ADVKERAS_PROFILE")
    assert profiles.get_profile().name == "book"
    paper = profiles.get_profile("paper")
    assert paper.maxout_units_large == 1600 and len(paper.seeds) == 5 and paper.ensemble_size == 12
    assert paper.patience == 100
    assert "smoke" in profiles.get_profile("smoke").describe()
    assert profiles.get_profile("smoke").replace(epochs_maxout=3).epochs_maxout == 3


# --------------------------------------------------------------------------- cache


def test_cached_model_trains_once_and_keeps_history(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVKERAS_CACHE_DIR", str(tmp_path))
    calls = []

    def train():
        calls.append(1)
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        m.fit(np.ones((4, 3)), np.array([0, 1, 0, 1]), epochs=2, verbose=0)
        return m

    spec = {"name": "tiny", "seed": 0}
    first = cache.cached_model(spec, train, verbose=False)
    second = cache.cached_model(spec, train, verbose=False)
    assert len(calls) == 1
    assert not first.advkeras_cache_hit and second.advkeras_cache_hit
    assert len(second.advkeras_history["loss"]) == 2
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    cache.cached_model({"name": "tiny", "seed": 1}, train, verbose=False)
    assert len(calls) == 2
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_cache_key_is_order_independent():
    assert cache.cache_key({"a": 1, "b": 2}) == cache.cache_key({"b": 2, "a": 1})
    assert cache.cache_key({"a": 1}) != cache.cache_key({"a": 2})


def test_cached_model_rejects_non_models(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVKERAS_CACHE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="build_and_train"):
        cache.cached_model({"name": "x"}, lambda: "not a model", verbose=False)
    assert list(tmp_path.iterdir()) == []  # no entry, no temporary folder


# --------------------------------------------------------------------------- reporting


def test_verdicts():
    assert reporting.verdict(99.9, 99.0, 2.0) == "reproduced"
    assert reporting.verdict(89.4, 86.0, 2.0) == "close"
    assert reporting.verdict(79.3, 99.0, 2.0) == "not reproduced"
    assert reporting.verdict(1.0, None, 2.0) == "not run"
    with pytest.raises(ValueError, match="`paper`.*rule"):
        reporting.verdict(None, 3.0, 2.0)  # a claim without a number is graded by a rule
    assert reporting.verdict(1.0, math.nan, 2.0) == "not run"
    with pytest.raises(ValueError, match="`verdict`"):
        reporting.Claim("C1", "s", "m", 1.0, 1.0, verdict="great")


def test_claims_table_and_results_file(tmp_path):
    prof = profiles.get_profile("book")
    claims = [
        reporting.Claim("C1", "softmax, FGSM ε=.25", "error", 99.9, 99.5),
        reporting.Claim("F1", "GoogLeNet", "confidence", 99.3, None, note="no ImageNet offline"),
    ]
    table = reporting.claims_table(claims, prof)
    assert "| C1 |" in table and "99.5 %" in table and "not run: no ImageNet offline" in table
    path = reporting.save_results("99_test", claims, prof, directory=tmp_path)
    record = json.loads(path.read_text())
    assert record["profile"] == "book"
    assert record["claims"]["C1"]["verdict"] == "reproduced"
    assert set(record["claims"]["C1"]) >= {"paper", "ours", "unit", "profile", "verdict"}
    assert reporting.load_results(tmp_path)["99_test"]["claims"]["F1"]["ours"] is None


def test_failed_results_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    prof = profiles.get_profile("book")
    claims = [reporting.Claim("C1", "softmax, FGSM ε=.25", "error", 99.9, 99.5)]
    path = reporting.save_results("99_test", claims, prof, directory=tmp_path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        reporting.save_results("99_test", claims, prof, extra={"x": object()}, directory=tmp_path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["99_test.json"]


def test_smoke_results_never_go_to_the_book(tmp_path, monkeypatch):
    monkeypatch.delenv("ADVKERAS_RESULTS_DIR", raising=False)
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    smoke = reporting.results_dir(profiles.get_profile("smoke"), chapters)
    book = reporting.results_dir(profiles.get_profile("book"), chapters)
    assert book == chapters / "results"
    assert smoke != book and ".cache" in smoke.parts
