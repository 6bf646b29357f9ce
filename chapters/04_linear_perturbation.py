# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Linear perturbation of non-linear models
#
# > The linear view of the previous section says that adversarial examples should be easy to
# > make for any model that behaves linearly, even a little, in its input. Deep networks are
# > often pictured as extremely non-linear, but the ones we train best are deliberately close
# > to linear: LSTMs, rectified linear units and maxout units were all designed to behave
# > linearly over much of their range, because that makes them easy to optimise. Even
# > sigmoid networks are tuned to spend most of their time in the sigmoid's nearly linear
# > middle. Such models should be hurt by cheap, analytic perturbations of the kind that
# > breaks a linear model.
#
# (Section 4 of {cite}`goodfellow2015explaining`, paraphrased.) The section turns this
# into an attack. Write $J(\theta, x, y)$ for the cost used to train the network. Replace $J$
# by its first-order Taylor expansion around the input, $J(\theta, x + \eta, y) \approx
# J(\theta, x, y) + \eta^\top \nabla_x J(\theta, x, y)$, and ask which perturbation of
# max-norm at most $\epsilon$ raises it most. For a linear function the answer is exact, and
# it is the **fast gradient sign method** (FGSM):
#
# $$
# \eta \;=\; \epsilon\,\operatorname{sign}\!\big(\nabla_x J(\theta, x, y)\big),
# \qquad \tilde x = x + \eta,
# \qquad J(\theta, \tilde x, y) \approx J(\theta, x, y) + \epsilon\,\|\nabla_x J\|_1 .
# $$
#
# One backward pass gives the gradient, so the cost of an adversarial example is that of one
# training step. The paper then measures how badly FGSM hurts four models: a shallow softmax
# classifier and a maxout network on MNIST (claims C1 and C2), a convolutional maxout network
# on CIFAR-10 (C3), and GoogLeNet on ImageNet (Figure 1, discussed in chapter 1). It adds that
# rotating $x$ by a small angle towards the gradient also works (C4). This chapter measures
# each of them with advkeras.

# %%
# Set-up. On Colab, install advkeras, the book's package, from GitHub at the commit the book
# was executed with (to become "advkeras==<version>" once advkeras is released on PyPI), and
# myst-nb for glue(). TensorFlow, Keras and NumPy are Colab's own and stay as they are. If pip
# reports that it upgraded a package that was already imported, restart the session.
import os
import subprocess
import sys

ADVKERAS_REV = "d44392516da597b92dbbc42172b80add2a03202c"
ADVKERAS = f"advkeras @ git+https://github.com/advkeras/advkeras@{ADVKERAS_REV}"
override = os.environ.get("ADVKERAS_INSTALL_SOURCE")  # e.g. a local checkout, for CI
if override or "google.colab" in sys.modules:
    subprocess.check_call([sys.executable, "-m", "pip", "install", override or ADVKERAS, "myst-nb"])
if "google.colab" in sys.modules:  # the long-trained networks, hash-checked, instead of training
    os.environ.setdefault(
        "ADVKERAS_NETWORKS",
        f"https://raw.githubusercontent.com/advkeras/advkeras/{ADVKERAS_REV}/networks",
    )

import keras
import numpy as np
import tensorflow as tf

import advkeras

print(f"Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, Keras {keras.__version__},")
print(f"NumPy {np.__version__}, advkeras {advkeras.__version__}")
gpus = tf.config.list_physical_devices("GPU")
print("GPU:", ", ".join(gpu.name for gpu in gpus) if gpus else "none, TensorFlow runs on the CPU")

# %%
# %matplotlib inline
import time

import keras
import numpy as np
from IPython.display import display
from myst_nb import glue

from advkeras import attacks, evaluation, models, plotting, training
from advkeras.book import experiments, profiles, reporting

profile = profiles.get_profile()
print(profile.describe())
keras.utils.set_random_seed(0)

# %% [markdown]
# ## The data: MNIST, and footnote 1
#
# The MNIST experiments {cite}`lecun1998gradient` use pixel values in $[0, 1]$ and
# $\epsilon = 0.25$. Footnote 1 of the paper defends that large-looking step: MNIST digits
# are essentially binary, each pixel says "ink" or "no ink", so a classifier should be able to
# cope with any change that keeps every pixel within a band of width $0.5$ around its value,
# and people read such images without trouble. The data agree:

# %%
splits = experiments.mnist(profile)
x_train, y_train, x_test, y_test = splits.x_train, splits.y_train, splits.x_test, splits.y_test
near_binary = float(np.mean((x_test <= 0.1) | (x_test >= 0.9)))
ambiguous = float(np.mean((x_test > 0.25) & (x_test < 0.75)))
glue("ch4_near_binary", 100 * near_binary, display=False)
glue("ch4_ambiguous", 100 * ambiguous, display=False)
glue("ch4_n_test", len(x_test), display=False)
print(f"{len(x_test):,} test digits: {100 * near_binary:.1f} % of pixels <= .1 or >= .9")
print(f"pixels strictly between .25 and .75: {100 * ambiguous:.1f} %")

# %% [markdown]
# Of the pixels of the {glue:text}`ch4_n_test:,` test digits, {glue:text}`ch4_near_binary:.1f` %
# are within $0.1$ of black or white, and only {glue:text}`ch4_ambiguous:.1f` % lie strictly
# between $0.25$ and $0.75$. Moving every pixel by $\pm 0.25$ therefore leaves almost every
# ink pixel above $0.5$ and almost every background pixel below it: the digit can still be
# read by thresholding at one half. We come back to this at the end of the chapter.
#
# ## The two MNIST models
#
# Both models come from `advkeras.book.experiments`, which trains each of them once under the
# current profile and caches it, so that every chapter attacks the same networks:
#
# * the **shallow softmax classifier**, i.e. softmax regression $p(y \mid x) =
#   \operatorname{softmax}(W^\top x + b)$ trained with SGD (the paper gives no recipe);
# * the **maxout network** {cite}`goodfellow2013maxout`: two layers of maxout units with 5
#   pieces each, dropout {cite}`srivastava2014dropout` and max-norm constraints, trained with
#   the original pylearn2 recipe. It is "naive": not adversarially trained. It is the network
#   of chapter 1.

# %%
softmax = experiments.softmax_regression(profile)
maxout = experiments.maxout(profile, seed=0)
nets = {"softmax": softmax, "maxout": maxout}
clean = {name: evaluation.evaluate(net, x_test, y_test) for name, net in nets.items()}
kept = experiments.kept_epoch(maxout, profile)
glue("ch4_maxout_epochs", kept["epochs"], display=False)
for name, report in clean.items():
    glue(f"ch4_{name}_clean", 100 * report.error, display=False)
    print(f"{name:>7}: {100 * report.error:.2f} % test error")

