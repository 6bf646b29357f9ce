"""Tests of advkeras.plotting: figure structure, highlight frames, colour scales, input checks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from advkeras import plotting  # noqa: E402

RNG = np.random.default_rng(0)


def _images(fig: Figure) -> list:
    return [im for ax in fig.axes for im in ax.images]


def _rectangles(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


# --------------------------------------------------------------------------- image_grid


def test_image_grid_10x10_is_one_mosaic_with_cells_in_row_major_order():
    x = np.zeros((100, 784))
    for i in range(100):
        x[i, :] = i / 99.0  # each image constant: its value tells where it went
    fig = plotting.image_grid(x, rows=10, cols=10)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1 and len(_images(fig)) == 1
    mosaic = np.asarray(fig.axes[0].images[0].get_array())
    pad = 2  # 28 // 14
    assert mosaic.shape == (10 * 30 + pad, 10 * 30 + pad)
    # cell (row 3, col 7) holds image 37, its first pixel at (pad + 3*30, pad + 7*30)
    assert mosaic[pad + 3 * 30, pad + 7 * 30] == pytest.approx(37 / 99)
    assert mosaic[pad + 9 * 30 + 27, pad + 9 * 30 + 27] == pytest.approx(1.0)
    # padding is blank (masked), not a pixel value
    assert np.isnan(mosaic[0, 0])


def test_image_grid_accepts_shaped_images_and_default_square_layout():
    x = RNG.random((7, 28, 28, 1))
    fig = plotting.image_grid(x)  # 3 x 3 grid, two blank cells
    mosaic = np.asarray(fig.axes[0].images[0].get_array())
    assert mosaic.shape == (3 * 30 + 2, 3 * 30 + 2)
    assert np.ma.count_masked(fig.axes[0].images[0].get_array()) == mosaic.size - 7 * 784


def test_image_grid_highlight_draws_one_frame_per_selected_image():
    x = RNG.random((12, 784))
    mask = np.zeros(12, dtype=bool)
    mask[[0, 5, 11]] = True
    fig = plotting.image_grid(x, rows=3, cols=4, highlight=mask)
    frames = _rectangles(fig.axes[0])
    assert len(frames) == 3
    assert all(matplotlib.colors.same_color(f.get_edgecolor(), "yellow") for f in frames)
    # frame of image 5 (row 1, col 1) surrounds its cell
    xs = sorted(f.get_x() for f in frames)
    ys = sorted(f.get_y() for f in frames)
    assert xs[0] < 2 and ys[0] < 2  # image 0 at the top left
    f5 = [f for f in frames if 30 < f.get_x() < 60][0]
    assert f5.get_y() < 2 + 30 <= f5.get_y() + f5.get_height()
    # indices give the same frames as a mask
    fig2 = plotting.image_grid(x, rows=3, cols=4, highlight=[11, 0, 5])
    assert sorted(f.get_x() for f in _rectangles(fig2.axes[0])) == pytest.approx(xs)
    assert len(_rectangles(plotting.image_grid(x).axes[0])) == 0


def test_image_grid_titles_and_ax_reuse():
    matplotlib.pyplot.close("all")
    fig = Figure()
    ax_left, ax_right = fig.subplots(1, 2)
    out = plotting.image_grid(RNG.random((4, 784)), titles=list("abcd"), ax=ax_right)
    assert out is fig
    assert [t.get_text() for t in ax_right.texts] == list("abcd")
    assert len(ax_left.images) == 0 and len(ax_right.images) == 1


def test_image_grid_per_image_scaling_and_colour():
    x = np.stack([np.linspace(-10, -5, 784), np.linspace(3, 30, 784)])
    mosaic = np.asarray(plotting.image_grid(x, per_image=True).axes[0].images[0].get_array())
    values = mosaic[np.isfinite(mosaic)]
    assert values.min() == pytest.approx(0.0) and values.max() == pytest.approx(1.0)
    rgb = RNG.normal(size=(4, 32, 32, 3))  # e.g. ZCA-whitened CIFAR: outside [0, 1]
    fig = plotting.image_grid(rgb, shape=(32, 32, 3))
    arr = np.asarray(fig.axes[0].images[0].get_array())
    assert arr.ndim == 3 and arr.shape[-1] == 3 and arr.min() >= 0 and arr.max() <= 1


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"images": np.zeros((4, 100))}, "images"),
        ({"images": np.zeros((4, 784)), "shape": (28, 28, 2)}, "shape"),
        ({"images": np.zeros((5, 784)), "rows": 2, "cols": 2}, "rows"),
        ({"images": np.zeros((4, 784)), "rows": 0}, "rows"),
        ({"images": np.zeros((4, 784)), "highlight": [True, False]}, "highlight"),
        ({"images": np.zeros((4, 784)), "highlight": [7]}, "highlight"),
        ({"images": np.zeros((4, 784)), "titles": ["a"]}, "titles"),
        ({"images": np.full((4, 784), np.nan)}, "images"),
        ({"images": np.zeros((4, 784)), "per_image": True, "vmin": 0.0}, "per_image"),
        ({"images": np.zeros((0, 784))}, "images"),
    ],
)
def test_image_grid_rejects_bad_input(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        plotting.image_grid(**kwargs)


# --------------------------------------------------------------------------- weights_grid


def test_weights_grid_fig3_layout_and_symmetric_scaling():
    w = RNG.normal(size=(5, 5, 784))  # units x pieces x pixels
    w[2, 3] *= 1000.0  # one huge filter must not wash out the others
    fig = plotting.weights_grid(w)
    im = fig.axes[0].images[0]
    assert im.get_clim() == (-1.0, 1.0)
    mosaic = np.asarray(im.get_array())
    assert mosaic.shape == (5 * 30 + 2, 5 * 30 + 2)
    # each filter is divided by its own max |w|: every cell reaches +-1
    for r in range(5):
        for c in range(5):
            cell = mosaic[2 + 30 * r : 2 + 30 * r + 28, 2 + 30 * c : 2 + 30 * c + 28]
            assert np.abs(cell).max() == pytest.approx(1.0)
    # cell (r, c) holds w[r, c]
    cell = mosaic[2 + 30 : 2 + 30 + 28, 2 + 60 : 2 + 60 + 28]
    np.testing.assert_allclose(cell, (w[1, 2] / np.abs(w[1, 2]).max()).reshape(28, 28))


def test_weights_grid_fig2_w_and_sign_w():
    w = RNG.normal(size=784)
    fig = plotting.weights_grid(np.stack([w, np.sign(w)]), titles=["w", "sign(w)"])
    mosaic = np.asarray(fig.axes[0].images[0].get_array())
    assert mosaic.shape == (1 * (30 + 13) + 2, 2 * 30 + 2)  # titles add space on top
    signs = mosaic[15 : 15 + 28, 32 : 32 + 28]
    assert set(np.unique(signs)) <= {-1.0, 0.0, 1.0}
    fig1 = plotting.weights_grid(w.reshape(28, 28))
    assert len(_images(fig1)) == 1
    with pytest.raises(ValueError, match="`filters`"):
        plotting.weights_grid(np.zeros((3, 100)))
    with pytest.raises(ValueError, match="`filters`"):
        plotting.weights_grid(np.zeros((2, 2, 2, 784)))


# --------------------------------------------------------------------------- Fig. 1


def test_fig1_triptych_panels_captions_and_operators():
    x = RNG.random(784)
    s = np.sign(RNG.normal(size=784))
    x_adv = x + 0.25 * s
    fig = plotting.fig1_triptych(
        x, s, x_adv, labels=["3", "8", "7"], confidences=[0.577, 0.082, 0.993], eps=0.25
    )
    images = _images(fig)
    assert len(images) == 3
    image_axes = [ax for ax in fig.axes if ax.images]
    captions = [ax.get_xlabel() for ax in image_axes]
    assert "57.7 %" in captions[0] and "8.2 %" in captions[1] and "99.3 %" in captions[2]
    assert "“7”" in captions[2]
    operators = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("0.25" in t and "+" in t for t in operators)
    assert any("=" in t for t in operators)
    # the sign panel is centred on zero; x and x_adv share one colour scale
    assert images[1].get_clim() == (-1.0, 1.0)
    assert images[0].get_clim() == images[2].get_clim()
    lo, hi = images[0].get_clim()
    assert lo <= x_adv.min() and hi >= x_adv.max()


def test_fig1_triptych_allows_missing_caption_and_validates():
    x = np.zeros((1, 28, 28, 1))
    fig = plotting.fig1_triptych(
        x, x, x, labels=[1, None, 2], confidences=[0.5, None, 0.9], eps=0.1
    )
    assert [ax.get_xlabel() for ax in fig.axes if ax.images][1] == ""
    ok = {"labels": [1, 2, 3], "confidences": [0.5, 0.5, 0.5], "eps": 0.1}
    with pytest.raises(ValueError, match="`x_adv`"):
        plotting.fig1_triptych(np.zeros(784), np.zeros(784), np.zeros(100), **ok)
    with pytest.raises(ValueError, match=r"`confidences\[2\]`"):
        plotting.fig1_triptych(x, x, x, **{**ok, "confidences": [0.5, 0.5, 99.3]})
    with pytest.raises(ValueError, match="`labels`"):
        plotting.fig1_triptych(x, x, x, **{**ok, "labels": [1, 2]})
    with pytest.raises(ValueError, match="`eps`"):
        plotting.fig1_triptych(x, x, x, **{**ok, "eps": -1})


# --------------------------------------------------------------------------- curves


def test_sweep_plot_curves_in_percent_and_paper_marker():
    eps = [0.0, 0.1, 0.25]
    fig = plotting.sweep_plot(
        eps,
        [0.01, 0.5, 0.894],
        [np.nan, 0.8, 0.976],
        label="maxout",
        paper_point=(0.25, 0.894, 0.976),
    )
    ax = fig.axes[0]
    error_line, conf_line, paper_error, paper_conf = ax.lines
    np.testing.assert_allclose(error_line.get_ydata(), [1.0, 50.0, 89.4])
    assert conf_line.get_color() == error_line.get_color()
    np.testing.assert_allclose(paper_error.get_xdata(), [0.25])
    np.testing.assert_allclose(paper_error.get_ydata(), [89.4])
    np.testing.assert_allclose(paper_conf.get_ydata(), [97.6])
    # a second model on the same axes gets its own colour
    out = plotting.sweep_plot(eps, [0.0, 0.1, 0.2], ax=ax, label="adversarial")
    assert out is fig and len(ax.lines) == 5
    assert ax.lines[4].get_color() != error_line.get_color()


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        (([0.0, 0.1], [0.5]), {}, "error"),
        (([0.0, 0.1], [0.5, 89.4]), {}, "error"),
        (([0.0, -0.1], [0.5, 0.5]), {}, r"epsilons\[1\]"),
        (([0.0, 0.1], [0.5, 0.5], [0.5, 2.0]), {}, "confidence"),
        (([0.25], [0.5]), {"paper_point": (0.25, 89.4)}, r"paper_point\[1\]"),
        (([0.25], [0.5]), {"paper_point": (0.25,)}, "paper_point"),
    ],
)
def test_sweep_plot_rejects_bad_input(args, kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        plotting.sweep_plot(*args, **kwargs)


def test_logits_along_direction_true_class_bold():
    eps = np.linspace(-10, 10, 101)
    logits = np.outer(eps, np.arange(10) - 4.5)
    fig = plotting.logits_along_direction(eps, logits, true_class=4)
    lines = [line for line in fig.axes[0].lines if line.get_label() != "_child10"]
    widths = [line.get_linewidth() for line in lines[:10]]
    assert widths[4] == max(widths) and sorted(widths)[-2] < widths[4]
    np.testing.assert_allclose(lines[7].get_ydata(), logits[:, 7])
    assert "(true)" in lines[4].get_label()
    with pytest.raises(ValueError, match="`true_class`"):
        plotting.logits_along_direction(eps, logits, true_class=10)
    with pytest.raises(ValueError, match="`logits`"):
        plotting.logits_along_direction(eps, logits[:5], true_class=4)
    with pytest.raises(ValueError, match="`class_names`"):
        plotting.logits_along_direction(eps, logits, true_class=4, class_names=["a"])


def test_figures_are_not_registered_with_pyplot():
    import matplotlib.pyplot as plt

    plt.close("all")
    plotting.image_grid(np.zeros((4, 784)))
    plotting.sweep_plot([0.1], [0.5])
    assert plt.get_fignums() == []


def test_image_grid_row_labels_and_colorbar():
    x = np.linspace(-1, 1, 6 * 784).reshape(6, 784)
    fig = plotting.image_grid(
        x, rows=2, cols=3, row_labels=["L-BFGS", "FGSM"], colorbar="r", vmin=-1, vmax=1
    )
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["L-BFGS", "FGSM"]
    first, second = (t.get_position()[1] for t in ax.texts)
    assert second > first  # image rows go down the mosaic
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "r"  # the colour bar's axes
    with pytest.raises(ValueError, match="`row_labels`"):
        plotting.image_grid(x, rows=2, cols=3, row_labels=["only one"])
    with pytest.raises(ValueError, match="`colorbar`"):
        plotting.image_grid(x, rows=2, cols=3, per_image=True, colorbar="r")


def test_sweep_plot_paper_markers_are_separate_and_named_per_model():
    fig = plotting.sweep_plot(
        [0.0, 0.25], [0.0, 0.9], [np.nan, 0.95], label="maxout", paper_point=(0.25, 0.894, 0.976)
    )
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert labels == [
        "maxout: error",
        "maxout: confidence on mistakes",
        "maxout: paper's error",
        "maxout: paper's confidence",
    ]
    assert ax.lines[2].get_marker() != ax.lines[3].get_marker()
    assert ax.lines[2].get_color() == ax.lines[0].get_color()
    assert "%" in ax.get_ylabel() and ax.get_ylabel() != "%"


def test_linearity_plot_draws_cost_and_tangent_in_one_colour():
    fig = plotting.linearity_plot([0, 0.1, 0.2], [0.1, 0.4, 0.9], [0.1, 0.5, 0.9], label="m")
    cost, tangent = fig.axes[0].lines
    np.testing.assert_allclose(cost.get_ydata(), [0.1, 0.4, 0.9])
    np.testing.assert_allclose(tangent.get_ydata(), [0.1, 0.5, 0.9])
    assert cost.get_color() == tangent.get_color()
    with pytest.raises(ValueError, match="`linear`"):
        plotting.linearity_plot([0, 0.1], [0.1, 0.2], [0.1])


def test_curves_draws_each_series_with_its_style_and_labels():
    fig = plotting.curves(
        [0, 4, 8],
        {"exact": [0.0, 50.0, 100.0], "FGSM": [0.0, 49.0, np.nan]},
        xlabel="ε (grey levels)",
        ylabel="error (%)",
        title="logistic regression",
        styles={"exact": {"color": "0.6", "linewidth": 4, "marker": ""}},
        logx=False,
        ylim=(0, 100),
    )
    ax = fig.axes[0]
    exact, measured = ax.lines
    assert exact.get_label() == "exact" and exact.get_linewidth() == 4
    assert measured.get_marker() == "o"
    np.testing.assert_allclose(measured.get_ydata()[:2], [0.0, 49.0])
    assert ax.get_xlabel() == "ε (grey levels)" and ax.get_title() == "logistic regression"
    assert ax.get_ylim() == (0.0, 100.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exact", "FGSM"]


@pytest.mark.parametrize(
    ("x", "series", "styles", "argument"),
    [
        ([], {"a": []}, None, "x"),
        ([0, 1], {}, None, "series"),
        ([0, 1], {"a": [1, 2, 3]}, None, r"series\['a'\]"),
        ([0, 1], {"a": [1, 2]}, {"b": {}}, "styles"),
    ],
)
def test_curves_rejects_bad_input(x, series, styles, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        plotting.curves(x, series, xlabel="x", ylabel="y", styles=styles)


def test_titles_in_words_on_grids_and_fig1():
    x = np.linspace(0, 1, 4 * 784).reshape(4, 784)
    fig = plotting.image_grid(x, rows=2, title="clean test digits")
    assert fig.axes[0].get_title() == "clean test digits"
    assert plotting.image_grid(x, rows=2).axes[0].get_title() == ""
    w = np.linspace(-2, 1, 784)
    fig = plotting.weights_grid(np.stack([w, np.sign(w)]), title="weights", colorbar="w / max|w|")
    assert fig.axes[0].get_title() == "weights"
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "w / max|w|"
    assert fig.axes[0].images[0].get_clim() == (-1.0, 1.0)  # the bar's scale
    fig = plotting.fig1_triptych(
        x[0], x[1], x[2], labels=[1, 2, 3], confidences=[0.5] * 3, eps=0.1, title="Figure 1"
    )
    assert fig.get_suptitle() == "Figure 1"
    for bad in ("", "  ", 3):
        with pytest.raises(ValueError, match="`title`"):
            plotting.image_grid(x, title=bad)
        with pytest.raises(ValueError, match="`title`"):
            plotting.fig1_triptych(
                x[0], x[1], x[2], labels=[1, 2, 3], confidences=[0.5] * 3, eps=0.1, title=bad
            )
