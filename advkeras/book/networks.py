"""The book's long-trained networks, shipped with the repository so that nobody retrains them.

The naive and the adversarially trained 240-unit maxout networks train for up
to 300 epochs under the ``book`` profile, and the second stage of §6's protocol
on the latter (``experiments.maxout_retrained``) for the epochs early stopping
kept, on all 60,000 digits: together more than an hour on two CPU cores (the
manifest records each one's time). Their ``.keras`` files live in the
repository's ``networks/`` folder with a ``manifest.json`` that records, for
each file, its SHA-256, the model-cache key
and spec (:mod:`advkeras.book.cache`) of the recipe that trained it, the
advkeras version and git commit, the training time and the metrics measured
right after training.

Before :mod:`advkeras.book.experiments` trains a network that is not in the
local cache, :func:`install` looks for it here: a manifest entry with the very
key the recipe computes now. Its file is copied (or downloaded) into the cache,
its SHA-256 checked, and only then is it used; anything else (no entry, another
key, a wrong hash, no network) falls back to training. The source is
``$ADVKERAS_NETWORKS``: a folder or a URL (Colab reads the repository's raw
files at the pinned revision); by default the ``networks/`` folder beside the
package, when advkeras runs from a checkout; ``none`` turns the lookup off.

``scripts/ship_networks.py`` (``make networks``) retrains the shipped networks
and rewrites the files and the manifest; ``tests/test_networks.py`` checks
that each shipped file still has the key the code computes and the clean test
error its manifest records.

Example:

>>> from advkeras.book import networks
>>> networks.source() is None or isinstance(networks.source(), str)
True
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from advkeras import environment
from advkeras._files import atomic_path, atomic_write_text, sha256_file
from advkeras.book.cache import MODEL_FILE, cache_key, canonical_json, write_record

__all__ = [
    "MANIFEST",
    "default_folder",
    "entry_for",
    "install",
    "is_url",
    "open_file",
    "read_manifest",
    "ship",
    "source",
]

MANIFEST = "manifest.json"
#: The value of ``$ADVKERAS_NETWORKS`` that turns the lookup off.
OFF = "none"


def default_folder() -> Path:
    """``networks/`` at the root of the checkout this package runs from (it may not exist)."""
    return Path(__file__).resolve().parents[2] / "networks"


def source() -> str | None:
    """Where shipped networks are looked up: a folder or URL, or ``None`` for nowhere."""
    value = os.environ.get(environment.NETWORKS, "").strip()
    if value.lower() == OFF:
        return None
    if value:
        return value
    folder = default_folder()
    return str(folder) if (folder / MANIFEST).is_file() else None


def is_url(where: str) -> bool:
    """Whether ``where`` is an ``http(s)://`` or ``file://`` address rather than a folder."""
    return urllib.parse.urlparse(str(where)).scheme in ("http", "https", "file")


def open_file(where: str, name: str, *, timeout: float = 60.0) -> BinaryIO:
    """``where/name`` opened for reading, ``where`` being a folder or a URL (:func:`is_url`)."""
    if is_url(where):
        return urllib.request.urlopen(
            str(where).rstrip("/") + "/" + urllib.parse.quote(name), timeout=timeout
        )
    return open(Path(where) / name, "rb")  # noqa: SIM115 (the caller closes it)


def read_manifest(where: str | Path) -> dict[str, Any]:
    """The manifest of a folder or URL of shipped networks (``{"networks": [...]}``)."""
    where = str(where)
    with open_file(where, MANIFEST) as f:
        manifest = json.loads(f.read().decode())
    if not isinstance(manifest, dict) or not isinstance(manifest.get("networks"), list):
        raise ValueError(f"{where}/{MANIFEST} has no list 'networks'")
    return manifest


def entry_for(manifest: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The manifest entry of the network that ``spec`` describes, or ``None``."""
    key = cache_key(spec)
    for entry in manifest.get("networks", []):
        if isinstance(entry, dict) and entry.get("key") == key:
            try:
                same = canonical_json(entry.get("spec", {})) == canonical_json(spec)
            except ValueError:
                same = False
            if same:
                return entry
    return None


def install(spec: Mapping[str, Any], entry_dir: Path, *, verbose: bool = True) -> bool:
    """Put the shipped network that ``spec`` describes into the cache folder ``entry_dir``.

    Returns ``True`` if it is there afterwards (hash verified), ``False`` if
    there is no such shipped network or it could not be used (the reason is
    printed in one line); the caller then trains.
    """
    where = source()
    if where is None:
        return False
    label = spec.get("name", "model")
    try:
        entry = entry_for(read_manifest(where), spec)
    except (OSError, ValueError) as err:
        print(f"No shipped networks read from {where} ({err}); training {label}.")
        return False
    if entry is None:
        return False
    name, digest = entry.get("file"), entry.get("sha256")
    if not isinstance(name, str) or not isinstance(digest, str):
        return False
    if not re.fullmatch(r"[0-9a-f]{64}", digest) or "/" in name or name.startswith("."):
        return False
    try:
        with atomic_path(entry_dir) as tmp:
            tmp.mkdir()
            with open_file(where, name) as response, open(tmp / MODEL_FILE, "wb") as out:
                shutil.copyfileobj(response, out)
            shipped = {k: v for k, v in entry.items() if k not in ("spec", "history")}
            record = write_record(tmp, spec, entry.get("history", {}), shipped=shipped)
            if record["sha256"] != digest:
                raise ValueError(f"{name} fails its SHA-256 check (truncated or corrupt)")
    except (OSError, ValueError) as err:
        print(f"Shipped {label} from {where} not used ({err}); training it.")
        return False
    if verbose:
        print(f"Installed {label} from the shipped networks ({name}, SHA-256 verified).")
    return True


def ship(
    folder: str | Path,
    spec: Mapping[str, Any],
    model_file: str | Path,
    history: Mapping[str, Any],
    **info: Any,
) -> dict[str, Any]:
    """Add (or replace) one network in the shipped folder ``folder`` and its manifest.

    The file is copied as ``<name>-<key>.keras``; its manifest entry holds the
    SHA-256, the size, the key and ``spec``, the training ``history`` and
    whatever ``info`` adds (recipe and arguments, version, commit, training
    time, metrics). Both the file and the manifest are written atomically.
    Files of the folder that no entry names any more are removed.

    Returns:
        The manifest entry.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = cache_key(spec)
    name = f"{spec.get('name', 'model')}-{key}.keras"
    with atomic_path(folder / name) as tmp:
        shutil.copyfile(model_file, tmp)
    entry = {
        "name": spec.get("name", "model"),
        "file": name,
        "sha256": sha256_file(folder / name),
        "bytes": (folder / name).stat().st_size,
        "key": key,
        **info,
        "spec": json.loads(canonical_json(spec)),
        "history": dict(history),
    }
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError):
        manifest = {"networks": []}
    kept = [e for e in manifest["networks"] if e.get("name") != entry["name"]]
    manifest["networks"] = sorted([*kept, entry], key=lambda e: str(e.get("name")))
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    named = {e.get("file") for e in manifest["networks"]}
    for path in folder.glob("*.keras"):
        if path.name not in named:
            path.unlink()
    return entry
