"""Adversarial training: seconds per epoch of fit(), clean against adversarial, advkeras against ART.

On the paper's 240-unit maxout MLP, MNIST ``train[:N_TRAIN]`` (10,000 by
default), batch ``BATCH_SIZE`` (100), SGD(0.1, momentum 0.5) for everybody:

- a clean model: ``model.compile(loss=SparseCategoricalCrossentropy); model.fit(epochs=1)``;
- advkeras: ``AdversarialModel(model, eps=0.25, alpha=0.5)``,
  ``fit(array_dataset(x, y, batch_size=100, shuffle=True), shuffle=False, epochs=1)``;
- ART 1.20.1: ``AdversarialTrainer(TensorFlowV2Classifier, attacks=FastGradientMethod(eps=0.25),
  ratio=0.5).fit(x, y, nb_epochs=1, batch_size=100)``;
- references without Keras' ``fit()``: a bare ``tf.function`` clean step and a
  bare adversarial step (one forward and backward pass to x and θ, one to θ),
  which show the cost ratio the hardware allows.

Each is timed for one epoch after a warm-up epoch, interleaved: ``--fit-repeats``
(9) epochs for the Keras and bare loops, the first ``--repeats`` (5) rounds for
ART (45 s an epoch). Ratios are to the clean ``fit()`` epoch of the same round.
Keras' ``fit()`` on NumPy arrays (the clean row) runs some epochs on one core
only on 2 cores (wall ≈ CPU time, about 26 ms a step): its autotuned
``tf.data`` pipeline. The advkeras row feeds the arrays through
``advkeras.pipeline.array_dataset`` (autotuning off) and does not. The clean
wall-clock times are therefore noisy; the extra rounds and the CPU time tame that.

Run: ``python benchmarks/bench_training.py [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import _common as c
import numpy as np

CLEAN = "clean model, fit()"
ADVKERAS = "advkeras AdversarialModel, fit()"
ART = "ART AdversarialTrainer (FGSM, ratio 0.5)"
BARE_CLEAN = "bare clean step (tf.function loop)"
BARE_ADV = "bare adversarial step (tf.function loop)"
METHODS = (CLEAN, ADVKERAS, ART, BARE_CLEAN, BARE_ADV)
ALPHA = 0.5
MODEL = "maxout"


def _fresh_model(seed: int = 0) -> Any:
    import keras

    keras.utils.set_random_seed(seed)
    return c.build_model(MODEL, seed=seed)


Epoch = Callable[[np.ndarray, np.ndarray], Any]
"""``epoch(x, y)``: one epoch on ``(x, y)``; the model and its compiled step are built once."""


def clean_method() -> Epoch:
    """One epoch of ``fit()`` of the plain Keras model."""
    model = _fresh_model()
    model.compile(optimizer=c.sgd(), loss=c.keras_loss(c.output_kind(model)), metrics=["accuracy"])
    return lambda x, y: model.fit(x, y, batch_size=c.BATCH_SIZE, epochs=1, verbose=0)


def advkeras_method() -> Epoch:
    """One epoch of ``fit()`` of ``advkeras.AdversarialModel`` (α = 0.5, ε = 0.25)."""
    from advkeras.pipeline import array_dataset
    from advkeras.training import AdversarialModel

    adv = AdversarialModel(_fresh_model(), eps=c.EPS, alpha=ALPHA)
    adv.compile(optimizer=c.sgd())

    def epoch(x: np.ndarray, y: np.ndarray) -> Any:
        data = array_dataset(x, y, batch_size=c.BATCH_SIZE, shuffle=True)
        return adv.fit(data, epochs=1, shuffle=False, verbose=0)  # array_dataset shuffles

    return epoch


def art_method() -> Epoch:
    """One epoch of ART's ``AdversarialTrainer`` with FGSM on half of every batch."""
    from art.attacks.evasion import FastGradientMethod
    from art.defences.trainer import AdversarialTrainer
    from art.estimators.classification import TensorFlowV2Classifier

    model = _fresh_model()
    classifier = TensorFlowV2Classifier(
        model=model,
        nb_classes=int(model.output_shape[-1]),
        input_shape=tuple(model.input_shape[1:]),
        loss_object=c.keras_loss(c.output_kind(model)),
        optimizer=c.sgd(),
        clip_values=(0.0, 1.0),
    )
    attack = FastGradientMethod(classifier, eps=c.EPS, batch_size=c.BATCH_SIZE)
    trainer = AdversarialTrainer(classifier, attacks=attack, ratio=ALPHA)
    return lambda x, y: trainer.fit(x, y, nb_epochs=1, batch_size=c.BATCH_SIZE)


