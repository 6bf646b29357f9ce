"""Tests of advkeras.masks (dropout masks drawn before a step) and of the XLA train step
that uses them (AdversarialModel compiled with jit_compile=True)."""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from advkeras import masks
from advkeras.fitting import fit_classifier
from advkeras.layers import InputDropout
from advkeras.models import maxout_mlp
from advkeras.training import AdversarialModel


def _numpy(t):
    return keras.ops.convert_to_numpy(t)


# ---------------------------------------------------------------------------
# The masks are the layers' own
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: keras.layers.Dropout(0.5, seed=3),
        lambda: InputDropout(0.2, seed=3),
        lambda: InputDropout(0.3, rescale=True, seed=3),
    ],
    ids=["keras Dropout", "InputDropout", "InputDropout rescaled"],
)
def test_a_drawn_mask_is_what_the_layer_would_multiply_by(make):
    """Two twin layers (same seed): one draws masks, the other drops; same outputs, call after call."""
    drawing, dropping = make(), make()
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(7, 11)).astype(np.float32)
    for _ in range(3):  # the seed generators advance alike
        mask = _numpy(masks.draw_mask(drawing, x.shape))
        dropped = _numpy(dropping(x, training=True))
        np.testing.assert_array_equal(x * mask, dropped)
        assert 0 < np.count_nonzero(mask) < mask.size


def test_given_masks_are_taken_in_order_then_the_layer_draws_its_own():
    layer = keras.layers.Dropout(0.5, seed=0)
    x = np.ones((4, 5), np.float32)
    first, second = np.zeros((4, 5), np.float32), np.full((4, 5), 2.0, np.float32)
    with masks.given({layer: [first, second]}):
        np.testing.assert_array_equal(_numpy(layer(x, training=True)), first)
        np.testing.assert_array_equal(_numpy(layer(x, training=False)), x)  # inference: no mask
        np.testing.assert_array_equal(_numpy(layer(x, training=True)), second)
        third = _numpy(layer(x, training=True))  # run out: its own random mask
        assert set(np.unique(third).tolist()) == {0.0, 2.0}
    assert "call" not in vars(layer)  # the instance's call is Keras' again
    assert masks.take(layer) is None


def test_maskable_layers_of_the_maxout_network():
    model = maxout_mlp(6, 3, input_dim=12, classes=4, seed=0)
    assert [layer.name for layer in masks.maskable_layers(model)] == [
        "drop_x",
        "drop_h0",
        "drop_h1",
    ]
    assert masks.maskable_layers(maxout_mlp(6, 3, input_dim=12, dropout=None)) == []
    shaped = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dropout(0.5, noise_shape=(None, 1)), keras.layers.Dense(2)]
    )
    assert masks.maskable_layers(shaped) == []  # a noise_shape keeps Keras' own behaviour
    drawn = masks.draw(masks.maskable_layers(model), 5, {layer: 2 for layer in model.layers})
    assert [[tuple(m.shape) for m in ms] for ms in drawn] == [[(5, 12)] * 2, [(5, 6)] * 2] + [
        [(5, 6)] * 2
    ]


# ---------------------------------------------------------------------------
# The XLA train step
# ---------------------------------------------------------------------------


def _data(n=60, d=12, k=4):
    rng = np.random.default_rng(1)
    return rng.uniform(0.0, 1.0, size=(n, d)).astype(np.float32), np.arange(n) % k


def _train(jit_compile, steps_per_execution=1, **options):
    x, y = _data()
    keras.utils.set_random_seed(7)
    base = maxout_mlp(6, 3, input_dim=12, classes=4, seed=3)
    adv = AdversarialModel(base, **options)
    adv.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    history = adv.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    return adv, base.get_weights(), history.history


@pytest.mark.parametrize(
    "options",
    [
        {"perturbation": "none", "eps": 0.0},
        {"eps": 0.1},
        {"eps": 0.1, "random_start": True, "step_size": 0.05},
        {"eps": 0.1, "layer": "h0"},
        {"eps": 0.1, "perturbation": "sign_noise"},
        {"eps": 0.1, "perturbation": "uniform_noise", "layer": "h0"},
    ],
    ids=["clean", "fgsm", "random start", "hidden layer", "noise", "noise on a hidden layer"],
)
def test_the_xla_step_trains_the_weights_of_the_graph_step(options):
    """Same seed, dropout and max-norm on: 12 steps give the graph runtime's weights to float rounding."""
    _, graph, graph_history = _train(False, **options)
    adv, xla, xla_history = _train(True, steps_per_execution=4, **options)
    assert adv._xla_masked is not None  # the masked XLA step ran
    for a, b in zip(graph, xla, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for key, values in graph_history.items():
        if key.endswith("loss"):
            np.testing.assert_allclose(values, xla_history[key], rtol=1e-4, atol=1e-6)
        else:  # an accuracy: a near tie may flip one of the 60 examples
            np.testing.assert_allclose(values, xla_history[key], atol=1.5 / 60)


def test_no_random_numbers_are_drawn_inside_xla(monkeypatch):
    """The XLA function gets its masks as arguments: its graph has matmuls and no random op."""
    graphs = []
    given = masks.given

    @contextlib.contextmanager
    def recording(drawn):
        graphs.append(tf.compat.v1.get_default_graph())  # the XLA function's, being traced
        with given(drawn):
            yield

    monkeypatch.setattr(masks, "given", recording)
    adv, _, _ = _train(True, eps=0.1)
    assert graphs
    for graph in graphs:
        ops = {op.type for op in graph.get_operations()}
        assert "MatMul" in ops
        assert not {t for t in ops if "Random" in t}, sorted(ops)
    plain, _, _ = _train(False, eps=0.1)
    assert plain._xla_masked is None


def test_without_masks_to_draw_jit_compile_is_keras_own():
    x, y = _data()
    base = maxout_mlp(6, 3, input_dim=12, classes=4, dropout=None, seed=3)
    adv = AdversarialModel(base, eps=0.1)
    adv.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=True)
    adv.fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert adv._xla_masked is None and adv.jit_compile is True


def test_fit_classifier_passes_jit_compile_and_checks_it():
    x, y = _data()
    model = fit_classifier(
        maxout_mlp(6, 3, input_dim=12, classes=4, seed=3),
        x,
        y,
        epochs=1,
        batch_size=10,
        validation_data=(x[:20], y[:20]),
        adversarial=True,
        eps=0.1,
        jit_compile=True,
        verbose=0,
    )
    assert np.isfinite(model.advkeras_history["val_adv_loss"][0])
    with pytest.raises(ValueError, match="jit_compile"):
        fit_classifier(model, x, y, epochs=1, jit_compile="yes")


def test_a_saved_xla_model_loads_and_trains(tmp_path):
    adv, _, _ = _train(True, eps=0.1)
    path = tmp_path / "adv.keras"
    adv.save(path)
    loaded = keras.saving.load_model(path)
    x, y = _data()
    loaded.fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert tf.reduce_all(tf.math.is_finite(loaded.base_model.get_layer("y").kernel))
