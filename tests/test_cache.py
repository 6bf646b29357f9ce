"""Tests of the model cache's integrity and of the one atomic-write helper behind every file.

Faults: a truncated or corrupted model file, a missing or hash-less record,
two processes training the same entry at once; for the helper: a failing
writer, the file mode, a folder that another writer already put in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from advkeras import _files, environment
from advkeras.book import cache

ROOT = Path(__file__).resolve().parents[1]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _hidden(folder: Path) -> list[str]:
    """Temporary names (all start with a dot) anywhere under ``folder``."""
    return [p.name for p in folder.rglob(".*")]


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_the_file_with_an_ordinary_mode(tmp_path):
    path = tmp_path / "sub" / "results.json"
    assert _files.atomic_write_text(path, "one") == path
    _files.atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not mkstemp's 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_atomic_path_failure_keeps_the_target_and_removes_the_temporary(tmp_path, error):
    path = tmp_path / "model.keras"
    path.write_bytes(b"old")
    with pytest.raises(error), _files.atomic_path(path) as tmp:
        assert tmp.parent == path.parent and tmp.suffix == ".keras" and not tmp.exists()
        tmp.write_bytes(b"half-writ")
        raise error("interrupted")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    # a failed folder leaves nothing either
    with pytest.raises(error), _files.atomic_path(tmp_path / "entry") as tmp:
        tmp.mkdir()
        (tmp / "model.keras").write_bytes(b"partial")
        raise error("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_atomic_path_needs_something_written(tmp_path):
    with (
        pytest.raises(FileNotFoundError, match="Nothing was written"),
        _files.atomic_path(tmp_path / "x.txt"),
    ):
        pass
    assert list(tmp_path.iterdir()) == []


def test_atomic_folder_keeps_the_first_of_two_writers(tmp_path):
    entry = tmp_path / "entry"
    for content in (b"first", b"second"):
        try:
            with _files.atomic_path(entry) as tmp:
                tmp.mkdir()
                (tmp / "f").write_bytes(content)
        except OSError:
            pass
    assert (entry / "f").read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]
    assert entry.stat().st_mode & 0o777 == 0o777 & ~_umask()


def test_sha256_file_matches_hashlib(tmp_path):
    data = np.random.default_rng(0).bytes(3 << 20)  # several read chunks
    path = _files.atomic_write_bytes(tmp_path / "blob", data)
    assert _files.sha256_file(path) == hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- keys


def test_cache_key_rejects_what_json_cannot_say_exactly():
    with pytest.raises(ValueError, match="`spec`.*found 'object'"):
        cache.cache_key({"optimizer": object()})
    with pytest.raises(ValueError, match="`spec`.*found the key 1"):
        cache.cache_key({1: "a"})
    with pytest.raises(ValueError, match="`spec`"):
        cache.cache_key(["not", "a", "mapping"])
    # tuples and NumPy scalars are the lists and numbers they hold
    assert cache.cache_key({"a": (1, np.float64(0.5))}) == cache.cache_key({"a": [1, 0.5]})
    assert cache.cache_key({"a": 0.1}) != cache.cache_key({"a": 0.1 + 1e-12})


def test_keras_config_numbers_auto_names_and_keeps_explicit_ones():
    def model(units: int, name: str | None = None) -> keras.Model:
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, name=name)])

    a, b = model(2), model(2)
    assert a.layers[0].name != b.layers[0].name  # dense_1 vs dense_2: Keras counts per process
    assert cache.keras_config(a) == cache.keras_config(b)
    assert cache.keras_config(model(3)) != cache.keras_config(a)
    named = cache.keras_config(model(2, name="h0"))
    assert named != cache.keras_config(a) and '"h0"' in json.dumps(named)
    assert "module" not in json.dumps(cache.keras_config(a))
    with pytest.raises(ValueError, match="`obj`"):
        cache.keras_config(object())


# --------------------------------------------------------------------------- faults


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A cache in ``tmp_path`` and a tiny model to train; counts the trainings."""
    monkeypatch.setenv(environment.CACHE_DIR, str(tmp_path))
    calls: list[int] = []

    def train() -> keras.Model:
        calls.append(1)
        keras.utils.set_random_seed(len(calls))
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        m.advkeras_history = {"loss": [float(len(calls))]}
        return m

    return {"spec": {"name": "tiny", "seed": 0}, "train": train, "calls": calls}


def _entry_is_valid(spec: dict) -> bool:
    path = cache.cache_path(spec)
    record = json.loads((path.parent / cache.RECORD_FILE).read_text())
    return record["sha256"] == _files.sha256_file(path) and record["spec"] == spec


