"""Tests of advkeras.book.experiments: cache reuse, cache keys, base models, data plumbing, checks.

Trainings use a tiny profile (300 MNIST training images, 8-unit maxout, one
epoch) and a temporary cache folder, so the whole module stays fast.
"""

from __future__ import annotations

import functools
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from advkeras import datasets, environment, fitting, losses, models, pylearn2, training
from advkeras.book import cache, experiments, profiles

MNIST_DIR = Path(__file__).resolve().parents[1] / "data" / "mnist"
needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "train-images-idx3-ubyte").exists()
    and not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
    reason="MNIST IDX files not in data/mnist (run `make data`)",
)

TINY = profiles.get_profile("smoke").replace(
    mnist_train=300,
    mnist_val=100,
    mnist_test=100,
    maxout_units=8,
    epochs_maxout=1,
    epochs_adversarial=1,
    epochs_linear=1,
    epochs_rbf=1,
    epochs_cifar=1,
    cifar_width=0.05,
    ensemble_size=3,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One temporary model cache shared by the tests of this module."""
    path = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(environment.CACHE_DIR, str(path))
        yield path


def _layer(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """The config of layer ``name`` in a recorded spec's model."""
    (layer,) = [la for la in spec["model"]["config"]["layers"] if la["config"]["name"] == name]
    return layer["config"]


def _weights_equal(a: keras.Model, b: keras.Model) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))


# --------------------------------------------------------------------------- trained recipes


@needs_mnist
def test_maxout_second_call_hits_cache_with_same_weights_and_history(cache_dir, capsys):
    first = experiments.maxout(TINY)
    assert first.advkeras_cache_hit is False
    assert "Training maxout8" in capsys.readouterr().out
    second = experiments.maxout(TINY)
    assert second.advkeras_cache_hit is True
    assert "Loaded maxout8 from the cache" in capsys.readouterr().out
    assert second is not first and _weights_equal(first, second)
    assert second.advkeras_history == first.advkeras_history
    assert len(second.advkeras_history["val_error"]) == TINY.epochs_maxout
    # the base classifier, not the training wrapper
    assert not isinstance(second, training.AdversarialModel)
    assert [layer.name for layer in second.layers if layer.weights] == ["h0", "h1", "y"]
    assert second.get_layer("h0").units == TINY.maxout_units
    assert losses.infer_output_kind(second) == "probabilities"
    assert len(list(cache_dir.glob("maxout8-*/model.keras"))) == 1


@needs_mnist
def test_adversarial_maxout_is_a_separate_base_model_with_adversarial_history(cache_dir):
    clean = experiments.maxout(TINY)
    adv = experiments.maxout(TINY, adversarial=True)
    assert adv.advkeras_cache_hit is False
    assert not isinstance(adv, training.AdversarialModel)
    assert adv.output_shape == (None, 10)
    assert "adv_loss" in adv.advkeras_history  # trained on J(x + eta) too
    assert "adv_loss" not in clean.advkeras_history
    assert not _weights_equal(clean, adv)
    assert len(list(cache_dir.glob("maxout8-fgsm-*/model.keras"))) == 1
    again = experiments.maxout(TINY, adversarial=True)
    assert again.advkeras_cache_hit and _weights_equal(adv, again)


@needs_mnist
def test_logistic_3v7_learns_the_task_with_7_as_positive(cache_dir):
    profile = profiles.get_profile("smoke").replace(epochs_linear=2, mnist_train=1000)
    model = experiments.logistic_3v7(profile)
    assert model.output_shape == (None, 1)
    assert losses.infer_output_kind(model) == "binary_logit"
    s = experiments.mnist(profile)
    logit = model.predict(s.x_test, verbose=0)[:, 0]
    threes, sevens = s.y_test == 3, s.y_test == 7
    error = (np.sum(logit[threes] > 0) + np.sum(logit[sevens] <= 0)) / np.sum(threes | sevens)
    assert error < 0.1  # the paper's model: 1.6 %; chance: 50 %
    # the L1 penalty shrinks |w| (same data, seed and optimizer)
    sparse = experiments.logistic_3v7(profile, l1=0.01)
    w, w_l1 = model.get_layer("logit").kernel.numpy(), sparse.get_layer("logit").kernel.numpy()
    assert np.abs(w_l1).sum() < np.abs(w).sum()


