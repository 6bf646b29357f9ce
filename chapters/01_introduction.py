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
# # Introduction
#
# > Szegedy et al. found that many machine learning models, state-of-the-art neural networks
# > among them, can be fooled by *adversarial examples*: inputs that differ from a correctly
# > classified example by a perturbation too small for a person to notice, yet are classified
# > wrongly and with confidence. Worse, one adversarial example often fools models with other
# > architectures trained on other subsets of the data. This looks like a blind spot of our
# > training algorithms. It was put down to the extreme nonlinearity of deep networks, perhaps
# > with too little model averaging or regularisation. This paper argues that no such
# > explanation is needed: **linear behaviour in a high-dimensional space is enough to create
# > adversarial examples.** That view gives a fast way to make them, which in turn makes
# > adversarial training cheap.
#
# (Section 1 of {cite}`goodfellow2015explaining`, paraphrased; the earlier work is
# {cite:t}`szegedy2014intriguing`.)
#
# The section has no experiment of its own, but the paper opens with one picture, its Figure 1:
# an image $x$, plus a small multiple of the *sign* of the gradient of the training cost $J$
# with respect to the input, gives an image $\tilde x$ that the network gets wrong:
#
# $$
# \tilde x \;=\; x + \epsilon\,\operatorname{sign}\!\big(\nabla_x J(\theta, x, y)\big).
# $$
#
# In the paper $x$ is a photograph of a panda and the network is GoogLeNet; here it is an
# MNIST digit and the naive (not adversarially trained) maxout network of the paper's MNIST
# experiments, with the paper's MNIST step $\epsilon = 0.25$. Chapter 4 of this book,
# {doc}`04_linear_perturbation`, derives the formula.

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
import contextlib
import io

import keras
import numpy as np
from myst_nb import glue

from advkeras import attacks, evaluation, plotting
from advkeras.book import experiments, networks, profiles, reporting

profile = profiles.get_profile()
print(profile.describe())
keras.utils.set_random_seed(0)

# %% [markdown]
# ## The model
#
# The maxout network is the one of the maxout paper {cite}`goodfellow2013maxout`: two maxout
# layers with 5 pieces each, a softmax on top, dropout, trained with SGD and momentum on the
# MNIST training set. `experiments.maxout` trains it once and caches it, so that later
# chapters attack the very same network; this long-trained network is also shipped with the
# book (`networks/`), so a reader's first call installs it, hash-checked,
# {glue:text}`ch1_shipped_time`.

# %%
splits = experiments.mnist(profile)
x_test, y_test = splits.x_test, splits.y_test
with contextlib.redirect_stdout(io.StringIO()) as loading:  # shown after the result
    model = experiments.maxout(profile, seed=0)
clean_error = evaluation.error_rate(model, x_test, y_test)
kept = experiments.kept_epoch(model, profile)
glue("ch1_clean_error", 100 * clean_error, display=False)
glue("ch1_epochs", kept["epochs"], display=False)
glue("ch1_kept", kept["kept"], display=False)
glue(
    "ch1_kept_rule",
    f"the one with the lowest error on the {len(splits.x_val):,} validation digits"
    if kept["monitor"]
    else "the last one",
    display=False,
)
glue("ch1_n_test", len(x_test), display=False)
try:  # the manifest entry of the shipped network of this profile, if there is one
    where = networks.source()
    spec = experiments.recipe_spec("maxout", profile, seed=0)
    shipped = networks.entry_for(networks.read_manifest(where), spec) if where else None
except OSError:
    shipped = None
seconds = (shipped or {}).get("training_seconds")
glue(
    "ch1_shipped_time",
    f"instead of training it (the shipped network took {seconds / 60:.0f} minutes to train)"
    if seconds
    else "instead of training it",
    display=False,
)
print(f"naive maxout network: {100 * clean_error:.2f} % error on {len(x_test):,} test digits")
print(loading.getvalue().strip())

