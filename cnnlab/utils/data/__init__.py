"""Datasets and data loaders: ``cnnlab.utils.data`` (PyTorch's ``torch.utils.data`` API).

Example:
    >>> from cnnlab.utils.data import DataLoader, TensorDataset, random_split
    >>> ds = TensorDataset(cnnlab.randn(100, 3), cnnlab.randint(0, 2, (100,)))
    >>> train, val = random_split(ds, [0.8, 0.2], generator=0)
    >>> for x, y in DataLoader(train, batch_size=16, shuffle=True):
    ...     pass
"""

from .dataloader import DataLoader, default_collate
from .dataset import Columns, ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = [
    "BatchSampler", "Columns", "ConcatDataset", "DataLoader", "Dataset", "RandomSampler", "Sampler",
    "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "default_collate", "random_split",
]
