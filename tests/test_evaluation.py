"""Tests of advkeras.evaluation against hand computations on tiny models with known weights."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from advkeras import evaluation as ev

W = np.array([[2.0, -1.0, 0.5], [-1.0, 1.5, 0.0]], dtype=np.float32)
B = np.array([0.1, 0.0, -0.2], dtype=np.float32)


def dense_model(w: np.ndarray, b: np.ndarray, activation: str | None) -> keras.Model:
    model = keras.Sequential(
        [keras.Input((w.shape[0],)), keras.layers.Dense(w.shape[1], activation=activation)]
    )
    model.set_weights([w, b])
    return model


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (40, 2)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    return x, y


@pytest.fixture(scope="module")
def softmax_model() -> keras.Model:
    return dense_model(W, B, "softmax")


def hand_report(p: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    pred = p.argmax(axis=1)
    conf = p.max(axis=1)
    wrong = pred != y
    return wrong.mean(), conf[wrong].mean() if wrong.any() else math.nan, conf.mean()


# --------------------------------------------------------------------------- predictions


def test_predict_proba_and_labels_match_hand(softmax_model, data):
    x, _ = data
    expected = softmax(x.astype(np.float64) @ W + B)
    np.testing.assert_allclose(ev.predict_proba(softmax_model, x), expected, atol=1e-6)
    np.testing.assert_allclose(
        ev.predict_proba(softmax_model, x, batch_size=7), expected, atol=1e-6
    )
    labels = ev.predict_labels(softmax_model, x, batch_size=3)
    assert labels.dtype == np.int64 and np.array_equal(labels, expected.argmax(axis=1))
    logits = dense_model(W, B, None)
    np.testing.assert_allclose(ev.predict_proba(logits, x), expected, atol=1e-6)


def test_predictions_use_inference_mode(data):
    x, _ = data
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dropout(0.9), keras.layers.Dense(3, activation="softmax")]
    )
    model.set_weights([W, B])
    expected = softmax(x.astype(np.float64) @ W + B)
    np.testing.assert_allclose(ev.predict_proba(model, x), expected, atol=1e-6)


def test_error_and_confidences_match_hand(softmax_model, data):
    x, y = data
    err, conf_wrong, conf = hand_report(softmax(x.astype(np.float64) @ W + B), y)
    assert 0 < err < 1
    assert ev.error_rate(softmax_model, x, y) == pytest.approx(err)
    assert ev.confidence_on_mistakes(softmax_model, x, y) == pytest.approx(conf_wrong, abs=1e-6)
    assert ev.mean_confidence(softmax_model, x) == pytest.approx(conf, abs=1e-6)
    report = ev.evaluate(softmax_model, x, y, batch_size=16)
    assert (report.error, report.n) == (pytest.approx(err), 40)
    assert report.confidence_on_mistakes == pytest.approx(conf_wrong, abs=1e-6)
    assert report.confidence_clean == pytest.approx(conf, abs=1e-6)
    pct = report.as_percent()
    assert pct["error"] == pytest.approx(100 * err) and pct["n"] == 40
    one_hot = np.eye(3, dtype=np.float32)[y]
    assert ev.error_rate(softmax_model, x, one_hot) == pytest.approx(err)


def test_no_mistakes_gives_nan(softmax_model, data):
    x, _ = data
    y = ev.predict_labels(softmax_model, x)
    assert ev.error_rate(softmax_model, x, y) == 0.0
    assert math.isnan(ev.confidence_on_mistakes(softmax_model, x, y))
    assert math.isnan(ev.evaluate(softmax_model, x, y).confidence_on_mistakes)


def test_binary_logit_model_with_pm1_labels():
    model = dense_model(np.array([[1.0], [-2.0]], np.float32), np.array([0.5], np.float32), None)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [0.0, 0.0]], np.float32)
    z = x @ np.array([1.0, -2.0]) + 0.5  # [1.5, -1.5, -1.5, 0.5]
    p1 = sigmoid(z)
    np.testing.assert_allclose(ev.predict_proba(model, x), np.stack([1 - p1, p1], 1), atol=1e-6)
    y_pm = np.array([1, 1, -1, -1])  # predictions are [1, 0, 0, 1]: two mistakes
    report = ev.evaluate(model, x, y_pm)
    assert report.error == 0.5
    assert report.confidence_on_mistakes == pytest.approx(np.mean([1 - p1[1], p1[3]]), abs=1e-6)
    assert ev.error_rate(model, x, (y_pm > 0).astype(int)) == 0.5


def test_independent_outputs_confidence_is_max_output():
    # Sigmoid units that all stay small, like the RBF network: tiny confidence on mistakes.
    w = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    b = np.full(3, -5.0, np.float32)
    model = dense_model(w, b, "sigmoid")
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], np.float32)
    y = np.array([0, 0, 2])
    out = sigmoid(x @ w + b)
    pred = out.argmax(axis=1)  # [0, 1, 0]: the last two are mistakes
    np.testing.assert_allclose(ev.predict_proba(model, x), out, atol=1e-7)
    report = ev.evaluate(model, x, y)
    assert report.error == pytest.approx(2 / 3)
    expected = np.mean(out[[1, 2], pred[[1, 2]]])
    assert report.confidence_on_mistakes == pytest.approx(expected, rel=1e-5)
    assert report.confidence_on_mistakes < 0.02


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros(39, int), "`y`"),
        (np.full(40, 3), r"`y`.*\[0, 2\]"),
        (np.full(40, 0.5), "`y`"),
    ],
)
def test_bad_labels(softmax_model, data, y, match):
    x, _ = data
    with pytest.raises(ValueError, match=match):
        ev.error_rate(softmax_model, x, y)


def test_bad_inputs(softmax_model, data):
    x, y = data
    with pytest.raises(ValueError, match="`batch_size`"):
        ev.evaluate(softmax_model, x, y, batch_size=0)
    with pytest.raises(ValueError, match="`x`"):
        ev.predict_proba(softmax_model, np.zeros((0, 2), np.float32))
    with pytest.raises(ValueError, match="`output`"):
        ev.predict_proba(softmax_model, x, output="scores")
    with pytest.raises(ValueError, match="`eps`"):
        ev.attack_report(softmax_model, x, y, eps=-0.1)


# --------------------------------------------------------------------------- agreement


def test_agreement_rate():
    a = np.array([1, 2, 3, 4, 5])
    b = np.array([1, 0, 3, 0, 5])
    assert ev.agreement_rate(a, b) == pytest.approx(3 / 5)
    assert ev.agreement_rate(a, b, np.array([False, True, False, True, True])) == pytest.approx(
        1 / 3
    )
    assert math.isnan(ev.agreement_rate(a, b, np.zeros(5, bool)))
    with pytest.raises(ValueError, match="`mask`"):
        ev.agreement_rate(a, b, np.ones(5, int))
    with pytest.raises(ValueError, match="`pred_b`"):
        ev.agreement_rate(a, b[:4])
    with pytest.raises(ValueError, match="`pred_a`"):
        ev.agreement_rate(a.astype(float), b)


# --------------------------------------------------------------------------- rubbish


def test_rubbish_report_counts_and_confidence(softmax_model):
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, (200, 2)).astype(np.float32)
    p = softmax(x.astype(np.float64) @ W + B)
    fooled = p.max(axis=1) > 0.5
    report = ev.rubbish_report(softmax_model, x)
    assert 0 < fooled.sum() < 200
    assert report.error == pytest.approx(fooled.mean())
    assert report.confidence_on_mistakes == pytest.approx(p.max(axis=1)[fooled].mean(), abs=1e-6)
    expected_counts = np.bincount(p.argmax(axis=1)[fooled], minlength=3)
    assert report.class_counts.tolist() == expected_counts.tolist()
    np.testing.assert_allclose(report.class_shares, expected_counts / fooled.sum())
    assert report.n == 200 and report.as_percent()["error"] == pytest.approx(100 * fooled.mean())
    table = report.to_markdown(["a", "b", "c"])
    assert f"| a | {expected_counts[0]} |" in table
    strict = ev.rubbish_report(softmax_model, x, threshold=0.9)
    assert strict.error == pytest.approx(np.mean(p.max(axis=1) > 0.9))
    assert report.error_interval() == ev.wilson_interval(int(fooled.sum()), 200)
    low, high = report.error_interval(confidence=0.99)
    assert low < report.error < high


def test_rubbish_report_nothing_fooled_and_multilabel():
    model = dense_model(np.eye(2, dtype=np.float32), np.zeros(2, np.float32), "sigmoid")
    x = np.array([[3.0, 2.0], [-3.0, -3.0], [-1.0, 4.0]], np.float32)
    # Sigmoids: sample 0 has both outputs > .5 (counted once, for its top class 0).
    report = ev.rubbish_report(model, x)
    assert report.error == pytest.approx(2 / 3)
    assert report.class_counts.tolist() == [1, 1]
    nothing = ev.rubbish_report(model, x, threshold=1.0)
    assert nothing.error == 0.0 and math.isnan(nothing.confidence_on_mistakes)
    assert np.all(np.isnan(nothing.class_shares)) and nothing.class_counts.sum() == 0


@pytest.mark.parametrize("threshold", [0.0, -0.5, 1.5, float("nan"), "half"])
def test_rubbish_report_bad_threshold(softmax_model, threshold):
    with pytest.raises(ValueError, match="`threshold`"):
        ev.rubbish_report(softmax_model, np.zeros((2, 2), np.float32), threshold=threshold)


# --------------------------------------------------------------------------- attacks (FGSM)


def fgsm_linear_softmax(w, b, x, y, eps):
    """Closed-form FGSM for softmax regression: ∇ₓ CE = W (p − onehot(y))."""
    p = softmax(x.astype(np.float64) @ w + b)
    grad = (p - np.eye(w.shape[1])[y]) @ w.T
    return np.clip(x + eps * np.sign(grad), 0.0, 1.0)


@pytest.fixture(scope="module")
def two_models():
    rng = np.random.default_rng(5)
    w2 = rng.normal(0, 2, (2, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.5, 3).astype(np.float32)
    return {"a": dense_model(W, B, "softmax"), "b": dense_model(w2, b2, None)}, [(W, B), (w2, b2)]


def test_attack_report_matches_closed_form_fgsm(softmax_model, data):
    x, y = data
    x_adv = fgsm_linear_softmax(W, B, x, y, 0.3)
    err, conf_wrong, _ = hand_report(softmax(x_adv @ W + B), y)
    report = ev.attack_report(softmax_model, x, y, eps=0.3)
    assert report.error == pytest.approx(err)
    assert report.error > ev.error_rate(softmax_model, x, y)
    assert report.confidence_on_mistakes == pytest.approx(conf_wrong, abs=1e-5)


def test_transfer_matrix_matches_hand(two_models, data):
    x, y = data
    models, weights = two_models
    result = ev.transfer_matrix(models, x, y, eps=0.3)
    assert result.names == ("a", "b") and result.error.shape == (2, 2)
    for i, (ws, bs) in enumerate(weights):
        x_adv = fgsm_linear_softmax(ws, bs, x, y, 0.3)
        for j, (wt, bt) in enumerate(weights):
            p = softmax(x_adv @ wt + bt)
            err, conf_wrong, _ = hand_report(p, y)
            assert result.error[i, j] == pytest.approx(err)
            assert result.confidence_on_mistakes[i, j] == pytest.approx(conf_wrong, abs=1e-5)
            np.testing.assert_array_equal(result.predictions[i, j], p.argmax(axis=1))
    pa, pb = result.predictions[0, 0], result.predictions[0, 1]
    both = (pa != y) & (pb != y)
    assert result.agreement("a", "a", "b", on="both_wrong") == pytest.approx(
        np.mean(pa[both] == pb[both]) if both.any() else math.nan, nan_ok=True
    )
    assert result.agreement("a", "a", "b", on="all") == pytest.approx(np.mean(pa == pb))
    assert result.error_of("b", "a") == result.error[1, 0]
    assert "| a | " in result.to_markdown() and "%" in result.to_markdown()
    with pytest.raises(ValueError, match="`on`"):
        result.agreement("a", "a", "b", on="some")
    with pytest.raises(ValueError, match="`source`"):
        result.error_of("c", "a")
    with pytest.raises(ValueError, match="`models`"):
        ev.transfer_matrix({}, x, y, eps=0.3)


def test_ensemble_attack_matches_hand(two_models, data):
    x, y = data
    models, weights = two_models
    members = list(models.values())
    out = ev.ensemble_attack(members, x, y, eps=0.3, member=1)
    probs = [softmax(x.astype(np.float64) @ w + b) for w, b in weights]
    p_bar = np.mean(probs, axis=0)
    # ∇ₓ(−log p̄_y) = −(1/p̄_y)·(1/K)·Σ_k p_k,y · W_k (e_y − p_k)
    onehot = np.eye(3)[y]
    grad = -sum(
        pk[np.arange(40), y][:, None] * ((onehot - pk) @ w.T)
        for pk, (w, _) in zip(probs, weights, strict=True)
    )
    x_ens = np.clip(x + 0.3 * np.sign(grad), 0, 1)
    x_mem = fgsm_linear_softmax(*weights[1], x, y, 0.3)

    def ensemble_error(xa):
        pb = np.mean([softmax(xa @ w + b) for w, b in weights], axis=0)
        return np.mean(pb.argmax(axis=1) != y)

    assert out["error_clean"] == pytest.approx(np.mean(p_bar.argmax(axis=1) != y))
    assert out["error_vs_ensemble"] == pytest.approx(ensemble_error(x_ens))
    assert out["error_vs_member"] == pytest.approx(ensemble_error(x_mem))
    assert out["member_error_vs_member"] == pytest.approx(
        np.mean(softmax(x_mem @ weights[1][0] + weights[1][1]).argmax(1) != y)
    )
    assert out["n"] == 40 and out["members"] == 2 and out["member"] == 1


def test_ensemble_of_one_equals_member_attack(softmax_model, data):
    x, y = data
    out = ev.ensemble_attack([softmax_model], x, y, eps=0.25)
    assert out["error_vs_ensemble"] == out["error_vs_member"] == out["member_error_vs_member"]
    with pytest.raises(ValueError, match="`member`"):
        ev.ensemble_attack([softmax_model], x, y, eps=0.25, member=1)
    sig = dense_model(W, B, "sigmoid")
    with pytest.raises(ValueError, match="`members`"):
        ev.ensemble_attack([sig], x, y, eps=0.25)


# --------------------------------------------------------------------------- Wilson intervals


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (10, 20), (19, 20), (20, 20), (1, 1)])
def test_wilson_interval_contains_the_rate_and_matches_the_closed_form(k, n):
    low, high = ev.wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert low == pytest.approx(max(0.0, centre - half), abs=1e-12)
    assert high == pytest.approx(min(1.0, centre + half), abs=1e-12)


def test_wilson_interval_narrows_with_more_examples_and_lower_confidence():
    wide = ev.wilson_interval(18, 20)
    narrow = ev.wilson_interval(900, 1000)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    at_80 = ev.wilson_interval(18, 20, confidence=0.8)
    assert wide[0] < at_80[0] <= at_80[1] < wide[1]


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        ((21, 20), {}, "successes"),
        ((-1, 20), {}, "successes"),
        ((2.5, 20), {}, "successes"),
        ((1, 0), {}, "n"),
        ((1, 20), {"confidence": 1.0}, "confidence"),
    ],
)
def test_wilson_interval_rejects_bad_input(args, kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        ev.wilson_interval(*args, **kwargs)


# --------------------------------------------------------------------------- linearity (§4)


def test_linearity_along_sign_is_exact_for_logistic_regression():
    """One linear unit: the logit moves by exactly ε‖w‖₁ along sign(∇ₓJ), so both curves
    have closed forms, and the softplus cost, convex along the line, is above its tangent."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 1)).astype(np.float32)
    b = np.array([0.3], np.float32)
    model = dense_model(w, b, None)  # one logit: binary_logit
    x = rng.uniform(0, 1, (30, 6)).astype(np.float32)
    y = rng.integers(0, 2, 30)
    eps = [0.0, 0.05, 0.1, 0.25]
    r = ev.linearity_along_sign(model, x, y, eps)
    s = 2.0 * y - 1.0
    z = x.astype(np.float64) @ w[:, 0] + b[0]
    l1 = np.abs(w).sum()
    softplus = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    exact = [softplus(-s * z + e * l1).mean() for e in eps]
    tangent = [softplus(-s * z).mean() + e * (sigmoid(-s * z) * l1).mean() for e in eps]
    np.testing.assert_allclose(r.cost, exact, rtol=1e-5)
    np.testing.assert_allclose(r.linear, tangent, rtol=1e-5)
    np.testing.assert_allclose(r.gradient_l1, sigmoid(-s * z) * l1, rtol=1e-5)
    assert r.clean_cost == pytest.approx(exact[0], rel=1e-6)
    assert np.isnan(r.realised[0]) and np.all(r.realised[1:] >= 1.0 - 1e-6)
    assert np.all(r.cost >= r.linear - 1e-6)
    assert r.n == 30 and set(r.as_dict()) >= {"epsilons", "cost", "linear", "realised"}