# %% [markdown]
# The network misclassifies {glue:text}`ch1_clean_error:.2f` % of the
# {glue:text}`ch1_n_test:,` test digits (the paper's network: 0.94 %). It trained for
# {glue:text}`ch1_epochs` epochs and keeps the weights of epoch {glue:text}`ch1_kept`,
# {glue:text}`ch1_kept_rule`.
#
# ## Figure 1, on MNIST
#
# We take the first test digit that the network classifies correctly, compute the sign of the
# input gradient of its cost, and add $\epsilon = 0.25$ times it (the result is clipped to the
# pixel range $[0, 1]$). Like the paper, we also ask the network what the sign image *alone*
# is. A sign image has pixels in $\{-1, 0, 1\}$; we feed it as it is displayed, mapped onto the
# pixel range: $(1 + \operatorname{sign}\nabla_x J)/2$.

# %%
eps = 0.25
proba_test = evaluation.predict_proba(model, x_test)
index = int(np.flatnonzero(proba_test.argmax(1) == y_test)[0])
x, y = x_test[index : index + 1], y_test[index : index + 1]
sign = np.sign(attacks.input_gradient(model, x, y))
x_adv = attacks.fgsm(model, x, y, eps=eps)
sign_image = (1.0 + sign) / 2.0  # the sign image as displayed: {-1, 0, 1} -> {0, .5, 1}
p_clean, p_sign, p_adv = (evaluation.predict_proba(model, v)[0] for v in (x, sign_image, x_adv))
for name, p in [("clean", p_clean), ("sign", p_sign), ("adv", p_adv)]:
    glue(f"ch1_{name}_label", int(p.argmax()), display=False)
    glue(f"ch1_{name}_conf", 100 * float(p.max()), display=False)
    print(f"{name:>5}: class {p.argmax()} with {100 * p.max():.1f} % confidence")
fooled = int(p_adv.argmax()) != int(y[0])


def article(digit: int) -> str:
    """The indefinite article before a digit spoken as a word ("an 8")."""
    return "an" if digit == 8 else "a"


adv_text = f"{article(p_adv.argmax())} {p_adv.argmax()} with {100 * p_adv.max():.1f} % confidence"
glue(
    "ch1_fig1_sum",
    f"The sum still looks like the clean digit, {article(p_clean.argmax())} {p_clean.argmax()}, "
    + (
        f"yet the network reads it as {adv_text}."
        if fooled
        else f"and the network still reads it as {adv_text}: on this digit the step fails."
    ),
    display=False,
)
glue(
    "ch1_adv_sentence",
    "The sum, still plainly the same digit to us, is "
    + (f"{adv_text}." if fooled else f"still {adv_text}: on this digit the step fails."),
    display=False,
)

# %% mystnb={"figure": {"caption": "The paper's Figure 1 redrawn on MNIST with the naive maxout network: the first correctly classified test digit $x$ (left), the sign of the gradient of its cost (middle) and their sum with weight $\\epsilon$ (right), each titled with the network's class and confidence. {glue:text}`ch1_fig1_sum`", "name": "fig-ch01-fig1"}, "image": {"alt": "Three square greyscale images in a row, joined by a plus sign with the factor epsilon and an equals sign. Left: a handwritten digit, white on black. Middle: a blotchy black-and-white pattern covering the whole square, the sign of the gradient. Right: the same digit with the pattern added as grey speckles over the background. Under each image, the class the network predicts and its confidence."}}
plotting.fig1_triptych(
    x[0],
    sign[0],
    x_adv[0],
    eps=eps,
    labels=[str(p.argmax()) for p in (p_clean, p_sign, p_adv)],
    confidences=[float(p.max()) for p in (p_clean, p_sign, p_adv)],
    title="A correctly classified digit, the sign of its gradient, and their sum",
)

# %% [markdown]
# The clean digit is a {glue:text}`ch1_clean_label` with
# {glue:text}`ch1_clean_conf:.1f` % confidence. The sign image alone is read as a
# {glue:text}`ch1_sign_label` with {glue:text}`ch1_sign_conf:.1f` % confidence (the
# paper's sign image was a "nematode" at 8.2 %). {glue:text}`ch1_adv_sentence`
#
# One digit says little either way. Here is the same step on the whole test set, which is the
# paper's claim C2 (measured in full, with the other models of §4, in
# {doc}`04_linear_perturbation`):

