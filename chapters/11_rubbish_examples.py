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
# # Appendix A: rubbish-class examples
#
# A *rubbish-class* example is an input that a person would put in none of the classes the
# model was trained on. A model should not call it a digit: separate binary classifiers
# should all say "absent", a softmax over the digits should be nearly uniform. The
# traditional defence is an extra, constant output "representing the rubbish class"
# {cite}`lecun1998gradient`; Nguyen et al. {cite}`nguyen2015deep` brought the problem back as
# *fooling images*. The appendix argues that the linear view of chapter 3 explains rubbish
# false positives as it explains adversarial examples: linear models make their most extreme
# predictions far from the data, so rubbish examples are everywhere and easy to find, shallow
# linear models are not resistant to them, and RBF networks are.
#
# Its test is the simplest rubbish there is, samples of $x \sim \mathcal{N}(0, I)$, scored by
# one rule: a sample is a mistake if **any** class gets $p > .5$. The naive maxout network
# "had an error rate of 98.35 % on Gaussian rubbish examples with an average confidence of
# 92.8 % on mistakes"; "changing the top layer to independent sigmoids dropped the error rate
# to 68 %" (87.9 % confidence); "a softmax regression model has an error rate of 59.8 %"
# (70.8 %); with an RBF network "we find an error rate of 0 %". The false positives are
# skewed: "45.3 % of a naively trained maxout network's false positives were classified as
# 5s, and none were classified as 8s". One gradient step from a Gaussian sample toward a
# class makes a fooling image of that class (Fig. 5, on CIFAR-10), and a maxout network
# trained against Gaussian rubbish reaches "a zero percent error rate on Gaussian rubbish
# examples" but stays vulnerable to a Gaussian sample plus a fast gradient sign step, with no
# significant gain in test error.
#
# (Appendix A of {cite}`goodfellow2015explaining`, paraphrased; quotations marked.) This
# chapter measures each MNIST claim (C29, C30, C32–C34a, C36), runs the MNIST analogue of
# Fig. 5, and gives the CIFAR-10 claims (C31, C34b, C35) a code path that runs where CIFAR-10
# can be downloaded.

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

from advkeras import attacks, datasets, evaluation, plotting, rubbish
from advkeras.book import experiments, profiles, reporting

profile = profiles.get_profile()
print(profile.describe())
keras.utils.set_random_seed(0)
splits = experiments.mnist(profile)
x_test, y_test = splits.x_test, splits.y_test
short = profile.epochs_variant
glue("ch11_short", short, display=False)
glue("ch11_long", profile.epochs_maxout, display=False)

# %% [markdown]
# ## C29–C33: Gaussian rubbish
#
# The rubbish is $n$ = {glue:text}`ch11_n:,` samples of $\mathcal{N}(0, I_{784})$
# (`attacks.gaussian_rubbish`; the paper: 10,000), far outside the digits' box $[0, 1]^{784}$.
# For a model with class probabilities $p(y = k \mid x)$ the error rate is
#
# $$
# \text{error} = \frac{1}{n}\,\#\Big\{x : \max_k p(y = k \mid x) > .5\Big\},
# $$
#
# and the confidence on mistakes is the mean of $\max_k p(y = k \mid x)$ over those samples
# (`evaluation.rubbish_report`). The models:
#
# - **naive maxout**: the long-trained 240-unit network of chapters 4–6
#   (`experiments.maxout`), softmax outputs;
# - **maxout, sigmoid outputs**: the same architecture with ten independent sigmoids,
#   trained on the sum of the ten binary cross-entropies against the one-hot label
#   (`experiments.maxout_sigmoid`), on the short budget of {glue:text}`ch11_short` epochs:
#   the naive network's schedule of up to {glue:text}`ch11_long` epochs is beyond the book's
#   budget for a variant. To separate the output
#   layer from the budget, the naive network of the same short budget (chapter 6's, seed 0)
#   is scored too;
# - **softmax regression** (chapter 4) and the **RBF network** of chapter 7 (one unit
#   $p_k(x) = \exp(-\sum_i \beta_{ki}(x_i - \mu_{ki})^2)$ per class).
#
# Each error rate comes with its 95 % Wilson interval over the $n$ samples.

# %%
n_rubbish = profile.rubbish_samples
x_rubbish = attacks.gaussian_rubbish(n_rubbish, seed=0)
nets = {
    "naive maxout": experiments.maxout(profile),
    f"naive maxout, {short} epochs": experiments.maxout(profile, epochs=short),
    f"maxout, sigmoid outputs, {short} epochs": experiments.maxout_sigmoid(profile),
    "softmax regression": experiments.softmax_regression(profile),
    "RBF network": experiments.rbf(profile),
}
reports = {name: evaluation.rubbish_report(m, x_rubbish) for name, m in nets.items()}
glue("ch11_n", n_rubbish, display=False)

