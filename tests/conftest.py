"""Shared test set-up: quiet TensorFlow logs, Hypothesis profiles, and a seed per test.

Hypothesis profiles (``HYPOTHESIS_PROFILE`` picks one; else ``ci`` when ``CI`` is set, else
``dev``):

``ci``
    Derandomized: the examples are a function of the test alone, so a landing never depends
    on what was drawn. No example database is written; a failure prints its reproduction blob.
``dev``
    Random exploration, as Hypothesis does by default, and the reproduction blob on failure.
    A failure found this way is fixed and then pinned with ``@example``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed Python, NumPy and Keras so that every test starts from the same state."""
    import keras

    keras.utils.set_random_seed(0)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace the book's model cache by a recorder of specs: the recipes' cache keys, without
    training (each call of ``experiments.cached_model`` appends its spec and returns an empty
    model)."""
    import keras

    from advkeras.book import experiments

    specs: list[dict] = []

    def fake_cached_model(spec: dict, build_and_train: object, **_: object) -> keras.Model:
        specs.append(spec)
        return keras.Model()

    monkeypatch.setattr(experiments, "cached_model", fake_cached_model)
    return specs
