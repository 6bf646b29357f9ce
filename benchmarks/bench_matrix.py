"""FGSM matrix: models × batch sizes, advkeras against the bare pass and the fastest peer.

Issue 10, "never slower than a peer": one number per model and batch size is
not enough, so this benchmark times FGSM (ε = 0.25, true labels, clip to
[0, 1]) on the first ``--n`` MNIST test digits (default 5,000) for

- models: a ReLU MLP 784-1200-1200-10 (logits), the paper's maxout MLP
  ``advkeras.models.maxout_mlp(240, 5)`` (softmax) and the small conv net of
  ``bench_fgsm.py`` (logits), each trained for 2 Adam epochs first (the helper
  of ``bench_fgsm.py``) so the gradients are those of a working classifier;
- batch sizes 32, 100 and 500 (``--batch-sizes``);

and in each cell (model, batch size) the methods

- the bare forward + backward pass to the input, plus ``clip(x + ε·sign(g))``,
  compiled by ``tf.function(jit_compile=True)`` (XLA) and by plain
  ``tf.function`` (TensorFlow's graph runtime);
- ``advkeras.fgsm`` on the NumPy arrays with ``batch_size`` = the cell's batch size;
- the peers of ``bench_fgsm.py`` (``--peers``): CleverHans ``fast_gradient_method``
  eager, in ``tf.function`` and in ``tf.function(jit_compile=True)``, ART
  ``FastGradientMethod`` and Foolbox ``FGSM``, all with the cell's batch size.

Each cell: one warm-up, then ``--repeats`` repetitions interleaved across the
methods (repetition 1 of every method, then repetition 2, ...), the methods of
each repetition in a random order (seeded) so that none always runs after the
same one. Every ratio is
formed repetition by repetition (the methods of one repetition run back to
back, so load drift cancels) and summarised by its median over repetitions:

- advkeras / bare: against each bare pass, then the smaller (the faster pass);
- advkeras / peer: against each peer, then the largest (the hardest peer).
  Taking the per-repetition minimum over five peers instead would compare one
  measurement of advkeras with the luckiest of five;
- the noise: ``advkeras.fgsm`` is timed twice per repetition, as two methods
  running the same compiled function (A/A). The median |A/A − 1| of the
  cell is how far two runs of identical code typically drift apart there.

A check is *met* when its median ratio is within the target (1.05 for bare,
1.0 for peers), *within noise* when it exceeds the target by no more than the
cell's A/A noise, and *missed* otherwise.

Run: ``python benchmarks/bench_matrix.py [--repeats 5] [--n 5000] [--batch-sizes 32 100 500]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import _common as c
import numpy as np
from bench_fgsm import (
    ADVKERAS,
    ART,
    CH_EAGER,
    CH_FUNCTION,
    CH_XLA,
    FOOLBOX,
    LIMIT,
    LIMIT_GRAPH,
    Method,
    make_method,
    trained_model,
)

BARE = (LIMIT, LIMIT_GRAPH)
PEERS = (CH_EAGER, CH_FUNCTION, CH_XLA, ART, FOOLBOX)
PEER_KEYS = {
    "ch-eager": CH_EAGER,
    "ch-function": CH_FUNCTION,
    "ch-xla": CH_XLA,
    "art": ART,
    "foolbox": FOOLBOX,
}
"""Short names of the peers for ``--peers`` (and the Makefile's ``MATRIX_PEERS``)."""
BATCH_SIZES = (32, 100, 500)
N_DEFAULT = 5000
BARE_LIMIT = 1.05
"""Flag a cell when advkeras takes more than this × the faster bare pass."""
PEER_LIMIT = 1.0
"""Flag a cell when advkeras takes more than this × the fastest peer."""
TWIN = "advkeras.fgsm again (A/A)"
"""advkeras timed a second time in every repetition: the cell's noise."""


def verdict(ratio: float | None, limit: float, noise: float) -> str:
    """``"met"``, ``"within noise"`` (limit < ratio ≤ limit + noise) or ``"missed"``.

    >>> verdict(1.02, 1.0, 0.03), verdict(0.99, 1.0, 0.0), verdict(1.1, 1.05, 0.02)
    ('within noise', 'met', 'missed')
    """
    if ratio is None:
        return "n/a"
    if ratio <= limit:
        return "met"
    return "within noise" if ratio <= limit + noise else "missed"


def ratio_stats(values: list[float]) -> dict[str, float] | None:
    """Median, min and max of per-repetition ratios (None when there are none)."""
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def per_rep_ratios(
    rows: dict[str, dict[str, Any]], method: str, against: tuple[str, ...], key: str = "times"
) -> list[float]:
    """time(method) / min over ``against`` of their times, repetition by repetition."""
    mine = (rows.get(method) or {}).get(key) or []
    others = [(rows.get(m) or {}) for m in against]
    others = [r.get(key) for r in others if r.get(key) and not r.get("error")]
    ratios = []
    for rep, value in enumerate(mine):
        best = [t[rep] for t in others if rep < len(t)]
        if best and min(best) > 0:
            ratios.append(value / min(best))
    return ratios


def summarise(cell: dict[str, Any], peers: tuple[str, ...]) -> dict[str, Any]:
    """The ratios, the A/A noise and the verdicts of one cell, from its rows' timings.

    The faster bare pass is the one against which advkeras' median ratio is
    largest; the hardest peer likewise.
    """
    rows = {r["name"]: r for r in cell["rows"]}

    def against(others: tuple[str, ...], key: str) -> tuple[str, dict] | None:
        stats = {m: ratio_stats(per_rep_ratios(rows, ADVKERAS, (m,), key)) for m in others}
        stats = {m: v for m, v in stats.items() if v}
        if not stats:
            return None
        name = max(stats, key=lambda m: stats[m]["median"])
        return name, stats[name]

    bare, bare_cpu = against(BARE, "times"), against(BARE, "cpu_times")
    peer, peer_cpu = against(peers, "times"), against(peers, "cpu_times")
    twin = per_rep_ratios(rows, TWIN, (ADVKERAS,))
    noise = statistics.median([abs(r - 1.0) for r in twin]) if twin else 0.0
    return {
        "fastest_bare": bare and bare[0],
        "hardest_peer": peer and peer[0],
        "advkeras_over_bare": bare and bare[1],
        "advkeras_over_bare_cpu": bare_cpu and bare_cpu[1],
        "advkeras_over_peer": peer and peer[1],
        "advkeras_over_peer_cpu": peer_cpu and peer_cpu[1],
        "aa": ratio_stats(twin),
        "noise": noise,
        "verdict_bare": verdict(bare and bare[1]["median"], BARE_LIMIT, noise),
        "verdict_peer": verdict(peer and peer[1]["median"], PEER_LIMIT, noise),
    }


def run_cell(
    model: Any,
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    methods: tuple[str, ...],
    repeats: int,
) -> dict[str, Any]:
    """Time every method on one (model, batch size) cell and form the two ratios."""
    built: dict[str, Method] = {}
    errors: dict[str, str] = {}
    for method in methods:
        try:
            built[method] = make_method(
                ADVKERAS if method == TWIN else method, model, kind, batch_size
            )
        except Exception as exc:  # a peer that cannot even be set up
            errors[method] = c.error_text(exc)
            c.log(f"  {method}: set-up FAILED {errors[method]}")
    last: dict[str, np.ndarray] = {}

    def keep(method: str, fn: Method) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            last[method] = fn(x, y)
            return last[method]

        return run

    start = time.perf_counter()
    timings = c.time_round_robin(
        {m: keep(m, fn) for m, fn in built.items()}, repeats, c.log, order_seed=batch_size
    )
    wall = time.perf_counter() - start
    reference = last.get(ADVKERAS)
    rows = []
    for method in methods:
        t = timings.get(method)
        row: dict[str, Any] = t.as_dict() if t else {"name": method, "times": []}
        if method in errors:
            row["error"] = errors[method]
        out = last.get(method)
        if out is not None and reference is not None and method != ADVKERAS:
            row.update(c.difference_from(reference, out))
        rows.append(row)
    cell: dict[str, Any] = {"batch_size": batch_size, "wall_s": wall, "rows": rows}
    cell.update(summarise(cell, tuple(m for m in methods if m in PEERS)))
    if reference is not None:
        predictions = model.predict(reference, batch_size=1000, verbose=0).argmax(axis=1)
        cell["advkeras_adv_error"] = float(np.mean(predictions != y))
    return cell


def run_model(
    name: str, n: int, batch_sizes: tuple[int, ...], methods: tuple[str, ...], repeats: int
) -> dict[str, Any]:
    """Train one model briefly, then time every batch size on it."""
    c.log(f"\n== FGSM matrix, {c.MODEL_TITLES[name]}: building and training 2 epochs")
    model, kind, x, y, clean_error = trained_model(name)
    x, y = x[:n], y[:n]
    cells = []
    for batch_size in batch_sizes:
        c.log(f"-- {c.MODEL_TITLES[name]}, batch {batch_size}, {len(x):,} images")
        cells.append(run_cell(model, kind, x, y, batch_size, methods, repeats))
        cell = cells[-1]
        bare, peer = cell["advkeras_over_bare"], cell["advkeras_over_peer"]
        c.log(
            f"   advkeras / bare ({cell['fastest_bare']}) "
            f"{bare['median'] if bare else float('nan'):.3f} [{cell['verdict_bare']}], "
            f"advkeras / peer ({cell['hardest_peer']}) "
            f"{peer['median'] if peer else float('nan'):.3f} [{cell['verdict_peer']}], "
            f"A/A noise {cell['noise']:.3f}, cell {cell['wall_s']:.1f} s"
        )
    return c.model_record(name, model, kind, clean_error, len(x), cells=cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=N_DEFAULT, help="MNIST test digits attacked")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    parser.add_argument(
        "--models", nargs="+", default=list(c.MATRIX_MODELS), choices=c.MATRIX_MODELS
    )
    parser.add_argument(
        "--peers",
        nargs="*",
        default=list(PEER_KEYS),
        choices=list(PEER_KEYS),
        help="peers timed in every cell (default: all; none: only the bare passes and advkeras)",
    )
    parser.add_argument("--output", default="fgsm_matrix", help="results/<output>.json")
    parser.add_argument(
        "--summarise-only",
        action="store_true",
        help="recompute the ratios and verdicts of results/<output>.json from its timings",
    )
    args = parser.parse_args()
    if args.summarise_only:
        results = c.load_json(args.output)
        for model in results["models"]:
            for cell in model["cells"]:
                cell.update(summarise(cell, tuple(m for m in results["methods"] if m in PEERS)))
        c.log(f"rewrote {c.save_json(args.output, results)}")
        return
    methods = (*BARE, ADVKERAS, TWIN, *(PEER_KEYS[key] for key in args.peers))
    start = time.perf_counter()
    results = {
        "machine": c.machine_info(),
        "repeats": args.repeats,
        "eps": c.EPS,
        "n": args.n,
        "batch_sizes": args.batch_sizes,
        "methods": list(methods),
        "bare_limit": BARE_LIMIT,
        "peer_limit": PEER_LIMIT,
        "models": [
            run_model(m, args.n, tuple(args.batch_sizes), methods, args.repeats)
            for m in args.models
        ],
    }
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["wall_s"] = time.perf_counter() - start
    c.log(f"wrote {c.save_json(args.output, results)} ({results['wall_s']:.0f} s)")


if __name__ == "__main__":
    main()
