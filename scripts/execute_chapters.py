"""Execute chapter notebooks in place and record how they were run.

Usage::

    ADVKERAS_PROFILE=book python scripts/execute_chapters.py chapters/03_linear_explanation.ipynb

Each notebook runs with nbclient in a fresh ``python3`` kernel. The kernel resolves to the
interpreter running this script (``.venv/bin/python`` under ``make reproduce``), and the working
directory is the notebook's folder. On success the executed notebook replaces the file. It is
written to a temporary file that is then renamed. Its metadata gets::

    "advkeras": {"profile": "book", "advkeras_version": "0.1.0",
                 "executed": "2025-01-01T12:00:00+00:00", "seconds": 123.4}

On an error the original file is left untouched. The script goes on with the next notebook,
prints the failing cell, and exits with status 1 at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

DEFAULT_TIMEOUT = 3600
KERNEL_NAME = "python3"


def advkeras_version() -> str:
    """The installed advkeras version, or ``"unknown"`` if it cannot be imported."""
    try:
        import advkeras
    except ImportError:  # pragma: no cover - advkeras is installed in the venv
        return "unknown"
    return str(advkeras.__version__)


def execute_notebook(path: Path, *, profile: str, timeout: int = DEFAULT_TIMEOUT) -> float:
    """Execute ``path`` in place; return the run time in seconds.

    Args:
        path: the ``.ipynb`` file.
        profile: the ``ADVKERAS_PROFILE`` the kernel sees, recorded in the metadata.
        timeout: seconds allowed per cell.

    Returns:
        The wall-clock seconds of the execution.

    Raises:
        CellExecutionError: a cell raised; the file on disk is unchanged.
    """
    nb = nbformat.read(path, as_version=4)
    os.environ["ADVKERAS_PROFILE"] = profile
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata["advkeras"] = {
        "profile": profile,
        "advkeras_version": advkeras_version(),
        "executed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
    }
    nbformat.validate(nb)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".ipynb", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Command line: execute the given notebooks; return 0 if all of them ran without error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files to execute in place")
    parser.add_argument(
        "--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell (default 3600)"
    )
    args = parser.parse_args(argv)
    profile = os.environ.get("ADVKERAS_PROFILE", "").strip() or "book"

    failed: list[str] = []
    total = 0.0
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"{path}: not an .ipynb file", file=sys.stderr)
            failed.append(str(path))
            continue
        print(f"{path}: executing under profile '{profile}' ...", flush=True)
        try:
            seconds = execute_notebook(path, profile=profile, timeout=args.timeout)
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