# %% [markdown]
# On clean test digits softmax regression errs on {glue:text}`ch4_softmax_clean:.2f` % and
# the maxout network on {glue:text}`ch4_maxout_clean:.2f` %.
#
# ## C1 and C2: FGSM at $\epsilon = 0.25$
#
# `advkeras.attacks.fgsm` is the formula above. It takes the gradient of the model's own
# training cost (here the cross-entropy of the softmax output) with respect to the input,
# adds $\epsilon$ times its sign, and clips the result to the pixel range $[0, 1]$. The
# paper does not say whether it clipped; the book's figures do, so that every adversarial
# example shown is a valid image, and we measure both. We then score each model on its own
# adversarial examples: the error rate, and the mean probability it gives its (wrong)
# answer on the examples it gets wrong, which the paper calls the confidence.

# %%
eps = 0.25
adv = {name: attacks.fgsm(net, x_test, y_test, eps=eps) for name, net in nets.items()}
attacked = {name: evaluation.evaluate(net, adv[name], y_test) for name, net in nets.items()}
unclipped = {
    name: evaluation.attack_report(net, x_test, y_test, eps=eps, clip=None)
    for name, net in nets.items()
}
for name in nets:
    for tag, report in (("adv", attacked[name]), ("noclip", unclipped[name])):
        glue(f"ch4_{name}_{tag}_error", 100 * report.error, display=False)
        glue(f"ch4_{name}_{tag}_conf", 100 * report.confidence_on_mistakes, display=False)
        print(
            f"{name:>7}, {'clipped' if tag == 'adv' else 'not clipped'}: "
            f"{100 * report.error:.1f} % error, "
            f"{100 * report.confidence_on_mistakes:.1f} % confidence on mistakes"
        )
# The paper: 89.4 % error with 97.6 % confidence for its maxout network (0.94 % clean error).
conf = 100 * attacked["maxout"].confidence_on_mistakes
conf_free = 100 * unclipped["maxout"].confidence_on_mistakes
gap_free = round(abs(100 * unclipped["maxout"].error - 89.4), 1)  # compared as printed
gap_clip = round(abs(100 * attacked["maxout"].error - 89.4), 1)
closer = (
    "the unclipped reading is the closer one here"
    if gap_free < gap_clip
    else "the clipped reading is the closer one here"
    if gap_clip < gap_free
    else "the two readings are equally close here"
)
glue(
    "ch4_maxout_gap_story",
    f"The maxout network's error is {gap_free:.1f} points from the paper's 89.4 % on the "
    f"unclipped attack (verdict for C2-err, with the book's tolerance of 2 points: "
    f"{reporting.verdict(89.4, 100 * unclipped['maxout'].error, 2.0)}) and {gap_clip:.1f} "
    f"points on the clipped one: {closer}.",
    display=False,
)
how_trained = (
    f"the `{profile.name}` profile trained it for {kept['epochs']} epochs and keeps epoch "
    f"{kept['kept']} ({100 * clean['maxout'].error:.2f} % test error; the paper's network: "
    "0.94 %)"
)
glue(
    "ch4_maxout_conf_story",
    f"The maxout network's confidence on its mistakes is {abs(97.6 - conf):.1f} points "
    + ("below" if conf < 97.6 else "above")
    + f" the paper's 97.6 % with the clip and {abs(97.6 - conf_free):.1f} points "
    + ("below" if conf_free < 97.6 else "above")
    + f" without it; {how_trained}.",
    display=False,
)

# %% [markdown]
# The paper reports 99.9 % error with 79.3 % confidence for the shallow softmax, and 89.4 %
# error with 97.6 % confidence for the maxout network. Here softmax regression misclassifies
# {glue:text}`ch4_softmax_adv_error:.1f` % of the adversarial digits with
# {glue:text}`ch4_softmax_adv_conf:.1f` % confidence, and the maxout network
# {glue:text}`ch4_maxout_adv_error:.1f` % with {glue:text}`ch4_maxout_adv_conf:.1f` %.
# Without the clip to $[0, 1]$ the step is also taken where it would push a black pixel below
# 0 or a white one above 1, the perturbation is larger, and so are the numbers:
# {glue:text}`ch4_softmax_noclip_error:.1f` % / {glue:text}`ch4_softmax_noclip_conf:.1f` % for
# softmax regression and {glue:text}`ch4_maxout_noclip_error:.1f` % /
# {glue:text}`ch4_maxout_noclip_conf:.1f` % for the maxout network.
#
# {glue:text}`ch4_maxout_conf_story`
#
# Which of the two is the paper's number? We read C1 and C2 as the **unclipped** attack, and
# grade them on it (the clipped numbers are in the notes of the closing table), for three
# reasons: the paper's formula, $\tilde x = x + \epsilon\operatorname{sign}(\nabla_x J)$, has
# no clip and the text never mentions one; the inputs of its Figure 4 visibly leave $[0, 1]$
# (they are made along the same direction, with larger steps; the inventory of the paper's
# claims lists clipping among its ambiguities); and
# {doc}`05_linear_models_vs_weight_decay` grades the paper's other MNIST FGSM number, C6,
# unclipped for the same reason. {glue:text}`ch4_maxout_gap_story`
#
# The first ten test digits, and what each model makes of its own adversarial version of them:

# %% mystnb={"figure": {"caption": "The first ten test digits (top, titled with their labels) and their clipped FGSM versions made against softmax regression (middle) and against the maxout network (bottom), each titled with the attacked model's prediction. Each attack follows the gradient of the model it attacks, so the two perturbations differ. Over the whole test set the clipped attack fools softmax regression on {glue:text}`ch4_softmax_adv_error:.1f` % and the maxout network on {glue:text}`ch4_maxout_adv_error:.1f` % of the digits.", "name": "fig-ch04-fgsm-digits"}, "image": {"alt": "Three rows of ten handwritten digits. Top: clean digits, white on black, titled with their labels. Middle and bottom: the same digits with two different speckled grey patterns over the background, titled with the attacked model's predicted class."}}
n_show = 10
titles = [f"{c}" for c in y_test[:n_show]]
for name, net in nets.items():
    titles += [f"{c}" for c in evaluation.predict_labels(net, adv[name][:n_show])]
plotting.image_grid(
    np.concatenate([x_test[:n_show], adv["softmax"][:n_show], adv["maxout"][:n_show]]),
    rows=3,
    cols=n_show,
    titles=titles,
    row_labels=["clean (label)", "FGSM on softmax", "FGSM on maxout"],
    title="Test digits and their FGSM versions against each model",
    figsize=(11.0, 3.8),
)

