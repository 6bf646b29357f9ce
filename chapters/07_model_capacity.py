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
# # Different kinds of model capacity
#
# > One reason that the existence of adversarial examples can seem counter-intuitive is that
# > most of us have poor intuitions for high-dimensional spaces. [...] Many people think of
# > low-capacity models as unable to make many different confident predictions. This is not
# > correct. Some models with low capacity do exhibit this behavior. For example, shallow RBF
# > networks with $p(y = 1 \mid x) = \exp\big((x - \mu)^\top \beta (x - \mu)\big)$ are only able
# > to confidently predict that the positive class is present in the vicinity of $\mu$.
# > Elsewhere, they default to predicting the class is absent, or have low-confidence
# > predictions. RBF networks are naturally immune to adversarial examples, in the sense that
# > they have low confidence when they are fooled. A shallow RBF network with no hidden layers
# > gets an error rate of 55.4 % on MNIST using adversarial examples generated with the fast
# > gradient sign method and $\epsilon = .25$. However, its confidence on mistaken examples is
# > only 1.2 %. Its average confidence on clean test examples is 60.6 %. We can't expect a
# > model with such low capacity to get the right answer at all points of space, but it does
# > correctly respond by reducing its confidence considerably on points it does not
# > "understand." RBF units are unfortunately not invariant to any significant
# > transformations so they cannot generalize very well. We can view linear units and RBF
# > units as different points on a precision-recall tradeoff curve. Linear units achieve high
# > recall by responding to every input in a certain direction, but may have low precision due
# > to responding too strongly in unfamiliar situations. RBF units achieve high precision by
# > responding only to a specific point in space, but in doing so sacrifice recall. Motivated
# > by this idea, we decided to explore a variety of models involving quadratic units,
# > including deep RBF networks. We found this to be a difficult task: every model with
# > sufficient quadratic inhibition to resist adversarial perturbation obtained high training
# > set error when trained with SGD.
#
# (Section 7 of {cite}`goodfellow2015explaining`, abridged.) This chapter builds six readings
# of the shallow RBF network, measures claim C22 on the book's default one, draws the
# precision-recall trade-off of RBF units against softmax regression, and makes a small
# attempt at a deep RBF network (C23).

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
import keras
import numpy as np
from IPython.display import Markdown, display
from matplotlib.figure import Figure
from myst_nb import glue

from advkeras import attacks, evaluation, model_capacity
from advkeras.book import experiments, profiles, reporting

