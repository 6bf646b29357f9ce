"""Fig. 4 of the paper: a network's logits along the fast gradient sign direction.

§8 of the paper moves one input along its FGSM direction, ``x + ε·sign(∇ₓJ)``, for ε
from −10 to 10 without clipping, and plots each class's argument to the softmax
as a function of ε. For a network made of linear pieces (maxout, ReLU) every
curve is piecewise linear in ε; the paper's point is that the pieces are broad,
so that "adversarial examples occur reliably for almost any sufficiently large
value of ε provided that we are moving in the correct direction".

:func:`logits` reads the argument to the softmax of a Keras classifier whose
top layer is a ``Dense`` layer (``"y"`` in :mod:`advkeras.models`);
:func:`sweep` computes the curves for a batch of inputs and returns a
:class:`DirectionSweep`, which measures how linear they are
(:meth:`DirectionSweep.linear_fit_r2`) and how often the network is wrong at
each ε (:meth:`DirectionSweep.error_by_eps`).

Example:

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="y")])
>>> s = sweep(model, np.ones((2, 4), "float32"), np.array([0, 1]), np.linspace(-1, 1, 5))
>>> s.logits.shape
(2, 5, 3)
>>> bool(np.all(s.linear_fit_r2("positive") > 0.999999))  # a linear model: straight lines
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from advkeras import attacks
from advkeras._validation import check_choice, check_feature_rows, check_labels, invalid

__all__ = ["DirectionSweep", "logits", "sweep"]

SIDES = ("positive", "negative", "both")


def _dense_top(model: keras.Model, layer: str) -> keras.layers.Layer:
    try:
        top = model.get_layer(layer)
    except ValueError:
        names = [lay.name for lay in model.layers]
        raise invalid("layer", f"the name of a layer of the model ({names})", layer) from None
    if not isinstance(top, keras.layers.Dense):
        raise invalid("layer", "the name of a Dense layer", f"{layer!r} ({type(top).__name__})")
    return top


def logits(model: keras.Model, x: Any, *, layer: str = "y", batch_size: int = 1000) -> np.ndarray:
    """The argument to the softmax: the Dense layer ``layer`` without its activation.

    Args:
        model: a Keras functional or sequential classifier with a ``Dense`` layer named
            ``layer`` (the top layer ``"y"`` of :func:`advkeras.models.maxout_mlp` and
            :func:`advkeras.models.shallow_softmax`).
        x: inputs, shape ``(N, features)``.
        layer: the name of the Dense layer.
        batch_size: examples per forward pass.

    Returns:
        ``float64`` array ``(N, units)``: ``h @ W + b``, where ``h`` is the layer's input.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential(
    ...     [keras.Input((2,)), keras.layers.Dense(2, activation="softmax", name="y")]
    ... )
    >>> _ = model.get_layer("y").set_weights([np.eye(2, dtype="float32"), np.zeros(2, "float32")])
    >>> logits(model, np.array([[1.0, -3.0]])).tolist()  # the softmax's argument, not p
    [[1.0, -3.0]]
    """
    top = _dense_top(model, layer)
    arr = check_feature_rows(x)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise invalid("batch_size", "a positive integer", batch_size)
    hidden = keras.Model(model.inputs[0], top.input)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in top.get_weights()[:2])
    out = []
    for start in range(0, len(arr), batch_size):
        h = np.asarray(hidden(arr[start : start + batch_size], training=False), dtype=np.float64)
        out.append(h @ kernel + bias)
    return np.concatenate(out)


@dataclass(frozen=True, eq=False)
class DirectionSweep:
    """Logits of ``x + ε·d`` for a batch of inputs ``x`` and their FGSM directions ``d``.

    Attributes:
        epsilons: the ε values, shape ``(E,)``, sorted.
        logits: ``(N, E, K)``: the argument to the softmax at each ε.
        labels: the true classes ``(N,)``.
        x: the clean inputs ``(N, D)``.
        directions: ``sign(∇ₓJ(x, y))``, ``(N, D)``.
    """

    epsilons: np.ndarray
    logits: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    directions: np.ndarray = field(repr=False)

    @property
    def predictions(self) -> np.ndarray:
        """The predicted class at each ε, ``(N, E)``."""
        return self.logits.argmax(axis=-1)

    @property
    def correct(self) -> np.ndarray:
        """Whether the prediction at each ε is the true class, ``(N, E)``."""
        return self.predictions == self.labels[:, None]

    def inputs(self, index: int) -> np.ndarray:
        """The ``E`` inputs ``x + ε·d`` of example ``index`` (unclipped), ``(E, D)``."""
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise invalid("index", f"an example index in [0, {len(self.x) - 1}]", index)
        if not 0 <= index < len(self.x):
            raise invalid("index", f"an example index in [0, {len(self.x) - 1}]", index)
        return self.x[index][None, :] + self.epsilons[:, None] * self.directions[index][None, :]

    def error_by_eps(self) -> np.ndarray:
        """The fraction of the ``N`` examples misclassified at each ε, ``(E,)``."""
        return 1.0 - self.correct.mean(axis=0)

    def _side(self, side: str) -> np.ndarray:
        side = check_choice(side, SIDES, "side")
        keep = {
            "positive": self.epsilons >= 0,
            "negative": self.epsilons <= 0,
            "both": np.ones(self.epsilons.shape, dtype=bool),
        }[side]
        if keep.sum() < 3:
            raise invalid("side", "a side with at least 3 epsilons", side)
        return keep

    def linear_fit_r2(self, side: str = "positive") -> np.ndarray:
        """R² of a straight line fitted to each logit curve over one side of ε = 0.

        1 means the logit is exactly linear in ε there; a piecewise-linear curve
        with one broad piece scores close to 1.

        Args:
            side: ``"positive"`` (ε >= 0, along the gradient's sign), ``"negative"``
                (ε <= 0) or ``"both"``.

        Returns:
            ``(N, K)``; a curve that is constant on the side scores 1.
        """
        keep = self._side(side)
        e = self.epsilons[keep]
        z = self.logits[:, keep, :]
        ec = e - e.mean()
        zc = z - z.mean(axis=1, keepdims=True)
        slope = np.einsum("e,nek->nk", ec, zc) / np.sum(ec**2)
        resid = zc - slope[:, None, :] * ec[None, :, None]
        total = np.sum(zc**2, axis=1)
        ss = np.sum(resid**2, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = np.where(total > 0, 1.0 - ss / np.where(total > 0, total, 1.0), 1.0)
        return r2

    def slopes(self, side: str = "positive") -> np.ndarray:
        """The least-squares slope of each logit in ε over one side, ``(N, K)``."""
        keep = self._side(side)
        e = self.epsilons[keep]
        ec = e - e.mean()
        z = self.logits[:, keep, :]
        return np.einsum("e,nek->nk", ec, z - z.mean(axis=1, keepdims=True)) / np.sum(ec**2)


def sweep(
    model: keras.Model,
    x: Any,
    y: Any,
    epsilons: Any,
    *,
    layer: str = "y",
    batch_size: int = 1000,
) -> DirectionSweep:
    """Fig. 4: the logits of ``model`` at ``x + ε·sign(∇ₓJ(x, y))`` for every ε, unclipped.

    Args:
        model: a classifier with a ``Dense`` top layer named ``layer``.
        x: clean inputs ``(N, D)``.
        y: their true classes ``(N,)``.
        epsilons: the ε values (any sign; the paper: −10 to 10), at least 2, finite.
        layer: the name of the Dense layer whose pre-activation is read.
        batch_size: inputs per forward pass.

    Returns:
        A :class:`DirectionSweep` (epsilons sorted).
    """
    arr = check_feature_rows(x)
    top = _dense_top(model, layer)
    labels = check_labels(y, len(arr), int(top.units))
    eps = np.asarray(epsilons, dtype=np.float64)
    if eps.ndim != 1 or eps.size < 2 or not np.all(np.isfinite(eps)):
        raise invalid("epsilons", "a 1-D sequence of at least 2 finite numbers", epsilons)
    eps = np.sort(eps)
    directions = np.sign(attacks.input_gradient(model, arr, labels)).astype(np.float32)
    moved = arr[:, None, :] + eps[None, :, None].astype(np.float32) * directions[:, None, :]
    z = logits(model, moved.reshape(-1, arr.shape[1]), layer=layer, batch_size=batch_size)
    return DirectionSweep(
        epsilons=eps,
        logits=z.reshape(len(arr), eps.size, -1),
        labels=labels,
        x=arr,
        directions=directions,
    )