# %% [markdown]
# Top: clean digits titled with their labels. Middle: FGSM (clipped) against softmax
# regression, titled with its prediction. Bottom: FGSM against the maxout network, titled
# with its prediction. Each attack uses the gradient of the model it attacks, so the two
# perturbations differ.
#
# ## Error and confidence as functions of $\epsilon$
#
# The paper gives one point per model. `attacks.fgsm_sweep` computes the gradient once and
# reuses its sign for every $\epsilon$, so a whole curve costs one backward pass and one
# forward pass per $\epsilon$ (clipped, as the figures above). The paper's numbers at
# $\epsilon = 0.25$ are a star (error) and a diamond (confidence) in each model's colour.

# %% mystnb={"figure": {"caption": "Error (solid, circles) and confidence on mistakes (dashed, squares) of softmax regression (blue) and the maxout network (orange) under clipped FGSM, against $\\epsilon$; stars and diamonds are the paper's error and confidence at its $\\epsilon$. The error of softmax regression passes one half by $\\epsilon =$ {glue:text}`ch4_softmax_half_eps:.3f`, that of the maxout network by $\\epsilon =$ {glue:text}`ch4_maxout_half_eps:.3f`.", "name": "fig-ch04-sweep"}, "image": {"alt": "Line plot of error and confidence on mistakes in percent against epsilon. Blue for softmax regression, orange for the maxout network. Each model has a solid error curve and a dashed confidence curve, for epsilon from 0 to 0.3. Star and diamond markers at the paper's epsilon show the paper's numbers."}}
epsilons = np.union1d(np.linspace(0.0, 0.3, profile.sweep_points), [eps])
sweeps = {name: attacks.fgsm_sweep(net, x_test, y_test, epsilons) for name, net in nets.items()}
paper_points = {"softmax": (eps, 0.999, 0.793), "maxout": (eps, 0.894, 0.976)}
fig = plotting.sweep_plot(
    epsilons,
    sweeps["softmax"].error,
    sweeps["softmax"].confidence_on_mistakes,
    label="softmax",
    paper_point=paper_points["softmax"],
    figsize=(6.5, 4.0),
)
plotting.sweep_plot(
    epsilons,
    sweeps["maxout"].error,
    sweeps["maxout"].confidence_on_mistakes,
    ax=fig.axes[0],
    label="maxout",
    paper_point=paper_points["maxout"],
)
fig.axes[0].set_title("FGSM on MNIST test digits, clipped to [0, 1]")
display(fig)

# %%
half = {
    name: float(epsilons[np.argmax(s.error >= 0.5)]) if np.any(s.error >= 0.5) else np.nan
    for name, s in sweeps.items()
}
glue("ch4_conf_eps_first", float(epsilons[1]), display=False)
rising = {}
for name, s in sweeps.items():
    conf_curve = 100 * np.asarray(s.confidence_on_mistakes)[1:]  # from the first eps > 0
    rising[name] = bool(np.all(np.diff(conf_curve) >= 0))
    glue(f"ch4_{name}_conf_first", float(conf_curve[0]), display=False)
    glue(f"ch4_{name}_conf_last", float(conf_curve[-1]), display=False)
    glue(
        f"ch4_{name}_conf_trend",
        "rises at every step" if rising[name] else "is not monotone",
        display=False,
    )
    glue(f"ch4_{name}_half_eps", half[name], display=False)
    print(f"{name:>7}: error first reaches 50 % at eps = {half[name]:.3f}")
    print(
        "         "
        + "  ".join(f"{e:.3f}:{100 * r:5.1f}%" for e, r in zip(epsilons, s.error, strict=True))
    )
model_names = {"softmax": "softmax regression", "maxout": "the maxout network"}
late = [n for n in ("softmax", "maxout") if not half[n] < eps]  # NaN: never within 0.3
if not late:
    half_vs_paper = (
        "both below the paper's 0.25 and at most "
        f"{100 * max(half.values()) / 0.5:.0f} % of the 0.5 band of footnote 1"
    )
else:
    half_vs_paper = "not below the paper's 0.25 for " + " and ".join(model_names[n] for n in late)
glue("ch4_half_vs_paper", half_vs_paper, display=False)

# %% [markdown]
# The error of softmax regression passes one half by
# $\epsilon = $ {glue:text}`ch4_softmax_half_eps:.3f`, that of the maxout network by
# $\epsilon = $ {glue:text}`ch4_maxout_half_eps:.3f` (on this grid of $\epsilon$ values):
# {glue:text}`ch4_half_vs_paper`. The
# confidence on mistakes (dashed), from $\epsilon = $ {glue:text}`ch4_conf_eps_first:.2f` to
# $0.3$, {glue:text}`ch4_softmax_conf_trend` for softmax regression
# ({glue:text}`ch4_softmax_conf_first:.1f` % to {glue:text}`ch4_softmax_conf_last:.1f` %) and
# {glue:text}`ch4_maxout_conf_trend` for the maxout network
# ({glue:text}`ch4_maxout_conf_first:.1f` % to {glue:text}`ch4_maxout_conf_last:.1f` %).
#
# ## Is the network close to linear along the attack direction?
#
# The argument of this section is that the first-order expansion
# $J(\theta, x + \eta, y) \approx J(\theta, x, y) + \epsilon\,\|\nabla_x J\|_1$ describes
# what the sign step does. `evaluation.linearity_along_sign` measures both sides for each
# $\epsilon$ from 0 to 0.25, without clipping, on the first
# {glue:text}`ch4_n_lin:,` test digits. Softmax regression is the control: it is exactly
# linear up to its softmax, so whatever gap it shows comes from the softmax and the
# cross-entropy, not from the input-to-logit map.

# %% mystnb={"figure": {"caption": "Mean cross-entropy along the sign of the gradient, without clipping (solid), and its first-order prediction $J(x) + \\epsilon\\|\\nabla_x J\\|_1$ (dotted), for softmax regression (blue) and the maxout network (orange). At the largest $\\epsilon$ the cost has risen {glue:text}`ch4_lin_softmax_end:.1f` times as much as its tangent predicts for softmax regression and {glue:text}`ch4_lin_maxout_end:.1f` times for the maxout network.", "name": "fig-ch04-linearity"}, "image": {"alt": "Line plot of the mean cross-entropy cost against epsilon. Two solid curves with markers, blue for softmax regression and orange for the maxout network, show the cost; two dotted straight lines of the same colours show the first-order predictions."}}
n_lin = min(2000, len(x_test))
lin_eps = np.linspace(0.0, 0.25, 11)
lin = {
    name: evaluation.linearity_along_sign(net, x_test[:n_lin], y_test[:n_lin], lin_eps)
    for name, net in nets.items()
}
fig = None
for name, r in lin.items():
    fig = plotting.linearity_plot(
        r.epsilons, r.cost, r.linear, label=name, ax=fig and fig.axes[0], figsize=(6.5, 4.0)
    )
