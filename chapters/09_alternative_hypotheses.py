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
# # Alternative hypotheses: generative training and ensembles
#
# > We now consider two alternative hypotheses for the existence of adversarial examples.
# > The first is that generative training could constrain the model more, or teach it to
# > tell "real" data from "fake" and to be confident only on real data. The MP-DBM, a
# > generative model whose differentiable inference procedure classifies MNIST with 0.88 %
# > error, tests this: other generative models either have inference procedures that cannot
# > be differentiated, or need a separate discriminative classifier on top, so that one could
# > not tell whether the generative model itself is fooled. The MP-DBM is fooled: at
# > $\epsilon = 0.25$ it errs on 97.5 % of the adversarial examples made from the MNIST test
# > set. Some other form of generative training may still confer resistance, but being
# > generative is not enough on its own. The second hypothesis is that individual models
# > have strange quirks that averaging over many models washes out. An ensemble of twelve
# > maxout networks, each trained with its own seed for the weight initialisation, the
# > dropout masks and the minibatches, errs on 91.1 % of adversarial examples made against
# > the whole ensemble with $\epsilon = 0.25$, and on 87.9 % of those made against one member
# > only. Ensembling gives only limited resistance.
#
# (Section 9 of {cite}`goodfellow2015explaining`, paraphrased.) This chapter measures both
# hypotheses under the book's budget. Keras has no MP-DBM, so the first part trains the
# closest generative classifier that Keras can express and two CPU cores can train in a few
# minutes, and says what its result does and does not tell us about the paper's claim
# (C27a, C27b). The second part builds the ensemble of maxout networks, attacks it whole and
# through one member (C28a, C28b), and follows both errors as members are added.

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

from advkeras import attacks, ensembles, evaluation, plotting
from advkeras.book import experiments, profiles, reporting

profile = profiles.get_profile()
print(profile.describe())
keras.utils.set_random_seed(0)
splits = experiments.mnist(profile)
x_test, y_test = splits.x_test, splits.y_test
eps = experiments.MNIST_EPS
n_test = len(x_test)
glue("ch9_n_test", n_test, display=False)

# %% [markdown]
# ## C27: a generatively trained classifier
#
# The MP-DBM {cite}`goodfellow2013multiprediction` is a deep Boltzmann machine with two hidden layers of several thousand units,
# trained with the multi-prediction criterion and classified by 14 steps of mean-field
# inference (the pylearn2 configuration that the paper's inventory points to, not certain to
# be the paper's model). Nothing like it ships with Keras, and its pylearn2 recipe trains
# for hundreds of epochs. Its one-layer relative does fit in a few lines of Keras and a few
# minutes of two cores: the *classification RBM* {cite}`larochelle2008classification`, a
# restricted Boltzmann machine over the pixels $x$ and a one-hot label $y$, with binary
# hidden units $h$ and the energy
#
# $$
# E(x, y, h) = -b^\top x - c^\top h - d^\top y - x^\top W h - y^\top U h,
# \qquad p(x, y, h) \propto e^{-E(x, y, h)}.
# $$
#
# We chose it over the other candidates for three reasons. It is a Boltzmann machine, the
# MP-DBM's family, with the hidden layer that a naive-Bayes or class-conditional Gaussian
# model lacks (the posterior of naive Bayes over binary pixels is a softmax of a *linear*
# function of $x$, a case that chapter 3's argument settles in advance). It is trained purely
# generatively: contrastive divergence follows the gradient of $\log p(x, y)$, in which the
# label is one more visible unit and nothing rewards classifying well. And, the property the
# paper asks of the MP-DBM, its classifier is the generative model itself, through Bayes'
# rule, with an exact and differentiable posterior: summing out $h$ gives the free energy
# $F(x, y) = -b^\top x - d_y - \sum_j \operatorname{softplus}(c_j + (xW)_j + U_{yj})$, and
#
# $$
# p(y \mid x) = \frac{p(x, y)}{\sum_k p(x, k)} = \operatorname{softmax}_y\big(-F(x, y)\big),
# \qquad
# \eta = \epsilon \operatorname{sign}\big(\nabla_x\, {-\log p(y \mid x)}\big).
# $$
#
# `advkeras.generative.ClassRBM` is the Keras layer (its output is the logits $-F(x, y) +
# b^\top x$, so FGSM differentiates $-\log p(y \mid x)$ exactly), `fit_class_rbm` trains it by
# CD-1, and `tests/test_generative.py` checks the posterior against Bayes' rule with
# $p(x, y)$ summed over every hidden state, and that CD-1 raises the exact log-likelihood
# of a small model. `experiments.class_rbm` trains one under the profile's budget.

