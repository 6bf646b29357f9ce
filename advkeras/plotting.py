"""The paper's figures, drawn with matplotlib from arrays the other modules compute.

Each function returns a :class:`matplotlib.figure.Figure` and never calls
``plt.show()``. A new figure is a bare ``Figure`` (not registered with pyplot),
so a notebook shows it once, as the cell's value, and a script saves it with
``fig.savefig``; nothing depends on an interactive backend. Functions that take
``ax=`` draw into an existing axes instead and return its figure, so several
panels can share one figure (Fig. 4: logits on the left, images on the right).

- :func:`image_grid`: a grid of images with optional titles and yellow frames
  (Fig. 2 c/d, Fig. 4 right, Fig. 5);
- :func:`fig1_triptych`: ``x + ε · sign(∇ₓJ) = x̃`` with labels and confidences (Fig. 1);
- :func:`sweep_plot`: error rate and confidence on mistakes versus ε;
- :func:`weights_grid`: weight vectors as images (Fig. 2 a/b, Fig. 3);
- :func:`logits_along_direction`: the softmax's argument along the FGSM direction (Fig. 4 left).

Example:

>>> import numpy as np
>>> from advkeras.plotting import image_grid
>>> fig = image_grid(np.random.default_rng(0).random((6, 784)), rows=2, highlight=[0, 4])
>>> len(fig.axes)
1
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from advkeras._validation import check_eps, check_epsilons, check_fraction, invalid

__all__ = [
    "image_grid",
    "fig1_triptych",
    "sweep_plot",
    "weights_grid",
    "logits_along_direction",
]

HIGHLIGHT_COLOR = "yellow"
GRAD_LABEL = r"\mathrm{sign}(\nabla_x J(\theta, x, y))"


# --------------------------------------------------------------------------- helpers


def _figure_of(ax: Axes) -> Figure:
    """The top-level figure that holds ``ax`` (also when ``ax`` lies in a subfigure)."""
    fig = ax.get_figure(root=True)
    assert fig is not None  # an Axes always belongs to a figure
    return fig


def _check_shape(shape: Any) -> tuple[int, ...]:
    """``shape`` must be (H, W) or (H, W, C) with C in {1, 3, 4}."""
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise invalid(
            "shape", "a tuple (height, width) or (height, width, channels)", shape
        ) from None
    if (
        len(dims) not in (2, 3)
        or any(d < 1 for d in dims)
        or (len(dims) == 3 and dims[2] not in (1, 3, 4))
    ):
        raise invalid("shape", "a tuple (height, width) or (height, width, 1 | 3 | 4)", shape)
    if len(dims) == 3 and dims[2] == 1:
        dims = dims[:2]
    return dims


def _as_images(images: Any, shape: tuple[int, ...], argument: str) -> np.ndarray:
    """Reshape a batch of flat or shaped images to ``(N, *shape)``; check the sizes agree."""
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise invalid(argument, "a non-empty batch of images", f"an array of shape {arr.shape}")
    per_image = math.prod(shape)
    if arr[0].size != per_image:
        raise invalid(
            argument,
            f"images of {per_image} values each to match shape={shape}",
            f"an array of shape {arr.shape} ({arr[0].size} values per image)",
        )
    if not np.all(np.isfinite(arr)):
        raise invalid(argument, "finite values", "an array containing NaN or inf")
    return arr.reshape((arr.shape[0], *shape))


def _as_image(image: Any, shape: tuple[int, ...], argument: str) -> np.ndarray:
    """One image of ``shape`` from a flat vector, an image, or a batch of one."""
    arr = np.asarray(image, dtype=np.float64)
    if arr.size != math.prod(shape):
        raise invalid(
            argument,
            f"one image of {math.prod(shape)} values to match shape={shape}",
            f"an array of shape {arr.shape}",
        )
    if not np.all(np.isfinite(arr)):
        raise invalid(argument, "finite values", "an array containing NaN or inf")
    return arr.reshape(shape)


def _grid_size(n: int, rows: int | None, cols: int | None) -> tuple[int, int]:
    for name, value in (("rows", rows), ("cols", cols)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1
        ):
            raise invalid(name, "None or a positive integer", value)
    if rows is None and cols is None:
        cols = math.ceil(math.sqrt(n))
    if cols is None:
        cols = math.ceil(n / rows)
    if rows is None:
        rows = math.ceil(n / cols)
    if rows * cols < n:
        raise invalid("rows", f"rows * cols >= {n} (the number of images)", f"{rows} (cols={cols})")
    return int(rows), int(cols)


def _highlight_indices(highlight: Any, n: int) -> list[int]:
    """Boolean mask of length n, or a sequence of indices in [0, n)."""
    if highlight is None:
        return []
    arr = np.asarray(highlight)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise invalid("highlight", f"a boolean mask of shape ({n},)", f"shape {arr.shape}")
        return np.flatnonzero(arr).tolist()
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise invalid("highlight", f"a boolean mask of shape ({n},) or integer indices", highlight)
    if arr.size and (arr.min() < -n or arr.max() >= n):
        raise invalid("highlight", f"indices in [0, {n - 1}]", highlight)
    return sorted({int(i) % n for i in arr})


def _check_title(title: Any) -> str | None:
    """``None`` or a non-empty string: the title of a figure or panel, in words."""
    if title is None:
        return None
    if not isinstance(title, str) or not title.strip():
        raise invalid("title", "None or a non-empty string", repr(title))
    return title


def _new_axes(figsize: tuple[float, float] | None, default: tuple[float, float]) -> Axes:
    fig = Figure(figsize=figsize or default, layout="constrained")
    return fig.add_subplot()


# --------------------------------------------------------------------------- image grids


def image_grid(
    images: Any,
    *,
    rows: int | None = None,
    cols: int | None = None,
    titles: Sequence[str] | None = None,
    highlight: Any = None,
    shape: Sequence[int] = (28, 28),
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
    per_image: bool = False,
    highlight_color: str = HIGHLIGHT_COLOR,
    row_labels: Sequence[str] | None = None,
    colorbar: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Draw a batch of images as one mosaic, with optional titles and highlight frames.

    The images are tiled row-major into a single picture in one axes (fast for
    the paper's 10×10 grids); a highlighted entry gets a coloured frame, as the
    yellow boxes of Fig. 4 (correctly classified) and Fig. 5 (successful fools).

    Args:
        images: (N, H·W·C) flat vectors or ``(N, *shape)`` images. Colour images
            are shown in RGB, rescaled to [0, 1] with ``vmin``/``vmax`` (default:
            the batch's own range when it leaves [0, 1], e.g. after ZCA).
        rows, cols: grid size; by default as square as possible. Unused cells
            stay blank. ``rows * cols`` must be at least N.
        titles: one short string per image, written above it.
        highlight: a boolean mask of shape (N,) or a sequence of indices to frame.
        shape: the shape of one image, (H, W) or (H, W, C) with C in {1, 3, 4}.
        cmap: colour map for one-channel images.
        vmin, vmax: colour range for the whole grid (default: the data's range).
        per_image: rescale every image to its own [min, max] instead (for
            unclipped inputs far outside [0, 1], as in Fig. 4); excludes ``vmin``/``vmax``.
        highlight_color: colour of the frames.
        row_labels: one label per row, written to the left of it (e.g. "clean",
            "FGSM").
        colorbar: the label of a colour bar drawn beside the grid (one-channel
            images only; not with ``per_image``), or ``None`` for no bar.
        title: a title in words above the grid, or ``None``.
        ax: draw into this axes instead of a new figure.
        figsize: size of a new figure in inches.

    Returns:
        The figure that holds the grid (``ax``'s figure when ``ax`` is given).

    Example:

    >>> import numpy as np
    >>> x = np.zeros((100, 784)); x[:, 300:400] = 1.0
    >>> fig = image_grid(x, rows=10, cols=10, highlight=np.arange(100) % 7 == 0)
    >>> len(fig.axes[0].patches)
    15
    """
    shape_t = _check_shape(shape)
    imgs = _as_images(images, shape_t, "images")
    n = imgs.shape[0]
    rows, cols = _grid_size(n, rows, cols)
    frames = _highlight_indices(highlight, n)
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != n:
            raise invalid("titles", f"{n} strings (one per image)", f"{len(titles)} strings")
    if per_image and (vmin is not None or vmax is not None):
        raise invalid("per_image", "False when vmin or vmax is given", per_image)
    if vmin is not None and vmax is not None and not float(vmin) < float(vmax):
        raise invalid("vmin", f"a number below vmax={vmax!r}", vmin)
    if row_labels is not None:
        row_labels = [str(label) for label in row_labels]
        if len(row_labels) != rows:
            raise invalid(
                "row_labels", f"{rows} strings (one per row)", f"{len(row_labels)} strings"
            )
    if colorbar is not None and (per_image or len(shape_t) == 3):
        raise invalid("colorbar", "None for colour images or per_image scaling", repr(colorbar))
    title = _check_title(title)

    if per_image:
        flat = imgs.reshape(n, -1)
        lo, hi = flat.min(axis=1), flat.max(axis=1)
        span = np.where(hi > lo, hi - lo, 1.0)
        imgs = (imgs - lo.reshape((n,) + (1,) * len(shape_t))) / span.reshape(
            (n,) + (1,) * len(shape_t)
        )
        imgs[hi == lo] = 0.5
        vmin, vmax = 0.0, 1.0

    height, width = shape_t[0], shape_t[1]
    color = len(shape_t) == 3
    pad = max(1, round(min(height, width) / 14))
    top = pad + (round(0.45 * height) if titles is not None else 0)
    mosaic_shape: tuple[int, ...] = (rows * (height + top) + pad, cols * (width + pad) + pad)
    if color:
        lo_c = float(imgs.min()) if vmin is None else float(vmin)
        hi_c = float(imgs.max()) if vmax is None else float(vmax)
        if vmin is None and vmax is None and lo_c >= 0.0 and hi_c <= 1.0:
            lo_c, hi_c = 0.0, 1.0
        imgs = np.clip((imgs - lo_c) / max(hi_c - lo_c, 1e-12), 0.0, 1.0)
        mosaic = np.ones((*mosaic_shape, shape_t[2]))
    else:
        mosaic = np.full(mosaic_shape, np.nan)

    def origin(i: int) -> tuple[int, int]:
        r, c = divmod(i, cols)
        return r * (height + top) + top, c * (width + pad) + pad

    for i in range(n):
        y0, x0 = origin(i)
        mosaic[y0 : y0 + height, x0 : x0 + width] = imgs[i]

    if ax is None:
        cell = min(2.5, max(0.4, 6.0 / max(rows, cols)))
        ratio = (height + top) / (width + pad)
        ax = _new_axes(figsize, (max(2.0, cols * cell), max(2.0, rows * cell * ratio)))
    if color:
        ax.imshow(mosaic, interpolation="nearest")
    else:
        colormap = matplotlib.colormaps[cmap].with_extremes(bad="white")
        shown = ax.imshow(mosaic, cmap=colormap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if colorbar is not None:
            bar = _figure_of(ax).colorbar(shown, ax=ax, fraction=0.03, pad=0.01)
            bar.set_label(colorbar)
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    if row_labels is not None:
        for r, label in enumerate(row_labels):
            ax.text(
                -pad,
                r * (height + top) + top + height / 2,
                label,
                ha="right",
                va="center",
                fontsize=9,
                clip_on=False,
            )

    for i in frames:
        y0, x0 = origin(i)
        ax.add_patch(
            Rectangle(
                (x0 - 0.5 - pad / 2, y0 - 0.5 - pad / 2),
                width + pad,
                height + pad,
                fill=False,
                edgecolor=highlight_color,
                linewidth=1.5,
            )
        )
    if titles is not None:
        size = max(5.0, min(10.0, 60.0 / cols))
        for i, title in enumerate(titles):
            y0, x0 = origin(i)
            ax.text(
                x0 + width / 2 - 0.5,
                y0 - pad,
                title,
                ha="center",
                va="bottom",
                fontsize=size,
                clip_on=False,
            )
    return _figure_of(ax)


def weights_grid(
    filters: Any,
    *,
    shape: Sequence[int] = (28, 28),
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    colorbar: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Show weight vectors as images, each scaled by its own largest ``|w|`` (0 is mid-grey).

    Fig. 2(a, b): ``weights_grid(np.stack([w, np.sign(w)]))`` shows the logistic
    regression's weights and the optimal perturbation sign(w) side by side.
    Fig. 3: pass an array (units, pieces, 784); each row is one maxout unit and
    each column one of its pieces (linear filters).

    Args:
        filters: (D,) one filter, (N, D) a row of N filters, or (R, C, D) an
            R × C grid; D = H·W, or the last axes may already be ``shape``.
        shape: the shape of one filter as an image.
        titles: optional caption per filter (row-major).
        cmap: colour map (default grey: black negative, white positive).
        colorbar: the label of a colour bar for the scale from -1 to 1 (each filter
            divided by its largest ``|w|``), or ``None`` for no bar.
        title: a title in words above the grid, or ``None``.
        ax: draw into this axes instead of a new figure.
        figsize: size of a new figure in inches.

    Returns:
        The figure.

    Example:

    >>> import numpy as np
    >>> w = np.random.default_rng(0).normal(size=784)
    >>> fig = weights_grid(np.stack([w, np.sign(w)]))
    >>> fig.axes[0].images[0].get_array().shape[1] > fig.axes[0].images[0].get_array().shape[0]
    True
    """
    shape_t = _check_shape(shape)
    if len(shape_t) != 2:
        raise invalid("shape", "a one-channel filter shape (height, width)", shape)
    arr = np.asarray(filters, dtype=np.float64)
    per = math.prod(shape_t)
    if arr.ndim >= 2 and arr.shape[-2:] == shape_t:
        arr = arr.reshape((*arr.shape[:-2], per))
    if arr.ndim not in (1, 2, 3) or arr.shape[-1] != per:
        raise invalid(
            "filters",
            f"an array (D,), (N, D) or (rows, cols, D) with D = {per} to match shape={shape_t}",
            f"an array of shape {arr.shape}",
        )
    if arr.ndim == 1:
        arr = arr[None, None]
    elif arr.ndim == 2:
        arr = arr[None]
    rows, cols = arr.shape[0], arr.shape[1]
    flat = arr.reshape(rows * cols, per)
    scale = np.abs(flat).max(axis=1, keepdims=True)
    flat = flat / np.where(scale > 0, scale, 1.0)
    return image_grid(
        flat,
        rows=rows,
        cols=cols,
        shape=shape_t,
        titles=titles,
        cmap=cmap,
        vmin=-1.0,
        vmax=1.0,
        colorbar=colorbar,
        title=title,
        ax=ax,
        figsize=figsize,
    )


# --------------------------------------------------------------------------- Fig. 1


def _caption(label: Any, confidence: Any, index: int) -> str:
    if label is None:
        return ""
    text = f"“{label}”"
    if confidence is not None:
        conf = check_fraction(confidence, f"confidences[{index}]")
        text += f"\n{100 * conf:.1f} % confidence"
    return text


def fig1_triptych(
    x: Any,
    gradient_sign: Any,
    x_adv: Any,
    *,
    labels: Sequence[Any],
    confidences: Sequence[float | None],
    eps: float,
    shape: Sequence[int] = (28, 28),
    title: str | None = None,
    figsize: tuple[float, float] = (9.0, 3.6),
) -> Figure:
    """The paper's Fig. 1: ``x`` + ε × ``sign(∇ₓJ)`` = ``x + ε sign(∇ₓJ)``.

    Three panels with the model's predicted label and confidence under each;
    the "+ ε ×" and "=" are drawn between them. In the paper (GoogLeNet, ε =
    .007) the captions read "panda" 57.7 %, "nematode" 8.2 %, "gibbon" 99.3 %.

    Args:
        x: the clean image (flat or of ``shape``).
        gradient_sign: sign(∇ₓJ) (any real image is accepted; it is shown on a
            scale symmetric around 0, so 0 is mid-grey).
        x_adv: the adversarial image x + ε·sign(∇ₓJ). ``x`` and ``x_adv`` share
            one colour scale.
        labels: three predicted labels (class names or indices); ``None``
            leaves a panel without a caption.
        confidences: three probabilities in [0, 1] (or ``None``) for those labels.
        eps: the ε written between the first two panels.
        shape: the shape of one image, (H, W) or (H, W, 3).
        title: a title in words above the three panels, or ``None``.
        figsize: figure size in inches.

    Returns:
        The figure: three image axes and two axes holding the operators.

    Example:

    >>> import numpy as np
    >>> x = np.zeros(784); s = np.ones(784)
    >>> fig = fig1_triptych(x, s, x + .25 * s, labels=[3, None, 7], confidences=[.9, None, .8], eps=.25)
    >>> sum(len(a.images) for a in fig.axes)
    3
    """
    shape_t = _check_shape(shape)
    eps = check_eps(eps)
    suptitle = _check_title(title)
    panels = [
        _as_image(x, shape_t, "x"),
        _as_image(gradient_sign, shape_t, "gradient_sign"),
        _as_image(x_adv, shape_t, "x_adv"),
    ]
    labels = list(labels)
    confidences = list(confidences)
    if len(labels) != 3:
        raise invalid("labels", "3 labels (for x, the gradient sign and x_adv)", labels)
    if len(confidences) != 3:
        raise invalid("confidences", "3 probabilities or None (one per panel)", confidences)
    captions = [
        _caption(lab, conf, i)
        for i, (lab, conf) in enumerate(zip(labels, confidences, strict=True))
    ]

    color = len(shape_t) == 3
    lo = min(float(panels[0].min()), float(panels[2].min()), 0.0)
    hi = max(float(panels[0].max()), float(panels[2].max()), 1.0)
    g_max = float(np.abs(panels[1]).max()) or 1.0

    fig = Figure(figsize=figsize, layout="constrained")
    grid = fig.add_gridspec(1, 5, width_ratios=[1.0, 0.42, 1.0, 0.22, 1.0])
    titles = ["$x$", f"${GRAD_LABEL}$", rf"$x + \epsilon\,{GRAD_LABEL}$"]
    for k, (panel, title, caption) in enumerate(zip(panels, titles, captions, strict=True)):
        ax = fig.add_subplot(grid[0, 2 * k])
        if color:
            if k == 1:
                shown = np.clip(0.5 + 0.5 * panel / g_max, 0.0, 1.0)
            else:
                shown = np.clip((panel - lo) / (hi - lo), 0.0, 1.0)
            ax.imshow(shown, interpolation="nearest")
        elif k == 1:
            ax.imshow(panel, cmap="gray", vmin=-g_max, vmax=g_max, interpolation="nearest")
        else:
            ax.imshow(panel, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(caption, fontsize=11)
    for col, text in ((1, f"$+\\;{eps:g}\\;\\times$"), (3, "$=$")):
        op = fig.add_subplot(grid[0, col])
        op.set_axis_off()
        op.text(0.5, 0.5, text, ha="center", va="center", fontsize=18, transform=op.transAxes)
    if suptitle is not None:
        fig.suptitle(suptitle)
    return fig


# --------------------------------------------------------------------------- curves


def sweep_plot(
    epsilons: Any,
    error: Any,
    confidence: Any = None,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    paper_point: Sequence[float] | None = None,
    figsize: tuple[float, float] = (5.0, 3.5),
) -> Figure:
    """Error rate (solid) and confidence on mistakes (dashed) versus ε, in percent.

    The paper's numbers, when given, are a star (error) and a diamond
    (confidence) in the model's colour, each with its own legend entry.

    Call it several times with the same ``ax`` to compare models; each call
    keeps one colour for its two curves.

    Args:
        epsilons: the ε values (>= 0), shape (E,).
        error: error rates as fractions in [0, 1], shape (E,)
            (``SweepResult.error``).
        confidence: optional mean confidence on mistakes, fractions in [0, 1],
            shape (E,) (``SweepResult.confidence_on_mistakes``); NaN where there
            was no mistake is left as a gap.
        ax: draw into this axes instead of a new figure.
        label: legend label of this model.
        paper_point: the paper's number to mark with a star, as fractions:
            ``(eps, error)`` or ``(eps, error, confidence)``.
        figsize: size of a new figure in inches.

    Returns:
        The figure.

    Example:

    >>> fig = sweep_plot([0, .1, .25], [.01, .4, .9], [.6, .8, .95], paper_point=(.25, .894, .976))
    >>> [line.get_label() for line in fig.axes[0].lines][2:]  # the paper: a star and a diamond
    ["model: paper's error", "model: paper's confidence"]
    """
    eps = np.asarray(check_epsilons(epsilons), dtype=np.float64)
    err = _fractions(error, eps.size, "error", allow_nan=False)
    conf = (
        None
        if confidence is None
        else _fractions(confidence, eps.size, "confidence", allow_nan=True)
    )
    if ax is None:
        ax = _new_axes(figsize, figsize)
    name = label or "model"
    (line,) = ax.plot(eps, 100 * err, "o-", label=f"{name}: error")
    if conf is not None:
        ax.plot(
            eps,
            100 * conf,
            "s--",
            color=line.get_color(),
            label=f"{name}: confidence on mistakes",
        )
    if paper_point is not None:
        point = list(paper_point)
        if len(point) not in (2, 3):
            raise invalid("paper_point", "(eps, error) or (eps, error, confidence)", paper_point)
        p_eps = check_eps(point[0], "paper_point[0]")
        values = [check_fraction(v, f"paper_point[{i + 1}]") for i, v in enumerate(point[1:])]
        for value, marker, what in zip(values, ("*", "D"), ("error", "confidence"), strict=False):
            ax.plot(
                [p_eps],
                [100 * value],
                marker,
                color=line.get_color(),
                markeredgecolor="black",
                markersize=12 if marker == "*" else 7,
                linestyle="none",
                label=f"{name}: paper's {what}",
            )
    ax.set_xlabel(r"$\epsilon$")
    ax.set_ylabel("error, confidence on mistakes (%)")
    ax.set_ylim(-2, 102)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_of(ax)


def linearity_plot(
    epsilons: Any,
    cost: Any,
    linear: Any,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    figsize: tuple[float, float] = (5.0, 3.5),
) -> Figure:
    """The cost along the FGSM direction (solid) and its linearisation (dotted) versus ε.

    Draws :class:`advkeras.evaluation.LinearityResult`'s ``cost`` and ``linear``;
    call it again with the same ``ax`` for another model (one colour per model).

    Args:
        epsilons: the ε values (>= 0), shape (E,).
        cost: mean ``J(x + ε·sign ∇ₓJ)``, shape (E,).
        linear: mean ``J(x) + ε‖∇ₓJ‖₁``, shape (E,).
        ax: draw into this axes instead of a new figure.
        label: the model's name in the legend.
        figsize: size of a new figure in inches.

    Returns:
        The figure.

    Example:

    >>> fig = linearity_plot([0, .1, .2], [0.1, 0.5, 1.2], [0.1, 0.6, 1.1], label="maxout")
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['maxout: cost J(x + η)', 'maxout: linearisation J(x) + ε‖∇J‖₁']
    """
    eps = np.asarray(check_epsilons(epsilons), dtype=np.float64)
    curves = []
    for values, argument in ((cost, "cost"), (linear, "linear")):
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != eps.shape or not np.all(np.isfinite(arr)):
            raise invalid(
                argument, f"{eps.size} finite numbers to match epsilons", f"shape {arr.shape}"
            )
        curves.append(arr)
    if ax is None:
        ax = _new_axes(figsize, figsize)
    name = label or "model"
    (line,) = ax.plot(eps, curves[0], "o-", label=f"{name}: cost J(x + η)")
    ax.plot(
        eps,
        curves[1],
        ":",
        color=line.get_color(),
        linewidth=2,
        label=f"{name}: linearisation J(x) + ε‖∇J‖₁",
    )
    ax.set_xlabel(r"$\epsilon$ (step along sign $\nabla_x J$, not clipped)")
    ax.set_ylabel("mean cross-entropy cost J")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_of(ax)


def curves(
    x: Any,
    series: Mapping[str, Any],
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    styles: Mapping[str, Mapping[str, Any]] | None = None,
    logx: bool = False,
    logy: bool = False,
    ylim: tuple[float, float] | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (6.0, 3.6),
) -> Figure:
    """Several named curves over one x axis, with a legend, labelled axes and a title.

    The shape of most of the book's line plots: an exact or theoretical curve
    against measured points (chapter 3's closed forms against FGSM).

    Args:
        x: the x values, shape (P,).
        series: legend label → y values of shape (P,) (NaN leaves a gap).
        xlabel, ylabel: the axis labels (words, with units).
        title: the title, or ``None``.
        styles: optional legend label → keyword arguments of ``Axes.plot``
            (default: markers ``"o"`` and a line).
        logx, logy: logarithmic axes.
        ylim: limits of the y axis.
        ax: draw into this axes instead of a new figure.
        figsize: size of a new figure in inches.

    Returns:
        The figure.

    Example:

    >>> fig = curves([1, 2, 3], {"exact": [1, 4, 9], "measured": [1, 4, 9.1]},
    ...              xlabel="n", ylabel="y", styles={"exact": {"linestyle": ":"}})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['exact', 'measured']
    """
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 1 or xs.size == 0:
        raise invalid("x", "a non-empty 1-D sequence of numbers", f"shape {xs.shape}")
    if not isinstance(series, Mapping) or not series:
        raise invalid("series", "a non-empty mapping label -> values", series)
    styles = dict(styles or {})
    unknown = sorted(set(styles) - set(series))
    if unknown:
        raise invalid("styles", "keys that are labels in `series`", unknown)
    if ax is None:
        ax = _new_axes(figsize, figsize)
    for label, values in series.items():
        ys = np.asarray(values, dtype=np.float64)
        if ys.shape != xs.shape:
            raise invalid(f"series[{label!r}]", f"shape {xs.shape} to match x", f"shape {ys.shape}")
        style = {"marker": "o", **styles.get(label, {})}
        ax.plot(xs, ys, label=str(label), **style)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title is not None:
        ax.set_title(title)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    return _figure_of(ax)


def _fractions(values: Any, n: int, argument: str, *, allow_nan: bool) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise invalid(argument, f"shape ({n},) to match epsilons", f"an array of shape {arr.shape}")
    finite = arr[np.isfinite(arr)]
    if (not allow_nan and finite.size != n) or np.any((finite < 0) | (finite > 1)):
        raise invalid(argument, "fractions in [0, 1]", arr.tolist())
    if allow_nan and np.any(np.isinf(arr)):
        raise invalid(argument, "fractions in [0, 1] (NaN allowed)", arr.tolist())
    return arr


def logits_along_direction(
    epsilons: Any,
    logits: Any,
    *,
    true_class: int,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (5.0, 4.0),
) -> Figure:
    """Fig. 4 (left): each class's argument to the softmax as x moves along ε·sign(∇ₓJ).

    The curves of a ReLU/maxout network are piecewise linear in ε; the true
    class is drawn bold.

    Args:
        epsilons: the ε values, shape (E,); negative values (moving against the
            gradient) are allowed.
        logits: the pre-softmax activations at ``x + ε·sign(∇ₓJ)``, shape (E, K).
        true_class: index of the true class, in [0, K).
        class_names: optional names for the legend (K strings).
        ax: draw into this axes instead of a new figure.
        figsize: size of a new figure in inches.

    Returns:
        The figure.

    Example:

    >>> import numpy as np
    >>> e = np.linspace(-1, 1, 5)
    >>> fig = logits_along_direction(e, np.outer(e, np.arange(10)), true_class=4)
    >>> max(line.get_linewidth() for line in fig.axes[0].lines) > 2
    True
    """
    eps = np.asarray(epsilons, dtype=np.float64)
    if eps.ndim != 1 or eps.size == 0 or not np.all(np.isfinite(eps)):
        raise invalid("epsilons", "a non-empty 1-D sequence of finite numbers", epsilons)
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] != eps.size or z.shape[1] < 2:
        raise invalid(
            "logits",
            f"an array of shape ({eps.size}, classes >= 2)",
            f"an array of shape {z.shape}",
        )
    if not np.all(np.isfinite(z)):
        raise invalid("logits", "finite values", "an array containing NaN or inf")
    k = z.shape[1]
    if (
        isinstance(true_class, bool)
        or not isinstance(true_class, int | np.integer)
        or not 0 <= true_class < k
    ):
        raise invalid("true_class", f"a class index in [0, {k - 1}]", true_class)
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise invalid("class_names", f"{k} names (one per class)", class_names)
    if ax is None:
        ax = _new_axes(figsize, figsize)
    colors = matplotlib.colormaps["tab10" if k <= 10 else "tab20"]
    for c in range(k):
        bold = c == int(true_class)
        ax.plot(
            eps,
            z[:, c],
            color="magenta" if bold else colors(c % colors.N),
            linewidth=3.0 if bold else 1.0,
            zorder=3 if bold else 2,
            label=names[c] + (" (true)" if bold else ""),
        )
    ax.axvline(0.0, color="0.6", linewidth=0.8, zorder=1)
    ax.set_xlabel(r"$\epsilon$")
    ax.set_ylabel("argument to softmax")
    ax.legend(fontsize=7, ncol=2)
    return _figure_of(ax)