# %% [markdown]
# The table: each model's rubbish error (with its Wilson interval), its confidence on those
# mistakes, and the paper's numbers.

# %%
paper_rubbish = {
    "naive maxout": (98.35, 92.8),
    f"maxout, sigmoid outputs, {short} epochs": (68.0, 87.9),
    "softmax regression": (59.8, 70.8),
    "RBF network": (0.0, None),
}


rows = [
    "| model | rubbish error (95 % Wilson) | confidence on mistakes | paper |",
    "|---|---|---:|---|",
]
for name, r in reports.items():
    low, high = (100 * v for v in r.error_interval())
    err, conf = paper_rubbish.get(name, (None, None))
    paper = "—" if err is None else f"{err} %" + ("" if conf is None else f" / {conf} %")
    rows.append(
        f"| {name} | {100 * r.error:.2f} % ({low:.2f}–{high:.2f}) "
        f"| {100 * r.confidence_on_mistakes:.1f} % | {paper} |"
    )
display(Markdown("\n".join(rows)))
keys = {
    "naive maxout": "naive",
    f"naive maxout, {short} epochs": "naive_short",
    f"maxout, sigmoid outputs, {short} epochs": "sigmoid",
    "softmax regression": "softmax",
    "RBF network": "rbf",
}
for name, key in keys.items():
    glue(f"ch11_{key}_err", 100 * reports[name].error, display=False)
    glue(f"ch11_{key}_conf", 100 * reports[name].confidence_on_mistakes, display=False)
    low, high = reports[name].error_interval()
    glue(f"ch11_{key}_low", 100 * low, display=False)
    glue(f"ch11_{key}_high", 100 * high, display=False)
rbf_max = float(evaluation.predict_proba(nets["RBF network"], x_rubbish).max())
glue("ch11_rbf_max", rbf_max, display=False)
sigmoid_lower = (
    reports[f"maxout, sigmoid outputs, {short} epochs"].error
    < reports[f"naive maxout, {short} epochs"].error
)
glue("ch11_linear_epochs", len(nets["softmax regression"].advkeras_history["loss"]), display=False)
glue("ch11_sigmoid_vs", "lower" if sigmoid_lower else "not lower", display=False)

# %% [markdown]
# The naive maxout network calls {glue:text}`ch11_naive_err:.2f` % of the Gaussian samples a
# digit with $p > .5$ (95 % interval {glue:text}`ch11_naive_low:.2f`–{glue:text}`ch11_naive_high:.2f` %;
# the paper: 98.35 %), with a mean confidence of {glue:text}`ch11_naive_conf:.1f` % on those
# mistakes (92.8 %). With sigmoid outputs and {glue:text}`ch11_short` epochs the error is
# {glue:text}`ch11_sigmoid_err:.2f` % at {glue:text}`ch11_sigmoid_conf:.1f` % confidence (the
# paper: 68 % and 87.9 %), against {glue:text}`ch11_naive_short_err:.2f` % for the softmax
# network of the same budget: with the same training, the independent sigmoids' error is
# {glue:text}`ch11_sigmoid_vs`. Softmax regression errs on {glue:text}`ch11_softmax_err:.2f` %
# at {glue:text}`ch11_softmax_conf:.1f` % (59.8 % and 70.8 %). The paper gives no training
# recipe for it; ours is chapter 4's (SGD from zero weights for
# {glue:text}`ch11_linear_epochs` epochs), and chapter 4 found that its confidence on FGSM
# examples depends on how large its weights grow, which the recipe decides. Whether a shorter
# or regularised training brings the rubbish error down to the paper's is not measured here.
# The RBF network errs on
# {glue:text}`ch11_rbf_err:.2f` % (the paper: 0 %); its largest output over all samples and
# classes, in float32, is {glue:text}`ch11_rbf_max:.3g`.
#
# ## C34a: which digits the rubbish looks like
#
# Among the naive network's false positives, the share given to each digit (the class with
# the largest probability):
#
# $$
# \text{share}_k = \frac{\#\{x : \max_j p(y=j \mid x) > .5,\ \arg\max_j p(y=j \mid x) = k\}}
# {\#\{x : \max_j p(y=j \mid x) > .5\}}.
# $$

