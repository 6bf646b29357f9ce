"""The Hypothesis profile that CI runs under is derandomized and writes no example database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

PROBE = """
import conftest
from hypothesis import settings
d = settings.default
print(d.derandomize, d.database is None, d.print_blob)
"""


def _probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=TESTS,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


@pytest.mark.parametrize("env", [{"CI": "true"}, {"HYPOTHESIS_PROFILE": "ci"}])
def test_ci_profile_is_derandomized_without_a_database(env):
    assert _probe(**env) == ["True", "True", "True"]


def test_local_runs_explore_at_random():
    derandomize, no_database, _ = _probe()
    assert (derandomize, no_database) == ("False", "False")
