"""Datasets with PyTorch's constructor style, offline first: ``cnnlab.datasets``.

Classes: ``MNIST``, ``FashionMNIST``, ``CIFAR10``, ``MNIST10k`` (a 10,000-image subset of
MNIST), ``ImageFolder``, ``Iris``, ``Digits``, ``BostonHousing``. By name: ``create(name, ...)``
and ``available()``. Where files come from: ``cnnlab.datasets.sources``.

Example:
    >>> train = cnnlab.datasets.create("fashion-mnist", train=True)
    >>> train.classes[:3]
    ['T-shirt/top', 'Trouser', 'Pullover']
"""

from .base import ArrayImageDataset
from .cifar import CIFAR10, CIFARPickleError
from .folder import ImageFolder, ImageLoadError, load_image, prepare_image
from .idx import IDXError, read_idx, write_idx
from .mnist import MNIST, FashionMNIST
from .mnist10k import MNIST10k
from .registry import DatasetInfo, available, create, get_class, info, locate
from .sources import ChecksumError, DataNotFoundError, data_home
from .tabular import BostonHousing, Digits, Iris

__all__ = [
    "ArrayImageDataset", "BostonHousing", "CIFAR10", "CIFARPickleError", "ChecksumError", "DataNotFoundError",
    "DatasetInfo", "Digits", "FashionMNIST", "IDXError", "ImageFolder", "ImageLoadError", "Iris", "MNIST",
    "MNIST10k", "available", "create", "data_home", "get_class", "info", "load_image", "locate",
    "prepare_image", "read_idx", "write_idx",
]