@needs_mnist
def test_softmax_regression_and_rbf_output_kinds(cache_dir):
    softmax = experiments.softmax_regression(TINY)
    assert softmax.name == "shallow_softmax" and softmax.output_shape == (None, 10)
    assert losses.infer_output_kind(softmax) == "probabilities"
    rbf = experiments.rbf(TINY, train=False)
    assert losses.infer_output_kind(rbf) == "independent"
    assert rbf.advkeras_history == {"loss": []}
    s = experiments.mnist(TINY)
    p = rbf.predict(s.x_val, verbose=0)
    assert np.all((p > 0) & (p <= 1))
    # untrained: the centres are the class means, and the median training digit of each
    # class sits at p_y = 0.5 (the initial beta's scale)
    means = np.stack([s.x_train[s.y_train == k].mean(axis=0) for k in range(10)])
    np.testing.assert_allclose(rbf.get_layer("rbf").centers.numpy(), means, atol=1e-6)
    p_train = rbf.predict(s.x_train, verbose=0)[np.arange(len(s.y_train)), s.y_train]
    for k in range(10):
        assert np.median(p_train[s.y_train == k]) == pytest.approx(0.5, abs=0.02)
    # trained (the default): the centres start at the class means and move only a little in
    # one epoch
    trained = experiments.rbf(TINY)
    assert losses.infer_output_kind(trained) == "independent"
    assert len(trained.advkeras_history["loss"]) == TINY.epochs_rbf
    moved = np.abs(trained.get_layer("rbf").centers.numpy() - means).max()
    assert 0 < moved < 0.2
    # nearest-centre-like classification: far better than chance
    for model in (rbf, trained):
        assert np.mean(model.predict(s.x_val, verbose=0).argmax(axis=1) == s.y_val) > 0.3


def test_conv_maxout_cifar10_trains_on_given_data_and_keys_on_it(cache_dir):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    y = np.arange(16) % 10
    model = experiments.conv_maxout_cifar10(TINY, data=(x, y))
    assert model.output_shape == (None, 10) and not model.advkeras_cache_hit
    assert model.get_layer("h0").filters == 5  # 96 channels x cifar_width 0.05
    assert experiments.conv_maxout_cifar10(TINY, data=(x, y)).advkeras_cache_hit
    with pytest.raises(ValueError, match="`data`"):
        experiments.conv_maxout_cifar10(TINY, data=(x[:, :28, :28], y))
    with pytest.raises(ValueError, match="`data`"):
        experiments.conv_maxout_cifar10(TINY, data=(x, y[:3]))


# --------------------------------------------------------------------------- cache keys


def test_maxout_cache_keys_separate_every_setting(recorded):
    variants: list[dict[str, Any]] = [
        {},
        {"seed": 1},
        {"units": 16},
        {"adversarial": True},
        {"adversarial": True, "eps": 0.1},
        {"adversarial": True, "alpha": 0.3},
        {"adversarial": True, "perturbation": "sign_noise"},
        {"adversarial": True, "perturbation": "uniform_noise"},
        {"l1": 0.0025},
        {"top": "sigmoid"},
        {"half": 0},
        {"half": 1},
        {"profile": profiles.get_profile("smoke")},
        {"profile": TINY.replace(epochs_maxout=2)},
        {"profile": TINY.replace(mnist_train=400)},
    ]
    for kwargs in variants:
        kwargs = {"profile": TINY, **kwargs}
        experiments.maxout(kwargs.pop("profile"), **kwargs)
    keys = [cache.cache_key(spec) for spec in recorded]
    assert len(set(keys)) == len(variants)
    # the same request gives the same key; alpha and l1=0 do not matter for a clean run
    experiments.maxout(TINY)
    experiments.maxout(TINY, alpha=0.9, l1=0.0)
    assert cache.cache_key(recorded[-1]) == cache.cache_key(recorded[-2]) == keys[0]
    # file names say what the network is
    names = [spec["name"] for spec in recorded[: len(variants)]]
    assert names[:4] == ["maxout8", "maxout8", "maxout16", "maxout8-fgsm"]
    assert "maxout8-sign_noise" in names and "maxout8-l1_0.0025" in names
    assert "maxout8-half0" in names and "maxout8-half1" in names
    assert all(spec["profile"] == "smoke" for spec in recorded)


