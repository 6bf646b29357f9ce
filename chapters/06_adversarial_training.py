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
# # Adversarial training of deep networks
#
# > Linear models cannot resist adversarial perturbations; only networks with a hidden layer
# > can, by the universal approximator theorem, represent a function that does. Whether
# > training finds such a function is another matter, and a universal approximator is
# > routinely trained without it learning to be robust. Training on a mixture of clean and
# > adversarial examples regularises the network, and FGSM makes the adversarial examples
# > cheap enough to generate continually, against the current weights, for every minibatch.
# > With $\alpha = 0.5$ in all experiments, adversarial training of the maxout network cut
# > its test error from 0.94 % to 0.84 % and its error on FGSM examples from 89.4 % to
# > 17.9 %.
#
# (Section 6 of {cite}`goodfellow2015explaining`, paraphrased.) The objective is
#
# $$
# \tilde J(\theta, x, y) \;=\; \alpha\, J(\theta, x, y)
# \;+\; (1 - \alpha)\, J\big(\theta,\; x + \epsilon \operatorname{sign}(\nabla_x J(\theta, x, y)),\; y\big),
# \qquad \alpha = 0.5,\ \epsilon = 0.25,
# $$
#
# and the chapter measures what the section says about it: clean and FGSM error (claims
# C11, C15), transfer between the two networks (C16), confidence on the mistakes (C17), the
# first-layer weights (Fig. 3, C18), the noise controls (C19), a differentiable adversary
# (C20) and a perturbed hidden layer (C21), label leaking, and, reduced to the 240-unit
# network, the protocol of the paper's best network (C12–C14).

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

from advkeras import attacks, ensembles, evaluation, plotting, weights
from advkeras.book import experiments, profiles, reporting

profile = profiles.get_profile()
print(profile.describe())
keras.utils.set_random_seed(0)
splits = experiments.mnist(profile)
x_test, y_test = splits.x_test, splits.y_test
eps, alpha, short = experiments.MNIST_EPS, experiments.PAPER_ALPHA, profile.epochs_variant
glue("ch6_n_test", len(x_test), display=False)
glue("ch6_short", short, display=False)

# %% [markdown]
# ## The two networks
#
# `experiments.maxout(profile)` is the naive 240-unit maxout network of chapters 4 and 5,
# and `experiments.maxout(profile, adversarial=True)` the same architecture trained on
# $\tilde J$. Both are the long-trained networks the book ships (under `book`; other
# profiles train their own): up to {glue:text}`ch6_max_epochs` epochs, early stopping with
# patience {glue:text}`ch6_patience` on the clean validation error (naive) and on the FGSM
# validation error (adversarial, the paper's criterion for its large model). Chapter 5 used
# them too; here they are loaded from the cache, not retrained.

# %%
naive = experiments.maxout(profile)
robust = experiments.maxout(profile, adversarial=True)
nets = {"naive": naive, "adversarial": robust}
kept = {
    "naive": experiments.kept_epoch(naive, profile),
    "adversarial": experiments.kept_epoch(robust, profile, fgsm=True),
}
glue("ch6_max_epochs", profile.epochs_maxout, display=False)
glue("ch6_patience", profile.patience if profile.patience else "none", display=False)
for name, k in kept.items():
    glue(f"ch6_{name}_epochs", k["epochs"], display=False)
    glue(f"ch6_{name}_kept", k["kept"], display=False)
    print(f"{name}: trained {k['epochs']} epochs, kept epoch {k['kept']} (monitor {k['monitor']})")

# %% [markdown]
# ## C11 and C15: clean and FGSM error
#
# The test error on the {glue:text}`ch6_n_test:,` test digits, and the error on their FGSM
# versions at $\epsilon = 0.25$, crafted on the network itself with the true labels. The
# paper's formula adds $\eta$ without clipping to $[0, 1]$; we report both, and which of the
# two is closer to the paper's numbers.

# %%
results = {}
for name, net in nets.items():
    clean = evaluation.evaluate(net, x_test, y_test)
    fgsm = evaluation.attack_report(net, x_test, y_test, eps=eps, clip=None)
    clipped = evaluation.attack_report(net, x_test, y_test, eps=eps)
    low, high = evaluation.wilson_interval(round(clean.error * clean.n), clean.n)
    results[name] = {
        "clean": 100 * clean.error,
        "clean_low": 100 * low,
        "clean_high": 100 * high,
        "fgsm": 100 * fgsm.error,
        "fgsm_conf": 100 * fgsm.confidence_on_mistakes,
        "fgsm_clipped": 100 * clipped.error,
        "fgsm_clipped_conf": 100 * clipped.confidence_on_mistakes,
    }
    for key, value in results[name].items():
        glue(f"ch6_{name}_{key}", value, display=False)
pred = {name: evaluation.predict_labels(net, x_test) for name, net in nets.items()}
only_naive = int(np.sum((pred["naive"] != y_test) & (pred["adversarial"] == y_test)))
only_adv = int(np.sum((pred["naive"] == y_test) & (pred["adversarial"] != y_test)))
glue("ch6_only_naive", only_naive, display=False)
glue("ch6_only_adv", only_adv, display=False)
inside = {
    name: results[name]["clean_low"] <= paper <= results[name]["clean_high"]
    for name, paper in (("naive", 0.94), ("adversarial", 0.84))
}
glue(
    "ch6_wilson_story",
    f"the paper's 0.94 % lies {'inside' if inside['naive'] else 'outside'} the first and its "
    f"0.84 % {'inside' if inside['adversarial'] else 'outside'} the second",
    display=False,
)
# Exact two-sided sign test (McNemar) on the digits exactly one of the two networks gets wrong.
p_mcnemar = evaluation.sign_test(only_naive, only_adv)
glue("ch6_p_mcnemar", p_mcnemar, display=False)
fewer = only_naive - only_adv  # the adversarial network's errors minus the naive one's, negated
if p_mcnemar < 0.05:
    significance = "the difference between the two networks is significant at the 5 % level"
else:
    significance = (
        "the difference is not significant at the 5 % level, so these two networks do not "
        "show that adversarial training changes the clean error"
    )
glue(
    "ch6_mcnemar_story",
    f"{significance}. "
    + (
        f"The adversarially trained network gets {abs(fewer)} "
        f"{'fewer' if fewer > 0 else 'more'} test digits wrong than the naive one"
        if fewer
        else "The two networks get equally many test digits wrong"
    )
    + "; in the paper the adversarially trained network got 10 fewer wrong (0.84 % against "
    "0.94 % of 10,000 digits).",
    display=False,
)
rows = ["| network | epochs (kept) | test error (95 % Wilson) | FGSM error | FGSM error, clipped |"]
rows.append("|---|---|---|---|---|")
for name, r in results.items():
    rows.append(
        f"| {name} | {kept[name]['epochs']} ({kept[name]['kept']}) | {r['clean']:.2f} % "
        f"({r['clean_low']:.2f}–{r['clean_high']:.2f}) "
        f"| {r['fgsm']:.1f} % | {r['fgsm_clipped']:.1f} % |"
    )
display(Markdown("\n".join(rows)))
print(f"digits only the naive network gets wrong: {only_naive}; only the adversarial: {only_adv}")
print(f"exact sign test on these {only_naive + only_adv} digits: p = {p_mcnemar:.2f}")

# %% [markdown]
# How much of that is the seed? Chapter 5 trained both recipes for seeds
# {glue:text}`ch6_seeds` with the short budget of {glue:text}`ch6_short` epochs (the
# long-trained networks above have one seed each, and {glue:text}`ch6_max_epochs` epochs per
# seed is beyond the book's budget). Those networks come from the cache; we measure them the
# same way.

# %%
spread = {}
for label, adversarial in (("naive", False), ("adversarial", True)):
    seeded = [
        experiments.maxout(profile, seed=s, adversarial=adversarial, epochs=short)
        for s in profile.seeds
    ]
    spread[label] = {
        "clean": [100 * evaluation.error_rate(n, x_test, y_test) for n in seeded],
        "fgsm": [
            100 * evaluation.attack_report(n, x_test, y_test, eps=eps, clip=None).error
            for n in seeded
        ],
    }
rows = [
    f"| recipe, {short} epochs | test error: each seed | range | FGSM error: each seed | range |"
]
rows.append("|---|---|---|---|---|")
for label, r in spread.items():
    for key, values in r.items():
        glue(f"ch6_spread_{label}_{key}", max(values) - min(values), display=False)
        glue(f"ch6_short_{label}_{key}", values[0], display=False)
    rows.append(
        f"| {label} | {', '.join(f'{v:.2f}' for v in r['clean'])} % "
        f"| {max(r['clean']) - min(r['clean']):.2f} | {', '.join(f'{v:.1f}' for v in r['fgsm'])} % "
        f"| {max(r['fgsm']) - min(r['fgsm']):.1f} |"
    )
glue("ch6_seeds", ", ".join(str(s) for s in profile.seeds), display=False)
display(Markdown("\n".join(rows)))