# %% mystnb={"figure": {"caption": "Share of the naive maxout network's false positives on Gaussian rubbish that each digit receives (bars), with the two shares the paper reports, for 5 and for 8, as crosses. Compare the bars with the paper's two numbers.", "name": "fig-ch11-skew"}, "image": {"alt": "Bar chart: percentage of the naive maxout network's rubbish false positives per digit 0 to 9, with crosses at 45.3 % over digit 5 and 0 % over digit 8 for the paper."}}
skew = {key: reports[name].class_shares for name, key in keys.items()}
naive_share = 100 * skew["naive"]
fig_skew = Figure(figsize=(7.0, 3.6), layout="constrained")
ax = fig_skew.subplots()
ax.bar(range(10), naive_share, color="tab:blue", label="this book: naive maxout")
ax.plot([5, 8], [45.3, 0.0], "x", color="black", markersize=9, mew=2, label="paper (5 and 8 only)")
ax.set_xticks(range(10))
ax.set_xlabel("digit the false positive is assigned to")
ax.set_ylabel("share of false positives (%)")
ax.set_title("Which digit does Gaussian rubbish look like to the naive maxout network?")
ax.legend(fontsize=8)
display(fig_skew)
order = np.argsort(-naive_share)
glue("ch11_top_digit", int(order[0]), display=False)
glue("ch11_top_share", float(naive_share[order[0]]), display=False)
glue("ch11_share5", float(naive_share[5]), display=False)
glue("ch11_share8", float(naive_share[8]), display=False)
glue("ch11_fp8", int(reports["naive maxout"].class_counts[8]), display=False)
zero_digits = np.flatnonzero(reports["naive maxout"].class_counts == 0)
glue("ch11_zero_digits", ", ".join(str(int(d)) for d in zero_digits) or "none", display=False)
glue("ch11_top3_share", float(naive_share[order[:3]].sum()), display=False)
glue("ch11_top3", ", ".join(str(int(d)) for d in order[:3]), display=False)

# %% [markdown]
# Digit {glue:text}`ch11_top_digit` takes {glue:text}`ch11_top_share:.1f` % of the naive
# network's false positives, and the three most frequent digits
# ({glue:text}`ch11_top3`) {glue:text}`ch11_top3_share:.1f` %. The paper's 5 gets
# {glue:text}`ch11_share5:.1f` % here (the paper: 45.3 %), and 8 gets
# {glue:text}`ch11_share8:.2f` % ({glue:text}`ch11_fp8` samples; the paper: none).
# Digits that receive no false positive at all: {glue:text}`ch11_zero_digits`.
#
# ## Fooling toward a chosen class: the MNIST analogue of Fig. 5
#
# Nguyen et al. asked for a fooling image of a *given* class. The appendix's fast method:
# draw $x \sim \mathcal{N}(0, I)$ and take one step toward class $i$; it writes the step as
# adding $\epsilon \nabla_x p(y = i \mid x)$, and Fig. 5 takes a gradient *sign* step. We take
# the sign step,
#
# $$
# x' = x + \epsilon\, \mathrm{sign}\big(\nabla_x \log p(y = i \mid x)\big),
# $$
#
# (`attacks.fooling_step`; the sign of $\nabla_x \log p$ and of $\nabla_x p$ are the same),
# and count a success when $p(y = i \mid x') > .5$, for every class $i$ and every sample
# (`rubbish.targeted_fooling`). The paper does not give $\epsilon$. We use
# $\epsilon = 0.25$, the fast gradient sign method's step on MNIST throughout the paper, so
# that the step is the same one the naive network fails under on real digits; it is a
# quarter of the rubbish's own standard deviation, so $x'$ is still mostly Gaussian noise. A
# sweep over $\epsilon$ follows, on the first {glue:text}`ch11_sweep_n:,` samples, to show
# how much the choice matters.

# %%
fool_eps = experiments.MNIST_EPS
naive = nets["naive maxout"]
fooling = rubbish.targeted_fooling(naive, x_rubbish, eps=fool_eps)
fool_ci = 100 * fooling.intervals()
rows = [
    "| target digit | success (95 % Wilson) | mean p(target) after the step |",
    "|---|---|---:|",
]
for k in range(10):
    rows.append(
        f"| {k} | {100 * fooling.success_rate[k]:.1f} % ({fool_ci[k, 0]:.1f}–{fool_ci[k, 1]:.1f}) "
        f"| {100 * fooling.confidence[k]:.1f} % |"
    )
display(Markdown("\n".join(rows)))
hardest = int(np.argmin(fooling.success_rate))
glue("ch11_fool_mean", 100 * fooling.mean_success, display=False)
glue("ch11_fool_eps", fool_eps, display=False)
glue("ch11_fool_hardest", hardest, display=False)
glue("ch11_fool_hardest_rate", float(100 * fooling.success_rate[hardest]), display=False)
glue("ch11_fool_min_ci", float(fool_ci[hardest, 0]), display=False)
glue("ch11_fool_full", int(np.sum(fooling.successes == fooling.n)), display=False)