def test_other_recipes_have_distinct_keys_and_seeds(recorded):
    experiments.softmax_regression(TINY)
    experiments.softmax_regression(TINY, seed=1)
    experiments.logistic_3v7(TINY)
    experiments.logistic_3v7(TINY, adversarial=True)
    experiments.logistic_3v7(TINY, adversarial=True, eps=0.1)
    experiments.logistic_3v7(TINY, l1=0.001)
    experiments.rbf(TINY)
    experiments.rbf(TINY.replace(epochs_rbf=3))
    keys = {cache.cache_key(spec) for spec in recorded}
    assert len(keys) == len(recorded) == 8
    assert [spec["seed"] for spec in recorded[:2]] == [0, 1]


def test_rbf_readings_have_distinct_keys_and_untrained_ones_ignore_the_epochs(recorded):
    for beta in experiments.RBF_BETAS:
        for train in (False, True):
            experiments.rbf(TINY, beta=beta, train=train)
    keys = [cache.cache_key(spec) for spec in recorded]
    assert len(set(keys)) == 6
    assert [spec["fit"]["epochs"] for spec in recorded] == [0, TINY.epochs_rbf] * 3
    rbf = [_layer(spec, "rbf#0") for spec in recorded]
    assert [(c.get("shared_beta", False), c["per_dimension"]) for c in rbf[::2]] == [
        (True, False),
        (False, False),
        (False, True),
    ]
    # the default is the trained per-pixel network; untrained ones ignore the profile's epochs
    experiments.rbf(TINY)
    assert cache.cache_key(recorded[-1]) == keys[5]
    experiments.rbf(TINY.replace(epochs_rbf=3), train=False)
    assert cache.cache_key(recorded[-1]) == keys[4]
    with pytest.raises(ValueError, match="beta"):
        experiments.rbf(TINY, beta="diagonal")
    with pytest.raises(ValueError, match="train"):
        experiments.rbf(TINY, train="yes")


def test_ensemble_members_are_the_seeded_maxout_networks(recorded):
    members = experiments.ensemble_members(TINY)
    assert len(members) == TINY.ensemble_size
    assert [spec["seed"] for spec in recorded] == list(range(TINY.ensemble_size))
    assert {spec["name"] for spec in recorded} == {"maxout8"}
    # member 0 is the network an earlier chapter trained with maxout(profile)
    experiments.maxout(TINY)
    assert cache.cache_key(recorded[0]) == cache.cache_key(recorded[-1])


def test_conv_maxout_cache_key_depends_on_the_data(recorded):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 32, 32, 3)).astype("float32")
    y = np.arange(8) % 10
    for data in ((x, y), (x, y), (2 * x, y), (x, (y + 1) % 10), (x[:4], y[:4])):
        experiments.conv_maxout_cifar10(TINY, data=data)
    experiments.conv_maxout_cifar10(TINY, data=(x, y), validation_data=(x, y))
    experiments.conv_maxout_cifar10(TINY.replace(cifar_width=0.1), data=(x, y))
    keys = [cache.cache_key(spec) for spec in recorded]
    assert keys[0] == keys[1] and len(set(keys)) == 6


def test_key_follows_the_defaults_that_train(recorded):
    """A changed default of the builder, the optimizer, a callback or fit() is a new network."""
    experiments.maxout(TINY)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(models.maxout_mlp.__kwdefaults__, "dropout", (0.2, 0.5, 0.4))
        experiments.maxout(TINY)
        assert _layer(recorded[-1], "drop_h1")["rate"] == 0.4
        mp.setitem(models.maxout_mlp.__kwdefaults__, "max_norm", 2.0)
        experiments.maxout(TINY)
        mp.setattr(pylearn2.paper_sgd, "__defaults__", (0.05, 1.000004, 1e-6, 0.5))
        experiments.maxout(TINY)
        mp.setattr(pylearn2.paper_sgd, "__defaults__", (0.05, 1.00001, 1e-6, 0.5))
        experiments.maxout(TINY)
        mp.setattr(pylearn2.MomentumSchedule.__init__, "__defaults__", (0.5, 0.8, 1, 250))
        experiments.maxout(TINY)
        mp.setitem(fitting.fit_classifier.__kwdefaults__, "clip", (0.0, 1.0))
        experiments.maxout(TINY)
        mp.setattr(training, "TRAINING_VERSION", training.TRAINING_VERSION + 1)
        experiments.maxout(TINY)
    keys = [cache.cache_key(spec) for spec in recorded]
    assert len(set(keys)) == len(keys) == 8
    experiments.maxout(TINY)  # defaults restored: the first network again
    assert cache.cache_key(recorded[-1]) == keys[0]