def bare_method(*, adversarial: bool) -> Epoch:
    """A hand-written training loop: shuffled batches into one ``tf.function`` step."""
    import tensorflow as tf

    from advkeras.losses import per_example_loss

    model = _fresh_model()
    loss_fn = per_example_loss(c.output_kind(model))
    optimizer = c.sgd()
    variables = model.trainable_variables
    optimizer.build(variables)

    def mean_loss(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(loss_fn(yb, model(xb, training=True)))

    @tf.function
    def clean_step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = mean_loss(xb, yb)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    @tf.function
    def adversarial_step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(xb)
            clean = mean_loss(xb, yb)
        grad_x, *grads_clean = tape.gradient(clean, [xb, *variables])
        x_adv = xb + c.EPS * tf.sign(grad_x)
        with tf.GradientTape() as tape:
            adv = mean_loss(x_adv, yb)
        grads_adv = tape.gradient(adv, variables)
        grads = [
            ALPHA * gc + (1.0 - ALPHA) * ga for gc, ga in zip(grads_clean, grads_adv, strict=True)
        ]
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return ALPHA * clean + (1.0 - ALPHA) * adv

    step = adversarial_step if adversarial else clean_step
    rng = np.random.default_rng(0)

    def epoch(x: np.ndarray, y: np.ndarray) -> None:
        order = rng.permutation(len(x))
        xs, ys = tf.constant(x[order]), tf.constant(y[order])
        for start in range(0, len(x), c.BATCH_SIZE):
            step(xs[start : start + c.BATCH_SIZE], ys[start : start + c.BATCH_SIZE])

    return epoch


def make_method(name: str) -> Epoch:
    """Build ``epoch(x, y)`` for the method called ``name``."""
    if name == CLEAN:
        return clean_method()
    if name == ADVKERAS:
        return advkeras_method()
    if name == ART:
        return art_method()
    if name == BARE_CLEAN:
        return bare_method(adversarial=False)
    if name == BARE_ADV:
        return bare_method(adversarial=True)
    raise ValueError(f"`method`: expected one of {METHODS}, got {name!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="epochs timed per method")
    parser.add_argument(
        "--fit-repeats",
        type=int,
        default=9,
        help="epochs timed for the Keras and bare loops (ART: --repeats); at least --repeats",
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--output", default="training", help="results/<output>.json")
    args = parser.parse_args()
    machine = c.machine_info()
    x, y, _, _ = c.mnist(flatten=True)
    c.log(f"\n== adversarial training, {c.MODEL_TITLES[MODEL]}, {len(x)} examples per epoch")
    built: dict[str, Epoch] = {}
    errors: dict[str, str] = {}
    for method in args.methods:
        try:
            built[method] = make_method(method)
        except Exception as exc:  # a peer that cannot even be set up
            errors[method] = c.error_text(exc)
            c.log(f"  {method}: set-up FAILED {errors[method]}")
    epochs = {name: (lambda fn=fn: fn(x, y)) for name, fn in built.items()}
    fit_repeats = max(args.fit_repeats, args.repeats)
    limits = {ART: args.repeats}
    timings = c.time_round_robin(epochs, fit_repeats, c.log, limits=limits)
    rows = []
    for method in args.methods:
        t = timings.get(method)
        row: dict[str, Any] = t.as_dict() if t else {"name": method, "times": []}
        if method in errors:
            row["error"] = errors[method]
        rows.append(row)
    results = {
        "machine": machine,
        "repeats": args.repeats,
        "fit_repeats": fit_repeats,
        "eps": c.EPS,
        "alpha": ALPHA,
        "batch_size": c.BATCH_SIZE,
        "n_train": int(len(x)),
        "model": MODEL,
        "title": c.MODEL_TITLES[MODEL],
        "rows": rows,
    }
    results["machine"]["loadavg_end"] = os.getloadavg()
    c.log(f"wrote {c.save_json(args.output, results)}")


if __name__ == "__main__":
    main()
