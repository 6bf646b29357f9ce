"""Training at the machine's limit (issue 11 §1): the book's training paths as multiples of a measured limit.

The limit: a training epoch of the 240×5 maxout MLP on ``--n`` images (50,000)
costs, per example, one forward pass and two backward matmuls per layer
(dX and dW), i.e. 3 forward-equivalents for a clean step and 6 for an
adversarial one (two forward and two backward passes). The benchmark times
exactly those matmuls at the network's shapes (batch 100: 784→1200, 240→1200,
240→10; the maxout pieces are 5 × 240 = 1200 columns) in a compiled
``tf.function`` loop over one epoch of batches, and divides each training path's
epoch time by it:

- ``fit_classifier`` clean (the book's naive network; ``eps=0``, no validation);
- ``fit_classifier`` adversarial (α = .5, ε = .25, no validation);
- the per-epoch validation of the adversarial run (clean + FGSM on 10,000
  images) as a share of its epoch.

Each path runs ``--epochs`` epochs (3) after its first one (tracing, warm-up),
and the median is reported with min–max. Run:
``python benchmarks/bench_limit.py [--n 50000] [--epochs 3]``; results to
``results/limit.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHAPES = ((784, 1200), (240, 1200), (240, 10))  # (inputs, outputs) of each layer's matmul
BATCH = 100


def matmul_epoch_seconds(n: int, repeats: int) -> tuple[list[float], float]:
    """Seconds for the 3 forward-equivalents of matmuls of one clean epoch; FLOPs per epoch."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    xs = [tf.constant(rng.standard_normal((BATCH, i)), tf.float32) for i, _ in SHAPES]
    ws = [tf.constant(rng.standard_normal((i, o)) * 0.01, tf.float32) for i, o in SHAPES]
    gs = [tf.constant(rng.standard_normal((BATCH, o)), tf.float32) for _, o in SHAPES]
    steps = n // BATCH

    @tf.function
    def epoch() -> tf.Tensor:
        total = tf.constant(0.0)
        for _ in tf.range(steps):
            for x, w, g in zip(xs, ws, gs, strict=True):
                y = tf.matmul(x, w)  # forward
                dw = tf.matmul(x, g, transpose_a=True)  # backward: weights
                dx = tf.matmul(g, w, transpose_b=True)  # backward: inputs
                total += y[0, 0] + dw[0, 0] + dx[0, 0]
        return total

    epoch()  # trace
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        epoch().numpy()
        times.append(time.perf_counter() - start)
    flops = 3 * 2 * steps * BATCH * sum(i * o for i, o in SHAPES)
    return times, float(flops)


def epoch_timer() -> object:
    """A Keras callback recording each epoch's training seconds and its seconds with validation."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.train: list[float] = []
            self.total: list[float] = []
            self._test: float | None = None

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._start, self._test = time.perf_counter(), None

        def on_test_begin(self, logs: dict | None = None) -> None:
            self._test = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            end = time.perf_counter()
            self.train.append((self._test or end) - self._start)
            self.total.append(end - self._start)

    return EpochTimer()


def train_path(x, y, val, *, adversarial: bool, epochs: int) -> dict[str, list[float]]:
    import keras

    from advkeras import fitting, models

    keras.utils.set_random_seed(0)
    model = models.maxout_mlp(240, 5, seed=0)
    timer = epoch_timer()
    fitting.fit_classifier(
        model,
        x,
        y,
        epochs=epochs + 1,
        batch_size=BATCH,
        validation_data=val,
        adversarial=adversarial,
        eps=0.25 if adversarial else 0.0,
        callbacks=[timer],
        verbose=0,
    )
    return {"train": timer.train[1:], "total": timer.total[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--output", default="limit")
    args = parser.parse_args()

    from advkeras import datasets

    s = datasets.mnist_splits(train=args.n, val=10_000, test=None)
    limit, flops = matmul_epoch_seconds(len(s.x_train), args.epochs)
    clean = train_path(s.x_train, s.y_train, None, adversarial=False, epochs=args.epochs)
    adv = train_path(s.x_train, s.y_train, (s.x_val, s.y_val), adversarial=True, epochs=args.epochs)
    lim = float(np.median(limit))
    rows = {
        "limit (3 forward-equivalents of matmuls)": limit,
        "fit_classifier clean": clean["train"],
        "fit_classifier adversarial": adv["train"],
        "adversarial epoch incl. validation": adv["total"],
    }
    val_share = [(t - a) / a for t, a in zip(adv["total"], adv["train"], strict=True)]
    result = {
        "n": len(s.x_train),
        "epochs": args.epochs,
        "flops_clean_epoch": flops,
        "gflops_per_s": flops / lim / 1e9,
        "seconds": rows,
        "multiple_of_limit": {
            "clean (limit: 3 fwd)": float(np.median(clean["train"])) / lim,
            "adversarial (limit: 6 fwd)": float(np.median(adv["train"])) / (2 * lim),
        },
        "validation_share_of_adversarial_epoch": val_share,
    }
    out = HERE / "results" / f"{args.output}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"matmul limit: {lim:.2f} s per clean epoch ({result['gflops_per_s']:.0f} GFLOP/s)")
    for name, ts in rows.items():
        print(f"{name:45s} median {np.median(ts):6.2f} s  ({min(ts):.2f}–{max(ts):.2f})")
    for name, m in result["multiple_of_limit"].items():
        print(f"{name:45s} {m:.2f}× its limit")
    print(f"validation: {100 * np.median(val_share):.0f} % of an adversarial epoch")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
