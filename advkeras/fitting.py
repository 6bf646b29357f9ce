"""One call that trains a classifier the way the paper does: :func:`fit_classifier`.

It puts the pieces of the other modules together: the classifier is wrapped
in an :class:`~advkeras.training.AdversarialModel` (clean, adversarial or
noise training), optimised with the pylearn2 recipe
(:mod:`advkeras.pylearn2`) unless another optimizer is given, fed by
:func:`~advkeras.pipeline.array_dataset`, and stopped early on a validation
metric if asked. The chapters of the book train every network with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from advkeras import losses
from advkeras._validation import check_choice, check_finite, check_positive_int, invalid
from advkeras.pipeline import array_dataset
from advkeras.pylearn2 import MomentumSchedule, early_stopping, paper_sgd
from advkeras.training import PERTURBATIONS, AdversarialModel

__all__ = ["STEPS_PER_EXECUTION", "default_monitor", "fit_classifier"]

#: Minibatches per call of the compiled training function in :func:`fit_classifier`.
STEPS_PER_EXECUTION = 100


def _as_inputs(x: Any, argument: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise invalid(argument, "an array of shape (N, ...) with N >= 1", f"shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise invalid(argument, "a numeric array", f"dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    if arr.size:
        check_finite(arr, argument)
    return arr


def default_monitor(perturbation: str) -> str:
    """The metric early stopping watches unless told otherwise.

    The FGSM validation accuracy for FGSM training (the paper's adversarial
    validation error, §6), the clean one otherwise (pylearn2's
    ``valid_y_misclass``; the noise controls too).

    Example:

    >>> default_monitor("fgsm"), default_monitor("sign_noise")
    ('val_adv_accuracy', 'val_accuracy')
    """
    return "val_adv_accuracy" if perturbation == "fgsm" else "val_accuracy"


def fit_classifier(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int = 100,
    validation_data: tuple[Any, Any] | None = None,
    adversarial: bool = False,
    eps: float = 0.25,
    alpha: float = 0.5,
    perturbation: str = "fgsm",
    l1: tuple[str, float] | None = None,
    patience: int | None = None,
    monitor: str | None = None,
    seed: int = 0,
    optimizer: Any = None,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
    verbose: int = 2,
    clip: tuple[float, float] | None = None,
    output: str | None = None,
    steps_per_execution: int = STEPS_PER_EXECUTION,
    norm: str | int | float = "inf",
    layer: str | None = None,
    differentiable: bool = False,
    random_start: bool = False,
    step_size: float | None = None,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Train a classifier cleanly, adversarially (§6) or with a noise control.

    The model is wrapped in an :class:`~advkeras.training.AdversarialModel`,
    compiled with :func:`~advkeras.pylearn2.paper_sgd` and
    :class:`~advkeras.pylearn2.MomentumSchedule` unless ``optimizer`` is given,
    and fitted with minibatches from :func:`~advkeras.pipeline.array_dataset`,
    shuffled at every epoch. What it trains on:

    - ``perturbation="sign_noise"`` or ``"uniform_noise"``: the §6 noise
      controls, α·J(x) + (1 − α)·J(x + noise), whatever ``adversarial`` says;
    - otherwise ``adversarial=True``: the paper's J̃ with FGSM examples;
    - otherwise: plain training on J(x) (one forward/backward pass a batch).

    With ``validation_data`` and ``eps > 0`` the validation metrics include
    FGSM ones (``val_adv_loss``, ``val_adv_accuracy``); pass ``eps=0`` to a
    clean run to skip them. With ``patience``, training stops after that
    many epochs without a strict improvement of ``monitor`` and the best
    epoch's weights are restored. ``monitor`` defaults to
    ``"val_adv_accuracy"`` for FGSM training (the paper's adversarial
    validation error) and ``"val_accuracy"`` otherwise (pylearn2's
    ``valid_y_misclass``); ``"val_adv_error"``/``"val_error"`` are accepted.

    Args:
        model: a built Keras classifier (see :class:`~advkeras.training.AdversarialModel`).
        x, y: training inputs (N, ...) and integer labels (binary models:
            {0, 1} or {−1, +1}).
        epochs: number of epochs (the maximum with ``patience``).
        batch_size: minibatch size (100 in pylearn2).
        validation_data: ``(x_val, y_val)`` or None.
        adversarial: train on J̃ with FGSM examples.
        eps: ε of the perturbation and of the adversarial validation metrics.
        alpha: α of J̃.
        perturbation: ``"fgsm"``, ``"sign_noise"``, ``"uniform_noise"`` or ``"none"``.
        l1: ``(layer_name, coefficient)``: L1 weight decay of that layer's kernel.
        patience: early-stopping patience in epochs (None: train all epochs).
        monitor: the metric early stopping watches (see above).
        seed: passed to ``keras.utils.set_random_seed`` (shuffling, dropout
            masks of layers built afterwards, noise).
        optimizer: a Keras optimizer; None: ``paper_sgd()`` + ``MomentumSchedule()``.
        callbacks: extra callbacks.
        verbose: ``fit`` verbosity.
        clip: ``(min, max)`` clipping of x + η, None for none (the paper's choice).
        output: the model's output kind (inferred when None).
        steps_per_execution: minibatches per call of the compiled training
            (and validation) function, Keras' ``compile`` argument. The same
            steps run in the same order, so the weights are those of one
            call per step; what changes is the Python work between steps
            (measured in ``benchmarks/bench_limit.py``: a clean epoch of the
            240-unit maxout network on 50,000 digits, 2 cores, took about
            5.5 s with 1 and 4.1 s with 100). Callbacks' per-batch hooks and
            the progress bar see every ``steps_per_execution``-th batch.
        norm: the FGSM step of adversarial training: ``"inf"`` (ε·sign ∇J, the
            paper's) or ``2`` (ε·∇J/‖∇J‖₂, the scaled gradient of §6's
            differentiable-adversary variant); see
            :class:`~advkeras.training.AdversarialModel`.
        layer: ``None`` (perturb the input) or the name of a hidden layer whose
            activations FGSM perturbs instead (§6; never the last hidden layer).
        differentiable: let the weights' gradient flow through η (with
            ``norm=2``: the differentiable adversary of §6); see
            :class:`~advkeras.training.AdversarialModel`.
        random_start, step_size: the FGSM step of adversarial training starts at
            a random point of the ε-ball and has size ``step_size`` (Wong et al.
            2020); see :class:`~advkeras.training.AdversarialModel`.
        jit_compile: ``True``: compile the training step with XLA, the dropout masks
            drawn outside it (:meth:`~advkeras.training.AdversarialModel.make_train_function`),
            and the validation step with XLA. The steps compute the same
            function as in the graph runtime, with other float rounding; over
            many epochs that makes a different network of the same recipe.
            See ``benchmarks/RESULTS.md`` §5 for the speed. ``"auto"``
            (the default) is Keras' rule: XLA when there is an accelerator, not
            on a CPU-only machine.

    Returns:
        The trained *base* model, with ``advkeras_history``: the fit history
        as a dict of lists of floats, plus ``error`` keys (1 − accuracy) for
        every accuracy key (e.g. ``val_adv_error``).

    Example:

    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> x = np.random.rand(20, 4).astype("float32"); y = np.arange(20) % 3
    >>> m = fit_classifier(m, x, y, epochs=1, batch_size=10, adversarial=True, verbose=0)
    >>> "adv_error" in m.advkeras_history
    True
    """
    if not isinstance(model, keras.Model):
        raise invalid("model", "a keras.Model", type(model).__name__)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    perturbation = check_choice(perturbation, PERTURBATIONS, "perturbation")
    if not isinstance(adversarial, bool):
        raise invalid("adversarial", "True or False", adversarial)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise invalid("seed", "an integer", seed)
    steps_per_execution = check_positive_int(steps_per_execution, "steps_per_execution")
    if not isinstance(jit_compile, bool) and jit_compile != "auto":
        raise invalid("jit_compile", "True, False or 'auto'", jit_compile)
    if perturbation in ("sign_noise", "uniform_noise"):
        train_perturbation = perturbation
    elif adversarial:
        if perturbation == "none":
            raise invalid(
                "perturbation",
                "'fgsm', 'sign_noise' or 'uniform_noise' when adversarial=True",
                perturbation,
            )
        train_perturbation = "fgsm"
    else:
        train_perturbation = "none"

    kind = losses.resolve_output_kind(model, output)
    n_outputs = int(model.output_shape[-1])
    x = _as_inputs(x, "x")
    y = losses.labels_for(y, kind, len(x), n_outputs)
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise invalid("validation_data", "None or a pair (x_val, y_val)", type(validation_data))
        x_val = _as_inputs(validation_data[0], "validation_data[0]")
        y_val = losses.labels_for(
            validation_data[1], kind, len(x_val), n_outputs, argument="validation_data[1]"
        )
        validation_data = (x_val, y_val)

    keras.utils.set_random_seed(int(seed))
    adv = AdversarialModel(
        model,
        eps=eps,
        alpha=alpha,
        perturbation=train_perturbation,
        clip=clip,
        output=kind,
        l1=l1,
        seed=int(seed),
        norm=norm,
        layer=layer,
        differentiable=differentiable,
        random_start=random_start,
        step_size=step_size,
    )
    cbs = list(callbacks or [])
    if optimizer is None:
        optimizer = paper_sgd()
        cbs.append(MomentumSchedule())
    if patience is not None:
        if monitor is None:
            monitor = default_monitor(train_perturbation)
        if monitor.startswith("val_") and validation_data is None:
            raise invalid("validation_data", f"(x_val, y_val) to monitor {monitor!r}", None)
        if "adv_" in monitor and adv.eps == 0:
            raise invalid("monitor", "a metric without 'adv_' when eps=0", monitor)
        cbs.append(early_stopping(monitor, patience))
    adv.compile(
        optimizer=optimizer, steps_per_execution=steps_per_execution, jit_compile=jit_compile
    )
    # The batches come from array_dataset (made here, after compile: the shuffling
    # seed is the next one drawn from TensorFlow's global seed).
    train = array_dataset(x, y, batch_size=batch_size, shuffle=True)
    if validation_data is not None:
        validation_data = array_dataset(*validation_data, batch_size=batch_size)
    history = adv.fit(
        train,
        epochs=epochs,
        validation_data=validation_data,
        shuffle=False,
        callbacks=cbs,
        verbose=verbose,
    )
    record = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    for key in list(record):
        if key.endswith("accuracy"):
            record[key[: -len("accuracy")] + "error"] = [1.0 - v for v in record[key]]
    model.advkeras_history = record
    return model
