"""Tests of advkeras.pipeline: array_dataset's batches, shuffling and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from advkeras.pipeline import array_dataset


def test_array_dataset_visits_every_example_once_per_epoch_and_reshuffles():
    x = np.arange(23, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    y = np.arange(23)
    w = np.linspace(0.0, 1.0, 23).astype(np.float32)
    tf.random.set_seed(0)
    ds = array_dataset(x, y, w, batch_size=5, shuffle=True)
    assert not ds.options().autotune.enabled
    orders = []
    for _ in range(2):
        batches = list(ds)
        assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
        order = np.concatenate([b[1].numpy() for b in batches])
        assert sorted(order) == list(range(23))
        for bx, by, bw in batches:  # rows stay aligned
            np.testing.assert_array_equal(bx.numpy()[:, 0], by.numpy())
            np.testing.assert_allclose(bw.numpy(), w[by.numpy()])
        orders.append(order)
    assert list(orders[0]) != list(orders[1])  # a new order at every epoch
    plain = np.concatenate([b[1].numpy() for b in array_dataset(x, y, batch_size=4)])
    np.testing.assert_array_equal(plain, y)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"seed": 1.5}, "seed"),
        ({"y": np.arange(3)}, "y"),
        ({"sample_weight": np.ones(2)}, "sample_weight"),
        ({"x": np.float32(1.0)}, "x"),
    ],
)
def test_array_dataset_rejects_bad_arguments(kwargs, argument):
    args = {"x": np.zeros((4, 2), np.float32), "y": np.arange(4), **kwargs}
    with pytest.raises(ValueError, match=f"`{argument}`"):
        array_dataset(**args)
