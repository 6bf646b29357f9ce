"""Peak resident memory of FGSM over 10,000 images and of one training epoch, one process each.

Every measurement runs in a fresh Python process (``--runs`` of them, 3 by
default; the run with the median extra memory is reported, with all runs): it
loads the data, builds the model, warms the method up on a few batches (FGSM:
:data:`WARM_UP_BATCHES`, so that every method has traced and compiled all it
runs, advkeras under XLA a chunk of batches and a single batch,
:func:`advkeras.attacks.compiled.chunk_batches`) or two batches (training) so that
graphs are traced and the allocator has served a batch, then measures the peak RSS of the full run (kernel high-water mark reset through
``/proc/self/clear_refs``, plus a 2 ms sampling thread).

For FGSM, ``extra`` is the peak minus the RSS before the run minus the output
array (10,000 × 784 float32 = 31.4 MB; the input array is loaded before). The
budget it is compared with, "one batch of tensors", is the total size of every
tensor that one batch's forward and backward pass produces (summed over the
ops of the traced graph, i.e. as if none were freed early).

Run: ``python benchmarks/bench_memory.py [--models maxout conv]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

import _common as c
import bench_fgsm
import bench_training

FGSM_METHODS_MEASURED = (
    bench_fgsm.LIMIT,
    bench_fgsm.LIMIT_GRAPH,
    bench_fgsm.ADVKERAS,
    bench_fgsm.CH_EAGER,
    bench_fgsm.ART,
    bench_fgsm.FOOLBOX,
)
TRAINING_METHODS_MEASURED = (bench_training.CLEAN, bench_training.ADVKERAS, bench_training.ART)
MB = 1e6
WARM_UP_BATCHES = 17
"""FGSM warm-up: 2 chunks of 8 batches of 100 and one batch (advkeras' two compiled functions)."""
_SKIP_OPS = {"Placeholder", "ReadVariableOp", "VarHandleOp", "Const", "NoOp", "Identity"}


def one_batch_tensor_bytes(model: Any, kind: str) -> int:
    """Bytes of all tensors one batch's forward + backward pass to the input produces."""
    import tensorflow as tf

    step = bench_fgsm.fgsm_step(model, kind)
    x_spec = tf.TensorSpec((c.BATCH_SIZE, *model.input_shape[1:]), tf.float32)
    y_spec = tf.TensorSpec((c.BATCH_SIZE,), tf.int64)
    graph = tf.function(step).get_concrete_function(x_spec, y_spec).graph
    total = 0
    for op in graph.get_operations():
        if op.type in _SKIP_OPS:
            continue
        for t in op.outputs:
            if t.shape.is_fully_defined() and t.dtype.size:
                total += t.shape.num_elements() * t.dtype.size
    return total


def child_fgsm(model_name: str, method: str) -> dict[str, Any]:
    """Peak RSS of one FGSM method over the 10,000 test images, in this process."""
    _, _, x, y = c.mnist(c.flatten_for(model_name))
    model = c.build_model(model_name, seed=0)
    kind = c.output_kind(model)
    fn = bench_fgsm.make_method(method, model, kind)
    warm = WARM_UP_BATCHES * c.BATCH_SIZE
    fn(x[:warm], y[:warm])  # trace / compile everything the full run uses
    with c.peak_rss() as mem:
        out = fn(x, y)
    return {
        **mem,
        "output_bytes": int(out.nbytes),
        "input_bytes": int(x.nbytes),
        "batch_tensor_bytes": one_batch_tensor_bytes(model, kind),
        "batch_input_bytes": int(x[: c.BATCH_SIZE].nbytes),
    }


def child_training(method: str) -> dict[str, Any]:
    """Peak RSS of one training epoch, in this process."""
    x, y, _, _ = c.mnist(flatten=True)
    epoch = bench_training.make_method(method)
    epoch(x[: 2 * c.BATCH_SIZE], y[: 2 * c.BATCH_SIZE])  # trace / compile on two batches
    with c.peak_rss() as mem:
        epoch(x, y)
    return {**mem, "input_bytes": int(x.nbytes)}


def run_child(args: list[str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its JSON result."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}


def median_of_runs(args: list[str], runs: int) -> dict[str, Any]:
    """Run the measurement ``runs`` times (fresh processes); keep the run of median extra memory.

    The allocator's behaviour (one malloc arena per TensorFlow thread) makes one
    process's peak vary by several MB from run to run; the median run is kept,
    with every run's extra memory in ``extras``.
    """
    results = [run_child(args) for _ in range(runs)]
    good = [r for r in results if "error" not in r]
    if not good:
        return results[0]

    def extra(r: dict[str, Any]) -> int:
        return r["peak"] - r["before"] - r.get("output_bytes", 0)

    good.sort(key=extra)
    chosen = dict(good[(len(good) - 1) // 2])
    chosen["extras"] = [extra(r) for r in good]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(c.MODELS), choices=c.MODELS)
    parser.add_argument("--no-training", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="processes per measurement (median)")
    parser.add_argument("--output", default="memory", help="results/<output>.json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        try:
            if args.child[0] == "fgsm":
                result = child_fgsm(args.child[1], args.child[2])
            else:
                result = child_training(args.child[1])
        except Exception as exc:
            result = {"error": c.error_text(exc)}
        print(json.dumps(result), flush=True)
        return

    results: dict[str, Any] = {
        "machine": c.machine_info(),
        "runs": args.runs,
        "fgsm": [],
        "training": [],
    }
    for model_name in args.models:
        for method in FGSM_METHODS_MEASURED:
            r = median_of_runs(["fgsm", model_name, method], args.runs)
            r.update(model=model_name, name=method)
            results["fgsm"].append(r)
            c.log(f"  memory FGSM {model_name:<7} {method:<34} {_summary(r)}")
    if not args.no_training:
        for method in TRAINING_METHODS_MEASURED:
            r = median_of_runs(["training", method], args.runs)
            r.update(model=bench_training_model(), name=method)
            results["training"].append(r)
            c.log(f"  memory epoch {method:<42} {_summary(r)}")
    results["machine"]["loadavg_end"] = os.getloadavg()
    c.log(f"wrote {c.save_json(args.output, results)}")


def bench_training_model() -> str:
    return bench_training.MODEL


def _summary(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"FAILED {r['error']}"
    extra = (r["peak"] - r["before"] - r.get("output_bytes", 0)) / MB
    runs = ", ".join(f"{e / MB:.1f}" for e in r.get("extras", []))
    return f"peak {r['peak'] / MB:7.1f} MB, extra {extra:7.1f} MB (runs: {runs})"


if __name__ == "__main__":
    main()
