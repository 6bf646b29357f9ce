"""Shared pieces of the benchmarks: paths, data, models, peers, timing and memory probes.

Every benchmark script imports this module first: it silences TensorFlow's C++
logging, puts the peer libraries (installed by ``make -C benchmarks peers`` into
``benchmarks/.venv-bench/peers``, never into the main ``.venv``) at the *end* of
``sys.path`` so that the main environment's TensorFlow, Keras and NumPy always
win, and holds the settings that all measurements share (ε, batch size, data).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import re
import statistics
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")  # ART's progress bars

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
os.environ.setdefault("ADVKERAS_DATA_DIR", str(REPO / "data"))
PEERS_DIR = BENCH_DIR / ".venv-bench" / "peers"
RESULTS_DIR = BENCH_DIR / "results"

EPS = 0.25
"""ε of every FGSM call (the paper's MNIST value)."""
BATCH_SIZE = int(os.environ.get("BENCH_BATCH", "100"))
"""One batch size for every library, attack and training step."""
N_ATTACK = 10_000
"""Images attacked: the whole MNIST test set."""
N_TRAIN = int(os.environ.get("BENCH_TRAIN", "10000"))
"""Training examples per epoch: MNIST ``train[:N_TRAIN]`` (fixed subset)."""
LEARNING_RATE = 0.1
MOMENTUM = 0.5
PEER_VERSIONS = {
    "cleverhans": "4.0.0",
    "adversarial-robustness-toolbox": "1.20.1",
    "foolbox": "3.3.4",
}

if PEERS_DIR.is_dir() and str(PEERS_DIR) not in sys.path:
    sys.path.append(str(PEERS_DIR))

warnings.filterwarnings("ignore", message="PyTorch not found")  # ART, at import
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # ART's per-batch retracing warnings


# --------------------------------------------------------------------------- data and models


def mnist(flatten: bool) -> tuple[Any, Any, Any, Any]:
    """MNIST ``(x_train[:N_TRAIN], y_train[:N_TRAIN], x_test, y_test)``, float32 in [0, 1]."""
    from advkeras.datasets import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist(flatten=flatten)
    return x_train[:N_TRAIN], y_train[:N_TRAIN], x_test[:N_ATTACK], y_test[:N_ATTACK]


MODELS = ("maxout", "conv")
MATRIX_MODELS = ("mlp", "maxout", "conv")
"""The models of the FGSM matrix (``bench_matrix.py``)."""
MODEL_TITLES = {
    "mlp": "ReLU MLP 784-1200-1200-10 (logits)",
    "maxout": "maxout MLP 240×5 (softmax)",
    "conv": "small conv net (logits)",
}


def relu_mlp(seed: int = 0) -> Any:
    """A plain MNIST MLP with logits outputs: 784-1200-1200-10, ReLU."""
    import keras

    init = keras.initializers.GlorotUniform
    return keras.Sequential(
        [
            keras.Input((784,), name="x"),
            keras.layers.Dense(1200, activation="relu", kernel_initializer=init(seed)),
            keras.layers.Dense(1200, activation="relu", kernel_initializer=init(seed + 1)),
            keras.layers.Dense(10, kernel_initializer=init(seed + 2), name="logits"),
        ],
        name="relu_mlp",
    )


def small_convnet(seed: int = 0) -> Any:
    """A small MNIST conv net with logits outputs: 2 × (conv 3×3 + max-pool 2), dense 128, dense 10."""
    import keras

    init = keras.initializers.GlorotUniform
    return keras.Sequential(
        [
            keras.Input((28, 28, 1), name="x"),
            keras.layers.Conv2D(32, 3, activation="relu", kernel_initializer=init(seed)),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu", kernel_initializer=init(seed + 1)),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu", kernel_initializer=init(seed + 2)),
            keras.layers.Dense(10, kernel_initializer=init(seed + 3), name="logits"),
        ],
        name="small_convnet",
    )


def build_model(name: str, seed: int = 0) -> Any:
    """``"maxout"``: ``advkeras.models.maxout_mlp(240, 5)``; ``"conv"``: :func:`small_convnet`;
    ``"mlp"``: :func:`relu_mlp`."""
    if name == "maxout":
        from advkeras.models import maxout_mlp

        return maxout_mlp(240, 5, seed=seed)
    if name == "conv":
        return small_convnet(seed)
    if name == "mlp":
        return relu_mlp(seed)
    raise ValueError(f"`model`: expected one of {MATRIX_MODELS}, got {name!r}")


def flatten_for(name: str) -> bool:
    """Whether the model takes (N, 784) rows (True) or (N, 28, 28, 1) images."""
    return name in ("maxout", "mlp")


def output_kind(model: Any) -> str:
    """advkeras' output kind of ``model`` (``"probabilities"`` or ``"logits"`` here)."""
    from advkeras.losses import infer_output_kind

    return infer_output_kind(model)


def sgd() -> Any:
    """The optimizer of every training benchmark: SGD(0.1, momentum 0.5)."""
    import keras

    return keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM)


def keras_loss(kind: str) -> Any:
    """The Keras loss object equal to advkeras' cost J for ``kind`` (mean over the batch)."""
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=kind == "logits")


# --------------------------------------------------------------------------- peers


