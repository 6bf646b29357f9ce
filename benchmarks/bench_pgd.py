"""PGD on MNIST test images: advkeras against k forward+backward passes and against CleverHans.

For each model (the paper's 240-unit maxout MLP and a small conv net, briefly
trained as in ``bench_fgsm.py``), every method attacks the same images with the
same true labels, ε = 0.25, ``--steps`` steps of size 2.5ε/k, clip to [0, 1],
in batches of ``BATCH_SIZE``, **from the same random start**: advkeras draws
δ₀ with :func:`advkeras.attacks.random_ball` from ``--seed``, and CleverHans'
``random_lp_vector`` is replaced, for each batch, by a function returning that
batch's δ₀ (CleverHans' PGD draws it internally), so the two compute the same
iterates and their adversarial examples can be compared pixel by pixel.

- the limits: k forward + backward passes to the input (sign step, no
  projection: the least work k steps can do), in one ``tf.while_loop``
  compiled with XLA and, separately, written out step by step in TensorFlow's
  graph runtime (XLA:CPU differentiates convolutions slowly, so for the conv
  net the graph pass is the limit); ``vs_limit`` is the ratio to the faster;
- ``advkeras.pgd``, and ``advkeras.pgd(keep_best=True)`` (which also
  evaluates FGSM's example and every iterate's cost);
- CleverHans 4.0.0 ``projected_gradient_descent`` called eagerly per batch
  (its TF2 tutorial) and wrapped in ``tf.function``.

Timing as in ``bench_fgsm.py`` (one warm-up, then ``--repeats`` interleaved
repetitions). Run: ``python benchmarks/bench_pgd.py [--repeats 5] [--n 10000]
[--steps 40] [--models maxout conv]``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import _common as c
import numpy as np
from bench_fgsm import _batched, _cleverhans_loss, trained_model

Method = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``method(x, y, start) -> x_adv``: ``start`` is the random start δ₀ of every example."""

LIMIT = "limit: k forward+backward (XLA)"
LIMIT_GRAPH = "limit: k forward+backward (graph, no XLA)"
LIMITS = (LIMIT, LIMIT_GRAPH)
ADVKERAS = "advkeras.pgd"
ADVKERAS_BEST = "advkeras.pgd(keep_best=True)"
CH_EAGER = "CleverHans PGD, eager (tutorial)"
CH_FUNCTION = "CleverHans PGD in tf.function"
METHODS = (LIMIT, LIMIT_GRAPH, ADVKERAS, ADVKERAS_BEST, CH_EAGER, CH_FUNCTION)


def step_size(steps: int) -> float:
    """Madry et al.'s rule of thumb, advkeras.pgd's default: 2.5ε/k."""
    return 2.5 * c.EPS / steps


def limit_method(model: Any, kind: str, steps: int, *, jit: bool = True) -> Method:
    """k forward + backward passes to the input and sign steps, in one while loop (XLA or not)."""
    import tensorflow as tf

    from advkeras.losses import per_example_loss

    loss_fn = per_example_loss(kind)
    a = step_size(steps)

    @tf.function(jit_compile=jit)
    def run(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        def body(i: Any, x_adv: tf.Tensor) -> tuple[Any, tf.Tensor]:
            with tf.GradientTape() as tape:
                tape.watch(x_adv)
                loss = tf.reduce_sum(loss_fn(yb, model(x_adv, training=False)))
            return i + 1, x_adv + a * tf.sign(tape.gradient(loss, x_adv))

        if jit:
            return tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), xb))[1]
        x_adv = xb  # the graph runtime runs written-out steps faster than a while loop
        for i in range(steps):
            x_adv = body(i, x_adv)[1]
        return x_adv

    return lambda x, y, start: _batched(lambda xb, yb: run(xb, yb).numpy(), x, y)


def advkeras_method(model: Any, steps: int, seed: int, keep_best: bool = False) -> Method:
    """``advkeras.pgd`` on the NumPy arrays (it batches them and draws δ₀ from ``seed``)."""
    import advkeras

    return lambda x, y, start: advkeras.pgd(
        model,
        x,
        y,
        eps=c.EPS,
        steps=steps,
        step_size=step_size(steps),
        seed=seed,
        batch_size=c.BATCH_SIZE,
        keep_best=keep_best,
    )


