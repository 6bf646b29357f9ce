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
# # Summary and discussion
#
# Section 10 of {cite}`goodfellow2015explaining` closes the paper with a list of conclusions:
# eleven about adversarial examples, three about rubbish-class examples. This chapter does not
# retell them. It takes each one (paraphrased below), names the claims of the earlier chapters
# that bear on it, reads our numbers for those claims from the chapters' results files
# (`chapters/results/*.json`, through `advkeras.book.scorecard`), and gives the conclusion a
# verdict by one rule, fixed here before anything is read:
#
# > a conclusion is **reproduced** when every piece of its evidence that this book has run is
# > reproduced, an identity or shown; **not reproduced** when none is, nor partly reproduced;
# > **partly reproduced** in between; **not run** when none of its evidence has been run.
#
# The rule is mechanical on purpose: it does not weigh one claim against another, and a
# conclusion whose evidence is partly missing is graded on what exists. It takes each claim's
# verdict as its chapter gives it, so a number that misses the paper's counts against the
# conclusion even when it misses in the conclusion's favour (a model fooled more often than
# the paper's, where the conclusion is that it is fooled); the numbers in each row show which
# way they miss. The paragraph under
# each conclusion says what the evidence measures and where it falls short. A chapter whose
# results file is not there yet shows as "not yet run"; when it arrives, re-executing this
# chapter picks it up (the book's build refuses this chapter's results once the results it
# read have changed). On Colab, where there is no checkout, the chapter reads the results files
# committed in the repository at the revision it was executed with. The {doc}`/book/scorecard`
# lists every claim of the paper.

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
from pathlib import Path

from IPython.display import Markdown, display
from myst_nb import glue

from advkeras.book import profiles, reporting, scorecard

profile = profiles.get_profile()
print(profile.describe())
records = scorecard.read_results(Path.cwd())  # the chapters' results files, as committed
if not records and "google.colab" in sys.modules:  # no checkout: the files at ADVKERAS_REV
    records = scorecard.fetch_results(
        f"https://raw.githubusercontent.com/advkeras/advkeras/{ADVKERAS_REV}/chapters/results"
    )
records.pop("10_summary", None)  # this chapter's own, from an earlier run
card = scorecard.build(records)
print("results files read:", ", ".join(records) or "none")

# %% [markdown]
# ## The conclusions and their evidence
#
# Each row gives the chapter that measures a piece of evidence (a link), our number against
# the paper's, and the claim's verdict in its chapter.

# %%
graded, evidence = {}, {}
for conclusion in scorecard.paper_conclusions():
    rows = scorecard.evidence_rows(card, conclusion)
    evidence.update(rows)  # a claim can bear on several conclusions: glued once
    graded[conclusion.id] = scorecard.grade_conclusion([r for f in rows.values() for r in f])
    glue(scorecard.glue_name("ch10_v", conclusion.id), graded[conclusion.id], display=False)
for cid, found in evidence.items():
    glue(scorecard.glue_name("ch10", cid), scorecard.evidence_text(found), display=False)
display(Markdown(scorecard.conclusions_markdown(card, link=scorecard.doc_link)))
linear = records.get("05_linear_models_vs_weight_decay", {}).get("extra", {}).get("linear", {})
for key in ("plain", "adversarial"):
    for metric in ("clean", "fgsm"):
        value = linear.get(key, {}).get(metric)
        text = "not yet run" if value is None else f"{value:.1f} %"
        glue(f"ch10_lr_{key}_{metric}", text, display=False)