# %% [markdown]
# The long-trained naive network errs on {glue:text}`ch6_naive_clean:.2f` % of the test
# digits and the adversarially trained one on {glue:text}`ch6_adversarial_clean:.2f` %
# (paper: 0.94 % and 0.84 %); their 95 % Wilson intervals are
# {glue:text}`ch6_naive_clean_low:.2f`–{glue:text}`ch6_naive_clean_high:.2f` % and
# {glue:text}`ch6_adversarial_clean_low:.2f`–{glue:text}`ch6_adversarial_clean_high:.2f` %:
# {glue:text}`ch6_wilson_story`. The two networks are measured on the same digits, so the
# sharper comparison between them is paired:
# {glue:text}`ch6_only_naive` digits are misclassified by the naive network alone and
# {glue:text}`ch6_only_adv` by the adversarial one alone. If both networks were equally
# accurate, a split at least this uneven of the digits only one of them gets wrong would
# occur with probability {glue:text}`ch6_p_mcnemar:.2f` (exact two-sided sign test):
# {glue:text}`ch6_mcnemar_story` The seeds of the short schedule move
# the clean error by up to
# {glue:text}`ch6_spread_naive_clean:.2f` (naive) and
# {glue:text}`ch6_spread_adversarial_clean:.2f` points (adversarial).
#
# On FGSM examples the naive network errs on {glue:text}`ch6_naive_fgsm:.1f` % and the
# adversarially trained one on {glue:text}`ch6_adversarial_fgsm:.1f` % (paper: 89.4 % and
# 17.9 %); across seeds of the short schedule the FGSM error moves by up to
# {glue:text}`ch6_spread_naive_fgsm:.1f` and {glue:text}`ch6_spread_adversarial_fgsm:.1f`
# points. One long-trained network per recipe is all the budget allows, and how much a long
# run varies with the seed is not measured; the paper does not say whether its 17.9 % is the
# 240-unit or the 1600-unit network. Clipping the examples to $[0, 1]$ gives {glue:text}`ch6_naive_fgsm_clipped:.1f` %
# and {glue:text}`ch6_adversarial_fgsm_clipped:.1f` %: {glue:text}`ch6_clip_story`.
# {glue:text}`ch6_closer_story`

# %%
delta_naive = results["naive"]["fgsm"] - results["naive"]["fgsm_clipped"]
delta_adv = results["adversarial"]["fgsm"] - results["adversarial"]["fgsm_clipped"]
glue(
    "ch6_clip_story",
    f"clipping {'lowers' if delta_naive > 0 else 'raises'} the naive network's FGSM error by "
    f"{abs(delta_naive):.1f} points and {'lowers' if delta_adv > 0 else 'raises'} the "
    f"adversarially trained network's by {abs(delta_adv):.1f} points"
    + (
        ". The adversarially trained network was trained on unclipped examples; clipped ones "
        "are a perturbation it never saw, and they fool it more often"
        if delta_adv < 0
        else ""
    ),
    display=False,
)
print(f"clipped minus unclipped: naive {-delta_naive:+.1f}, adversarial {-delta_adv:+.1f} points")
# Which reading of the paper's 89.4 % and 17.9 % do our numbers come closer to?
closer = {
    name: "unclipped"
    if abs(results[name]["fgsm"] - paper) <= abs(results[name]["fgsm_clipped"] - paper)
    else "clipped"
    for name, paper in (("naive", 89.4), ("adversarial", 17.9))
}
glue(
    "ch6_closer_story",
    f"For both networks the {closer['naive']} error is the closer to the paper's number."
    if closer["naive"] == closer["adversarial"]
    else f"The {closer['naive']} error is the closer to the paper's number for the naive "
    f"network, the {closer['adversarial']} one for the adversarially trained network.",
    display=False,
)

# %% [markdown]
# These FGSM errors use the gradient of the cost as TensorFlow computes it in float32, from
# the logits: $\nabla_z J = p - \mathrm{onehot}(y)$. Where the softmax rounds $p_y$ to exactly
# 1 in float32, the term $(p_y - 1)\nabla_x z_y$ vanishes: the step raises the other logits
# without lowering the true one. {doc}`09_alternative_hypotheses` studies this for the naive
# network; here we count these digits for both networks and repeat the attack with the
# gradient computed exactly in log space (`advkeras.ensembles.ensemble_fgsm` with one
# member, unclipped).

# %%
exact = {}
for name, net in nets.items():
    p_true = net.predict(x_test, batch_size=1000, verbose=0)[np.arange(len(y_test)), y_test]
    x_exact = ensembles.ensemble_fgsm([net], x_test, y_test, eps=eps)
    exact[name] = {
        "saturated": 100 * float(np.mean(p_true == 1.0)),
        "exact": 100 * evaluation.error_rate(net, x_exact, y_test),
    }
    for key, value in exact[name].items():
        glue(f"ch6_{name}_{key}", value, display=False)
    print(
        f"{name:>12}: p_y == 1 on {exact[name]['saturated']:.1f} % of the digits; FGSM error "
        f"{results[name]['fgsm']:.1f} % (float32 gradient), {exact[name]['exact']:.1f} % (exact)"
    )

# %% [markdown]
# The softmax rounds $p_y$ to 1 on {glue:text}`ch6_naive_saturated:.1f` % of the test digits
# for the naive network and on {glue:text}`ch6_adversarial_saturated:.1f` % for the
# adversarially trained one. With the exact gradient FGSM fools the naive network on
# {glue:text}`ch6_naive_exact:.1f` % of the digits (float32 gradient:
# {glue:text}`ch6_naive_fgsm:.1f` %) and the adversarially trained one on
# {glue:text}`ch6_adversarial_exact:.1f` % ({glue:text}`ch6_adversarial_fgsm:.1f` %). We keep
# the usual computation in the rest of the chapter, because it is the standard FGSM and
# nothing in the paper says its implementation did otherwise.

# %% [markdown]
# ## Learning curves
#
# Why stop on the adversarial validation error? The training records of the shipped
# networks hold, per epoch, the clean validation error of both networks (the last 10,000
# MNIST training images, dropout off) and, for the adversarially trained one, the
# validation error on FGSM examples crafted against it (unclipped) and the FGSM error on
# its training minibatches (dropout on). The naive network's record has no FGSM validation
# error: its clean training did not compute one, and only the final weights were kept, so
# that curve cannot be drawn after the fact. Vertical lines mark the kept epochs.

# %% mystnb={"figure": {"caption": "Learning curves of the shipped networks. Left: clean validation error per epoch of the naive (blue) and the adversarially trained (orange) maxout network, log scale; dotted lines mark the kept epochs. Right: the adversarially trained network's FGSM error on the validation images and on its training batches. At the kept epoch, {glue:text}`ch6_adversarial_kept`, the FGSM validation error is {glue:text}`ch6_adv_val_fgsm_kept:.2f` %; from there to the last epoch it moves between {glue:text}`ch6_adv_val_fgsm_after_min:.2f` % and {glue:text}`ch6_adv_val_fgsm_after_max:.2f` %.", "name": "fig-ch06-curves"}, "image": {"alt": "Two line plots of error in percent on a log scale against the epoch. Left, clean validation error: one line for each network, from its first to its last epoch; dotted vertical lines mark each network's kept epoch. Right, the adversarially trained network under FGSM: one line for the validation error and one for the error on its training batches; a dotted vertical line marks the kept epoch."}}
h_naive, h_adv = naive.advkeras_history, robust.advkeras_history
fig_curves = Figure(figsize=(12.0, 4.2), layout="constrained")
axes = fig_curves.subplots(1, 2)
for name, h, colour in (("naive", h_naive, "C0"), ("adversarial", h_adv, "C1")):
    epochs = np.arange(1, len(h["val_error"]) + 1)
    axes[0].plot(epochs, 100 * np.array(h["val_error"]), color=colour, label=f"{name}")
    axes[0].axvline(kept[name]["kept"], color=colour, linestyle=":")
epochs = np.arange(1, len(h_adv["val_adv_error"]) + 1)
axes[1].plot(epochs, 100 * np.array(h_adv["val_adv_error"]), color="C1", label="validation, FGSM")
axes[1].plot(epochs, 100 * np.array(h_adv["adv_error"]), color="C3", label="training batches, FGSM")
axes[1].axvline(kept["adversarial"]["kept"], color="C1", linestyle=":", label="kept epoch")
axes[0].set(yscale="log", xlabel="epoch", ylabel="error (%)", title="clean validation error")
axes[1].set(
    yscale="log", xlabel="epoch", ylabel="error (%)", title="adversarially trained network, FGSM"
)
axes[0].legend(title="network (dotted: kept epoch)")
axes[1].legend()
display(fig_curves)

# %%
k_adv = kept["adversarial"]["kept"]
val_adv = 100 * np.array(h_adv["val_adv_error"])
val_clean_adv = 100 * np.array(h_adv["val_error"])
curve = {
    "adv_val_fgsm_kept": float(val_adv[k_adv - 1]),
    "adv_val_fgsm_last": float(val_adv[-1]),
    "adv_val_clean_kept": float(val_clean_adv[k_adv - 1]),
    "adv_val_clean_best": float(val_clean_adv.min()),
    "adv_val_clean_best_epoch": int(np.argmin(val_clean_adv)) + 1,
    "adv_val_clean_last": float(val_clean_adv[-1]),
    "adv_train_fgsm_kept": float(100 * h_adv["adv_error"][k_adv - 1]),
    "adv_train_fgsm_last": float(100 * h_adv["adv_error"][-1]),
    "adv_val_fgsm_after_median": float(np.median(val_adv[k_adv - 1 :])),
    "adv_val_fgsm_at_clean_best": float(val_adv[np.argmin(val_clean_adv)]),
    "adv_val_fgsm_after_min": float(val_adv[k_adv - 1 :].min()),
    "adv_val_fgsm_after_max": float(val_adv[k_adv - 1 :].max()),
}
for key, value in curve.items():
    glue(f"ch6_{key}", value, display=False)
