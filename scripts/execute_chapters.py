"""Execute chapter notebooks in place and record how they were run.

Usage::

    ADVKERAS_PROFILE=book python scripts/execute_chapters.py chapters/03_linear_explanation.ipynb

Each notebook runs with nbclient in a fresh ``python3`` kernel. The kernel resolves to the
interpreter running this script (``.venv/bin/python`` under ``make reproduce``), and the working
directory is the notebook's folder. On success the executed notebook replaces the file. It is
written to a temporary file that is then renamed. Its metadata gets::

    "advkeras": {"profile": "book", "advkeras_version": "0.1.0",
                 "executed": "2025-01-01T12:00:00+00:00", "seconds": 123.4,
                 "cold": {"executed": "2025-01-01T11:00:00+00:00", "seconds": 456.7}}

``--cold`` (``make reproduce COLD=1``) first checks that the model cache
(``$ADVKERAS_CACHE_DIR``) is empty, so that the run trains every network the chapters need but
the shipped ones (the whole book from an empty cache), and records each chapter's time under
``"cold"``. A later run without it keeps the last ``"cold"`` entry, so a chapter re-executed on
a warm cache still says how long it took from an empty one.

On an error the original file is left untouched (but for the revision stamp below). The script
goes on with the next notebook, prints the failing cell, and exits with status 1 at the end.

Before executing anything, the script pins the book to the commit it is executed at: the set-up
cell that every chapter opens with (the one that installs advkeras on Colab) holds one line
``ADVKERAS_REV = "<40 hex digits>"``, and that line is set to ``git rev-parse HEAD`` in every
notebook in the folders of the given notebooks and in their paired jupytext ``.py`` files, so
that the cell stays identical across chapters. Nothing else in those files changes. Commit
advkeras before re-executing: the pin names HEAD, not the working tree. ``--stamp-only`` sets
the line without executing anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from advkeras import environment
from advkeras._files import atomic_write_text
from advkeras.book.cache import cache_dir
from advkeras.book.profiles import get_profile

DEFAULT_TIMEOUT = 3600
KERNEL_NAME = "python3"
# What C++ code writes straight to file descriptors 1 and 2 (TensorFlow's start-up logging, which
# TF_CPP_MIN_LOG_LEVEL does not silence) goes to this script's terminal, not into the notebook.
# Python's own print() and warnings are still recorded.
KERNEL_ARGS = ["--IPKernelApp.capture_fd_output=False"]
ROOT = Path(__file__).resolve().parents[1]
REV_LINE = re.compile(r'^ADVKERAS_REV = "[0-9a-f]*"$', re.MULTILINE)


def advkeras_version() -> str:
    """The installed advkeras version, or ``"unknown"`` if it cannot be imported."""
    try:
        import advkeras
    except ImportError:  # pragma: no cover - advkeras is installed in the venv
        return "unknown"
    return str(advkeras.__version__)


def _git(*args: str, repo: Path = ROOT) -> str | None:
    """The output of ``git -C repo <args>``, or ``None`` outside a git checkout (or on failure)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def git_head(repo: Path = ROOT) -> str | None:
    """``git rev-parse HEAD`` of ``repo``, or ``None`` outside a git checkout."""
    return _git("rev-parse", "--verify", "HEAD^{commit}", repo=repo)


def advkeras_is_dirty(repo: Path = ROOT) -> bool:
    """Whether the package sources differ from HEAD (so HEAD is not what gets executed)."""
    return bool(_git("status", "--porcelain", "--", "advkeras", "pyproject.toml", repo=repo))


