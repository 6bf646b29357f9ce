"""§9's recipes: the ensemble's members under each budget, and the classification RBM's key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advkeras import datasets, environment, generative
from advkeras.book import cache, experiments, profiles

DATA = datasets.default_data_dir()
HAS_MNIST = DATA is not None and any((Path(DATA) / "mnist").glob("train-images-idx3-ubyte*"))


def test_book_members_are_the_short_budget_seed_networks(recorded) -> None:
    book = profiles.get_profile("book")
    members = experiments.ensemble_members(book)
    assert len(members) == book.ensemble_size >= 5
    ensemble_keys = [cache.cache_key(spec) for spec in recorded]
    recorded.clear()
    # the networks of chapters 5 and 6's seed spread, plus seeds beyond it
    for s in range(book.ensemble_size):
        experiments.maxout(book, seed=s, epochs=book.epochs_variant)
    assert ensemble_keys == [cache.cache_key(spec) for spec in recorded]
    assert len(set(ensemble_keys)) == book.ensemble_size
    assert all(spec["fit"]["epochs"] == book.ensemble_epochs == 10 for spec in recorded)
    assert len({m.name for m in members}) == len(members)


def test_paper_members_are_long_trained(recorded) -> None:
    paper = profiles.get_profile("paper")
    experiments.ensemble_members(paper)
    assert [spec["seed"] for spec in recorded] == list(range(12))
    assert {spec["fit"]["epochs"] for spec in recorded} == {paper.epochs_maxout}
    smoke = profiles.get_profile("smoke")
    assert len(experiments.ensemble_members(smoke)) == 2


def test_class_rbm_key_follows_its_settings(recorded) -> None:
    smoke = profiles.get_profile("smoke")
    experiments.class_rbm(smoke)
    experiments.class_rbm(smoke, seed=1)
    experiments.class_rbm(smoke.replace(generative_hidden=16))
    experiments.class_rbm(smoke.replace(epochs_generative=2))
    assert len({cache.cache_key(spec) for spec in recorded}) == 4
    assert recorded[0]["name"] == "class_rbm32" and recorded[2]["name"] == "class_rbm16"
    assert recorded[0]["fit"]["cd_steps"] == 1
    with pytest.raises(ValueError, match="`seed`"):
        experiments.class_rbm(smoke, seed=-1)


@pytest.mark.skipif(not HAS_MNIST, reason="MNIST not in $ADVKERAS_DATA_DIR/mnist or data/mnist")
def test_class_rbm_trains_then_loads(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(environment.CACHE_DIR, str(tmp_path))
    tiny = profiles.get_profile("smoke").replace(mnist_train=300, mnist_val=100, mnist_test=100)
    first = experiments.class_rbm(tiny.replace(generative_hidden=8))
    again = experiments.class_rbm(tiny.replace(generative_hidden=8))
    assert not first.advkeras_cache_hit and again.advkeras_cache_hit
    assert isinstance(again.get_layer("rbm"), generative.ClassRBM)
    assert again.advkeras_history["val_error"] == first.advkeras_history["val_error"]
    x = np.random.default_rng(0).random((3, 784)).astype("float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), first.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.skipif(not HAS_MNIST, reason="MNIST not in $ADVKERAS_DATA_DIR/mnist or data/mnist")
def test_members_can_be_attacked_together(tmp_path, monkeypatch) -> None:
    from advkeras import evaluation, models

    monkeypatch.setenv(environment.CACHE_DIR, str(tmp_path))
    tiny = profiles.get_profile("smoke").replace(
        mnist_train=200, mnist_val=50, mnist_test=50, maxout_units=8, ensemble_size=2
    )
    members = experiments.ensemble_members(tiny)
    x = np.random.default_rng(0).random((6, 784)).astype("float32")
    y = np.arange(6) % 10
    out = evaluation.ensemble_attack(members, x, y, eps=0.25, clip=None)
    averaged = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    expected = float(np.mean(averaged.argmax(1) != y))
    assert out["error_clean"] == pytest.approx(expected)
    np.testing.assert_allclose(models.ensemble(members).predict(x, verbose=0), averaged, rtol=1e-5)
