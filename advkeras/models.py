"""The paper's architectures as Keras functional models with named layers.

Each builder returns an *uncompiled* ``keras.Model`` whose output kind
(:func:`advkeras.losses.infer_output_kind`) follows from its last layer:

=============================  =======================================  =================
builder                        paper                                    output kind
=============================  =======================================  =================
:func:`logistic_regression`    §5, Fig. 2 (MNIST 3 vs 7)                ``binary_logit``
:func:`shallow_softmax`        §4 C1, §8, App. A C32                    ``probabilities``
:func:`maxout_mlp`             §4–§6, §9 (pylearn2 ``mnist_pi.yaml``)   ``probabilities``
                               App. A C30 (``top="sigmoid"``)           ``independent``
:func:`conv_maxout_cifar10`    §4 C3, App. A (``cifar10_no_aug.yaml``)  ``probabilities``
:func:`rbf_network`            §7 C22, §8, App. A C33                   ``independent``
:func:`deep_rbf_network`       §7 C23                                   ``independent``
:func:`ensemble`               §9 C28                                   ``probabilities``
=============================  =======================================  =================

The output layer always computes in float32 (Keras' advice for mixed precision:
softmax, sigmoid and RBF outputs stay accurate under a ``mixed_float16`` policy).
Layer names are stable (``"h0"``, ``"h1"``, ``"y"``, ``"logit"``, ``"rbf"``) so that
e.g. ``AdversarialModel(..., l1=("h0", 0.0025))`` can target a layer by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras

from advkeras._validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
    check_rate,
    invalid,
)
from advkeras.layers import (
    DEFAULT_RBF_BETA,
    RBF,
    CeilMaxPooling2D,
    InputDropout,
    MaxNormColumns,
    Maxout,
    MaxoutConv2D,
    pylearn2_uniform,
)
from advkeras.losses import infer_output_kind

__all__ = [
    "conv_maxout_cifar10",
    "deep_rbf_network",
    "ensemble",
    "logistic_regression",
    "maxout_mlp",
    "rbf_network",
    "shallow_softmax",
]

#: pylearn2 ``max_col_norm`` of the MNIST maxout network (all three layers).
PAPER_MAX_NORM = 1.9365


class _Seeds:
    """Distinct seeds ``seed, seed + 1, ...`` for the random parts of one model (or all None)."""

    def __init__(self, seed: int | None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise invalid("seed", "an integer or None", seed)
        self._next = seed

    def __call__(self) -> int | None:
        if self._next is None:
            return None
        self._next += 1
        return self._next - 1


def _max_norm(max_norm: float | None) -> MaxNormColumns | None:
    return None if max_norm is None else MaxNormColumns(max_norm)


def logistic_regression(input_dim: int = 784, *, name: str = "logistic_regression") -> keras.Model:
    """Logistic regression: one linear unit ``z = wᵀx + b`` with ``p(y=1|x) = σ(z)`` (§5).

    The model outputs the logit ``z`` (layer ``"logit"``, output kind
    ``"binary_logit"``), so the loss is the paper's ζ(−y·z) with y ∈ {−1, +1} and
    FGSM on it is the exact worst case ``x − ε·y·sign(w)``. Weights start at zero
    (the problem is convex).

    Args:
        input_dim: positive int, number of input features. Defaults to 784 (MNIST).
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(N, input_dim)`` to ``(N, 1)``.

    Example:

    >>> model = logistic_regression(4)
    >>> model.output_shape, model.count_params()
    ((None, 1), 5)
    """
    input_dim = check_positive_int(input_dim, "input_dim")
    inputs = keras.Input((input_dim,), name="x")
    logit = keras.layers.Dense(1, kernel_initializer="zeros", name="logit", dtype="float32")(inputs)
    return keras.Model(inputs, logit, name=name)


def shallow_softmax(
    input_dim: int = 784, classes: int = 10, *, name: str = "shallow_softmax"
) -> keras.Model:
    """Softmax regression (a "shallow softmax classifier"): ``softmax(xW + b)``.

    Layer ``"y"``; output kind ``"probabilities"``. Weights start at zero (convex problem).

    Args:
        input_dim: positive int, number of input features. Defaults to 784.
        classes: int >= 2, number of classes. Defaults to 10.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(N, input_dim)`` to ``(N, classes)``.

    Example:

    >>> shallow_softmax(784, 10).count_params()
    7850
    """
    input_dim = check_positive_int(input_dim, "input_dim")
    classes = _check_classes(classes)
    inputs = keras.Input((input_dim,), name="x")
    probs = keras.layers.Dense(
        classes, activation="softmax", kernel_initializer="zeros", name="y", dtype="float32"
    )(inputs)
    return keras.Model(inputs, probs, name=name)


def _check_classes(classes: Any) -> int:
    classes = check_positive_int(classes, "classes")
    if classes < 2:
        raise invalid("classes", "an integer >= 2", classes)
    return classes


def _check_dropout(dropout: Any, n: int) -> tuple[float, ...]:
    if dropout is None:
        return (0.0,) * n
    if isinstance(dropout, str) or not isinstance(dropout, Sequence) or len(dropout) != n:
        raise invalid("dropout", f"None or a sequence of {n} rates in [0, 1)", dropout)
    return tuple(check_rate(r, f"dropout[{i}]") for i, r in enumerate(dropout))


def maxout_mlp(
    units: int = 240,
    pieces: int = 5,
    *,
    dropout: Sequence[float] | None = (0.2, 0.5, 0.5),
    max_norm: float | None = PAPER_MAX_NORM,
    input_dim: int = 784,
    classes: int = 10,
    top: str = "softmax",
    seed: int | None = None,
    name: str = "maxout_mlp",
) -> keras.Model:
    """The permutation-invariant MNIST maxout network (pylearn2 ``mnist_pi.yaml``).

    ``x → InputDropout → Maxout "h0" → Dropout → Maxout "h1" → Dropout → Dense "y"``.
    As in pylearn2: both maxout layers have ``units`` units of ``pieces`` pieces,
    every layer (the top one included) has its columns' L2 norms capped at
    ``max_norm`` (``max_col_norm: 1.9365``), weights start from U(−0.005, 0.005) and
    biases from zero. Dropout follows pylearn2's ``Dropout`` cost: the *input* is
    kept with probability 0.8 and **not** rescaled (``input_scales: {'h0': 1.}``,
    an :class:`~advkeras.layers.InputDropout` with ``rescale=False``), the hidden
    layers' inputs are kept with probability 0.5 and scaled by 2 (Keras'
    ``Dropout(0.5)``, identical). The paper's large model is ``units=1600``.

    Args:
        units: positive int, maxout units per hidden layer. Defaults to 240.
        pieces: positive int, pieces per unit. Defaults to 5.
        dropout: rates ``(input, h0 output, h1 output)`` in [0, 1), or None for no
            dropout. Defaults to ``(0.2, 0.5, 0.5)``. A rate of 0 adds no layer.
        max_norm: column norm cap of h0, h1 and y, or None. Defaults to 1.9365.
        input_dim: positive int. Defaults to 784.
        classes: int >= 2. Defaults to 10.
        top: ``"softmax"`` (output kind ``"probabilities"``) or ``"sigmoid"``:
            independent per-class sigmoids (Appendix A, C30; kind ``"independent"``).
        seed: optional int; seeds the initializers and the dropout masks
            (``seed, seed + 1, ...``), so one seed fixes a whole run's randomness
            together with ``keras.utils.set_random_seed``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(N, input_dim)`` to ``(N, classes)``.

    Example:

    >>> model = maxout_mlp(240, 5, seed=0)
    >>> [layer.name for layer in model.layers if layer.weights]
    ['h0', 'h1', 'y']
    >>> model.count_params()
    1233610
    """
    units = check_positive_int(units, "units")
    pieces = check_positive_int(pieces, "pieces")
    rates = _check_dropout(dropout, 3)
    max_norm = check_positive_float(max_norm, "max_norm", allow_none=True)
    input_dim = check_positive_int(input_dim, "input_dim")
    classes = _check_classes(classes)
    top = check_choice(top, ("softmax", "sigmoid"), "top")
    seeds = _Seeds(seed)

    inputs = keras.Input((input_dim,), name="x")
    h = inputs
    if rates[0] > 0:
        h = InputDropout(rates[0], rescale=False, seed=seeds(), name="drop_x")(h)
    for i in range(2):
        h = Maxout(
            units,
            pieces,
            kernel_initializer=pylearn2_uniform(seeds()),
            max_norm=max_norm,
            name=f"h{i}",
        )(h)
        if rates[i + 1] > 0:
            h = keras.layers.Dropout(rates[i + 1], seed=seeds(), name=f"drop_h{i}")(h)
    outputs = keras.layers.Dense(
        classes,
        activation=top,
        kernel_initializer=pylearn2_uniform(seeds()),
        kernel_constraint=_max_norm(max_norm),
        name="y",
        dtype="float32",
    )(h)
    return keras.Model(inputs, outputs, name=name)


def conv_maxout_cifar10(
    width: float = 1.0,
    *,
    dropout: bool = True,
    seed: int | None = None,
    classes: int = 10,
    input_shape: tuple[int, int, int] = (32, 32, 3),
    name: str = "conv_maxout_cifar10",
) -> keras.Model:
    """The CIFAR-10 convolutional maxout network (pylearn2 ``cifar10_no_aug.yaml``).

    ========  ================================================================  =========
    layer     pylearn2                                                          output
    ========  ================================================================  =========
    ``h0``    pad 4, 96×2 channels, 8×8 kernel, max-norm 0.9; pool 4×4/2         16×16×96
    ``h1``    pad 3, 192×2 channels, 8×8 kernel, max-norm 1.9365; pool 4×4/2     7×7×192
    ``h2``    pad 3, 192×2 channels, 5×5 kernel, max-norm 1.9365; pool 2×2/2     5×5×192
    ``h3``    dense Maxout, 500 units × 5 pieces, max-norm 1.9                   500
    ``y``     softmax, max-norm 1.9365                                          10
    ========  ================================================================  =========

    (Output sizes for a 32×32 input at ``width=1``.) pylearn2's padding is
    symmetric zero padding (``ZeroPadding2D``) before a valid convolution; its
    pooling (cuda-convnet) lets the last window overhang the edge, which is
    :class:`~advkeras.layers.CeilMaxPooling2D`. Biases are tied (one per channel),
    weights start from U(−0.005, 0.005). With ``dropout=True`` the input is kept
    with probability 0.8 and not rescaled, and the input of every later layer is
    kept with probability 0.5 and scaled by 2 (pylearn2's ``Dropout`` defaults).
    pylearn2 also scaled the conv layers' learning rates by 0.05
    (``W_lr_scale``/``b_lr_scale``); that belongs to the optimizer, not to the model.
    The paper does not say which CIFAR-10 config it used (inventory §3b).

    Args:
        width: float > 0 multiplying every layer's channel/unit count (at least 1
            each). Defaults to 1.0, the original size; small widths make cheap
            smoke-test models.
        dropout: whether to add the pylearn2 dropout layers. Defaults to True.
        seed: optional int seeding initializers and dropout masks.
        classes: int >= 2. Defaults to 10.
        input_shape: ``(height, width, channels)``. Defaults to ``(32, 32, 3)``.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(N, *input_shape)`` to ``(N, classes)``.

    Example:

    >>> model = conv_maxout_cifar10(width=0.125)
    >>> model.output_shape, model.get_layer("pool2").output.shape[1:]
    ((None, 10), (5, 5, 24))
    """
    width = check_positive_float(width, "width")
    classes = _check_classes(classes)
    if (
        isinstance(input_shape, str)
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
    ):
        raise invalid("input_shape", "a (height, width, channels) triple", input_shape)
    for i, n in enumerate(input_shape):
        check_positive_int(n, f"input_shape[{i}]")
    seeds = _Seeds(seed)

    def scaled(n: int) -> int:
        return max(1, int(math.floor(n * width + 0.5)))

    conv_specs = [  # filters, kernel, pad, pool, pool stride, max kernel norm
        (96, 8, 4, 4, 2, 0.9),
        (192, 8, 3, 4, 2, PAPER_MAX_NORM),
        (192, 5, 3, 2, 2, PAPER_MAX_NORM),
    ]
    inputs = keras.Input(tuple(input_shape), name="x")
    h = inputs
    if dropout:
        h = InputDropout(0.2, rescale=False, seed=seeds(), name="drop_x")(h)
    for i, (filters, kernel, pad, pool, stride, norm) in enumerate(conv_specs):
        if dropout and i > 0:
            h = keras.layers.Dropout(0.5, seed=seeds(), name=f"drop_h{i - 1}")(h)
        h = keras.layers.ZeroPadding2D(pad, name=f"pad{i}")(h)
        h = MaxoutConv2D(
            scaled(filters),
            2,
            kernel,
            max_norm=norm,
            kernel_initializer=pylearn2_uniform(seeds()),
            name=f"h{i}",
        )(h)
        h = CeilMaxPooling2D(pool, stride, name=f"pool{i}")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    if dropout:
        h = keras.layers.Dropout(0.5, seed=seeds(), name="drop_h2")(h)
    h = Maxout(
        scaled(500), 5, max_norm=1.9, kernel_initializer=pylearn2_uniform(seeds()), name="h3"
    )(h)
    if dropout:
        h = keras.layers.Dropout(0.5, seed=seeds(), name="drop_h3")(h)
    outputs = keras.layers.Dense(
        classes,
        activation="softmax",
        kernel_initializer=pylearn2_uniform(seeds()),
        kernel_constraint=MaxNormColumns(PAPER_MAX_NORM),
        name="y",
        dtype="float32",
    )(h)
    return keras.Model(inputs, outputs, name=name)


def rbf_network(
    input_dim: int = 784,
    classes: int = 10,
    *,
    beta: float = DEFAULT_RBF_BETA,
    per_dimension: bool = False,
    name: str = "rbf_network",
    shared_beta: bool = False,
) -> keras.Model:
    """The shallow RBF network of §7: one :class:`~advkeras.layers.RBF` unit per class.

    No hidden layer: output ``k`` is ``p_k(x) = exp(−β_k‖x − μ_k‖²)``, independent
    of the other classes (output kind ``"independent"``), so the network can give
    every class a low probability, as the paper's 1.2% confidence on mistakes
    requires. Call ``model.get_layer("rbf").init_centers(x_train, y_train)`` before
    training to start the centres at the class means.

    Args:
        input_dim: positive int. Defaults to 784.
        classes: int >= 2. Defaults to 10.
        beta: initial precision β > 0 of every unit. Defaults to
            :data:`advkeras.layers.DEFAULT_RBF_BETA` (0.05).
        per_dimension: one precision per unit and input dimension (a diagonal β,
            ``p_k(x) = exp(−Σ_i β_ki (x_i − μ_ki)²)``) instead of one per unit.
        name: model name.
        shared_beta: one precision β for all classes, ``p_k(x) = exp(−β‖x − μ_k‖²)``,
            instead of one per unit (not with ``per_dimension``).

    Returns:
        An uncompiled ``keras.Model`` mapping ``(N, input_dim)`` to ``(N, classes)``.

    Example:

    >>> model = rbf_network(784, 10)
    >>> tuple(model.get_layer("rbf").centers.shape)
    (10, 784)
    """
    input_dim = check_positive_int(input_dim, "input_dim")
    classes = _check_classes(classes)
    beta = check_positive_float(beta, "beta")
    inputs = keras.Input((input_dim,), name="x")
    outputs = RBF(
        classes,
        beta_initializer=keras.initializers.Constant(beta),
        per_dimension=per_dimension,
        shared_beta=shared_beta,
        name="rbf",
        dtype="float32",
    )(inputs)
    return keras.Model(inputs, outputs, name=name)


def deep_rbf_network(
    input_dim: int = 784,
    classes: int = 10,
    *,
    hidden: int = 100,
    beta: float = DEFAULT_RBF_BETA,
    name: str = "deep_rbf_network",
) -> keras.Model:
    """Two layers of RBF units (§7, C23: "deep RBF networks"), one output unit per class.

    ``x → RBF "rbf0" (hidden units) → RBF "rbf" (classes units)``: every hidden
    unit is a bump exp(−β_j‖x − c_j‖²) around a centre ``c_j`` in input space,
    and every output a bump around a centre in the hidden layer's space, so the
    model is confident only near its centres at both levels. Output kind
    ``"independent"``, as :func:`rbf_network`. Start ``rbf0``'s centres at
    training examples and ``rbf``'s at the class means of the hidden activations
    (:meth:`advkeras.layers.RBF.init_centers`) before training.

    Args:
        input_dim: positive int. Defaults to 784.
        classes: int >= 2. Defaults to 10.
        hidden: positive int, the number of hidden RBF units.
        beta: initial precision β > 0 of every unit of both layers.
        name: model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(N, input_dim)`` to ``(N, classes)``.

    Example:

    >>> model = deep_rbf_network(784, 10, hidden=20)
    >>> tuple(model.get_layer("rbf0").centers.shape), tuple(model.get_layer("rbf").centers.shape)
    ((20, 784), (10, 20))
    """
    input_dim = check_positive_int(input_dim, "input_dim")
    classes = _check_classes(classes)
    hidden = check_positive_int(hidden, "hidden")
    beta = check_positive_float(beta, "beta")
    inputs = keras.Input((input_dim,), name="x")
    h = RBF(hidden, beta_initializer=keras.initializers.Constant(beta), name="rbf0")(inputs)
    outputs = RBF(
        classes, beta_initializer=keras.initializers.Constant(beta), name="rbf", dtype="float32"
    )(h)
    return keras.Model(inputs, outputs, name=name)


def ensemble(members: Sequence[keras.Model], *, name: str = "ensemble") -> keras.Model:
    """Average the probability outputs of several classifiers (§9's ensemble of 12 maxout nets).

    The ensemble shares the members' weights (training a member changes the
    ensemble). Each member appears in it as a nested model named ``"member_<i>"``
    (a functional view of the member with the same layers), so members built by
    the same builder, hence with the same name, can be combined. Its output,
    ``keras.layers.Average`` of the members' softmax outputs, has output kind
    ``"probabilities"``, and attacking the ensemble differentiates through every member.

    Args:
        members: one or more models with the same input shape and output shape,
            each with output kind ``"probabilities"`` (softmax).
        name: model name.

    Returns:
        An uncompiled ``keras.Model``.

    Example:

    >>> nets = [shallow_softmax(4, 3), shallow_softmax(4, 3)]
    >>> [layer.name for layer in ensemble(nets).layers]
    ['x', 'member_0', 'member_1', 'average']
    """
    if isinstance(members, keras.Model) or not isinstance(members, Sequence) or not members:
        raise invalid("members", "a non-empty sequence of keras.Model", members)
    for i, member in enumerate(members):
        if not isinstance(member, keras.Model):
            raise invalid(f"members[{i}]", "a keras.Model", member)
    shapes = {tuple(m.input_shape[1:]) for m in members}
    if len(shapes) != 1:
        raise invalid("members", "models with one common input shape", sorted(shapes))
    out_shapes = {tuple(m.output_shape[1:]) for m in members}
    if len(out_shapes) != 1:
        raise invalid("members", "models with one common output shape", sorted(out_shapes))
    for i, member in enumerate(members):
        kind = infer_output_kind(member)
        if kind != "probabilities":
            raise invalid(
                f"members[{i}]",
                "a model with softmax ('probabilities') outputs",
                f"{member.name!r} with output kind {kind!r}",
            )
    inputs = keras.Input(shapes.pop(), name="x")
    outputs = []
    for i, member in enumerate(members):
        if getattr(member, "inputs", None) and getattr(member, "outputs", None):
            member = keras.Model(member.inputs[0], member.outputs[0], name=f"member_{i}")
        outputs.append(member(inputs))
    return keras.Model(inputs, keras.layers.Average(name="average")(outputs), name=name)
