"""A cache of trained models, so that a later chapter reuses an earlier chapter's network.

A model is stored as a ``.keras`` file whose name is a hash of everything that
determines it: the architecture, the training settings, the profile and the
seed. Change any of them and the model is trained again; keep them and it is
loaded in a second. Files are written under a temporary name and renamed, so
an interrupted run never leaves a half-written model behind.

The folder is ``$ADVKERAS_CACHE_DIR``, else ``~/.cache/advkeras/models``.

Example:

>>> import keras, advkeras
>>> def train():
...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
...     return model
>>> model = advkeras.cache.cached_model({"name": "doc-example", "seed": 0}, train)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras

ENV_VAR = "ADVKERAS_CACHE_DIR"


def cache_dir() -> Path:
    """The folder that holds cached models (created on demand)."""
    root = os.environ.get(ENV_VAR) or os.path.join(Path.home(), ".cache", "advkeras", "models")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(spec: Mapping[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable description of a model and its training."""
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(spec: Mapping[str, Any]) -> Path:
    """Where the model described by ``spec`` is (or would be) stored."""
    name = str(spec.get("name", "model")).replace(os.sep, "_").replace(" ", "_")
    return cache_dir() / f"{name}-{cache_key(spec)}.keras"


def save_model_atomic(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".keras", dir=path.parent)
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cached model is an ordinary file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def cached_model(
    spec: Mapping[str, Any],
    build_and_train: Callable[[], keras.Model],
    *,
    verbose: bool = True,
    retrain: bool = False,
) -> keras.Model:
    """Load the model described by ``spec`` from the cache, or train and store it.

    Args:
        spec: JSON-serialisable description: architecture, training settings,
            profile name and seed. Include a ``"name"``; it starts the file name.
        build_and_train: called with no argument when the cache has no such
            model; returns the trained model (for an adversarially trained
            model, return the base classifier, not the wrapper).
        verbose: print whether the model was loaded or trained.
        retrain: ignore a cached file and train again.

    Returns:
        The trained model. Its ``advkeras_cache_hit`` attribute says whether it
        came from the cache, and ``advkeras_history`` holds the per-epoch
        metrics of the ``fit()`` that trained it (kept beside the file), so
        learning curves can be drawn from a cached model too.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(
            "Received an invalid value for argument `spec`. Expected a mapping "
            f"(JSON-serialisable). Received: spec={spec!r}"
        )
    path = cache_path(spec)
    meta = path.with_suffix(".json")
    if path.exists() and not retrain:
        model = keras.saving.load_model(path)
        hit = True
        history = json.loads(meta.read_text()).get("history", {}) if meta.exists() else {}
        if verbose:
            print(f"Loaded {spec.get('name', 'model')} from the cache: {path.name}")
    else:
        if verbose:
            print(f"Training {spec.get('name', 'model')} (not in the cache) ...")
        model = build_and_train()
        if not isinstance(model, keras.Model):
            raise ValueError(
                "Received an invalid value from `build_and_train`. Expected a keras.Model. "
                f"Received: {type(model).__name__}"
            )
        save_model_atomic(model, path)
        history = _history_of(model)
        tmp = meta.with_suffix(".json.tmp")
        record = {"spec": dict(spec), "history": history}
        tmp.write_text(json.dumps(record, sort_keys=True, indent=1, default=str))
        os.replace(tmp, meta)
        hit = False
    model.advkeras_cache_hit = hit
    model.advkeras_history = history
    return model


def _history_of(model: keras.Model) -> dict[str, list[float]]:
    """The per-epoch metrics that ``fit()`` left on the model (or that it was given)."""
    given = getattr(model, "advkeras_history", None)
    if isinstance(given, Mapping):
        return {k: [float(v) for v in vs] for k, vs in given.items()}
    callback = getattr(model, "history", None)
    history = getattr(callback, "history", None)
    if isinstance(history, Mapping):
        return {k: [float(v) for v in vs] for k, vs in history.items()}
    return {}
