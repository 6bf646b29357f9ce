"""Run profiles: one object gives every chapter its budget.

``ADVKERAS_PROFILE`` selects one of:

``smoke``
    CI: tiny subsets and epochs, each chapter well under 90 s on 2 CPU cores.
    Numbers are meaningless; the code path is the same.
``book``
    What the rendered book shows: the paper's models at reduced scale, sized so
    that the whole book runs on 2 CPU cores in about two hours.
``paper``
    The paper's exact settings (1600-unit maxout, early stopping with patience
    100, 5 seeds, 12-member ensemble, full CIFAR-10 training): for a GPU.

Example:

>>> from advkeras.book.profiles import get_profile
>>> get_profile("smoke").maxout_units
32
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from advkeras import environment
from advkeras._validation import check_choice

PROFILE_NAMES: tuple[str, ...] = ("smoke", "book", "paper")
DEFAULT_PROFILE = "book"


@dataclass(frozen=True)
class Profile:
    """Budgets for one run profile. ``None`` for a data size means "all of it"."""

    name: str
    # MNIST sizes (the paper: 50k train / 10k validation / 10k test).
    mnist_train: int | None
    mnist_val: int | None
    mnist_test: int | None
    batch_size: int
    # Epochs per model family.
    epochs_linear: int
    # The naive and the adversarially trained maxout networks that the chapters stand on
    # (the networks shipped in networks/ under ``book``).
    epochs_maxout: int
    epochs_adversarial: int
    # Every other maxout network (controls and variants: halves, L1, noise, seeds, ensemble).
    epochs_variant: int
    epochs_rbf: int
    # Early stopping patience in epochs on the (adversarial) validation error; None: fixed epochs.
    patience: int | None
    # Maxout widths: the original 240-unit network and the paper's large one.
    maxout_units: int
    maxout_units_large: int
    maxout_pieces: int
    # Seeds: repeated runs (the paper's 5) and the ensemble (the paper's 12).
    seeds: tuple[int, ...]
    ensemble_size: int
    # CIFAR-10 (conv maxout): sizes, epochs and a width multiplier for the channels.
    cifar_train: int | None
    cifar_test: int | None
    epochs_cifar: int
    cifar_width: float
    # Attack-specific budgets.
    lbfgs_examples: int
    rubbish_samples: int
    sweep_points: int
    extra: dict[str, int | float] = field(default_factory=dict)
    # §9: the ensemble members' epoch budget (None: the long schedule of maxout(), early
    # stopping included), and the generatively trained classifier (a classification RBM):
    # hidden units and epochs of contrastive divergence.
    ensemble_epochs: int | None = None
    generative_hidden: int = 500
    epochs_generative: int = 20
    # Chapter 12: test digits attacked with PGD, PGD steps, epochs and training digits of the
    # fast FGSM trainings.
    pgd_examples: int = 1000
    pgd_steps: int = 40
    epochs_fast: int = 10
    fast_train: int = 10_000
    # Train the maxout networks with XLA (``fit_classifier(jit_compile=True)``, the dropout
    # masks drawn outside it); False: TensorFlow's graph runtime. A key names it only when True.
    jit_compile: bool = False

    def describe(self) -> str:
        """One line that a chapter prints so the reader knows which profile ran."""

        def size(n: int | None) -> str:
            return "all" if n is None else f"{n:,}"

        return (
            f"advkeras profile '{self.name}': MNIST train {size(self.mnist_train)}, "
            f"val {size(self.mnist_val)}, test {size(self.mnist_test)}; "
            f"maxout {self.maxout_units}x{self.maxout_pieces} for {self.epochs_maxout} epochs "
            f"(adversarial {self.epochs_adversarial}, variants {self.epochs_variant})"
            + ("" if self.patience is None else f", patience {self.patience}")
            + f"; seeds {list(self.seeds)}"
        )

    def replace(self, **changes: object) -> Profile:
        """A copy with some budgets changed (e.g. to try a bigger run by hand)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, object]:
        """Plain-JSON form, used in cache keys and results files."""
        return dataclasses.asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        mnist_train=2000,
        mnist_val=500,
        mnist_test=500,
        batch_size=100,
        epochs_linear=2,
        epochs_maxout=1,
        epochs_adversarial=1,
        epochs_variant=1,
        epochs_rbf=2,
        patience=None,
        maxout_units=32,
        maxout_units_large=48,
        maxout_pieces=5,
        seeds=(0, 1),
        ensemble_size=2,
        cifar_train=200,
        cifar_test=100,
        epochs_cifar=1,
        cifar_width=0.125,
        lbfgs_examples=3,
        rubbish_samples=500,
        sweep_points=5,
        ensemble_epochs=None,
        generative_hidden=32,
        epochs_generative=1,
        pgd_examples=100,
        pgd_steps=5,
        epochs_fast=1,
        fast_train=1000,
    ),
    "book": Profile(
        name="book",
        mnist_train=None,
        mnist_val=None,
        mnist_test=None,
        batch_size=100,
        epochs_linear=20,
        epochs_maxout=300,
        epochs_adversarial=300,
        epochs_variant=10,
        epochs_rbf=30,
        patience=100,
        maxout_units=240,
        maxout_units_large=240,
        maxout_pieces=5,
        seeds=(0, 1, 2),
        ensemble_size=5,
        cifar_train=10_000,
        cifar_test=None,
        epochs_cifar=5,
        cifar_width=0.25,
        lbfgs_examples=20,
        rubbish_samples=10_000,
        sweep_points=11,
        ensemble_epochs=10,
        generative_hidden=500,
        epochs_generative=20,
        jit_compile=True,
    ),
    "paper": Profile(
        name="paper",
        mnist_train=None,
        mnist_val=None,
        mnist_test=None,
        batch_size=100,
        epochs_linear=100,
        epochs_maxout=1000,
        epochs_adversarial=1000,
        epochs_variant=1000,
        epochs_rbf=200,
        patience=100,
        maxout_units=240,
        maxout_units_large=1600,
        maxout_pieces=5,
        seeds=(0, 1, 2, 3, 4),
        ensemble_size=12,
        cifar_train=None,
        cifar_test=None,
        epochs_cifar=785,
        cifar_width=1.0,
        lbfgs_examples=1000,
        rubbish_samples=10_000,
        sweep_points=21,
        ensemble_epochs=None,
        generative_hidden=500,
        epochs_generative=20,
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile ``name``, else ``$ADVKERAS_PROFILE``, else ``"book"``."""
    if name is None:
        name = os.environ.get(environment.PROFILE, "").strip() or DEFAULT_PROFILE
        argument = environment.PROFILE
    else:
        argument = "name"
    check_choice(name, PROFILE_NAMES, argument)
    return PROFILES[name]
