"""Training-time augmentation: the training images re-drawn every epoch, then preprocessed.

``AugmentedImages`` keeps the training part as uint8 images and applies a
:class:`cnnlab.transforms.RandomChallenges` to each batch it hands out, before the run's
preprocessing (the statistics of the clean training images, as without augmentation). The
``SetEpoch`` callback tells it the epoch at the start of each one, so the draws depend on
(seed, epoch, sample) only: a resumed run sees the images an uninterrupted one saw.
"""

from __future__ import annotations

import numpy as np

from ..utils.data.dataset import Columns, Dataset
from .callbacks import Callback


class AugmentedImages(Dataset):
    """uint8 ``images`` with ``targets``, augmented by ``augment`` and mapped by ``preprocess``.

    Args:
        images: uint8 (N, H, W) or (N, H, W, C).
        targets: (N,) labels.
        preprocess: the run's input mapping (``cnnlab.train.recipe.fit_preprocess``).
        augment: a ``RandomChallenges`` (or any callable ``augment(images, indices)`` with ``set_epoch``).
    """

    def __init__(self, images, targets, preprocess: dict, augment):
        self.images = np.asarray(images)
        self.targets = np.asarray(targets)
        if self.images.dtype != np.uint8 or self.images.ndim not in (3, 4):
            raise ValueError(f"AugmentedImages: expected uint8 images (N, H, W[, C]), got "
                             f"{self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.targets):
            raise ValueError(f"AugmentedImages: {len(self.images)} images but {len(self.targets)} targets")
        self.preprocess = preprocess
        self.augment = augment

    def set_epoch(self, epoch: int) -> None:
        self.augment.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.images)

    def __getitems__(self, indices) -> Columns:
        from .recipe import apply_preprocess

        idx = np.asarray(indices, dtype=np.int64)
        x = apply_preprocess(self.augment(self.images[idx], indices=idx), self.preprocess)
        return Columns((x, self.targets[idx]))

    def __getitem__(self, index):
        from .._tensor import from_numpy

        x, y = self.__getitems__([index])
        return from_numpy(x[0]), from_numpy(np.asarray(y[0]))


class SetEpoch(Callback):
    """Calls ``dataset.set_epoch(epoch)`` at the start of every epoch (epochs count from 1)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def on_epoch_begin(self, state) -> None:
        self.dataset.set_epoch(state.epoch)