# %% mystnb={"figure": {"caption": "Fooling images for the naive maxout network: each row starts from the same ten Gaussian samples and takes one gradient sign step (epsilon = {glue:text}`ch11_fool_eps`) toward the digit named on the left. A yellow frame marks a step after which the network gives that digit a probability above 0.5. The images still look like noise.", "name": "fig-ch11-fooling"}, "image": {"alt": "A 10 by 10 grid of noise images, one row per target digit 0 to 9; yellow frames mark the steps that fooled the network."}}
fig_fool = plotting.image_grid(
    fooling.examples.reshape(-1, 784),
    rows=10,
    cols=fooling.examples.shape[1],
    highlight=fooling.fooled.ravel(),
    row_labels=[f"toward {k}" for k in range(10)],
    vmin=-3.0,
    vmax=3.0,
    colorbar="pixel value (unclipped)",
    figsize=(7.5, 7.5),
)
fig_fool.suptitle(f"One gradient sign step (eps = {fool_eps}) from Gaussian samples, naive maxout")
display(fig_fool)

# %% [markdown]
# One step of $\epsilon = 0.25$ makes the naive network see the chosen digit with $p > .5$ in
# {glue:text}`ch11_fool_mean:.1f` % of the tries, averaged over the ten digits; the hardest
# digit is {glue:text}`ch11_fool_hardest`, at {glue:text}`ch11_fool_hardest_rate:.1f` % (95 %
# interval from {glue:text}`ch11_fool_min_ci:.1f` %), and {glue:text}`ch11_fool_full` digits
# succeed on every sample. For the paper's convolutional network on CIFAR-10 the rates were
# 100 % for frogs and trucks, 24.7 % for airplanes and 75.3 % on average; those are not
# measured here (see the CIFAR-10 section below).
#
# How much depends on $\epsilon$: the mean and the smallest per-class success rate of the same
# step for a range of step sizes.

# %%
sweep_eps = [0.0, 0.05, 0.1, 0.25, 0.5, 1.0]
sweep_n = min(1000, n_rubbish)
sweep = {e: rubbish.targeted_fooling(naive, x_rubbish[:sweep_n], eps=e) for e in sweep_eps}
rows = ["| eps | mean success | smallest per-class success |", "|---:|---:|---:|"]
rows += [
    f"| {e:g} | {100 * r.mean_success:.1f} % | {100 * r.success_rate.min():.1f} % |"
    for e, r in sweep.items()
]
display(Markdown("\n".join(rows)))
glue("ch11_sweep_n", sweep_n, display=False)
glue("ch11_sweep_zero", 100 * sweep[0.0].mean_success, display=False)
glue("ch11_sweep_small", 100 * sweep[0.05].mean_success, display=False)
glue("ch11_sweep_large", 100 * sweep[1.0].mean_success, display=False)
best_eps = max(sweep, key=lambda e: sweep[e].mean_success)
glue("ch11_sweep_best_eps", f"{best_eps:g}", display=False)
glue("ch11_sweep_best", 100 * sweep[best_eps].mean_success, display=False)
glue(
    "ch11_sweep_rubbish",
    100 * evaluation.rubbish_report(naive, x_rubbish[:sweep_n]).error,
    display=False,
)

# %% [markdown]
# With no step ($\epsilon = 0$) a digit is "reached" only by the samples the network already
# gives to it with $p > .5$; a softmax gives $p > .5$ to one digit at most, so the mean over
# the ten digits is the rubbish error of these samples
# ({glue:text}`ch11_sweep_rubbish:.1f` %) divided by ten: {glue:text}`ch11_sweep_zero:.1f` %.
# A step of 0.05 gives {glue:text}`ch11_sweep_small:.1f` %, and the largest mean of the sweep
# is {glue:text}`ch11_sweep_best:.1f` % at $\epsilon$ = {glue:text}`ch11_sweep_best_eps`; a step
# of 1, the rubbish's own standard deviation, gives {glue:text}`ch11_sweep_large:.1f` %.
#
# ## C36: training against rubbish
#
# The appendix trained a maxout network until it made no mistakes on Gaussian rubbish. It does
# not say how. We follow the traditional defence it names, an extra output for the rubbish
# class: `experiments.maxout_rubbish` is the maxout network with **11** softmax outputs,
# trained with the naive network's recipe on the training digits plus
# {glue:text}`ch11_rubbish_train:,` Gaussian samples (one per ten digits, drawn once per seed
# with seeds other than the evaluation samples') labelled 10. We chose the 11th class over
# independent sigmoids with an all-zero target for rubbish because it keeps the softmax
# network of C29, changed in its last layer only, and trains with the unchanged softmax
# cross-entropy on integer labels. Its output for the rubbish class is learned, not constant.
#
# It is scored by the paper's rule on the ten digit outputs alone
# (`rubbish.known_classes`: a rubbish sample is a mistake when a *digit* gets $p > .5$), on
# the same {glue:text}`ch11_n:,` evaluation samples as above; its test error counts a digit
# called "rubbish" as a mistake. It trains on the short budget of {glue:text}`ch11_short`
# epochs, so we compare it with the naive network of the same budget, for the same seeds
# {glue:text}`ch11_seeds` (chapter 6 measured how much those seeds move the naive network's
# test error). Last, the fast method of the previous section, one gradient sign step of
# $\epsilon = 0.25$ from each Gaussian sample toward each digit, attacks both.