fig.axes[0].set_title("cost along sign(∇J) and its first-order prediction")
display(fig)
for name, r in lin.items():
    glue(f"ch4_lin_{name}_small", float(r.realised[1]), display=False)
    glue(f"ch4_lin_{name}_end", float(r.realised[-1]), display=False)
    glue(f"ch4_lin_{name}_median_grad", float(np.median(r.gradient_l1)), display=False)
    print(f"{name:>7}: rise of J / predicted rise", np.round(r.realised[1:], 2))
under = [name for name, r in lin.items() if np.all(r.realised[1:] > 1)]
glue(
    "ch4_lin_under",
    "for both models, at every step"
    if len(under) == 2
    else f"at every step for {model_names[under[0]]} only"
    if under
    else "at every step for neither model",
    display=False,
)
rises = [name for name in under if np.all(np.diff(lin[name].cost) > 0)]
if rises:
    others = [name for name in lin if name not in rises]
    which = " and ".join(model_names[n] for n in rises)
    lin_shows = (
        f"What the measurement does show is what §4 needs: for {which} the cost rises at every "
        "step from 0 to 0.25, faster than its tangent, and never bends back. "
        + (f"For {which}, the first-order expansion" if others else "The first-order expansion")
        + " gets the direction right and the size wrong (too small), which makes FGSM stronger "
        "than the linear estimate, not weaker."
        + (
            f" For {' and '.join(model_names[n] for n in others)} the measurement does not "
            "show this at every step."
            if others
            else ""
        )
    )
else:
    lin_shows = (
        "For neither model does the cost rise at every step from 0 to 0.25 faster than its "
        "tangent, so the measurement does not show what §4 needs."
    )
glue("ch4_lin_shows", lin_shows, display=False)
n_above = int(np.sum(lin["maxout"].realised[1:] > lin["softmax"].realised[1:]))
n_steps = len(lin_eps) - 1
glue(
    "ch4_lin_above",
    f"larger than softmax regression's at all {n_steps}"
    if n_above == n_steps
    else f"larger than softmax regression's at none of the {n_steps}"
    if n_above == 0
    else f"larger than softmax regression's at {n_above} of the {n_steps}",
    display=False,
)
glue("ch4_lin_cap", float(-np.log(keras.config.epsilon())), display=False)
glue("ch4_n_lin", n_lin, display=False)
glue("ch4_lin_eps_small", float(lin_eps[1]), display=False)

# %% [markdown]
# The tangent underestimates the rise of the cost {glue:text}`ch4_lin_under`. At
# $\epsilon = $ {glue:text}`ch4_lin_eps_small:.3f` the cost of softmax regression has risen
# {glue:text}`ch4_lin_softmax_small:.1f` times as much as its tangent predicts, at
# $\epsilon = 0.25$ {glue:text}`ch4_lin_softmax_end:.1f` times (Keras caps the cross-entropy
# at $-\log 10^{-7} \approx$ {glue:text}`ch4_lin_cap:.1f`, which is where that curve
# flattens). Its logits move exactly linearly, so this gap is the curvature of the softmax
# and the cross-entropy alone. The maxout network's factors are
# {glue:text}`ch4_lin_above` steps of $\epsilon$: {glue:text}`ch4_lin_maxout_small:.1f` at
# {glue:text}`ch4_lin_eps_small:.3f` and {glue:text}`ch4_lin_maxout_end:.1f` at 0.25. One
# reason is its confidence: half of its clean digits sit where the cross-entropy is flat
# (their $\|\nabla_x J\|_1$ is below the median, {glue:text}`ch4_lin_maxout_median_grad:.1e`;
# softmax regression's median is {glue:text}`ch4_lin_softmax_median_grad:.1e`), so the
# tangent predicts almost nothing for them, while the *sign* of their tiny gradient still points
# where the cost then rises steeply. This measurement cannot tell that effect apart from a
# nonlinearity of the network itself; the logits can, and chapter
# {doc}`08_generalization` draws them along this direction (the paper's Figure 4).
# {glue:text}`ch4_lin_shows`
#
# ## Why is our softmax more confident than the paper's?
#
# The error of softmax regression matches the paper's 99.9 %, but its confidence on its
# mistakes does not match the 79.3 %. The public reproductions find the same: one reports
# 100 % error with 99.2 % confidence. The paper does not say how its softmax regression was
# trained, and for a linear model the confidence is a matter of scale. FGSM moves the
# difference between the scores of classes $j$ and $y$ by about
# $\epsilon\,\|w_j - w_y\|_1$; the larger the weights, the more extreme the softmax of the
# moved scores. Error saturates at 100 % long before confidence does. So anything that
# changes the size of $W$ (how long we train, weight decay, the optimizer) changes the
# confidence, while leaving the error near 100 %.
#
# To see this we train the same model again with the same optimizer as
# `experiments.softmax_regression`, once plainly and once with an L1 penalty of
# $\lambda = 3 \times 10^{-4}$ on $W$, and attack it with FGSM after every epoch (on the first
# {glue:text}`ch4_n_curve:,` test digits).

# %%
l1_values = [0.0, 3e-4]
n_curve = min(2000, len(x_test))
glue("ch4_n_curve", n_curve, display=False)
curves = {lam: [] for lam in l1_values}
for lam in l1_values:
    net = models.shallow_softmax()
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs, net=net, out=curves[lam]: out.append(
            (
                evaluation.attack_report(net, x_test[:n_curve], y_test[:n_curve], eps=eps),
                float(np.abs(net.get_layer("y").kernel.numpy()).sum(axis=0).mean()),
            )
        )
    )
    started = time.perf_counter()
    trained = training.fit_classifier(
        net,
        x_train,
        y_train,
        epochs=profile.epochs_linear,
        batch_size=profile.batch_size,
        l1=("y", lam) if lam else None,
        seed=0,
        callbacks=[record],
        verbose=0,
        optimizer=keras.optimizers.SGD(experiments.LINEAR_LR, momentum=experiments.LINEAR_MOMENTUM),
    )
    seconds = time.perf_counter() - started
    print(experiments.summary_line(f"softmax, L1 {lam:g}", trained.advkeras_history, seconds))

