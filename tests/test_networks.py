"""The shipped networks (networks/ + manifest.json): they match the code, and the cache uses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from advkeras import environment, evaluation, training
from advkeras._files import sha256_file
from advkeras.book import cache, experiments, networks, profiles

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "networks"
MNIST_DIR = ROOT / "data" / "mnist"

needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "t10k-images-idx3-ubyte").exists()
    and not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
    reason="MNIST IDX files not in data/mnist (run `make data`)",
)

TINY = profiles.get_profile("smoke").replace(
    mnist_train=300, mnist_val=100, mnist_test=100, maxout_units=8
)


def _manifest() -> list[dict[str, Any]]:
    return networks.read_manifest(SHIPPED)["networks"]


def _ids() -> list[str]:
    return [e["name"] for e in _manifest()] if (SHIPPED / networks.MANIFEST).is_file() else []


def test_the_book_ships_the_naive_and_the_adversarial_maxout_network() -> None:
    names = {e["name"] for e in _manifest()}
    # and the adversarial one retrained on all 60,000 digits for its kept epochs (§6, C13)
    assert {"maxout240", "maxout240-fgsm", "maxout240-fgsm-all"} <= names
    total = sum((SHIPPED / e["file"]).stat().st_size for e in _manifest())
    assert total < 25 * 2**20
    assert sorted(p.name for p in SHIPPED.glob("*.keras")) == sorted(e["file"] for e in _manifest())


@pytest.mark.parametrize("name", _ids())
def test_shipped_network_has_the_key_the_code_computes_now(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # maxout_retrained's spec loads its first stage (itself shipped) to read the kept epoch:
    # into an empty cache of its own, from networks/.
    monkeypatch.setenv(environment.CACHE_DIR, str(tmp_path))
    monkeypatch.setenv(environment.NETWORKS, str(SHIPPED))
    (entry,) = [e for e in _manifest() if e["name"] == name]
    spec = experiments.recipe_spec(entry["recipe"], entry["profile"], **entry["arguments"])
    assert cache.cache_key(spec) == entry["key"], (
        f"the code now trains another {name} than the shipped one: retrain (make networks)"
    )
    assert cache.canonical_json(spec) == cache.canonical_json(entry["spec"])
    assert sha256_file(SHIPPED / entry["file"]) == entry["sha256"]
    assert entry["git_commit"] and entry["metrics"]["epochs_run"] == len(entry["history"]["loss"])


@needs_mnist
@pytest.mark.parametrize("name", _ids())
def test_shipped_network_has_the_clean_test_error_of_its_manifest(name: str) -> None:
    (entry,) = [e for e in _manifest() if e["name"] == name]
    model = keras.saving.load_model(SHIPPED / entry["file"])
    s = experiments.mnist("book")
    assert len(s.y_test) == 10_000
    error = evaluation.error_rate(model, s.x_test, s.y_test)
    assert abs(error - entry["metrics"]["test_error"]) <= 1e-4 + 1e-9  # 0.01 points


# --------------------------------------------------------------------------- the lookup


@pytest.fixture
def tiny_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A tiny maxout network trained into one cache, shipped into a folder, and a second empty cache."""
    if (
        not (MNIST_DIR / "train-images-idx3-ubyte").exists()
        and not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
    ):
        pytest.skip("MNIST IDX files not in data/mnist (run `make data`)")
    monkeypatch.setenv(environment.NETWORKS, networks.OFF)
    monkeypatch.setenv(environment.CACHE_DIR, str(tmp_path / "trained"))
    model = experiments.maxout(TINY)
    spec = experiments.recipe_spec("maxout", TINY)
    folder = tmp_path / "shipped"
    entry = networks.ship(
        folder,
        spec,
        cache.cache_path(spec),
        model.advkeras_history,
        recipe="maxout",
        arguments={},
        profile="smoke",
    )
    monkeypatch.setenv(environment.CACHE_DIR, str(tmp_path / "fresh"))
    monkeypatch.setenv(environment.NETWORKS, str(folder))

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("trained although a shipped network was there")

    return {"model": model, "folder": folder, "entry": entry, "no_training": no_training}


def _same_weights(a: keras.Model, b: keras.Model) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


def test_a_shipped_network_is_installed_instead_of_trained(tiny_shipped, monkeypatch, capsys):
    monkeypatch.setattr(training.AdversarialModel, "fit", tiny_shipped["no_training"])
    capsys.readouterr()
    loaded = experiments.maxout(TINY)
    out = capsys.readouterr().out
    assert "Installed maxout8 from the shipped networks" in out and "SHA-256 verified" in out
    assert loaded.advkeras_cache_hit is True
    assert _same_weights(loaded, tiny_shipped["model"])
    assert loaded.advkeras_history == tiny_shipped["model"].advkeras_history
    record = json.loads(
        (
            cache.cache_path(experiments.recipe_spec("maxout", TINY)).parent / cache.RECORD_FILE
        ).read_text()
    )
    assert record["shipped"]["file"] == tiny_shipped["entry"]["file"]


def test_shipped_networks_are_read_from_a_url_too(tiny_shipped, monkeypatch):
    monkeypatch.setenv(environment.NETWORKS, tiny_shipped["folder"].as_uri())
    monkeypatch.setattr(training.AdversarialModel, "fit", tiny_shipped["no_training"])
    assert _same_weights(experiments.maxout(TINY), tiny_shipped["model"])


def test_a_corrupt_shipped_file_is_not_used(tiny_shipped, capsys):
    path = tiny_shipped["folder"] / tiny_shipped["entry"]["file"]
    path.write_bytes(path.read_bytes()[:-100])
    capsys.readouterr()
    model = experiments.maxout(TINY)
    out = capsys.readouterr().out
    assert "fails its SHA-256 check" in out and "Training maxout8" in out
    assert model.advkeras_cache_hit is False


def test_another_key_or_none_means_training(tiny_shipped, monkeypatch):
    calls: list[int] = []
    real = training.AdversarialModel.fit

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    # (fit, not fit_classifier: the key holds fit_classifier's signature)
    monkeypatch.setattr(training.AdversarialModel, "fit", counting)
    experiments.maxout(TINY, seed=1)  # no shipped network has this key
    assert calls == [1]
    monkeypatch.setenv(environment.NETWORKS, networks.OFF)
    assert networks.source() is None


def test_ship_replaces_an_entry_and_removes_its_old_file(tiny_shipped):
    folder, entry = tiny_shipped["folder"], tiny_shipped["entry"]
    spec = dict(entry["spec"], seed=7)  # another key, same name
    again = networks.ship(folder, spec, folder / entry["file"], {}, recipe="maxout")
    manifest = networks.read_manifest(folder)["networks"]
    assert [e["file"] for e in manifest] == [again["file"]] != [entry["file"]]
    assert sorted(p.name for p in folder.glob("*.keras")) == [again["file"]]


def test_the_default_source_is_the_checkout_folder(monkeypatch):
    monkeypatch.delenv(environment.NETWORKS, raising=False)
    assert networks.default_folder() == SHIPPED
    expected = str(SHIPPED) if (SHIPPED / networks.MANIFEST).is_file() else None
    assert networks.source() == expected


def test_recipe_spec_rejects_unknown_recipes():
    with pytest.raises(ValueError, match="`recipe`"):
        experiments.recipe_spec("ensemble_members", "smoke")