# %%
seeds = list(profile.seeds)
trained = {s: experiments.maxout_rubbish(profile, seed=s) for s in seeds}
naive_seeds = {s: experiments.maxout(profile, seed=s, epochs=short) for s in seeds}
c36 = {}
for s in seeds:
    net, base = trained[s], naive_seeds[s]
    c36[s] = {
        "rubbish": evaluation.rubbish_report(
            rubbish.known_classes(net), x_rubbish, output="independent"
        ),
        "test": evaluation.error_rate(net, x_test, y_test),
        "naive_test": evaluation.error_rate(base, x_test, y_test),
        "naive_rubbish": evaluation.rubbish_report(base, x_rubbish),
        "fool": rubbish.targeted_fooling(net, x_rubbish, eps=fool_eps, classes=10),
        "naive_fool": rubbish.targeted_fooling(base, x_rubbish, eps=fool_eps),
    }
rows = [
    f"| seed | rubbish error: trained against rubbish | naive, {short} epochs "
    "| test error: against rubbish | naive | one-step fooling: against rubbish (worst digit) "
    "| naive (worst digit) |",
    "|---:|---:|---:|---:|---:|---:|---:|",
]
for s, r in c36.items():
    rows.append(
        f"| {s} | {100 * r['rubbish'].error:.2f} % | {100 * r['naive_rubbish'].error:.2f} % "
        f"| {100 * r['test']:.2f} % | {100 * r['naive_test']:.2f} % "
        f"| {100 * r['fool'].mean_success:.1f} % ({100 * r['fool'].success_rate.min():.1f} %) "
        f"| {100 * r['naive_fool'].mean_success:.1f} % "
        f"({100 * r['naive_fool'].success_rate.min():.1f} %) |"
    )
display(Markdown("\n".join(rows)))
rub_err = [100 * r["rubbish"].error for r in c36.values()]
rub_errors = sum(round(r["rubbish"].error * r["rubbish"].n) for r in c36.values())
rub_low, rub_high = evaluation.wilson_interval(rub_errors, n_rubbish * len(seeds))
test_rub = [100 * r["test"] for r in c36.values()]
test_naive = [100 * r["naive_test"] for r in c36.values()]
fool_rub = [100 * r["fool"].mean_success for r in c36.values()]
fool_rub_min = [100 * r["fool"].success_rate.min() for r in c36.values()]
glue("ch11_seeds", ", ".join(str(s) for s in seeds), display=False)
glue("ch11_rubbish_train", round(experiments.RUBBISH_FRACTION * len(splits.x_train)), display=False)
glue("ch11_c36_err_each", ", ".join(f"{e:.2f}" for e in rub_err), display=False)
glue("ch11_c36_err_max", max(rub_err), display=False)
glue("ch11_c36_err_pooled", 100 * rub_errors / (n_rubbish * len(seeds)), display=False)
glue("ch11_c36_err_low", 100 * rub_low, display=False)
glue("ch11_c36_err_high", 100 * rub_high, display=False)
naive_rub = [100 * r["naive_rubbish"].error for r in c36.values()]
glue("ch11_c36_naive_rub", f"{min(naive_rub):.2f}–{max(naive_rub):.2f}", display=False)
naive_fool = [100 * r["naive_fool"].mean_success for r in c36.values()]
glue("ch11_c36_naive_fool", f"{min(naive_fool):.1f}–{max(naive_fool):.1f}", display=False)
glue("ch11_c36_test", f"{min(test_rub):.2f}–{max(test_rub):.2f}", display=False)
glue("ch11_c36_naive_test", f"{min(test_naive):.2f}–{max(test_naive):.2f}", display=False)
glue("ch11_c36_diff", float(np.mean(np.subtract(test_rub, test_naive))), display=False)
glue("ch11_c36_fool", f"{min(fool_rub):.1f}–{max(fool_rub):.1f}", display=False)
glue("ch11_c36_fool_min", float(min(fool_rub_min)), display=False)
# "Still vulnerable": every digit is reached by at least 1 % of the one-step tries, so that
# sampling until success takes at most about 100 tries per fooling image.
vulnerable = min(fool_rub_min) >= 1.0
# "No test-error gain": the mean test error is not below the best naive seed of the same budget.
gain = float(np.mean(test_rub)) < min(test_naive)
glue("ch11_c36_vulnerable", "is" if vulnerable else "is not", display=False)
glue("ch11_c36_gain", "below" if gain else "not below", display=False)

