"""FGSM on the 10,000 MNIST test images: advkeras against the limit and against the peers.

For each model (the paper's 240-unit maxout MLP and a small conv net), every
method attacks the same 10,000 images with the same true labels, ε = 0.25,
clip to [0, 1], in batches of ``BATCH_SIZE`` (one batch size for everybody):

- the limits: one XLA-compiled forward pass, and one XLA-compiled forward +
  backward pass to the input (``tf.function(jit_compile=True)`` around a
  ``GradientTape``: the least work FGSM can do), plus the same without XLA;
- ``advkeras.fgsm``;
- CleverHans 4.0.0 ``fast_gradient_method`` called eagerly per batch (as in
  its TF2 tutorial), wrapped in ``tf.function`` (what a careful user does), and
  wrapped in ``tf.function(jit_compile=True)``;
- ART 1.20.1 ``FastGradientMethod`` on a ``TensorFlowV2Classifier``;
- Foolbox 3.3.4 ``FGSM`` on a ``TensorFlowModel``.

Each method is timed over the whole 10,000 images: one warm-up, then
``--repeats`` repetitions interleaved across the methods. The adversarial
examples of every method are compared with advkeras' (max |Δ|).

Run: ``python benchmarks/bench_fgsm.py [--repeats 5] [--models maxout conv]``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import _common as c
import numpy as np

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``method(x, y) -> x_adv``: everything compiled or set up once, data passed per call."""

LIMIT_FORWARD = "limit: forward only (XLA)"
LIMIT = "limit: forward+backward (XLA)"
LIMIT_GRAPH = "forward+backward, tf.function, no XLA"
ADVKERAS = "advkeras.fgsm"
CH_EAGER = "CleverHans FGM, eager (tutorial)"
CH_FUNCTION = "CleverHans FGM in tf.function"
CH_XLA = "CleverHans FGM in tf.function(jit_compile=True)"
ART = "ART FastGradientMethod"
FOOLBOX = "Foolbox FGSM"
METHODS = (LIMIT_FORWARD, LIMIT, LIMIT_GRAPH, ADVKERAS, CH_EAGER, CH_FUNCTION, CH_XLA, ART, FOOLBOX)
PEERS = (CH_EAGER, CH_FUNCTION, CH_XLA, ART, FOOLBOX)


def _batched(
    fn: Callable[[Any, Any], Any], x: np.ndarray, y: np.ndarray, batch_size: int | None = None
) -> np.ndarray:
    """Run ``fn`` on consecutive batches, writing into one preallocated array."""
    bs = batch_size or c.BATCH_SIZE
    first = np.asarray(fn(x[:bs], y[:bs]))
    out = np.empty((len(x), *first.shape[1:]), dtype=np.float32)
    out[: len(first)] = first
    for start in range(bs, len(x), bs):
        stop = start + bs
        out[start:stop] = np.asarray(fn(x[start:stop], y[start:stop]))
    return out


def fgsm_step(model: Any, kind: str) -> Callable[[Any, Any], Any]:
    """The least work FGSM can do on one batch: forward + backward to the input, sign step, clip.

    A plain Python function of ``(xb, yb)``: the limit compiles it, the memory
    benchmark counts the tensors of its graph.
    """
    import tensorflow as tf

    from advkeras.losses import per_example_loss

    loss_fn = per_example_loss(kind)

    def step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(xb)
            loss = tf.reduce_sum(loss_fn(yb, model(xb, training=False)))
        g = tape.gradient(loss, xb)
        return tf.clip_by_value(xb + c.EPS * tf.sign(g), 0.0, 1.0)

    return step


def limit_method(model: Any, kind: str, *, jit: bool, batch_size: int | None = None) -> Method:
    """A bare compiled forward + backward pass to the input, plus the sign step and clip."""
    import tensorflow as tf

    step = tf.function(fgsm_step(model, kind), jit_compile=jit)
    return lambda x, y: _batched(lambda xb, yb: step(xb, yb).numpy(), x, y, batch_size)


