"""In-memory arrays as a ``tf.data`` pipeline that does not compete with training for the CPU.

Keras' ``fit`` on NumPy arrays builds an autotuned ``tf.data`` pipeline;
:func:`array_dataset` builds the same batches (shuffled anew at every epoch)
with tf.data's autotuning threads off, which matters on machines with few
cores. See ``benchmarks/RESULTS.md`` for the measurements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from advkeras._validation import check_positive_int, invalid

__all__ = ["array_dataset"]


def _in_memory(a: Any) -> bool:
    """A NumPy array or a dense tensor: data that Keras would slice into batches itself."""
    return isinstance(a, np.ndarray) or (
        isinstance(a, tf.Tensor) and not isinstance(a, tf.RaggedTensor | tf.SparseTensor)
    )


def array_dataset(
    x: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """In-memory arrays as a batched ``tf.data`` pipeline with tf.data autotuning off.

    :func:`advkeras.fitting.fit_classifier` trains on it; pass it to any
    model's ``fit`` for the same effect:
    ``fit(array_dataset(x, y, batch_size=100, shuffle=True), shuffle=False)``
    (the dataset shuffles; Keras' ``shuffle`` applies to arrays only). Keras' own array adapter builds an autotuned pipeline
    (parallel ``map`` and ``prefetch(AUTOTUNE)``); on a 2-core CPU its
    background threads compete with the training step, and whole epochs then
    run on one core (measured: an adversarial epoch of the 240-unit maxout
    network on 10,000 MNIST images took 5.2 s in 6 of 9 autotuned runs,
    2.7–3.7 s in all 9 runs without autotuning). Here the arrays are held
    once, the indices are shuffled (anew at every epoch) and gathered batch
    by batch in the iterator's own thread.

    Args:
        x: inputs, an array of shape (N, ...).
        y: labels, an array of length N.
        sample_weight: None or weights of length N.
        batch_size: integer >= 1; the last batch may be smaller.
        shuffle: shuffle the examples at every pass over the dataset.
        seed: shuffling seed; None follows TensorFlow's global seed (set by
            ``keras.utils.set_random_seed``).

    Returns:
        A dataset of ``(x, y)`` or ``(x, y, sample_weight)`` batches.

    Example:

    >>> ds = array_dataset(np.zeros((5, 2)), np.arange(5), batch_size=2)
    >>> [int(len(b[1])) for b in ds]
    [2, 2, 1]
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(shuffle, bool):
        raise invalid("shuffle", "True or False", shuffle)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise invalid("seed", "None or an integer", seed)
    arrays = [("x", x), ("y", y)] + (
        [] if sample_weight is None else [("sample_weight", sample_weight)]
    )
    tensors = []
    for name, a in arrays:
        if not _in_memory(a) and not hasattr(a, "__array__"):
            raise invalid(name, "an array", type(a).__name__)
        t = tf.convert_to_tensor(a)
        if t.shape.rank is None or t.shape.rank == 0:
            raise invalid(name, "an array with a first (example) axis", f"shape {t.shape}")
        tensors.append(t)
    n = int(tensors[0].shape[0])
    for (name, _), t in zip(arrays[1:], tensors[1:], strict=True):
        if int(t.shape[0]) != n:
            raise invalid(name, f"{n} rows, as many as x", f"{int(t.shape[0])} rows")
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(max(n, 1), seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size)
    whole = tf.data.Dataset.from_tensors(tuple(tensors)).repeat()

    def gather(idx: tf.Tensor, data: tuple[tf.Tensor, ...]) -> tuple[tf.Tensor, ...]:
        return tuple(tf.gather(t, idx) for t in data)

    dataset = tf.data.Dataset.zip((indices, whole)).map(gather)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.map_parallelization = False
    return dataset.with_options(options)