profile = profiles.get_profile()
print(profile.describe())
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Which RBF network?
#
# The formula as printed has no minus sign: with a positive definite $\beta$,
# $\exp\big((x - \mu)^\top \beta (x - \mu)\big) \ge 1$ is no probability, so we read it as
# $\exp\big(-(x - \mu)^\top \beta (x - \mu)\big)$ with $\beta$ positive definite. The formula is
# also written for one output, $p(y = 1 \mid x)$, "the positive class". For ten digits the
# paper's numbers force one *independent* unit per class,
# $p_k(x) = \exp\big(-(x - \mu_k)^\top \beta_k (x - \mu_k)\big)$, each saying whether its class
# is present, and not a softmax over ten such scores. A confidence is the largest of the
# model's ten probabilities, and ten probabilities that sum to one have a largest one of at
# least $1/10$: a normalised model is at least 10 % confident on every input, so it cannot
# average 1.2 % on its mistakes. Independent units can all be small at once, which is what the
# paper describes: "elsewhere, they default to predicting the class is absent".
#
# The paper gives neither the form of $\beta$ nor the training. We compare three forms:
# one scalar for all classes, $p_k(x) = \exp(-\beta\|x - \mu_k\|^2)$; one scalar per class,
# $p_k(x) = \exp(-\beta_k\|x - \mu_k\|^2)$; and one precision per class and pixel (a diagonal
# $\beta_k$), so that a pixel that varies a lot within a class counts less,
#
# $$
# p_k(x) = \exp\Big(-\sum_{i=1}^{784} \beta_{ki}\,(x_i - \mu_{ki})^2\Big).
# $$
#
# Each starts with $\mu_k$ at the mean of class $k$'s training digits and with $\beta$ scaled
# so that the median training digit is at $p_y = 0.5$ (per pixel, $\beta_{ki}$ is first set to
# $1/(v_{ki} + 0.01)$, with $v_{ki}$ the variance of pixel $i$ in class $k$: a diagonal
# Gaussian). Two trainings follow. The first is none: the initialisation is the network.
# It is also what maximum likelihood of the true class's unit gives: the training cost
# $-\log p_y(x) = \sum_i \beta_{yi}(x_i - \mu_{yi})^2$, summed over the training digits with
# $\beta$ held, is smallest exactly at the class means (with $\beta$ trained too it only
# shrinks $\beta$ towards zero, where every unit says 1). The second trains $\mu$ and $\beta$
# with Adam for the profile's epochs on the sum of the ten units' binary cross-entropies (each
# unit says whether its class is present, and is pushed down on the other classes' digits).
# `experiments.rbf(profile, beta=..., train=...)` builds each of the six. Its default,
# `experiments.rbf(profile)`, is the trained per-pixel network: the network this book measured
# before the other readings were built, and the one chapters 8 and 11 use. The other five are
# options, and nothing below changes the default.
#
# Is one of them the paper's? We measure the three numbers of C22 on each (the FGSM
# error at $\epsilon = 0.25$, clipped to $[0, 1]$ and following the summed binary
# cross-entropy, the cost that matches the independent outputs; the confidence on the FGSM
# mistakes; the confidence on clean test digits) and give each reading's *largest miss*: the
# largest of the three distances to the paper's numbers, each in units of its tolerance in
# the closing table (2, 1 and 2 percentage points, `model_capacity.largest_miss`). A largest
# miss of at most 1 would mean that all three numbers are within tolerance, the paper's regime
# reached. Each trained reading is one training run, and a run's numbers depend on the
# minibatch order too. To see by how much, the default network is trained a second time with
# another seed (`experiments.rbf(profile, seed=1)`, a different minibatch order).

# %%
splits = experiments.mnist(profile)
x_test, y_test = splits.x_test, splits.y_test
eps = experiments.MNIST_EPS
PAPER = {"FGSM error": 55.4, "confidence on mistakes": 1.2, "confidence on clean": 60.6}
TOLERANCE = {"FGSM error": 2.0, "confidence on mistakes": 1.0, "confidence on clean": 2.0}
BETAS = {
    "shared": "one β for all classes",
    "class": "one β per class",
    "dimension": "one β per class and pixel",
}


nets = {
    (beta, train): experiments.rbf(profile, beta=beta, train=train)
    for beta in experiments.RBF_BETAS
    for train in (False, True)
}
nets["seed 1"] = experiments.rbf(profile, seed=1)  # the default network, trained again
readings = {}
for key, model in nets.items():
    # C22's three numbers: FGSM on the summed binary cross-entropy, clipped to [0, 1]
    clean = evaluation.evaluate(model, x_test, y_test)
    adv = evaluation.attack_report(model, x_test, y_test, eps=eps)
    ours = dict(
        zip(
            PAPER,
            [100 * adv.error, 100 * adv.confidence_on_mistakes, 100 * clean.confidence_clean],
            strict=True,
        )
    )
    readings[key] = dict(
        model=model,
        clean=clean,
        adv=adv,
        ours=ours,
        train_error=evaluation.error_rate(model, splits.x_train, splits.y_train),
        miss=model_capacity.largest_miss(ours, PAPER, TOLERANCE),
    )
# the default network (seed 0, one of the six readings) and its second training, seed 1
seeds = {0: readings["dimension", True], 1: readings.pop("seed 1")}

# %%
rows = [
    "| β | μ and β | clean error | FGSM error | confidence on FGSM mistakes "
    "| confidence on clean | largest miss (tolerances) |",
    "|---|---|---:|---:|---:|---:|---:|",
]
for (beta, train), r in readings.items():
    o = r["ours"]
    training = "class means, then trained" if train else "class means, untrained"
    if (beta, train) == ("dimension", True):
        training += " (the default, seed 0)"
    rows.append(
        f"| {BETAS[beta]} | {training} | "
        f"{100 * r['clean'].error:.2f} % | {o['FGSM error']:.1f} % | "
        f"{o['confidence on mistakes']:.2f} % | {o['confidence on clean']:.1f} % | "
        f"{r['miss']:.1f} |"
    )
