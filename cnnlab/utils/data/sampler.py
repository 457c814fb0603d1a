"""Samplers: the order in which a ``DataLoader`` visits a dataset's indices."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from .dataset import resolve_generator


class Sampler:
    """Base class: an iterable of dataset indices with a length."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation of the indices at each pass.

    Args:
        data_source: the dataset.
        replacement: draw ``num_samples`` indices with replacement (default False).
        num_samples: how many indices per pass (default ``len(data_source)``).
        generator: ``None`` (cnnlab's global generator, so ``cnnlab.manual_seed`` fixes the
            order), an int seed (a private generator created once) or a ``numpy.random.Generator``.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        # An int seed becomes one private generator so later epochs differ but stay reproducible.
        self.generator = None if generator is None else resolve_generator(generator)
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def indices(self) -> np.ndarray:
        """The next pass's indices as an int64 array (draws from the generator)."""
        rng = resolve_generator(self.generator)
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        reps = -(-self.num_samples // n) if n else 0
        perm = np.concatenate([rng.permutation(n) for _ in range(reps)]) if reps else np.zeros(0, np.int64)
        return perm[: self.num_samples]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order at each pass."""

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices_ = np.asarray(indices, dtype=np.int64)
        self.generator = None if generator is None else resolve_generator(generator)

    def __iter__(self):
        rng = resolve_generator(self.generator)
        return iter(self.indices_[rng.permutation(len(self.indices_))].tolist())

    def __len__(self) -> int:
        return len(self.indices_)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: any iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        if isinstance(self.sampler, RandomSampler):
            order = self.sampler.indices()  # one vectorised draw instead of an index-by-index iterator
        elif isinstance(self.sampler, SequentialSampler):
            order = np.arange(len(self.sampler), dtype=np.int64)
        else:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        bs = self.batch_size
        stop = len(order) - len(order) % bs if self.drop_last else len(order)
        for start in range(0, stop, bs):
            yield order[start : start + bs].tolist()

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