def stamp_revision(notebooks: Iterable[Path], rev: str) -> list[Path]:
    """Set ``ADVKERAS_REV = "<rev>"`` in the set-up cell of every chapter next to ``notebooks``.

    Every ``.ipynb`` in the folders of ``notebooks`` and its paired ``.py`` (same stem) is
    looked at; only a file whose first code cell has an ``ADVKERAS_REV = "..."`` line is changed,
    and only that line. Outputs are untouched.

    Args:
        notebooks: the notebooks about to be executed.
        rev: the 40-hex commit to pin.

    Returns:
        The files that changed.
    """
    if not re.fullmatch(r"[0-9a-f]{40}", rev):
        raise ValueError(f"not a full commit hash: {rev!r}")
    line = f'ADVKERAS_REV = "{rev}"'
    changed: list[Path] = []
    for folder in sorted({p.resolve().parent for p in notebooks}):
        for ipynb in sorted(folder.glob("*.ipynb")):
            nb = nbformat.read(ipynb, as_version=4)
            cell = next((c for c in nb.cells if c.cell_type == "code"), None)
            if cell is not None and REV_LINE.search(cell.source):
                source = REV_LINE.sub(line, cell.source)
                if source != cell.source:
                    cell.source = source
                    atomic_write_text(ipynb, nbformat.writes(nb) + "\n")
                    changed.append(ipynb)
            paired = ipynb.with_suffix(".py")
            if paired.is_file():
                text = paired.read_text(encoding="utf-8")
                stamped = REV_LINE.sub(line, text, count=1)
                if stamped != text:
                    atomic_write_text(paired, stamped)
                    changed.append(paired)
    return changed


def execute_notebook(
    path: Path, *, profile: str, timeout: int = DEFAULT_TIMEOUT, cold: bool = False
) -> float:
    """Execute ``path`` in place; return the run time in seconds.

    Args:
        path: the ``.ipynb`` file.
        profile: the ``ADVKERAS_PROFILE`` the kernel sees, recorded in the metadata.
        timeout: seconds allowed per cell.
        cold: the run started from an empty model cache: record the time as ``"cold"`` too
            (otherwise the notebook's last ``"cold"`` entry is kept).

    Returns:
        The wall-clock seconds of the execution.

    Raises:
        CellExecutionError: a cell raised; the file on disk is unchanged.
    """
    nb = nbformat.read(path, as_version=4)
    last_cold = nb.metadata.get("advkeras", {}).get("cold")
    os.environ[environment.PROFILE] = profile
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        extra_arguments=KERNEL_ARGS,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    executed = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    nb.metadata["advkeras"] = {
        "profile": profile,
        "advkeras_version": advkeras_version(),
        "executed": executed,
        "seconds": round(seconds, 1),
    }
    if cold:
        nb.metadata["advkeras"]["cold"] = {"executed": executed, "seconds": round(seconds, 1)}
    elif last_cold:
        nb.metadata["advkeras"]["cold"] = last_cold
    nbformat.validate(nb)
    atomic_write_text(path, nbformat.writes(nb) + "\n")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Command line: execute the given notebooks; return 0 if all of them ran without error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files to execute in place")
    parser.add_argument(
        "--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell (default 3600)"
    )
    parser.add_argument(
        "--stamp-only",
        action="store_true",
        help="only pin the chapters' set-up cells to git HEAD; execute nothing",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="the model cache must be empty; record each chapter's time as its cold time",
    )
    args = parser.parse_args(argv)
    profile = get_profile().name  # $ADVKERAS_PROFILE, else "book"; a bad name is a ValueError
    if args.cold and not args.stamp_only:
        cache = cache_dir()
        if cache.is_dir() and any(cache.iterdir()):
            print(f"--cold: the model cache {cache} is not empty", file=sys.stderr)
            return 2

    rev = git_head()
    if rev is None:
        print("not a git checkout: the set-up cells keep their ADVKERAS_REV", file=sys.stderr)
    else:
        if advkeras_is_dirty():
            print(
                f"warning: advkeras has uncommitted changes, but the chapters pin {rev[:12]}",
                file=sys.stderr,
            )
        for path in stamp_revision(args.notebooks, rev):
            print(f"{os.path.relpath(path)}: ADVKERAS_REV = {rev}", flush=True)
    if args.stamp_only:
        return 0 if rev is not None else 1

    failed: list[str] = []
    total = 0.0
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"{path}: not an .ipynb file", file=sys.stderr)
            failed.append(str(path))
            continue
        print(f"{path}: executing under profile '{profile}' ...", flush=True)
        try:
            seconds = execute_notebook(path, profile=profile, timeout=args.timeout, cold=args.cold)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            print(f"{path}: FAILED, file left unchanged\n{err}", file=sys.stderr, flush=True)
            failed.append(str(path))
            continue
        total += seconds
        print(f"{path}: {seconds:.1f} s", flush=True)

    print(f"total: {total:.1f} s for {len(args.notebooks) - len(failed)} notebook(s)")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