# %% [markdown]
# Trained with an 11th class, the network calls {glue:text}`ch11_c36_err_each` % of the
# Gaussian samples a digit for seeds {glue:text}`ch11_seeds` (all seeds pooled:
# {glue:text}`ch11_c36_err_pooled:.2f` %, 95 % Wilson interval
# {glue:text}`ch11_c36_err_low:.2f`–{glue:text}`ch11_c36_err_high:.2f` %), against
# {glue:text}`ch11_c36_naive_rub` % for the naive networks of the same budget. Its
# test error is {glue:text}`ch11_c36_test` % over the seeds, the naive network's of the same
# budget {glue:text}`ch11_c36_naive_test` %; seed by seed the difference is
# {glue:text}`ch11_c36_diff:+.2f` points on average, so the mean is
# {glue:text}`ch11_c36_gain` the best naive seed. One gradient sign step still makes a
# fooling image: {glue:text}`ch11_c36_fool` % of the tries succeed on average over the digits
# (the naive networks of the same budget: {glue:text}`ch11_c36_naive_fool` %), and the hardest
# digit of any seed {glue:text}`ch11_c36_fool_min:.1f` %. Calling the network
# "still vulnerable" when every digit is reached by at least 1 % of the tries (a fooling image
# within about 100 samples), it {glue:text}`ch11_c36_vulnerable` still vulnerable.
#
# ## The CIFAR-10 claims: C31, C34b, C35
#
# On CIFAR-10 the appendix feeds 1,000 samples of $\mathcal{N}(0, I_{3072})$ to the
# convolutional maxout network (C31: 93.4 % error, 84.4 % confidence on mistakes), reports the
# skew of its false positives (C34b: 49.7 % frogs, none for airplanes, automobiles, horses,
# ships and trucks) and the per-class success of one step toward a class (C35: 100 % for frogs
# and trucks, 24.7 % for airplanes, 75.3 % on average). The cells below do the same with
# `experiments.conv_maxout_cifar10` (chapter 4) on the preprocessed images, where the rubbish
# is $\mathcal{N}(0, I)$ in the preprocessed space as in the paper, and a step of
# $\epsilon = 0.1$, the paper's FGSM step on CIFAR-10. This machine has no copy of CIFAR-10
# and no internet access, so under `book` they stop at loading the data; under `smoke` they
# run on random images in the CIFAR-10 format, so that the code path is tested (those
# numbers mean nothing).

# %%
cifar_source, (cx_train, cy_train), (cx_test, cy_test) = experiments.cifar10(profile)

# %%
cifar = None
if cifar_source is not None:
    conv = experiments.conv_maxout_cifar10(profile, data=(cx_train, cy_train))
    # the paper's 1,000 samples; fewer where the profile cuts CIFAR-10's test set (smoke)
    n_cifar_rubbish = 1000 if profile.cifar_test is None else min(1000, profile.cifar_test)
    cx_rubbish = attacks.gaussian_rubbish(n_cifar_rubbish, (32, 32, 3), seed=1)
    cifar = {
        "rubbish": evaluation.rubbish_report(conv, cx_rubbish),
        "fool": rubbish.targeted_fooling(conv, cx_rubbish, eps=0.1),
    }
    shares = dict(zip(datasets.CIFAR10_CLASSES, 100 * cifar["rubbish"].class_shares, strict=True))
    print(
        f"{cifar_source}: rubbish error {100 * cifar['rubbish'].error:.1f} %, confidence on "
        f"mistakes {100 * cifar['rubbish'].confidence_on_mistakes:.1f} %; one-step fooling "
        f"{100 * cifar['fool'].mean_success:.1f} % on average"
    )
    print("share of false positives:", ", ".join(f"{k} {v:.1f} %" for k, v in shares.items()))
glue("ch11_cifar_source", cifar_source or "none (offline, no local copy)", display=False)