rows.append("| paper | | — | 55.4 % | 1.2 % | 60.6 % | |")
display(Markdown("\n".join(rows)))
describe = {k: f"{BETAS[k[0]]}, {'trained' if k[1] else 'untrained'}" for k in readings}
misses = sorted(r["miss"] for r in readings.values())
n_within = sum(m <= 1 for m in misses)
glue(
    "ch7_within",
    {0: "No reading comes", 1: "One reading comes"}.get(n_within, f"{n_within} readings come"),
    display=False,
)
glue("ch7_min_miss", misses[0], display=False)
glue("ch7_next_miss", misses[1], display=False)
glue("ch7_max_miss", misses[-1], display=False)
for (beta, train), r in readings.items():
    glue(f"ch7_adv_{beta}_{int(train)}", r["ours"]["FGSM error"], display=False)
    glue(f"ch7_mis_{beta}_{int(train)}", r["ours"]["confidence on mistakes"], display=False)
    glue(f"ch7_cl_{beta}_{int(train)}", r["ours"]["confidence on clean"], display=False)

# the default network's two seeds: the difference between them (the spread of two values)
SEED_ROWS = {
    "clean": ("clean error", lambda r: 100 * r["clean"].error, ".2f"),
    "adv": ("FGSM error", lambda r: r["ours"]["FGSM error"], ".1f"),
    "mis": ("confidence on FGSM mistakes", lambda r: r["ours"]["confidence on mistakes"], ".2f"),
    "cl": ("confidence on clean", lambda r: r["ours"]["confidence on clean"], ".1f"),
    "miss": ("largest miss (tolerances)", lambda r: r["miss"], ".1f"),
}
rows = [
    "| default network (one β per class and pixel, trained) | seed 0 | seed 1 "
    "| spread (points; tolerances for the largest miss) |",
    "|---|---:|---:|---:|",
]
spread = {}
for key, (name, value, fmt) in SEED_ROWS.items():
    v0, v1 = value(seeds[0]), value(seeds[1])
    spread[key] = abs(v1 - v0)
    unit = "" if key == "miss" else " %"
    rows.append(f"| {name} | {v0:{fmt}}{unit} | {v1:{fmt}}{unit} | {spread[key]:{fmt}} |")
    glue(f"ch7_s1_{key}", v1, display=False)
    glue(f"ch7_spread_{key}", spread[key], display=False)
display(Markdown("\n".join(rows)))
gap_adv = abs(
    readings["dimension", False]["ours"]["FGSM error"]
    - readings["dimension", True]["ours"]["FGSM error"]
)
gap_miss = misses[1] - misses[0]
glue("ch7_gap_adv", gap_adv, display=False)
glue("ch7_gap_miss", gap_miss, display=False)
glue("ch7_gap_adv_vs", "less than" if gap_adv < spread["adv"] else "more than", display=False)
glue("ch7_gap_miss_vs", "less than" if gap_miss < spread["miss"] else "more than", display=False)

