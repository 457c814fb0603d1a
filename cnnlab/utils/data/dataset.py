"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``.

A dataset may define ``__getitems__(indices)`` to fetch a whole batch in one vectorised call.
As in PyTorch it may return a list of samples; cnnlab datasets backed by arrays return a
``Columns`` instead: one array per field (images, labels), batch first, already stacked, so
the ``DataLoader`` only wraps them into Tensors (no Python loop over samples).
"""

from __future__ import annotations

import bisect
import math
from typing import Sequence

import numpy as np

from ..._tensor import Tensor, from_numpy


class Columns(tuple):
    """A batch stored column-wise: one array (or Tensor) per field, the batch on axis 0.

    Returned by ``Dataset.__getitems__`` to tell the ``DataLoader`` that the batch is already
    collated. ``Columns((images, labels))`` stands for ``[(images[0], labels[0]), ...]``.
    """

    def to_samples(self) -> list:
        """The same batch as a list of per-sample tuples (for a custom ``collate_fn``)."""
        n = len(self[0]) if self else 0
        return [tuple(col[i] for col in self) for i in range(n)]


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 10
        ...     def __getitem__(self, i): return float(i * i)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


def _as_array(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t)


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors, which share their first dimension.

    Args:
        *tensors: Tensors or arrays with the same size of the first dimension.

    Example:
        >>> ds = TensorDataset(cnnlab.randn(100, 3), cnnlab.randint(0, 2, (100,)))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        sizes = [len(_as_array(t)) for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors, first dimensions are {sizes}")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)

    def __getitem__(self, index):
        return tuple(from_numpy(np.asarray(_as_array(t)[index])) for t in self.tensors)

    def __getitems__(self, indices) -> Columns:
        idx = np.asarray(indices, dtype=np.int64)
        return Columns(_as_array(t)[idx] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: the full dataset.
        indices: sequence of indices into ``dataset``.
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        mapped = [self.indices[i] for i in indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(mapped)
        return [self.dataset[i] for i in mapped]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The concatenation of several datasets."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
            idx += len(self)
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else int(self.cumulative_sizes[d - 1])
        return self.datasets[d][idx - start]


def resolve_generator(generator) -> np.random.Generator:
    """``None`` → cnnlab's global generator (``cnnlab.manual_seed``), a ``cnnlab.Generator`` → its
    stream, an int → a fresh seeded one."""
    from ... import random as _random

    if generator is None:
        return _random.default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, _random.Generator):
        return generator.numpy_generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"generator: expected None, a cnnlab.Generator, an int seed or a numpy.random.Generator, "
        f"got {type(generator).__name__}"
    )


def _split_lengths(lengths: Sequence[float], n: int) -> list[int]:
    """Fractions → integer lengths with torch's rule: floor, then the remainder round-robin."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(f < 0 or f > 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {list(lengths)}")
        out = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(out)):
            out[i % len(out)] += 1
        return out
    out = [int(x) for x in lengths]
    if any(x != y for x, y in zip(out, lengths)) or any(x < 0 for x in out):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, got {list(lengths)}")
    if sum(out) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(out)}) does not equal the length of the dataset ({n})"
        )
    return out


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: integer lengths summing to ``len(dataset)``, or fractions summing to 1
            (each floored; the remainder goes one by one to the first subsets, as in torch).
        generator: ``None`` (cnnlab's global generator), an int seed or a
            ``numpy.random.Generator``.

    Example:
        >>> train, val = random_split(ds, [0.8, 0.2], generator=0)
    """
    sizes = _split_lengths(list(lengths), len(dataset))
    perm = resolve_generator(generator).permutation(len(dataset))
    out, offset = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[offset : offset + size].tolist()))
        offset += size
    return out