# %% [markdown]
# CIFAR-10 data used here: {glue:text}`ch11_cifar_source`.
#
# ## Paper vs this book
#
# Tolerances: 2 percentage points for error rates and confidences; 5 points for the share of
# false positives given to 5 (the share depends on the trained network more than on the
# samples: the note gives it for the three naive networks of {glue:text}`ch11_short` epochs
# too); the paper's "none" (C34a, 8s) and "0 %" (C33, C36) are reproduced when ours is at
# most 0.1 %. C30 is measured on the {glue:text}`ch11_short`-epoch sigmoid network. C36's
# three parts are graded by the rules stated above.

# %%
naive_r = reports["naive maxout"]
fp_total = int(naive_r.class_counts.sum())  # no false positives at all: no interval
wilson_share = (
    [100 * v for v in evaluation.wilson_interval(int(naive_r.class_counts[5]), fp_total)]
    if fp_total
    else [float("nan")] * 2
)
sig_name = f"maxout, sigmoid outputs, {short} epochs"
sig_r, soft_r, rbf_r = reports[sig_name], reports["softmax regression"], reports["RBF network"]


interval_note = {
    r: "95 % Wilson {:.2f}-{:.2f} %, n = {:,}".format(*(100 * v for v in r.error_interval()), r.n)
    for r in (naive_r, sig_r, soft_r, rbf_r)
}
real_cifar = cifar is not None and cifar_source == "CIFAR-10"
needs = "needs CIFAR-10 (a machine that can download it, e.g. Colab) and the trained conv net"
if real_cifar:
    cifar_shares = 100 * cifar["rubbish"].class_shares
    cifar_note = f"conv net of {profile.epochs_cifar} epochs on {len(cx_train):,} images"
elif cifar is None:
    cifar_note = f"CIFAR-10 cannot be loaded here (no internet access, no local copy); {needs}"
else:
    cifar_note = (
        "CIFAR-10 cannot be loaded here; on random stand-in images: "
        f"{100 * cifar['rubbish'].error:.1f} % (meaningless); {needs}"
    )