print(
    f"FGSM validation error: {curve['adv_val_fgsm_kept']:.2f} % at the kept epoch, "
    f"median {curve['adv_val_fgsm_after_median']:.2f} % from it to the last epoch"
)

# %% [markdown]
# At its kept epoch, {glue:text}`ch6_adversarial_kept`, the adversarially trained network's
# FGSM validation error is {glue:text}`ch6_adv_val_fgsm_kept:.2f` %, the lowest of the run.
# Over the {glue:text}`ch6_after_epochs` epochs from it to the last, it moves between
# {glue:text}`ch6_adv_val_fgsm_after_min:.2f` % and {glue:text}`ch6_adv_val_fgsm_after_max:.2f` %
# (median {glue:text}`ch6_adv_val_fgsm_after_median:.2f` %) and ends at
# {glue:text}`ch6_adv_val_fgsm_last:.2f` %; over the same epochs the FGSM error on its own
# training batches goes from {glue:text}`ch6_adv_train_fgsm_kept:.2f` % to
# {glue:text}`ch6_adv_train_fgsm_last:.2f` %. The clean validation error reaches its lowest
# value, {glue:text}`ch6_adv_val_clean_best:.2f` % (against
# {glue:text}`ch6_adv_val_clean_kept:.2f` % at the kept epoch), at epoch
# {glue:text}`ch6_adv_val_clean_best_epoch`. {glue:text}`ch6_curve_story` The kept epoch is the
# minimum of a noisy curve, so its validation number is an optimistic estimate; the test
# set, which played no part in the choice, gives the unbiased one (the table above).

# %%
glue("ch6_after_epochs", len(val_adv) - k_adv + 1, display=False)
run_epochs, cap = kept["adversarial"]["epochs"], profile.epochs_adversarial
if profile.patience and run_epochs >= cap and run_epochs - k_adv < profile.patience:
    story = (
        f"The run ended at the cap of {cap} epochs, {run_epochs - k_adv} after the kept one and "
        f"before the patience of {profile.patience} epochs ran out: early stopping did not end "
        "it, and a longer budget might have kept a later epoch. "
    )
elif profile.patience:
    story = (
        f"Early stopping ended the run {run_epochs - k_adv} epochs after the kept one, when the "
        "FGSM validation error had not improved for the patience of "
        f"{profile.patience} epochs. "
    )
else:
    story = "This profile has no early stopping: the last epoch is the kept one. "
gap_clean_best = curve["adv_val_fgsm_at_clean_best"] - curve["adv_val_fgsm_kept"]
if curve["adv_val_clean_best_epoch"] == k_adv:
    story += "The clean validation error is lowest at the same epoch."
else:
    story += (
        f"At epoch {curve['adv_val_clean_best_epoch']}, where the clean validation error is "
        f"lowest, the FGSM validation error is {curve['adv_val_fgsm_at_clean_best']:.2f} %, "
        + (
            f"{gap_clean_best:.1f} points above the kept epoch's: within this run the clean "
            "error picks a less robust network than the FGSM error does."
            if gap_clean_best > 0.5
            else f"{gap_clean_best:+.1f} points from the kept epoch's: within this run the two "
            "errors pick networks of about the same robustness."
        )
    )
glue("ch6_curve_story", story, display=False)


# %% [markdown]
# ## C12–C14: the protocol for the large network
#
# > For its best result the paper widened the maxout network from 240 to 1600 units per
# > layer. Without adversarial training the wide network overfits slightly: 1.14 % test
# > error (C12). The original maxout recipe stops on the validation error, which was very
# > flat for the adversarially trained network, while its adversarial validation error was
# > not. "We therefore used early stopping on the adversarial validation set error." With
# > the number of epochs chosen that way, the network was trained again on all 60,000
# > training digits (C13). Five runs with different seeds (minibatch order, initial weights,
# > dropout masks) erred on 0.77 % of the test digits four times and on 0.83 % once, a mean
# > of 0.782 % (C14).
#
# (Section 6, paraphrased.) `experiments.maxout_retrained` runs the protocol: stage 1 is the
# adversarially trained network of `experiments.maxout`, stopped early on its FGSM
# validation error, which keeps epoch $k$; stage 2 trains a fresh network, same recipe and
# seed, for exactly $k$ epochs on the training and validation digits together
# ({glue:text}`ch6_n_all:,` digits), with nothing held out. The paper does not say whether
# it restarted or continued training; pylearn2's maxout scripts continued until the
# validation cost matched the training cost, and we read "retrained" literally.
#
# What the book runs is reduced, and says so in every row below. A
# {glue:text}`ch6_paper_large_units`-unit network costs {glue:text}`ch6_width_cost:.0f` times
# as many multiply-adds per digit as a 240-unit one, and the protocol trains each of five
# seeds twice, stage 1 on the long schedule: beyond two CPU cores. The `paper` profile runs
# it as the paper did, and the naive 1600-unit network of C12 too, for which no narrower
# network can stand in: under `book` C12 gets a {glue:text}`ch6_c12_budget`-epoch run of the
# 1600-unit network only, beside the 240-unit one on the same schedule, which cannot show the
# slight overfitting the paper reports after its long schedule. Under `book` the large network is
# {glue:text}`ch6_large_units` units wide (`profile.maxout_units_large`), and the protocol
# runs in two forms:
#
# * **one long seed**: stage 1 is the shipped adversarially trained network above (kept
#   epoch {glue:text}`ch6_adversarial_kept` of {glue:text}`ch6_adversarial_epochs`), stage 2
#   a fresh network trained for {glue:text}`ch6_adversarial_kept` epochs on all the digits
#   (`maxout_retrained(profile, seed=0)`, shipped too);
# * **{glue:text}`ch6_n_seeds` short seeds**: stage 1 is the {glue:text}`ch6_short`-epoch
#   adversarially trained network of each seed in the table above, stage 2 trains as many
#   epochs as it kept (`maxout_retrained(profile, seed=s, epochs=profile.epochs_variant)`).
#
# Two rules, fixed before the runs. C13 is a protocol without a number; what retraining on
# all the digits is for is a better network than the one that saw
# {glue:text}`ch6_n_train:,` of them, so C13 counts as reproduced here if the retrained
# network's test error is below its stage-1 network's in every run, the long seed and each
# short seed. C14 compares the paper's mean over five 1600-unit seeds with our long seed's
# retrained network, with the tolerance of every clean error in this chapter (0.2 points);
# because that is one seed of a 240-unit network, a number within the tolerance is graded
# "partly reproduced", never "reproduced".

# %% tags=["hide-output"]
large = profile.maxout_units_large
paper_large = profiles.get_profile("paper").maxout_units_large
macs = {
    u: profile.maxout_pieces * u * (784 + u) + 10 * u for u in (profile.maxout_units, paper_large)
}
glue("ch6_large_units", large, display=False)
glue("ch6_paper_large_units", paper_large, display=False)
glue("ch6_width_cost", macs[paper_large] / macs[profile.maxout_units], display=False)
glue("ch6_n_train", len(splits.x_train), display=False)
glue("ch6_n_all", len(splits.x_train) + len(splits.x_val), display=False)
glue("ch6_n_seeds", len(profile.seeds), display=False)
# C12 needs the paper's width itself. A profile whose large network is narrower trains it on
# the short schedule only, beside the book's width on the same schedule (seed 0 for both).
c12_budget = None if large == paper_large else short
naive_large = experiments.maxout(profile, units=paper_large, epochs=c12_budget)
c12 = 100 * evaluation.error_rate(naive_large, x_test, y_test)
c12_narrow = None
if c12_budget is not None:
    same_budget = experiments.maxout(profile, epochs=c12_budget)
    c12_narrow = 100 * evaluation.error_rate(same_budget, x_test, y_test)
    glue("ch6_c12_budget", c12_budget, display=False)
    glue("ch6_c12_wide", c12, display=False)
    glue("ch6_c12_narrow", c12_narrow, display=False)
    glue("ch6_c12_gap", abs(c12 - c12_narrow), display=False)
    glue("ch6_c12_side", "lower" if c12 < c12_narrow else "higher", display=False)
    c12_ci = {}
    for key, value in (("wide", c12), ("narrow", c12_narrow)):
        low, high = evaluation.wilson_interval(round(value / 100 * len(y_test)), len(y_test))
        c12_ci[key] = (100 * low, 100 * high)
        glue(f"ch6_c12_{key}_low", 100 * low, display=False)
        glue(f"ch6_c12_{key}_high", 100 * high, display=False)
    overlap = c12_ci["wide"][1] >= c12_ci["narrow"][0] and c12_ci["narrow"][1] >= c12_ci["wide"][0]
    glue(
        "ch6_c12_overlap",
        "with overlapping intervals" if overlap else "and the intervals do not overlap",
        display=False,
    )
