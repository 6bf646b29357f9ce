"""Chapter 12's recipes: what their keys name, and their bad input."""

from __future__ import annotations

import pytest

from advkeras.book import experiments


def test_fast_fgsm_keys_name_the_start_the_step_and_the_monitor():
    zero = experiments.recipe_spec("fast_fgsm", "smoke")
    rs = experiments.recipe_spec("fast_fgsm", "smoke", random_start=True, step=2.0)
    assert "random_start" not in zero["fit"] and "step_size" not in zero["fit"]
    assert rs["fit"]["random_start"] is True
    assert rs["fit"]["step_size"] == pytest.approx(2.0 * experiments.FAST_EPS)
    assert zero["name"] != rs["name"]
    monitor = zero["callbacks"][0]["config"]
    assert (
        monitor["steps"] == experiments.FAST_MONITOR_STEPS
        and monitor["eps"] == experiments.FAST_EPS
    )
    assert tuple(zero["fit"]["clip"]) == (0.0, 1.0)


def test_the_relabelled_network_is_keyed_by_the_naive_networks_key():
    spec = experiments.recipe_spec("non_robust_relabelled", "smoke")
    from advkeras.book.cache import cache_key

    assert spec["data"]["relabelled_by"] == cache_key(experiments.recipe_spec("maxout", "smoke"))
    other = experiments.recipe_spec("non_robust_relabelled", "smoke", eps=0.1)
    assert cache_key(other) != cache_key(spec)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"step": 0.0}, "step"), ({"random_start": 1}, "random_start"), ({"alpha": 2.0}, "alpha")],
)
def test_fast_fgsm_refuses_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        experiments.fast_fgsm("smoke", **kwargs)
