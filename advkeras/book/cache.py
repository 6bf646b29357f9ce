"""A cache of trained models, so that a later chapter reuses an earlier chapter's network.

A model is stored under a key: a hash of a JSON description (the *spec*) of
everything that determines it. :mod:`advkeras.book.experiments` derives the spec
from what actually trains: the built model's and optimizer's Keras configs
(:func:`keras_config`), the callbacks, the ``fit`` arguments, the data, the
seed and :data:`advkeras.training.TRAINING_VERSION`. Change any of them and
the model is trained again; keep them and it is loaded in a second.

Each entry is a folder ``<cache>/<name>-<key>/`` holding ``model.keras`` and
``record.json`` (the model file's SHA-256, the spec and the training history).
The folder is written under a temporary name and renamed in one step
(``advkeras._files.atomic_path``), so a reader never sees a model without
its record, and of two processes that train the same entry at once, the first
to finish keeps its folder. Before a model is loaded its SHA-256 is checked: an
entry that is truncated, corrupt or without a valid record is reported in one
line, deleted and trained again, never loaded.

The cache folder is ``$ADVKERAS_CACHE_DIR``, else ``~/.cache/advkeras/models``.

Example:

>>> import keras
>>> from advkeras.book import cache
>>> def train():
...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
...     return model
>>> model = cache.cached_model({"name": "doc-example", "seed": 0}, train)  # doctest: +SKIP
Training doc-example (not in the cache) ...
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from advkeras import environment
from advkeras._files import atomic_path, remove, sha256_file, temporary_path
from advkeras._validation import invalid

MODEL_FILE = "model.keras"
RECORD_FILE = "record.json"

_JSON = "JSON data (mappings with string keys, lists, strings, numbers, booleans, None)"


def cache_dir() -> Path:
    """The folder that holds cached models (created on demand)."""
    root = os.environ.get(environment.CACHE_DIR) or os.path.join(
        Path.home(), ".cache", "advkeras", "models"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- keys


def _plain(value: Any, where: str) -> Any:
    """``value`` as plain JSON types (tuples → lists, NumPy scalars → Python); else ValueError."""
    if value is None or isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, np.generic):
        return _plain(value.item(), where)
    if isinstance(value, np.ndarray):
        return _plain(value.tolist(), where)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise invalid(where, f"{_JSON}; found the key {k!r}", value)
            out[k] = _plain(v, where)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    raise invalid(where, f"{_JSON}; found {type(value).__name__!r}", value)


def canonical_json(spec: Mapping[str, Any]) -> str:
    """The one JSON text of ``spec``: sorted keys, no spaces, floats by ``repr``.

    Tuples become lists and NumPy scalars Python numbers; anything else that is
    not JSON data raises ``ValueError`` (``str()`` of an object could hold a
    memory address, or hide a difference between two objects).

    Example:

    >>> canonical_json({"b": (1, 2.5), "a": None})
    '{"a":null,"b":[1,2.5]}'
    """
    if not isinstance(spec, Mapping):
        raise invalid("spec", f"a mapping of {_JSON}", spec)
    return json.dumps(_plain(spec, "spec"), sort_keys=True, separators=(",", ":"))


def cache_key(spec: Mapping[str, Any]) -> str:
    """16 hex digits of the SHA-256 of :func:`canonical_json` of ``spec``.

    Example:

    >>> cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1})
    True
    """
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()[:16]


def _snake(class_name: str) -> str:
    """Keras' default name of an object of class ``class_name`` (``PaperSGD`` → ``paper_sgd``)."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _auto_names(node: Any, found: dict[str, str]) -> None:
    """Map every name Keras generated (``dense_3``, ``sgd_1``...) to ``dense#0``, ``sgd#0``...

    Names are numbered per class in order of appearance, so the same
    architecture gets the same names however many objects the process made before.
    """
    if isinstance(node, dict):
        cls, config = node.get("class_name"), node.get("config")
        if (
            isinstance(cls, str)
            and isinstance(config, dict)
            and isinstance(config.get("name"), str)
        ):
            base, name = _snake(cls), config["name"]
            if name not in found and re.fullmatch(re.escape(base) + r"(_\d+)?", name):
                found[name] = f"{base}#{sum(v.startswith(base + '#') for v in found.values())}"
        for key in sorted(node):
            _auto_names(node[key], found)
    elif isinstance(node, list):
        for item in node:
            _auto_names(item, found)


