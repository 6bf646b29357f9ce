"""Maxout and RBF layers, and the pylearn2 pieces around them, as native Keras 3 objects.

The paper's networks were trained with pylearn2 (Goodfellow et al., 2013, *Maxout
Networks*); the layers here reproduce pylearn2's semantics so that the configs
`mnist_pi.yaml` and `cifar10_no_aug.yaml` translate one to one:

- :class:`MaxNormColumns`: pylearn2's ``max_col_norm`` / ``max_kernel_norm``;
- :class:`Maxout`: a dense maxout layer (``pylearn2.models.maxout.Maxout``);
- :class:`MaxoutConv2D`: a convolutional maxout layer (``MaxoutConvC01B`` without its pooling);
- :class:`CeilMaxPooling2D`: cuda-convnet's max pooling, whose windows cover the whole input;
- :class:`InputDropout`: dropout with or without pylearn2's rescaling;
- :class:`RBF`: the paper's §7 radial basis function units, p_k(x) = exp(−β_k‖x − μ_k‖²).

Every class is registered under the package name ``"advkeras"``, so models that
use them save to and load from ``.keras`` files.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
import numpy as np
from keras import constraints, initializers, ops, regularizers

from advkeras import masks
from advkeras._validation import (
    check_labels,
    check_positive_float,
    check_positive_int,
    check_rate,
    invalid,
)

__all__ = [
    "DEFAULT_RBF_BETA",
    "CeilMaxPooling2D",
    "InputDropout",
    "MaxNormColumns",
    "Maxout",
    "MaxoutConv2D",
    "RBF",
    "pylearn2_uniform",
]

#: pylearn2's ``irange: .005``: weights drawn from U(−0.005, 0.005).
PYLEARN2_IRANGE = 0.005

#: Default RBF precision β. On MNIST (pixels in [0, 1]) the squared distance from
#: an image to its own class mean has median ≈ 41, and to the other class means
#: ≈ 64 (10th–90th percentile 45–91), so with centres at the class means β = 0.05
#: starts the units at p ≈ 0.13 for the right class and 0.01–0.1 for the others:
#: far from both 0 and 1, where the gradients are useful.
DEFAULT_RBF_BETA = 0.05

_register = keras.saving.register_keras_serializable(package="advkeras")


def pylearn2_uniform(seed: int | None = None) -> keras.initializers.Initializer:
    """Return pylearn2's default weight initializer U(−0.005, 0.005) (``irange: .005``).

    Args:
        seed: optional integer seed.

    Returns:
        A fresh ``keras.initializers.RandomUniform``; use one per layer (an
        initializer instance returns the same values every time it is called).

    Example:

    >>> init = pylearn2_uniform(seed=0)
    >>> w = keras.ops.convert_to_numpy(init((784, 10)))
    >>> bool(abs(w).max() <= 0.005)
    True
    """
    return initializers.RandomUniform(-PYLEARN2_IRANGE, PYLEARN2_IRANGE, seed=seed)


def _check_pair(value: Any, argument: str) -> tuple[int, int]:
    """A positive int or a pair of positive ints, as Keras' ``kernel_size``/``strides``."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        values = (value, value)
    elif isinstance(value, tuple | list) and len(value) == 2:
        values = tuple(value)
    else:
        raise invalid(argument, "a positive integer or a pair of positive integers", value)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise invalid(argument, "a positive integer or a pair of positive integers", value)
    return int(values[0]), int(values[1])


def _kernel_constraint(max_norm: float | None, kernel_constraint: Any) -> Any:
    if max_norm is not None and kernel_constraint is not None:
        raise ValueError(
            "Received both `max_norm` and `kernel_constraint`. Expected at most one of them "
            f"(max_norm is a shortcut for MaxNormColumns(max_norm)). Received: max_norm={max_norm}, "
            f"kernel_constraint={kernel_constraint!r}"
        )
    return MaxNormColumns(max_norm) if max_norm is not None else kernel_constraint


def _max_over_pieces(z: Any, units: int, pieces: int) -> Any:
    """Max over consecutive groups of ``pieces`` channels: unit j uses channels j·p … j·p + p − 1."""
    if pieces == 1:
        return z
    shape = ops.shape(z)
    z = ops.reshape(z, (*shape[:-1], units, pieces))
    return ops.max(z, axis=-1)


