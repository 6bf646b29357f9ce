"""Tests of the recipe experiments.maxout_adversary (§6, C20 and C21): what its keys name."""

from __future__ import annotations

import math

import pytest

from advkeras.book import cache, experiments


def test_each_adversary_names_its_step_in_the_key() -> None:
    specs = {
        a: experiments.recipe_spec("maxout_adversary", "smoke", adversary=a)
        for a in ("scaled_gradient", "scaled_gradient_differentiable", "hidden_h0")
    }
    grad, diff, hidden = specs.values()
    # The scaled gradient is as long, in L2, as the FGSM step at .25 on 784 pixels.
    assert grad["fit"]["eps"] == pytest.approx(0.25 * math.sqrt(784))
    assert grad["fit"]["norm"] == 2 and "differentiable" not in grad["fit"]
    assert diff["fit"]["differentiable"] is True and diff["fit"]["norm"] == 2
    assert hidden["fit"]["layer"] == "h0" and hidden["fit"]["eps"] == 0.25
    assert "norm" not in hidden["fit"]
    for spec in specs.values():
        assert spec["fit"]["adversarial"] is True and spec["fit"]["monitor"] == "val_error"
        assert spec["fit"]["alpha"] == experiments.PAPER_ALPHA
    assert len({cache.cache_key(s) for s in specs.values()}) == 3


def test_eps_and_epochs_are_part_of_the_key() -> None:
    base = experiments.recipe_spec("maxout_adversary", "smoke", adversary="hidden_h0")
    other = experiments.recipe_spec("maxout_adversary", "smoke", adversary="hidden_h0", eps=0.5)
    longer = experiments.recipe_spec("maxout_adversary", "smoke", adversary="hidden_h0", epochs=3)
    assert other["fit"]["eps"] == 0.5 and longer["fit"]["epochs"] == 3
    assert base != other and base != longer


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"adversary": "rotation"}, "adversary"),
        ({"adversary": "hidden_h0", "eps": -1.0}, "eps"),
        ({"adversary": "hidden_h0", "epochs": 0}, "epochs"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        experiments.maxout_adversary("smoke", **kwargs)