# %%
rbm = experiments.class_rbm(profile)
history = rbm.advkeras_history
rbm_clean = evaluation.evaluate(rbm, x_test, y_test)
rbm_fgsm = evaluation.attack_report(rbm, x_test, y_test, eps=eps, clip=None)
rbm_clipped = evaluation.attack_report(rbm, x_test, y_test, eps=eps)
gen = {
    "hidden": profile.generative_hidden,
    "epochs": len(history["loss"]),
    "val_error": 100 * history["val_error"][-1],
    "clean": 100 * rbm_clean.error,
    "clean_confidence": 100 * rbm_clean.confidence_clean,
    "fgsm": 100 * rbm_fgsm.error,
    "fgsm_conf": 100 * rbm_fgsm.confidence_on_mistakes,
    "fgsm_clipped": 100 * rbm_clipped.error,
}
for key, report in (("clean", rbm_clean), ("fgsm", rbm_fgsm)):  # 95 % Wilson intervals
    low, high = evaluation.wilson_interval(round(report.error * n_test), n_test)
    gen[f"{key}_low"], gen[f"{key}_high"] = 100 * low, 100 * high
for key, value in gen.items():
    glue(f"ch9_rbm_{key}", value, display=False)
print(f"classification RBM, {gen['hidden']} hidden units, CD-1 for {gen['epochs']} epochs:")
print(f"  clean test error {gen['clean']:.2f} % ({gen['clean_low']:.2f}-{gen['clean_high']:.2f})")
print(
    f"  FGSM eps={eps} error {gen['fgsm']:.1f} % (unclipped), {gen['fgsm_clipped']:.1f} % clipped"
)
print(f"  confidence on its FGSM mistakes {gen['fgsm_conf']:.1f} %")

# %% [markdown]
# The classification RBM, {glue:text}`ch9_rbm_hidden` hidden units trained by CD-1 for
# {glue:text}`ch9_rbm_epochs` epochs, errs on {glue:text}`ch9_rbm_clean:.2f` % of the
# {glue:text}`ch9_n_test:,` test digits (95 % Wilson interval
# {glue:text}`ch9_rbm_clean_low:.2f`–{glue:text}`ch9_rbm_clean_high:.2f` %; the MP-DBM:
# 0.88 %). With $\epsilon = 0.25$ and no clipping, FGSM through its own posterior raises the
# error to {glue:text}`ch9_rbm_fgsm:.1f` % (interval
# {glue:text}`ch9_rbm_fgsm_low:.2f`–{glue:text}`ch9_rbm_fgsm_high:.2f` %; the MP-DBM:
# 97.5 %), and the model gives its wrong answers a mean probability of
# {glue:text}`ch9_rbm_fgsm_conf:.1f` %. Clipped to $[0, 1]$ the error is
# {glue:text}`ch9_rbm_fgsm_clipped:.1f` %.
#
# How does that compare with a discriminatively trained network? The figure sweeps
# $\epsilon$ from 0 to 0.25 for the RBM and for the naive maxout network of chapters 4–6.