def _damage_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _damage_flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_flip], ids=["truncated", "flipped"])
def test_damaged_model_is_reported_in_one_line_and_retrained(tiny, capsys, damage):
    first = cache.cached_model(tiny["spec"], tiny["train"], verbose=False)
    path = cache.cache_path(tiny["spec"])
    damage(path)
    capsys.readouterr()
    again = cache.cached_model(tiny["spec"], tiny["train"], verbose=False)
    out = capsys.readouterr().out
    assert len(tiny["calls"]) == 2 and not again.advkeras_cache_hit
    assert out.count("\n") == 1 and "SHA-256" in out and "tiny" in out
    assert again.advkeras_history == {"loss": [2.0]}
    assert _entry_is_valid(tiny["spec"])
    third = cache.cached_model(tiny["spec"], tiny["train"], verbose=False)
    assert third.advkeras_cache_hit and len(tiny["calls"]) == 2
    for a, b in zip(again.get_weights(), third.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.get_weights()[0], third.get_weights()[0])  # the new model
    assert _hidden(path.parent.parent) == []


@pytest.mark.parametrize("fault", ["no record", "no hash", "bad json", "no model", "other spec"])
def test_entry_without_a_valid_record_is_treated_as_missing(tiny, capsys, fault):
    cache.cached_model(tiny["spec"], tiny["train"], verbose=False)
    path = cache.cache_path(tiny["spec"])
    record_path = path.parent / cache.RECORD_FILE
    record = json.loads(record_path.read_text())
    if fault == "no record":
        record_path.unlink()
    elif fault == "no hash":
        record_path.write_text(json.dumps({k: v for k, v in record.items() if k != "sha256"}))
    elif fault == "bad json":
        record_path.write_text(record_path.read_text()[:10])
    elif fault == "no model":
        path.unlink()
    else:
        record_path.write_text(json.dumps({**record, "spec": {"name": "tiny", "seed": 1}}))
    capsys.readouterr()
    model = cache.cached_model(tiny["spec"], tiny["train"], verbose=False)
    assert not model.advkeras_cache_hit and len(tiny["calls"]) == 2
    assert capsys.readouterr().out.count("\n") == 1
    assert _entry_is_valid(tiny["spec"])


def test_retrain_replaces_a_valid_entry(tiny, capsys):
    cache.cached_model(tiny["spec"], tiny["train"], verbose=False)
    model = cache.cached_model(tiny["spec"], tiny["train"], verbose=False, retrain=True)
    assert not model.advkeras_cache_hit and len(tiny["calls"]) == 2
    assert capsys.readouterr().out == ""  # retrain=True is not a fault
    again = cache.cached_model(tiny["spec"], tiny["train"], verbose=False)
    assert again.advkeras_history == {"loss": [2.0]} and _entry_is_valid(tiny["spec"])


def test_failed_training_stores_nothing(tiny):
    def broken() -> keras.Model:
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        cache.cached_model(tiny["spec"], broken, verbose=False)
    assert not cache.cache_path(tiny["spec"]).parent.exists()


RACE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import keras
    from advkeras.book import cache

    root, me = Path(sys.argv[1]), int(sys.argv[2])

    def train():
        (root / f"started-{me}").touch()
        deadline = time.monotonic() + 120
        while len(list(root.glob("started-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        keras.utils.set_random_seed(me)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        m.advkeras_history = {"loss": [float(me)]}
        return m

    model = cache.cached_model({"name": "race"}, train, verbose=False)
    print("hit" if model.advkeras_cache_hit else "trained")
    """
)


def test_two_processes_training_one_entry_leave_one_valid_entry(tmp_path, monkeypatch):
    env = {
        **os.environ,
        environment.CACHE_DIR: str(tmp_path / "models"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(tmp_path), str(i)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (0, 1)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    assert [out.strip() for out, _ in outs] == ["trained", "trained"]  # both really trained
    models = tmp_path / "models"
    (entry,) = models.iterdir()
    assert sorted(p.name for p in entry.iterdir()) == [cache.MODEL_FILE, cache.RECORD_FILE]
    assert _hidden(models) == []
    spec = {"name": "race"}
    monkeypatch.setenv(environment.CACHE_DIR, str(models))
    assert _entry_is_valid(spec)
    model = cache.cached_model(spec, lambda: pytest.fail("must load"), verbose=False)
    assert model.advkeras_cache_hit and model.advkeras_history["loss"] in ([0.0], [1.0])
