"""Shared test set-up: quiet TensorFlow logs and seed every random generator per test."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed Python, NumPy and Keras so that every test starts from the same state."""
    import keras

    keras.utils.set_random_seed(0)
