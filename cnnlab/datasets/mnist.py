"""MNIST and Fashion-MNIST from their IDX files (gzipped or not).

Files (as published): ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``.
They are looked for in ``root``, ``root/<MNIST|FashionMNIST>/raw`` (torchvision's layout),
the cache ``$CNNLAB_DATA/<name>``, Debian's ``/usr/share/datasets/fashion-mnist`` (Fashion-MNIST
only), and finally downloaded from the official mirrors with their MD5 checksums verified.
"""

from __future__ import annotations

from .base import ArrayImageDataset
from .idx import IDXError, read_idx
from .sources import Download, Located, locate_files, resolve_files

_SPLIT_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class MNIST(ArrayImageDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28 grey.

    Args:
        root: folder holding the IDX files (optional; see the module docstring for the search order).
        train: the training split (True, default) or the test split.
        transform: applied to each PIL image (e.g. ``MNIST.default_transform()``).
        target_transform: applied to each int label.
        download: allow a download from the official mirrors as the last resort (default True).

    Example:
        >>> ds = MNIST(train=False, transform=MNIST.default_transform())
        >>> x, y = ds[0]   # x: (1, 28, 28) float32 Tensor, y: int
    """

    name = "mnist"
    torchvision_folder = "MNIST"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    mean, std = (0.1307,), (0.3081,)
    machine_dirs: tuple[tuple[str, str], ...] = ()
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/")
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = True):
        located = self.resolve(root, train, download)
        images_file, labels_file = (located.paths[f] for f in _SPLIT_FILES[bool(train)])
        images = read_idx(images_file, expected_ndim=3)
        labels = read_idx(labels_file, expected_ndim=1)
        if images.dtype.name != "uint8" or labels.dtype.name != "uint8":
            raise IDXError(f"{images_file}, {labels_file}: expected uint8 IDX data, got {images.dtype} and {labels.dtype}")
        if len(images) != len(labels):
            raise IDXError(f"{images_file} holds {len(images)} images but {labels_file} holds {len(labels)} labels")
        if labels.size and labels.max() >= len(self.classes):
            raise IDXError(f"{labels_file}: label {int(labels.max())} out of range 0..{len(self.classes) - 1}")
        super().__init__(images, labels, transform, target_transform, train, located.origin)

    @classmethod
    def needed_files(cls, train: bool | None = None) -> list[str]:
        splits = (True, False) if train is None else (bool(train),)
        return [f for s in splits for f in _SPLIT_FILES[s]]

    @classmethod
    def locate(cls, root=None, train: bool | None = None) -> Located | None:
        """Where the files are, without downloading (None if absent)."""
        return locate_files(cls.name, cls.needed_files(train), root, (f"{cls.torchvision_folder}/raw",), cls.machine_dirs)

    @classmethod
    def resolve(cls, root=None, train: bool | None = None, download: bool = True) -> Located:
        downloads = [Download(f + ".gz", [m + f + ".gz" for m in cls.mirrors], ("md5", cls.md5[f + ".gz"]))
                     for f in cls.needed_files(None)]
        return resolve_files(
            cls.__name__, cls.name, cls.needed_files(train), root, download,
            root_subdirs=(f"{cls.torchvision_folder}/raw",), machine_dirs=cls.machine_dirs,
            downloads=downloads, hint=f"e.g. from {cls.mirrors[0]}",
            all_files=cls.needed_files(None),
        )


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28×28 grey.

    Same files, format and arguments as ``MNIST``. On Debian the package
    ``dataset-fashion-mnist`` provides them in ``/usr/share/datasets/fashion-mnist``.
    """

    name = "fashion-mnist"
    torchvision_folder = "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    mean, std = (0.2860,), (0.3530,)
    machine_dirs = (("/usr/share/datasets/fashion-mnist", "Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)"),)
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