# %% mystnb={"figure": {"caption": "Softmax regression attacked with clipped FGSM after every epoch of SGD, without weight decay (blue) and with an L1 penalty (orange): error (solid) and confidence on mistakes (dashed); the dotted line is the paper's confidence. The error is at the top from the first epoch, while the confidence grows with the weights, from {glue:text}`ch4_conf_first:.1f` % to {glue:text}`ch4_conf_last:.1f` % without weight decay; with the L1 penalty it ends at {glue:text}`ch4_conf_l1_last:.1f` %.", "name": "fig-ch04-softmax-training"}, "image": {"alt": "Line plot of error and confidence on mistakes in percent against epochs of SGD. Both error curves run flat along the top of the plot. The confidence curve without weight decay rises steadily and crosses a dotted horizontal line, the paper's confidence, within the first few epochs; the confidence curve with the L1 penalty rises less and levels off just below that line."}}
epochs = np.arange(1, profile.epochs_linear + 1)
fig = None
for lam, curve in curves.items():
    fig = plotting.sweep_plot(
        epochs,
        [report.error for report, _ in curve],
        [report.confidence_on_mistakes for report, _ in curve],
        ax=None if fig is None else fig.axes[0],
        label="no weight decay" if lam == 0 else f"L1 penalty {lam:g}",
        figsize=(6.5, 4.0),
    )
fig.axes[0].axhline(79.3, color="black", linestyle=":", label="paper: 79.3 % confidence")
fig.axes[0].set_xlabel("epochs of SGD")
fig.axes[0].set_title("softmax regression during training, FGSM eps = .25 (clipped)")
fig.axes[0].set_ylim(50, 101)
fig.axes[0].legend(fontsize=8)
display(fig)

# %%
plain, decayed = curves[0.0], curves[l1_values[1]]
conf_plain = [100 * report.confidence_on_mistakes for report, _ in plain]
conf_decayed = [100 * report.confidence_on_mistakes for report, _ in decayed]
crossing = next((i + 1 for i, c in enumerate(conf_plain) if c >= 79.3), None)
glue("ch4_conf_first", conf_plain[0], display=False)
glue("ch4_conf_last", conf_plain[-1], display=False)
glue("ch4_conf_l1_last", conf_decayed[-1], display=False)
glue("ch4_err_l1_last", 100 * decayed[-1][0].error, display=False)
glue("ch4_w_first", plain[0][1], display=False)
glue("ch4_w_last", plain[-1][1], display=False)
glue("ch4_w_l1_last", decayed[-1][1], display=False)
glue("ch4_epochs_linear", profile.epochs_linear, display=False)
glue("ch4_crossing", "not within" if crossing is None else f"after {crossing} of", display=False)
print("confidence on mistakes per epoch, no decay:", np.round(conf_plain, 1))
print(f"confidence on mistakes per epoch, L1 {l1_values[1]:g}:", np.round(conf_decayed, 1))

# %% [markdown]
# Without weight decay the mean $\ell_1$ norm of a column of $W$ grows from
# {glue:text}`ch4_w_first:.1f` after one epoch to {glue:text}`ch4_w_last:.1f` after
# {glue:text}`ch4_epochs_linear` epochs, and the confidence on mistakes grows with it, from
# {glue:text}`ch4_conf_first:.1f` % to {glue:text}`ch4_conf_last:.1f` %. It passes the
# paper's 79.3 % {glue:text}`ch4_crossing` the {glue:text}`ch4_epochs_linear` epochs. The L1
# penalty holds the weights at {glue:text}`ch4_w_l1_last:.1f`, and the confidence levels off
# at {glue:text}`ch4_conf_l1_last:.1f` % while the error stays at
# {glue:text}`ch4_err_l1_last:.1f` %. Clipping matters too, as measured above: without it the
# cached softmax regression is {glue:text}`ch4_softmax_noclip_conf:.1f` % confident on its
# mistakes.
#
# So the paper's 79.3 % is what softmax regression gives after a short training or with a
# modest weight penalty; as its weights grow, the confidence climbs, to
# {glue:text}`ch4_conf_last:.1f` % after {glue:text}`ch4_epochs_linear` epochs here and
# {glue:text}`ch4_softmax_noclip_conf:.1f` % for the cached model attacked without clipping.
# The part of claim C1 that does not depend on the recipe is the error of
# almost 100 %: FGSM breaks a linear model whatever the scale of its weights. The confidence
# is a property of the training recipe, which the paper does not give. We grade C1 on the
# cached model of `experiments.softmax_regression` as it is, and note the range here.
#
# ## Label leaking: which label does the attack use?
#
# FGSM as written needs the true label $y$. {cite:t}`kurakin2016adversarial` noticed that
# using it can *leak* the label into the perturbation (an adversarially trained model can
# learn to read it back), and recommended attacking the model's own prediction instead,
# $\eta = \epsilon\,\operatorname{sign}(\nabla_x J(\theta, x, \hat y))$. `attacks.fgsm` does
# that when `y=None`. Both versions, both scored against the true labels:

# %%
leak = {}
for name, net in nets.items():
    x_pred = attacks.fgsm(net, x_test, None, eps=eps)
    leak[name] = (attacked[name].error, evaluation.error_rate(net, x_pred, y_test))
    glue(f"ch4_{name}_leak_true", 100 * leak[name][0], display=False)
    glue(f"ch4_{name}_leak_pred", 100 * leak[name][1], display=False)
    print(
        f"{name:>7}: true labels {100 * leak[name][0]:.2f} %, own predictions {100 * leak[name][1]:.2f} %"
    )
order = {
    name: "the lower" if pred < true else "the higher" if pred > true else "the same"
    for name, (true, pred) in leak.items()
}
glue(
    "ch4_leak_order",
    f"here the attack with y=None gives {order['softmax']} error for both models"
    if order["softmax"] == order["maxout"]
    else f"here the attack with y=None gives {order['softmax']} error for softmax regression "
    f"and {order['maxout']} for the maxout network",
    display=False,
)