# %%
sweep_eps = np.linspace(0.0, eps, profile.sweep_points)
naive = experiments.maxout(profile)
sweeps = {
    "classification RBM (generative)": attacks.fgsm_sweep(
        rbm, x_test, y_test, sweep_eps, clip=None
    ),
    "naive maxout (discriminative)": attacks.fgsm_sweep(
        naive, x_test, y_test, sweep_eps, clip=None
    ),
}
half = int(np.argmin(np.abs(sweep_eps - 0.1)))
for key, s in zip(("rbm", "maxout"), sweeps.values(), strict=True):
    glue(f"ch9_sweep_{key}_eps", float(sweep_eps[half]), display=False)
    glue(f"ch9_sweep_{key}_error", 100 * float(s.error[half]), display=False)
    glue(f"ch9_sweep_{key}_top", 100 * float(s.error[-1]), display=False)
    print(f"{key}: error at eps={sweep_eps[half]:.3f}: {100 * s.error[half]:.1f} %")

# %% mystnb={"figure": {"caption": "FGSM error (solid) and confidence on mistakes (dashed) against \u03b5 for the generatively trained classification RBM and the discriminatively trained naive maxout network, unclipped, on the MNIST test digits. The star is the paper's error for the MP-DBM at \u03b5 = 0.25.", "name": "fig-ch09-generative"}, "image": {"alt": "Two pairs of curves against epsilon from 0 to 0.25, a solid error curve and a dashed confidence curve for the classification RBM and for the maxout network, with a star near 97.5 % at epsilon 0.25 for the paper's MP-DBM."}}
fig_gen = Figure(figsize=(6.5, 4.0), layout="constrained")
ax = fig_gen.subplots()
for label, s in sweeps.items():
    plotting.sweep_plot(s.epsilons, s.error, s.confidence_on_mistakes, ax=ax, label=label)
ax.plot([eps], [97.5], "*", color="black", markersize=12, label="paper: the MP-DBM's error")
ax.legend(fontsize=8)
ax.set_title("FGSM against a generative and a discriminative classifier")
display(fig_gen)

# %% [markdown]
# At $\epsilon$ = {glue:text}`ch9_sweep_rbm_eps:.3f` the RBM already errs on
# {glue:text}`ch9_sweep_rbm_error:.1f` % of the digits and the maxout network on
# {glue:text}`ch9_sweep_maxout_error:.1f` %; at 0.25, on {glue:text}`ch9_sweep_rbm_top:.1f` %
# and {glue:text}`ch9_sweep_maxout_top:.1f` %. {glue:text}`ch9_gen_story` (The maxout
# curve is drawn with the usual float32 FGSM, as in chapters 4–6. The network is so confident
# that its softmax rounds $p_y$ to exactly 1 on {glue:text}`ch9_naive_saturated:.1f` % of the
# test digits, where that gradient loses a term; with the exact gradient of the ensemble
# section below, its error at 0.25 is {glue:text}`ch9_naive_exact:.1f` %.)
#
# What this does and does not say about the paper's claim. It does show that one
# generatively trained classifier, whose classifier is the generative model itself, is
# fooled by FGSM at the paper's $\epsilon$: the hypothesis "generative training alone
# protects" fails on this model as the paper says it fails on the MP-DBM. It does not
# measure the MP-DBM. The RBM has one hidden layer where the MP-DBM has two, its clean
# error is {glue:text}`ch9_rbm_clean:.2f` % rather than 0.88 %, it was trained by CD-1 for
# minutes rather than by the multi-prediction criterion for hundreds of epochs, and its
# posterior is exact where the MP-DBM's comes from mean-field inference. So neither of the
# paper's two numbers is reproduced here, and a model this much weaker being fooled says
# nothing about whether a stronger generative model would be.

# %%
rbm_fooled = gen["fgsm"] >= 50.0
s_rbm, s_max = sweeps.values()
above = bool(np.all(s_rbm.error[1:] >= s_max.error[1:]))
glue(
    "ch9_gen_story",
    "At every ε of the sweep above 0 the generatively trained RBM errs at least as often as"
    " the discriminatively trained maxout network."
    if above
    else "The maxout network errs more often than the RBM at some ε of the sweep.",
    display=False,
)
# The maxout curve is the usual float32 FGSM of chapters 4-6; see the ensemble section.
p_naive = naive.predict(x_test, batch_size=1000, verbose=0)[np.arange(n_test), y_test]
x_exact = ensembles.ensemble_fgsm([naive], x_test, y_test, eps=eps)
glue("ch9_naive_saturated", 100 * float(np.mean(p_naive == 1.0)), display=False)
glue("ch9_naive_exact", 100 * evaluation.error_rate(naive, x_exact, y_test), display=False)
print(f"RBM fooled on most FGSM digits: {rbm_fooled}")