def forward_method(model: Any, batch_size: int | None = None) -> Method:
    """A bare XLA-compiled forward pass (predictions, not adversarial examples)."""
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def forward(xb: tf.Tensor) -> tf.Tensor:
        return model(xb, training=False)

    return lambda x, y: _batched(lambda xb, yb: forward(xb).numpy(), x, y, batch_size)


def advkeras_method(model: Any, batch_size: int | None = None) -> Method:
    """``advkeras.fgsm`` on the NumPy arrays (it batches them itself)."""
    import advkeras

    bs = batch_size or c.BATCH_SIZE
    return lambda x, y: advkeras.fgsm(model, x, y, eps=c.EPS, clip=(0.0, 1.0), batch_size=bs)


def _cleverhans_loss(kind: str) -> Any:
    """CleverHans' ``loss_fn(labels=, logits=)``: its default for logits, J for softmax outputs."""
    if kind == "logits":
        return None  # tf.nn.sparse_softmax_cross_entropy_with_logits

    import keras

    def loss_fn(labels: Any, logits: Any) -> Any:
        return keras.losses.sparse_categorical_crossentropy(labels, logits)

    return loss_fn


def cleverhans_eager_method(model: Any, kind: str, batch_size: int | None = None) -> Method:
    """CleverHans ``fast_gradient_method`` called eagerly on each batch (its TF2 tutorial)."""
    import tensorflow as tf
    from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method

    loss_fn = _cleverhans_loss(kind)

    def attack(xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        x_adv = fast_gradient_method(
            model,
            tf.constant(xb),
            c.EPS,
            np.inf,
            loss_fn=loss_fn,
            clip_min=0.0,
            clip_max=1.0,
            y=tf.constant(yb),
        )
        return x_adv.numpy()

    return lambda x, y: _batched(attack, x, y, batch_size)


def cleverhans_function_method(
    model: Any, kind: str, *, jit: bool = False, batch_size: int | None = None
) -> Method:
    """CleverHans ``fast_gradient_method`` wrapped in one ``tf.function`` (with XLA if ``jit``)."""
    import tensorflow as tf
    from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method

    loss_fn = _cleverhans_loss(kind)

    @tf.function(jit_compile=jit)
    def attack(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        return fast_gradient_method(
            model, xb, c.EPS, np.inf, loss_fn=loss_fn, clip_min=0.0, clip_max=1.0, y=yb
        )

    return lambda x, y: _batched(lambda xb, yb: attack(xb, yb).numpy(), x, y, batch_size)


def art_method(model: Any, kind: str, batch_size: int | None = None) -> Method:
    """ART ``FastGradientMethod`` on a ``TensorFlowV2Classifier`` (ART batches the data)."""
    from art.attacks.evasion import FastGradientMethod
    from art.estimators.classification import TensorFlowV2Classifier

    classifier = TensorFlowV2Classifier(
        model=model,
        nb_classes=int(model.output_shape[-1]),
        input_shape=tuple(model.input_shape[1:]),
        loss_object=c.keras_loss(kind),
        clip_values=(0.0, 1.0),
    )
    attack = FastGradientMethod(
        estimator=classifier, norm=np.inf, eps=c.EPS, batch_size=batch_size or c.BATCH_SIZE
    )
    return lambda x, y: attack.generate(x=x, y=y).astype(np.float32, copy=False)


def foolbox_method(model: Any, kind: str, batch_size: int | None = None) -> Method:
    """Foolbox ``FGSM`` on a ``TensorFlowModel``, batch by batch.

    Foolbox differentiates the cross-entropy of the model's *logits*; a softmax
    model gets its log-probabilities as logits (same cost J as everybody).
    """
    import foolbox as fb
    import tensorflow as tf

    def logits(inputs: Any) -> Any:
        return tf.math.log(model(inputs))

    fmodel = fb.TensorFlowModel(model if kind == "logits" else logits, bounds=(0.0, 1.0))
    attack = fb.attacks.FGSM()

    def run(xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        _, clipped, _ = attack(fmodel, tf.constant(xb), tf.constant(yb), epsilons=c.EPS)
        return clipped.numpy()

    return lambda x, y: _batched(run, x, y, batch_size)


def make_method(name: str, model: Any, kind: str, batch_size: int | None = None) -> Method:
    """Build ``method(x, y) -> x_adv`` for the method called ``name``.

    ``batch_size``: examples per call (default ``BATCH_SIZE``, one for everybody).
    """
    bs = batch_size
    if name == LIMIT_FORWARD:
        return forward_method(model, bs)
    if name == LIMIT:
        return limit_method(model, kind, jit=True, batch_size=bs)
    if name == LIMIT_GRAPH:
        return limit_method(model, kind, jit=False, batch_size=bs)
    if name == ADVKERAS:
        return advkeras_method(model, bs)
    if name == CH_EAGER:
        return cleverhans_eager_method(model, kind, bs)
    if name == CH_FUNCTION:
        return cleverhans_function_method(model, kind, batch_size=bs)
    if name == CH_XLA:
        return cleverhans_function_method(model, kind, jit=True, batch_size=bs)
    if name == ART:
        return art_method(model, kind, bs)
    if name == FOOLBOX:
        return foolbox_method(model, kind, bs)
    raise ValueError(f"`method`: expected one of {METHODS}, got {name!r}")


def trained_model(name: str) -> tuple[Any, str, np.ndarray, np.ndarray, float]:
    """The model, briefly trained (2 Adam epochs on the training subset) so gradients are realistic.

    Returns the model, its output kind, the test images and labels, and the clean test error.
    """
    import keras

    x_train, y_train, x_test, y_test = c.mnist(c.flatten_for(name))
    keras.utils.set_random_seed(0)
    model = c.build_model(name, seed=0)
    kind = c.output_kind(model)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=c.keras_loss(kind))
    model.fit(x_train, y_train, batch_size=c.BATCH_SIZE, epochs=2, verbose=0)
    predictions = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
    return model, kind, x_test, y_test, float(np.mean(predictions != y_test))


def run_model(name: str, repeats: int, methods: tuple[str, ...]) -> dict[str, Any]:
    """Time every method on one model and compare its adversarial examples with advkeras'."""
    c.log(f"\n== FGSM, {c.MODEL_TITLES[name]}: building and training 2 epochs")
    model, kind, x, y, clean_error = trained_model(name)
    built: dict[str, Method] = {}
    errors: dict[str, str] = {}
    for method in methods:
        try:
            built[method] = make_method(method, model, kind)
        except Exception as exc:  # a peer that cannot even be set up
            errors[method] = c.error_text(exc)
            c.log(f"  {method}: set-up FAILED {errors[method]}")

    last: dict[str, np.ndarray] = {}

    def keep(method: str, fn: Method) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            last[method] = fn(x, y)
            return last[method]

        return run

    timings = c.time_round_robin({m: keep(m, fn) for m, fn in built.items()}, repeats, c.log)
    reference = last.get(ADVKERAS)
    rows = []
    for method in methods:
        t = timings.get(method)
        row: dict[str, Any] = t.as_dict() if t else {"name": method, "times": []}
        if method in errors:
            row["error"] = errors[method]
        out = last.get(method)
        if out is not None and method != LIMIT_FORWARD:
            predictions = model.predict(out, batch_size=1000, verbose=0).argmax(axis=1)
            row["adv_error"] = float(np.mean(predictions != y))
            if reference is not None:
                row.update(c.difference_from(reference, out))
        rows.append(row)
    return c.model_record(name, model, kind, clean_error, len(x), rows=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=list(c.MODELS), choices=c.MODELS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--output", default="fgsm", help="results/<output>.json")
    args = parser.parse_args()
    results = {
        "machine": c.machine_info(),
        "repeats": args.repeats,
        "eps": c.EPS,
        "batch_size": c.BATCH_SIZE,
        "models": [run_model(m, args.repeats, tuple(args.methods)) for m in args.models],
    }
    results["machine"]["loadavg_end"] = os.getloadavg()
    c.log(f"wrote {c.save_json(args.output, results)}")


if __name__ == "__main__":
    main()