# %% [markdown]
# With the true labels the error is {glue:text}`ch4_softmax_leak_true:.2f` % (softmax) and
# {glue:text}`ch4_maxout_leak_true:.2f` % (maxout); with the models' own predictions it is
# {glue:text}`ch4_softmax_leak_pred:.2f` % and {glue:text}`ch4_maxout_leak_pred:.2f` %. On a
# digit that the model classifies correctly, its prediction *is* the true label, so the two
# attacks make exactly the same perturbation; they can differ only on the digits that are
# misclassified to begin with ({glue:text}`ch4_softmax_clean:.2f` % and
# {glue:text}`ch4_maxout_clean:.2f` % of them). There, attacking the wrong prediction pushes
# the input away from it, sometimes back to the right class. So the two error rates can differ
# by at most the clean error rate; {glue:text}`ch4_leak_order`. For naively trained models the label does not
# leak in any way that matters; the check matters for adversarially trained models (§6 of the
# paper).
#
# ## C4: rotating $x$ towards the gradient
#
# The paper notes, without a number, that FGSM is not the only cheap direction: "rotating
# $x$ by a small angle in the direction of the gradient reliably produces adversarial
# examples". `attacks.rotate_toward_gradient` rotates each input in the plane spanned by $x$
# and $\nabla_x J$, keeping its Euclidean norm $\|x\|_2$:
# $x' = \cos(a)\,x + \sin(a)\,\|x\|_2\,u$, where $u$ is the unit vector of the part of the
# gradient orthogonal to $x$. As a control we rotate by the same angle towards a random
# direction $u$ (also orthogonal to $x$). The paper gives no angle and no clipping; we sweep
# the angle and do not clip, so that the norm is exactly kept. The paper gives no number
# either, so the rule for C4 is fixed here, before the measurement: at the reference angle of
# 0.2 radians, the rotation toward the gradient must fool the network on at least half of the
# test digits while the random rotation stays within 2 points of the clean error.

# %%
ref_angle = 0.2  # radians, about 11.5 degrees
angles = np.union1d(np.linspace(0.0, 0.4, profile.sweep_points), [ref_angle])
length = np.linalg.norm(x_test, axis=1, keepdims=True)
noise = np.random.default_rng(0).standard_normal(x_test.shape)
noise -= np.sum(noise * x_test, axis=1, keepdims=True) / length**2 * x_test
u_random = noise / np.linalg.norm(noise, axis=1, keepdims=True)
rotation = {"toward the gradient": [], "random direction": []}
for a in angles:
    x_grad = attacks.rotate_toward_gradient(maxout, x_test, y_test, angle=a)
    x_rand = (np.cos(a) * x_test + np.sin(a) * length * u_random).astype("float32")
    rotation["toward the gradient"].append(evaluation.evaluate(maxout, x_grad, y_test))
    rotation["random direction"].append(evaluation.evaluate(maxout, x_rand, y_test))

# %% mystnb={"figure": {"caption": "Error (solid) and confidence on mistakes (dashed) of the maxout network on test digits rotated by the angle $a$, keeping their norm, toward the gradient (blue) or toward a random direction (orange). At $a =$ {glue:text}`ch4_rot_angle:.3f` radians the rotation toward the gradient fools the network on {glue:text}`ch4_rot_grad_err:.1f` % of the digits; the random rotation of the same angle leaves the error at {glue:text}`ch4_rot_rand_err:.1f` %.", "name": "fig-ch04-rotation"}, "image": {"alt": "Line plot of error and confidence on mistakes in percent against the rotation angle in radians. Solid error curves and dashed confidence curves, blue for rotations toward the gradient and orange for rotations toward a random direction."}}
fig = None
for label, reports in rotation.items():
    fig = plotting.sweep_plot(
        angles,
        [r.error for r in reports],
        [r.confidence_on_mistakes for r in reports],
        ax=None if fig is None else fig.axes[0],
        label=label,
        figsize=(6.5, 4.0),
    )
fig.axes[0].set_xlabel("rotation angle $a$ (radians)")
fig.axes[0].set_title("maxout network on test digits rotated by the angle a")
display(fig)

# %%
ref = int(np.flatnonzero(angles == ref_angle)[0])
grad_err = rotation["toward the gradient"][ref].error
rand_err = rotation["random direction"][ref].error
mean_norm = float(length.mean())
fgsm_l2 = float(np.linalg.norm(adv["maxout"] - x_test, axis=1).mean())
glue("ch4_rot_angle", ref_angle, display=False)
glue("ch4_rot_degrees", float(np.degrees(ref_angle)), display=False)
glue("ch4_rot_grad_err", 100 * grad_err, display=False)
glue(
    "ch4_rot_grad_conf",
    100 * rotation["toward the gradient"][ref].confidence_on_mistakes,
    display=False,
)
glue("ch4_rot_rand_err", 100 * rand_err, display=False)
glue("ch4_rot_l2", float(2 * mean_norm * np.sin(ref_angle / 2)), display=False)
glue("ch4_fgsm_l2", fgsm_l2, display=False)
glue("ch4_x_norm", mean_norm, display=False)
rand_ok = abs(rand_err - clean["maxout"].error) <= 0.02
rotation_ok = grad_err >= 0.5 and rand_ok
if rotation_ok:
    rot_verdict = (
        "The claim holds: it is the direction, not the size of the change, that fools the network."
    )
else:
    misses = []
    if grad_err < 0.5:
        misses.append(
            "the rotation toward the gradient fools the network on fewer than half of the digits"
        )
    if not rand_ok:
        misses.append("the random rotation moves the error by more than 2 points")
    rot_verdict = "Here the claim is not borne out at this angle: " + " and ".join(misses) + "."
    if grad_err < 0.5:
        grad_curve = np.array([r.error for r in rotation["toward the gradient"]])
        later = np.flatnonzero((angles > ref_angle) & (grad_curve >= 0.5))
        rot_verdict += (
            " At larger angles the error toward the gradient first reaches one half at "
            f"{angles[later[0]]:.3f} radians."
            if later.size
            else " At no larger angle up to "
            f"{angles.max():.1f} radians does the error toward the gradient reach one half."
        )
glue("ch4_rot_verdict", rot_verdict, display=False)
print(f"angle {ref_angle:.3f} rad: gradient {100 * grad_err:.1f} %, random {100 * rand_err:.1f} %")

# %% [markdown]
# At $a = $ {glue:text}`ch4_rot_angle:.3f` radians ({glue:text}`ch4_rot_degrees:.1f`°) the
# rotation towards the gradient fools the maxout network on {glue:text}`ch4_rot_grad_err:.1f` %
# of the test digits, with {glue:text}`ch4_rot_grad_conf:.1f` % confidence on its mistakes,
# while the random rotation of the same angle leaves the error at
# {glue:text}`ch4_rot_rand_err:.1f` %. The test digits have a mean norm
# $\|x\|_2 = $ {glue:text}`ch4_x_norm:.2f`, so this rotation moves them by about
# {glue:text}`ch4_rot_l2:.2f` in Euclidean distance; the FGSM step of $\epsilon = 0.25$
# moves them by {glue:text}`ch4_fgsm_l2:.2f` on average. {glue:text}`ch4_rot_verdict`
# Some of the rotated digits, with the maxout network's predictions (rotated pixels can
# leave $[0, 1]$, so each image is drawn on its own grey scale):