# %% [markdown]
# ## C28: an ensemble of maxout networks
#
# The ensemble predicts with the average of its $M$ members' class probabilities. The paper
# does not print its combination rule; the inventory marks it ambiguous, and we take the
# arithmetic mean, $\bar p(y \mid x) = \frac{1}{M} \sum_{m=1}^{M} p_m(y \mid x)$
# (`models.ensemble`, `ensembles.mean_probabilities`). FGSM against the whole ensemble
# differentiates the ensemble's own cost, and FGSM through one member that member's cost
# alone:
#
# $$
# \eta_{\text{ens}} = \epsilon \operatorname{sign}\big(\nabla_x\, {-\log \bar p(y \mid x)}\big),
# \qquad
# \eta_{1} = \epsilon \operatorname{sign}\big(\nabla_x\, {-\log p_1(y \mid x)}\big);
# $$
#
# both sets of examples are scored by the ensemble. Because $\log$ is increasing,
# $\operatorname{sign}\nabla_x(-\log \bar p_y) = \operatorname{sign}\nabla_x(-\bar p_y)$: the
# step is that of the averaged probability itself. Averaging the members' logits instead (a
# geometric mean of their probabilities) is another model with another step; we measure it
# too, after the main results.
#
# One detail of the arithmetic matters here. With logits $z_m$, the gradient is
#
# $$
# \nabla_x\, {-\log \bar p_y} = \sum_m c_m \sum_{k \ne y} q_{mk}\,(\nabla_x z_{mk} - \nabla_x z_{my}),
# \qquad c_m \propto p_{my}(1 - p_{my}), \quad q_{mk} = \frac{p_{mk}}{1 - p_{my}}.
# $$
#
# Computed the usual way in float32, through $p - \text{onehot}(y)$, the factor $1 - p_{my}$
# of the $\nabla_x z_{my}$ term is exactly 0 on every digit whose softmax rounds $p_y$ to 1,
# and the step then only raises the other classes. On such digits the usual FGSM of a single
# network and the same attack written as "the whole ensemble of one member" give different
# steps, and a gap between the two attacks could come partly from rounding. (The paper
# does not say how it computed the gradient.) `advkeras.ensembles` computes every factor above from the logits in log space
# (`tests/test_ensembles.py` checks its sign against the gradient in float64, on confident
# models where the usual FGSM differs), and every FGSM of this section goes through it. The
# table gives the usual FGSM's error too.
#
# The budget. The paper's members are twelve maxout networks trained like its naive network
# (early stopping, hundreds of epochs each); under `paper` that is what
# `experiments.ensemble_members` trains. Twelve such networks are beyond the book's budget,
# so under `book` the members are {glue:text}`ch9_members` networks of
# {glue:text}`ch9_member_epochs` epochs each, seeds 0 to {glue:text}`ch9_last_seed` (seeds
# 0–2 are the short-budget networks whose seed spread chapters 5 and 6 measure). Each
# member's seed sets its initial weights, its dropout masks and its minibatch order, as in
# the paper.

# %%
members = experiments.ensemble_members(profile)
x_through, per_member = [], []
for s, net in enumerate(members):
    x_through.append(ensembles.ensemble_fgsm([net], x_test, y_test, eps=eps))  # unclipped
    p_true = net.predict(x_test, batch_size=1000, verbose=0)[np.arange(n_test), y_test]
    usual = evaluation.attack_report(net, x_test, y_test, eps=eps, clip=None)
    per_member.append(
        {
            "seed": s,
            "epochs": experiments.kept_epoch(net, profile)["epochs"],
            "clean": 100 * evaluation.error_rate(net, x_test, y_test),
            "saturated": 100 * float(np.mean(p_true == 1.0)),
            "fgsm_own": 100 * evaluation.error_rate(net, x_through[-1], y_test),
            "fgsm_usual": 100 * usual.error,
        }
    )