# %% [markdown]
# {glue:text}`ch7_within` within the tolerances of all three numbers of C22: the largest
# misses run from {glue:text}`ch7_min_miss:.1f` to {glue:text}`ch7_max_miss:.1f` tolerances,
# so even the smallest is still {glue:text}`ch7_min_miss:.1f` tolerances off (the next
# smallest: {glue:text}`ch7_next_miss:.1f`). One β for all classes, untrained, errs on
# {glue:text}`ch7_adv_shared_0:.1f` % of the FGSM digits (the paper: 55.4 %) but is
# {glue:text}`ch7_mis_shared_0:.1f` % confident on its mistakes (the paper: 1.2 %). The
# default network, one β per class and pixel, trained, errs on
# {glue:text}`ch7_adv_dimension_1:.1f` % at {glue:text}`ch7_mis_dimension_1:.2f` % confidence
# on its mistakes and {glue:text}`ch7_cl_dimension_1:.1f` % on clean digits; untrained, the
# per-pixel network errs on {glue:text}`ch7_adv_dimension_0:.1f` % at
# {glue:text}`ch7_mis_dimension_0:.2f` % and {glue:text}`ch7_cl_dimension_0:.1f` %.
#
# Trained a second time with seed 1, the default network errs on
# {glue:text}`ch7_s1_adv:.1f` % of the FGSM digits at {glue:text}`ch7_s1_mis:.2f` % confidence
# on its mistakes and {glue:text}`ch7_s1_cl:.1f` % on clean digits (second table). The two
# seeds lie {glue:text}`ch7_spread_adv:.1f` points apart in FGSM error,
# {glue:text}`ch7_spread_mis:.2f` in confidence on mistakes, {glue:text}`ch7_spread_cl:.1f` in
# confidence on clean digits and {glue:text}`ch7_spread_miss:.1f` tolerances in largest miss.
# Two seeds give one difference, a rough measure of the spread, not a bound. Beside it, the
# two per-pixel readings' FGSM errors differ by {glue:text}`ch7_gap_adv:.1f` points,
# {glue:text}`ch7_gap_adv_vs` the seeds' {glue:text}`ch7_spread_adv:.1f`, and the two
# smallest largest misses by {glue:text}`ch7_gap_miss:.1f` tolerances,
# {glue:text}`ch7_gap_miss_vs` the seeds' {glue:text}`ch7_spread_miss:.1f`; the other readings
# have one training run each, and no spread of their own. Every reading misses the paper's
# numbers by at least {glue:text}`ch7_min_miss:.1f` tolerances, so the table singles out none
# of them as the paper's network, and the book keeps the default it had before the
# comparison. C22 below and the precision-recall curves measure the default network (seed 0).

# %%
default = readings["dimension", True]
rbf, rbf_clean, rbf_train_error = default["model"], default["clean"], default["train_error"]
softmax = experiments.softmax_regression(profile)
glue("ch7_rbf_epochs", len(rbf.advkeras_history["loss"]), display=False)
glue("ch7_rbf_clean", 100 * rbf_clean.error, display=False)
glue("ch7_rbf_train", 100 * rbf_train_error, display=False)
glue("ch7_rbf_conf_clean", 100 * rbf_clean.confidence_clean, display=False)
print(
    f"RBF: test error {100 * rbf_clean.error:.2f} %, training error {100 * rbf_train_error:.2f} %,"
)
print(f"     mean confidence on clean test digits {100 * rbf_clean.confidence_clean:.1f} %")

# %% [markdown]
# After {glue:text}`ch7_rbf_epochs` epochs the default RBF network misclassifies
# {glue:text}`ch7_rbf_clean:.2f` % of the test digits ({glue:text}`ch7_rbf_train:.2f` % of
# the training digits; seed 1: {glue:text}`ch7_s1_clean:.2f` % of the test digits). The paper
# gives no clean error for its RBF network; its average confidence on clean test digits was
# 60.6 %, ours is {glue:text}`ch7_rbf_conf_clean:.1f` %.
#
# ## C22: the RBF network under the fast gradient sign method
#
# FGSM with $\epsilon = 0.25$ follows the sign of the gradient of the training cost, here the
# summed binary cross-entropy, and the result is clipped to $[0, 1]$ (the attack of the
# comparison above). The paper does not say which cost its attack differentiated; the summed
# one also pushes the wrong classes' units up. We therefore also attack with $-\log p_y$ alone
# (`model_capacity.true_class_nll_loss`), which only drives the input away from the true
# class's centre, and without clipping.

