r"""Projected gradient descent (Madry et al. 2018): FGSM iterated inside the ε-ball.

Madry, Makelov, Schmidt, Tsipras & Vladu (2018) read adversarial training as a
saddle-point problem and attack its inner maximisation with projected gradient
steps from a random point of the ball:

.. math::

    x^{0} = \Pi\left(x + \delta_0\right),\ \delta_0 \sim U(B_\epsilon), \qquad
    x^{t+1} = \Pi\left(x^{t} + a \cdot \operatorname{sign}\left(\nabla_x J(\theta, x^{t}, y)\right)\right),

where Π projects onto the ε-ball around ``x`` and then into the clip box. Each
step is an FGSM step of size ``a`` (:func:`advkeras.attacks.core.optimize_linear`),
so with one step, no random start and ``a = ε`` PGD *is* FGSM
(:func:`advkeras.attacks.fgsm`), bit for bit. With ``norm=2`` the steps are
a·g/‖g‖₂ and the projection scales η back to length ε.

The k steps run in one compiled function per model and input shape: a
``tf.while_loop`` under XLA for dense models, where ε, a, k and the clip
bounds are tensor arguments, so a sweep over them never retraces; the steps
written out one by one in the graph runtime for models with convolutions,
where a new k traces again (:func:`advkeras.attacks.compiled.unrolled_steps`). The random start is drawn in
NumPy from ``seed`` (:func:`random_ball`), for the whole array at once, so the
same seed gives the same examples whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras._validation import check_clip, check_eps, check_norm, invalid
from advkeras.attacks._inputs import (
    as_array,
    batches,
    check_batch_size,
    check_bool,
    check_loss,
    check_number,
    check_tensor_values,
    check_values,
    class_labels,
    clip_tensors,
    float32,
    make_rng,
)
from advkeras.attacks.compiled import pgd_function, unrolled_steps
from advkeras.losses import resolve_output_kind

__all__ = ["PGDMonitor", "pgd", "random_ball"]


def random_ball(shape: Any, eps: float, norm: Any = "inf", seed: Any = None) -> np.ndarray:
    """δ₀ drawn uniformly from the ε-ball of ``norm``, one per example: PGD's random start.

    ``"inf"``: U(−ε, ε) per component (Madry et al. 2018). ``2``: uniform in the
    L2 ball of each example (a Gaussian direction, radius ε·u^(1/d), as
    CleverHans' ``random_lp_vector``).

    Args:
        shape: (N, ...) the shape of the inputs.
        eps: ε >= 0.
        norm: ``"inf"`` or ``2``.
        seed: ``None``, an int or a ``numpy.random.Generator``.

    Returns:
        A float32 array of ``shape``.

    Example:
        >>> d = random_ball((3, 4), 0.1, seed=0)
        >>> bool(np.abs(d).max() <= 0.1), d.dtype.name
        (True, 'float32')
        >>> bool((np.linalg.norm(random_ball((5, 9), 0.5, 2, seed=1), axis=1) <= 0.5).all())
        True
    """
    eps = check_eps(eps)
    norm = _check_pgd_norm(norm)
    rng = make_rng(seed)
    shape = tuple(int(s) for s in shape)
    if norm == "inf":
        return rng.uniform(-eps, eps, size=shape).astype(np.float32)
    n = shape[0] if shape else 0
    d = int(np.prod(shape[1:], dtype=np.int64))
    direction = rng.standard_normal((n, d))
    length = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = np.divide(direction, length, out=np.zeros_like(direction), where=length > 0)
    radius = eps * rng.random((n, 1)) ** (1.0 / max(d, 1))
    return (direction * radius).reshape(shape).astype(np.float32)


def _check_pgd_norm(norm: Any) -> str | int:
    checked = check_norm(norm)
    if checked == 1:
        raise invalid("norm", "'inf' (or numpy.inf) or 2 (PGD has no L1 step here)", norm)
    return checked


def pgd(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int = 40,
    random_start: bool = True,
    seed: Any = None,
    targeted: bool = False,
    norm: str | int | float = "inf",
    clip: tuple[float, float] | None = (0.0, 1.0),
    loss: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
    output: str | None = None,
    batch_size: int | None = None,
    keep_best: bool = False,
) -> Any:
    """Projected gradient descent: ``steps`` FGSM steps of ``step_size``, projected on the ε-ball.

    Madry et al. (2018)'s attack (with ``random_start=False``, Kurakin et al.
    (2017)'s basic iterative method). The labels are fixed before the first
    step: the true (or target) labels ``y``, or the model's predictions on the
    clean ``x``. The model runs in inference mode.

    Args:
        model: a Keras classifier with one output of shape (N, K).
        x: inputs, a NumPy array (N, ...) (returns a NumPy float32 array) or a
            ``tf.Tensor`` (returns a ``tf.Tensor``).
        y: labels as for :func:`advkeras.attacks.fgsm`; ``None``: the model's
            predictions on ``x``.
        eps: ε >= 0, the radius of the ball (max norm, or L2 with ``norm=2``).
        step_size: a > 0, the size of each step; default 2.5·ε/``steps``
            (Madry et al.'s rule of thumb, enough to cross the ball).
        steps: k >= 1, the number of gradient steps.
        random_start: start from x + δ₀, δ₀ uniform in the ε-ball
            (:func:`random_ball`); ``False`` starts from ``x``.
        seed: seed of the random start (``None``, an int or a NumPy Generator).
        targeted: ``y`` is the target class and every step lowers its cost.
        norm: ``"inf"`` (sign steps, the paper's norm) or ``2``.
        clip: ``(min, max)`` box of the inputs and of the result, or ``None``.
        loss: optional per-example cost ``loss(y_int, y_pred) -> (N,)``.
        output: the output kind, when it cannot be read from the model.
        batch_size: examples per compiled call (default 1000).
        keep_best: return, for each example, the point of highest cost (lowest
            for ``targeted``) among FGSM's example (:func:`advkeras.attacks.fgsm`
            at the same ε), the start and every iterate, instead of the last
            iterate. The result is then never weaker than FGSM, example by
            example; it costs one more forward+backward pass and two forward
            passes per batch. Without it, PGD's small steps can end below FGSM's
            corner of the ball on a few examples.

    Returns:
        The adversarial examples, in the type of ``x``: ‖x̃ − x‖ ≤ ε (up to
        float rounding) and x̃ inside ``clip``.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> x = np.full((2, 4), 0.5, dtype="float32")
        >>> x_adv = pgd(model, x, np.array([0, 2]), eps=0.1, steps=5, seed=0)
        >>> float(np.abs(x_adv - x).max()) <= 0.1 + 1e-6
        True
    """
    eps = check_eps(eps)
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise invalid("steps", "a positive integer", steps)
    steps = int(steps)
    if step_size is None:
        step_size = 2.5 * eps / steps
    else:
        step_size = check_number(step_size, "step_size", "a finite number > 0")
        if step_size <= 0:
            raise invalid("step_size", "a finite number > 0", step_size)
    norm = _check_pgd_norm(norm)
    clip = check_clip(clip)
    random_start_ = check_bool(random_start, "random_start")
    targeted = check_bool(targeted, "targeted")
    loss = check_loss(loss)
    batch_size = check_batch_size(batch_size)
    keep_best = check_bool(keep_best, "keep_best")
    rng = make_rng(seed)
    kind = resolve_output_kind(model, output)
    if isinstance(x, tf.data.Dataset):
        raise invalid("x", "a NumPy array or a tf.Tensor", "a tf.data.Dataset")
    if targeted and y is None:
        raise invalid("y", "the target labels when targeted=True", None)
    tensor = tf.is_tensor(x)
    if tensor:
        check_tensor_values(x, clip)
    arr = as_array(x)
    if not tensor:
        check_values(arr, clip)
    n = arr.shape[0]
    labels = None if y is None else class_labels(y, kind, n, model)
    if eps == 0.0:
        out = arr.astype(np.float32, copy=True)
        return tf.constant(out) if tensor else out
    start = random_ball(arr.shape, eps, norm, rng) if random_start_ else None
    fn = pgd_function(
        model,
        kind,
        loss,
        norm,
        targeted,
        clip is not None,
        y is None,
        arr.shape[1:],
        keep_best,
        unrolled_steps(model, steps),
    )
    eps_t = tf.constant(eps, tf.float32)
    step_t = tf.constant(step_size, tf.float32)
    steps_t = tf.constant(steps, tf.int32)
    low, high = clip_tensors(clip)
    empty = tf.zeros([0], tf.int64)
    result = np.empty(arr.shape, dtype=np.float32)
    for lo, hi in batches(n, batch_size):
        xb = float32(arr[lo:hi])
        yb = empty if labels is None else tf.constant(labels[lo:hi])
        eta0 = tf.zeros_like(xb) if start is None else tf.constant(start[lo:hi])
        result[lo:hi] = fn(xb, yb, eta0, eps_t, step_t, steps_t, low, high).numpy()
    return tf.constant(result) if tensor else result


@keras.saving.register_keras_serializable(package="advkeras")
class PGDMonitor(keras.callbacks.Callback):
    """Log the PGD error of held-out examples after every epoch: ``val_pgd_error``.

    What shows "catastrophic overfitting" (Wong, Rice & Kolter 2020): FGSM
    training whose FGSM validation error keeps falling while the error under
    PGD jumps up. The attack runs on the base classifier (the
    :class:`~advkeras.training.AdversarialModel`'s ``base_model`` when fitting
    one), from the same random start at every epoch (``seed``); the value is
    added to the epoch's logs, so Keras' ``History`` records it.

    Args:
        x, y: the held-out examples and their true labels.
        eps: ε of the attack.
        steps: k, the PGD steps.
        step_size: a; default 2.5ε/k.
        seed: seed of the random start.
        clip: the box, as in :func:`pgd`.
        name: the log key (default ``"val_pgd_error"``).

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        >>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        >>> x = np.random.default_rng(0).random((12, 4), dtype="float32"); y = np.arange(12) % 3
        >>> monitor = PGDMonitor(x, y, eps=0.1, steps=3)
        >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
        >>> len(history.history["val_pgd_error"])
        2
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        *,
        eps: float,
        steps: int = 10,
        step_size: float | None = None,
        seed: int = 0,
        clip: tuple[float, float] | None = (0.0, 1.0),
        name: str = "val_pgd_error",
    ) -> None:
        super().__init__()
        self.x = as_array(x)
        self.y = np.asarray(y)
        if len(self.y) != len(self.x):
            raise invalid(
                "y", f"{len(self.x)} labels, one per example of x", f"{len(self.y)} labels"
            )
        self.eps = check_eps(eps)
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
            raise invalid("steps", "a positive integer", steps)
        self.steps = int(steps)
        self.step_size = None if step_size is None else float(step_size)
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise invalid("seed", "an integer", seed)
        self.seed = int(seed)
        self.clip = check_clip(clip)
        self.name = str(name)

    def get_config(self) -> dict[str, Any]:
        """The attack's settings (not the data: a cache key describes it apart)."""
        return {
            "eps": self.eps,
            "steps": self.steps,
            "step_size": self.step_size,
            "seed": self.seed,
            "clip": None if self.clip is None else list(self.clip),
            "name": self.name,
            "n": len(self.x),
        }

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Attack the held-out examples and add the error to ``logs``."""
        model = getattr(self.model, "base_model", self.model)
        x_adv = pgd(
            model,
            self.x,
            self.y,
            eps=self.eps,
            steps=self.steps,
            step_size=self.step_size,
            seed=self.seed,
            clip=self.clip,
        )
        from advkeras.evaluation import error_rate  # evaluation imports the attacks

        if logs is not None:
            logs[self.name] = error_rate(model, x_adv, self.y)