glue("ch9_members", len(members), display=False)
glue("ch9_member_epochs", per_member[0]["epochs"], display=False)
glue("ch9_last_seed", len(members) - 1, display=False)
rows = [
    "| member (seed) | epochs | clean test error | digits with p_y = 1 in float32 "
    "| FGSM error, own examples | same, usual float32 FGSM |",
    "|---|---|---|---|---|---|",
]
for r in per_member:
    rows.append(
        f"| {r['seed']} | {r['epochs']} | {r['clean']:.2f} % | {r['saturated']:.1f} % "
        f"| {r['fgsm_own']:.1f} % | {r['fgsm_usual']:.1f} % |"
    )
display(Markdown("\n".join(rows)))

# %% [markdown]
# Now the paper's two attacks, scored by the whole ensemble. The one-member attack is
# repeated through each member in turn, to see how much the choice of member matters.

# %%
x_whole = ensembles.ensemble_fgsm(members, x_test, y_test, eps=eps)
p_clean = ensembles.mean_probabilities(members, x_test)
p_whole = ensembles.mean_probabilities(members, x_whole)
one_each = [
    100 * float(np.mean(ensembles.mean_probabilities(members, xa).argmax(1) != y_test))
    for xa in x_through
]
wrong_whole = p_whole.argmax(1) != y_test
ens = {
    "clean": 100 * float(np.mean(p_clean.argmax(1) != y_test)),
    "whole": 100 * float(np.mean(wrong_whole)),
    "whole_conf": 100 * float(p_whole.max(1)[wrong_whole].mean()),
    "one": one_each[0],
}
for key in ("clean", "whole", "one"):  # 95 % Wilson intervals
    low, high = evaluation.wilson_interval(round(ens[key] * n_test / 100), n_test)
    ens[f"{key}_low"], ens[f"{key}_high"] = 100 * low, 100 * high
for key in ("clean", "fgsm_own", "fgsm_usual", "saturated"):
    values = [r[key] for r in per_member]
    ens[f"member_{key}_min"], ens[f"member_{key}_max"] = min(values), max(values)
ens |= {"one_min": min(one_each), "one_max": max(one_each)}
ens["member_clean_mean"] = float(np.mean([r["clean"] for r in per_member]))
for key, value in ens.items():
    glue(f"ch9_ens_{key}", value, display=False)
print(f"ensemble of {len(members)}: clean {ens['clean']:.2f} %")
print(f"  FGSM against the whole ensemble: {ens['whole']:.1f} % (conf. {ens['whole_conf']:.1f} %)")
print("  FGSM through member 0, 1, ...: " + ", ".join(f"{v:.1f}" for v in one_each) + " %")

# %% [markdown]
# The ensemble of {glue:text}`ch9_members` errs on {glue:text}`ch9_ens_clean:.2f` % of the
# clean test digits (interval {glue:text}`ch9_ens_clean_low:.2f`–{glue:text}`ch9_ens_clean_high:.2f` %),
# against its members' {glue:text}`ch9_ens_member_clean_min:.2f`–{glue:text}`ch9_ens_member_clean_max:.2f` %
# (mean {glue:text}`ch9_ens_member_clean_mean:.2f` %). Against the whole ensemble FGSM
# reaches {glue:text}`ch9_ens_whole:.1f` % error (interval
# {glue:text}`ch9_ens_whole_low:.1f`–{glue:text}`ch9_ens_whole_high:.1f` %, paper 91.1 %),
# with a mean confidence of {glue:text}`ch9_ens_whole_conf:.1f` % on the mistakes. Examples
# made through member 0 alone fool the ensemble on {glue:text}`ch9_ens_one:.1f` % of the
# digits (interval {glue:text}`ch9_ens_one_low:.1f`–{glue:text}`ch9_ens_one_high:.1f` %,
# paper 87.9 %), and through each of the members in turn on
# {glue:text}`ch9_ens_one_min:.1f`–{glue:text}`ch9_ens_one_max:.1f` %: that is the spread
# from member to member. On its own examples each member errs
# {glue:text}`ch9_ens_member_fgsm_own_min:.1f`–{glue:text}`ch9_ens_member_fgsm_own_max:.1f` %
# of the time ({glue:text}`ch9_ens_member_fgsm_usual_min:.1f`–{glue:text}`ch9_ens_member_fgsm_usual_max:.1f` %
# with the usual float32 FGSM; {glue:text}`ch9_ens_member_saturated_min:.1f`–{glue:text}`ch9_ens_member_saturated_max:.1f` %
# of the digits have $p_y = 1$ in float32). {glue:text}`ch9_ens_story`
#
# The other reading of the combination rule: an ensemble that averages its members' logits,
# $\bar p(y \mid x) = \operatorname{softmax}_y\big(\frac{1}{M}\sum_m z_m(x)\big)$
# (`combine="geometric"`), attacked through its own cost, and scored on the same examples
# made through member 0.

