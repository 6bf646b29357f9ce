"""Cached, profile-aware recipes for the paper's trained networks.

A chapter asks for a network by what it is, e.g. ``experiments.maxout()`` or
``experiments.maxout(adversarial=True)``, and gets the trained Keras classifier.
The first call trains it under the run profile's budget (``ADVKERAS_PROFILE``:
smoke, book or paper) and stores it with :func:`advkeras.book.cache.cached_model`;
every later call with the same settings, in this chapter or a later one, loads
it in a second. The cache key is derived from what actually trains, never
written by hand: the built model's Keras config (layers, initializers and
their seeds, dropout rates, constraints), the optimizer's config with its
learning-rate schedule, the callbacks' parameters, every argument of
:func:`~advkeras.fitting.fit_classifier` (defaults included), the data (sizes,
subset, or a fingerprint of arrays passed in), the profile's name, the seed,
the recipe's name and :data:`advkeras.training.TRAINING_VERSION`. Change any
of them, a builder's default included, and the network is trained again.

Every recipe returns the *base* classifier (never the
:class:`~advkeras.training.AdversarialModel` wrapper), with

- ``advkeras_history``: the per-epoch metrics of its training (dict of lists;
  ``error`` keys are 1 − accuracy), also after a cache hit;
- ``advkeras_cache_hit``: whether it came from the cache.

Recipes and their budgets (fields of :class:`advkeras.book.profiles.Profile`):

=================================  ============================  ======================
recipe                             paper                         epochs
=================================  ============================  ======================
:func:`softmax_regression`         §4 C1, §8, App. A             ``epochs_linear``
:func:`maxout`                     §4–§6, §9, App. A             ``epochs_maxout`` /
                                                                 ``epochs_adversarial``
:func:`maxout_retrained`           §6 C13, C14                   as :func:`maxout`,
                                                                 then the kept epochs
:func:`maxout_adversary`           §6 C20, C21                   ``epochs_variant``
:func:`logistic_3v7`               §5, Fig. 2                    ``epochs_linear``
:func:`rbf`                        §7, §8, App. A                ``epochs_rbf``
:func:`deep_rbf`                   §7 C23                        ``epochs_rbf``
:func:`conv_maxout_cifar10`        §4 C3, App. A                 ``epochs_cifar``
:func:`ensemble_members`           §9                            ``ensemble_epochs``, else
                                                                 as :func:`maxout`
:func:`class_rbm`                  §9 (stand-in for the MP-DBM)  ``epochs_generative``
=================================  ============================  ======================

Optimizers. The maxout networks use the original pylearn2 recipe
(``mnist_pi.yaml``): SGD with learning rate .1 divided by 1.000004 per
minibatch, momentum .5 rising to .7 by epoch 250, batches of 100
(:func:`advkeras.pylearn2.paper_sgd` + :class:`~advkeras.pylearn2.MomentumSchedule`).
The paper gives no optimizer for its shallow models (softmax and logistic
regression, the RBF network); we use plain SGD with learning rate .1, momentum
.5 and batches of 100, the maxout recipe without its schedules. The linear
models' weights start at zero (their losses are convex) and the RBF centres at
the class means (see :func:`rbf`); Adam (lr .01 or .001) trained the RBF network
to the same error and confidences in our trials.

Example:

>>> from advkeras.book import experiments
>>> model = experiments.maxout()  # doctest: +SKIP
Training maxout240 (not in the cache) ...
>>> model = experiments.maxout()  # doctest: +SKIP
Loaded maxout240 from the cache: maxout240-...
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import inspect
import io
import logging
import math
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from advkeras import datasets, fitting, models, pylearn2, training
from advkeras._validation import (
    check_choice,
    check_eps,
    check_fraction,
    check_positive_float,
    check_positive_int,
    invalid,
)
from advkeras.book import networks
from advkeras.book.cache import cached_model, keras_config
from advkeras.book.profiles import Profile, get_profile

__all__ = [
    "cifar10",
    "conv_maxout_cifar10",
    "deep_rbf",
    "describe",
    "kept_epoch",
    "ensemble_members",
    "fast_fgsm",
    "logistic_3v7",
    "maxout",
    "maxout_adversary",
    "maxout_retrained",
    "mnist",
    "non_robust_relabelled",
    "rbf",
    "recipe_spec",
    "relabelled_digits",
    "softmax_regression",
    "summary_line",
]

#: The paper's adversarial-training ε on MNIST (§5) and α (§6).
MNIST_EPS = 0.25
PAPER_ALPHA = 0.5

#: SGD for the shallow models: softmax / logistic regression and RBF (the paper gives none).
LINEAR_LR = 0.1
LINEAR_MOMENTUM = 0.5
#: CIFAR-10: Adam (pylearn2's per-layer learning-rate scales have no Keras SGD
#: equivalent) and pylearn2's batch size.
CIFAR_LR = 1e-3
CIFAR_BATCH = 128
CIFAR_EPS = 0.1


# --------------------------------------------------------------------------- helpers


def _profile(profile: Profile | str | None) -> Profile:
    if profile is None or isinstance(profile, str):
        return get_profile(profile)
    if not isinstance(profile, Profile):
        raise invalid(
            "profile", "None, a profile name or an advkeras.book.profiles.Profile", profile
        )
    return profile


def _seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise invalid("seed", "an integer >= 0", seed)
    return int(seed)


def _bool(value: Any, argument: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise invalid(argument, "True or False", value)
    return bool(value)


def _l1(value: Any, argument: str = "l1") -> float:
    """``None`` or a finite coefficient >= 0 (0: no L1 penalty)."""
    if value is None:
        return 0.0
    try:
        coef = float(value)
    except (TypeError, ValueError):
        raise invalid(argument, "None or a finite number >= 0", value) from None
    if not math.isfinite(coef) or coef < 0:
        raise invalid(argument, "None or a finite number >= 0", value)
    return coef


def _mnist_sizes(p: Profile) -> dict[str, Any]:
    return {"dataset": "mnist", "train": p.mnist_train, "val": p.mnist_val}


def _fingerprint(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """A short description of arrays passed in by a chapter: shapes, dtype and a hash."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(x[:: max(1, len(x) // 512)]).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    digest.update(str((x.shape, x.dtype.str, float(x.sum(dtype=np.float64)))).encode())
    return {"shape": list(x.shape), "dtype": x.dtype.str, "sha256": digest.hexdigest()[:16]}