def _normalise(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        drop = "module" if "class_name" in node else None  # where a class lives is not what it does
        return {k: _normalise(v, names) for k, v in node.items() if k != drop}
    if isinstance(node, list):
        return [_normalise(v, names) for v in node]
    if isinstance(node, str):
        return names.get(node, node)
    return node


def keras_config(obj: Any) -> dict[str, Any]:
    """The JSON-normalised Keras config of a model, optimizer, schedule or callback, for a cache key.

    ``keras.saving.serialize_keras_object(obj)``: class names, every layer's
    config (sizes, activations, initializers with their seeds, dropout rates
    and seeds, constraints, dtype policies), the wiring of the layers; for an
    optimizer its hyper-parameters and learning-rate schedule. Two things are
    normalised because they do not change what trains: names that Keras
    numbers by itself (``dense_3``, ``sgd_1``: they depend on how many objects
    the process made before) become ``dense#0``, ``sgd#0``... in order of
    appearance, and the ``module`` a class lives in is dropped (a refactor that
    moves a class keeps the key). Explicit names such as ``"h0"`` are kept.

    Args:
        obj: anything Keras can serialise (it has a ``get_config()``).

    Returns:
        A dict of plain JSON data.

    Example:

    >>> a = keras.optimizers.SGD(0.1)
    >>> b = keras.optimizers.SGD(0.1)
    >>> a.name == b.name, keras_config(a) == keras_config(b)
    (False, True)
    >>> keras_config(a)["config"]["name"]
    'sgd#0'
    """
    try:
        config = keras.saving.serialize_keras_object(obj)
    except (TypeError, ValueError, NotImplementedError) as err:
        raise invalid(
            "obj", f"a Keras object with a get_config() ({err})", type(obj).__name__
        ) from None
    config = _plain(config, "obj")
    names: dict[str, str] = {}
    _auto_names(config, names)
    return _normalise(config, names)


# --------------------------------------------------------------------------- entries


def cache_path(spec: Mapping[str, Any]) -> Path:
    """Where the model described by ``spec`` is (or would be) stored.

    ``<cache>/<name>-<key>/model.keras``, with ``record.json`` beside it; the
    name is ``spec["name"]`` (default ``"model"``) and the key :func:`cache_key`.
    """
    key = cache_key(spec)
    name = str(spec.get("name", "model")).replace(os.sep, "_").replace(" ", "_").lstrip(".")
    return cache_dir() / f"{name or 'model'}-{key}" / MODEL_FILE


def _problem(entry: Path, spec: Mapping[str, Any]) -> str | None:
    """Why the cache folder ``entry`` must not be loaded, or None if it is valid for ``spec``."""
    try:
        record = json.loads((entry / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return f"no readable {RECORD_FILE}"
    digest = record.get("sha256") if isinstance(record, dict) else None
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        return f"no SHA-256 in {RECORD_FILE}"
    try:
        actual = sha256_file(entry / MODEL_FILE)
    except OSError:
        return f"no readable {MODEL_FILE}"
    if actual != digest:
        return f"{MODEL_FILE} fails its SHA-256 check (truncated or corrupt)"
    try:
        same = canonical_json(record.get("spec", {})) == canonical_json(spec)
    except ValueError:
        same = False
    return None if same else f"{RECORD_FILE} describes another spec"


def _discard(entry: Path) -> None:
    """Remove a cache folder: renamed away first, so no reader meets it half-deleted."""
    trash = temporary_path(entry)
    try:
        os.replace(entry, trash)
    except FileNotFoundError:
        return  # another process removed it already
    remove(trash)


def write_record(
    folder: Path, spec: Mapping[str, Any], history: Any, **extra: Any
) -> dict[str, Any]:
    """Write the ``record.json`` of the ``model.keras`` in ``folder`` (a cache entry being built).

    The record holds the model file's SHA-256, the key, ``spec``, the training
    ``history`` and any ``extra`` fields (e.g. where a shipped network came from).
    """
    record = {
        "sha256": sha256_file(folder / MODEL_FILE),
        "key": cache_key(spec),
        "spec": _plain(spec, "spec"),
        "history": history,
        **extra,
    }
    (folder / RECORD_FILE).write_text(json.dumps(record, sort_keys=True, indent=1))
    return record


def _store(entry: Path, model: keras.Model, spec: Mapping[str, Any], history: Any) -> None:
    """Write ``model.keras`` and its ``record.json`` into a temporary folder renamed to ``entry``."""
    try:
        with atomic_path(entry) as tmp:
            tmp.mkdir()
            model.save(tmp / MODEL_FILE)
            write_record(tmp, spec, history)
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY) and _problem(entry, spec) is None:
            return  # another process stored the same entry first; its copy is kept
        raise


def cached_model(
    spec: Mapping[str, Any],
    build_and_train: Callable[[], keras.Model],
    *,
    verbose: bool = True,
    retrain: bool = False,
    install: Callable[[Mapping[str, Any], Path], bool] | None = None,
) -> keras.Model:
    """Load the model described by ``spec`` from the cache, or train and store it.

    A cached model is loaded only if its file matches the SHA-256 in its
    record and the record's spec is ``spec``; otherwise the entry is reported
    in one line (whatever ``verbose`` says), deleted, and the model trained again.

    Args:
        spec: JSON data describing everything that determines the model
            (architecture, training settings, data, seed...); see
            :func:`keras_config` for Keras objects. Include a ``"name"``; it
            starts the folder name.
        build_and_train: called with no argument when the cache has no valid
            such model; returns the trained model (for an adversarially trained
            model, return the base classifier, not the wrapper).
        verbose: print whether the model was loaded or trained.
        retrain: ignore a cached entry and train again.
        install: called as ``install(spec, entry_folder)`` before training
            (not with ``retrain``): it may fill the missing entry from
            elsewhere (:func:`advkeras.book.networks.install`, the shipped
            networks) and return ``True``; the entry is then verified like any
            other and loaded.

    Returns:
        The trained model. Its ``advkeras_cache_hit`` attribute says whether it
        came from the cache, and ``advkeras_history`` holds the per-epoch
        metrics of the ``fit()`` that trained it (kept in the record), so
        learning curves can be drawn from a cached model too.

    Raises:
        ValueError: ``spec`` is not a mapping of JSON data, or
            ``build_and_train`` returned something other than a ``keras.Model``.
    """
    if not isinstance(spec, Mapping):
        raise invalid("spec", f"a mapping of {_JSON}", spec)
    path = cache_path(spec)
    entry, label = path.parent, spec.get("name", "model")
    if os.path.lexists(entry) and not retrain:
        problem = _problem(entry, spec)
        if problem is None:
            return _load(entry, label, verbose)
        print(f"Cached {label} in {entry}: {problem}; deleted, training again.")
        _discard(entry)
    if install is not None and not retrain and install(spec, entry):
        if _problem(entry, spec) is None:
            return _load(entry, label, verbose)
        _discard(entry)
    if verbose:
        print(f"Training {label} (not in the cache) ...")
    model = build_and_train()
    if not isinstance(model, keras.Model):
        raise ValueError(
            "Received an invalid value from `build_and_train`. Expected a keras.Model. "
            f"Received: {type(model).__name__}"
        )
    if retrain:
        _discard(entry)
    history = _history_of(model)
    _store(entry, model, spec, history)
    model.advkeras_cache_hit = False
    model.advkeras_history = history
    return model


def _load(entry: Path, label: Any, verbose: bool) -> keras.Model:
    """Load a verified cache entry, with its history and ``advkeras_cache_hit``."""
    model = keras.saving.load_model(entry / MODEL_FILE)
    history = json.loads((entry / RECORD_FILE).read_text()).get("history", {})
    if verbose:
        print(f"Loaded {label} from the cache: {entry.name}")
    model.advkeras_cache_hit = True
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