# %%
geo = {}
x_geo = ensembles.ensemble_fgsm(members, x_test, y_test, eps=eps, combine="geometric")
for key, xa in (("clean", x_test), ("whole", x_geo), ("one", x_through[0])):
    p = ensembles.mean_probabilities(members, xa, combine="geometric")
    geo[key] = 100 * float(np.mean(p.argmax(1) != y_test))
    glue(f"ch9_geo_{key}", geo[key], display=False)
moved = max(abs(geo[k] - ens[k]) for k in ("clean", "whole", "one"))
glue(
    "ch9_geo_story",
    f"no number moves by more than {moved:.1f} points: the reading of the rule does not change"
    " this section's conclusions"
    if moved < 2
    else f"the numbers move by up to {moved:.1f} points, so the rule matters here",
    display=False,
)
print(
    f"geometric mean: clean {geo['clean']:.2f} %, whole {geo['whole']:.1f} %, "
    f"through member 0 {geo['one']:.1f} %"
)

# %% [markdown]
# Combined that way, the ensemble errs on {glue:text}`ch9_geo_clean:.2f` % of the clean
# digits, on {glue:text}`ch9_geo_whole:.1f` % under the attack on the whole ensemble and on
# {glue:text}`ch9_geo_one:.1f` % under the attack through member 0; against the arithmetic
# mean, {glue:text}`ch9_geo_story`.
#
# How does the number of members change this? The curve adds the members one at a time in
# the order of their seeds; the one-member attack always goes through member 0.

# %%
sizes = np.arange(1, len(members) + 1)
lines = {"clean": [], "FGSM against the whole ensemble": [], "FGSM through member 0": []}
for k in sizes:
    x_k = ensembles.ensemble_fgsm(members[:k], x_test, y_test, eps=eps)
    for label, xa in zip(lines, (x_test, x_k, x_through[0]), strict=True):
        p = ensembles.mean_probabilities(members[:k], xa)
        lines[label].append(float(np.mean(p.argmax(1) != y_test)))
for key, values in zip(("clean", "whole", "one"), lines.values(), strict=True):
    glue(f"ch9_curve_{key}_first", 100 * values[0], display=False)
    glue(f"ch9_curve_{key}_last", 100 * values[-1], display=False)
    print(f"{key}: " + ", ".join(f"{100 * v:.2f}" for v in values) + f" % (1..{len(members)})")

# %% mystnb={"figure": {"caption": "Errors of an ensemble of maxout networks on the MNIST test digits as members are added, each with its Wilson score interval. Left: clean digits. Right: FGSM examples (\u03b5 = 0.25, unclipped) made against the whole ensemble and through member 0; the stars are the paper's twelve-member ensemble. Compare how far the FGSM errors sit above the clean error, and how much each moves as members are added.", "name": "fig-ch09-ensemble"}, "image": {"alt": "Two panels against the number of ensemble members. Left: the clean error. Right: two FGSM error lines, one for the attack on the whole ensemble and one for the attack through member 0, and the paper's 91.1 % and 87.9 % as stars at twelve members."}}
fig_ens = Figure(figsize=(11.0, 4.0), layout="constrained")
axes = fig_ens.subplots(1, 2)
for (label, values), marker in zip(lines.items(), ("o", "s", "^"), strict=True):
    pct = 100 * np.asarray(values)
    low, high = (
        100 * np.array([evaluation.wilson_interval(round(v * n_test), n_test) for v in values]).T
    )
    a = axes[0] if label == "clean" else axes[1]
    a.errorbar(sizes, pct, yerr=[pct - low, high - pct], marker=marker, capsize=3, label=label)