runs = {"long schedule, seed 0": (0, None)}
runs.update({f"{short} epochs, seed {s}": (s, short) for s in profile.seeds})
protocol = {}
for label, (s, budget) in runs.items():
    stages = {
        "stage1": experiments.maxout(profile, s, units=large, adversarial=True, epochs=budget),
        "retrained": experiments.maxout_retrained(profile, s, epochs=budget),
    }
    r = protocol[label] = {"seed": s, **stages["retrained"].advkeras_stage1}
    for stage, net in stages.items():
        r[f"{stage}_clean"] = 100 * evaluation.error_rate(net, x_test, y_test)
        report = evaluation.attack_report(net, x_test, y_test, eps=eps, clip=None)
        r[f"{stage}_fgsm"] = 100 * report.error

# %%
rows = [
    "| stage 1: budget, seed | epochs run (kept) | test error: stage 1 → retrained "
    "| FGSM error: stage 1 → retrained |",
    "|---|---|---|---|",
]
for label, r in protocol.items():
    rows.append(
        f"| {label} | {r['epochs']} ({r['kept']}) "
        f"| {r['stage1_clean']:.2f} → {r['retrained_clean']:.2f} % "
        f"| {r['stage1_fgsm']:.1f} → {r['retrained_fgsm']:.1f} % |"
    )
display(Markdown("\n".join(rows)))

# %%
long_run = protocol["long schedule, seed 0"]
seeded = [r for label, r in protocol.items() if label != "long schedule, seed 0"]
summary = {}
for key in ("stage1_clean", "retrained_clean", "stage1_fgsm", "retrained_fgsm"):
    values = [r[key] for r in seeded]
    summary[key] = {"mean": float(np.mean(values)), "min": min(values), "max": max(values)}
    for stat, value in summary[key].items():
        glue(f"ch6_c14_{key}_{stat}", value, display=False)
    glue(f"ch6_c13_long_{key}", long_run[key], display=False)
lowered = sum(r["retrained_clean"] < r["stage1_clean"] for r in protocol.values())
c13_ok = lowered == len(protocol)
change_long = long_run["retrained_clean"] - long_run["stage1_clean"]
change_short = summary["retrained_clean"]["mean"] - summary["stage1_clean"]["mean"]
seed_range = summary["stage1_clean"]["max"] - summary["stage1_clean"]["min"]
fgsm_long = long_run["retrained_fgsm"] - long_run["stage1_fgsm"]
fgsm_short = summary["retrained_fgsm"]["mean"] - summary["stage1_fgsm"]["mean"]
kept_short = [r["kept"] for r in seeded]
glue(
    "ch6_step_ratio", (len(splits.x_train) + len(splits.x_val)) / len(splits.x_train), display=False
)
glue(
    "ch6_c13_story",
    f"Retraining on all the digits lowers the test error in {lowered} of the {len(protocol)} "
    f"runs. It changes the long seed's by {change_long:+.2f} points and the mean of the short "
    f"seeds by {change_short:+.2f} points, against a range of {seed_range:.2f} points among "
    f"their stage-1 networks: "
    + (
        "a change within the seed-to-seed range."
        if abs(change_short) <= seed_range
        else "a gain larger than the seed-to-seed range."
        if change_short < 0
        else "a loss larger than the seed-to-seed range."
    )
    + f" The FGSM error moves by {fgsm_long:+.1f} points (long seed) and "
    f"{fgsm_short:+.1f} points (mean of the short seeds). "
    + (
        "These runs do not show that retraining on the held-out digits lowers the test error."
        if not c13_ok
        else "Retraining lowers the test error in every run, by more than the seeds move it."
        if change_short < 0 and -change_short > seed_range
        else "Retraining lowers the test error in every run, though by less than the seeds move it."
    ),
    display=False,
)
glue(
    "ch6_c13_kept_story",
    f"On the short schedule stage 1 kept epochs {', '.join(str(k) for k in kept_short)} of "
    f"{short}: the FGSM validation error was lowest at or next to the end of the budget, so "
    "stage 2 trains about as many epochs as stage 1 did, and there the comparison is mainly "
    "one of more digits (and steps) per epoch, not of a better-chosen stopping point."
    if min(kept_short) >= short - 1
    else f"On the short schedule stage 1 kept epochs {', '.join(str(k) for k in kept_short)} "
    f"of {short}.",
    display=False,
)
print(
    f"retraining lowers the test error in {lowered} of {len(protocol)} runs; change: long seed "
    f"{change_long:+.2f}, short seeds' mean {change_short:+.2f} points (their stage-1 range "
    f"{seed_range:.2f})"
)

# %% [markdown]
# On the long schedule, the shipped network errs on
# {glue:text}`ch6_c13_long_stage1_clean:.2f` % of the test digits and the network retrained
# on all the digits on {glue:text}`ch6_c13_long_retrained_clean:.2f` %; on FGSM examples,
# {glue:text}`ch6_c13_long_stage1_fgsm:.1f` % and
# {glue:text}`ch6_c13_long_retrained_fgsm:.1f` %. Over the short seeds the mean test error
# goes from {glue:text}`ch6_c14_stage1_clean_mean:.2f` %
# ({glue:text}`ch6_c14_stage1_clean_min:.2f`–{glue:text}`ch6_c14_stage1_clean_max:.2f` %)
# to {glue:text}`ch6_c14_retrained_clean_mean:.2f` %
# ({glue:text}`ch6_c14_retrained_clean_min:.2f`–{glue:text}`ch6_c14_retrained_clean_max:.2f` %),
# and the mean FGSM error from {glue:text}`ch6_c14_stage1_fgsm_mean:.1f` %
# ({glue:text}`ch6_c14_stage1_fgsm_min:.1f`–{glue:text}`ch6_c14_stage1_fgsm_max:.1f` %) to
# {glue:text}`ch6_c14_retrained_fgsm_mean:.1f` %
# ({glue:text}`ch6_c14_retrained_fgsm_min:.1f`–{glue:text}`ch6_c14_retrained_fgsm_max:.1f` %).
# {glue:text}`ch6_c13_story`
#
# Besides the data, one thing differs between the stages: an epoch on all the digits is
# {glue:text}`ch6_step_ratio:.1f` times as many minibatches, so for the same $k$ stage 2 also
# takes {glue:text}`ch6_step_ratio:.1f` times as many SGD steps, with the learning rate
# decaying per step. Each stage
# is one network per seed, so the range over the seeds is the only measure of the noise.
# {glue:text}`ch6_c13_kept_story` The paper's 0.782 % is a mean over five seeds of a network
# {glue:text}`ch6_width_cost:.0f` times as costly; ours is one seed of the 240-unit network,
# which the table at the end grades by the rule above.
#
# C12, reduced: trained for {glue:text}`ch6_c12_budget` epochs, the naive 1600-unit network
# errs on {glue:text}`ch6_c12_wide:.2f` % of the test digits (95 % Wilson interval
# {glue:text}`ch6_c12_wide_low:.2f`–{glue:text}`ch6_c12_wide_high:.2f` %), the 240-unit one on
# the same schedule and seed on {glue:text}`ch6_c12_narrow:.2f` %
# ({glue:text}`ch6_c12_narrow_low:.2f`–{glue:text}`ch6_c12_narrow_high:.2f` %): the wide
# network's error is {glue:text}`ch6_c12_gap:.2f` points {glue:text}`ch6_c12_side` at this
# budget, one run each, {glue:text}`ch6_c12_overlap`. The paper's
# 1.14 % comes after its long schedule; the table grades the reduced number against it, and
# a reduced number within the tolerance would be "partly reproduced", never "reproduced".

# %% [markdown]
# ## C16 and C17: transfer, and confidence on mistakes
#
# The paper crafts FGSM examples on one network and classifies them with the other:
# examples from the naive network fool the adversarially trained one 19.6 % of the time,
# and examples from the adversarially trained network fool the naive one 40.9 % of the time
# (C16a/b). On its own FGSM examples the adversarially trained network is wrong with an
# average confidence of 81.4 % (C17). `evaluation.transfer_matrix` crafts on each network
# and classifies with each (unclipped, true labels).

# %%
transfer = evaluation.transfer_matrix(nets, x_test, y_test, eps=eps, clip=None)
c16a = 100 * transfer.error_of("naive", "adversarial")
c16b = 100 * transfer.error_of("adversarial", "naive")
c17 = results["adversarial"]["fgsm_conf"]
glue("ch6_c16a", c16a, display=False)
glue("ch6_c16b", c16b, display=False)
glue("ch6_c17", c17, display=False)
glue(
    "ch6_transfer_story",
    "Both transfer errors are higher than the paper's: these two networks share more of their "
    "adversarial examples than the paper's did, in both directions."
    if c16a > 19.6 and c16b > 40.9
    else "Both transfer errors are lower than the paper's."
    if c16a < 19.6 and c16b < 40.9
    else "One transfer error is above the paper's, the other below.",
    display=False,
)
display(
    Markdown(
        "Rows: network the examples are crafted on; columns: network classifying.\n\n"
        + transfer.to_markdown()
    )
)