# %% mystnb={"figure": {"caption": "The first ten test digits (top, titled with their labels), rotated by {glue:text}`ch4_rot_angle:.3f` radians toward the gradient (middle) and toward a random direction (bottom), each titled with the maxout network's prediction and drawn on its own grey scale. Of these ten, the network misclassifies {glue:text}`ch4_rot_show_grad` after the rotation toward the gradient and {glue:text}`ch4_rot_show_rand` after the random rotation.", "name": "fig-ch04-rotated-digits"}, "image": {"alt": "Three rows of ten handwritten digits. Top: clean digits titled with their labels. Middle, toward the gradient, and bottom, toward a random direction: the same digits rotated, each titled with the network's prediction."}}
x_grad = attacks.rotate_toward_gradient(maxout, x_test[:n_show], y_test[:n_show], angle=ref_angle)
x_rand = (
    np.cos(ref_angle) * x_test[:n_show] + np.sin(ref_angle) * length[:n_show] * u_random[:n_show]
)
rows = [x_test[:n_show], x_grad, x_rand.astype("float32")]
pred_grad, pred_rand = (evaluation.predict_labels(maxout, v) for v in rows[1:])
glue("ch4_rot_show_grad", int(np.sum(pred_grad != y_test[:n_show])), display=False)
glue("ch4_rot_show_rand", int(np.sum(pred_rand != y_test[:n_show])), display=False)
titles = [f"{c}" for c in y_test[:n_show]]
titles += [f"{c}" for c in pred_grad]
titles += [f"{c}" for c in pred_rand]
plotting.image_grid(
    np.concatenate(rows),
    rows=3,
    cols=n_show,
    titles=titles,
    row_labels=["clean (label)", "toward gradient", "random direction"],
    per_image=True,
    title="Digits rotated toward the gradient and in a random direction",
    figsize=(11.0, 3.8),
)

# %% [markdown]
# ## Footnote 1, tested: rounding the pixels
#
# If MNIST digits are binary and $\epsilon = 0.25 < 0.5$, then rounding every pixel of an
# adversarial digit to 0 or 1 should give back (almost) the rounded clean digit. The maxout
# network, applied to rounded images:

# %%
x_bin, adv_bin = (x_test > 0.5).astype("float32"), (adv["maxout"] > 0.5).astype("float32")
same_pixels = float(np.mean(x_bin == adv_bin))
bin_clean = evaluation.error_rate(maxout, x_bin, y_test)
bin_adv = evaluation.error_rate(maxout, adv_bin, y_test)
glue("ch4_bin_same", 100 * same_pixels, display=False)
glue("ch4_bin_clean", 100 * bin_clean, display=False)
glue("ch4_bin_adv", 100 * bin_adv, display=False)
glue("ch4_bin_ratio", bin_adv / bin_clean, display=False)
glue("ch4_bin_flip", 100 * (1 - same_pixels), display=False)
print(f"rounded pixels unchanged by FGSM: {100 * same_pixels:.2f} %")
print(
    f"maxout on rounded clean digits {100 * bin_clean:.2f} %, on rounded FGSM digits {100 * bin_adv:.2f} %"
)

# %% [markdown]
# Rounding leaves {glue:text}`ch4_bin_same:.2f` % of the pixels exactly as in the rounded
# clean digit; the pixels that flip are the grey ones on the edges of the strokes. The
# maxout network's error on the rounded adversarial digits is {glue:text}`ch4_bin_adv:.2f` %,
# against {glue:text}`ch4_bin_clean:.2f` % on the rounded clean digits and
# {glue:text}`ch4_maxout_adv_error:.1f` % on the adversarial digits themselves. Rounding
# undoes most of the attack, but not all of it: the error on rounded adversarial digits is
# still {glue:text}`ch4_bin_ratio:.1f` times that on rounded clean ones. So the footnote's
# premise holds for most digits, but the few flipped edge pixels, {glue:text}`ch4_bin_flip:.2f` %
# of all pixels, still carry enough of the perturbation to fool the network on
# {glue:text}`ch4_bin_adv:.2f` % of the digits. (Rounding is no defence: an attacker who knows
# about it attacks the rounding network, and it helps only because MNIST is nearly binary.)
#
# ## C3: a convolutional maxout network on CIFAR-10
#
# The paper's third model is a convolutional maxout network on CIFAR-10
# {cite}`krizhevsky2009learning`, with the preprocessing of the maxout paper (footnote 2):
# global contrast normalisation of every image to Euclidean norm 55, then ZCA whitening with
# a filter bias of 0.1. In those units it uses $\epsilon = 0.1$, and the footnote notes that
# the preprocessed pixels have a standard deviation of about 0.5, so $\epsilon = 0.1$ is a
# fifth of a standard deviation. After GCN alone the standard deviation would be
# $55/\sqrt{3072} \approx$ {glue:text}`ch4_gcn_std:.2f`. ZCA whitening with filter bias $b$
# then gives a principal direction of variance $\lambda$ the variance $\lambda/(\lambda + b)$,
# which is below 1: directions much stronger than $b$ end near 1, directions much weaker
# than $b$ near 0. The average over all directions, and so the standard deviation, depends on
# the eigenvalues of CIFAR-10's pixel covariance, which we cannot compute without the data;
# the footnote's standard deviation of 0.5 corresponds to an average variance of a quarter.
#
# The cell below loads CIFAR-10 with `datasets.load_cifar10` (from
# `$ADVKERAS_DATA_DIR/cifar-10-batches-py`, else through `keras.datasets`, which downloads it),
# trains `experiments.conv_maxout_cifar10` and attacks it. The machine that built this book has
# no internet access and no copy of CIFAR-10, so under the `book` profile the claim is "not
# run"; on a machine that can download the data (Colab, say) the same cell runs the
# experiment. Under the `smoke` profile of the tests it runs on a small folder of random
# images in the CIFAR-10 format, so that the code path is exercised; those numbers mean
# nothing.

# %%
glue("ch4_gcn_std", float(55 / np.sqrt(32 * 32 * 3)), display=False)
cifar_source, (cx_train, cy_train), (cx_test, cy_test) = experiments.cifar10(profile)