# %%
attacks_rbf = {
    "training cost, clipped": attacks.fgsm(rbf, x_test, y_test, eps=eps),
    "-log p_y, clipped": attacks.fgsm(
        rbf, x_test, y_test, eps=eps, loss=model_capacity.true_class_nll_loss
    ),
    "training cost, unclipped": attacks.fgsm(rbf, x_test, y_test, eps=eps, clip=None),
}
reports = {name: evaluation.evaluate(rbf, xa, y_test) for name, xa in attacks_rbf.items()}
rows = ["| FGSM, eps = .25 | error | confidence on mistakes |", "|---|---:|---:|"]
rows += [
    f"| {name} | {100 * r.error:.1f} % | {100 * r.confidence_on_mistakes:.2f} % |"
    for name, r in reports.items()
]
rows.append("| paper | 55.4 % | 1.2 % |")
display(Markdown("\n".join(rows)))
main = reports["training cost, clipped"]
nll = reports["-log p_y, clipped"]
glue("ch7_fgsm_error", 100 * main.error, display=False)
glue("ch7_fgsm_conf", 100 * main.confidence_on_mistakes, display=False)
glue("ch7_nll_error", 100 * nll.error, display=False)
glue("ch7_nll_conf", 100 * nll.confidence_on_mistakes, display=False)
glue("ch7_unclipped_error", 100 * reports["training cost, unclipped"].error, display=False)
softmax_adv = evaluation.evaluate(softmax, attacks.fgsm(softmax, x_test, y_test, eps=eps), y_test)
glue("ch7_softmax_fgsm_conf", 100 * softmax_adv.confidence_on_mistakes, display=False)
errors = [r.error for r in reports.values()]
glue(
    "ch7_err_vs_paper",
    "above" if min(errors) > 0.554 else "below" if max(errors) < 0.554 else "on both sides of",
    display=False,
)
glue("ch7_softmax_fgsm_error", 100 * softmax_adv.error, display=False)

# %% [markdown]
# With the training cost, FGSM fools the RBF network on {glue:text}`ch7_fgsm_error:.1f` % of
# the test digits (the paper: 55.4 %), and on its mistakes it is
# {glue:text}`ch7_fgsm_conf:.2f` % confident on average (the paper: 1.2 %). With $-\log p_y$
# alone the error is {glue:text}`ch7_nll_error:.1f` % at {glue:text}`ch7_nll_conf:.2f` %
# confidence, without clipping {glue:text}`ch7_unclipped_error:.1f` %. Softmax regression,
# attacked the same way, errs on {glue:text}`ch7_softmax_fgsm_error:.1f` % and is
# {glue:text}`ch7_softmax_fgsm_conf:.1f` % confident on its mistakes. The RBF network's errors
# under the three attacks lie {glue:text}`ch7_err_vs_paper` the paper's 55.4 %.
#
# ## The precision-recall trade-off
#
# The paper places linear units and RBF units on a precision-recall curve. Make it concrete:
# let a model answer only when its confidence (its largest output) reaches a threshold $t$.
# Its precision is the share of correct answers among those it gives, its recall the share
# of all digits it answers correctly:
#
# $$
# \text{precision}(t) = \frac{\#\{\text{answered and correct}\}}{\#\{\text{answered}\}},
# \qquad
# \text{recall}(t) = \frac{\#\{\text{answered and correct}\}}{N}.
# $$
#
# `model_capacity.precision_recall` traces both for $t$ from 0 to 1 (log-spaced from
# $10^{-4}$), on the clean test digits
# and on each model's own FGSM examples.

# %% mystnb={"figure": {"caption": "Precision against recall when a model answers only at a confidence of at least $t$, for the RBF network (blue) and softmax regression (orange), on clean test digits (left) and on each model's own FGSM examples (right); $t$ runs from zero at the right end of each curve to one at the left end. On the FGSM examples, at a threshold of one half, the RBF network answers {glue:text}`ch7_pr_RBF_FGSM_t05_coverage:.1f` % of the digits and softmax regression {glue:text}`ch7_pr_softmax_FGSM_t05_coverage:.1f` %, with a precision of {glue:text}`ch7_pr_softmax_FGSM_t05_precision:.1f` %.", "name": "fig-ch07-precision-recall"}, "image": {"alt": "Two line plots of precision in percent against recall in percent, sharing the precision axis. Left, clean test digits: both curves stay near the top, softmax regression's reaching a little further right. Right, FGSM test digits: the RBF network's curve runs at low precision along the bottom and shoots up to the top only at the lowest recall; softmax regression's points sit at the origin, zero recall and zero precision."}}
# t = 0 and 0.5, and 200 thresholds spaced evenly on a log scale from 1e-4 to 1 (the RBF
# network's confidences on adversarial digits are tiny)
thresholds = np.unique(np.concatenate([[0.0, 0.5], np.geomspace(1e-4, 1.0, 200)]))
curves = {}
for name, model in [("RBF", rbf), ("softmax regression", softmax)]:
    x_adv = attacks_rbf["training cost, clipped"] if model is rbf else None
    if x_adv is None:
        x_adv = attacks.fgsm(model, x_test, y_test, eps=eps)
    for data, xs in [("clean", x_test), ("FGSM", x_adv)]:
        proba = evaluation.predict_proba(model, xs)
        curves[name, data] = model_capacity.precision_recall(
            proba.max(axis=1), proba.argmax(axis=1) == y_test, thresholds=thresholds
        )
