r"""The perturbation core: every attack and adversarial training step is built from it.

The paper's perturbations share four pieces, written here once, as graph code
(TensorFlow ops that run eagerly, inside a ``tf.function`` or under XLA), in the
style of CleverHans v4's ``compute_gradient`` and ``optimize_linear``:

1. **The cost and its labels.** J(θ, x, y) is the per-example loss of
   :mod:`advkeras.losses` for the model's output kind. Its labels are the true
   classes (:func:`labels_to_indices` reads class indices, one-hot rows, and
   {0, 1} or {−1, +1} for one binary unit), the model's own predictions
   (:func:`predicted_classes`, so that the true label does not leak into an
   attack), or target classes (:func:`least_likely_classes`, or any class id).
2. **The input gradient** ∇ₓΣᵢJ(xᵢ, yᵢ) (:func:`loss_gradient`). The loss is summed
   over the batch, so each example's gradient is the gradient of its own loss.
3. **The step per norm** (:func:`direction`, :func:`optimize_linear`): the
   perturbation of norm ε that increases the linearised cost most,
   η = ε·sign(g) for the max norm (the fast gradient sign method),
   η = ε·g/‖g‖₂ per example for the L2 norm, ε on the coordinate(s) of largest
   ``|g|`` for the L1 norm. A targeted step descends the target's cost instead.
4. **Projection and clipping**: :func:`perturb` adds η and clips x + η into the
   data box; :func:`clip_eta` projects η onto the ε-ball of a norm, and
   :func:`project` a point onto the ε-ball around x and the box (what an
   iterative attack, :func:`advkeras.attacks.pgd`, needs between steps).

The FGSM of :mod:`advkeras.attacks.fgsm`, the noise controls and the fooling
step of :mod:`advkeras.attacks.noise`, the rotation of
:mod:`advkeras.attacks.rotation` and :class:`advkeras.training.AdversarialModel`
all call these functions, so that they compute the same numbers.

Norms are named as ``advkeras._validation.check_norm`` returns them:
``"inf"``, ``1`` or ``2`` (``np.inf`` and ``"linf"`` are read as ``"inf"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from advkeras._validation import check_norm
from advkeras.losses import per_example_loss

__all__ = [
    "clip_eta",
    "direction",
    "forward",
    "label_checks",
    "labels_to_indices",
    "least_likely_classes",
    "log_probability",
    "loss_gradient",
    "optimize_linear",
    "perturb",
    "predicted_classes",
    "project",
    "random_eta",
]

PROB_EPS = 1e-7
"""Probabilities are clipped to [PROB_EPS, 1] before a logarithm."""


# --------------------------------------------------------------------------- the model and its labels


def forward(model: Callable[..., Any], x: tf.Tensor, *, training: bool = False) -> tf.Tensor:
    """The model's outputs as float32 (a ``mixed_float16`` model's outputs are cast).

    Args:
        model: a Keras model (or any callable ``model(x, training=...)``).
        x: a batch of inputs.
        training: the mode the model runs in (dropout on when True).

    Returns:
        A float32 tensor, the model's output.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> forward(model, np.ones((4, 2), "float32")).dtype.name
        'float32'
    """
    out = model(x, training=training)
    if out.dtype != tf.float32:  # mixed precision
        out = tf.cast(out, tf.float32)
    return out


def labels_to_indices(y: Any, kind: str, *, dtype: tf.DType = tf.int64) -> tf.Tensor:
    """Labels as integer class indices, the form that every loss of :mod:`advkeras.losses` takes.

    Binary kinds (one output unit): labels (N,) or (N, 1) in {0, 1} or {−1, +1}
    become {0, 1} (1 where the label is > 0). Other kinds: class indices (N,)
    or (N, 1), or one-hot rows (N, K) (read with ``argmax``). Nothing is checked
    here (see :func:`label_checks`).

    Args:
        y: labels, a tensor or anything ``tf.convert_to_tensor`` takes.
        kind: the output kind (:data:`advkeras.losses.OUTPUT_KINDS`).
        dtype: the integer dtype of the result.

    Returns:
        A (N,) tensor of ``dtype``.

    Example:
        >>> labels_to_indices([[0, 0, 1], [1, 0, 0]], "logits").numpy().tolist()
        [2, 0]
        >>> labels_to_indices([-1, 1, 1], "binary_logit").numpy().tolist()
        [0, 1, 1]
    """
    y = tf.convert_to_tensor(y)
    if kind.startswith("binary"):
        if y.shape.rank == 2:
            y = y[:, 0]
        if not (y.dtype.is_floating or y.dtype.is_integer):
            y = tf.cast(y, tf.float32)
        return tf.cast(y > 0, dtype)
    if y.shape.rank == 2 and y.shape[-1] == 1:
        y = y[:, 0]
    elif y.shape.rank == 2:
        y = tf.argmax(y, axis=-1)
    return tf.cast(y, dtype)


def label_checks(y: tf.Tensor, kind: str, n_outputs: int) -> list[Any]:
    """``tf.debugging.Assert`` ops that fail, when run, on labels a model cannot take.

    For labels read in a graph (e.g. a ``tf.data`` pipeline), where NumPy's
    checks of :func:`advkeras.losses.labels_for` cannot run: binary labels must
    lie in {0, 1} or {−1, +1}, class indices in [0, n_outputs). The messages
    start with ```y```.

    Args:
        y: the labels as given to :func:`labels_to_indices`.
        kind: the output kind.
        n_outputs: the model's number of outputs K.

    Returns:
        A list of ops to run first (``tf.control_dependencies``).

    Example:
        >>> import tensorflow as tf
        >>> len(label_checks(tf.constant([0, 2]), "logits", 3))  # eagerly: checked at once
        1
    """
    y = tf.convert_to_tensor(y)
    if kind.startswith("binary"):
        values = tf.cast(y[:, 0] if y.shape.rank == 2 else y, tf.float32)
        ok = tf.reduce_all((values == 0.0) | (values == 1.0) | (values == -1.0))
        return [tf.debugging.Assert(ok, ["`y`: expected binary labels in {0, 1} or {-1, +1}"])]
    indices = labels_to_indices(y, kind)
    ok = tf.reduce_all((indices >= 0) & (indices < n_outputs))
    return [tf.debugging.Assert(ok, [f"`y`: expected class indices in [0, {n_outputs - 1}]"])]


def predicted_classes(out: tf.Tensor, kind: str, *, dtype: tf.DType = tf.int64) -> tf.Tensor:
    """The class a model predicts from its outputs: argmax, or p(y=1|x) > 0.5 for one binary unit.

    The graph twin of :func:`advkeras.losses.predicted_labels` (same rule).

    Args:
        out: (N, K) model outputs (float32).
        kind: the output kind.
        dtype: the integer dtype of the result.

    Returns:
        A (N,) tensor of ``dtype``.

    Example:
        >>> predicted_classes([[0.1, 2.0, -1.0]], "logits").numpy().tolist()
        [1]
        >>> predicted_classes([[0.3], [-0.2]], "binary_logit").numpy().tolist()
        [1, 0]
    """
    out = tf.convert_to_tensor(out)
    if kind == "binary_logit":
        return tf.cast(out[:, 0] > 0.0, dtype)
    if kind == "binary_probability":
        return tf.cast(out[:, 0] > 0.5, dtype)
    return tf.cast(tf.argmax(out, axis=-1), dtype)


def least_likely_classes(out: tf.Tensor, kind: str, *, dtype: tf.DType = tf.int64) -> tf.Tensor:
    """The class the model finds least likely: a target for a targeted step.

    Kurakin et al. (2017)'s "least-likely class": argmin of the outputs (every
    kind's outputs rise with the class probability); for one binary unit, the
    class that is not predicted.

    Args:
        out: (N, K) model outputs (float32).
        kind: the output kind.
        dtype: the integer dtype of the result.

    Returns:
        A (N,) tensor of ``dtype``.

    Example:
        >>> least_likely_classes([[0.1, 2.0, -1.0]], "logits").numpy().tolist()
        [2]
        >>> least_likely_classes([[0.9]], "binary_probability").numpy().tolist()
        [0]
    """
    out = tf.convert_to_tensor(out)
    if kind.startswith("binary"):
        return 1 - predicted_classes(out, kind, dtype=dtype)
    return tf.cast(tf.argmin(out, axis=-1), dtype)


def log_probability(out: tf.Tensor, labels: tf.Tensor, kind: str) -> tf.Tensor:
    """log p(label | x) for each example (for ``"independent"`` outputs: the label's own output).

    Args:
        out: (N, K) model outputs (float32).
        labels: (N,) integer labels ({0, 1} for binary kinds).
        kind: the output kind.

    Returns:
        A (N,) float32 tensor.

    Example:
        >>> import numpy as np
        >>> float(np.exp(log_probability([[0.0, 0.0]], [1], "logits")[0]))
        0.5
    """
    out = tf.convert_to_tensor(out, tf.float32)
    if kind == "independent":
        p = tf.gather(out, labels, axis=1, batch_dims=1)
        return tf.math.log(tf.clip_by_value(p, PROB_EPS, 1.0))
    # For the other kinds the loss is exactly −log p(y | x).
    return -per_example_loss(kind)(labels, out)


# --------------------------------------------------------------------------- the gradient


def loss_gradient(
    model: Callable[..., Any],
    x: tf.Tensor,
    y: tf.Tensor | None,
    kind: str,
    *,
    loss_fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None = None,
    training: bool = False,
    per_example: bool = False,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """∇ₓ Σᵢ J(xᵢ, yᵢ): the input gradient of the cost, one backward pass for the batch.

    Args:
        model: a Keras model (or a callable ``model(x, training=...)``); ``x``
            need not be the model's input: any tensor the outputs depend on
            (a hidden layer's activations, with the head of the network as
            ``model``).
        x: the tensor to differentiate with respect to (float).
        y: (N,) integer labels (:func:`labels_to_indices`), or ``None`` for the
            model's own predictions (:func:`predicted_classes`).
        kind: the output kind.
        loss_fn: per-example cost ``loss_fn(y, out) -> (N,)``; default
            :func:`advkeras.losses.per_example_loss` of ``kind``.
        training: the mode the model runs in.
        per_example: return the (N,) costs Jᵢ instead of their sum (the
            gradient is the same).

    Returns:
        ``(gradient, total, labels)``: the gradient (shaped like ``x``), the
        summed cost Σᵢ J (float32 scalar; the (N,) costs with
        ``per_example=True``) and the labels used.

    Example:
        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.set_weights([np.array([[1.0], [-2.0]]), np.zeros(1)])
        >>> g, _, _ = loss_gradient(model, tf.zeros((1, 2)), tf.constant([1]), "binary_logit")
        >>> g.numpy().tolist()  # −σ(−z)·w at z = 0
        [[-0.5, 1.0]]
    """
    loss_fn = per_example_loss(kind) if loss_fn is None else loss_fn
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = forward(model, x, training=training)
        if y is None:
            y = predicted_classes(out, kind)
        costs = tf.cast(loss_fn(y, out), tf.float32)
        total = tf.reduce_sum(costs)
    return tape.gradient(total, x), costs if per_example else total, y


# --------------------------------------------------------------------------- the step per norm


def direction(grad: tf.Tensor, norm: Any = "inf") -> tf.Tensor:
    """The unit-norm step that increases the linearised cost most, per example.

    ``"inf"``: sign(g) (FGSM). ``2``: g/‖g‖₂, each example flattened. ``1``:
    ±1 on the coordinate(s) of largest ``|g|`` (shared equally when several tie).
    A zero gradient gives a zero step. For the L2 and L1 norms the gradient is
    first divided by its largest ``|gᵢ|``, so that a tiny gradient does not
    underflow.

    Args:
        grad: (N, ...) gradient.
        norm: ``"inf"`` (or ``np.inf``), ``1`` or ``2``.

    Returns:
        A float32 tensor shaped like ``grad``.

    Example:
        >>> direction([[3.0, -4.0]]).numpy().tolist()
        [[1.0, -1.0]]
        >>> direction([[3.0, -4.0]], 2).numpy().astype(float).round(6).tolist()
        [[0.6, -0.8]]
    """
    norm = check_norm(norm)
    g = tf.convert_to_tensor(grad)
    if g.dtype != tf.float32:
        g = tf.cast(g, tf.float32)
    if norm == "inf":
        return tf.sign(g)
    flat = tf.reshape(g, [tf.shape(g)[0], -1])
    scale = tf.reduce_max(tf.abs(flat), axis=1, keepdims=True)
    flat = tf.math.divide_no_nan(flat, scale)  # avoids underflow of tiny gradients
    if norm == 2:
        length = tf.norm(flat, axis=1, keepdims=True)
        step = tf.math.divide_no_nan(flat, length)
    else:
        magnitude = tf.abs(flat)
        top = tf.logical_and(
            tf.equal(magnitude, tf.reduce_max(magnitude, axis=1, keepdims=True)), magnitude > 0
        )
        mask = tf.cast(top, flat.dtype)
        count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        step = tf.sign(flat) * mask / count
    return tf.reshape(step, tf.shape(g))


def optimize_linear(
    grad: tf.Tensor, eps: Any, norm: Any = "inf", *, targeted: bool = False
) -> tf.Tensor:
    """η = ε·:func:`direction`\\ (g): the norm-ε perturbation that maximises the linearised cost.

    Args:
        grad: (N, ...) gradient of the cost.
        eps: ε, a number or a float32 scalar tensor.
        norm: ``"inf"``, ``1`` or ``2``.
        targeted: descend instead (η = ε·direction(−g)): ``grad`` is the
            gradient of the *target's* cost, which the step lowers.

    Returns:
        η, a float32 tensor shaped like ``grad``.

    Example:
        >>> optimize_linear([[0.2, -3.0, 0.0]], 0.25).numpy().tolist()
        [[0.25, -0.25, 0.0]]
        >>> optimize_linear([[0.2, -3.0, 0.0]], 0.25, targeted=True).numpy().tolist()
        [[-0.25, 0.25, 0.0]]
    """
    g = tf.convert_to_tensor(grad)
    if targeted:
        g = -g
    return eps * direction(g, norm)


def random_eta(shape: Any, eps: float, noise: str, seed: Any = None) -> tf.Tensor:
    """Random η of max norm ε: the §6 controls, drawn with ``keras.random``.

    ``noise="sign_noise"``: ±ε per component, each sign with probability ½ (FGSM's
    step size in a random orthant). ``noise="uniform_noise"``: U(−ε, ε) per
    component.

    Args:
        shape: the shape of η.
        eps: ε >= 0.
        noise: ``"sign_noise"`` or ``"uniform_noise"``.
        seed: a ``keras.random.SeedGenerator``, an int or ``None``.

    Returns:
        A float32 tensor.

    Example:
        >>> import numpy as np
        >>> eta = random_eta((2, 3), 0.1, "sign_noise", seed=0)
        >>> sorted(set(np.abs(eta.numpy()).ravel().tolist())) == [np.float32(0.1)]
        True
    """
    if noise == "sign_noise":
        u = keras.random.uniform(shape, seed=seed)
        return tf.where(u < 0.5, -eps, eps)
    if noise == "uniform_noise":
        return keras.random.uniform(shape, minval=-eps, maxval=eps, seed=seed)
    raise ValueError(
        "Received an invalid value for argument `noise`. "
        f"Expected one of 'sign_noise', 'uniform_noise'. Received: noise={noise!r}"
    )


# --------------------------------------------------------------------------- projection and clipping


def perturb(x: tf.Tensor, eta: tf.Tensor, clip: tuple[Any, Any] | None = None) -> tf.Tensor:
    """x + η, clipped into the box ``clip = (min, max)`` when given.

    Args:
        x: (N, ...) inputs (or activations).
        eta: the perturbation, broadcastable to ``x`` (cast to ``x``'s dtype).
        clip: ``None`` or ``(min, max)`` (numbers or scalar tensors).

    Returns:
        A tensor shaped like ``x``.

    Example:
        >>> perturb([[0.9, 0.1]], [[0.25, -0.25]], (0.0, 1.0)).numpy().tolist()
        [[1.0, 0.0]]
    """
    x = tf.convert_to_tensor(x)
    eta = tf.convert_to_tensor(eta)
    if eta.dtype != x.dtype:
        eta = tf.cast(eta, x.dtype)
    x_adv = x + eta
    if clip is not None:
        x_adv = tf.clip_by_value(x_adv, clip[0], clip[1])
    return x_adv


def clip_eta(eta: tf.Tensor, eps: Any, norm: Any = "inf") -> tf.Tensor:
    """Project η onto the ball {‖η‖ ≤ ε} of the norm, per example.

    ``"inf"``: clip each component to [−ε, ε]. ``2`` and ``1``: scale an
    example's η down to norm ε when it is longer; a shorter η is unchanged.

    Args:
        eta: (N, ...) perturbation.
        eps: ε >= 0.
        norm: ``"inf"``, ``1`` or ``2``.

    Returns:
        A tensor shaped like ``eta``.

    Example:
        >>> clip_eta([[3.0, -4.0]], 1.0, 2).numpy().astype(float).round(6).tolist()
        [[0.6, -0.8]]
        >>> clip_eta([[3.0, -0.5]], 1.0).numpy().tolist()
        [[1.0, -0.5]]
    """
    norm = check_norm(norm)
    eta = tf.convert_to_tensor(eta, tf.float32)
    eps = tf.cast(eps, eta.dtype)
    if norm == "inf":
        return tf.clip_by_value(eta, -eps, eps)
    flat = tf.reshape(eta, [tf.shape(eta)[0], -1])
    if norm == 2:
        length = tf.norm(flat, axis=1, keepdims=True)
    else:
        length = tf.reduce_sum(tf.abs(flat), axis=1, keepdims=True)
    factor = tf.minimum(1.0, tf.math.divide_no_nan(eps, length))
    factor = tf.where(length > 0, factor, tf.ones_like(factor))
    return tf.reshape(flat * factor, tf.shape(eta))


def project(
    x_adv: tf.Tensor, x: tf.Tensor, eps: Any, norm: Any = "inf", clip: tuple[Any, Any] | None = None
) -> tf.Tensor:
    r"""Project ``x_adv`` onto the ε-ball around ``x``, then into the box ``clip``.

    ``"inf"``: each component clipped to [x − ε, x + ε] (so a point already
    inside, such as an FGSM step x + ε·sign(g), is returned bit for bit);
    ``2`` and ``1``: x + :func:`clip_eta`\ (x_adv − x).

    Args:
        x_adv: (N, ...) the point to project.
        x: (N, ...) the centre of the ball.
        eps: ε >= 0.
        norm: ``"inf"``, ``1`` or ``2``.
        clip: ``None`` or ``(min, max)``.

    Returns:
        A tensor shaped like ``x``.

    Example:
        >>> project([[0.9, 0.0]], [[0.5, 0.5]], 0.25, clip=(0.0, 1.0)).numpy().tolist()
        [[0.75, 0.25]]
        >>> project([[3.0, 4.0]], [[0.0, 0.0]], 1.0, 2).numpy().astype(float).round(6).tolist()
        [[0.6, 0.8]]
    """
    norm = check_norm(norm)
    x = tf.convert_to_tensor(x, tf.float32)
    x_adv = tf.convert_to_tensor(x_adv, tf.float32)
    eps = tf.cast(eps, tf.float32)
    if norm == "inf":
        inside = tf.clip_by_value(x_adv, x - eps, x + eps)
    else:
        inside = x + clip_eta(x_adv - x, eps, norm)
    if clip is not None:
        inside = tf.clip_by_value(inside, clip[0], clip[1])
    return inside