for value, color, what in ((91.1, "C0", "whole ensemble"), (87.9, "C1", "through one member")):
    axes[1].plot(
        [12],
        [value],
        "*",
        color=color,
        markeredgecolor="black",
        markersize=13,
        linestyle="none",
        label=f"paper, 12 members: {what}",
    )
axes[0].set(title="clean test digits", ylabel="test error (%)")
axes[1].set(title="FGSM examples, ε = 0.25", ylabel="test error (%)")
axes[0].set(xticks=list(sizes))
axes[1].set(xticks=list(sizes) + [12])
for a, where in zip(axes, ("upper right", "center"), strict=True):
    a.set(xlabel="members in the ensemble")
    a.grid(True, alpha=0.3)
    a.legend(fontsize=8, loc=where)
trained = f"{profile.ensemble_epochs}-epoch" if profile.ensemble_epochs else "long-trained"
fig_ens.suptitle(f"Ensembles of {trained} maxout networks, by number of members")
display(fig_ens)

# %% [markdown]
# With one member the two attacks are the same attack, and the errors are
# {glue:text}`ch9_curve_whole_first:.1f` % and {glue:text}`ch9_curve_one_first:.1f` %. With
# {glue:text}`ch9_members` members, the attack on the whole ensemble reaches
# {glue:text}`ch9_curve_whole_last:.1f` % and the attack through member 0
# {glue:text}`ch9_curve_one_last:.1f` %, while the clean error goes from
# {glue:text}`ch9_curve_clean_first:.2f` % to {glue:text}`ch9_curve_clean_last:.2f` %.
# {glue:text}`ch9_curve_story`

# %%
one_curve, whole_curve = lines["FGSM through member 0"], lines["FGSM against the whole ensemble"]
change = {
    "one": 100 * (one_curve[-1] - one_curve[0]),
    "whole": 100 * (whole_curve[-1] - whole_curve[0]),
}
glue(
    "ch9_curve_story",
    f"From one member to {len(members)}, the error on the examples made through member 0 changes "
    f"by {change['one']:+.1f} points and the error under the attack on the whole ensemble by "
    f"{change['whole']:+.1f}"
    + (
        ": with this many members of this budget, averaging removes little of what fools one network."
        if max(abs(v) for v in change.values()) < 2
        else "."
    ),
    display=False,
)
wrong_one = ensembles.mean_probabilities(members, x_through[0]).argmax(1) != y_test
only_whole, only_one = int(np.sum(wrong_whole & ~wrong_one)), int(np.sum(wrong_one & ~wrong_whole))
p_sign = evaluation.sign_test(only_whole, only_one)
ens_holds = ens["whole"] >= 50.0 and ens["one"] >= 50.0
paired = (
    f"{only_whole} digits are fooled only by the attack on the whole ensemble and {only_one} only"
    f" by the attack through member 0 (exact sign test p = {p_sign:.2g})"
)
glue(
    "ch9_ens_story",
    (
        f"As in the paper, the attack on the whole ensemble fools it more often: {paired}."
        if ens["whole"] > ens["one"] and p_sign < 0.05
        else f"Unlike the paper's 3.2 points, the two attacks differ little here: {paired}."
    )
    + (
        " Both fool the ensemble on most digits: averaging gives limited resistance."
        if ens_holds
        else " The ensemble resists most of the examples, unlike the paper's."
    ),
    display=False,
)
print(f"the ensemble is fooled on most digits by both attacks: {ens_holds}")