# %% [markdown]
# ## Conclusion by conclusion
#
# **1. Too linear, not too nonlinear.** Chapter {doc}`03_linear_explanation` checks the
# mechanism on linear models: how the change of the activation grows with the dimension
# (log-log slope, §3-c: {glue:text}`ch10_s3_c`), and whether the FGSM error of trained linear
# models on an equally hard task grows with it (§3-e: {glue:text}`ch10_s3_e`). On MNIST, the
# FGSM error of softmax regression (C1-err: {glue:text}`ch10_c1_err`) and of the maxout
# network (C2-err: {glue:text}`ch10_c2_err`); chapter {doc}`08_generalization` measures how
# straight the maxout logits are along the FGSM direction (F4, median $R^2$ of a line:
# {glue:text}`ch10_f4`). Verdict:
# {glue:text}`ch10_v_s10_1`. None of these measurements compares a linear model with a more
# nonlinear one of the same accuracy.
#
# **2. Transfer through alignment with the weights.** Chapter {doc}`02_related_work`
# measures the error of FGSM examples transferred between two maxout networks trained on
# disjoint halves of the data (R2: {glue:text}`ch10_r2`) and from maxout to softmax
# regression (R3: {glue:text}`ch10_r3`). Chapter {doc}`08_generalization` measures how far
# the maxout network's input gradients point along softmax regression's weights, against
# random weights (H8, mean cosine: {glue:text}`ch10_h8`). The paper's class-agreement rates are the sharper test:
# C24: {glue:text}`ch10_c24`; C25: {glue:text}`ch10_c25`; C26: {glue:text}`ch10_c26`.
# Verdict: {glue:text}`ch10_v_s10_2`. Chapter {doc}`08_generalization` discusses why its
# RBF network, not the paper's, weighs on the rates that involve it.
#
# **3. The direction matters, not the point.** Chapter {doc}`08_generalization` measures
# whether the errors along the FGSM direction fill a broad interval of $\epsilon$ (F4:
# {glue:text}`ch10_f4`); chapter {doc}`04_linear_perturbation` compares a rotation toward the
# gradient with a random rotation of the same angle (C4: {glue:text}`ch10_c4`). Verdict:
# {glue:text}`ch10_v_s10_3`.
#
# **4. Perturbations generalise across clean examples.** No chapter of this book applies one
# example's perturbation direction to other examples, which is what this conclusion asserts;
# F4 above measures each digit along its own direction. Verdict: {glue:text}`ch10_v_s10_4`.
#
# **5. A family of fast methods.** FGSM is one gradient step: its error on softmax
# regression (C1-err: {glue:text}`ch10_c1_err`) and on maxout (C2-err:
# {glue:text}`ch10_c2_err`), and the time L-BFGS takes per example over FGSM's (R5:
# {glue:text}`ch10_r5`). The rotation toward the gradient is the family's second member (C4:
# {glue:text}`ch10_c4`). Verdict:
# {glue:text}`ch10_v_s10_5`.
#
# **6. Adversarial training regularises beyond dropout.** C7 ("good results", chapter
# {doc}`05_linear_models_vs_weight_decay`): {glue:text}`ch10_c7`. The clean test errors of the
# naive and the adversarially trained 240-unit network (C11, chapter
# {doc}`06_adversarial_training`): {glue:text}`ch10_c11`; the note of C11b there gives a sign
# test of the difference. The paper's 1600-unit protocol with five seeds (C14; the book runs
# it reduced, one seed of the 240-unit network):
# {glue:text}`ch10_c14`. Verdict:
# {glue:text}`ch10_v_s10_6`.
#
# **7. The simpler regularisers do not do it.** L1 weight decay of 0.0025 (C8:
# {glue:text}`ch10_c8`) and smaller coefficients (C9: {glue:text}`ch10_c9`); training on sign
# noise (C19a: {glue:text}`ch10_c19a`) and on uniform noise (C19b: {glue:text}`ch10_c19b`).
# Verdict: {glue:text}`ch10_v_s10_7`; the notes of chapters 5 and 6 say which part of each
# claim holds.
#
# **8. Easy to optimise, easy to perturb.** Chapter {doc}`07_model_capacity` trains a deep
# and a shallow RBF network and asks whether those that resist FGSM have a high training
# error (C23, the deep network's training error: {glue:text}`ch10_c23`). Verdict:
# {glue:text}`ch10_v_s10_8`. This is one small attempt, not the paper's variety of models.
#
# **9. Linear models cannot resist; networks with a hidden layer can be trained to.** Logistic
# regression under FGSM (C6: {glue:text}`ch10_c6`); adversarial training of the maxout network
# (C7: {glue:text}`ch10_c7`; C15b, its FGSM error: {glue:text}`ch10_c15b`). Verdict:
# {glue:text}`ch10_v_s10_9`. Chapter {doc}`05_linear_models_vs_weight_decay` also trains the
# 3-vs-7 logistic regression adversarially: its FGSM error is
# {glue:text}`ch10_lr_adversarial_fgsm` at {glue:text}`ch10_lr_adversarial_clean` clean error,
# against {glue:text}`ch10_lr_plain_fgsm` and {glue:text}`ch10_lr_plain_clean` without. These
# numbers are no claim of the inventory and do not enter the verdict; the paper gives no
# number that says how much resistance "lacks the capacity" allows.
#
# **10. RBF networks resist.** The shallow RBF network's FGSM error and its confidence on its
# mistakes (C22-err: {glue:text}`ch10_c22_err`; C22-conf-mistakes:
# {glue:text}`ch10_c22_conf_mistakes`). Verdict: {glue:text}`ch10_v_s10_10`.
#
# **11. Generative models do not resist.** The paper's MP-DBM, which Keras does not have, or
# the generatively trained model that chapter 9 puts in its place (C27a:
# {glue:text}`ch10_c27a`; C27b: {glue:text}`ch10_c27b`). Verdict: {glue:text}`ch10_v_s10_11`.
#
# **12. Ensembles do not resist.** An ensemble of maxout networks (the paper's has twelve;
# chapter 9 says how many the profile trains), attacked as a whole (C28a:
# {glue:text}`ch10_c28a`) and through one member (C28b: {glue:text}`ch10_c28b`). Verdict:
# {glue:text}`ch10_v_s10_12`.
#
# **13. Rubbish-class examples are everywhere.** Gaussian noise given to the naive maxout
# network (C29: {glue:text}`ch10_c29`), to a convolutional network on CIFAR-10 (C31:
# {glue:text}`ch10_c31`), and targeted fooling from noise (C35: {glue:text}`ch10_c35`).
# Verdict: {glue:text}`ch10_v_s10_13`.
#
# **14. Shallow linear models do not resist rubbish.** Softmax regression on Gaussian noise
# (C32: {glue:text}`ch10_c32`). Verdict: {glue:text}`ch10_v_s10_14`.
#
# **15. RBF networks resist rubbish.** The RBF network on Gaussian noise (C33:
# {glue:text}`ch10_c33`). Verdict: {glue:text}`ch10_v_s10_15`.
#
# ## Paper vs this book
#
# One row per conclusion: the share of its evidence rows, among those run, that are
# reproduced, identities or shown, and the verdict of the rule above, which each note
# repeats.

# %%
claims = [scorecard.conclusion_claim(card, c) for c in scorecard.paper_conclusions()]
inputs = scorecard.input_digests(records)  # the results read: the build checks them
reporting.save_results("10_summary", claims, extra={"read": sorted(records)}, inputs=inputs)
reporting.show_claims(claims)
