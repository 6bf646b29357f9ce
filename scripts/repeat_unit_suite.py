"""Run the unit suite N times, each from a fresh clone with no ``.hypothesis`` folder.

Usage::

    .venv/bin/python scripts/repeat_unit_suite.py --runs 20            # HEAD of this checkout
    .venv/bin/python scripts/repeat_unit_suite.py --runs 5 --rev main --profile ci

Each run clones the revision into a new temporary folder (so no example database, pytest
cache or model cache carries over), puts that clone first on ``PYTHONPATH`` (the clone's
``advkeras`` is the one tested, checked before the run), and runs ``pytest tests`` with the
interpreter running this script. ``--profile dev`` (the default) lets Hypothesis draw new
examples every run, the stronger test of flakiness; ``--profile ci`` is what CI runs.
MNIST is read from ``$ADVKERAS_DATA_DIR`` (default: this checkout's ``data/``), linked into each
clone as ``data/``. A run passes only with no test skipped, since a skip could hide a missing file.

It prints one line per run and a closing ``N passed, M failed`` line, keeps each run's log
under ``--logs``, and exits 1 if any run failed. This is a script, not a test: it takes
about 2 minutes a run on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed).*?)\s*=*$")


def run_once(rev: str, profile: str, log: Path) -> tuple[bool, str, float]:
    """Clone ``rev`` into a temporary folder and run the unit suite there once."""
    with tempfile.TemporaryDirectory(prefix="advkeras-unit-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(
            ["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True
        )
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", rev], check=True)
        assert not (clone / ".hypothesis").exists()
        # The verified MNIST files, where `make data` would put them (tests read data/mnist).
        data = Path(os.environ.get("ADVKERAS_DATA_DIR", ROOT / "data")).resolve()
        (clone / "data").symlink_to(data, target_is_directory=True)
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
        env.update(
            PYTHONPATH=str(clone),
            HYPOTHESIS_PROFILE=profile,
            ADVKERAS_DATA_DIR=str(data),
            ADVKERAS_CACHE_DIR=str(Path(tmp) / "models"),
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        where = subprocess.run(
            [sys.executable, "-c", "import advkeras; print(advkeras.__file__)"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(where).is_relative_to(clone):
            raise RuntimeError(f"the clone's advkeras is not the one imported: {where}")
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
    log.write_text(result.stdout + result.stderr)
    lines = [m.group(1) for line in result.stdout.splitlines() if (m := SUMMARY.match(line))]
    summary = lines[-1] if lines else "no summary line"
    return result.returncode == 0 and "skipped" not in summary, summary, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--profile", choices=("dev", "ci"), default="dev")
    parser.add_argument("--logs", type=Path, default=ROOT / "_build" / "unit-repeats")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", args.rev], capture_output=True, text=True, check=True
    ).stdout.strip()
    args.logs.mkdir(parents=True, exist_ok=True)
    print(f"unit suite x{args.runs} from fresh clones of {rev[:12]} (Hypothesis {args.profile})")
    passed = 0
    for i in range(1, args.runs + 1):
        ok, summary, seconds = run_once(rev, args.profile, args.logs / f"run-{i:02d}.log")
        passed += ok
        print(f"run {i:2d}: {'PASS' if ok else 'FAIL'}  {summary}  ({seconds:.0f} s)", flush=True)
    print(f"{passed} passed, {args.runs - passed} failed")
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
