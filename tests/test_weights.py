"""Tests of advkeras.weights: the localisation measures of Fig. 3 (closed forms and properties)."""

from __future__ import annotations

import numpy as np
import pytest

from advkeras import weights


def test_effective_pixels_counts_equal_pixels_and_ignores_scale_and_sign() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 3, 17, 784):
        w = np.zeros(784)
        idx = rng.choice(784, size=n, replace=False)
        w[idx] = rng.choice([-2.5, 2.5], size=n)
        assert weights.effective_pixels(w) == pytest.approx(n)
        assert weights.effective_pixels(-7 * w) == pytest.approx(n)


def test_effective_pixels_is_between_one_and_the_pixels_counted() -> None:
    w = np.random.default_rng(1).normal(size=(5, 4, 784))
    mask = np.zeros(784, dtype=bool)
    mask[100:300] = True
    full, masked = weights.effective_pixels(w), weights.effective_pixels(w, mask=mask)
    assert full.shape == (5, 4)
    assert np.all((full >= 1) & (full <= 784))
    assert np.all((masked >= 1) & (masked <= 200))
    # The masked measure only sees the pixels in the mask.
    w2 = w.copy()
    w2[..., ~mask] = 1e3
    np.testing.assert_allclose(weights.effective_pixels(w2, mask=mask), masked)


def test_spatial_spread_closed_forms() -> None:
    w = np.zeros((3, 28 * 28))
    w[0, 5 * 28 + 7] = 1.0  # one pixel
    w[1, [0, 27]] = 1.0  # two pixels 27 columns apart: radius 13.5
    w[2, [0, 27 * 28 + 27]] = 1.0  # opposite corners: half the diagonal
    np.testing.assert_allclose(
        weights.spatial_spread(w), [0.0, 13.5, np.hypot(27, 27) / 2], atol=1e-9
    )


def test_spatial_spread_is_invariant_to_translation_and_grows_with_distance() -> None:
    img = np.zeros((28, 28))
    img[10:13, 10:13] = np.arange(9).reshape(3, 3) + 1
    moved = np.roll(img, (5, -4), axis=(0, 1))
    a, b = weights.spatial_spread(np.stack([img.ravel(), moved.ravel()]))
    assert a == pytest.approx(b)
    near, far = np.zeros(784), np.zeros(784)
    near[[0, 2]] = 1.0
    far[[0, 20]] = 1.0
    assert weights.spatial_spread(near) < weights.spatial_spread(far)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: weights.effective_pixels(np.zeros(4)), "filters"),
        (lambda: weights.effective_pixels([1.0, np.nan]), "filters"),
        (lambda: weights.effective_pixels(np.ones(4), mask=np.ones(3, bool)), "mask"),
        (lambda: weights.spatial_spread(np.ones(10), shape=(3, 3)), "filters"),
        (lambda: weights.spatial_spread(np.ones(9), shape=(3, 0)), "shape"),
    ],
)
def test_bad_input_names_the_argument(call, argument: str) -> None:
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        call()
