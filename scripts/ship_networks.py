"""Write the book's long-trained networks and their manifest into networks/ (``make networks``).

For each network in :data:`SHIPPED` (recipe of :mod:`advkeras.book.experiments`
and its arguments, under the ``book`` profile): take it from the model cache,
or with ``--retrain`` train it afresh (shipped networks ignored), measure it on
the MNIST test set right away (clean error; FGSM error at ε = .25 clipped to
[0, 1] as the chapters attack, and unclipped as the paper's adversarial
training and validation do), and ship it with :func:`advkeras.book.networks.ship`:
the file, its SHA-256, key, spec, history, the advkeras version, the git
commit of the code that trained it, the training time and the metrics.

Usage::

    python scripts/ship_networks.py --retrain            # train, time, ship (≈ 2.5 h on 2 cores)
    python scripts/ship_networks.py --commit C --seconds maxout240=2700 ...
                                                          # ship what the cache holds

A network of ``maxout_retrained`` (the second stage of §6's protocol) is
timed for its second stage only: its first stage is another shipped network.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from execute_chapters import advkeras_is_dirty, git_head

ROOT = Path(__file__).resolve().parents[1]

#: (recipe, arguments) of the shipped networks, all under the ``book`` profile.
SHIPPED: tuple[tuple[str, dict[str, object]], ...] = (
    ("maxout", {}),
    ("maxout", {"adversarial": True}),
    # §6's protocol (C13) on the adversarial network above: its kept epoch k, then k epochs
    # on all 60,000 digits from a fresh start (stage 2; stage 1 is the network above).
    ("maxout_retrained", {}),
)
PROFILE = "book"
EPS = 0.25


def _git_commit() -> str:
    """HEAD, marked ``+dirty`` when the package differs from it (HEAD is then not what trained)."""
    head = git_head() or "unknown"
    return head + ("+dirty" if advkeras_is_dirty() else "")


def measure(model: object, fgsm_trained: bool) -> dict[str, object]:
    """Test-set errors right after training, and the epoch that early stopping kept.

    A network of ``maxout_retrained`` held nothing out: its record is the epochs
    it ran and its first stage's (epochs run, kept epoch, monitor).
    """
    from advkeras import attacks, evaluation
    from advkeras.book import experiments

    s = experiments.mnist(PROFILE)
    history = model.advkeras_history
    stage1 = getattr(model, "advkeras_stage1", None)
    kept = (
        {"epochs": len(history["loss"]), "kept": None, "monitor": None}
        if stage1
        else experiments.kept_epoch(model, PROFILE, fgsm=fgsm_trained)
    )
    metrics: dict[str, object] = {
        "test_error": evaluation.error_rate(model, s.x_test, s.y_test),
        "test_fgsm_error_clipped": evaluation.error_rate(
            model, attacks.fgsm(model, s.x_test, s.y_test, eps=EPS), s.y_test
        ),
        "test_fgsm_error_unclipped": evaluation.error_rate(
            model, attacks.fgsm(model, s.x_test, s.y_test, eps=EPS, clip=None), s.y_test
        ),
        "epochs_run": kept["epochs"],
    }
    if stage1:
        metrics.update(
            stage1_epochs_run=stage1["epochs"],
            stage1_kept_epoch=stage1["kept"],
            stage1_monitor=stage1["monitor"],
        )
    if kept["monitor"]:
        best = kept["kept"] - 1
        metrics.update(
            monitor=kept["monitor"],
            best_epoch=kept["kept"],
            **{k: history[k][best] for k in ("val_error", "val_adv_error") if k in history},
        )
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in metrics.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain", action="store_true", help="train afresh and time it")
    parser.add_argument("--commit", help="git commit that trained the cached networks")
    parser.add_argument(
        "--seconds", nargs="*", default=[], help="NAME=SECONDS training times of cached networks"
    )
    parser.add_argument("--note", default="", help="a line about the training run")
    parser.add_argument("--dest", type=Path, default=ROOT / "networks")
    parser.add_argument("--only", nargs="*", help="network names to ship (default: all)")
    args = parser.parse_args()
    if not args.retrain and not args.commit:
        parser.error("ship cached networks with --commit (the code that trained them)")
    seconds = dict(item.split("=", 1) for item in args.seconds)

    import advkeras
    from advkeras import environment
    from advkeras.book import cache, experiments, networks

    commit = _git_commit() if args.retrain else args.commit
    if args.retrain:
        os.environ[environment.NETWORKS] = networks.OFF
        os.environ[environment.CACHE_DIR] = tempfile.mkdtemp(prefix="advkeras-ship-")
    for recipe, kwargs in SHIPPED:
        spec = experiments.recipe_spec(recipe, PROFILE, **kwargs)
        name = spec["name"]
        if args.only and name not in args.only:
            continue
        started = time.time()
        if args.retrain:
            model = getattr(experiments, recipe)(PROFILE, **kwargs)
            took: float | None = round(time.time() - started, 1)
        else:
            entry = cache.cache_path(spec).parent
            if not (entry / cache.RECORD_FILE).is_file():
                sys.exit(f"{name} is not in the cache ({entry}): run with --retrain")
            model = getattr(experiments, recipe)(PROFILE, **kwargs)
            took = float(seconds[name]) if name in seconds else None
        history = model.advkeras_history
        entry = cache.cache_path(spec).parent
        shipped = networks.ship(
            args.dest,
            spec,
            entry / cache.MODEL_FILE,
            history,
            recipe=recipe,
            arguments=kwargs,
            profile=PROFILE,
            advkeras_version=advkeras.__version__,
            git_commit=commit,
            training_seconds=took,
            machine=f"{os.cpu_count()} CPU cores, {platform.machine()}, TensorFlow on CPU",
            note=args.note,
            metrics=measure(model, bool(kwargs.get("adversarial"))),
        )
        print(json.dumps({k: shipped[k] for k in ("file", "sha256", "metrics")}, indent=1))


if __name__ == "__main__":
    main()