def cleverhans_method(model: Any, kind: str, steps: int, *, function: bool) -> Method:
    """CleverHans ``projected_gradient_descent``, its random start replaced by advkeras' δ₀."""
    import tensorflow as tf
    from cleverhans.tf2.attacks import projected_gradient_descent as module

    loss_fn = _cleverhans_loss(kind)
    a = step_size(steps)

    def attack(xb: Any, yb: Any, start: Any) -> Any:
        original = module.random_lp_vector
        module.random_lp_vector = lambda *args, **kwargs: start
        try:
            return module.projected_gradient_descent(
                model,
                xb,
                c.EPS,
                a,
                steps,
                np.inf,
                loss_fn=loss_fn,
                clip_min=0.0,
                clip_max=1.0,
                y=yb,
                rand_init=True,
            )
        finally:
            module.random_lp_vector = original

    call = tf.function(attack) if function else attack

    def run(x: np.ndarray, y: np.ndarray, start: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape, dtype=np.float32)
        for lo in range(0, len(x), c.BATCH_SIZE):
            hi = lo + c.BATCH_SIZE
            out[lo:hi] = call(
                tf.constant(x[lo:hi]), tf.constant(y[lo:hi]), tf.constant(start[lo:hi])
            ).numpy()
        return out

    return run


def make_method(name: str, model: Any, kind: str, steps: int, seed: int) -> Method:
    if name in LIMITS:
        return limit_method(model, kind, steps, jit=name == LIMIT)
    if name in (ADVKERAS, ADVKERAS_BEST):
        return advkeras_method(model, steps, seed, keep_best=name == ADVKERAS_BEST)
    if name == CH_EAGER:
        return cleverhans_method(model, kind, steps, function=False)
    if name == CH_FUNCTION:
        return cleverhans_method(model, kind, steps, function=True)
    raise ValueError(f"`method`: expected one of {METHODS}, got {name!r}")


def run_model(
    name: str, repeats: int, methods: tuple[str, ...], n: int, steps: int, seed: int
) -> dict[str, Any]:
    """Time every method on one model and compare its adversarial examples with advkeras'."""
    from advkeras.attacks import random_ball

    c.log(f"\n== PGD-{steps}, {c.MODEL_TITLES[name]}: building and training 2 epochs")
    model, kind, x, y, clean_error = trained_model(name)
    x, y = x[:n], y[:n]
    start = random_ball(x.shape, c.EPS, "inf", seed)  # what advkeras.pgd draws from `seed`
    built: dict[str, Method] = {}
    errors: dict[str, str] = {}
    for method in methods:
        try:
            built[method] = make_method(method, model, kind, steps, seed)
        except Exception as exc:  # a peer that cannot even be set up
            errors[method] = c.error_text(exc)
            c.log(f"  {method}: set-up FAILED {errors[method]}")

    last: dict[str, np.ndarray] = {}

    def keep(method: str, fn: Method) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            last[method] = fn(x, y, start)
            return last[method]

        return run

    timings = c.time_round_robin({m: keep(m, fn) for m, fn in built.items()}, repeats, c.log)
    reference = last.get(ADVKERAS)
    measured_limits = [timings[m] for m in LIMITS if timings.get(m) and timings[m].times]
    limit = min(measured_limits, key=lambda t: np.median(t.times), default=None)
    rows = []
    for method in methods:
        t = timings.get(method)
        row: dict[str, Any] = t.as_dict() if t else {"name": method, "times": []}
        if method in errors:
            row["error"] = errors[method]
        if t and t.times and limit is not None:
            row["vs_limit"] = float(np.median(t.times) / np.median(limit.times))
            row["limit"] = limit.name
        out = last.get(method)
        if out is not None and method not in LIMITS:
            predictions = model.predict(out, batch_size=1000, verbose=0).argmax(axis=1)
            row["adv_error"] = float(np.mean(predictions != y))
            if reference is not None:
                row.update(c.difference_from(reference, out))
                agree = model.predict(reference, batch_size=1000, verbose=0).argmax(axis=1)
                row["same_prediction_as_advkeras"] = float(np.mean(predictions == agree))
        rows.append(row)
    return c.model_record(name, model, kind, clean_error, len(x), rows=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=c.N_ATTACK, help="test images attacked")
    parser.add_argument("--steps", type=int, default=40, help="k, the PGD steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random start")
    parser.add_argument("--models", nargs="+", default=list(c.MODELS), choices=c.MODELS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--output", default="pgd", help="results/<output>.json")
    args = parser.parse_args()
    results = {
        "machine": c.machine_info(),
        "repeats": args.repeats,
        "eps": c.EPS,
        "steps": args.steps,
        "step_size": step_size(args.steps),
        "seed": args.seed,
        "batch_size": c.BATCH_SIZE,
        "models": [
            run_model(m, args.repeats, tuple(args.methods), args.n, args.steps, args.seed)
            for m in args.models
        ],
    }
    results["machine"]["loadavg_end"] = os.getloadavg()
    c.log(f"wrote {c.save_json(args.output, results)}")


if __name__ == "__main__":
    main()
