"""Tensor creation functions with PyTorch's names and defaults."""

from __future__ import annotations

import numpy as np

from ._dtype import DEFAULT_FLOAT, to_numpy_dtype
from ._tensor import Tensor, from_numpy
from .random import default_generator


def _size(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = from_numpy(array)
    return t.requires_grad_() if requires_grad else t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Copy ``data`` into a new tensor. Python floats become float32, ints int64."""
    if isinstance(data, Tensor):
        data = data.detach().numpy()
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or to_numpy_dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype=dtype)


def zeros(*size, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(_size(size), dtype=to_numpy_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.ones(_size(size), dtype=to_numpy_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.full(_size((size,)), fill_value, dtype=to_numpy_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False) -> Tensor:
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(t.shape, dtype=to_numpy_dtype(dtype) if dtype else t.dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.ones(t.shape, dtype=to_numpy_dtype(dtype) if dtype else t.dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples from the generator seeded by ``cnnlab.manual_seed``."""
    dt = to_numpy_dtype(dtype)
    return _make(default_generator().standard_normal(_size(size)).astype(dt), requires_grad)


def rand(*size, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    dt = to_numpy_dtype(dtype)
    return _make(default_generator().random(_size(size)).astype(dt), requires_grad)


def randint(low, high=None, size=(), dtype=None) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` as in PyTorch."""
    if high is None:
        low, high = 0, low
    dt = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return _make(default_generator().integers(low, high, size=_size((size,))).astype(dt), False)


def randperm(n: int, dtype=None) -> Tensor:
    dt = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return _make(default_generator().permutation(n).astype(dt), False)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Values in [start, end) spaced by ``step``; integer arguments give int64, as in PyTorch."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dt = np.dtype(np.int64) if is_int else DEFAULT_FLOAT
    else:
        dt = to_numpy_dtype(dtype)
    return _make(np.arange(start, end, step).astype(dt), requires_grad)


def linspace(start, end, steps, dtype=None) -> Tensor:
    return _make(np.linspace(start, end, steps).astype(to_numpy_dtype(dtype)), False)


def eye(n, m=None, dtype=None) -> Tensor:
    return _make(np.eye(n, m, dtype=to_numpy_dtype(dtype)), False)