@_register
class MaxNormColumns(keras.constraints.Constraint):
    """Rescale every column of a kernel whose L2 norm exceeds ``max_norm`` (pylearn2 max-norm).

    A "column" is everything that feeds one output channel, i.e. the norm is taken
    over all axes but the last:

    - dense kernel ``(in, out)``: each unit's incoming weight vector (pylearn2
      ``max_col_norm``); for :class:`Maxout`, each *piece* is a column;
    - conv kernel ``(h, w, in, out)``: each output filter over ``(h, w, in)``
      (pylearn2 ``max_kernel_norm``).

    Columns with norm ``<= max_norm`` are left exactly unchanged; longer columns are
    scaled down to norm ``max_norm``. This is Keras' ``MaxNorm(max_value, axis=...)``
    with the axis chosen for you, except that Keras (and pylearn2) multiply *every*
    column by ``norm / (norm + 1e-7)``, a shrinkage of ~1e-7 that is skipped here.
    Keras optimizers apply the constraint after each update, as pylearn2 did.

    Args:
        max_norm: float > 0, the largest L2 norm a column may have.

    Example:

    >>> c = MaxNormColumns(1.0)
    >>> w = keras.ops.convert_to_numpy(c(np.array([[3.0, 0.1], [4.0, 0.2]], "float32")))
    >>> [round(float(n), 4) for n in np.linalg.norm(w, axis=0)]
    [1.0, 0.2236]
    """

    def __init__(self, max_norm: float) -> None:
        self.max_norm = check_positive_float(max_norm, "max_norm")

    def __call__(self, w: Any) -> Any:
        w = ops.convert_to_tensor(w)
        axes = tuple(range(len(w.shape) - 1))
        norms = ops.sqrt(ops.sum(ops.square(w), axis=axes, keepdims=True))
        scale = ops.where(norms > self.max_norm, self.max_norm / ops.maximum(norms, 1e-12), 1.0)
        return w * ops.cast(scale, w.dtype)

    def get_config(self) -> dict[str, Any]:
        return {"max_norm": self.max_norm}


