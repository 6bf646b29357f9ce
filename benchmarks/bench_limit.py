"""Training at the machine's limit (issue 11 §1): the book's training paths as multiples of a measured limit.

The limit: a training epoch of the 240×5 maxout MLP on ``--n`` images (50,000)
costs, per example, one forward pass and two backward matmuls per layer
(dX and dW), i.e. 3 forward-equivalents for a clean step and 6 for an
adversarial one (two forward and two backward passes). The benchmark times
exactly those matmuls at the network's shapes (batch 100: 784→1200, 240→1200,
240→10; the maxout pieces are 5 × 240 = 1200 columns) in a compiled
``tf.function`` loop over one epoch of batches, and divides each training path's
epoch time by it:

- ``AdversarialModel.fit`` on NumPy arrays with Keras' defaults (its own
  array adapter, one step per call), clean and adversarial: what a user gets
  without asking for more;
- ``fit_classifier`` clean (the book's naive network; ``eps=0``, no
  validation) and adversarial (α = .5, ε = .25): :func:`~advkeras.pipeline.array_dataset`
  and ``steps_per_execution=100``, the same weights (``tests/test_training.py``);
- each of these with ``jit_compile=True``: the step under XLA, with the
  dropout masks drawn outside it (:mod:`advkeras.masks`);
- the per-epoch validation of the adversarial ``fit_classifier`` runs (clean
  + FGSM on 10,000 images) as a share of their epoch.

Each path runs ``--epochs`` epochs (3) after its first one (tracing, warm-up),
and the median is reported with min–max. The targets (issue 11): every path
within 1.6× its limit, validation ≤ 15 % of an adversarial epoch.

``--diagnose`` adds one clean epoch (after a warm-up) under settings that
were tried and are not used: the base model alone in Keras' own ``fit``
(graph, and ``jit_compile=True``, where XLA draws the dropout masks: what
makes that compiled step slow), ``AdversarialModel`` under XLA without
dropout, and Keras' ``mixed_bfloat16`` policy. Run:
``python benchmarks/bench_limit.py [--n 50000] [--epochs 3] [--diagnose]``;
results to ``results/limit.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SHAPES = ((784, 1200), (240, 1200), (240, 10))  # (inputs, outputs) of each layer's matmul
BATCH = 100
TARGET = 1.6
"""Every training path within this multiple of its own matmul limit (issue 11)."""
VALIDATION_TARGET = 0.15
"""The per-epoch validation at most this share of an adversarial epoch."""


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


def train_path(
    x, y, val, *, adversarial: bool, epochs: int, fast: bool, jit: bool = False, **options: Any
) -> dict[str, list[float]]:
    """Epoch seconds of one training path (the first epoch, with tracing, left out).

    ``fast``: :func:`advkeras.fitting.fit_classifier` (array_dataset,
    ``steps_per_execution=100``); otherwise ``AdversarialModel.fit`` on the
    arrays with Keras' defaults. ``jit``: ``jit_compile=True``. ``options``,
    for ``--diagnose``: ``dropout`` (None: no dropout layers), ``policy`` (a
    Keras dtype policy) and ``keras_fit`` (the base model alone in Keras' own
    ``fit``, clean).
    """
    import keras

    from advkeras import fitting, models, pylearn2, training

    policy = options.pop("policy", None)
    previous = keras.mixed_precision.global_policy()
    if policy:
        keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        kw = {"dropout": options.pop("dropout")} if "dropout" in options else {}
        model = models.maxout_mlp(240, 5, seed=0, **kw)
        timer = epoch_timer()
        eps = 0.25 if adversarial else 0.0
        if fast:
            fitting.fit_classifier(
                model,
                x,
                y,
                epochs=epochs + 1,
                batch_size=BATCH,
                validation_data=val,
                adversarial=adversarial,
                eps=eps,
                callbacks=[timer],
                verbose=0,
                jit_compile=jit,
            )
        else:
            if options.pop("keras_fit", False):  # Keras' own fit of the base model, clean
                trainer, loss = model, {"loss": "sparse_categorical_crossentropy"}
            else:
                perturbation = "fgsm" if adversarial else "none"
                trainer = training.AdversarialModel(
                    model, eps=eps, perturbation=perturbation, seed=0
                )
                loss = {}
            trainer.compile(optimizer=pylearn2.paper_sgd(), jit_compile=jit, **loss, **options)
            trainer.fit(
                x,
                y,
                batch_size=BATCH,
                epochs=epochs + 1,
                validation_data=val,
                callbacks=[timer, pylearn2.MomentumSchedule()],
                verbose=0,
            )
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return {"train": timer.train[1:], "total": timer.total[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--diagnose", action="store_true", help="also the settings not used")
    parser.add_argument("--output", default="limit")
    args = parser.parse_args()

    from advkeras import datasets

    s = datasets.mnist_splits(train=args.n, val=10_000, test=None)
    data = (s.x_train, s.y_train)
    val = (s.x_val, s.y_val)
    limit, flops = matmul_epoch_seconds(len(s.x_train), args.epochs)
    lim = float(np.median(limit))
    paths = {}  # name: (forward-equivalents of the limit, adversarial, fast, jit)
    for fast, path in ((False, "AdversarialModel.fit on arrays"), (True, "fit_classifier")):
        for jit, suffix in ((False, ""), (True, ", jit_compile=True")):
            paths[f"{path}, clean{suffix}"] = (1, False, fast, jit)
            paths[f"{path}, adversarial{suffix}"] = (2, True, fast, jit)
    rows: dict[str, list[float]] = {"limit (3 forward-equivalents of matmuls)": limit}
    multiples: dict[str, float] = {}
    val_share: dict[str, list[float]] = {}
    for name, (times, adversarial, fast, jit) in paths.items():
        with_val = val if fast and adversarial else None
        t = train_path(
            *data, with_val, adversarial=adversarial, epochs=args.epochs, fast=fast, jit=jit
        )
        rows[name] = t["train"]
        multiples[name] = float(np.median(t["train"])) / (times * lim)
        if with_val is not None:
            rows[f"{name}, incl. validation"] = t["total"]
            val_share[name] = [(a - b) / b for a, b in zip(t["total"], t["train"], strict=True)]
    diagnostics: dict[str, list[float]] = {}
    if args.diagnose:
        for name, options in {
            "Keras Model.fit of the base model (graph)": {"keras_fit": True},
            "Keras Model.fit of the base model, jit_compile=True (XLA draws the masks)": {
                "keras_fit": True,
                "jit": True,
            },
            "AdversarialModel.fit, jit_compile=True, no dropout": {"jit": True, "dropout": None},
            "AdversarialModel.fit, mixed_bfloat16": {"policy": "mixed_bfloat16"},
            "AdversarialModel.fit, float32 (the same run, for comparison)": {},
        }.items():
            t = train_path(*data, None, adversarial=False, epochs=1, fast=False, **options)
            diagnostics[f"clean, {name}"] = t["train"]
    result = {
        "n": len(s.x_train),
        "epochs": args.epochs,
        "flops_clean_epoch": flops,
        "gflops_per_s": flops / lim / 1e9,
        "target": TARGET,
        "validation_target": VALIDATION_TARGET,
        "seconds": rows,
        "multiple_of_limit": multiples,
        "validation_share_of_adversarial_epoch": val_share,
        "diagnostics": diagnostics,
    }
    out = HERE / "results" / f"{args.output}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"matmul limit: {lim:.2f} s per clean epoch ({result['gflops_per_s']:.0f} GFLOP/s)")
    for name, ts in {**rows, **diagnostics}.items():
        print(f"{name:70s} median {np.median(ts):6.2f} s  ({min(ts):.2f}–{max(ts):.2f})")
    for name, m in multiples.items():
        print(f"{name:70s} {m:.2f}× its limit (target {TARGET}×)")
    for name, share in val_share.items():
        print(f"validation: {100 * np.median(share):.0f} % of an epoch of {name}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