def peer_versions() -> dict[str, str]:
    """Installed versions of the peers (``"missing"`` when not importable)."""
    from importlib import metadata

    versions = {}
    for dist in PEER_VERSIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "missing"
    return versions


def difference_from(reference: Any, out: Any) -> dict[str, float | int]:
    """How a method's adversarial examples differ from advkeras' (pixels off by > 1e-6)."""
    import numpy as np

    diff = np.abs(out - reference)
    return {
        "max_abs_diff_vs_advkeras": float(diff.max()),
        "frac_diff_vs_advkeras": float(np.mean(diff > 1e-6)),
        "n_diff_vs_advkeras": int(np.count_nonzero(diff > 1e-6)),
    }


def model_record(
    name: str, model: Any, kind: str, clean_error: float, n: int, **results: Any
) -> dict[str, Any]:
    """The description of a benchmarked model that every results file starts with."""
    return {
        "model": name,
        "title": MODEL_TITLES[name],
        "params": int(model.count_params()),
        "output_kind": kind,
        "clean_error": clean_error,
        "n": int(n),
        **results,
    }


def error_text(exc: BaseException) -> str:
    """One line: ``Type: message`` of an exception (for the results table)."""
    message = " ".join(str(exc).split())
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(exc).__name__}: {message}"


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Repeated wall-clock measurements of one method (seconds)."""

    name: str
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)
    error: str | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["median"] = self.median
        data["min"] = min(self.times) if self.times else None
        data["max"] = max(self.times) if self.times else None
        return data


def time_round_robin(
    methods: dict[str, Callable[[], Any]],
    repeats: int,
    log: Callable[[str], None] = print,
    limits: dict[str, int] | None = None,
    order_seed: int | None = None,
) -> dict[str, Timing]:
    """Time each method ``repeats`` times after one warm-up call, interleaving the methods.

    Interleaving (rep 1 of every method, then rep 2, ...) makes a change of the
    machine's load during the run hit every method alike, so the ratios stay fair.
    With ``order_seed`` the methods of each repetition run in a random order
    (drawn from that seed), so no method always follows the same one.
    Wall-clock and process CPU time are both kept: on a shared machine the CPU
    time is far less sensitive to other processes. A method that raises is
    dropped and its error kept. ``limits`` caps the repetitions of some
    methods (they take part in the first rounds only).
    """
    timings = {name: Timing(name) for name in methods}
    live = dict(methods)
    rng = random.Random(order_seed)
    for rep in range(repeats + 1):
        order = list(live.items())
        if order_seed is not None and rep > 0:
            rng.shuffle(order)
        for name, fn in order:
            if limits and rep > limits.get(name, repeats):
                continue
            try:
                start, cpu_start = time.perf_counter(), time.process_time()
                fn()
                elapsed = time.perf_counter() - start
                cpu = time.process_time() - cpu_start
            except Exception as exc:  # a peer that cannot run: report it, go on
                timings[name].error = error_text(exc)
                log(f"  {name}: FAILED {timings[name].error}")
                log("".join(traceback.format_exception(exc)[-3:]).rstrip())
                del live[name]
                continue
            if rep > 0:
                timings[name].times.append(elapsed)
                timings[name].cpu_times.append(cpu)
            label = "warm-up" if rep == 0 else f"rep {rep}"
            log(f"  {name:<48} {label:<8} {elapsed:8.3f} s  (CPU {cpu:7.3f} s)")
    return timings


# --------------------------------------------------------------------------- memory


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        match = re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def rss_bytes() -> int:
    """Current resident set size of this process."""
    return _status_kib("VmRSS") * 1024


@contextmanager
def peak_rss(interval: float = 0.002) -> Iterator[dict[str, int]]:
    """Measure the peak RSS of the block: kernel high-water mark and a sampling thread.

    The kernel's high-water mark (VmHWM, what ``getrusage`` reports as
    ``ru_maxrss``) is reset on entry through ``/proc/self/clear_refs`` so the
    peak belongs to this block alone; a thread also samples VmRSS every
    ``interval`` seconds, because pages given back with ``madvise`` can escape
    the high-water mark. Yields a dict filled on exit with ``before``, ``peak``
    (bytes) and ``after``.
    """
    result: dict[str, int] = {}
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    result["before"] = rss_bytes()
    sampled = [result["before"]]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            sampled.append(rss_bytes())
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result["after"] = rss_bytes()
        result["peak"] = max(max(sampled), _status_kib("VmHWM") * 1024, result["after"])


# --------------------------------------------------------------------------- machine and output


def machine_info() -> dict[str, Any]:
    """CPU model, core count, memory, OS, Python and library versions, load and date."""
    import keras
    import numpy as np
    import tensorflow as tf

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            names = re.findall(r"^model name\s*:\s*(.+)$", f.read(), re.MULTILINE)
        if names:
            cpu = names[0].strip()
    except OSError:
        pass
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gib = float("nan")
    import advkeras

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "advkeras": advkeras.__version__,
        "peers": peer_versions(),
        "loadavg": os.getloadavg(),
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "batch_size": BATCH_SIZE,
        "n_train": N_TRAIN,
    }


def save_json(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json``."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=float) + "\n")
    return path


def load_json(name: str) -> dict[str, Any] | None:
    """Read ``benchmarks/results/<name>.json`` (None when absent)."""
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def log(message: str) -> None:
    """Print and flush (the Makefile tees the output to a log)."""
    print(message, flush=True)