# %%
x_test_adv = attacks.fgsm(model, x_test, y_test, eps=eps)
adv = evaluation.evaluate(model, x_test_adv, y_test)
adv_error, adv_conf = adv.error, adv.confidence_on_mistakes
free = evaluation.attack_report(model, x_test, y_test, eps=eps, clip=None)  # the paper's formula
glue("ch1_adv_error", 100 * adv_error, display=False)
glue("ch1_adv_conf_mistakes", 100 * adv_conf, display=False)
glue("ch1_free_error", 100 * free.error, display=False)
glue("ch1_free_conf", 100 * free.confidence_on_mistakes, display=False)
for what, r in (("clipped to [0, 1]", adv), ("not clipped", free)):
    print(
        f"FGSM eps={eps}, {what}: {100 * r.error:.1f} % error, "
        f"{100 * r.confidence_on_mistakes:.1f} % confidence on mistakes"
    )

# %% mystnb={"figure": {"caption": "The first eight test digits (top) and their FGSM versions, clipped to the pixel range (bottom), each titled with the naive maxout network's prediction. The digits remain easy to read through the grey speckle, yet over the whole test set the network errs on {glue:text}`ch1_adv_error:.1f` % of such examples.", "name": "fig-ch01-fgsm-digits"}, "image": {"alt": "Two rows of eight handwritten digits. Top row, labelled clean: the digits white on black, each titled with the predicted class. Bottom row, labelled FGSM: the same digits with a speckled grey pattern over the background, each titled with the predicted class."}}
pred_adv = evaluation.predict_proba(model, x_test_adv[:8]).argmax(1)
plotting.image_grid(
    np.concatenate([x_test[:8], x_test_adv[:8]]),
    rows=2,
    cols=8,
    titles=[str(c) for c in proba_test[:8].argmax(1)] + [str(c) for c in pred_adv],
    row_labels=["clean", "FGSM, eps = .25"],
    title="Test digits and their FGSM versions, titled with the network's prediction",
    figsize=(10.0, 2.8),
)

# %% [markdown]
# The FGSM examples, clipped to the pixel range, fool the network on
# {glue:text}`ch1_adv_error:.1f` % of the test digits, and on those mistakes it is
# {glue:text}`ch1_adv_conf_mistakes:.1f` % sure of the wrong class on average. Without the clip,
# as in the paper's formula, the error is {glue:text}`ch1_free_error:.1f` % with
# {glue:text}`ch1_free_conf:.1f` % confidence; the paper reports 89.4 % and 97.6 %, and
# {doc}`04_linear_perturbation` explains why we compare it with the unclipped numbers. Above:
# eight test digits (top) and their clipped adversarial versions (bottom), each titled with
# the network's prediction.
#
# ## What the paper claims
#
# The introduction announces the paper's results; each has a chapter here or in the paper's
# later sections:
#
# 1. **Linearity.** Adversarial examples follow from models being too linear in high
#    dimension; nonlinearity and overfitting are not needed ({doc}`03_linear_explanation`).
# 2. **The fast gradient sign method.** The formula above, one gradient per example, fools
#    softmax regression, maxout networks and convolutional networks
#    ({doc}`04_linear_perturbation`); for linear models it is the exact worst case, and
#    adversarial training of a linear model resembles, but is not, L1 weight decay
#    ({doc}`05_linear_models_vs_weight_decay`).
# 3. **Adversarial training regularises beyond dropout.** Training on FGSM examples made on
#    the fly lowers the test error of a maxout network that already uses dropout (the paper's
#    §6).
# 4. **Nonlinear families resist.** A shallow RBF network is far less confident on
#    adversarial examples (§7); adversarial examples transfer because models resemble the
#    linear model learnt from the same data (§8).
# 5. **Generic regularisers do not help.** Dropout, pretraining, generative training and
#    model averaging (ensembles) leave networks vulnerable (§9); so does training with random
#    noise instead of adversarial noise (§6).
#
# The paper's conclusion is a tension: models that are easy to optimise are the linear ones,
# and those are the ones that are easy to perturb.
#
# ## What this book does not reproduce: the panda
#
# The paper's Figure 1 uses GoogLeNet {cite}`szegedy2015going` on ImageNet, with
# $\epsilon = 0.007$ (one step of an 8-bit image after GoogLeNet's conversion to real numbers).
# We do not run it: the book builds offline, and neither ImageNet nor pretrained GoogLeNet
# weights are available here. GoogLeNet is also not in `keras.applications`; its closest
# relative there is InceptionV3, whose `preprocess_input` maps $[0, 255]$ to $[-1, 1]$, so one
# 8-bit step is $2/255 \approx 0.0078$. With internet access and a photograph of your own, set
# `RUN_IMAGENET = True` in the cell below (it downloads about 100 MB of weights).

