"""Turn ``benchmarks/results/*.json`` into the tables of ``benchmarks/RESULTS.md`` (and print them).

Run: ``python benchmarks/report.py [--fgsm fgsm] [--training training] [--memory memory]
[--matrix fgsm_matrix] [--limit limit] [--pgd pgd]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
from typing import Any

import _common as c
from bench_fgsm import (
    ADVKERAS,
    ART,
    CH_EAGER,
    CH_FUNCTION,
    CH_XLA,
    FOOLBOX,
    LIMIT,
    LIMIT_GRAPH,
)
from bench_matrix import BARE_LIMIT, PEER_LIMIT, TWIN
from bench_pgd import ADVKERAS as PGD_ADVKERAS
from bench_pgd import ADVKERAS_BEST as PGD_BEST
from bench_pgd import CH_FUNCTION as PGD_CH_FUNCTION
from bench_pgd import LIMITS as PGD_LIMITS
from bench_training import ADVKERAS as ADV_FIT
from bench_training import ART as ART_TRAINER
from bench_training import BARE_ADV, BARE_CLEAN, CLEAN

DOC_CALLED_PEERS = (CH_EAGER, ART, FOOLBOX)
MB = 1e6

TARGET_LIMIT = 1.10
TARGET_PEER_SPEEDUP = 1.3
TARGET_EPOCH_RATIO = 2.1
TARGET_AGREEMENT = 1e-6


def _fmt_s(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _fmt_x(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}×"


def _rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in data["rows"]}


def _median(row: dict[str, Any] | None) -> float | None:
    if not row or not row.get("times"):
        return None
    return row["median"]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def paired(rows: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    """Median over repetitions of time(a) / time(b), both from the same repetition.

    Within a repetition the methods run one after the other, so a per-repetition
    ratio cancels most of the machine's load drift; its median is what the
    targets are judged on.
    """
    pairs = _pairs(rows, a, b)
    return statistics.median(pairs) if pairs else None


def _pairs(rows: dict[str, dict[str, Any]], a: str, b: str, key: str = "times") -> list[float]:
    ta = (rows.get(a) or {}).get(key) or []
    tb = (rows.get(b) or {}).get(key) or []
    return [x / y for x, y in zip(ta, tb, strict=False) if y]


def _pt(rows: dict[str, dict[str, Any]], a: str, b: str) -> str:
    """``median× (min–max)`` of the per-repetition ratios time(a) / time(b), and the CPU-time one."""
    pairs = _pairs(rows, a, b)
    if not pairs:
        return "–"
    text = f"{statistics.median(pairs):.2f}× ({min(pairs):.2f}–{max(pairs):.2f})"
    cpu = _pairs(rows, a, b, "cpu_times")
    return text + (f"; CPU {statistics.median(cpu):.2f}×" if cpu else "")


def _span(row: dict[str, Any]) -> str:
    times = row.get("times") or []
    return f"{min(times):.3f}–{max(times):.3f}" if times else "–"


def _cpu(row: dict[str, Any]) -> str:
    cpu = row.get("cpu_times") or []
    return f"{statistics.median(cpu):.3f}" if cpu else "–"


def _diff_text(row: dict[str, Any], model: dict[str, Any]) -> str:
    diff = row.get("max_abs_diff_vs_advkeras")
    if diff is None:
        return "–"
    n_diff = row.get("n_diff_vs_advkeras", 0)
    return f"{diff:.2g}" if not n_diff else f"{diff:.2g} ({n_diff:,} px)"


def fgsm_table(model: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Markdown lines of one model's FGSM table, and its target checks."""
    rows = _rows(model)
    lines = [
        f"#### {model['title']}: {model['params']:,} parameters, output kind "
        f"`{model['output_kind']}`, clean test error {100 * model['clean_error']:.1f}%",
        "",
        "| method | median s | min–max s | CPU s | × XLA limit | × no-XLA pass "
        "| advkeras speed-up | error on x_adv | max abs Δ vs advkeras | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in rows.items():
        is_ours_or_limit = name == ADVKERAS or name.startswith("limit") or name == LIMIT_GRAPH
        speedup = None if is_ours_or_limit else paired(rows, name, ADVKERAS)
        adv_error = row.get("adv_error")
        note = f"cannot run: `{row['error']}`" if row.get("error") else ""
        lines.append(
            f"| {name} | {_fmt_s(_median(row))} | {_span(row)} | {_cpu(row)} | "
            f"{_fmt_x(paired(rows, name, LIMIT))} | {_fmt_x(paired(rows, name, LIMIT_GRAPH))} | "
            f"{_fmt_x(speedup)} | "
            f"{'–' if adv_error is None else f'{100 * adv_error:.1f}%'} | "
            f"{'–' if name == ADVKERAS else _diff_text(row, model)} | {note} |"
        )
    title = model["title"]
    checks: list[tuple[str, str, str]] = []
    r = paired(rows, ADVKERAS, LIMIT)
    checks.append(
        (
            f"{title}: advkeras.fgsm ≤ {TARGET_LIMIT:.2f}× the XLA forward+backward limit",
            _pt(rows, ADVKERAS, LIMIT),
            _verdict(None if r is None else r <= TARGET_LIMIT),
        )
    )
    checks.append(
        (
            f"{title}: (info) advkeras.fgsm over the same bare pass without XLA",
            _pt(rows, ADVKERAS, LIMIT_GRAPH),
            "info",
        )
    )
    for peer in DOC_CALLED_PEERS:
        peer_row = rows.get(peer)
        target = f"{title}: ≥ {TARGET_PEER_SPEEDUP}× faster than {peer}"
        if peer_row and peer_row.get("error"):
            checks.append((target, "cannot run", "n/a"))
            continue
        s = paired(rows, peer, ADVKERAS)
        checks.append(
            (
                target,
                _pt(rows, peer, ADVKERAS),
                _verdict(None if s is None else s >= TARGET_PEER_SPEEDUP),
            )
        )
    s = paired(rows, CH_FUNCTION, ADVKERAS)
    checks.append(
        (
            f"{title}: no slower than {CH_FUNCTION}",
            _pt(rows, CH_FUNCTION, ADVKERAS),
            _verdict(None if s is None else s >= 1.0),
        )
    )
    checks.append((f"{title}: (info) speed-up over {CH_XLA}", _pt(rows, CH_XLA, ADVKERAS), "info"))
    measured = []
    best = None
    for peer, label in ((CH_EAGER, "vs eager/graph"), (CH_XLA, "vs XLA")):
        row = rows.get(peer) or {}
        diff = row.get("max_abs_diff_vs_advkeras")
        if diff is None:
            continue
        n_diff = row.get("n_diff_vs_advkeras", 0)
        measured.append(f"{label}: {diff:.2g}" + (f" ({n_diff:,} px)" if n_diff else ""))
        best = diff if best is None else min(best, diff)
    checks.append(
        (
            f"{title}: same examples as CleverHans compiled the same way "
            f"(max abs Δ ≤ {TARGET_AGREEMENT:g})",
            "; ".join(measured) or "–",
            _verdict(None if best is None else best <= TARGET_AGREEMENT),
        )
    )
    return lines, checks


def training_table(data: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Markdown lines of the adversarial training table, and its target checks."""
    rows = _rows(data)
    lines = [
        f"{data['title']}, {data['n_train']:,} examples per epoch (MNIST "
        f"`train[:{data['n_train']}]`), batch {data['batch_size']}, SGD(0.1, momentum 0.5), "
        f"ε = {data['eps']}, α = {data['alpha']}. Epochs timed after a warm-up epoch: "
        f"{data.get('fit_repeats', data['repeats'])} for the Keras and bare loops, "
        f"{data['repeats']} for ART (interleaved; ratios paired within a round).",
        "",
        "| method | median s/epoch | min–max s | CPU s | × clean epoch | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, row in rows.items():
        note = f"cannot run: `{row['error']}`" if row.get("error") else ""
        lines.append(
            f"| {name} | {_fmt_s(_median(row))} | {_span(row)} | {_cpu(row)} | "
            f"{_fmt_x(paired(rows, name, CLEAN))} | {note} |"
        )
    r = paired(rows, ADV_FIT, CLEAN)
    s = paired(rows, ART_TRAINER, ADV_FIT)
    checks = [
        (
            f"adversarial epoch ≤ {TARGET_EPOCH_RATIO}× a clean epoch",
            _pt(rows, ADV_FIT, CLEAN),
            _verdict(None if r is None else r <= TARGET_EPOCH_RATIO),
        ),
        (
            "(info) the same ratio for the bare tf.function training loops",
            _pt(rows, BARE_ADV, BARE_CLEAN),
            "info",
        ),
        (
            f"adversarial epoch ≥ {TARGET_PEER_SPEEDUP}× faster than {ART_TRAINER}",
            _pt(rows, ART_TRAINER, ADV_FIT),
            _verdict(None if s is None else s >= TARGET_PEER_SPEEDUP),
        ),
    ]
    return lines, checks


def _runs(r: dict[str, Any]) -> str:
    return ", ".join(f"{e / MB:.1f}" for e in r.get("extras", []))


def memory_table(data: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Markdown lines of the memory tables, and the FGSM memory target checks."""
    lines = [
        "FGSM over the 10,000 test images (input 31.4 MB, output 31.4 MB), after a warm-up on "
        "the first 17 batches (every method has then compiled all it runs): *extra* = peak RSS "
        "during the call − RSS before it − the output array. *Budget* = one batch of tensors: "
        "every tensor one batch's forward + backward graph produces, summed. Each row is the "
        f"median of {data.get('runs', 1)} fresh processes (all shown).",
        "",
        "| model | method | peak RSS MB | extra MB | extra / budget | budget MB | extra MB, every run |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    checks: list[tuple[str, str, str]] = []
    for r in data.get("fgsm", []):
        if "error" in r:
            lines.append(f"| {r['model']} | {r['name']} | – | – | – | – | `{r['error']}` |")
            continue
        extra = r["peak"] - r["before"] - r["output_bytes"]
        budget = r["batch_tensor_bytes"]
        lines.append(
            f"| {r['model']} | {r['name']} | {r['peak'] / MB:.0f} | {extra / MB:.1f} | "
            f"{extra / budget:.2f} | {budget / MB:.1f} | {_runs(r)} |"
        )
        if r["name"] == ADVKERAS:
            checks.append(
                (
                    f"{c.MODEL_TITLES.get(r['model'], r['model'])}: FGSM extra memory ≤ one batch "
                    f"of tensors ({budget / MB:.1f} MB)",
                    f"{extra / MB:.1f} MB",
                    _verdict(extra <= budget),
                )
            )
    if data.get("training"):
        lines += [
            "",
            "One training epoch (input 31.4 MB): *extra* = peak RSS during the epoch − RSS before it"
            + (
                f" (measured {data['training_machine']['date']}, before the FGSM rows above)."
                if data.get("training_machine")
                else "."
            ),
            "",
            "| method | peak RSS MB | extra MB | extra MB, every run |",
            "|---|---:|---:|---|",
        ]
        for r in data["training"]:
            if "error" in r:
                lines.append(f"| {r['name']} | – | – | `{r['error']}` |")
                continue
            lines.append(
                f"| {r['name']} | {r['peak'] / MB:.0f} | {(r['peak'] - r['before']) / MB:.1f} | "
                f"{_runs(r)} |"
            )
    return lines, checks


def _cell_time(row: dict[str, Any] | None) -> str:
    """``median (min–max)`` seconds of one method in one matrix cell."""
    if not row or not row.get("times"):
        return "–" if not row or not row.get("error") else "failed"
    return f"{row['median']:.3f} ({row['min']:.3f}–{row['max']:.3f})"


def _ratio(stats: dict[str, float] | None, cpu: dict[str, float] | None = None) -> str:
    if not stats:
        return "–"
    text = f"{stats['median']:.2f}× ({stats['min']:.2f}–{stats['max']:.2f})"
    return text + (f"; CPU {cpu['median']:.2f}×" if cpu else "")


def matrix_table(data: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Markdown lines of the FGSM matrix (models × batch sizes), and its two checks."""
    bare_limit = data.get("bare_limit", BARE_LIMIT)
    peer_limit = data.get("peer_limit", PEER_LIMIT)
    peers = [m for m in data["methods"] if m not in (LIMIT, LIMIT_GRAPH, ADVKERAS, TWIN)]
    lines = [
        f"FGSM (ε = {data['eps']}, true labels, clip to [0, 1]) on the first {data['n']:,} MNIST "
        f"test digits, {data['repeats']} repetition(s) after one warm-up per cell, methods "
        "interleaved. Seconds: median (min–max). Ratios are formed repetition by repetition "
        "and summarised by their median (min–max): *advkeras / bare* against each of the "
        "bare XLA and bare graph passes, the larger of the two medians shown (the faster pass), "
        "*advkeras / peer* against each peer, the largest shown (the hardest peer), then the same median on CPU time. *A/A noise*: "
        "advkeras is timed twice per repetition; the median |A/A − 1| of the cell. Verdicts: "
        f"*met* when the ratio is ≤ {bare_limit:.2f} (bare) or ≤ {peer_limit:.2f} (peer), "
        "*within noise* when it exceeds that by no more than the A/A noise, *missed* otherwise. "
        f"Peers: {', '.join(peers) or 'none'}.",
        "",
        "| model | batch | bare XLA s | bare graph s | advkeras.fgsm s | hardest peer s "
        "| advkeras / bare | advkeras / peer | A/A noise | verdict (bare; peer) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    missed_bare, missed_peer, noisy, n_cells = [], [], [], 0
    worst_bare: float | None = None
    worst_peer: float | None = None
    for model in data["models"]:
        for cell in model["cells"]:
            n_cells += 1
            rows = _rows(cell)
            hardest = cell.get("hardest_peer")
            peer_text = f"{hardest}: {_cell_time(rows.get(hardest))}" if hardest else "–"
            label = f"{model['model']}/{cell['batch_size']}"
            vb, vp = cell.get("verdict_bare", "n/a"), cell.get("verdict_peer", "n/a")
            if vb == "missed":
                missed_bare.append(label)
            if vp == "missed":
                missed_peer.append(label)
            if "within noise" in (vb, vp):
                noisy.append(label)
            bare, peer = cell.get("advkeras_over_bare"), cell.get("advkeras_over_peer")
            if bare:
                worst_bare = max(worst_bare or 0.0, bare["median"])
            if peer:
                worst_peer = max(worst_peer or 0.0, peer["median"])
            lines.append(
                f"| {model['title']} | {cell['batch_size']} | {_cell_time(rows.get(LIMIT))} | "
                f"{_cell_time(rows.get(LIMIT_GRAPH))} | {_cell_time(rows.get(ADVKERAS))} | "
                f"{peer_text} | {_ratio(bare, cell.get('advkeras_over_bare_cpu'))} | "
                f"{_ratio(peer, cell.get('advkeras_over_peer_cpu'))} | "
                f"{cell.get('noise', 0.0):.3f} | {vb}; {vp} |"
            )
    lines += [
        "",
        "Every method, median seconds per cell (*error on x_adv*: the model's test error on "
        "advkeras' examples; *differ*: pixels of a method's examples that differ from advkeras').",
        "",
        "| model | batch | error on x_adv | " + " | ".join(data["methods"]) + " |",
        "|---|---:|---:|" + "---:|" * len(data["methods"]),
    ]
    for model in data["models"]:
        for cell in model["cells"]:
            rows = _rows(cell)
            adv_error = cell.get("advkeras_adv_error")
            values = []
            for method in data["methods"]:
                row = rows.get(method) or {}
                if row.get("error"):
                    values.append("failed")
                    continue
                text = _fmt_s(_median(row))
                if row.get("n_diff_vs_advkeras"):
                    text += f" (differ {row['n_diff_vs_advkeras']:,} px)"
                values.append(text)
            lines.append(
                f"| {model['model']} | {cell['batch_size']} | "
                f"{'–' if adv_error is None else f'{100 * adv_error:.1f}%'} | "
                + " | ".join(values)
                + " |"
            )
    worst_b = "–" if worst_bare is None else f"{worst_bare:.2f}×"
    worst_p = "–" if worst_peer is None else f"{worst_peer:.2f}×"
    within = f"; within noise: {', '.join(noisy)}" if noisy else ""
    checks = [
        (
            f"FGSM matrix: advkeras.fgsm ≤ {bare_limit:.2f}× the faster bare pass in every "
            f"cell ({n_cells} cells), up to the cell's A/A noise",
            f"worst {worst_b}; missed: {', '.join(missed_bare) or 'none'}{within}",
            _verdict(None if worst_bare is None else not missed_bare),
        ),
        (
            f"FGSM matrix: advkeras.fgsm no slower than any peer in every cell "
            f"({n_cells} cells), up to the cell's A/A noise",
            f"worst {worst_p}; missed: {', '.join(missed_peer) or 'none'}",
            _verdict(None if worst_peer is None else not missed_peer),
        ),
    ]
    return lines, checks


def machine_lines(machine: dict[str, Any], runs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The header: machine, versions, and the date and load of each benchmark."""
    peers = ", ".join(f"{k} {v}" for k, v in machine["peers"].items())
    loads = []
    for label, m in runs:
        start = ", ".join(f"{x:.2f}" for x in m["loadavg"])
        end = ", ".join(f"{x:.2f}" for x in m.get("loadavg_end", m["loadavg"]))
        loads.append(f"{label} {m['date']}, load {start} → {end}")
    return [
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['os']}; TensorFlow default thread pools (intra-op "
        f"{machine['tf_threads']['intra_op'] or 'default'}, inter-op "
        f"{machine['tf_threads']['inter_op'] or 'default'}), CPU only",
        f"- Versions: Python {machine['python']}, TensorFlow {machine['tensorflow']}, "
        f"Keras {machine['keras']}, NumPy {machine['numpy']}, advkeras {machine['advkeras']}; "
        f"peers: {peers}",
        "- Runs (date; load average over 1, 5, 15 min at start → end): " + "; ".join(loads),
    ]


def limit_table(data: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Markdown lines of the training-speed benchmark (bench_limit.py) and its checks."""
    target = data.get("target", 1.6)
    val_target = data.get("validation_target", 0.15)
    seconds = data["seconds"]
    limit_name = next(k for k in seconds if k.startswith("limit"))
    lim = statistics.median(seconds[limit_name])
    lines = [
        f"One epoch of the 240×5 maxout MLP on {data['n']:,} MNIST images (batch 100, the "
        f"pylearn2 recipe, dropout and max-norm), {data['epochs']} epochs after a warm-up "
        "epoch. *Limit*: the epoch's matrix products alone (forward, and the two backward "
        "products of each layer) at the network's shapes in one compiled loop, "
        f"{_fmt_s(lim)} s ({data['gflops_per_s']:.0f} GFLOP/s); a clean epoch is judged "
        "against 1 limit, an adversarial one (two forward and two backward passes) against 2.",
        "",
        "| path | median s | min–max s | × its limit |",
        "|---|---:|---:|---:|",
    ]
    multiples = data["multiple_of_limit"]
    for name, ts in seconds.items():
        m = multiples.get(name)
        lines.append(
            f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f}–{max(ts):.2f} | "
            f"{'–' if m is None else f'{m:.2f}×'} |"
        )
    diagnostics = data.get("diagnostics") or {}
    if diagnostics:
        lines += [
            "",
            "Settings tried and not used (one clean epoch after a warm-up):",
            "",
            "| setting | s | × limit |",
            "|---|---:|---:|",
        ]
        for name, ts in diagnostics.items():
            t = statistics.median(ts)
            lines.append(f"| {name} | {t:.2f} | {t / lim:.2f}× |")
    checks = [
        (
            f"training: {name} ≤ {target:.1f}× its matmul limit",
            f"{m:.2f}×",
            _verdict(m <= target),
        )
        for name, m in multiples.items()
    ]
    shares = data.get("validation_share_of_adversarial_epoch") or {}
    if isinstance(shares, list):  # results of the benchmark before it had XLA paths
        shares = {"fit_classifier adversarial": shares} if shares else {}
    for name, share in shares.items():
        med = statistics.median(share)
        checks.append(
            (
                f"training: per-epoch validation (clean + FGSM) ≤ {100 * val_target:.0f} % of "
                f"an epoch of {name}",
                f"{100 * med:.0f} % ({100 * min(share):.0f}–{100 * max(share):.0f} %)",
                _verdict(med <= val_target),
            )
        )
    return lines, checks


def pgd_table(data: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Markdown lines of the PGD benchmark (bench_pgd.py), one table per model, and its checks."""
    lines: list[str] = []
    checks: list[tuple[str, str, str]] = []
    for model in data["models"]:
        rows = _rows(model)
        limits = [r for r in PGD_LIMITS if _median(rows.get(r)) is not None]
        limit = min(limits, key=lambda r: _median(rows[r]), default=None)
        lines += [
            f"#### {model['title']}: PGD-{data['steps']}, {model['n']:,} test images, "
            f"clean test error {100 * model['clean_error']:.1f}%",
            "",
            "| method | median s | min–max s | CPU s | × faster limit | advkeras speed-up "
            "| error on x_adv | same prediction as advkeras | note |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for name, row in rows.items():
            adv_error = row.get("adv_error")
            same = row.get("same_prediction_as_advkeras")
            ours_or_limit = name in PGD_LIMITS or name.startswith("advkeras")
            note = f"cannot run: `{row['error']}`" if row.get("error") else ""
            if name == limit:
                note = (note + " the limit").strip()
            lines.append(
                f"| {name} | {_fmt_s(_median(row))} | {_span(row)} | {_cpu(row)} | "
                f"{_fmt_x(paired(rows, name, limit) if limit else None)} | "
                f"{_fmt_x(None if ours_or_limit else paired(rows, name, PGD_ADVKERAS))} | "
                f"{'–' if adv_error is None else f'{100 * adv_error:.1f}%'} | "
                f"{'–' if same is None or name == PGD_ADVKERAS else f'{100 * same:.1f}%'} "
                f"| {note} |"
            )
        lines.append("")
        title = model["title"]
        r = paired(rows, PGD_ADVKERAS, limit) if limit else None
        checks.append(
            (
                f"{title}: advkeras.pgd ≤ {TARGET_LIMIT:.2f}× k forward+backward passes "
                f"(the faster of XLA and graph: {limit or '–'})",
                _pt(rows, PGD_ADVKERAS, limit) if limit else "–",
                _verdict(None if r is None else r <= TARGET_LIMIT),
            )
        )
        s = paired(rows, PGD_CH_FUNCTION, PGD_ADVKERAS)
        checks.append(
            (
                f"{title}: advkeras.pgd no slower than {PGD_CH_FUNCTION}",
                _pt(rows, PGD_CH_FUNCTION, PGD_ADVKERAS),
                _verdict(None if s is None else s >= 1.0),
            )
        )
        checks.append(
            (
                f"{title}: (info) cost of keep_best=True over plain advkeras.pgd",
                _pt(rows, PGD_BEST, PGD_ADVKERAS),
                "info",
            )
        )
    return lines, checks


def build(
    fgsm: str,
    training: str,
    memory: str,
    matrix: str = "fgsm_matrix",
    limit: str = "limit",
    pgd: str = "pgd",
) -> str:
    """The whole RESULTS.md text."""
    f, t, m = c.load_json(fgsm), c.load_json(training), c.load_json(memory)
    x = c.load_json(matrix)
    lim = c.load_json(limit)
    p = c.load_json(pgd)
    base = f or t or m or x
    if base is None:
        raise SystemExit(
            "no results: run bench_fgsm.py, bench_training.py, bench_memory.py, bench_matrix.py"
        )
    runs = [
        (label, d["machine"])
        for label, d in (
            ("FGSM", f),
            ("training", t),
            ("memory", m),
            ("FGSM matrix", x),
            ("training limit", lim),
            ("PGD", p),
        )
        if d and "machine" in d
    ]
    out = [
        "# Benchmarks: advkeras against the physical limit and against the peers",
        "",
        "Produced by `make bench` (`make -C benchmarks run`); the scripts and the method are "
        "described in [README.md](README.md). Times are wall-clock seconds, median of "
        f"{(f or t or x or {}).get('repeats', '?')} repetitions after one warm-up (min–max shown), "
        "methods interleaved repetition by repetition; every ratio (× limit, speed-up, × clean "
        "epoch) is the median over repetitions of the ratio within one repetition, which "
        "cancels most of the load drift of a shared machine. Same Keras model, same data, same batch "
        f"size ({c.BATCH_SIZE if base is None else base['machine']['batch_size']}) for everybody.",
        "",
        *machine_lines(base["machine"], runs),
        "",
    ]
    checks: list[tuple[str, str, str]] = []
    body: list[str] = []
    if f:
        body += [
            f"## 1. FGSM on the {f['models'][0]['n']:,} MNIST test images (ε = {f['eps']}, "
            f"true labels, clip to [0, 1], batch {f['batch_size']})",
            "",
            "*CPU s*: median process CPU time (both cores). *× XLA limit*, *× no-XLA pass*: "
            "time over the bare XLA / no-XLA forward+backward pass. *advkeras speed-up*: the "
            "method's time over advkeras'. *error on x_adv*: test error of the model on the "
            "method's examples. Models trained for 2 epochs first (Adam) so gradients are "
            "realistic.",
            "",
        ]
        for model in f["models"]:
            lines, model_checks = fgsm_table(model)
            body += [*lines, ""]
            checks += model_checks
    if t:
        lines, training_checks = training_table(t)
        body += ["## 2. Adversarial training: one epoch of fit()", "", *lines, ""]
        checks += training_checks
    if m:
        lines, memory_checks = memory_table(m)
        body += ["## 3. Memory (one fresh process per measurement)", "", *lines, ""]
        checks += memory_checks
    if x:
        lines, matrix_checks = matrix_table(x)
        body += ["## 4. FGSM matrix: models × batch sizes", "", *lines, ""]
        checks += matrix_checks
    if lim:
        lines, limit_checks = limit_table(lim)
        body += ["## 5. Training against the matmul limit", "", *lines, ""]
        checks += limit_checks
    if p:
        lines, pgd_checks = pgd_table(p)
        body += [
            f"## 6. PGD-{p['steps']} (ε = {p['eps']}, step {p['step_size']:g}, clip to [0, 1], "
            f"batch {p['batch_size']}, the same random start for every method)",
            "",
            "*× faster limit*: time over k forward+backward passes to the input in one while "
            "loop, compiled with XLA or in the graph runtime, whichever is faster for the model. "
            "*advkeras speed-up*: the peer's time over advkeras'.",
            "",
            *lines,
        ]
        checks += pgd_checks
    out += [
        "## Targets",
        "",
        "Measured: median over repetitions of the per-repetition wall-clock ratio (min–max in "
        "brackets); then the same for process CPU time, which other processes on a shared "
        "machine disturb much less. Verdicts are on the wall-clock ratio.",
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
        *[f"| {a} | {b} | {v} |" for a, b, v in checks],
        "",
        *body,
    ]
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fgsm", default="fgsm")
    parser.add_argument("--training", default="training")
    parser.add_argument("--memory", default="memory")
    parser.add_argument("--matrix", default="fgsm_matrix")
    parser.add_argument("--limit", default="limit")
    parser.add_argument("--pgd", default="pgd")
    parser.add_argument("--output", default=str(c.BENCH_DIR / "RESULTS.md"))
    args = parser.parse_args()
    text = build(args.fgsm, args.training, args.memory, args.matrix, args.limit, args.pgd)
    with open(args.output, "w") as f:
        f.write(text)
    print(text)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