def test_linearity_along_sign_first_order_for_a_smooth_network():
    """For a smooth network the gap between cost and tangent shrinks like ε²."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)]
    )
    x = np.random.default_rng(2).uniform(0, 1, (20, 5)).astype(np.float32)
    y = np.arange(20) % 3
    r = ev.linearity_along_sign(model, x, y, [0.0, 1e-3, 2e-3])
    gap = np.abs(r.cost - r.linear)
    assert gap[0] < 1e-6
    assert gap[1] < 0.05 * (r.linear[1] - r.linear[0])
    assert gap[2] == pytest.approx(4 * gap[1], rel=0.3, abs=1e-6)


def test_linearity_along_sign_rejects_bad_input(softmax_model, data):
    x, y = data
    with pytest.raises(ValueError, match="`epsilons"):
        ev.linearity_along_sign(softmax_model, x, y, [0.0, -0.1])
    with pytest.raises(ValueError, match="`y`"):
        ev.linearity_along_sign(softmax_model, x, y[:-1], [0.1])


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_sign_test_closed_forms(n):
    """All discordant digits on one side: p = 2·(½)ⁿ (capped at 1); the test is symmetric."""
    assert ev.sign_test(0, n) == pytest.approx(min(1.0, 2 * 0.5**n))
    assert ev.sign_test(n, 0) == ev.sign_test(0, n)
    assert ev.sign_test(n, n) == 1.0
    # A more uneven split of the same total is less likely under equal accuracy.
    assert ev.sign_test(0, 2 * n) < ev.sign_test(1, 2 * n - 1) <= 1.0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_sign_test_names_the_bad_count(bad):
    with pytest.raises(ValueError, match="only_a"):
        ev.sign_test(bad, 3)