# %% [markdown]
# ## Paper vs this book
#
# Tolerances: the book's default of 2 percentage points for FGSM errors. C27a and C27b are
# claims about the MP-DBM, which this book does not train: C27a is "not run" (the RBM's
# clean error is in the note), and C27b gets "partly reproduced" when the stand-in, a
# generatively trained classifier that classifies by its own posterior, errs on at least
# half of the FGSM digits (the paper's finding, on another model), "not reproduced"
# otherwise; the number in the table is the RBM's, not an MP-DBM's. C28a and C28b are graded
# on their numbers; the ensemble has {glue:text}`ch9_members` members of
# {glue:text}`ch9_member_epochs` epochs where the paper has 12 long-trained ones, which the
# notes say. Where a number misses but the finding holds (both attacks fool the ensemble on
# most digits), the verdict is "partly reproduced", as for chapter 6's short-budget
# controls.

# %%
budget = f"{len(members)} members x {per_member[0]['epochs']} epochs (paper: 12, early stopping)"
c28 = {
    key: reporting.verdict(paper, ens[key], 2.0) for key, paper in (("whole", 91.1), ("one", 87.9))
}
c28 = {k: "partly reproduced" if v == "not reproduced" and ens_holds else v for k, v in c28.items()}

claims = [
    reporting.Claim(
        "C27a",
        "MP-DBM, MNIST test",
        "error",
        paper=0.88,
        ours=None,
        verdict="not run",
        note=f"no MP-DBM in Keras; the stand-in, a classification RBM ({gen['hidden']} hidden, "
        f"CD-1, {gen['epochs']} epochs), errs {gen['clean']:.2f} % "
        f"({gen['clean_low']:.2f}-{gen['clean_high']:.2f})",
    ),
    reporting.Claim(
        "C27b",
        "generative classifier (classification RBM, not the MP-DBM), FGSM ε=.25 (unclipped)",
        "error",
        paper=97.5,
        ours=gen["fgsm"],
        verdict="partly reproduced" if rbm_fooled else "not reproduced",
        note="another model than the paper's: shows that generative training did not protect "
        f"this RBM, says nothing of the MP-DBM's number; clipped {gen['fgsm_clipped']:.1f} %; "
        f"confidence on mistakes {gen['fgsm_conf']:.1f} %",
    ),
    reporting.Claim(
        "C28a",
        "ensemble of maxout networks, FGSM ε=.25 against the whole ensemble (unclipped)",
        "error",
        paper=91.1,
        ours=ens["whole"],
        verdict=c28["whole"],
        note=f"{budget}; mean of probabilities; exact gradient of -log p̄_y (members' own FGSM "
        f"errors {ens['member_fgsm_own_min']:.1f}-{ens['member_fgsm_own_max']:.1f} %, usual float32 "
        f"FGSM {ens['member_fgsm_usual_min']:.1f}-{ens['member_fgsm_usual_max']:.1f} %); Wilson "
        f"{ens['whole_low']:.1f}-{ens['whole_high']:.1f} %; clean {ens['clean']:.2f} %; mean of "
        f"logits instead: {geo['whole']:.1f} %",
    ),
    reporting.Claim(
        "C28b",
        "same ensemble, FGSM through one member (unclipped)",
        "error",
        paper=87.9,
        ours=ens["one"],
        verdict=c28["one"],
        note=f"{budget}; exact gradient; through member 0, through each member "
        f"{ens['one_min']:.1f}-{ens['one_max']:.1f} %; {only_whole} digits fooled only by the "
        f"whole-ensemble attack, {only_one} only by this one (sign test p = {p_sign:.2g})",
    ),
]
extra = {
    "generative": gen,
    "sweeps": {name: s.as_dict() for name, s in sweeps.items()},
    "members": per_member,
    "ensemble": ens,
    "through_each_member": one_each,
    "paired": {"only_whole": only_whole, "only_one": only_one, "sign_test_p": p_sign},
    "naive_maxout_exact_fgsm": 100 * evaluation.error_rate(naive, x_exact, y_test),
    "curve": {label: [float(v) for v in values] for label, values in lines.items()},
    "combination": "arithmetic mean of the members' probabilities",
    "geometric_mean_combination": geo,
}
reporting.save_results("09_alternative_hypotheses", claims, extra=extra)
reporting.show_claims(claims)