def test_key_follows_the_model_not_a_constant(recorded, monkeypatch):
    """maxout_mlp's max_norm default was bound at definition: patching the constant trains
    the same maxout network (same key), but conv_maxout_cifar10 reads it at build time."""
    x, y = np.zeros((4, 32, 32, 3), "float32"), np.arange(4)
    experiments.maxout(TINY)
    experiments.conv_maxout_cifar10(TINY, data=(x, y))
    experiments.softmax_regression(TINY)
    monkeypatch.setattr(models, "PAPER_MAX_NORM", 3.0)
    monkeypatch.setattr(experiments, "LINEAR_LR", 0.05)
    experiments.maxout(TINY)
    experiments.conv_maxout_cifar10(TINY, data=(x, y))
    experiments.softmax_regression(TINY)
    keys = [cache.cache_key(spec) for spec in recorded]
    assert keys[0] == keys[3] and keys[1] != keys[4] and keys[2] != keys[5]
    assert recorded[5]["optimizer"]["config"]["learning_rate"] == pytest.approx(0.05)


KEY_IN_A_FRESH_PROCESS = textwrap.dedent(
    """
    from advkeras.book import cache, experiments
    specs = []
    experiments.cached_model = lambda spec, build_and_train, **kw: specs.append(spec)
    experiments.maxout("smoke", units=8, adversarial=True)
    experiments.rbf("smoke")
    print(" ".join(cache.cache_key(spec) for spec in specs))
    """
)


