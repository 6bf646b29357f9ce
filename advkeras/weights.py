"""How localised a layer's filters are: the measure behind Fig. 3's "more localized" (§6, C18).

The paper shows the first-layer weights of the naive and the adversarially
trained maxout network and calls the latter "significantly more localized and
interpretable". Two numbers per filter w (one piece of a maxout unit, as an
image) make that checkable:

- :func:`effective_pixels`: the participation ratio (Σwᵢ²)² / Σwᵢ⁴, the number
  of pixels the filter's energy is spread over (1 for a single pixel, n for n
  pixels of equal absolute weight);
- :func:`spatial_spread`: the radius of gyration of the energy wᵢ² in the image
  plane, in pixels: how far from its centre the filter's energy lies
  (0 for a single pixel, d/2 for two equal pixels d apart).

Both take a ``mask`` of the pixels to count, e.g. the pixels that are not
blank in every training image (the naive network never gets a gradient on
the others, so they keep their initial values).

Example:

>>> import numpy as np
>>> w = np.zeros(784); w[[0, 2]] = 1.0
>>> float(effective_pixels(w)), float(spatial_spread(w))
(2.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from advkeras._validation import invalid

__all__ = ["effective_pixels", "spatial_spread"]


def _filters(filters: Any, mask: Any, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(filters, dtype=np.float64)
    if w.ndim < 1 or w.shape[-1] == 0:
        raise invalid("filters", "an array (..., D) of filters with D >= 1", f"shape {w.shape}")
    if size is not None and w.shape[-1] != size:
        raise invalid("filters", f"filters of {size} values (the image shape)", f"shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise invalid("filters", "finite values", "an array with NaN or inf")
    if mask is None:
        keep = np.ones(w.shape[-1], dtype=bool)
    else:
        keep = np.asarray(mask)
        if keep.dtype != bool or keep.shape != (w.shape[-1],):
            raise invalid("mask", f"None or a boolean array of shape ({w.shape[-1]},)", keep.shape)
    energy = np.where(keep, w**2, 0.0)
    if np.any(energy.sum(axis=-1) == 0):
        raise invalid("filters", "filters with a nonzero weight inside the mask", "a zero filter")
    return energy, keep


def effective_pixels(filters: Any, *, mask: Any = None) -> np.ndarray:
    """Participation ratio (Σwᵢ²)² / Σwᵢ⁴ of each filter over the pixels in ``mask``.

    Args:
        filters: (..., D) filters, e.g. a maxout layer's ``unit_filters()``
            (units, pieces, 784).
        mask: None (every pixel) or a boolean (D,) array of the pixels to count.

    Returns:
        An array of shape ``filters.shape[:-1]`` with values in [1, number of pixels counted].

    Example:

    >>> effective_pixels([[1.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, -1.0]])
    array([1., 4.])
    """
    energy, _ = _filters(filters, mask)
    return energy.sum(axis=-1) ** 2 / (energy**2).sum(axis=-1)


def spatial_spread(
    filters: Any, *, shape: Sequence[int] = (28, 28), mask: Any = None
) -> np.ndarray:
    """Radius of gyration, in pixels, of each filter's energy wᵢ² in the image plane.

    sqrt(Σ pᵢ‖rᵢ − r̄‖²) with pᵢ = wᵢ² / Σwⱼ² and r̄ = Σ pᵢrᵢ, rᵢ the (row,
    column) of pixel i.

    Args:
        filters: (..., H·W) filters.
        shape: (H, W), the image shape.
        mask: None or a boolean (H·W,) array of the pixels to count.

    Returns:
        An array of shape ``filters.shape[:-1]``, >= 0.

    Example:

    >>> w = np.zeros((2, 9)); w[0, 4] = 3.0; w[1, [0, 8]] = 1.0  # centre; two corners
    >>> spatial_spread(w, shape=(3, 3)).round(4)
    array([0.    , 1.4142])
    """
    if (
        not isinstance(shape, Sequence)
        or len(shape) != 2
        or not all(isinstance(s, int) and s > 0 for s in shape)
    ):
        raise invalid("shape", "a pair (height, width) of positive ints", shape)
    energy, _ = _filters(filters, mask, size=shape[0] * shape[1])
    p = energy / energy.sum(axis=-1, keepdims=True)
    rows, cols = np.divmod(np.arange(shape[0] * shape[1]), shape[1])
    coords = np.stack([rows, cols], axis=-1).astype(np.float64)  # (D, 2)
    centre = p @ coords  # (..., 2)
    second = p @ (coords**2).sum(axis=-1)  # E‖r‖²
    variance = second - (centre**2).sum(axis=-1)
    return np.sqrt(np.maximum(variance, 0.0))