@_register
class Maxout(keras.layers.Layer):
    """Dense maxout layer: ``h_j = max_i (xW + b)_{j·pieces + i}`` (Goodfellow et al., 2013).

    The affine map has ``units * pieces`` output columns. As in pylearn2's
    ``Maxout`` layer, the pieces of a unit are *consecutive* columns: unit ``j``
    takes the max over columns ``j*pieces, ..., (j+1)*pieces - 1`` of the kernel.
    :meth:`unit_filters` returns the kernel arranged as ``(units, pieces, in)``,
    which is what the paper's Fig. 3 draws (one row per unit, one 28×28 image per
    piece).

    Args:
        units: positive int, number of maxout units (the output width).
        pieces: positive int, number of linear pieces per unit (pylearn2
            ``num_pieces``). Defaults to 5, the paper's MNIST value.
        kernel_initializer: initializer of the ``(in, units*pieces)`` kernel.
            Defaults to U(−0.005, 0.005), pylearn2's ``irange: .005``.
        bias_initializer: initializer of the ``(units*pieces,)`` bias. Defaults to zeros.
        max_norm: float > 0 or None. If given, each column (each piece's incoming
            weight vector) is kept at L2 norm ``<= max_norm`` by
            :class:`MaxNormColumns` (pylearn2 ``max_col_norm``; 1.9365 in the paper's
            configs). Cannot be combined with ``kernel_constraint``.
        use_bias: whether to add a bias. Defaults to True.
        kernel_regularizer, bias_regularizer, activity_regularizer: Keras regularizers.
        kernel_constraint, bias_constraint: Keras constraints.
        **kwargs: base ``Layer`` arguments (``name``, ``dtype``, ``trainable``).

    Input shape: ``(..., in)``. Output shape: ``(..., units)``.

    Example:

    >>> layer = Maxout(3, pieces=2, name="h0")
    >>> layer(np.ones((4, 8), "float32")).shape
    TensorShape([4, 3])
    >>> layer.unit_filters().shape
    (3, 2, 8)
    """

    def __init__(
        self,
        units: int,
        pieces: int = 5,
        *,
        kernel_initializer: Any = None,
        bias_initializer: Any = "zeros",
        max_norm: float | None = None,
        use_bias: bool = True,
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        units = check_positive_int(units, "units")
        pieces = check_positive_int(pieces, "pieces")
        max_norm = check_positive_float(max_norm, "max_norm", allow_none=True)
        kernel_constraint = constraints.get(kernel_constraint)
        _kernel_constraint(max_norm, kernel_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.pieces = pieces
        self.max_norm = max_norm
        self.use_bias = bool(use_bias)
        if kernel_initializer is None:
            kernel_initializer = pylearn2_uniform()
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units * self.pieces),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=_kernel_constraint(self.max_norm, self.kernel_constraint),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units * self.pieces,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs: Any) -> Any:
        z = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            z = z + self.bias
        return _max_over_pieces(z, self.units, self.pieces)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.units)

    def unit_filters(self) -> np.ndarray:
        """Return the kernel as ``(units, pieces, in)``: row ``j`` holds unit ``j``'s pieces.

        Reshape the last axis to ``(28, 28)`` to draw the paper's Fig. 3.
        """
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} has no weights yet. Call it on an input (or build it) "
                "before asking for its filters."
            )
        w = ops.convert_to_numpy(self.kernel)
        return np.transpose(w.reshape(w.shape[0], self.units, self.pieces), (1, 2, 0))

    def get_config(self) -> dict[str, Any]:
        config = {
            "units": self.units,
            "pieces": self.pieces,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "max_norm": self.max_norm,
            "use_bias": self.use_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
        return {**super().get_config(), **config}


@_register
class MaxoutConv2D(keras.layers.Layer):
    """Convolutional maxout: a conv with ``filters * pieces`` channels, then a max over pieces.

    Channels-last only. As in pylearn2's ``MaxoutConvC01B``, output channel ``c``
    is the max over the consecutive conv channels ``c*pieces, ..., (c+1)*pieces - 1``
    and the bias is tied (one per conv channel). pylearn2's symmetric zero padding
    (``pad: 4``) is a ``keras.layers.ZeroPadding2D`` in front of this layer, and
    its spatial pooling is a :class:`CeilMaxPooling2D` after it (see
    :func:`advkeras.models.conv_maxout_cifar10`).

    Args:
        filters: positive int, number of output channels (maxout units per position).
        pieces: positive int, pieces per unit (2 in the paper's CIFAR-10 network).
        kernel_size: positive int or pair ``(height, width)``.
        strides: positive int or pair. Defaults to 1.
        padding: ``"valid"`` (default) or ``"same"``.
        max_norm: float > 0 or None: keep each conv filter (norm over
            ``(h, w, in)``) at L2 norm ``<= max_norm`` (pylearn2 ``max_kernel_norm``).
        kernel_initializer: initializer of the ``(h, w, in, filters*pieces)`` kernel.
            Defaults to U(−0.005, 0.005).
        bias_initializer: Defaults to zeros.
        use_bias: Defaults to True.
        kernel_regularizer, bias_regularizer, activity_regularizer: Keras regularizers.
        kernel_constraint, bias_constraint: Keras constraints.
        **kwargs: base ``Layer`` arguments.

    Input shape: ``(N, H, W, C)``. Output shape: ``(N, H', W', filters)``.

    Example:

    >>> layer = MaxoutConv2D(4, 2, 3, padding="same")
    >>> layer(np.ones((2, 8, 8, 3), "float32")).shape
    TensorShape([2, 8, 8, 4])
    """

    def __init__(
        self,
        filters: int,
        pieces: int,
        kernel_size: int | tuple[int, int],
        *,
        strides: int | tuple[int, int] = 1,
        padding: str = "valid",
        max_norm: float | None = None,
        kernel_initializer: Any = None,
        bias_initializer: Any = "zeros",
        use_bias: bool = True,
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        filters = check_positive_int(filters, "filters")
        pieces = check_positive_int(pieces, "pieces")
        kernel_size = _check_pair(kernel_size, "kernel_size")
        strides = _check_pair(strides, "strides")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise invalid("padding", "one of 'valid', 'same'", padding)
        max_norm = check_positive_float(max_norm, "max_norm", allow_none=True)
        kernel_constraint = constraints.get(kernel_constraint)
        _kernel_constraint(max_norm, kernel_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = filters
        self.pieces = pieces
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding.lower()
        self.max_norm = max_norm
        self.use_bias = bool(use_bias)
        if kernel_initializer is None:
            kernel_initializer = pylearn2_uniform()
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                "Received an input with an unknown number of channels. Expected a known last "
                f"dimension (channels_last). Received: input_shape={input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.filters * self.pieces),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=_kernel_constraint(self.max_norm, self.kernel_constraint),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters * self.pieces,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs: Any) -> Any:
        z = ops.conv(inputs, self.kernel, strides=self.strides, padding=self.padding)
        if self.bias is not None:
            z = z + self.bias
        return _max_over_pieces(z, self.filters, self.pieces)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        spatial = []
        for n, k, s in zip(input_shape[1:3], self.kernel_size, self.strides, strict=True):
            if n is None:
                spatial.append(None)
            elif self.padding == "same":
                spatial.append(-(-n // s))
            else:
                spatial.append((n - k) // s + 1)
        return (input_shape[0], *spatial, self.filters)

    def get_config(self) -> dict[str, Any]:
        config = {
            "filters": self.filters,
            "pieces": self.pieces,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "max_norm": self.max_norm,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "use_bias": self.use_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
        return {**super().get_config(), **config}


@_register
class CeilMaxPooling2D(keras.layers.Layer):
    """Max pooling whose windows cover the whole input (cuda-convnet, pylearn2 ``max_pool_c01b``).

    The output size is ``ceil((n − pool) / stride) + 1`` per spatial axis: the last
    window may hang over the bottom/right edge and then pools only the pixels that
    exist. Keras' ``"valid"`` pooling drops those pixels (``floor`` instead of
    ``ceil``) and ``"same"`` pads on both sides, so neither reproduces pylearn2's
    shapes (33 → 16 with a 4×4 pool and stride 2; Keras gives 15 or 17).
    Channels-last; the spatial size must be known.

    Args:
        pool_size: positive int or pair.
        strides: positive int or pair, each ``<= pool_size`` (so that every window
            contains at least one pixel). Defaults to ``pool_size``.
        **kwargs: base ``Layer`` arguments.

    Example:

    >>> CeilMaxPooling2D(4, 2)(np.zeros((1, 33, 33, 2), "float32")).shape
    TensorShape([1, 16, 16, 2])
    """

    def __init__(
        self,
        pool_size: int | tuple[int, int],
        strides: int | tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        pool_size = _check_pair(pool_size, "pool_size")
        strides = pool_size if strides is None else _check_pair(strides, "strides")
        if any(s > p for s, p in zip(strides, pool_size, strict=True)):
            raise invalid("strides", f"values <= pool_size={pool_size}", strides)
        super().__init__(**kwargs)
        self.pool_size = pool_size
        self.strides = strides
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _output_and_pad(self, n: int, k: int, s: int) -> tuple[int, int]:
        out = max(-(-(n - k) // s), 0) + 1
        return out, (out - 1) * s + k - n

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                f"CeilMaxPooling2D needs a known spatial size. Received: input_shape={input_shape}"
            )

    def call(self, inputs: Any) -> Any:
        pads = [
            self._output_and_pad(n, k, s)[1]
            for n, k, s in zip(inputs.shape[1:3], self.pool_size, self.strides, strict=True)
        ]
        if any(pads):
            inputs = ops.pad(
                inputs,
                ((0, 0), (0, pads[0]), (0, pads[1]), (0, 0)),
                constant_values=float("-inf"),
            )
        return ops.max_pool(inputs, self.pool_size, self.strides, padding="valid")

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        spatial = [
            None if n is None else self._output_and_pad(n, k, s)[0]
            for n, k, s in zip(input_shape[1:3], self.pool_size, self.strides, strict=True)
        ]
        return (input_shape[0], *spatial, input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides}


@_register
class InputDropout(keras.layers.Layer):
    """Dropout that may leave the kept values unscaled, as pylearn2 did on the input layer.

    During training each value is kept with probability ``1 − rate`` and zeroed
    otherwise. With ``rescale=False`` the kept values are *not* divided by
    ``1 − rate`` (pylearn2 ``input_scales: {'h0': 1.}`` with
    ``input_include_probs: {'h0': .8}``, the paper's MNIST and CIFAR-10 configs):
    the next layer sees inputs whose expectation is ``(1 − rate)·x`` during
    training and ``x`` at inference. With ``rescale=True`` this is Keras' own
    ``Dropout`` (pylearn2's default ``input_scale = 1 / include_prob``). At
    inference (``training=False``) the layer is the identity either way.

    Args:
        rate: float in [0, 1), the probability of dropping a value.
        rescale: whether to divide kept values by ``1 − rate``. Defaults to False.
        seed: optional int seed of the dropout masks.
        **kwargs: base ``Layer`` arguments.

    Example:

    >>> layer = InputDropout(0.2, seed=0)
    >>> x = np.ones((1000, 10), "float32")
    >>> y = keras.ops.convert_to_numpy(layer(x, training=True))
    >>> sorted(set(y.ravel().tolist()))
    [0.0, 1.0]
    >>> bool(np.all(keras.ops.convert_to_numpy(layer(x)) == x))
    True
    """

    def __init__(
        self, rate: float, rescale: bool = False, seed: int | None = None, **kwargs: Any
    ) -> None:
        rate = check_rate(rate)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise invalid("seed", "an integer or None", seed)
        super().__init__(**kwargs)
        self.rate = rate
        self.rescale = bool(rescale)
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    @property
    def maskable(self) -> bool:
        """Whether the layer draws masks at all (``rate > 0``); see :mod:`advkeras.masks`."""
        return self.rate > 0.0

    def draw_mask(self, shape: Any) -> Any:
        """A mask of ``shape``, 0 where a value is dropped and its scale where kept.

        In training mode the layer's output is ``inputs`` times such a mask,
        drawn with the layer's own seed generator (:mod:`advkeras.masks`).
        """
        u = keras.random.uniform(shape, seed=self.seed_generator, dtype=self.compute_dtype)
        return ops.where(u >= self.rate, ops.cast(self._scale, u.dtype), ops.zeros_like(u))

    @property
    def _scale(self) -> float:
        """What a kept value is multiplied by: 1 / (1 − rate) with ``rescale``, else 1."""
        return 1.0 / (1.0 - self.rate) if self.rescale else 1.0

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0.0:
            return inputs
        mask = masks.take(self)
        if mask is not None:
            return inputs * ops.cast(mask, inputs.dtype)
        u = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator, dtype=inputs.dtype)
        return ops.where(u >= self.rate, inputs * self._scale, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = {"rate": self.rate, "rescale": self.rescale, "seed": self.seed}
        return {**super().get_config(), **config}


@_register
class RBF(keras.layers.Layer):
    """Independent radial basis function units: ``p_k(x) = exp(−β_k ‖x − μ_k‖²)``.

    Each of the ``units`` outputs is a probability in (0, 1] of its own, high only
    near the centre μ_k (the paper's §7: "confident only near µ"); the outputs need
    not sum to one, so an RBF network can be unsure of every class. The class
    attribute ``advkeras_output_kind = "independent"`` tells
    :func:`advkeras.losses.infer_output_kind` to train and attack it with a
    per-class binary cross-entropy.

    The paper prints ``p(y=1|x) = exp((x−µ)ᵀβ(x−µ))`` without a minus sign, which
    is only a probability if β is negative (semi-)definite; we write the sign
    explicitly and keep the precision β_k > 0, one scalar per unit (β = β_k·I in the
    paper's notation), by storing ``log β_k`` as the trainable weight ``log_beta``.

    Args:
        units: positive int, number of RBF units (one per class).
        beta_initializer: initializer of β itself (not of ``log β``); its values
            must be > 0. Defaults to ``Constant(DEFAULT_RBF_BETA)`` (0.05, see
            :data:`DEFAULT_RBF_BETA`).
        centers_initializer: initializer of the ``(units, in)`` centres μ.
            Defaults to U(0, 0.1): close to the origin for inputs in [0, 1]. For
            training, :meth:`init_centers` starting from the class means works better.
        centers_regularizer: optional Keras regularizer of the centres.
        train_beta: whether β is learnt (default) or kept fixed.
        per_dimension: if True, every unit has one precision per input dimension,
            ``p_k(x) = exp(−Σ_i β_ki (x_i − μ_ki)²)`` (the paper's β as a diagonal matrix,
            one per class): ``log_beta`` has shape ``(units, in)``. Default False: one
            scalar β_k per unit.
        shared_beta: if True, one scalar β for all units,
            ``p_k(x) = exp(−β‖x − μ_k‖²)``: ``log_beta`` has shape ``(1,)``. Default
            False. Cannot be combined with ``per_dimension``.
        **kwargs: base ``Layer`` arguments.

    Input shape: ``(N, in)``. Output shape: ``(N, units)``.

    Example:

    >>> rbf = RBF(2, beta_initializer=keras.initializers.Constant(0.5))
    >>> _ = rbf.build((None, 3))
    >>> _ = rbf.centers.assign(np.array([[0, 0, 0], [1, 1, 1]], "float32"))
    >>> p = keras.ops.convert_to_numpy(rbf(np.zeros((1, 3), "float32")))
    >>> [round(float(v), 4) for v in p[0]]  # exp(-0.5 * 0), exp(-0.5 * 3)
    [1.0, 0.2231]
    """

    advkeras_output_kind = "independent"
    #: Options added after models were cached, left out of ``get_config`` at these
    #: defaults so that the configs (and cache keys) of older models stay the same.
    config_omits_defaults: ClassVar[dict[str, Any]] = {"shared_beta": False}

    def __init__(
        self,
        units: int,
        *,
        beta_initializer: Any = None,
        centers_initializer: Any = None,
        centers_regularizer: Any = None,
        train_beta: bool = True,
        per_dimension: bool = False,
        shared_beta: bool = False,
        **kwargs: Any,
    ) -> None:
        units = check_positive_int(units, "units")
        if not isinstance(per_dimension, bool):
            raise invalid("per_dimension", "True or False", per_dimension)
        if not isinstance(shared_beta, bool):
            raise invalid("shared_beta", "True or False", shared_beta)
        if shared_beta and per_dimension:
            raise invalid(
                "shared_beta", "False when per_dimension=True (one β or one per pixel)", shared_beta
            )
        super().__init__(**kwargs)
        self.units = units
        if beta_initializer is None:
            beta_initializer = initializers.Constant(DEFAULT_RBF_BETA)
        if centers_initializer is None:
            centers_initializer = initializers.RandomUniform(0.0, 0.1)
        self.beta_initializer = initializers.get(beta_initializer)
        self.centers_initializer = initializers.get(centers_initializer)
        self.centers_regularizer = regularizers.get(centers_regularizer)
        self.train_beta = bool(train_beta)
        self.per_dimension = per_dimension
        self.shared_beta = shared_beta
        self.input_spec = keras.layers.InputSpec(ndim=2)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        input_dim = input_shape[-1]
        self.centers = self.add_weight(
            name="centers",
            shape=(self.units, input_dim),
            initializer=self.centers_initializer,
            regularizer=self.centers_regularizer,
        )
        if self.per_dimension:
            beta_shape: tuple[int, ...] = (self.units, input_dim)
        else:
            beta_shape = (1,) if self.shared_beta else (self.units,)
        beta0 = np.asarray(
            ops.convert_to_numpy(self.beta_initializer(beta_shape, dtype="float32")),
            dtype=np.float64,
        )
        if not np.all(np.isfinite(beta0)) or np.any(beta0 <= 0):
            raise invalid("beta_initializer", "an initializer giving values > 0", beta0.tolist())
        self.log_beta = self.add_weight(
            name="log_beta",
            shape=beta_shape,
            initializer=initializers.Constant(np.log(beta0).astype("float32")),
            trainable=self.train_beta,
        )
        self.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: input_dim})

    @property
    def beta(self) -> Any:
        """The precisions β = exp(``log_beta``), of shape ``(units,)``, ``(units, in)`` or ``(1,)``.

        One per unit by default, one per unit and input dimension with
        ``per_dimension=True``, one for all units with ``shared_beta=True``.
        """
        return ops.exp(self.log_beta)

    def squared_distances(self, inputs: Any) -> Any:
        """‖x − μ_k‖² for every input and unit, shape ``(N, units)``."""
        x2 = ops.sum(ops.square(inputs), axis=-1, keepdims=True)
        c2 = ops.sum(ops.square(self.centers), axis=-1)
        d2 = x2 - 2.0 * ops.matmul(inputs, ops.transpose(self.centers)) + c2
        return ops.maximum(d2, 0.0)

    def weighted_distances(self, inputs: Any) -> Any:
        """The exponent's argument: β_k‖x − μ_k‖² (β‖x − μ_k‖² shared), or Σ_i β_ki (x_i − μ_ki)², ``(N, units)``."""
        beta = ops.cast(self.beta, inputs.dtype)
        if not self.per_dimension:
            return beta * self.squared_distances(inputs)
        centers = ops.cast(self.centers, inputs.dtype)
        d2 = (
            ops.matmul(ops.square(inputs), ops.transpose(beta))
            - 2.0 * ops.matmul(inputs, ops.transpose(beta * centers))
            + ops.sum(beta * ops.square(centers), axis=-1)
        )
        return ops.maximum(d2, 0.0)

    def call(self, inputs: Any) -> Any:
        return ops.exp(-self.weighted_distances(inputs))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self.units)

    def init_centers(
        self, x: Any, y: Any, *, fit_beta: bool = False, variance_floor: float = 0.01
    ) -> RBF:
        """Set each centre μ_k to the mean of the examples of class ``k``.

        Args:
            x: inputs, shape ``(N, in)``.
            y: integer labels in ``[0, units)`` (or one-hot), shape ``(N,)``; every class
                must occur at least once.
            fit_beta: if True, also set β so that the median example of each class
                starts at p_k = 0.5: one β_k = ln 2 / median_k, where median_k is the
                median of ‖x − μ_k‖² over class ``k``'s examples; per dimension,
                β_ki ∝ 1 / (v_ki + ``variance_floor``), with v_ki the variance of
                input ``i`` in class ``k`` (a diagonal Gaussian's precisions), scaled
                so that the median of Σ_i β_ki (x_i − μ_ki)² over class ``k`` is ln 2;
                with ``shared_beta``, one β = ln 2 / the median of ‖x − μ_y‖² over all
                examples (each to its own class's centre).
            variance_floor: > 0, added to every per-dimension variance (pixels that
                never vary within a class would otherwise get an infinite precision).

        Returns:
            The layer itself.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise invalid("x", "an array of shape (N, features)", f"an array of shape {x.shape}")
        if not self.built:
            self.build((None, x.shape[1]))
        if x.shape[1] != self.centers.shape[1]:
            raise invalid("x", f"{self.centers.shape[1]} features per example", f"shape {x.shape}")
        labels = check_labels(y, x.shape[0], self.units)
        counts = np.bincount(labels, minlength=self.units)
        if np.any(counts == 0):
            missing = np.flatnonzero(counts == 0).tolist()
            raise invalid("y", f"at least one example of every class 0..{self.units - 1}", missing)
        centers = np.stack([x[labels == k].mean(axis=0) for k in range(self.units)])
        self.centers.assign(centers.astype(self.centers.dtype))
        floor = check_positive_float(variance_floor, "variance_floor")
        if fit_beta:
            if self.per_dimension:
                var = np.stack([x[labels == k].var(axis=0) for k in range(self.units)])
                shape = 1.0 / (var + floor)
                d2 = np.sum((x - centers[labels]) ** 2 * shape[labels], axis=1)
            else:
                shape = np.ones(self.units)
                d2 = np.sum((x - centers[labels]) ** 2, axis=1)
            if self.shared_beta:
                medians = np.array([np.median(d2)])
            else:
                medians = np.array([np.median(d2[labels == k]) for k in range(self.units)])
            scale = np.log(2.0) / np.maximum(medians, 1e-12)
            beta = (
                scale
                if self.shared_beta
                else shape * (scale[:, None] if self.per_dimension else scale)
            )
            self.log_beta.assign(np.log(beta).astype(self.log_beta.dtype))
        return self

    def get_config(self) -> dict[str, Any]:
        config = {
            "units": self.units,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "centers_initializer": initializers.serialize(self.centers_initializer),
            "centers_regularizer": regularizers.serialize(self.centers_regularizer),
            "train_beta": self.train_beta,
            "per_dimension": self.per_dimension,
        }
        for option, default in self.config_omits_defaults.items():
            if getattr(self, option) != default:
                config[option] = getattr(self, option)
        return {**super().get_config(), **config}
