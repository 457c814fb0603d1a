"""``DataLoader``: batches of a dataset as Tensors, with PyTorch's arguments and semantics."""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ..._tensor import Tensor, from_numpy
from .dataset import Columns
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def _column_to_tensor(col) -> Tensor:
    if isinstance(col, Tensor):
        return col
    arr = np.asarray(col)
    if arr.dtype.kind in "iu" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64, copy=False)  # labels: int64, as torch's default_collate
    return from_numpy(np.ascontiguousarray(arr))


def default_collate(batch: list):
    """Stack a list of samples into a batch, field by field, as ``torch.utils.data.default_collate``.

    Tensors and arrays are stacked on a new first axis; Python ints become an int64 Tensor,
    floats a float64 Tensor; tuples/lists and dicts are collated per field; strings stay a list.

    Raises:
        RuntimeError: if samples have different shapes (add a Resize/CenterCrop transform).
    """
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray)):
        arrays = [b.detach().numpy() if isinstance(b, Tensor) else np.asarray(b) for b in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise RuntimeError(
                f"default_collate: samples in a batch have different shapes {sorted(shapes)}; "
                "make them equal (e.g. a Resize/CenterCrop transform) or pass a collate_fn"
            )
        return _column_to_tensor(np.stack(arrays))
    if isinstance(elem, (bool, np.bool_)):
        return from_numpy(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return from_numpy(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return from_numpy(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("default_collate: each element in the batch should be of equal size")
        out = [default_collate(list(s)) for s in zip(*batch)]
        return tuple(out) if isinstance(elem, tuple) else out
    if hasattr(elem, "mode") and hasattr(elem, "size"):  # a PIL image
        raise TypeError(
            "default_collate: batch contains PIL images; add a transform such as transforms.ToTensor()"
        )
    raise TypeError(f"default_collate: batch must contain tensors, arrays, numbers, dicts or lists; found {type(elem)}")


class DataLoader:
    """Iterate over a dataset in batches of Tensors.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch (default 1); ``None`` yields single samples.
        shuffle: visit samples in a new random order each epoch (default False).
        sampler: a ``Sampler`` or iterable of indices (excludes ``shuffle``).
        batch_sampler: yields lists of indices (excludes batch_size, shuffle, sampler, drop_last).
        num_workers: accepted for compatibility; loading happens in this process.
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        drop_last: drop the last incomplete batch (default False).
        generator: ``None`` (cnnlab's global generator, so ``cnnlab.manual_seed`` makes runs
            reproducible), an int seed, or a ``numpy.random.Generator``.

    When the dataset defines ``__getitems__(indices)`` the whole batch is fetched with one
    call; cnnlab's array-backed datasets (MNIST, Fashion-MNIST, CIFAR-10, tabular) answer it
    with vectorised indexing and batch-wise transforms.

    Shape:
        For image datasets with ``ToTensor``: images ``(N, C, H, W)`` float32, labels ``(N,)`` int64.

    Example:
        >>> loader = DataLoader(train_set, batch_size=64, shuffle=True, generator=0)
        >>> for images, labels in loader:
        ...     loss = criterion(model(images), labels)
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, generator=None,
                 prefetch_factor=None, persistent_workers: bool = False):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError(
                "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
            )
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.drop_last = drop_last
        self.generator = generator
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size if batch_sampler is None or batch_size is None else getattr(batch_sampler, "batch_size", batch_size)
        self.batch_sampler = batch_sampler
        self._custom_collate = collate_fn is not None
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def _fetch(self, indices: list[int]):
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is None:
            return self.collate_fn([self.dataset[i] for i in indices])
        batch = getitems(indices)
        if isinstance(batch, Columns):
            if self._custom_collate:
                return self.collate_fn(batch.to_samples())
            return tuple(_column_to_tensor(col) for col in batch) if len(batch) > 1 else _column_to_tensor(batch[0])
        return self.collate_fn(batch)

    def __iter__(self):
        if self.batch_sampler is None:
            for i in self.sampler:
                sample = self.dataset[i]
                yield self.collate_fn(sample) if self._custom_collate else sample
            return
        for indices in self.batch_sampler:
            yield self._fetch(indices)
