"""CIFAR-10 from the official "python version" pickle batches.

Files: ``cifar-10-batches-py/data_batch_1`` … ``data_batch_5``, ``test_batch`` and
``batches.meta``, found in ``root`` (or ``root`` itself being that folder), the cache, or the
official archive ``cifar-10-python.tar.gz`` (MD5 checked) downloaded and unpacked.

Each batch is a pickled dict: ``b"data"`` a uint8 array (10000, 3072) in channel-major order
(1024 red, 1024 green, 1024 blue values per row), ``b"labels"`` a list of ints. The pickles
are read with a restricted unpickler that only builds NumPy arrays, so a hostile file cannot
run code.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

from .base import ArrayImageDataset
from .sources import (
    DataNotFoundError, Download, Located, cache_dir, fetch, locate_files, not_found_message, read_source_note,
    write_source_note,
)

FOLDER = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]
META_FILE = "batches.meta"
ARCHIVE = Download(
    "cifar-10-python.tar.gz", ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"],
    ("md5", "c58f30108f718f92721af3b95e74349a"),
)


class CIFARPickleError(ValueError):
    """A malformed CIFAR batch file; the message names the file and what is wrong."""


class _ArraysOnly(pickle.Unpickler):
    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self._allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only NumPy arrays are allowed)")


def load_pickle(path: Path) -> dict:
    """Unpickle one CIFAR file (Python 2 pickles, keys as bytes), naming the file on any failure."""
    try:
        with open(path, "rb") as f:
            obj = _ArraysOnly(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise CIFARPickleError(f"{path}: corrupt or truncated pickle ({type(e).__name__}: {e})") from e
    if not isinstance(obj, dict):
        raise CIFARPickleError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch → images (N, 32, 32, 3) uint8 and labels (N,) int64."""
    d = load_pickle(path)
    if "data" not in d or "labels" not in d:
        raise CIFARPickleError(f"{path}: expected keys 'data' and 'labels', got {sorted(map(str, d))}")
    data = np.asarray(d["data"])
    labels = np.asarray(d["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise CIFARPickleError(f"{path}: expected 'data' as uint8 of shape (N, 3072), got {data.dtype} {data.shape}")
    if len(labels) != len(data):
        raise CIFARPickleError(f"{path}: {len(data)} images but {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CIFARPickleError(f"{path}: labels out of range 0..9 (min {labels.min()}, max {labels.max()})")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _safe_extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            target = (dest / m.name).resolve()
            if not str(target).startswith(str(dest.resolve())) or m.issym() or m.islnk():
                raise CIFARPickleError(f"{archive}: refusing unsafe member {m.name!r}")
        tar.extractall(dest)


class CIFAR10(ArrayImageDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32×32, in 10 classes.

    Args:
        root: a folder holding ``cifar-10-batches-py/`` (or that folder itself).
        train: the five training batches (True, default) or ``test_batch``.
        transform: applied to each PIL image (e.g. ``CIFAR10.default_transform()``).
        target_transform: applied to each int label.
        download: allow the official archive's download as the last resort (default True).

    Example:
        >>> ds = CIFAR10(root="data", transform=CIFAR10.default_transform())
        >>> x, y = ds[0]   # x: (3, 32, 32) float32
    """

    name = "cifar10"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = True):
        located = self.resolve(root, train, download)
        parts = [read_batch(located.paths[f]) for f in (TRAIN_FILES if train else TEST_FILES)]
        data = np.concatenate([p[0] for p in parts])
        targets = np.concatenate([p[1] for p in parts])
        meta = load_pickle(located.paths[META_FILE])
        names = meta.get("label_names")
        if names is not None:
            self.classes = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
        super().__init__(data, targets, transform, target_transform, train, located.origin)

    @classmethod
    def augmented_transform(cls):
        """The usual CIFAR-10 training augmentation: pad-4 random crop, random flip, then normalise.

        All four steps have a batch form, so a DataLoader still fetches whole batches at once.
        """
        from ..transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor

        return Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(), Normalize(cls.mean, cls.std)])

    @classmethod
    def needed_files(cls, train: bool | None = None) -> list[str]:
        split = TRAIN_FILES + TEST_FILES if train is None else (TRAIN_FILES if train else TEST_FILES)
        return list(split) + [META_FILE]

    @classmethod
    def locate(cls, root=None, train: bool | None = None) -> Located | None:
        needed = cls.needed_files(train)
        if root is not None:
            found = locate_files(cls.name, needed, Path(root) / FOLDER) or locate_files(cls.name, needed, root)
            if found is not None and not found.origin.startswith("cache"):
                return found
        cache = cache_dir(cls.name)
        note = read_source_note(cache)
        label = f"cache {cache}" + (f" (from {note})" if note else "")
        return locate_files(cls.name, needed, None, (), ((str(cache / FOLDER), label),))

    @classmethod
    def resolve(cls, root=None, train: bool | None = None, download: bool = True) -> Located:
        found = cls.locate(root, train)
        if found is not None:
            return found
        errors = ["download=False"] if not download else []
        if download:
            target = Path(root).expanduser() if root is not None else cache_dir(cls.name)
            try:
                archive = fetch(ARCHIVE, target)
                _safe_extract(archive, target)
                if root is None:
                    write_source_note(target, "download from https://www.cs.toronto.edu/~kriz/")
                found = cls.locate(root, train)
                if found is not None:
                    return found
            except DataNotFoundError as e:
                errors.append(str(e))
        raise DataNotFoundError(not_found_message(
            "CIFAR10", [f"{FOLDER}/{f}" for f in cls.needed_files(None)], root, cls.name,
            "or the archive cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html unpacked there",
            errors,
        ))