def test_keys_are_the_same_in_another_process(recorded):
    # this process has built many models and optimizers before: Keras' automatic
    # names (dense_7, sgd_3...) differ from a fresh process's, the keys must not
    for _ in range(2):
        experiments.softmax_regression(TINY)
        experiments.maxout("smoke", units=8, adversarial=True)
        experiments.rbf("smoke")
    here = [cache.cache_key(spec) for spec in recorded]
    assert here[1:3] == here[4:6]
    fresh = subprocess.run(
        [sys.executable, "-c", KEY_IN_A_FRESH_PROCESS],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    assert fresh == here[1:3]


@needs_mnist
def test_the_key_describes_the_objects_that_train(monkeypatch):
    """The model, optimizer and callbacks in the key are the ones fitted, and the key's fit
    settings are the arguments fit_classifier receives, with its defaults for the others."""
    trained: dict[str, Any] = {}
    real_fit = fitting.fit_classifier

    def fake_cached_model(spec: dict[str, Any], build_and_train: Any, **_: Any) -> Any:
        trained["spec"] = spec
        return build_and_train()

    @functools.wraps(real_fit)
    def fake_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> Any:
        trained.update(model=model, **kwargs)
        return model

    monkeypatch.setattr(experiments, "cached_model", fake_cached_model)
    monkeypatch.setattr(fitting, "fit_classifier", fake_fit)
    experiments.maxout(TINY, adversarial=True, l1=0.001)
    spec = trained["spec"]
    assert cache.keras_config(trained["model"]) == spec["model"]
    assert cache.keras_config(trained["optimizer"]) == spec["optimizer"]
    assert [cache.keras_config(c) for c in trained["callbacks"]] == spec["callbacks"]
    defaults = {k: p.default for k, p in inspect.signature(real_fit).parameters.items()}
    not_settings = {"model", "x", "y", "validation_data", "optimizer", "callbacks", "verbose"}
    # steps_per_execution leaves the weights unchanged (test_training.py checks it bitwise);
    # norm, layer, differentiable, random_start, step_size and jit_compile are named only
    # when set (the keys of runs before them stay valid).
    not_settings |= {"steps_per_execution", "norm", "layer", "differentiable"}
    not_settings |= {"random_start", "step_size", "jit_compile"}
    assert set(spec["fit"]) == set(defaults) - not_settings
    expected = {k: trained.get(k, defaults[k]) for k in spec["fit"]}
    assert cache.canonical_json(expected) == cache.canonical_json(spec["fit"])
    assert spec["fit"]["l1"] == ("h0", 0.001) and spec["fit"]["adversarial"] is True


@needs_mnist
@pytest.mark.parametrize("recipe", ["maxout", "rbf"])
def test_recipes_train_exactly_as_the_original_procedure(cache_dir, recipe):
    """The old recipe: load the data, seed, build, fit (maxout: fit's default paper_sgd and
    MomentumSchedule; rbf: one β per class and pixel, centres set before fit, Adam, the
    default ``rbf``). The cached recipe must give the same weights."""
    s = experiments.mnist(TINY)
    model = experiments.maxout(TINY) if recipe == "maxout" else experiments.rbf(TINY)
    keras.utils.set_random_seed(0)  # the original order: data, seed, build, fit
    if recipe == "maxout":
        ref = models.maxout_mlp(TINY.maxout_units, TINY.maxout_pieces, top="softmax", seed=0)
        kwargs = {"epochs": TINY.epochs_maxout, "eps": 0.0, "patience": TINY.patience}
    else:
        ref = models.rbf_network(per_dimension=True)
        ref.get_layer("rbf").init_centers(s.x_train, s.y_train, fit_beta=True)
        optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        kwargs = {"epochs": TINY.epochs_rbf, "eps": experiments.MNIST_EPS, "optimizer": optimizer}
    ref = fitting.fit_classifier(
        ref,
        s.x_train,
        s.y_train,
        validation_data=(s.x_val, s.y_val),
        batch_size=TINY.batch_size,
        seed=0,
        verbose=0,
        **kwargs,
    )
    assert _weights_equal(model, ref)
    assert model.advkeras_history == ref.advkeras_history


def test_epochs_default_to_the_profile_and_variants_pass_their_own(recorded):
    long = TINY.replace(epochs_maxout=7, epochs_adversarial=9, epochs_variant=2)
    experiments.maxout(long)
    experiments.maxout(long, adversarial=True)
    experiments.maxout(long, l1=0.001, epochs=long.epochs_variant)
    assert [r["fit"]["epochs"] for r in recorded] == [7, 9, 2]
    assert recorded[0]["name"] == "maxout8" and recorded[2]["name"] == "maxout8-l1_0.001"


def test_profile_by_name_and_environment(recorded, monkeypatch):
    monkeypatch.setenv(environment.PROFILE, "paper")
    experiments.maxout()
    experiments.maxout(profile="smoke")
    assert recorded[0]["profile"] == "paper" and _layer(recorded[0], "h0")["units"] == 240
    assert recorded[0]["fit"]["patience"] == 100
    assert recorded[1]["profile"] == "smoke" and _layer(recorded[1], "h0")["units"] == 32


# --------------------------------------------------------------------------- checks and helpers


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"units": 0}, "units"),
        ({"perturbation": "pgd", "adversarial": True}, "perturbation"),
        ({"perturbation": "sign_noise"}, "perturbation"),
        ({"adversarial": "yes"}, "adversarial"),
        ({"eps": -0.25}, "eps"),
        ({"alpha": 1.5}, "alpha"),
        ({"l1": -0.1}, "l1"),
        ({"top": "relu"}, "top"),
        ({"half": 2}, "half"),
        ({"half": True}, "half"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"profile": 3}, "profile"),
        ({"profile": "huge"}, "name"),
    ],
)
def test_maxout_rejects_bad_arguments(recorded, kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        experiments.maxout(**{"profile": TINY, **kwargs})
    assert recorded == []


def test_other_recipes_reject_bad_arguments(recorded):
    with pytest.raises(ValueError, match="`l1`"):
        experiments.logistic_3v7(TINY, l1=float("nan"))
    with pytest.raises(ValueError, match="`eps`"):
        experiments.logistic_3v7(TINY, eps=float("inf"))
    with pytest.raises(ValueError, match="`seed`"):
        experiments.rbf(TINY, seed="0")
    with pytest.raises(ValueError, match="`data`"):
        experiments.conv_maxout_cifar10(TINY, data=np.zeros((2, 32, 32, 3)))
    assert recorded == []


@needs_mnist
def test_mnist_and_describe_follow_the_profile(capsys):
    s = experiments.mnist(TINY)
    assert (len(s.x_train), len(s.x_val), len(s.x_test)) == (300, 100, 100)
    assert s.x_train.shape[1] == 784 and s.x_train.dtype == np.float32
    assert experiments.describe(TINY) is TINY
    assert capsys.readouterr().out.strip() == TINY.describe()


def test_maxout_half_trains_on_disjoint_halves_of_the_training_split(monkeypatch):
    seen: dict[int | None, np.ndarray] = {}

    def fake_cached_model(spec: dict[str, Any], build_and_train: Any, **_: Any) -> Any:
        return build_and_train()

    def fake_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> Any:
        seen[len(seen)] = x
        return model

    monkeypatch.setattr(experiments, "cached_model", fake_cached_model)
    monkeypatch.setattr(fitting, "fit_classifier", fake_fit)
    splits = experiments.mnist(TINY)
    for half in (None, 0, 1):
        experiments.maxout(TINY, half=half)
    whole, first, second = seen[0], seen[1], seen[2]
    assert len(first) == len(second) == len(whole) // 2
    np.testing.assert_array_equal(np.concatenate([first, second]), splits.x_train)
    np.testing.assert_array_equal(whole, splits.x_train)


def test_kept_epoch_follows_early_stopping_rule():
    model = keras.Model()
    model.advkeras_history = {
        "loss": [1.0] * 4,
        "val_error": [0.3, 0.1, 0.1, 0.2],  # ties: the first epoch with the lowest error
        "val_adv_error": [0.9, 0.8, 0.7, 0.75],
    }
    assert experiments.kept_epoch(model, "book") == {"epochs": 4, "kept": 2, "monitor": "val_error"}
    fgsm = experiments.kept_epoch(model, "paper", fgsm=True)
    assert fgsm == {"epochs": 4, "kept": 3, "monitor": "val_adv_error"}
    assert experiments.kept_epoch(model, "smoke")["kept"] == 4  # no patience: the last epoch
    with pytest.raises(ValueError, match="`model`"):
        experiments.kept_epoch(keras.Model(), "book")
    del model.advkeras_history["val_adv_error"]
    with pytest.raises(ValueError, match="`model`"):
        experiments.kept_epoch(model, "book", fgsm=True)
    with pytest.raises(ValueError, match="`fgsm`"):
        experiments.kept_epoch(model, "book", fgsm="yes")


@needs_mnist
def test_the_paper_profile_runs_under_a_tiny_budget(cache_dir):
    paper = profiles.get_profile("paper")
    tiny = paper.replace(
        mnist_train=300,
        mnist_val=100,
        mnist_test=100,
        maxout_units=8,
        epochs_maxout=2,
        epochs_adversarial=2,
        patience=1,
    )
    net = experiments.maxout(tiny, adversarial=True)
    kept = experiments.kept_epoch(net, tiny, fgsm=True)
    assert kept["monitor"] == "val_adv_error" and 1 <= kept["kept"] <= kept["epochs"] <= 2
    history = net.advkeras_history["val_adv_error"]
    assert history[kept["kept"] - 1] == min(history)
    spec = experiments.recipe_spec("maxout", tiny, adversarial=True)
    assert spec["profile"] == "paper" and spec["fit"]["patience"] == 1


def test_a_profile_with_jit_compile_names_it_in_the_key_and_one_without_does_not():
    """The networks trained before jit_compile existed keep their keys; XLA ones get others."""
    book = profiles.get_profile("book")
    assert book.jit_compile is True  # the book trains its maxout networks with XLA
    plain = experiments.recipe_spec("maxout", book.replace(jit_compile=False), adversarial=True)
    xla = experiments.recipe_spec("maxout", book, adversarial=True)
    assert "jit_compile" not in plain["fit"] and xla["fit"]["jit_compile"] is True
    assert {k: v for k, v in xla["fit"].items() if k != "jit_compile"} == plain["fit"]


@needs_mnist
def test_the_large_network_is_retrained_on_all_the_data_for_the_kept_epochs(cache_dir, monkeypatch):
    """C13: stage 1 stops early on the split; stage 2 trains k epochs on train + validation."""
    seen: list[tuple[int, bool]] = []
    real_fit = fitting.fit_classifier

    @functools.wraps(real_fit)
    def recording_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> Any:
        seen.append((len(x), kwargs.get("validation_data") is not None))
        return real_fit(model, x, y, **kwargs)

    monkeypatch.setattr(fitting, "fit_classifier", recording_fit)
    tiny = profiles.get_profile("paper").replace(
        mnist_train=300,
        mnist_val=100,
        mnist_test=100,
        maxout_units_large=8,
        epochs_adversarial=3,
        patience=1,
    )
    net = experiments.maxout_retrained(tiny, seed=1)
    stage1 = experiments.kept_epoch(
        experiments.maxout(tiny, 1, units=8, adversarial=True), tiny, fgsm=True
    )
    assert net.advkeras_stage1 == stage1
    history = net.advkeras_history
    assert len(history["loss"]) == stage1["kept"]
    assert not any(key.startswith("val_") for key in history)  # nothing held out
    assert net.get_layer("h0").units == 8
    assert seen == [(300, True), (400, False)]  # stage 1 on the split, stage 2 on all of it
    # A second call loads both stages from the cache: same weights.
    again = experiments.maxout_retrained(tiny, seed=1)
    for a, b in zip(net.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@needs_mnist
def test_the_retraining_protocol_takes_a_stage1_budget(cache_dir, monkeypatch):
    """C13 on the short schedule: ``epochs`` is stage 1's budget, ``None`` its long schedule."""
    tiny = profiles.get_profile("paper").replace(
        mnist_train=300,
        mnist_val=100,
        mnist_test=100,
        maxout_units_large=8,
        epochs_adversarial=3,
        patience=5,
    )
    net = experiments.maxout_retrained(tiny, seed=2, epochs=2)
    first = experiments.maxout(tiny, 2, units=8, adversarial=True, epochs=2)
    assert net.advkeras_stage1 == experiments.kept_epoch(first, tiny, fgsm=True)
    assert net.advkeras_stage1["epochs"] == 2  # the budget, not epochs_adversarial
    assert len(net.advkeras_history["loss"]) == net.advkeras_stage1["kept"]
    # recipe_spec gives stage 2's spec (it loads stage 1 to read k, and trains nothing).
    spec = experiments.recipe_spec("maxout_retrained", tiny, seed=2, epochs=2)
    assert spec["name"] == "maxout8-fgsm-all" and spec["data"]["train_and_val"] is True
    assert spec["fit"]["epochs"] == net.advkeras_stage1["kept"]
    assert cache.cache_path(spec).is_file()
    # epochs=None is the long schedule: the same keys as epochs=epochs_adversarial, so a
    # second protocol run on it trains once and then loads both stages.
    fits: list[int] = []
    real_fit = fitting.fit_classifier

    @functools.wraps(real_fit)
    def counting_fit(*args: Any, **kwargs: Any) -> Any:
        fits.append(kwargs["epochs"])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(fitting, "fit_classifier", counting_fit)
    long_default = experiments.maxout_retrained(tiny, seed=2)
    trained = len(fits)
    long_explicit = experiments.maxout_retrained(tiny, seed=2, epochs=3)
    assert len(fits) == trained and fits[:1] == [3]
    assert _weights_equal(long_default, long_explicit)
    # A stage 1 that is not in the cache is refused by recipe_spec, never trained.
    with pytest.raises(ValueError, match="maxout8-fgsm.*not there"):
        experiments.recipe_spec("maxout_retrained", tiny, seed=7, epochs=2)
    assert len(fits) == trained
    with pytest.raises(ValueError, match="`epochs`"):
        experiments.maxout_retrained(tiny, seed=2, epochs=0)


def test_cifar10_falls_back_to_a_stand_in_under_smoke_only(monkeypatch, capsys):
    """Offline, smoke gets random images in the CIFAR-10 format; other profiles get nothing."""
    real = datasets.load_cifar10

    def offline(*args: Any, data_dir: Any = None, **kwargs: Any) -> Any:
        if data_dir is None:
            raise OSError("no local copy, no internet")
        return real(*args, data_dir=data_dir, **kwargs)

    monkeypatch.setattr(datasets, "load_cifar10", offline)
    smoke = profiles.get_profile("smoke").replace(cifar_train=12, cifar_test=5)
    source, (x, y), (x_test, y_test) = experiments.cifar10(smoke)
    assert source == "random stand-in images (smoke profile)"
    assert x.shape[1:] == (32, 32, 3) and len(x) == len(y) == 12 and len(x_test) == 5
    assert "CIFAR-10 is not available" in capsys.readouterr().out
    book = profiles.get_profile("book")
    assert experiments.cifar10(book) == (None, (None, None), (None, None))
    assert "CIFAR-10 source: None" in capsys.readouterr().out