@contextlib.contextmanager
def _quiet_tensorflow() -> Iterator[None]:
    """Raise TensorFlow's Python logger to ERROR for the duration of a block."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _linear_optimizer() -> keras.optimizers.Optimizer:
    return keras.optimizers.SGD(learning_rate=LINEAR_LR, momentum=LINEAR_MOMENTUM)


#: fit_classifier arguments that are not settings: the model, the data, the
#: optimizer and callbacks (keyed by their configs), the printing, and
#: steps_per_execution (the same weights whatever its value; tests/test_training.py).
_NOT_SETTINGS = (
    "model",
    "x",
    "y",
    "validation_data",
    "optimizer",
    "callbacks",
    "verbose",
    "steps_per_execution",
)


#: Settings that fit_classifier gained after the book's networks were keyed: a key
#: names them only when they differ from their default (which is what ran before).
_NAMED_WHEN_SET = (
    "norm",
    "layer",
    "differentiable",
    "random_start",
    "step_size",
    "jit_compile",
)


def _fit_settings(**fit: Any) -> dict[str, Any]:
    """Every setting of :func:`advkeras.fitting.fit_classifier`, its defaults filled in.

    >>> "norm" in _fit_settings(epochs=1), _fit_settings(epochs=1, norm=2)["norm"]
    (False, 2)
    """
    signature = inspect.signature(fitting.fit_classifier)
    bound = signature.bind_partial(**fit)
    bound.apply_defaults()
    return {
        k: v
        for k, v in bound.arguments.items()
        if k not in _NOT_SETTINGS
        and not (k in _NAMED_WHEN_SET and v == signature.parameters[k].default)
    }


def summary_line(name: str, history: dict[str, list[float]], seconds: float) -> str:
    """The one line a chapter shows for a training: epochs, time and the last epoch's errors.

    Example:

    >>> summary_line("maxout8", {"loss": [1.0, 0.5], "error": [0.5, 0.2], "val_error": [0.4, 0.1]}, 12.3)
    'Trained maxout8: 2 epochs in 12 s; last epoch: training error 20.00 %, validation error 10.00 %'
    """
    labels = {
        "error": "training error",
        "adv_error": "training FGSM error",
        "val_error": "validation error",
        "val_adv_error": "validation FGSM error",
    }
    epochs = len(history.get("loss", []))
    parts = [
        f"{label} {100 * history[key][-1]:.2f} %"
        for key, label in labels.items()
        if history.get(key)
    ]
    last = f"; last epoch: {', '.join(parts)}" if parts else ""
    return f"Trained {name}: {epochs} epochs in {seconds:.0f} s{last}"


#: Set by :func:`recipe_spec`: recipes then stop at their spec instead of loading or training.
_SPEC_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("spec_only", default=False)
#: Set while :func:`recipe_spec` loads a stage 1 network: it may be loaded, never trained.
_LOAD_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("load_only", default=False)


@contextlib.contextmanager
def _stage1_loaded() -> Iterator[None]:
    """Under :func:`recipe_spec`, let a recipe's first stage load (not train) its network.

    Outside :func:`recipe_spec` it does nothing. Inside, the first stage's
    spec is not the one wanted: the network is loaded from the cache (or the
    shipped networks) for what it tells the second stage (its kept epoch),
    and a network that would have to be trained is refused with a ``ValueError``.
    """
    if not _SPEC_ONLY.get():
        yield
        return
    spec_token, load_token = _SPEC_ONLY.set(False), _LOAD_ONLY.set(True)
    try:
        yield
    finally:
        _LOAD_ONLY.reset(load_token)
        _SPEC_ONLY.reset(spec_token)


class _Spec(Exception):  # noqa: N818 (a carrier, not an error)
    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__("spec")
        self.spec = spec


def recipe_spec(recipe: str, profile: Profile | str | None = None, **kwargs: Any) -> dict[str, Any]:
    """The cache spec of a recipe's network, without training anything.

    What :func:`advkeras.book.cache.cache_key` hashes: the shipped networks'
    manifest records it, and ``tests/test_networks.py`` checks it against
    this function, so a change of the code that would train another network
    is noticed. Nothing is loaded either, except by ``"maxout_retrained"``,
    whose second stage trains for the epoch its first stage kept: that
    first network is loaded (a ``ValueError`` if it is neither in the cache
    nor shipped).

    Args:
        recipe: the name of a recipe of this module that returns one network
            (``"maxout"``, ``"softmax_regression"``, ``"logistic_3v7"``,
            ``"rbf"``, ``"deep_rbf"``, ``"conv_maxout_cifar10"``,
            ``"maxout_retrained"``, ...).
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        **kwargs: the recipe's other arguments.

    Example:

    >>> spec = recipe_spec("maxout", "smoke", adversarial=True)
    >>> spec["name"], spec["fit"]["epochs"]
    ('maxout32-fgsm', 1)
    """
    recipes = (
        "maxout",
        "softmax_regression",
        "logistic_3v7",
        "rbf",
        "deep_rbf",
        "conv_maxout_cifar10",
        "maxout_adversary",
        "fast_fgsm",
        "non_robust_relabelled",
        "maxout_retrained",
    )
    recipe = check_choice(recipe, recipes, "recipe")
    token = _SPEC_ONLY.set(True)
    try:
        globals()[recipe](profile, **kwargs)
    except _Spec as found:
        return found.spec
    finally:
        _SPEC_ONLY.reset(token)
    raise AssertionError(f"{recipe} did not reach _train")  # pragma: no cover


def _train(
    recipe: str,
    name: str,
    p: Profile,
    seed: int,
    build: Callable[[], keras.Model],
    data: Callable[[], tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]],
    *,
    data_spec: dict[str, Any],
    optimizer: keras.optimizers.Optimizer,
    callbacks: tuple[keras.callbacks.Callback, ...] = (),
    prepare: Callable[[keras.Model, np.ndarray, np.ndarray], None] | None = None,
    **fit: Any,
) -> keras.Model:
    """Seed and build the model, key it by what trains, then load it or fit it.

    The model, optimizer and callbacks that the key describes are the very
    objects that train on a cache miss. ``prepare(model, x, y)`` runs on the
    training data before ``fit`` (the RBF centres); ``fit`` holds the
    :func:`~advkeras.fitting.fit_classifier` arguments.
    """
    keras.utils.set_random_seed(seed)
    model = build()
    fit = {"seed": seed, **fit}
    spec = {
        "name": name,
        "recipe": recipe,
        "training_version": training.TRAINING_VERSION,
        "profile": p.name,
        "seed": seed,
        "data": data_spec,
        "model": keras_config(model),
        "optimizer": keras_config(optimizer),
        "callbacks": [keras_config(c) for c in callbacks],
        "fit": _fit_settings(**fit),
    }
    if _SPEC_ONLY.get():
        raise _Spec(spec)

    def build_and_train() -> keras.Model:
        if _LOAD_ONLY.get():
            raise ValueError(
                f"recipe_spec needs {name} (the first stage of the recipe) in the model "
                "cache or the shipped networks, to read its kept epoch; it is not there: "
                "run the recipe itself once to train it"
            )
        x, y, validation = data()
        if prepare is not None:
            prepare(model, x, y)
        # Recipes train many models in one process; each new model's Keras train
        # function counts towards TensorFlow's "excessive retracing" warning, which
        # is noise here (every model is traced once), so it is hidden while fitting.
        started = time.perf_counter()
        if fit["epochs"] == 0:  # the initialisation is the model (``rbf(train=False)``)
            model.advkeras_history = {"loss": []}
            print(
                f"Fitted {name} in closed form (no training) in {time.perf_counter() - started:.0f} s"
            )
            return model
        with _quiet_tensorflow():
            trained = fitting.fit_classifier(
                model,
                x,
                y,
                validation_data=validation,
                optimizer=optimizer,
                callbacks=list(callbacks),
                verbose=0,
                **fit,
            )
        history = getattr(trained, "advkeras_history", {})
        print(summary_line(name, history, time.perf_counter() - started))
        return trained

    return cached_model(
        spec, build_and_train, verbose=not _LOAD_ONLY.get(), install=networks.install
    )


# --------------------------------------------------------------------------- data and profile


def mnist(profile: Profile | str | None = None) -> datasets.Splits:
    """The paper's MNIST split (50k train / 10k validation / 10k test) cut to the profile's sizes.

    :func:`advkeras.datasets.mnist_splits` with the profile's ``mnist_train``,
    ``mnist_val`` and ``mnist_test``, flattened to rows of 784.

    Args:
        profile: a :class:`~advkeras.book.profiles.Profile`, a profile name, or ``None``
            for ``$ADVKERAS_PROFILE``.

    Returns:
        :class:`advkeras.datasets.Splits` (``x_train, y_train, x_val, y_val, x_test, y_test``).
    """
    p = _profile(profile)
    return datasets.mnist_splits(train=p.mnist_train, val=p.mnist_val, test=p.mnist_test)


def cifar10(
    profile: Profile | str | None = None,
) -> tuple[str | None, tuple[Any, Any], tuple[Any, Any]]:
    """CIFAR-10 cut to the profile's sizes, where it can be had; under ``smoke``, a stand-in.

    :func:`advkeras.datasets.load_cifar10` with the profile's ``cifar_train``
    and ``cifar_test``: a local copy, or Keras' download. This machine and the
    book's CI have neither, so: under ``smoke``, random images written in the
    CIFAR-10 format to a temporary folder and loaded by the same code (the
    code path is tested; its numbers mean nothing); under other profiles,
    nothing. Prints where the images come from.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.

    Returns:
        ``(source, (x_train, y_train), (x_test, y_test))``: ``source`` is
        ``"CIFAR-10"``, ``"random stand-in images (smoke profile)"``, or
        ``None`` with pairs of ``None``.
    """
    p = _profile(profile)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # keras' "Downloading data from ..."
            train, test = datasets.load_cifar10(train=p.cifar_train, test=p.cifar_test)
        source = "CIFAR-10"
    except Exception as error:  # offline: no local copy, and the download fails
        train = test = (None, None)
        source = None
        print(
            "CIFAR-10 is not available: no local copy, and the download failed "
            f"({type(error).__name__})"
        )
    if source is None and p.name == "smoke":
        rng = np.random.default_rng(0)
        n = p.cifar_train + p.cifar_test
        folder = datasets.write_cifar10_batches(
            Path(tempfile.mkdtemp()) / "cifar-10-batches-py",
            rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, n),
            test_size=p.cifar_test,
        )
        train, test = datasets.load_cifar10(train=p.cifar_train, test=p.cifar_test, data_dir=folder)
        source = "random stand-in images (smoke profile)"
    print("CIFAR-10 source:", source)
    return source, train, test


def describe(profile: Profile | str | None = None) -> Profile:
    """Print the profile's one-line description (every chapter starts with it).

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.

    Returns:
        The resolved :class:`~advkeras.book.profiles.Profile`.

    Example:

    >>> _ = describe("smoke")  # doctest: +ELLIPSIS
    advkeras profile 'smoke': MNIST train 2,000, ...
    """
    p = _profile(profile)
    print(p.describe())
    return p


def kept_epoch(
    model: keras.Model, profile: Profile | str | None = None, *, fgsm: bool = False
) -> dict[str, Any]:
    """How long a maxout recipe's network trained and which epoch's weights it kept.

    With ``profile.patience`` set, early stopping restored the weights of the
    first epoch with the lowest monitored validation error: the FGSM
    validation error for FGSM training (``val_adv_error``), the clean one
    otherwise, noise controls included (:func:`maxout`). Without patience the
    last epoch is kept.

    Args:
        model: a network returned by :func:`maxout` (it has ``advkeras_history``).
        profile: the profile it was trained under.
        fgsm: whether it was trained adversarially with FGSM
            (``maxout(adversarial=True)`` with the default perturbation).

    Returns:
        ``{"epochs": epochs run, "kept": epoch kept (1-based), "monitor": metric or None}``.

    Example:

    >>> m = keras.Model()
    >>> m.advkeras_history = {"loss": [1, 1, 1], "val_error": [0.3, 0.1, 0.2]}
    >>> kept_epoch(m, "book")
    {'epochs': 3, 'kept': 2, 'monitor': 'val_error'}
    >>> kept_epoch(m, "smoke")
    {'epochs': 3, 'kept': 3, 'monitor': None}
    >>> m.advkeras_history["val_adv_error"] = [0.5, 0.6, 0.4]
    >>> kept_epoch(m, "book", fgsm=True)
    {'epochs': 3, 'kept': 3, 'monitor': 'val_adv_error'}
    """
    p = _profile(profile)
    history = getattr(model, "advkeras_history", None)
    if not isinstance(history, dict) or not history.get("loss"):
        raise invalid(
            "model", "a network of a recipe (with advkeras_history)", type(model).__name__
        )
    epochs = len(history["loss"])
    if p.patience is None:
        return {"epochs": epochs, "kept": epochs, "monitor": None}
    trained_on = "fgsm" if _bool(fgsm, "fgsm") else "none"
    monitor = fitting.default_monitor(trained_on).replace("accuracy", "error")
    if not history.get(monitor):
        raise invalid(
            "model", f"a history with {monitor!r} (early stopping's monitor)", sorted(history)
        )
    return {"epochs": epochs, "kept": int(np.argmin(history[monitor])) + 1, "monitor": monitor}


# --------------------------------------------------------------------------- MNIST recipes


def softmax_regression(profile: Profile | str | None = None, seed: int = 0) -> keras.Model:
    """Softmax regression on MNIST (the paper's "shallow softmax classifier", §4 C1).

    :func:`advkeras.models.shallow_softmax` trained for ``profile.epochs_linear``
    epochs with SGD (lr .1, momentum .5, batches of ``profile.batch_size``) on
    the training split, validated on the validation split (with FGSM
    validation metrics at ε = .25).

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0 (minibatch order).

    Returns:
        The trained classifier (softmax outputs) with ``advkeras_history``.
    """
    p, seed = _profile(profile), _seed(seed)

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        s = mnist(p)
        return s.x_train, s.y_train, (s.x_val, s.y_val)

    return _train(
        "softmax_regression",
        "softmax_regression",
        p,
        seed,
        models.shallow_softmax,
        data,
        data_spec=_mnist_sizes(p),
        optimizer=_linear_optimizer(),
        epochs=p.epochs_linear,
        batch_size=p.batch_size,
        eps=MNIST_EPS,
    )


def maxout(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    units: int | None = None,
    adversarial: bool = False,
    perturbation: str = "fgsm",
    eps: float = MNIST_EPS,
    alpha: float = PAPER_ALPHA,
    l1: float | None = None,
    top: str = "softmax",
    half: int | None = None,
    epochs: int | None = None,
) -> keras.Model:
    """The permutation-invariant MNIST maxout network, trained cleanly, adversarially or with noise.

    :func:`advkeras.models.maxout_mlp` (two maxout layers of ``units`` × 5
    pieces, dropout, max-norm; pylearn2 ``mnist_pi.yaml``) trained with the
    original SGD recipe on the training split:

    - ``adversarial=False``: plain training for ``profile.epochs_maxout``
      epochs (the paper's "naive" maxout network);
    - ``adversarial=True``: for ``profile.epochs_adversarial`` epochs on
      J̃ = αJ(x) + (1 − α)J(x + η) (§6), with η the FGSM perturbation
      (``perturbation="fgsm"``) or one of the §6 noise controls
      (``"sign_noise"``: ±ε per pixel, ``"uniform_noise"``: U(−ε, ε)).

    With ``profile.patience`` set, training stops early on the validation
    error (clean runs) or the FGSM validation error at ``eps`` (adversarial
    runs, the paper's criterion) and keeps the best epoch. Noise-trained runs
    stop on the clean validation error.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0: initialization, dropout masks, minibatch order (the
            paper's seeds, §6 and §9).
        units: maxout units per layer; ``None``: ``profile.maxout_units`` (240
            in the book; ``profile.maxout_units_large`` is the paper's 1600).
        adversarial: train on J̃ instead of J.
        perturbation: ``"fgsm"``, ``"sign_noise"`` or ``"uniform_noise"``
            (only with ``adversarial=True``).
        eps: ε of the training perturbation (and of the FGSM validation metrics).
        alpha: α of J̃, in [0, 1] (the paper: 0.5 in all experiments).
        l1: ``None`` or a coefficient >= 0 of an L1 penalty on the first layer's
            (``"h0"``) weights: the §5 weight-decay control (.0025 got stuck).
        top: ``"softmax"`` or ``"sigmoid"`` (independent sigmoids, App. A C30).
        half: ``None`` to train on the whole training split, ``0`` or ``1`` to
            train on its first or second half only (chapter 2's transfer
            between models that saw disjoint data).
        epochs: the epoch budget; ``None``: ``profile.epochs_adversarial`` or
            ``profile.epochs_maxout``, the long schedule of the two networks
            the chapters stand on. Controls and variants pass
            ``profile.epochs_variant``.

    Returns:
        The trained base classifier with ``advkeras_history``.

    Example:

    >>> naive = maxout()  # doctest: +SKIP
    >>> robust = maxout(adversarial=True)  # doctest: +SKIP
    >>> control = maxout(adversarial=True, perturbation="sign_noise")  # doctest: +SKIP
    """
    p, seed = _profile(profile), _seed(seed)
    units = p.maxout_units if units is None else check_positive_int(units, "units")
    adversarial = _bool(adversarial, "adversarial")
    perturbation = check_choice(
        perturbation, ("fgsm", "sign_noise", "uniform_noise"), "perturbation"
    )
    if not adversarial and perturbation != "fgsm":
        raise invalid(
            "perturbation",
            "'fgsm' (the default) unless adversarial=True; pass adversarial=True to train "
            "with a noise perturbation",
            perturbation,
        )
    eps = check_eps(eps)
    alpha = check_fraction(alpha, "alpha")
    coef = _l1(l1)
    top = check_choice(top, ("softmax", "sigmoid"), "top")
    if half is not None and (isinstance(half, bool) or half not in (0, 1)):
        raise invalid("half", "None, 0 (first half) or 1 (second half)", half)
    if epochs is None:
        epochs = p.epochs_adversarial if adversarial else p.epochs_maxout
    epochs = check_positive_int(epochs, "epochs")

    tag = perturbation if adversarial else "clean"
    name = f"maxout{units}" + ("" if tag == "clean" else f"-{tag}")
    if coef:
        name += f"-l1_{coef:g}"
    if top != "softmax":
        name += f"-{top}"
    data_spec = _mnist_sizes(p)
    if half is not None:
        name += f"-half{half}"
        data_spec["half"] = half

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        s = mnist(p)
        x, y = s.x_train, s.y_train
        if half is not None:
            cut = len(x) // 2
            part = slice(0, cut) if half == 0 else slice(cut, None)
            x, y = x[part], y[part]
        return x, y, (s.x_val, s.y_val)

    return _maxout_fit(
        name,
        p,
        seed,
        data,
        data_spec=data_spec,
        units=units,
        top=top,
        epochs=epochs,
        adversarial=adversarial,
        perturbation=perturbation,
        eps=eps,
        alpha=alpha,
        coef=coef,
        patience=p.patience,
    )


def _maxout_fit(
    name: str,
    p: Profile,
    seed: int,
    data: Callable[[], tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]],
    *,
    data_spec: dict[str, Any],
    units: int,
    top: str,
    epochs: int,
    adversarial: bool,
    perturbation: str,
    eps: float,
    alpha: float,
    coef: float,
    patience: int | None,
    **variant: Any,
) -> keras.Model:
    """The pylearn2 recipe of :func:`maxout` on the data that ``data()`` returns.

    ``variant``: further :func:`~advkeras.fitting.fit_classifier` settings
    (``norm``, ``layer``, ``monitor``) of the §6 variants.
    """

    def build() -> keras.Model:
        return models.maxout_mlp(units, p.maxout_pieces, top=top, seed=seed)

    return _train(
        "maxout",
        name,
        p,
        seed,
        build,
        data,
        data_spec=data_spec,
        optimizer=pylearn2.paper_sgd(),
        callbacks=(pylearn2.MomentumSchedule(),),
        epochs=epochs,
        batch_size=p.batch_size,
        adversarial=adversarial,
        perturbation=perturbation if adversarial else "none",
        # Clean runs skip the FGSM validation metrics (about 12 % of an epoch):
        # only adversarial runs stop early on them.
        eps=eps if adversarial else 0.0,
        # α weighs the perturbed term, which a clean run does not have.
        **({"alpha": alpha} if adversarial else {}),
        l1=("h0", coef) if coef else None,
        patience=patience,
        **({"jit_compile": True} if p.jit_compile else {}),
        **variant,
    )


def maxout_retrained(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    units: int | None = None,
    adversarial: bool = True,
    eps: float = MNIST_EPS,
    alpha: float = PAPER_ALPHA,
    epochs: int | None = None,
) -> keras.Model:
    """§6's protocol for the large network (C13): early stopping on the split, then all the data.

    "We therefore used early stopping on the adversarial validation set
    error. Using this approach to choose the number of epochs to train for,
    we then retrained on all 60,000 examples." Stage 1 is :func:`maxout`
    with the same arguments (trained on the training split, stopped early
    with ``profile.patience`` on the FGSM validation error, or the clean one
    for ``adversarial=False``); :func:`kept_epoch` gives the epoch k it kept.
    Stage 2 trains a fresh network from the same seed with the same recipe on
    the training and validation splits together (all 60,000 digits under
    ``paper``) for exactly k epochs, with nothing held out. That is the
    paper's sentence read literally; pylearn2's maxout scripts instead
    continued training until the validation cost reached the training cost
    of the stopping point, which this paper does not mention.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0, for both stages.
        units: maxout units per layer; ``None``: ``profile.maxout_units_large``
            (the paper's 1600).
        adversarial: FGSM training on J̃ (the paper's C13/C14) or clean.
        eps, alpha: as in :func:`maxout`.
        epochs: stage 1's epoch budget, as in :func:`maxout`; ``None``: its
            long schedule (``profile.epochs_adversarial``, or
            ``profile.epochs_maxout`` for ``adversarial=False``). A shorter
            budget (e.g. ``profile.epochs_variant``) gives the protocol on the
            short schedule: stage 1 keeps the best of at most ``epochs``
            epochs and stage 2 trains that many. Stage 2 depends on stage 1
            only through k, so two budgets that keep the same k share stage 2.

    Returns:
        The stage-2 network with ``advkeras_history`` (training metrics only)
        and ``advkeras_stage1``: the :func:`kept_epoch` record of stage 1.

    Under :func:`recipe_spec` stage 1 is loaded (from the cache or the
    shipped networks), never trained, to learn k; the spec returned is stage 2's.

    Example:

    >>> net = maxout_retrained("paper", seed=0)  # doctest: +SKIP
    >>> seed1 = maxout_retrained("book", seed=1, epochs=10)  # doctest: +SKIP
    """
    p, seed = _profile(profile), _seed(seed)
    units = p.maxout_units_large if units is None else check_positive_int(units, "units")
    adversarial = _bool(adversarial, "adversarial")
    with _stage1_loaded():
        first = maxout(
            p, seed, units=units, adversarial=adversarial, eps=eps, alpha=alpha, epochs=epochs
        )
    stage1 = kept_epoch(first, p, fgsm=adversarial)
    tag = "fgsm" if adversarial else "clean"
    name = f"maxout{units}" + ("" if tag == "clean" else f"-{tag}") + "-all"

    def data() -> tuple[np.ndarray, np.ndarray, None]:
        s = mnist(p)
        return np.concatenate([s.x_train, s.x_val]), np.concatenate([s.y_train, s.y_val]), None

    net = _maxout_fit(
        name,
        p,
        seed,
        data,
        data_spec={**_mnist_sizes(p), "train_and_val": True},
        units=units,
        top="softmax",
        epochs=stage1["kept"],
        adversarial=adversarial,
        perturbation="fgsm",
        eps=check_eps(eps),
        alpha=check_fraction(alpha, "alpha"),
        coef=0.0,
        patience=None,
    )
    net.advkeras_stage1 = stage1
    return net


def logistic_3v7(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    adversarial: bool = False,
    eps: float = MNIST_EPS,
    l1: float = 0.0,
    alpha: float = PAPER_ALPHA,
) -> keras.Model:
    """Logistic regression on MNIST 3s versus 7s (§5, Fig. 2): 7 → +1, 3 → −1.

    :func:`advkeras.models.logistic_regression` (one logit, weights starting at
    zero) trained for ``profile.epochs_linear`` epochs with SGD (lr .1,
    momentum .5) on the 3s and 7s of the training split.

    ``adversarial=True`` trains on αJ(x) + (1 − α)J(x + ε·sign(∇ₓJ)) through
    :class:`~advkeras.training.AdversarialModel` with FGSM and no clipping.
    For logistic regression FGSM is the exact worst case, x − ε·y·sign(w), so
    the adversarial term *is* the §5 closed form ζ(ε‖w‖₁ − y(wᵀx + b))
    (:func:`advkeras.losses.adversarial_logistic_loss`); ``alpha=0`` trains on
    that closed form alone, the objective the paper writes down.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0 (minibatch order).
        adversarial: train on the adversarial objective.
        eps: ε of the adversarial objective and of the FGSM validation metrics.
        l1: coefficient >= 0 of an L1 penalty on w (``"logit"`` layer), the
            weight decay the paper compares with (0: none).
        alpha: α of the adversarial objective, in [0, 1].

    Returns:
        The trained model (one logit, output kind ``"binary_logit"``) with
        ``advkeras_history``.
    """
    p, seed = _profile(profile), _seed(seed)
    adversarial = _bool(adversarial, "adversarial")
    eps = check_eps(eps)
    coef = _l1(l1)
    alpha = check_fraction(alpha, "alpha")
    name = "logistic_3v7" + ("-adv" if adversarial else "") + (f"-l1_{coef:g}" if coef else "")

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        s = mnist(p)
        x, y = datasets.three_vs_seven(s.x_train, s.y_train)
        x_val, y_val = datasets.three_vs_seven(s.x_val, s.y_val)
        return x, y, (x_val, y_val)

    return _train(
        "logistic_3v7",
        name,
        p,
        seed,
        models.logistic_regression,
        data,
        data_spec={**_mnist_sizes(p), "subset": "3 (-1) vs 7 (+1)"},
        optimizer=_linear_optimizer(),
        epochs=p.epochs_linear,
        batch_size=p.batch_size,
        adversarial=adversarial,
        eps=eps,
        # α weighs the perturbed term, which a clean run does not have.
        **({"alpha": alpha} if adversarial else {}),
        l1=("logit", coef) if coef else None,
    )


#: The forms of the shallow RBF network's precision β that :func:`rbf` takes.
RBF_BETAS = ("shared", "class", "dimension")


def rbf(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    beta: str = "dimension",
    train: bool = True,
) -> keras.Model:
    """The shallow RBF network of §7: one independent unit p_k(x) = exp(−‖x − μ_k‖²β) per class.

    :func:`advkeras.models.rbf_network` with one of three forms of the paper's β
    (``beta``): ``"shared"``, one scalar for all classes, p_k = exp(−β‖x − μ_k‖²);
    ``"class"``, one scalar per class, p_k = exp(−β_k‖x − μ_k‖²); ``"dimension"``
    (the default), one precision per class and pixel, p_k = exp(−Σ_i β_ki (x_i − μ_ki)²).
    μ_k starts at the mean of class k's training images and β so that the
    median training example of each class starts at p_y = 0.5 (per pixel: the
    precisions of a diagonal Gaussian fitted to class k, pixel variances + 0.01,
    scaled so; :meth:`advkeras.layers.RBF.init_centers` with ``fit_beta=True``).

    With ``train=True`` (the default) centres and β are then trained for
    ``profile.epochs_rbf`` epochs with Adam (lr 1e-3, batches of
    ``profile.batch_size``) on the summed per-class binary cross-entropy (output
    kind ``"independent"``). The default, ``rbf(profile)``, is this trained
    per-pixel network, the one the book's chapters measure. The other forms of β
    and ``train=False`` are options, other readings of the paper's unspecified
    network. With ``train=False`` the initialisation is the network: no gradient
    step (``epochs`` 0 in its cache key). With β held there, the class means are
    exactly the minimum of the summed −log p_y over the training set, so this is
    also the network that maximum-likelihood training of the true class's unit
    reaches. Chapter 7 compares the six readings on the paper's three numbers of
    C22.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0 (minibatch order).
        beta: ``"shared"``, ``"class"`` or ``"dimension"``.
        train: whether to train centres and β after the initialisation (default True).

    Returns:
        The RBF network with ``advkeras_history`` (empty lists without training).

    Raises:
        ValueError: for another ``beta`` or a ``train`` that is not a bool.
    """
    p, seed = _profile(profile), _seed(seed)
    beta = check_choice(beta, RBF_BETAS, "beta")
    train = _bool(train, "train")
    # "rbf" alone is the default, the trained per-pixel network: its name and key are those it
    # had before the other readings existed, so its cached model stays valid.
    name = "rbf" + ("" if beta == "dimension" else f"-{beta}") + ("" if train else "-means")

    def build() -> keras.Model:
        return models.rbf_network(per_dimension=beta == "dimension", shared_beta=beta == "shared")

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        s = mnist(p)
        return s.x_train, s.y_train, (s.x_val, s.y_val)

    def prepare(model: keras.Model, x: np.ndarray, y: np.ndarray) -> None:
        model.get_layer("rbf").init_centers(x, y, fit_beta=True)

    return _train(
        "rbf",
        name,
        p,
        seed,
        build,
        data,
        data_spec=_mnist_sizes(p),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        prepare=prepare,
        epochs=p.epochs_rbf if train else 0,
        batch_size=p.batch_size,
        eps=MNIST_EPS,
    )


def deep_rbf(
    profile: Profile | str | None = None, seed: int = 0, *, hidden: int = 100
) -> keras.Model:
    """A two-layer RBF network (§7, C23): the paper's "deep RBF networks", at small scale.

    :func:`advkeras.models.deep_rbf_network` with ``hidden`` RBF units of one β
    each. The hidden centres start at ``hidden`` training images drawn with
    ``seed``, each hidden unit's β so that its median output over the first 5,000
    training images is 0.5; the output centres start at the class means of the
    hidden activations, with ``fit_beta=True``. Trained like
    :func:`rbf` (Adam, lr 1e-3, ``profile.epochs_rbf`` epochs, summed per-class
    binary cross-entropy).

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0 (centre draw and minibatch order).
        hidden: positive int, the number of hidden RBF units.

    Returns:
        The trained network with ``advkeras_history``.
    """
    p, seed = _profile(profile), _seed(seed)
    hidden = check_positive_int(hidden, "hidden")

    def build() -> keras.Model:
        return models.deep_rbf_network(hidden=hidden)

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        s = mnist(p)
        return s.x_train, s.y_train, (s.x_val, s.y_val)

    def prepare(model: keras.Model, x: np.ndarray, y: np.ndarray) -> None:
        first = model.get_layer("rbf0")
        pick = np.random.default_rng(seed).choice(len(x), size=hidden, replace=False)
        first.centers.assign(x[pick].astype("float32"))
        d2 = np.asarray(first.squared_distances(x[:5000].astype("float32")))
        first.log_beta.assign(np.log(np.log(2.0) / np.median(d2, axis=0)).astype("float32"))
        h = np.asarray(first(x.astype("float32")))
        model.get_layer("rbf").init_centers(h, y, fit_beta=True)

    return _train(
        "deep_rbf",
        f"deep_rbf{hidden}",
        p,
        seed,
        build,
        data,
        data_spec=_mnist_sizes(p),
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        prepare=prepare,
        epochs=p.epochs_rbf,
        batch_size=p.batch_size,
        eps=MNIST_EPS,
    )


def ensemble_members(profile: Profile | str | None = None) -> list[keras.Model]:
    """The §9 ensemble's members: naive maxout networks with seeds ``0 .. ensemble_size − 1``.

    Member ``s`` is exactly ``maxout(profile, seed=s, epochs=profile.ensemble_epochs)``.
    With ``ensemble_epochs=None`` (``paper``, ``smoke``) that is the long
    schedule of :func:`maxout`, so member 0 is the naive network of the earlier
    chapters and ``paper`` has the paper's 12 long-trained members. The ``book``
    profile cannot afford 300 epochs per seed: its 5 members are trained for
    ``ensemble_epochs = 10`` epochs (the ``epochs_variant`` budget), so seeds 0–2
    are the very networks whose seed spread chapters 5 and 6 measure. Combine
    them with :func:`advkeras.models.ensemble` or
    :func:`advkeras.evaluation.ensemble_attack`.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.

    Returns:
        ``profile.ensemble_size`` trained models, named ``<name>_seed<s>`` (the
        recipe's networks share one name, which one Keras graph cannot hold twice).
    """
    p = _profile(profile)
    members = [maxout(p, seed=s, epochs=p.ensemble_epochs) for s in range(p.ensemble_size)]
    for s, member in enumerate(members):
        # One graph holds them all (models.ensemble, evaluation.ensemble_attack), and
        # Keras refuses two operations of one name: each member is named by its seed.
        member.name = f"{member.name}_seed{s}"
    return members


# --------------------------------------------------------------------------- CIFAR-10


def conv_maxout_cifar10(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    data: tuple[Any, Any] | None = None,
    validation_data: tuple[Any, Any] | None = None,
) -> keras.Model:
    """The CIFAR-10 convolutional maxout network (§4 C3, Appendix A), reduced by the profile.

    :func:`advkeras.models.conv_maxout_cifar10` with ``width=profile.cifar_width``
    trained for ``profile.epochs_cifar`` epochs with Adam (lr 1e-3, batches of
    128). pylearn2 used SGD with a 20× smaller learning rate on the conv layers
    than on the dense ones, which one Keras optimizer cannot express; Adam's
    per-weight step sizes make that scaling unnecessary.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0 (initialization, dropout masks, minibatch order).
        data: ``(x_train, y_train)``: preprocessed (GCN + ZCA) images of shape
            (N, 32, 32, 3) and integer labels, passed in by the chapter (CIFAR-10
            may be unavailable offline). ``None``: :func:`advkeras.datasets.load_cifar10`
            cut to ``profile.cifar_train``. The arrays are part of the cache key
            (shape, dtype and a hash), so other data trains another network.
        validation_data: optional ``(x_val, y_val)`` for the per-epoch validation metrics.

    Returns:
        The trained classifier with ``advkeras_history``.
    """
    p, seed = _profile(profile), _seed(seed)
    if data is None:
        try:
            (x, y), _ = datasets.load_cifar10(train=p.cifar_train, test=p.cifar_test)
        except Exception as err:
            raise RuntimeError(
                f"CIFAR-10 is not available ({err}). Pass data=(x_train, y_train) explicitly."
            ) from err
    else:
        if not isinstance(data, tuple | list) or len(data) != 2:
            raise invalid("data", "None or a pair (x_train, y_train)", type(data).__name__)
        x, y = data
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if x.ndim != 4 or x.shape[1:] != (32, 32, 3):
        raise invalid("data", "images of shape (N, 32, 32, 3)", f"an array of shape {x.shape}")
    if y.shape != (len(x),):
        raise invalid("data", f"labels of shape ({len(x)},)", f"an array of shape {y.shape}")
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise invalid("validation_data", "None or a pair (x_val, y_val)", type(validation_data))
        validation = (np.asarray(validation_data[0], np.float32), np.asarray(validation_data[1]))
    else:
        validation = None

    def build() -> keras.Model:
        return models.conv_maxout_cifar10(width=p.cifar_width, seed=seed)

    return _train(
        "conv_maxout_cifar10",
        "conv_maxout_cifar10",
        p,
        seed,
        build,
        lambda: (x, y, validation),
        data_spec={
            "dataset": "cifar10",
            "train": _fingerprint(x, y),
            "val": None if validation is None else _fingerprint(*validation),
        },
        optimizer=keras.optimizers.Adam(learning_rate=CIFAR_LR),
        epochs=p.epochs_cifar,
        batch_size=CIFAR_BATCH,
        eps=0.0,
    )


# --------------------------------------------------------------------------- §6 adversary variants


def maxout_adversary(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    adversary: str,
    eps: float | None = None,
    epochs: int | None = None,
) -> keras.Model:
    """The maxout network of :func:`maxout` trained against another adversary (§6, C20, C21).

    The pylearn2 recipe of :func:`maxout` with ``adversarial=True``, α = .5,
    for ``epochs`` (default ``profile.epochs_variant``), early stopping
    (``profile.patience``) on the clean validation error, and the step of
    :func:`~advkeras.fitting.fit_classifier` set by ``adversary``:

    - ``"scaled_gradient"``: η = ε·∇ₓJ/‖∇ₓJ‖₂ (``norm=2``), the gradient
      without its sign, held constant like FGSM's; ``eps`` defaults to
      .25·√784 = 7, the L2 length of the FGSM step;
    - ``"scaled_gradient_differentiable"``: the same η with the weights'
      gradient flowing through it (``differentiable=True``, double
      backpropagation): the paper's "differentiable" adversary (C20);
    - ``"hidden_h0"``: η = ε·sign(∇_h J) added to the activations of the
      first maxout layer (``layer="h0"``, C21); ``eps`` defaults to .25.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0.
        adversary: ``"scaled_gradient"``, ``"scaled_gradient_differentiable"`` or ``"hidden_h0"``.
        eps: the size of η (see above); ``None`` for the default.
        epochs: the epoch budget; ``None``: ``profile.epochs_variant``.

    Returns:
        The trained base classifier with ``advkeras_history``.

    Example:

    >>> spec = recipe_spec("maxout_adversary", "smoke", adversary="hidden_h0")
    >>> spec["name"], spec["fit"]["layer"], spec["fit"]["monitor"]
    ('maxout32-hidden_h0', 'h0', 'val_error')
    """
    p, seed = _profile(profile), _seed(seed)
    adversary = check_choice(
        adversary, ("scaled_gradient", "scaled_gradient_differentiable", "hidden_h0"), "adversary"
    )
    scaled = adversary.startswith("scaled_gradient")
    if eps is None:
        eps = MNIST_EPS * math.sqrt(784) if scaled else MNIST_EPS
    eps = check_eps(eps)
    epochs = check_positive_int(p.epochs_variant if epochs is None else epochs, "epochs")
    if scaled:
        variant: dict[str, Any] = {"norm": 2}
        if adversary == "scaled_gradient_differentiable":
            variant["differentiable"] = True
    else:
        variant = {"layer": "h0"}

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        s = mnist(p)
        return s.x_train, s.y_train, (s.x_val, s.y_val)

    return _maxout_fit(
        f"maxout{p.maxout_units}-{adversary}",
        p,
        seed,
        data,
        data_spec=_mnist_sizes(p),
        units=p.maxout_units,
        top="softmax",
        epochs=epochs,
        adversarial=True,
        perturbation="fgsm",
        eps=eps,
        alpha=PAPER_ALPHA,
        coef=0.0,
        patience=p.patience,
        monitor="val_error",
        **variant,
    )


# ---- §9 alternative hypotheses: a generatively trained classifier

__all__ += ["class_rbm"]

#: Contrastive-divergence settings of :func:`class_rbm` (CD-1; the paper's MP-DBM has none).
RBM_LR = 0.05
RBM_MOMENTUM = 0.5
RBM_CD_STEPS = 1
#: Bump when :func:`advkeras.generative.fit_class_rbm` changes what it computes.
GENERATIVE_VERSION = 1


def class_rbm(profile: Profile | str | None = None, seed: int = 0) -> keras.Model:
    """A classification RBM of MNIST pixels and labels, trained generatively (§9, stand-in for C27).

    :func:`advkeras.generative.class_rbm` with ``profile.generative_hidden``
    hidden units, trained by :func:`advkeras.generative.fit_class_rbm` (CD-1,
    learning rate .05, momentum .5, batches of ``profile.batch_size``) on
    log p(x, y) for ``profile.epochs_generative`` epochs on the training
    split; the validation error is recorded, not used to stop. It classifies
    with its exact posterior p(y | x) (output kind ``"logits"``).

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0 (initial weights, minibatch order, Gibbs samples).

    Returns:
        The trained model with ``advkeras_history`` (``loss``: reconstruction
        error; ``val_error``; ``seconds``) and ``advkeras_cache_hit``.
    """
    from advkeras import generative

    p, seed = _profile(profile), _seed(seed)
    hidden = check_positive_int(p.generative_hidden, "profile.generative_hidden")
    epochs = check_positive_int(p.epochs_generative, "profile.epochs_generative")
    name = f"class_rbm{hidden}"
    keras.utils.set_random_seed(seed)
    model = generative.class_rbm(hidden=hidden, seed=seed)
    fit = {
        "epochs": epochs,
        "batch_size": p.batch_size,
        "learning_rate": RBM_LR,
        "momentum": RBM_MOMENTUM,
        "cd_steps": RBM_CD_STEPS,
        "seed": seed,
        "init_visible_bias": True,
    }
    spec = {
        "name": name,
        "recipe": "class_rbm",
        "generative_version": GENERATIVE_VERSION,
        "profile": p.name,
        "seed": seed,
        "data": _mnist_sizes(p),
        "model": keras_config(model),
        "fit": fit,
    }
    if _SPEC_ONLY.get():
        raise _Spec(spec)

    def build_and_train() -> keras.Model:
        s = mnist(p)
        started = time.perf_counter()
        with _quiet_tensorflow():
            generative.fit_class_rbm(
                model, s.x_train, s.y_train, validation_data=(s.x_val, s.y_val), **fit
            )
        print(summary_line(name, model.advkeras_history, time.perf_counter() - started))
        return model

    return cached_model(spec, build_and_train)


# ---- Appendix A: rubbish-class examples (C30, C36)

#: The rubbish network's training set: Gaussian samples per training digit, and the
#: offset of the seed that draws them (the chapter's evaluation samples use other seeds).
RUBBISH_FRACTION = 0.1
RUBBISH_SEED_OFFSET = 1000

__all__ += ["maxout_rubbish", "maxout_sigmoid"]


def maxout_sigmoid(
    profile: Profile | str | None = None, seed: int = 0, *, epochs: int | None = None
) -> keras.Model:
    """The maxout network with independent sigmoid outputs (Appendix A, C30), short budget.

    :func:`maxout` with ``top="sigmoid"``: ten sigmoid units instead of the
    softmax, trained on the sum of the ten binary cross-entropies against the
    one-hot label (output kind ``"independent"``, :mod:`advkeras.losses`), for
    ``epochs`` (default ``profile.epochs_variant``, 10 under ``book``: the
    naive network's long schedule is beyond the book's budget for a variant).

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0.
        epochs: the epoch budget; ``None``: ``profile.epochs_variant``.

    Returns:
        The trained classifier with ``advkeras_history``.
    """
    p = _profile(profile)
    epochs = check_positive_int(p.epochs_variant if epochs is None else epochs, "epochs")
    return maxout(p, seed, top="sigmoid", epochs=epochs)


def maxout_rubbish(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    epochs: int | None = None,
    fraction: float = RUBBISH_FRACTION,
) -> keras.Model:
    """A maxout network trained against Gaussian rubbish with an 11th class (Appendix A, C36).

    :func:`advkeras.models.maxout_mlp` with 11 softmax outputs, trained with the
    pylearn2 recipe of :func:`maxout` (clean, ``epochs``, default
    ``profile.epochs_variant``) on the training digits plus
    ``round(fraction × N)`` samples of N(0, I) labelled 10
    (:func:`advkeras.rubbish.with_rubbish_class`, drawn once with seed
    ``seed + RUBBISH_SEED_OFFSET``). Early stopping, if the profile has
    patience, watches the validation digits only. Score it on rubbish with
    :func:`advkeras.rubbish.known_classes` (the ten digit outputs).

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0 (initialization, dropout, minibatch order, rubbish draw).
        epochs: the epoch budget; ``None``: ``profile.epochs_variant``.
        fraction: rubbish samples per training digit, in (0, 1].

    Returns:
        The trained 11-class classifier with ``advkeras_history``.
    """
    from advkeras import rubbish

    p, seed = _profile(profile), _seed(seed)
    epochs = check_positive_int(p.epochs_variant if epochs is None else epochs, "epochs")
    fraction = check_fraction(fraction, "fraction")
    if fraction == 0:
        raise invalid("fraction", "a number in (0, 1]", fraction)
    units = p.maxout_units
    rubbish_seed = seed + RUBBISH_SEED_OFFSET

    def build() -> keras.Model:
        return models.maxout_mlp(units, p.maxout_pieces, classes=11, seed=seed)

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        s = mnist(p)
        n = max(1, round(fraction * len(s.x_train)))
        x, y = rubbish.with_rubbish_class(s.x_train, s.y_train, n, label=10, seed=rubbish_seed)
        return x, y, (s.x_val, s.y_val)

    return _train(
        "maxout_rubbish",
        f"maxout{units}-rubbish",
        p,
        seed,
        build,
        data,
        data_spec={
            **_mnist_sizes(p),
            "rubbish": {
                "distribution": "N(0, I)",
                "fraction": fraction,
                "label": 10,
                "seed": rubbish_seed,
            },
        },
        optimizer=pylearn2.paper_sgd(),
        callbacks=(pylearn2.MomentumSchedule(),),
        epochs=epochs,
        batch_size=p.batch_size,
        eps=0.0,
        patience=p.patience,
    )


# ---- chapter 12

#: Chapter 12's fast FGSM trainings: their ε (below Madry et al.'s and Wong et al.'s MNIST
#: .3, at which the 240-unit maxout network's PGD error stayed near 100 % for 10 epochs in
#: trial runs), the PGD steps of the monitor that records the PGD validation error after
#: every epoch, and Adam's learning rate.
FAST_EPS = 0.2
FAST_MONITOR_STEPS = 10
FAST_LR = 1e-3


def fast_fgsm(
    profile: Profile | str | None = None,
    seed: int = 0,
    *,
    random_start: bool = False,
    step: float = 1.0,
    eps: float = FAST_EPS,
    alpha: float = PAPER_ALPHA,
    epochs: int | None = None,
) -> keras.Model:
    """The maxout network trained on FGSM examples from x or from a random start (Wong et al. 2020).

    The maxout network of :func:`maxout`, trained with Adam (learning rate
    ``FAST_LR``; in a trial run at ε = .3 the pylearn2 SGD recipe left it
    near chance level for 6 epochs on 10,000 digits) for ``epochs`` (default
    ``profile.epochs_fast``, no early stopping) on the first ``profile.fast_train``
    training digits, on α·J(x) + (1 − α)·J(x̃) with
    x̃ the FGSM step of size ``step``·ε from x (``random_start=False``, the
    paper's step when ``step=1``) or from x + U(−ε, ε) (Wong, Rice & Kolter's
    "FGSM with random initialization"), projected on the ε-ball and clipped
    to [0, 1]. α defaults to the paper's .5 (Wong et al. train on the
    adversarial term alone; with α = 0 at ε = .3 the maxout network did not
    leave chance level in 6 epochs of the SGD recipe). After every epoch a :class:`~advkeras.attacks.PGDMonitor` attacks
    the first ``profile.pgd_examples`` validation digits with PGD
    (``FAST_MONITOR_STEPS`` steps, random start), recorded as
    ``advkeras_history["val_pgd_error"]`` beside the FGSM validation error
    ``val_adv_error``: catastrophic overfitting is the second falling while the
    first rises.

    Args:
        profile: a profile, a name, or ``None`` for ``$ADVKERAS_PROFILE``.
        seed: integer >= 0.
        random_start: start the FGSM step from a random point of the ε-ball.
        step: the step size as a multiple of ε (> 0; Wong et al.: 1.25).
        eps: ε of training and of the monitors.
        alpha: α of J̃, in [0, 1].
        epochs: the epoch budget; ``None``: ``profile.epochs_fast``.

    Returns:
        The trained base classifier with ``advkeras_history``.

    Example:

    >>> spec = recipe_spec("fast_fgsm", "smoke", random_start=True, step=1.25)
    >>> spec["name"], spec["fit"]["random_start"], spec["fit"]["step_size"]
    ('maxout32-fast-rs-a1.25', True, 0.25)
    """
    from advkeras.attacks import PGDMonitor

    p, seed = _profile(profile), _seed(seed)
    random_start = _bool(random_start, "random_start")
    step = check_positive_float(step, "step")
    eps = check_eps(eps)
    alpha = check_fraction(alpha, "alpha")
    epochs = check_positive_int(p.epochs_fast if epochs is None else epochs, "epochs")
    units = p.maxout_units
    name = f"maxout{units}-fast-{'rs' if random_start else 'zero'}-a{step:g}"
    if eps != FAST_EPS:
        name += f"-eps{eps:g}"
    if alpha != PAPER_ALPHA:
        name += f"-alpha{alpha:g}"
    s = mnist(p)
    n_train = min(p.fast_train, len(s.x_train))
    n = min(p.pgd_examples, len(s.x_val))
    monitor = PGDMonitor(
        s.x_val[:n], s.y_val[:n], eps=eps, steps=FAST_MONITOR_STEPS, seed=seed, clip=(0.0, 1.0)
    )

    def build() -> keras.Model:
        return models.maxout_mlp(units, p.maxout_pieces, seed=seed)

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        return s.x_train[:n_train], s.y_train[:n_train], (s.x_val, s.y_val)

    return _train(
        "fast_fgsm",
        name,
        p,
        seed,
        build,
        data,
        data_spec={**_mnist_sizes(p), "train_subset": n_train, "monitor_val": n},
        optimizer=keras.optimizers.Adam(FAST_LR),
        callbacks=(monitor,),
        epochs=epochs,
        batch_size=p.batch_size,
        adversarial=True,
        perturbation="fgsm",
        eps=eps,
        alpha=alpha,
        clip=(0.0, 1.0),
        random_start=random_start,
        step_size=None if step == 1.0 else step * eps,
        patience=None,
    )


#: Chapter 12's "features, not bugs" experiment: targeted PGD steps on the naive network.
RELABEL_STEPS = 20


def relabelled_digits(
    profile: Profile | str | None = None, *, eps: float = MNIST_EPS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Ilyas et al. (2019)'s deterministic relabelling, on MNIST: digits pushed toward y + 1.

    The first ``profile.fast_train`` training digits, each moved by targeted
    PGD (``RELABEL_STEPS`` steps, L∞ radius ``eps``, random start from
    ``seed``) on the naive network :func:`maxout` toward the class
    t = (y + 1) mod 10, and labelled t. To a person they still show y.

    Returns:
        ``(x_relabelled, t)``.
    """
    from advkeras import attacks

    p = _profile(profile)
    eps = check_eps(eps)
    s = mnist(p)
    n = min(p.fast_train, len(s.x_train))
    x, y = s.x_train[:n], s.y_train[:n]
    target = (y + 1) % 10
    naive = maxout(p)
    moved = attacks.pgd(naive, x, target, eps=eps, steps=RELABEL_STEPS, targeted=True, seed=seed)
    return moved, target


def non_robust_relabelled(
    profile: Profile | str | None = None, seed: int = 0, *, eps: float = MNIST_EPS
) -> keras.Model:
    """A maxout network trained only on :func:`relabelled_digits`: "features, not bugs" (§ ch. 12).

    Trained cleanly with the pylearn2 recipe of :func:`maxout` for
    ``profile.epochs_fast`` epochs on the relabelled digits, validated on the
    clean validation split with its true labels. If the perturbations carry
    features of the target class that generalise, the network classifies
    *clean* test digits correctly although every training label is "wrong".
    The key names the naive network's key, ``eps``, the steps and the seed (the
    digits are computed only when training).

    Example:

    >>> spec = recipe_spec("non_robust_relabelled", "smoke")
    >>> spec["name"], spec["data"]["steps"]
    ('maxout32-relabelled-eps0.25', 20)
    """
    from advkeras.book.cache import cache_key

    p, seed = _profile(profile), _seed(seed)
    eps = check_eps(eps)
    token = _SPEC_ONLY.set(True)
    try:
        maxout(p)
    except _Spec as found:
        source = cache_key(found.spec)
    finally:
        _SPEC_ONLY.reset(token)
    units = p.maxout_units

    def build() -> keras.Model:
        return models.maxout_mlp(units, p.maxout_pieces, seed=seed)

    def data() -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        moved, target = relabelled_digits(p, eps=eps, seed=seed)
        s = mnist(p)
        return moved, target, (s.x_val, s.y_val)

    return _train(
        "non_robust_relabelled",
        f"maxout{units}-relabelled-eps{eps:g}",
        p,
        seed,
        build,
        data,
        data_spec={
            **_mnist_sizes(p),
            "train_subset": min(p.fast_train, p.mnist_train or 50_000),
            "relabelled_by": source,
            "eps": eps,
            "steps": RELABEL_STEPS,
            "targets": "(y + 1) mod 10",
        },
        optimizer=pylearn2.paper_sgd(),
        callbacks=(pylearn2.MomentumSchedule(),),
        epochs=p.epochs_fast,
        batch_size=p.batch_size,
        eps=0.0,
        patience=None,
    )
