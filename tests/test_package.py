"""The package as a user meets it: the README's script runs, and a wheel builds cleanly."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


BOOK_ONLY = ("get_profile", "cached_model", "profiles", "experiments", "cache", "reporting")


def test_top_level_offers_the_library_and_nothing_only_the_book_needs():
    import advkeras

    listed = dir(advkeras)
    assert not set(BOOK_ONLY) & set(listed), set(BOOK_ONLY) & set(listed)
    for name in BOOK_ONLY:
        assert not hasattr(advkeras, name), name
    for name in ("attacks", "training", "layers", "models", "datasets", "evaluation", "losses"):
        assert name in listed and getattr(advkeras, name).__name__ == f"advkeras.{name}"
    assert "plotting" in listed
    for name in ("fgsm", "fgsm_sweep", "AdversarialModel", "load_mnist", "load_cifar10"):
        assert name in listed and callable(getattr(advkeras, name))


def test_the_book_machinery_is_the_subpackage_advkeras_book():
    from advkeras.book import cache, experiments, profiles, reporting

    for recipe in ("maxout", "softmax_regression", "logistic_3v7", "rbf", "mnist", "describe"):
        assert callable(getattr(experiments, recipe)), recipe
    assert callable(experiments.conv_maxout_cifar10) and callable(experiments.ensemble_members)
    assert callable(profiles.get_profile) and callable(cache.cached_model)
    assert callable(reporting.save_results)
    assert experiments.__name__ == "advkeras.book.experiments"


def _readme_script() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no python block"
    return blocks[0]


def test_readme_script_is_ten_lines_or_so():
    lines = [line for line in _readme_script().splitlines() if line.strip()]
    assert len(lines) <= 12


def test_readme_script_runs_and_learns(capsys):
    """Executes the README's block verbatim: an adversarial fit() and FGSM on real MNIST."""
    namespace: dict[str, object] = {}
    exec(compile(_readme_script(), "README.md", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    clean = float(re.search(r"clean error: ([0-9.]+)", out).group(1))
    fgsm = float(re.search(r"FGSM error: +([0-9.]+)", out).group(1))
    assert clean < 0.2  # two adversarial epochs on 10k images already learn MNIST
    assert fgsm > clean  # and FGSM still hurts
    x_adv, x_test = namespace["x_adv"], namespace["x_test"]
    assert np.max(np.abs(x_adv - x_test)) <= 0.25 + 1e-6


def _readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return block


def test_readme_library_script_runs_in_a_fresh_process(tmp_path):
    """The README's script for library users, verbatim, in a new interpreter: it imports only
    the library, trains with a Keras loss and metrics=["accuracy"], saves and loads."""
    script = tmp_path / "user_script.py"
    script.write_text(_readme_block("## advkeras in your own code"))
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = re.search(r"clean and FGSM: ([0-9.]+) ([0-9.]+)", proc.stdout)
    clean, fgsm = float(found.group(1)), float(found.group(2))
    assert 0.0 <= fgsm < clean <= 1.0 and clean > 0.3  # it learnt something, and FGSM hurts
    assert (tmp_path / "adversarial.keras").is_file() and (tmp_path / "maxout.keras").is_file()
    assert "advkeras.book" not in script.read_text()


@pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import hatchling"], capture_output=True).returncode,
    reason="hatchling is not installed in this environment",
)
def test_wheel_contains_the_package_and_its_type_marker(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("advkeras-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "advkeras").rglob("*.py")}
    assert "advkeras/book/experiments.py" in modules
    assert modules <= names
    assert "advkeras/py.typed" in names
    assert not any(n.startswith(("tests/", "chapters/", "benchmarks/")) for n in names)
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Dist: tensorflow>=2.20.0" in text and "Requires-Dist: keras>=3.13.2" in text