# %%
cifar = None
if cifar_source is not None:
    conv = experiments.conv_maxout_cifar10(profile, data=(cx_train, cy_train))
    cifar = {
        "std": float(cx_test.std()),
        "clean": evaluation.evaluate(conv, cx_test, cy_test),
        "adv": evaluation.attack_report(conv, cx_test, cy_test, eps=0.1, clip=None),
    }
    print(f"{cifar_source}: std of the preprocessed test pixels {cifar['std']:.3f}")
    print(
        f"clean error {100 * cifar['clean'].error:.2f} %; FGSM eps=.1: "
        f"{100 * cifar['adv'].error:.2f} % error, {100 * cifar['adv'].confidence_on_mistakes:.1f} % confidence"
    )
glue("ch4_cifar_source", cifar_source or "none (offline, no local copy)", display=False)
glue("ch4_cifar_std", "not measured" if cifar is None else f"{cifar['std']:.3f}", display=False)

# %% [markdown]
# Data used for C3 here: {glue:text}`ch4_cifar_source`. Standard deviation of the preprocessed
# test pixels: {glue:text}`ch4_cifar_std`. The closing table below says what was measured.
#
# ## Paper vs this book
#
# Tolerances are the book's default of 2 percentage points. C1 and C2 are graded on the
# unclipped attack, for the reasons given above; the notes give the clipped numbers. The
# paper gives no number for C4; as every claim without a number in this book, it is graded
# by the rule fixed before the measurement (above): reproduced when the
# rotation towards the gradient by {glue:text}`ch4_rot_angle:.1f` radians fools the network
# on at least half of the test digits while the random rotation of the same angle moves the
# error by at most 2 points.
# Footnote 1 is a statement about the data, shown above (verdict "shown"). Footnote 2 is
# graded on the standard deviation with a tolerance of 0.1.

# %%
real_cifar = cifar is not None and cifar_source == "CIFAR-10"
if real_cifar:
    cifar_note = ""
elif cifar is None:
    cifar_note = "CIFAR-10 cannot be loaded here: no internet access and no local copy"
else:
    cifar_note = (
        f"CIFAR-10 cannot be loaded here; on random stand-in images: "
        f"{100 * cifar['adv'].error:.1f} % / {100 * cifar['adv'].confidence_on_mistakes:.1f} %, "
        f"std {cifar['std']:.2f} (meaningless)"
    )
claims = [
    reporting.Claim(
        "C1-err",
        "shallow softmax, MNIST test, FGSM eps=.25, not clipped",
        "error",
        paper=99.9,
        ours=100 * unclipped["softmax"].error,
        note=f"clipped to [0, 1]: {100 * attacked['softmax'].error:.2f} %",
    ),
    reporting.Claim(
        "C1-conf",
        "shallow softmax, MNIST test, FGSM eps=.25, not clipped",
        "confidence on mistakes",
        paper=79.3,
        ours=100 * unclipped["softmax"].confidence_on_mistakes,
        note=(
            f"clipped: {100 * attacked['softmax'].confidence_on_mistakes:.1f} %; grows with the "
            f"weights: {conf_plain[0]:.1f} % after 1 epoch, {conf_decayed[-1]:.1f} % with L1 "
            f"{l1_values[1]:g} (clipped); the paper gives no recipe"
        ),
    ),
    reporting.Claim(
        "C2-err",
        "naive maxout, MNIST test, FGSM eps=.25, not clipped",
        "error",
        paper=89.4,
        ours=100 * unclipped["maxout"].error,
        note=(
            f"clipped to [0, 1]: {100 * attacked['maxout'].error:.1f} %; "
            f"{kept['epochs']} epochs, weights of epoch {kept['kept']}"
        ),
    ),
    reporting.Claim(
        "C2-conf",
        "naive maxout, MNIST test, FGSM eps=.25, not clipped",
        "confidence on mistakes",
        paper=97.6,
        ours=100 * unclipped["maxout"].confidence_on_mistakes,
        note=(
            f"clipped: {100 * attacked['maxout'].confidence_on_mistakes:.1f} %; "
            f"{kept['epochs']} epochs, weights of epoch {kept['kept']} "
            f"({100 * clean['maxout'].error:.2f} % clean error)"
        ),
    ),
    reporting.Claim(
        "C3-err",
        "conv maxout, CIFAR-10 test (GCN+ZCA), FGSM eps=.1",
        "error",
        paper=87.15,
        ours=100 * cifar["adv"].error if real_cifar else None,
        note=cifar_note,
    ),
    reporting.Claim(
        "C3-conf",
        "conv maxout, CIFAR-10 test (GCN+ZCA), FGSM eps=.1",
        "confidence on mistakes",
        paper=96.6,
        ours=100 * cifar["adv"].confidence_on_mistakes if real_cifar else None,
        note=cifar_note,
    ),
    reporting.Claim(
        "C4",
        f"naive maxout, MNIST test, rotation by {ref_angle:.3f} rad",
        "error (toward gradient)",
        paper=None,
        ours=100 * grad_err,
        verdict="reproduced" if rotation_ok else "not reproduced",
        note=f"random direction, same angle: {100 * rand_err:.1f} % (clean "
        f"{100 * clean['maxout'].error:.2f} %); rule: toward the gradient >= 50 %, random "
        "within 2 points of clean",
    ),
    reporting.Claim(
        "FN1",
        "MNIST test pixels",
        "pixels within .1 of 0 or 1",
        paper=None,
        ours=100 * near_binary,
        verdict="shown",
        note=(
            f"rounding x_adv to 0/1 brings the maxout error from "
            f"{100 * attacked['maxout'].error:.1f} % to {100 * bin_adv:.2f} %"
        ),
    ),
    reporting.Claim(
        "FN2",
        "CIFAR-10 after GCN+ZCA",
        "std of the pixels",
        paper=0.5,
        ours=cifar["std"] if real_cifar else None,
        unit="",
        tolerance=0.1,
        note=cifar_note,
    ),
]
extra = {
    "clean_error": {name: 100 * r.error for name, r in clean.items()},
    "sweeps": {name: s.as_dict() for name, s in sweeps.items()},
    "label_leaking": {
        name: {"true": 100 * v[0], "predicted": 100 * v[1]} for name, v in leak.items()
    },
    "softmax_confidence_by_epoch": {
        "no decay": conf_plain,
        f"l1={l1_values[1]:g}": conf_decayed,
    },
    "rotation": {
        "angles": angles.tolist(),
        **{label: [100 * r.error for r in reports] for label, reports in rotation.items()},
    },
    "rounded": {"clean": 100 * bin_clean, "adversarial": 100 * bin_adv},
    "linearity": {name: r.as_dict() for name, r in lin.items()},
}
reporting.save_results("04_linear_perturbation", claims, extra=extra)
reporting.show_claims(claims)