claims = [
    reporting.Claim(
        "C29-err",
        f"naive maxout (long-trained), {n_rubbish:,} samples of N(0, I)",
        "rubbish error",
        paper=98.35,
        ours=100 * naive_r.error,
        note=interval_note[naive_r],
    ),
    reporting.Claim(
        "C29-conf",
        "naive maxout, Gaussian rubbish",
        "confidence on mistakes",
        paper=92.8,
        ours=100 * naive_r.confidence_on_mistakes,
    ),
    reporting.Claim(
        "C30-err",
        f"maxout, independent sigmoid outputs, {short} epochs, Gaussian rubbish",
        "rubbish error",
        paper=68.0,
        ours=100 * sig_r.error,
        note=f"{interval_note[sig_r]}; softmax maxout of the same budget "
        f"{100 * reports[f'naive maxout, {short} epochs'].error:.2f} %",
    ),
    reporting.Claim(
        "C30-conf",
        f"maxout, sigmoid outputs, {short} epochs, Gaussian rubbish",
        "confidence on mistakes",
        paper=87.9,
        ours=100 * sig_r.confidence_on_mistakes,
    ),
    reporting.Claim(
        "C31-err",
        "conv maxout, CIFAR-10, 1,000 samples of N(0, I)",
        "rubbish error",
        paper=93.4,
        ours=100 * cifar["rubbish"].error if real_cifar else None,
        note=cifar_note,
    ),
    reporting.Claim(
        "C31-conf",
        "conv maxout, CIFAR-10 Gaussian rubbish",
        "confidence on mistakes",
        paper=84.4,
        ours=100 * cifar["rubbish"].confidence_on_mistakes if real_cifar else None,
        note=cifar_note,
    ),
    reporting.Claim(
        "C32-err",
        "softmax regression, Gaussian rubbish",
        "rubbish error",
        paper=59.8,
        ours=100 * soft_r.error,
        note=interval_note[soft_r],
    ),
    reporting.Claim(
        "C32-conf",
        "softmax regression, Gaussian rubbish",
        "confidence on mistakes",
        paper=70.8,
        ours=100 * soft_r.confidence_on_mistakes,
    ),
    reporting.Claim(
        "C33",
        "RBF network (chapter 7), Gaussian rubbish",
        "rubbish error",
        paper=0.0,
        ours=100 * rbf_r.error,
        tolerance=0.1,
        note=f"{interval_note[rbf_r]}; largest output {rbf_max:.3g}",
    ),
    reporting.Claim(
        "C34a-5",
        "naive maxout, Gaussian rubbish",
        "share of false positives: 5",
        paper=45.3,
        ours=float(naive_share[5]),
        tolerance=5.0,
        note=f"95 % Wilson {wilson_share[0]:.1f}-{wilson_share[1]:.1f} % over "
        f"{fp_total:,} false positives; naive, {short} epochs, seeds {seeds[0]}-{seeds[-1]}: "
        + ", ".join(f"{100 * r['naive_rubbish'].class_shares[5]:.1f}" for r in c36.values())
        + " %",
    ),
    reporting.Claim(
        "C34a-8",
        "naive maxout, Gaussian rubbish",
        "share of false positives: 8",
        paper=0.0,
        ours=float(naive_share[8]),
        tolerance=0.1,
        note=f"{int(naive_r.class_counts[8])} samples",
    ),
    reporting.Claim(
        "C34a-top",
        "naive maxout, Gaussian rubbish",
        "digit with the largest share",
        paper=None,
        ours=float(naive_share[order[0]]),
        verdict="reproduced"
        if int(order[0]) == 5 and naive_r.class_counts[8] == 0
        else "not reproduced",
        note=f"rule: 5 takes the largest share and 8 none; here digit {int(order[0])} takes the "
        f"largest, 8 gets {int(naive_r.class_counts[8])} samples",
    ),
    reporting.Claim(
        "C34b",
        "conv maxout, CIFAR-10 Gaussian rubbish",
        "share of false positives: frog",
        paper=49.7,
        ours=float(cifar_shares[datasets.CIFAR10_CLASSES.index("frog")]) if real_cifar else None,
        tolerance=5.0,
        note=cifar_note,
    ),
    reporting.Claim(
        "C35",
        "conv maxout, CIFAR-10, one sign step (eps=.1) from N(0, I) toward each class",
        "mean per-class success",
        paper=75.3,
        ours=100 * cifar["fool"].mean_success if real_cifar else None,
        note=f"{cifar_note}; MNIST analogue (naive maxout, eps=.25): "
        f"{100 * fooling.mean_success:.1f} % mean, hardest digit {hardest} "
        f"{100 * fooling.success_rate[hardest]:.1f} %",
    ),
    reporting.Claim(
        "C36-rubbish",
        f"maxout with an 11th rubbish class, {short} epochs, seeds {seeds[0]}-{seeds[-1]}",
        "rubbish error (worst seed)",
        paper=0.0,
        ours=max(rub_err),
        tolerance=0.1,
        note=f"seeds: {', '.join(f'{e:.2f}' for e in rub_err)} %; pooled 95 % Wilson "
        f"{100 * rub_low:.2f}-{100 * rub_high:.2f} %; naive of the same budget "
        f"{min(naive_rub):.1f}-{max(naive_rub):.1f} %; the paper's budget is not given",
    ),
    reporting.Claim(
        "C36-fgsm",
        "the same networks, one sign step (eps=.25) from N(0, I) toward each digit",
        "mean per-class success",
        paper=None,
        ours=float(np.mean(fool_rub)),
        verdict="reproduced" if vulnerable else "not reproduced",
        note=f"rule: 'still vulnerable' if every digit is reached in >= 1 % of tries; hardest digit of any "
        f"seed {min(fool_rub_min):.1f} %",
    ),
    reporting.Claim(
        "C36-test",
        f"the same networks vs naive maxout of the same budget, seeds {seeds[0]}-{seeds[-1]}",
        "test error (mean)",
        paper=None,
        ours=float(np.mean(test_rub)),
        verdict="reproduced" if not gain else "not reproduced",
        note=f"rule: 'no gain' if the mean is not below the best naive seed; naive "
        f"{min(test_naive):.2f}-{max(test_naive):.2f} %, against rubbish "
        f"{min(test_rub):.2f}-{max(test_rub):.2f} %",
    ),
]
extra = {
    "n_rubbish": n_rubbish,
    "rubbish": {name: r.as_percent() for name, r in reports.items()},
    "shares": {key: [100 * float(v) for v in s] for key, s in skew.items()},
    "fooling_naive": fooling.as_percent(),
    "fooling_sweep": {f"{e:g}": r.as_percent() for e, r in sweep.items()},
    "c36": {
        str(s): {
            "rubbish": r["rubbish"].as_percent(),
            "naive_rubbish": r["naive_rubbish"].as_percent(),
            "naive_shares": [100 * float(v) for v in r["naive_rubbish"].class_shares],
            "test": 100 * r["test"],
            "naive_test": 100 * r["naive_test"],
            "fool": r["fool"].as_percent(),
            "naive_fool": r["naive_fool"].as_percent(),
        }
        for s, r in c36.items()
    },
    "cifar_source": cifar_source,
}
if cifar is not None:
    extra["cifar"] = {
        "rubbish": cifar["rubbish"].as_percent(),
        "shares": [100 * float(v) for v in cifar["rubbish"].class_shares],
        "fool": cifar["fool"].as_percent(),
    }
reporting.save_results("11_rubbish_examples", claims, extra=extra)
reporting.show_claims(claims)