fig_pr = Figure(figsize=(11.0, 4.2), layout="constrained")
axes = fig_pr.subplots(1, 2, sharey=True)
for ax, data in zip(axes, ["clean", "FGSM"], strict=True):
    for (name, d), curve in curves.items():
        if d == data:
            ax.plot(100 * curve.recall, 100 * curve.precision, marker=".", markersize=3, label=name)
    ax.set_xlabel("recall (%): answered and correct / all")
    ax.set_title(f"{data} test digits" + (", eps = .25" if data == "FGSM" else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, title="threshold t from 0 (right) to 1 (left)", title_fontsize=7)
axes[0].set_ylabel("precision (%): correct / answered")
fig_pr.suptitle("Answering only above a confidence threshold: RBF network vs softmax regression")
display(fig_pr)

pr_at = {
    f"{name}, {data}, t={t}": curve.at(t)
    for (name, data), curve in curves.items()
    for t in (0.0, 0.5)
}
for key, value in pr_at.items():
    slug = key.replace("softmax regression", "softmax").replace(", ", "_").replace("=", "")
    slug = slug.replace(".", "").replace(" ", "")
    glue(f"ch7_pr_{slug}_precision", 100 * value["precision"], display=False)
    glue(f"ch7_pr_{slug}_recall", 100 * value["recall"], display=False)
    glue(f"ch7_pr_{slug}_coverage", 100 * value["coverage"], display=False)

# %% [markdown]
# At $t = 0$ both models answer everything, and precision equals recall equals accuracy.
# Requiring a confidence of at least 0.5 on the FGSM examples, the RBF network answers
# {glue:text}`ch7_pr_RBF_FGSM_t05_coverage:.1f` % of them (precision
# {glue:text}`ch7_pr_RBF_FGSM_t05_precision:.1f` %, recall
# {glue:text}`ch7_pr_RBF_FGSM_t05_recall:.1f` %), softmax regression answers
# {glue:text}`ch7_pr_softmax_FGSM_t05_coverage:.1f` % of them with precision
# {glue:text}`ch7_pr_softmax_FGSM_t05_precision:.1f` % and recall
# {glue:text}`ch7_pr_softmax_FGSM_t05_recall:.1f` %: it answers nearly every adversarial
# digit, and wrongly. On clean digits at the same threshold:
# RBF {glue:text}`ch7_pr_RBF_clean_t05_precision:.1f` % precision and
# {glue:text}`ch7_pr_RBF_clean_t05_recall:.1f` % recall, softmax regression
# {glue:text}`ch7_pr_softmax_clean_t05_precision:.1f` % and
# {glue:text}`ch7_pr_softmax_clean_t05_recall:.1f` %. (A precision shown as "nan" means the
# model answers no digit at that threshold.)
#
# ## C23: a deep RBF network
#
# "Every model with sufficient quadratic inhibition to resist adversarial perturbation
# obtained high training set error when trained with SGD." The paper shows no model, so we
# make one small attempt: two layers of RBF units, 100 hidden units
# $h_j(x) = \exp(-b_j\|x - c_j\|^2)$ whose centres start at 100 random training digits, and
# ten output units of the same form on $h$ (`experiments.deep_rbf`, trained like the shallow
# networks with `train=True`: Adam on the summed binary cross-entropy). We compare its
# *training* error with the seven shallow RBF networks' (the six readings and the default's
# second seed) and with the naive maxout network's. The paper gives no number, so the rule is
# fixed here, before the run: a model "resists" when
# its confidence on its FGSM mistakes is below 2 % (the paper's shallow RBF network: 1.2 %),
# a training error is "high" above 5 %, and C23 holds when some model resists and every
# model that resists has a high training error.

# %%
deep = experiments.deep_rbf(profile)
maxout = experiments.maxout(profile)
deep_train = evaluation.error_rate(deep, splits.x_train, splits.y_train)
maxout_train = evaluation.error_rate(maxout, splits.x_train, splits.y_train)
deep_clean = evaluation.evaluate(deep, x_test, y_test)
deep_adv = evaluation.evaluate(deep, attacks.fgsm(deep, x_test, y_test, eps=eps), y_test)
capacity = {f"shallow RBF, {describe[k]}": readings[k] for k in readings}
capacity["shallow RBF, one β per class and pixel, trained, seed 1"] = seeds[1]
capacity["deep RBF (100 hidden units), trained"] = dict(
    train_error=deep_train, clean=deep_clean, adv=deep_adv
)
rows = [
    "| model | training error | test error | FGSM error | confidence on FGSM mistakes |",
    "|---|---:|---:|---:|---:|",
    f"| maxout (240 units) | {100 * maxout_train:.2f} % | "
    f"{100 * evaluation.error_rate(maxout, x_test, y_test):.2f} % | — | — |",
]
for name, r in capacity.items():
    rows.append(
        f"| {name} | {100 * r['train_error']:.2f} % | {100 * r['clean'].error:.2f} % | "
        f"{100 * r['adv'].error:.1f} % | {100 * r['adv'].confidence_on_mistakes:.2f} % |"
    )
display(Markdown("\n".join(rows)))
glue("ch7_deep_train", 100 * deep_train, display=False)
glue("ch7_deep_test", 100 * deep_clean.error, display=False)
glue("ch7_deep_fgsm", 100 * deep_adv.error, display=False)
glue("ch7_deep_fgsm_conf", 100 * deep_adv.confidence_on_mistakes, display=False)
glue("ch7_maxout_train", 100 * maxout_train, display=False)
# "resists": confidence on its FGSM mistakes below 2 % (the paper's shallow RBF: 1.2 %);
# "high training error": above 5 %, against the maxout network's
resisting = [m for m, r in capacity.items() if r["adv"].confidence_on_mistakes < 0.02]
high_train = {m: r["train_error"] > 0.05 for m, r in capacity.items()}
c23_ok = bool(resisting) and all(high_train[m] for m in resisting)
glue(
    "ch7_resisting",
    "; ".join(f"{m} ({100 * capacity[m]['train_error']:.2f} %)" for m in resisting) or "none",
    display=False,
)
glue("ch7_n_resisting", len(resisting), display=False)
glue("ch7_n_rbf", len(capacity), display=False)
glue("ch7_c23_verdict", "holds" if c23_ok else "does not hold", display=False)

# %% [markdown]
# The deep RBF network ends with {glue:text}`ch7_deep_train:.2f` % training error
# ({glue:text}`ch7_deep_test:.2f` % on the test digits, {glue:text}`ch7_deep_fgsm:.1f` % FGSM
# error at {glue:text}`ch7_deep_fgsm_conf:.1f` % confidence on its mistakes), the maxout
# network with {glue:text}`ch7_maxout_train:.2f` %, the default shallow network with
# {glue:text}`ch7_rbf_train:.2f` %. Calling a model "resistant" when its confidence on its FGSM
# mistakes is below 2 % (the paper's shallow RBF network: 1.2 %) and a training error "high"
# above 5 %, the RBF networks that resist are {glue:text}`ch7_n_resisting` of
# {glue:text}`ch7_n_rbf` (with their training errors: {glue:text}`ch7_resisting`). The paper's statement, "every
# model with sufficient quadratic inhibition to resist adversarial perturbation obtained high
# training set error", {glue:text}`ch7_c23_verdict` for the models of this chapter. This is a
# small attempt with one deep architecture, one optimiser and the profile's epochs, not the
# paper's "variety of models".

# %% [markdown]
# ## Paper vs this book
#
# Tolerances: 2 percentage points for the FGSM error and the clean confidence, 1 point for
# the confidence on mistakes (a 1.2 % number). C22 is measured on the default network (one β
# per class and pixel, trained, seed 0), with FGSM on the training cost, clipped; the other
# two attacks, the second seed and the readings' largest misses are in the notes. The paper
# gives no number for C23; as
# every claim without a number in this book, it is graded by the rule stated above, before
# the measurement, and its note repeats the rule.

# %%
claims = [
    reporting.Claim(
        "C22-err",
        "shallow RBF (diagonal beta), MNIST test, FGSM eps=.25",
        "error",
        paper=55.4,
        ours=100 * main.error,
        note=f"-log p_y: {100 * nll.error:.1f} %; unclipped: "
        f"{100 * reports['training cost, unclipped'].error:.1f} %; "
        f"clean error {100 * rbf_clean.error:.2f} %; seed 1: "
        f"{seeds[1]['ours']['FGSM error']:.1f} %; largest miss {default['miss']:.1f} tolerances "
        f"(seed 1: {seeds[1]['miss']:.1f}), the six readings' {misses[0]:.1f} to {misses[-1]:.1f}",
    ),
    reporting.Claim(
        "C22-conf-mistakes",
        "shallow RBF, MNIST test, FGSM eps=.25",
        "confidence on mistakes",
        paper=1.2,
        ours=100 * main.confidence_on_mistakes,
        tolerance=1.0,
        note=f"softmax regression: {100 * softmax_adv.confidence_on_mistakes:.1f} %; "
        f"seed 1: {seeds[1]['ours']['confidence on mistakes']:.2f} %",
    ),
    reporting.Claim(
        "C22-conf-clean",
        "shallow RBF, MNIST test, clean",
        "mean confidence",
        paper=60.6,
        ours=100 * rbf_clean.confidence_clean,
        note=f"after {len(rbf.advkeras_history['loss'])} epochs; seed 1: "
        f"{seeds[1]['ours']['confidence on clean']:.1f} %",
    ),
    reporting.Claim(
        "C23",
        "deep RBF (100 hidden RBF units) and seven shallow RBF, Adam",
        "training error",
        paper=None,
        ours=100 * deep_train,
        verdict="reproduced" if c23_ok else "not reproduced",
        note="resisting (training error): "
        + ("; ".join(f"{m} {100 * capacity[m]['train_error']:.2f} %" for m in resisting) or "none")
        + f"; maxout {100 * maxout_train:.2f} %; "
        f"deep RBF FGSM {100 * deep_adv.error:.1f} % at "
        f"{100 * deep_adv.confidence_on_mistakes:.1f} % confidence; trained with Adam; rule: "
        "some model resists (confidence on FGSM mistakes < 2 %) and every one that does has "
        "training error > 5 %",
    ),
]
extra = {
    "rbf": {"clean": rbf_clean.as_percent(), "train_error": 100 * rbf_train_error},
    "readings": {
        describe[k]: {
            "clean": r["clean"].as_percent(),
            "fgsm": r["adv"].as_percent(),
            "train_error": 100 * r["train_error"],
            "largest_miss": r["miss"],
        }
        for k, r in readings.items()
    },
    "rbf_seed_1": {
        "clean": seeds[1]["clean"].as_percent(),
        "fgsm": seeds[1]["adv"].as_percent(),
        "train_error": 100 * seeds[1]["train_error"],
        "largest_miss": seeds[1]["miss"],
    },
    "fgsm": {name: r.as_percent() for name, r in reports.items()},
    "softmax_fgsm": softmax_adv.as_percent(),
    "precision_recall_at": pr_at,
    "deep_rbf": {
        "train_error": 100 * deep_train,
        "clean": deep_clean.as_percent(),
        "fgsm": deep_adv.as_percent(),
    },
    "maxout_train_error": 100 * maxout_train,
}
reporting.save_results("07_model_capacity", claims, extra=extra)
reporting.show_claims(claims)
