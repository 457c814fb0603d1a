"""``ArrayImageDataset``: an image dataset held in memory as one uint8 array.

MNIST, Fashion-MNIST, MNIST10k and CIFAR-10 are small enough to sit in memory as a single
``(N, H, W)`` or ``(N, H, W, C)`` array. ``__getitem__`` follows torchvision (a PIL image and
an int label, then the transforms); ``__getitems__`` serves a whole batch with one fancy
index and the transforms' batch form, which is what lets a ``DataLoader`` keep up with training.
"""

from __future__ import annotations

import numpy as np

from ..transforms import Compose, Normalize, ToTensor, is_batchable
from ..utils.data import Columns, Dataset


class ArrayImageDataset(Dataset):
    """Images in ``data`` (uint8, ``(N, H, W)`` or ``(N, H, W, C)``) with int64 ``targets``.

    Attributes:
        data: the images as a NumPy array (torchvision keeps a tensor for MNIST, an array for CIFAR).
        targets: int64 NumPy array of class indices.
        classes: class names, index = label.
        origin: where the files came from (see ``cnnlab.datasets.sources``).
        mean, std: per-channel statistics of the training images in [0, 1], for ``Normalize``.
    """

    name = ""
    classes: list[str] = []
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    task = "classification"

    def __init__(self, data: np.ndarray, targets: np.ndarray, transform=None, target_transform=None,
                 train: bool = True, origin: str = ""):
        self.data = data
        self.targets = np.asarray(targets, dtype=np.int64)
        self.transform = transform
        self.target_transform = target_transform
        self.train = train
        self.origin = origin

    @classmethod
    def default_transform(cls) -> Compose:
        """``ToTensor()`` then ``Normalize(mean, std)`` with this dataset's training statistics."""
        return Compose([ToTensor(), Normalize(cls.mean, cls.std)])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image after ``ToTensor``."""
        c = 1 if self.data.ndim == 3 else self.data.shape[3]
        return (c, self.data.shape[1], self.data.shape[2])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def _image(self, arr: np.ndarray):
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - pillow is in the `all` extra
            return arr
        return Image.fromarray(arr, mode="L" if arr.ndim == 2 else "RGB")

    def __getitem__(self, index: int):
        img, target = self._image(self.data[index]), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        """A batch: ``Columns((images, labels))`` when the transform has a batch form, else samples."""
        if not is_batchable(self.transform):
            return [self[i] for i in indices]
        idx = np.asarray(indices, dtype=np.int64)
        x, y = self.data[idx], self.targets[idx]
        if self.transform is not None:
            x, _ = self.transform.batch(x, False)
        if self.target_transform is not None:
            y = np.asarray([self.target_transform(int(t)) for t in y])
        return Columns((x, y))

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Split: {'Train' if self.train else 'Test'}"]
        if self.origin:
            lines.append(f"    Source: {self.origin}")
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        return "\n".join(lines)