# %% [markdown]
# FGSM examples of the naive network fool the adversarially trained one on
# {glue:text}`ch6_c16a:.1f` % of the test digits (paper: 19.6 %), and those of the
# adversarially trained network fool the naive one on {glue:text}`ch6_c16b:.1f` % (paper:
# 40.9 %). The adversarially trained network's mistakes on its own FGSM examples have an
# average confidence of {glue:text}`ch6_c17:.1f` % (paper: 81.4 %); the naive network's,
# {glue:text}`ch6_naive_fgsm_conf:.1f` %. {glue:text}`ch6_transfer_story`
#
# ## Label leaking
#
# Chapter 4 introduced the question of which label the attack uses. FGSM with the true
# label can leak it into the perturbation: an adversarially trained network may learn to
# read the perturbation's pattern, and then be *more* accurate on the true-label attack
# than on an attack that uses its own predictions. We attack both networks both ways.

# %%
leak = {}
for name, net in nets.items():
    x_pred = attacks.fgsm(net, x_test, None, eps=eps, clip=None)
    leak[name] = {
        "true": results[name]["fgsm"],
        "pred": 100 * evaluation.error_rate(net, x_pred, y_test),
    }
    glue(f"ch6_{name}_leak_pred", leak[name]["pred"], display=False)
    print(
        f"{name:>12}: true labels {leak[name]['true']:.2f} %, own predictions {leak[name]['pred']:.2f} %"
    )
gap = leak["adversarial"]["pred"] - leak["adversarial"]["true"]
glue("ch6_leak_gap", gap, display=False)
glue(
    "ch6_leak_story",
    "The true labels do leak: the attack with the network's own predictions is stronger."
    if gap > 0.5
    else "There is no sign of label leaking here: the two attacks differ by less than half a point."
    if abs(gap) <= 0.5
    else "The attack with the true labels is the stronger one, the opposite of leaking.",
    display=False,
)

# %% [markdown]
# With its own predictions as labels the attack fools the adversarially trained network on
# {glue:text}`ch6_adversarial_leak_pred:.2f` % of the digits, against
# {glue:text}`ch6_adversarial_fgsm:.2f` % with the true labels (difference
# {glue:text}`ch6_leak_gap:+.2f` points). {glue:text}`ch6_leak_story` For the naive network
# the two are {glue:text}`ch6_naive_leak_pred:.1f` % and {glue:text}`ch6_naive_fgsm:.1f` %.
# The numbers of C15–C17 above use the true labels, as the paper does.
#
# ## Figure 3: the first-layer weights
#
# > The weights of the adversarially trained model are significantly more localized and
# > interpretable.
#
# Each row is one maxout unit of the first layer `h0`, each column one of its five linear
# pieces, drawn as a 28 × 28 image (white positive, black negative, each filter scaled by
# its largest $|w|$). The units are the first five of 240, not chosen.

# %% mystnb={"figure": {"caption": "The paper's Figure 3: the first five maxout units of the first layer (rows) and their five linear pieces (columns) as images, white positive and black negative, for the naive (left) and the adversarially trained network (right). The adversarially trained filters are {glue:text}`ch6_c18_story`: over the pixels some training digit uses, the median filter spreads its energy over {glue:text}`ch6_loc_adversarial_pixels_used:.0f` pixels, against {glue:text}`ch6_loc_naive_pixels_used:.0f` for the naive network.", "name": "fig-ch06-fig3"}, "image": {"alt": "Two five-by-five grids of small square images, each the 28-by-28 weights of one linear piece of one first-layer maxout unit, white positive, black negative and grey near zero. Left, the naive network; right, the adversarially trained network."}}
filters = {name: net.get_layer("h0").unit_filters() for name, net in nets.items()}
fig3 = Figure(figsize=(11.0, 5.6), layout="constrained")
ax3 = fig3.subplots(1, 2)
for a, (name, f) in zip(ax3, filters.items(), strict=True):
    plotting.weights_grid(f[:5], ax=a)
    a.set_title(f"{name} network: units 1-5 (rows) x pieces (columns)")
display(fig3)

# %% [markdown]
# "More localised" can be measured. For each of the 240 × 5 filters $w$,
# `weights.effective_pixels` is the participation ratio $(\sum_i w_i^2)^2 / \sum_i w_i^4$,
# the number of pixels its energy is spread over, and `weights.spatial_spread` the radius,
# in pixels, of its energy $w_i^2$ around its centre in the image. Pixels that are 0 in
# every training image give the naive network no gradient, so its weights there stay
# near their initial values; we count both over all 784 pixels and over the pixels that
# are nonzero in at least one training digit. The paper gives no number for C18, so its rule
# is fixed here, before the measurement: the adversarially trained filters are "more
# localised" when their median is smaller on both measures, over all pixels and over the
# used ones.

# %%
used = (splits.x_train > 0).any(axis=0)
loc = {}
for name, f in filters.items():
    loc[name] = {
        "pixels": float(np.median(weights.effective_pixels(f))),
        "pixels_used": float(np.median(weights.effective_pixels(f, mask=used))),
        "spread": float(np.median(weights.spatial_spread(f))),
        "spread_used": float(np.median(weights.spatial_spread(f, mask=used))),
    }
    for key, value in loc[name].items():
        glue(f"ch6_loc_{name}_{key}", value, display=False)
glue("ch6_used_pixels", int(used.sum()), display=False)
rows = [
    "| network | effective pixels | ... on used pixels | spatial spread (px) | ... on used pixels |"
]
rows.append("|---|---|---|---|---|")
for name, r in loc.items():
    rows.append(
        f"| {name} | {r['pixels']:.0f} | {r['pixels_used']:.0f} | {r['spread']:.1f} | {r['spread_used']:.1f} |"
    )
display(Markdown("Medians over the 1,200 filters of `h0`.\n\n" + "\n".join(rows)))
c18_ok = all(
    loc["adversarial"][k] < loc["naive"][k]
    for k in ("pixels", "pixels_used", "spread", "spread_used")
)
glue(
    "ch6_c18_story",
    "more localised by both measures" if c18_ok else "not more localised by every measure",
    display=False,
)

# %% [markdown]
# Over the {glue:text}`ch6_used_pixels` pixels that some training digit uses, the median
# filter of the naive network spreads its energy over {glue:text}`ch6_loc_naive_pixels_used:.0f`
# pixels with a spatial spread of {glue:text}`ch6_loc_naive_spread_used:.1f` pixels; the
# adversarially trained network's, over {glue:text}`ch6_loc_adversarial_pixels_used:.0f`
# pixels and {glue:text}`ch6_loc_adversarial_spread_used:.1f` pixels. Over all 784 pixels
# the figures are {glue:text}`ch6_loc_naive_pixels:.0f` and
# {glue:text}`ch6_loc_adversarial_pixels:.0f` pixels, spreads
# {glue:text}`ch6_loc_naive_spread:.1f` and {glue:text}`ch6_loc_adversarial_spread:.1f`.
# The adversarially trained filters are {glue:text}`ch6_c18_story`. "Interpretable", the
# other half of the claim, has no measure here; the figure is what we can show.

# %% [markdown]
# ## C19: training on noise instead of adversarial examples
#
# Is it the adversarial direction that helps, or any perturbation of that size? The paper
# trained the same network with $\tilde J$ but $\eta$ drawn at random: $\pm\epsilon$ per pixel
# with random signs, or uniform in $(-\epsilon, \epsilon)$. On FGSM examples these networks
# erred on 86.2 % (confidence 97.3 %) and 90.4 % (97.8 %) of the digits. We train both
# controls with the short budget of {glue:text}`ch6_short` epochs (seed 0, early stopping on
# the clean validation error) and compare them with the naive and adversarially trained
# networks of the same budget and seed, from the spread above. The paper's networks were
# trained much longer, so the comparison that counts here is within the budget.

