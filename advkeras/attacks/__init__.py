r"""The fast gradient sign method and the paper's other perturbations.

Goodfellow, Shlens & Szegedy (2015, §4) linearise the cost J(θ, x, y) around
the input and take the max-norm-constrained step that increases it most:

.. math::

    \eta = \epsilon \, \operatorname{sign}\left(\nabla_x J(\theta, x, y)\right),
    \qquad \tilde{x} = x + \eta .

One gradient (one backward pass) gives an adversarial example. For a linear
model wᵀx the step changes the activation by ε‖w‖₁, which grows with the
dimension: the paper's linear explanation of adversarial examples.

The package has one module per idea; the names below are re-exported here, so
that ``from advkeras import attacks; attacks.fgsm(...)`` is all a user needs:

- :mod:`advkeras.attacks.core`: the perturbation core that everything below
  and :class:`advkeras.training.AdversarialModel` are built from: the input
  gradient of the cost, labels (true, predicted, targets), the step per norm,
  projection and clipping;
- :mod:`advkeras.attacks.fast_gradient`: :func:`fgsm` (the attack; ε·sign(∇),
  or ε·∇/‖∇‖₂ with ``norm=2``; targeted or untargeted; NumPy arrays, tensors
  and ``tf.data`` pipelines), :func:`fgsm_sweep` (one gradient per batch, many
  ε: a robustness curve) and :func:`input_gradient` (∇ₓJ itself, for figures);
- :mod:`advkeras.attacks.projected_gradient`: :func:`pgd` (Madry et al.
  2018's projected gradient descent: k FGSM steps of size a from a random
  point of the ε-ball, each projected back on the ball; L∞ or L2; targeted or
  untargeted; seedable), :func:`random_ball` (its random start) and
  :class:`PGDMonitor` (a callback logging the PGD error after every epoch);
- :mod:`advkeras.attacks.rotation`: :func:`rotate_toward_gradient` (§4:
  "rotating x by a small angle in the direction of the gradient reliably
  produces adversarial examples");
- :mod:`advkeras.attacks.noise`: :func:`random_sign_noise`,
  :func:`uniform_noise` (§6's noise controls), :func:`gaussian_rubbish`,
  :func:`fooling_step` (Appendix A's rubbish-class examples);
- :mod:`advkeras.attacks.lbfgs`: :func:`lbfgs_attack` (Szegedy et al. 2014's
  box-constrained L-BFGS, the slow attack that FGSM is compared with);
- :mod:`advkeras.attacks.compiled`: the compiled functions (XLA or graph
  runtime) and their cache, with :func:`~advkeras.attacks.compiled.compiled_functions`
  and :func:`~advkeras.attacks.compiled.trace_count` to inspect them.

The cost J comes from :mod:`advkeras.losses`: it is read from the model's
output layer (logits, softmax, one binary unit, independent sigmoids/RBF units),
or given with ``output=``. Losses are summed over the batch, so each example's
gradient is the gradient of its own loss. Every gradient is taken in a
``tf.function`` compiled once per model and input shape; ε and the clip bounds
are tensor arguments, so sweeping ε never retraces.
"""

from __future__ import annotations

from advkeras.attacks._inputs import DEFAULT_BATCH_SIZE as DEFAULT_BATCH_SIZE
from advkeras.attacks.fast_gradient import SweepResult, fgsm, fgsm_sweep, input_gradient
from advkeras.attacks.lbfgs import LBFGSResult, lbfgs_attack
from advkeras.attacks.noise import fooling_step, gaussian_rubbish, random_sign_noise, uniform_noise
from advkeras.attacks.projected_gradient import PGDMonitor, pgd, random_ball
from advkeras.attacks.rotation import rotate_toward_gradient

__all__ = [
    "LBFGSResult",
    "PGDMonitor",
    "SweepResult",
    "fgsm",
    "fgsm_sweep",
    "fooling_step",
    "gaussian_rubbish",
    "input_gradient",
    "lbfgs_attack",
    "pgd",
    "random_ball",
    "random_sign_noise",
    "rotate_toward_gradient",
    "uniform_noise",
]
