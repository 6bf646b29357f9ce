"""Atomic writes: every file (or folder) the package writes appears whole under its name, or not at all.

One helper, :func:`atomic_path`, does it for all of them (cached models, MNIST
files and their ``.verified`` stamp, results files): the content is written
under a temporary name in the target's own folder, then renamed over the
target with :func:`os.replace`, which is atomic on POSIX and Windows. A
reader sees the old file or the new one, never a half-written one, and a
failure (an exception, a wrong checksum, Ctrl-C) removes the temporary and
leaves the target as it was. Files get the ordinary mode of a new file
(``0o666`` minus the umask, usually ``0o644``), not the ``0o600`` of
:func:`tempfile.mkstemp`.

Example:

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> path = atomic_write_text(folder / "hello.txt", "hi\\n")
>>> path.read_text()
'hi\\n'
>>> sorted(p.name for p in folder.iterdir())  # no temporary left behind
['hello.txt']
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

#: Every temporary name starts with "." and holds this marker, e.g. ``.model.keras.1f2e3d.tmp.keras``.
TEMPORARY_MARKER = ".tmp"


def temporary_path(path: str | os.PathLike[str]) -> Path:
    """A fresh, unused name beside ``path`` that keeps its suffix (Keras insists on ``.keras``).

    Example:

    >>> name = temporary_path("/data/model.keras").name
    >>> name.startswith(".model.keras.") and name.endswith(".tmp.keras")
    True
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMPORARY_MARKER}{path.suffix}")


def remove(path: str | os.PathLike[str]) -> None:
    """Delete a file, a link or a whole folder at ``path``; nothing there is fine."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    The yielded path does not exist yet: the block creates a file *or a folder*
    there. When the block ends without an exception, the temporary is renamed
    to ``path`` (:func:`os.replace`): a file replaces any old file; a folder
    replaces only a missing or empty folder, and an existing non-empty one
    makes the rename fail with ``OSError`` (``errno`` ``ENOTEMPTY`` or
    ``EEXIST``), keeping it: the first of two concurrent writers wins. If the
    block raises, or writes nothing, or the rename fails, the temporary is
    removed and ``path`` is untouched. The parent folder is created if needed.

    Args:
        path: the final file or folder.

    Yields:
        A ``Path`` in the same folder, with the same suffix.

    Raises:
        FileNotFoundError: the block created nothing at the yielded path.

    Example:

    >>> import json, tempfile
    >>> target = Path(tempfile.mkdtemp()) / "record.json"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text(json.dumps({"ok": True}))
    >>> json.loads(target.read_text())
    {'ok': True}
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        yield tmp
        if not os.path.lexists(tmp):
            raise FileNotFoundError(f"Nothing was written at {tmp}, so {path} was left unchanged.")
        os.replace(tmp, path)
    finally:
        remove(tmp)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); return ``path``.

    Example:

    >>> import tempfile
    >>> path = atomic_write_bytes(Path(tempfile.mkdtemp()) / "x.bin", b"\\x00\\x01")
    >>> path.read_bytes()
    b'\\x00\\x01'
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`); return ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks.

    Example:

    >>> import tempfile
    >>> path = atomic_write_bytes(Path(tempfile.mkdtemp()) / "abc", b"abc")
    >>> sha256_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
