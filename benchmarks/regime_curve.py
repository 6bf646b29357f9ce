"""How far does the pylearn2 recipe get with more epochs? A learning curve for issue 11.

Trains ``advkeras.models.maxout_mlp(240, 5)`` on the paper's 50,000-image training split with
the original pylearn2 recipe (``fit_classifier``'s defaults: SGD lr .1 decayed by 1.000004 per
batch, momentum .5 -> .7 over epochs 1-250, batches of 100, dropout, max-norm), cleanly or
adversarially (alpha = .5, eps = .25), for a fixed number of epochs, and records per epoch the
training and validation metrics and every ``--every`` epochs the test error and the FGSM
(eps = .25) test error. Not part of ``make test`` or ``make bench``: 300 clean epochs take
about 40 minutes on 2 cores.

Usage (from the repository root)::

    .venv/bin/python benchmarks/regime_curve.py naive --epochs 300
    .venv/bin/python benchmarks/regime_curve.py adversarial --epochs 300
    .venv/bin/python benchmarks/regime_curve.py --table benchmarks/regime/naive_seed0.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def train(
    kind: str, epochs: int, every: int, seed: int, out: Path, save: Path | None = None
) -> None:
    import keras
    import numpy as np

    from advkeras import attacks, datasets, fitting, models
    from advkeras._files import atomic_path, atomic_write_text

    s = datasets.mnist_splits()  # the book profile's sizes: all 50,000 / 10,000 / 10,000
    rows: list[dict[str, float]] = []
    start = time.perf_counter()

    def errors(model: keras.Model) -> tuple[float, float]:
        clean = model.predict(s.x_test, verbose=0, batch_size=1000).argmax(1)
        x_adv = attacks.fgsm(model, s.x_test, s.y_test, eps=0.25)
        adv = model.predict(x_adv, verbose=0, batch_size=1000).argmax(1)
        return float(np.mean(clean != s.y_test)), float(np.mean(adv != s.y_test))

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            row = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - start, 1)}
            row.update({k: float(v) for k, v in (logs or {}).items()})
            if (epoch + 1) % every == 0 or epoch + 1 == epochs:
                row["test_error"], row["test_fgsm_error"] = errors(base)
            rows.append(row)
            record = {"kind": kind, "seed": seed, "epochs": epochs, "curve": rows}
            atomic_write_text(out, json.dumps(record, indent=0) + "\n")

    keras.utils.set_random_seed(seed)
    base = models.maxout_mlp(240, 5, seed=seed)
    adversarial = kind == "adversarial"
    fitting.fit_classifier(
        base,
        s.x_train,
        s.y_train,
        epochs=epochs,
        validation_data=(s.x_val, s.y_val),
        adversarial=adversarial,
        eps=0.25 if adversarial else 0.0,
        seed=seed,
        callbacks=[Record()],
        verbose=0,
    )
    if save is not None:
        with atomic_path(save) as tmp:
            base.save(tmp)


def table(path: Path, every: int) -> str:
    """A markdown table of a recorded curve: the rows that carry test errors."""
    record = json.loads(path.read_text())
    lines = [
        f"{record['kind']} maxout 240x5, seed {record['seed']}, pylearn2 recipe, 50k train",
        "",
        "| epoch | validation error % | test error % | FGSM test error % (eps .25) |",
        "|---:|---:|---:|---:|",
    ]
    for row in record["curve"]:
        if "test_error" in row and row["epoch"] % every == 0:
            lines.append(
                f"| {row['epoch']} | {100 * (1 - row['val_accuracy']):.2f} "
                f"| {100 * row['test_error']:.2f} | {100 * row['test_fgsm_error']:.1f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", choices=("naive", "adversarial"))
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="save the trained network here (.keras)")
    parser.add_argument("--table", type=Path, help="print a recorded curve as a markdown table")
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.table, args.every))
        return 0
    if args.kind is None:
        parser.error("give naive or adversarial, or --table FILE")
    out = HERE / "regime" / f"{args.kind}_seed{args.seed}.json"
    train(args.kind, args.epochs, args.every, args.seed, out, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