# %%
RUN_IMAGENET = False  # True: needs internet (ImageNet weights) and an image file
PANDA = "panda.jpg"  # any photograph; a giant panda to match the paper

if RUN_IMAGENET:
    from IPython.display import display
    from keras.applications import inception_v3

    net = inception_v3.InceptionV3(weights="imagenet")
    pixels = keras.utils.img_to_array(keras.utils.load_img(PANDA, target_size=(299, 299)))
    x_img = inception_v3.preprocess_input(pixels[None])  # [0, 255] -> [-1, 1]
    label = net.predict(x_img, verbose=0).argmax(1)
    sign_img = np.sign(attacks.input_gradient(net, x_img, label))
    x_img_adv = attacks.fgsm(net, x_img, label, eps=0.007, clip=(-1.0, 1.0))
    top = [
        inception_v3.decode_predictions(net.predict(v, verbose=0), top=1)[0][0]
        for v in (x_img, sign_img, x_img_adv)
    ]
    fig = plotting.fig1_triptych(
        (x_img[0] + 1) / 2,
        sign_img[0],
        (x_img_adv[0] + 1) / 2,
        eps=0.007,
        shape=(299, 299, 3),
        labels=[t[1] for t in top],
        confidences=[float(t[2]) for t in top],
    )
    display(fig)

# %% [markdown]
# ## Paper vs this book
#
# F1 is the panda figure, not run for the reasons above. C2 is previewed here on the same
# network that chapter 4 measures, graded as there on the unclipped attack (the clipped
# numbers are in the notes), with the book's default tolerance of 2 percentage points. The
# network trained for {glue:text}`ch1_epochs` epochs and keeps the weights of epoch
# {glue:text}`ch1_kept`; its clean error is {glue:text}`ch1_clean_error:.2f` %, the paper's
# 0.94 %.

# %%
claims = [
    reporting.Claim(
        "F1",
        "GoogLeNet, ImageNet panda, FGSM eps=.007",
        "confidence of 'gibbon' on x_adv",
        paper=99.3,
        ours=None,
        note="no ImageNet data or GoogLeNet weights offline; InceptionV3 cell provided (RUN_IMAGENET)",
    ),
    reporting.Claim(
        "C2-err",
        "naive maxout, MNIST test, FGSM eps=.25, not clipped",
        "error",
        paper=89.4,
        ours=100 * free.error,
        note=f"preview of chapter 4; clipped to [0, 1]: {100 * adv_error:.1f} %",
    ),
    reporting.Claim(
        "C2-conf",
        "naive maxout, MNIST test, FGSM eps=.25, not clipped",
        "confidence on mistakes",
        paper=97.6,
        ours=100 * free.confidence_on_mistakes,
        note=(
            f"preview of chapter 4; clipped: {100 * adv_conf:.1f} %; {kept['epochs']} epochs, "
            f"weights of epoch {kept['kept']} ({100 * clean_error:.2f} % clean error)"
        ),
    ),
]
reporting.save_results("01_introduction", claims, extra={"clean_error": 100 * clean_error})
reporting.show_claims(claims)
