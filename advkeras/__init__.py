"""advkeras: FGSM, adversarial ``fit()``, Maxout and RBF layers for Keras 3.

The companion package of an executable book on Goodfellow, Shlens & Szegedy,
*Explaining and Harnessing Adversarial Examples* (ICLR 2015). Each idea of the
paper lives in the module named after it:

- :mod:`advkeras.attacks`: the fast gradient sign method and the paper's other perturbations;
- :mod:`advkeras.training`: adversarial training as a Keras ``fit()`` loop;
- :mod:`advkeras.pylearn2`: the original maxout network's optimiser, momentum ramp and early stopping;
- :mod:`advkeras.masks`: dropout masks drawn before an XLA-compiled training step;
- :mod:`advkeras.pipeline`: in-memory arrays as a ``tf.data`` pipeline without autotuning threads;
- :mod:`advkeras.fitting`: ``fit_classifier``, the one call that trains as the paper does;
- :mod:`advkeras.layers`: ``Maxout``, ``MaxoutConv2D``, ``RBF``;
- :mod:`advkeras.models`: the paper's architectures;
- :mod:`advkeras.datasets`: MNIST (offline, checksum-verified) and CIFAR-10;
- :mod:`advkeras.evaluation`: error, confidence, transfer, ensembles;
- :mod:`advkeras.losses`: the cost J that attacks differentiate;
- :mod:`advkeras.plotting`: the paper's figures;
- :mod:`advkeras.environment`: the environment variables advkeras reads.

What only the book needs (run profiles, cached training recipes, the model
cache, the paper-vs-book tables) lives apart, in :mod:`advkeras.book`.

The public names below load their module on first use, so ``import advkeras``
is quick and TensorFlow starts only when it is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBMODULES = (
    "attacks",
    "datasets",
    "environment",
    "evaluation",
    "fitting",
    "layers",
    "losses",
    "masks",
    "models",
    "pipeline",
    "plotting",
    "pylearn2",
    "training",
)

_NAMES = {
    "fgsm": "attacks",
    "fgsm_sweep": "attacks",
    "pgd": "attacks",
    "AdversarialModel": "training",
    "load_mnist": "datasets",
    "load_cifar10": "datasets",
}

__all__ = ["__version__", *_SUBMODULES, *_NAMES]

if TYPE_CHECKING:  # pragma: no cover
    from advkeras import (  # noqa: F401
        attacks,
        datasets,
        environment,
        evaluation,
        fitting,
        layers,
        losses,
        masks,
        models,
        pipeline,
        plotting,
        pylearn2,
        training,
    )
    from advkeras.attacks import fgsm, fgsm_sweep, pgd  # noqa: F401
    from advkeras.datasets import load_cifar10, load_mnist  # noqa: F401
    from advkeras.training import AdversarialModel  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"advkeras.{name}")
    if name in _NAMES:
        module = importlib.import_module(f"advkeras.{_NAMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'advkeras' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
