"""scripts/fetch_mathjax.py: the pinned hash gates the extraction, and only es5/ is extracted."""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path

import pytest

from advkeras._files import sha256_file

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "fetch_mathjax", ROOT / "scripts" / "fetch_mathjax.py"
)
fetch_mathjax = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fetch_mathjax)


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


FILES = {
    "package/package.json": b"{}",
    "package/es5/tex-mml-chtml.js": b"// entry",
    "package/es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff": b"woff",
}


def test_extracts_es5_and_stamps_the_hash(tmp_path: Path) -> None:
    tarball = _tarball(tmp_path / "mathjax.tgz", FILES)
    digest = sha256_file(tarball)
    dest = fetch_mathjax.install_tarball(tarball, tmp_path / "static" / "mathjax", sha256=digest)
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == [
        ".verified",
        "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
        "tex-mml-chtml.js",
    ]
    assert fetch_mathjax.is_installed(dest, digest)
    assert not fetch_mathjax.is_installed(dest, "0" * 64)


def test_wrong_hash_extracts_nothing(tmp_path: Path) -> None:
    tarball = _tarball(tmp_path / "mathjax.tgz", FILES)
    dest = tmp_path / "mathjax"
    with pytest.raises(ValueError, match="SHA-256"):
        fetch_mathjax.install_tarball(tarball, dest, sha256="0" * 64)
    assert not dest.exists()


def test_tarball_without_the_entry_point_is_refused(tmp_path: Path) -> None:
    tarball = _tarball(tmp_path / "other.tgz", {"package/es5/core.js": b"//"})
    with pytest.raises(ValueError, match="tex-mml-chtml.js"):
        fetch_mathjax.install_tarball(tarball, tmp_path / "mathjax", sha256=sha256_file(tarball))
    assert not (tmp_path / "mathjax").exists()