# %%
controls = {
    f"naive, {short} epochs": experiments.maxout(profile, epochs=short),
    "sign noise ±ε": experiments.maxout(
        profile, adversarial=True, perturbation="sign_noise", epochs=short
    ),
    "uniform noise U(−ε, ε)": experiments.maxout(
        profile, adversarial=True, perturbation="uniform_noise", epochs=short
    ),
    f"adversarial, {short} epochs": experiments.maxout(profile, adversarial=True, epochs=short),
}
noise = {}
rows = ["| training, short budget | test error | FGSM error | confidence on FGSM mistakes |"]
rows.append("|---|---|---|---|")
for (name, net), slug in zip(controls.items(), ["naive", "sign", "uniform", "adv"], strict=True):
    report = evaluation.attack_report(net, x_test, y_test, eps=eps, clip=None)
    r = noise[slug] = {
        "clean": 100 * evaluation.error_rate(net, x_test, y_test),
        "fgsm": 100 * report.error,
        "conf": 100 * report.confidence_on_mistakes,
    }
    for key, value in r.items():
        glue(f"ch6_noise_{slug}_{key}", value, display=False)
    rows.append(f"| {name} | {r['clean']:.2f} % | {r['fgsm']:.1f} % | {r['conf']:.1f} % |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# Trained on sign noise, the network errs on {glue:text}`ch6_noise_sign_fgsm:.1f` % of the
# FGSM digits with confidence {glue:text}`ch6_noise_sign_conf:.1f` % (paper: 86.2 % /
# 97.3 %); trained on uniform noise, on {glue:text}`ch6_noise_uniform_fgsm:.1f` % with
# confidence {glue:text}`ch6_noise_uniform_conf:.1f` % (paper: 90.4 % / 97.8 %). The naive
# network of the same budget errs on {glue:text}`ch6_noise_naive_fgsm:.1f` % and the
# adversarially trained one on {glue:text}`ch6_noise_adv_fgsm:.1f` %. {glue:text}`ch6_noise_story`
# {glue:text}`ch6_noise_conf_story` The third control of the paper, L1 weight decay, is
# measured in [chapter 5](05_linear_models_vs_weight_decay.ipynb) (not retrained here).

# %%
changes = {k: noise[k]["fgsm"] - noise["naive"]["fgsm"] for k in ("sign", "uniform", "adv")}
conf_below = [noise[k]["conf"] < paper for k, paper in (("sign", 97.3), ("uniform", 97.8))]
short_less = noise["naive"]["conf"] < results["naive"]["fgsm_conf"]
glue(
    "ch6_noise_conf_story",
    (
        "Both noise-trained networks are less confident on their mistakes than the paper's"
        if all(conf_below)
        else "Both noise-trained networks are at least as confident on their mistakes as the "
        "paper's"
        if not any(conf_below)
        else "One noise-trained network is less confident on its mistakes than the paper's, "
        "the other not"
    )
    + f". The naive network of the same budget has a confidence of {noise['naive']['conf']:.1f} "
    f"% on its mistakes, against {results['naive']['fgsm_conf']:.1f} % for the long-trained one"
    + (
        f": {short} epochs leave the naive network less confident"
        + (", which may account for part of the gap to the paper." if any(conf_below) else ".")
        if short_less
        else f": {short} epochs do not leave the naive network less confident."
    ),
    display=False,
)
glue(
    "ch6_noise_story",
    f"Relative to the naive network, training on sign noise changes the FGSM error by "
    f"{changes['sign']:+.1f} points, on uniform noise by {changes['uniform']:+.1f}, and on "
    f"FGSM examples by {changes['adv']:+.1f}: "
    + (
        "noise of the same size buys no robustness to FGSM here, the adversarial direction does."
        if max(changes["sign"], changes["uniform"]) > -2 and changes["adv"] < -10
        else "not the clear separation between noise and adversarial examples the paper reports."
    ),
    display=False,
)

# %% [markdown]
# ## C20 and C21: other adversaries
#
# The sign function has a zero derivative, so when the weights take a step on $\tilde J$
# they cannot anticipate how the FGSM adversary will react to that step. The paper tried
# adversaries that are differentiable, small rotations or the addition of the scaled
# gradient, so that learning can take the adversary's reaction into account, and found
# "not nearly as powerful of a regularizing result" (C20; no numbers). It also tried
# perturbing hidden layers instead of the input: with unbounded units such as maxout,
# perturbing the input worked better, and perturbing the final hidden layer never helped
# (C21). We measure three variants, with the short budget:
#
# * **scaled gradient, η held constant**: $\eta = \epsilon_2\, \nabla_x J / \|\nabla_x J\|_2$
#   with $\epsilon_2 = 0.25\sqrt{784} = 7$, the L2 length of the FGSM step, so the two
#   adversaries move the input equally far in Euclidean distance; the weights' gradient
#   treats $\eta$ as a constant, as for FGSM (`AdversarialModel(norm=2)`);
# * **scaled gradient, differentiated through**: the same $\eta$, but the gradient of
#   $\tilde J$ with respect to the weights flows through $\eta$ (double backpropagation,
#   `AdversarialModel(norm=2, differentiable=True)`): the paper's differentiable adversary;
# * **hidden layer**: $\eta = 0.25 \operatorname{sign}(\nabla_h J)$ added to the activations
#   $h$ of the first maxout layer `h0` (`AdversarialModel(layer="h0")`; the final hidden
#   layer `h1` is refused by the code, as the paper advises).
#
# The paper gives no numbers, so the rules are fixed here, before the runs. C20 ("regularises
# less") holds if the network trained against the differentiated scaled gradient has a
# clean test error above that of every seed of FGSM training with the same budget. C21
# ("perturbing the input is better") holds if the network perturbed at `h0` has both a
# higher test error and a higher FGSM error than every such seed.
#
# `experiments.maxout_adversary` trains them with the same SGD recipe, minibatches, seed and
# epochs as the short-budget networks above, and stops on the clean validation error. All
# are judged on the same yardstick, FGSM on the input at $\epsilon = 0.25$, unclipped, and,
# as a check on the gradient each network exposes, on FGSM examples crafted on the naive
# network of the same budget.

# %%
variants = {
    "scaled gradient, η constant": experiments.maxout_adversary(
        profile, adversary="scaled_gradient"
    ),
    "scaled gradient, differentiated": experiments.maxout_adversary(
        profile, adversary="scaled_gradient_differentiable"
    ),
    "hidden layer h0": experiments.maxout_adversary(profile, adversary="hidden_h0"),
}
h0 = keras.Model(naive.inputs, naive.get_layer("h0").output)
h0_std = float(np.std(h0.predict([x_test[:2000]], verbose=0)))
glue("ch6_h0_ratio", eps / h0_std, display=False)
glue("ch6_pixel_ratio", eps / float(np.std(x_test)), display=False)
x_transfer = attacks.fgsm(controls[f"naive, {short} epochs"], x_test, y_test, eps=eps, clip=None)
compared = {"FGSM on the input": controls[f"adversarial, {short} epochs"], **variants}
var_results = {}
rows = [
    f"| adversarial training, {short} epochs | test error | FGSM error | FGSM from the naive "
    "network | error against its own adversary (validation) |"
]
rows.append("|---|---|---|---|---|")
for (name, net), slug in zip(compared.items(), ["adv", "grad", "gradd", "hidden"], strict=True):
    best = int(np.argmin(net.advkeras_history["val_error"]))
    own = net.advkeras_history.get("val_adv_error", [np.nan] * (best + 1))[best]
    r = var_results[slug] = {
        "clean": 100 * evaluation.error_rate(net, x_test, y_test),
        "fgsm": 100 * evaluation.attack_report(net, x_test, y_test, eps=eps, clip=None).error,
        "transfer": 100 * evaluation.error_rate(net, x_transfer, y_test),
        "own": 100 * own if np.isfinite(own) else None,  # None: clean validation only
    }
    for key, value in r.items():
        if value is not None:
            glue(f"ch6_var_{slug}_{key}", value, display=False)
    own_text = "not recorded" if r["own"] is None else f"{r['own']:.1f} %"
    rows.append(
        f"| {name} | {r['clean']:.2f} % | {r['fgsm']:.1f} % | {r['transfer']:.1f} % | {own_text} |"
    )
display(Markdown("\n".join(rows)))

# %%
clean_adv_seeds = spread["adversarial"]["clean"]
fgsm_adv_seeds = spread["adversarial"]["fgsm"]
c20_ok = var_results["gradd"]["clean"] > max(clean_adv_seeds)
hidden = var_results["hidden"]
c21_ok = hidden["clean"] > max(clean_adv_seeds) and hidden["fgsm"] > max(fgsm_adv_seeds)
glue("ch6_adv_clean_max", max(clean_adv_seeds), display=False)
glue("ch6_adv_fgsm_min", min(fgsm_adv_seeds), display=False)
glue("ch6_adv_fgsm_max", max(fgsm_adv_seeds), display=False)
glue("ch6_c20_verdict", "holds here" if c20_ok else "does not hold here", display=False)
glue("ch6_c21_verdict", "holds here" if c21_ok else "does not hold here", display=False)
masked = [
    name
    for name, slug in (("η constant", "grad"), ("differentiated", "gradd"))
    if var_results[slug]["transfer"] > var_results[slug]["fgsm"]
]
glue(
    "ch6_masking_story",
    f"For the scaled-gradient network{'s' if len(masked) > 1 else ''} "
    f"({', '.join(masked)}) the examples transferred from the naive network fool it more often "
    "than its own FGSM examples do. That should not happen if its gradient were a good guide "
    "to its errors; it is the signature of gradient masking, and the white-box FGSM error "
    "understates how vulnerable such a network is: the transfer column is the fairer comparison."
    if masked
    else "Every network's own FGSM examples fool it at least as often as the transferred ones, "
    "so no FGSM error here is an artefact of a misleading gradient.",
    display=False,
)

naive_short_fgsm = noise["naive"]["fgsm"]
fgsm_tolerance = 2.0  # the book's 2-point tolerance
no_input = hidden["fgsm"] >= naive_short_fgsm - fgsm_tolerance
how_often = (
    "more often than"
    if hidden["fgsm"] > naive_short_fgsm + fgsm_tolerance
    else "about as often as"
    if no_input
    else "less often than"
)
hidden_own = (
    ""
    if hidden["own"] is None
    else f"its own adversary fools it on {hidden['own']:.1f} % of the validation digits"
)
glue(
    "ch6_hidden_story",
    f"FGSM on the input fools it {how_often} the naive network of the same budget "
    f"(the naive network: {naive_short_fgsm:.1f} %)"
    + (
        ""
        if not hidden_own
        else f", while {hidden_own}: the network learns to resist its own adversary and nothing "
        "about the input's."
        if no_input and hidden["own"] < hidden["fgsm"] - 10
        else f"; {hidden_own}."
    )
    + ("." if not hidden_own else ""),
    display=False,
)

gd = var_results["gradd"]
gd_most = gd["transfer"] > max(r["transfer"] for slug, r in var_results.items() if slug != "gradd")
glue(
    "ch6_gradd_story",
    "Differentiating through η shows the mechanism: given the means to anticipate its "
    f"adversary, the network errs on {gd['fgsm']:.1f} % of its own FGSM examples, while "
    f"examples from another network fool it {gd['transfer']:.1f} % of the time"
    + (", more than any other network in the table" if gd_most else "")
    + ". It has learned to make its own gradient a poor guide, not to be robust"
    + (
        ", and it pays for it in clean error."
        if c20_ok
        else "; its clean error is not above that of every seed of FGSM training."
    )
    if gd["transfer"] > gd["fgsm"] + 20
    else "",
    display=False,
)

# %% [markdown]
# What does "regularising" mean here? In §6 adversarial training is a regulariser because it
# lowers the clean test error (C11), so we grade C20 on that: the differentiable adversary
# regularises less if its network's test error is above that of every seed of FGSM training
# with the same budget (at most {glue:text}`ch6_adv_clean_max:.2f` %). Trained against the
# scaled gradient differentiated through, the network errs on
# {glue:text}`ch6_var_gradd_clean:.2f` % of the clean test digits, so C20
# {glue:text}`ch6_c20_verdict`; with $\eta$ held constant, on
# {glue:text}`ch6_var_grad_clean:.2f` %. On FGSM examples the two err on
# {glue:text}`ch6_var_gradd_fgsm:.1f` % and {glue:text}`ch6_var_grad_fgsm:.1f` %, against
# {glue:text}`ch6_adv_fgsm_min:.1f`–{glue:text}`ch6_adv_fgsm_max:.1f` % for the three seeds of
# FGSM training; on the examples transferred from the naive network, on
# {glue:text}`ch6_var_gradd_transfer:.1f` % and {glue:text}`ch6_var_grad_transfer:.1f` %,
# against {glue:text}`ch6_var_adv_transfer:.1f` % for FGSM training (seed 0).
# {glue:text}`ch6_masking_story` {glue:text}`ch6_gradd_story` The paper gives no numbers, nor the size of its scaled
# gradient, so we cannot say how far its runs resembled ours.
#
# Perturbing `h0` instead of the input gives a test error of
# {glue:text}`ch6_var_hidden_clean:.2f` % and an FGSM error of
# {glue:text}`ch6_var_hidden_fgsm:.1f` %. {glue:text}`ch6_hidden_story` With the rule "worse
# than every seed of input FGSM training on both test error and FGSM error", C21's "perturbing the input is better" {glue:text}`ch6_c21_verdict`.
# One caveat: ε = 0.25 on `h0` is one choice among many. Relative to the spread of what it
# perturbs, it is {glue:text}`ch6_h0_ratio:.2f` standard deviations of the `h0` activations
# against {glue:text}`ch6_pixel_ratio:.2f` of the pixels for the input step, and each variant
# is one seed.
#
# ## The interpretations, in numbers
#
# The paper reads adversarial training as a **minimax game**: the model minimises the cost
# that an adversary, restricted to $\|\eta\|_\infty \le \epsilon$, maximises. Adversarially
# trained on a first-order adversary, the model also minimises an **upper bound on the
# expected cost under noise** $U(-\epsilon, \epsilon)$, in so far as the linear approximation
# holds: the worst case in the box costs at least as much as its average. And it resembles
# **hard-example mining** (or active learning with a heuristic labeller): each minibatch is
# complemented by the points nearby that the current model finds hardest. The numbers that
# go with each: the mean cross-entropy on the test digits, clean, under uniform noise and
# under FGSM, for both networks; and, from the training record, the cost of the perturbed
# half of each minibatch next to the clean half.


# %%
x_noise = attacks.uniform_noise(x_test, eps, seed=0, clip=None)
costs = {}
for name, net in nets.items():
    inputs = {
        "clean": x_test,
        "noise": x_noise,
        "fgsm": attacks.fgsm(net, x_test, y_test, eps=eps, clip=None),
    }
    costs[name] = {  # mean cross-entropy J(x, y) over the test digits
        key: float(
            np.mean(keras.losses.sparse_categorical_crossentropy(y_test, net.predict(x, verbose=0)))
        )
        for key, x in inputs.items()
    }
    for key, value in costs[name].items():
        glue(f"ch6_cost_{name}_{key}", value, display=False)
    print(
        f"{name:>12}: mean cost clean {costs[name]['clean']:.3f}, U(-eps, eps) {costs[name]['noise']:.3f}, FGSM {costs[name]['fgsm']:.3f}"
    )
bound = all(c["fgsm"] >= c["noise"] for c in costs.values())
fgsm_ratio = costs["naive"]["fgsm"] / costs["adversarial"]["fgsm"]
glue(
    "ch6_bound_story",
    (
        "The FGSM cost lies above the noise cost for both networks, as an upper bound should; "
        if bound
        else "The FGSM cost does not lie above the noise cost for every network, so the bound "
        "fails where the linear approximation does; "
    )
    + (
        f"adversarial training lowers it by a factor of {fgsm_ratio:.0f}"
        if fgsm_ratio >= 2
        else f"adversarial training lowers it from {costs['naive']['fgsm']:.3f} to "
        f"{costs['adversarial']['fgsm']:.3f}"
        if fgsm_ratio > 1
        else f"adversarial training does not lower it ({costs['naive']['fgsm']:.3f} for the naive "
        f"network, {costs['adversarial']['fgsm']:.3f} for the adversarially trained one)"
    )
    + ", and the noise cost "
    f"{'falls' if costs['adversarial']['noise'] < costs['naive']['noise'] else 'does not fall'}.",
    display=False,
)
k = kept["adversarial"]["kept"] - 1
glue("ch6_train_clean_loss", h_adv["clean_loss"][k], display=False)
glue("ch6_train_adv_loss", h_adv["adv_loss"][k], display=False)
glue(
    "ch6_mining_story",
    "the generated examples are the hard ones, which is the hard-example-mining reading"
    if h_adv["adv_loss"][k] > h_adv["clean_loss"][k]
    else "the generated examples are not the harder half here, against the hard-example-mining "
    "reading",
    display=False,
)

# %% [markdown]
# For the naive network the mean cost is {glue:text}`ch6_cost_naive_clean:.3f` on clean
# digits, {glue:text}`ch6_cost_naive_noise:.3f` under uniform noise and
# {glue:text}`ch6_cost_naive_fgsm:.2f` under FGSM; for the adversarially trained one,
# {glue:text}`ch6_cost_adversarial_clean:.3f`, {glue:text}`ch6_cost_adversarial_noise:.3f`
# and {glue:text}`ch6_cost_adversarial_fgsm:.2f` (Keras' cross-entropy caps the cost of one
# digit at $-\log 10^{-7} \approx 16.1$, which bounds the naive network's FGSM mean).
# {glue:text}`ch6_bound_story` During training, at the kept epoch, the
# perturbed half of the minibatches cost {glue:text}`ch6_train_adv_loss:.3f` on average and
# the clean half {glue:text}`ch6_train_clean_loss:.3f` (dropout on):
# {glue:text}`ch6_mining_story`.
#
# ## Paper vs this book
#
# Tolerances: 0.2 percentage points for a clean test error (two binomial standard
# deviations at 1 % on 10,000 digits); the book's default of 2 points for FGSM errors,
# transfer errors and confidences. The 1600-unit protocol (C12–C14: early stopping on the
# adversarial validation error, retraining on all 60,000 digits, five seeds) ran reduced, on
# the 240-unit network with one long and {glue:text}`ch6_n_seeds` short seeds, and the rows
# say so; C13 and C14 are graded by the rules stated before their runs, and C12 is the
# short-schedule run of the 1600-unit network, graded as its section says. The paper gives no
# number for C18, C20 and C21; as every claim without a number in this book, each is graded
# by the rule stated above, before its measurement, and its note repeats the rule. C19 is measured with the short budget, which the note says;
# where its numbers miss the paper's but its finding (training on noise buys no robustness
# to FGSM, training on FGSM examples does) holds, the verdict is "partly reproduced". C10,
# α = 0.5, is a setting of the method, not a result: every adversarial training in this book
# uses it ("shown").

# %%
# C13 and C14 ran reduced (the rules are stated in their section).
c14_reduced = large != paper_large or short < profile.epochs_adversarial
c14_setting = (
    f"reduced: maxout {large}, adversarial, 1 long seed + {len(profile.seeds)} seeds of {short} epochs"
    if c14_reduced
    else f"maxout {large}, adversarial, {len(profile.seeds)} seeds"
)
c14_ours = long_run["retrained_clean"] if c14_reduced else summary["retrained_clean"]["mean"]
c14_verdict = reporting.verdict(0.782, c14_ours, 0.2)
if c14_reduced and c14_verdict == "reproduced":
    c14_verdict = "partly reproduced"
# C19: the numbers are of the short budget; the finding is "noise buys no robustness".
c19_verdict, c19_note = {}, {}
for key, paper_value in (("sign", 86.2), ("uniform", 90.4)):
    finding = changes[key] > -2 and changes["adv"] < -10
    v = reporting.verdict(paper_value, noise[key]["fgsm"], 2.0)
    c19_verdict[key] = "partly reproduced" if v == "not reproduced" and finding else v
    c19_note[key] = (
        f"; the finding holds (FGSM error {changes[key]:+.1f} points vs naive; rule for "
        "partly: noise changes it by > -2 points, FGSM training by < -10)"
        if finding
        else ""
    )
claims = [
    reporting.Claim(
        "C10",
        "every adversarial training of this book (experiments.PAPER_ALPHA)",
        "α",
        paper=0.5,
        ours=alpha,
        unit="",
        tolerance=0.0,
        verdict="shown" if alpha == 0.5 else "not reproduced",
        note="a setting of the method, not a result",
    ),
    reporting.Claim(
        "C11a",
        "maxout 240, naive, MNIST test",
        "error",
        paper=0.94,
        ours=results["naive"]["clean"],
        tolerance=0.2,
        note=f"kept epoch {kept['naive']['kept']} of {kept['naive']['epochs']}",
    ),
    reporting.Claim(
        "C11b",
        "maxout 240, adversarial α=.5 ε=.25, MNIST test",
        "error",
        paper=0.84,
        ours=results["adversarial"]["clean"],
        tolerance=0.2,
        note=f"kept epoch {kept['adversarial']['kept']} of {kept['adversarial']['epochs']}; "
        f"{only_naive} digits wrong only for naive, {only_adv} only for adversarial: the "
        f"difference is {'' if p_mcnemar < 0.05 else 'not '}significant at the 5 % level "
        f"(sign test p = {p_mcnemar:.2f})",
    ),
    reporting.Claim(
        "C12",
        f"maxout {paper_large}, naive"
        + ("" if c12_budget is None else f"; reduced: {c12_budget} epochs, seed 0"),
        "test error",
        paper=1.14,
        ours=c12,
        tolerance=0.2,
        verdict="" if c12_budget is None or abs(c12 - 1.14) > 0.2 else "partly reproduced",
        note=""
        if c12_budget is None
        else f"the {profile.maxout_units}-unit network on the same schedule: {c12_narrow:.2f} %; "
        f"a {paper_large}-unit network costs {macs[paper_large] / macs[profile.maxout_units]:.0f}x "
        f"the multiply-adds of a {profile.maxout_units}-unit one per digit; its long schedule is "
        "beyond 2 CPU cores (the paper profile runs it)",
    ),
    reporting.Claim(
        "C13",
        f"{c14_setting}: early stop on FGSM validation error, retrain on all {len(splits.x_train) + len(splits.x_val):,}",
        f"runs (of {len(protocol)}) in which retraining lowers the test error",
        paper=None,
        ours=lowered,
        unit="",
        verdict="reproduced" if c13_ok else "not reproduced",
        note=f"test error {long_run['stage1_clean']:.2f} -> {long_run['retrained_clean']:.2f} % "
        f"(long seed), mean {summary['stage1_clean']['mean']:.2f} -> "
        f"{summary['retrained_clean']['mean']:.2f} % ({short}-epoch seeds; stage-1 range "
        f"{seed_range:.2f} points); rule: lower after retraining in every run",
    ),
    reporting.Claim(
        "C14",
        f"{c14_setting}, protocol of C13",
        "test error, long seed" if c14_reduced else "mean test error",
        paper=0.782,
        ours=c14_ours,
        tolerance=0.2,
        verdict=c14_verdict,
        note=f"{short}-epoch seeds: mean {summary['retrained_clean']['mean']:.2f} % "
        f"({summary['retrained_clean']['min']:.2f}-{summary['retrained_clean']['max']:.2f}); "
        f"FGSM {long_run['retrained_fgsm']:.1f} % (long seed)"
        + (
            "; rule: one 240-unit seed within 0.2 points is at most partly reproduced"
            if c14_reduced
            else ""
        ),
    ),
    reporting.Claim(
        "C15a",
        "maxout 240, naive, FGSM ε=.25 (unclipped)",
        "error",
        paper=89.4,
        ours=results["naive"]["fgsm"],
        note=f"clipped {results['naive']['fgsm_clipped']:.1f} %; {short}-epoch seeds span "
        f"{min(spread['naive']['fgsm']):.1f}-{max(spread['naive']['fgsm']):.1f} %",
    ),
    reporting.Claim(
        "C15b",
        "maxout 240, adversarial, FGSM ε=.25 (unclipped)",
        "error",
        paper=17.9,
        ours=results["adversarial"]["fgsm"],
        note=f"clipped {results['adversarial']['fgsm_clipped']:.1f} %; {short}-epoch seeds span "
        f"{min(spread['adversarial']['fgsm']):.1f}-{max(spread['adversarial']['fgsm']):.1f} %; "
        "one long-trained seed; the paper does not say whether its 17.9 % is the 240- or the "
        "1600-unit network",
    ),
    reporting.Claim(
        "C16a", "FGSM from naive, on adversarial network", "error", paper=19.6, ours=c16a
    ),
    reporting.Claim(
        "C16b", "FGSM from adversarial, on naive network", "error", paper=40.9, ours=c16b
    ),
    reporting.Claim(
        "C17",
        "adversarial network, its own FGSM examples",
        "confidence on mistakes",
        paper=81.4,
        ours=c17,
    ),
    reporting.Claim(
        "C18",
        "first-layer filters, adversarial vs naive",
        "median effective pixels (used)",
        paper=None,
        ours=loc["adversarial"]["pixels_used"],
        unit="",
        verdict="reproduced" if c18_ok else "not reproduced",
        note=f"naive {loc['naive']['pixels_used']:.0f}; spread "
        f"{loc['adversarial']['spread_used']:.1f} vs {loc['naive']['spread_used']:.1f} px; "
        "rule: smaller on both measures, with and without the blank pixels",
    ),
    reporting.Claim(
        "C19a",
        f"maxout trained on ±ε sign noise, {short} epochs, FGSM",
        "error",
        paper=86.2,
        ours=noise["sign"]["fgsm"],
        verdict=c19_verdict["sign"],
        note=f"confidence {noise['sign']['conf']:.1f} % (paper 97.3 %); naive "
        f"{noise['naive']['fgsm']:.1f} %, adversarial {noise['adv']['fgsm']:.1f} % ({short} epochs)"
        + c19_note["sign"],
    ),
    reporting.Claim(
        "C19b",
        f"maxout trained on U(−ε, ε) noise, {short} epochs, FGSM",
        "error",
        paper=90.4,
        ours=noise["uniform"]["fgsm"],
        verdict=c19_verdict["uniform"],
        note=f"confidence {noise['uniform']['conf']:.1f} % (paper 97.8 %)" + c19_note["uniform"],
    ),
    reporting.Claim(
        "C20",
        f"adversarial training on the scaled gradient (L2, ε₂=7), differentiated through η, {short} epochs",
        "test error",
        paper=None,
        ours=var_results["gradd"]["clean"],
        verdict="reproduced" if c20_ok else "not reproduced",
        note=f"{'regularises less' if c20_ok else 'does not regularise less by the rule'}; "
        "rule: test error > every FGSM-trained seed "
        f"({max(clean_adv_seeds):.2f} %); FGSM error {var_results['gradd']['fgsm']:.1f} %, "
        f"transferred {var_results['gradd']['transfer']:.1f} % (FGSM training: "
        f"{var_results['adv']['fgsm']:.1f} / {var_results['adv']['transfer']:.1f} %); η constant: "
        f"test {var_results['grad']['clean']:.2f} %; rotations not run"
        + (
            "; its white-box FGSM error below the transferred one is the signature of gradient "
            "masking"
            if var_results["gradd"]["transfer"] > var_results["gradd"]["fgsm"]
            else ""
        ),
    ),
    reporting.Claim(
        "C21",
        f"adversarial training on h0 (sign step ε=.25), {short} epochs",
        "FGSM error",
        paper=None,
        ours=var_results["hidden"]["fgsm"],
        verdict="reproduced" if c21_ok else "not reproduced",
        note=f"test {var_results['hidden']['clean']:.2f} %; rule: test and FGSM error worse "
        "than every FGSM-trained seed; final hidden layer refused by the code, not measured",
    ),
]
extra = {
    "networks": results,
    "exact_gradient": exact,
    "kept": kept,
    "seed_spread": spread,
    "curves": curve,
    "transfer_error": transfer.error.tolist(),
    "label_leaking": leak,
    "localisation": loc,
    "noise_controls": noise,
    "variants": var_results,
    "costs": costs,
    "protocol": protocol,
}
reporting.save_results("06_adversarial_training", claims, extra=extra)
reporting.show_claims(claims)
