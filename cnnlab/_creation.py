"""Tensor creation functions with PyTorch's names, keywords and defaults.

Every creator takes ``dtype=``, ``device=`` (the CPU only), ``requires_grad=`` and, where
PyTorch has it, ``size=`` as a keyword; random ones take ``generator=``. The ``*_like``
functions copy the shape (and, unless told otherwise, the dtype) of a tensor.
"""

from __future__ import annotations

import numpy as np

from ._device import check_device
from ._dtype import DEFAULT_FLOAT, to_numpy_dtype
from ._tensor import Tensor, from_numpy
from .random import default_generator, fill_normal, fill_uniform


def _size(size, name: str = "size") -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"{name}: expected ints or one tuple of ints as the size, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{name}: negative dimension in size {shape}")
    return shape


def _shape(size, size_kw, name: str) -> tuple[int, ...]:
    """The shape from ``*size`` or ``size=`` (exactly one of them)."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{name}: give the size either positionally or as size=, not both")
        size = (size_kw,) if isinstance(size_kw, (tuple, list)) else (size_kw,)
    return _size(size, name)


def _make(array: np.ndarray, requires_grad: bool, device=None, name: str = "tensor") -> Tensor:
    if device is not None:
        check_device(device, f"{name}(device=...)")
    t = from_numpy(array)
    return t.requires_grad_() if requires_grad else t


def _rng(generator) -> np.random.Generator:
    if generator is None:
        return default_generator()
    return getattr(generator, "numpy_generator", generator)


def _float_dtype(dtype, name: str) -> np.dtype:
    dt = to_numpy_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{name}: expected a floating point dtype, got {dt}")
    return dt


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Copy ``data`` into a new tensor. Python floats become float32, ints int64."""
    if device is not None:
        check_device(device, "tensor(device=...)")
    if isinstance(data, Tensor):
        data = data.detach().numpy()
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if device is not None:
        check_device(device, "as_tensor(device=...)")
    if isinstance(data, Tensor) and (dtype is None or to_numpy_dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype=dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = _shape(size, kwargs.pop("size", None), "zeros")
    _no_extra(kwargs, "zeros")
    return _make(np.zeros(shape, dtype=to_numpy_dtype(dtype)), requires_grad, device, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = _shape(size, kwargs.pop("size", None), "ones")
    _no_extra(kwargs, "ones")
    return _make(np.ones(shape, dtype=to_numpy_dtype(dtype)), requires_grad, device, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    """A tensor of the given size; cnnlab fills it with zeros (PyTorch leaves it unset)."""
    shape = _shape(size, kwargs.pop("size", None), "empty")
    _no_extra(kwargs, "empty")
    return _make(np.zeros(shape, dtype=to_numpy_dtype(dtype)), requires_grad, device, "empty")


def _fill_dtype(fill_value, dtype) -> np.dtype:
    """PyTorch's rule for ``full``: the dtype follows the fill value (bool, int64, float32)."""
    if dtype is not None:
        return to_numpy_dtype(dtype)
    if isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(fill_value, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(fill_value, Tensor):
        return fill_value.dtype
    return DEFAULT_FLOAT


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    _no_extra(kwargs, "full")
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "full")
    return _make(np.full(shape, value, dtype=_fill_dtype(fill_value, dtype)), requires_grad, device, "full")


def _like(input: Tensor, dtype, name: str) -> np.dtype:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor as input, got {type(input).__name__}")
    return to_numpy_dtype(dtype) if dtype is not None else np.dtype(input.dtype)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    dt = _like(input, dtype, "zeros_like")
    return _make(np.zeros(input.shape, dtype=dt), requires_grad, device, "zeros_like")


def ones_like(input: Tensor, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    dt = _like(input, dtype, "ones_like")
    return _make(np.ones(input.shape, dtype=dt), requires_grad, device, "ones_like")


def empty_like(input: Tensor, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    dt = _like(input, dtype, "empty_like")
    return _make(np.zeros(input.shape, dtype=dt), requires_grad, device, "empty_like")


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    dt = _like(input, dtype, "full_like")
    return _make(np.full(input.shape, fill_value, dtype=dt), requires_grad, device, "full_like")


def randn_like(input: Tensor, dtype=None, device=None, requires_grad=False, generator=None, **kwargs) -> Tensor:
    dt = _float_dtype(_like(input, dtype, "randn_like"), "randn_like")
    return _make(fill_normal(_rng(generator), np.empty(input.shape, dt)), requires_grad, device, "randn_like")


def rand_like(input: Tensor, dtype=None, device=None, requires_grad=False, generator=None, **kwargs) -> Tensor:
    dt = _float_dtype(_like(input, dtype, "rand_like"), "rand_like")
    return _make(fill_uniform(_rng(generator), np.empty(input.shape, dt)), requires_grad, device, "rand_like")


def randint_like(input: Tensor, low=0, high=None, dtype=None, device=None, requires_grad=False,
                 generator=None, **kwargs) -> Tensor:
    if high is None:
        low, high = 0, low
    dt = _like(input, dtype, "randint_like")
    return _make(_rng(generator).integers(low, high, size=input.shape).astype(dt), requires_grad, device, "randint_like")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    """Standard normal samples from the generator seeded by ``cnnlab.manual_seed``."""
    shape = _shape(size, kwargs.pop("size", None), "randn")
    _no_extra(kwargs, "randn")
    dt = _float_dtype(dtype, "randn")
    return _make(fill_normal(_rng(generator), np.empty(shape, dt)), requires_grad, device, "randn")


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    """Uniform samples in [0, 1)."""
    shape = _shape(size, kwargs.pop("size", None), "rand")
    _no_extra(kwargs, "rand")
    dt = _float_dtype(dtype, "rand")
    return _make(fill_uniform(_rng(generator), np.empty(shape, dt)), requires_grad, device, "rand")


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` as in PyTorch."""
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    dt = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    shape = _size((size,) if isinstance(size, (tuple, list)) else ((size,),), "randint")
    return _make(_rng(generator).integers(low, high, size=shape).astype(dt), requires_grad, device, "randint")


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    return _make(_rng(generator).permutation(n).astype(dt), requires_grad, device, "randperm")


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values in [start, end) spaced by ``step``; integer arguments give int64, as in PyTorch.

    Floating values are ``start + i·step`` computed in float64 and rounded once, PyTorch's
    scalar formula (its vectorised CPU loop can differ by one unit in the last place).
    """
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if dtype is not None and to_numpy_dtype(dtype).kind in "iu":  # torch casts the bounds first
        start, end, step = values = [int(v) for v in values]
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and lower bound inconsistent with step sign (start={start}, end={end}, step={step})")
    is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
    dt = to_numpy_dtype(dtype) if dtype is not None else (np.dtype(np.int64) if is_int else DEFAULT_FLOAT)
    n = int(np.ceil((end - start) / step))
    if is_int:
        out = (start + step * np.arange(n, dtype=np.int64)).astype(dt)
    else:
        out = (np.float64(start) + np.float64(step) * np.arange(n, dtype=np.float64)).astype(dt)
    return _make(out, requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` values from ``start`` to ``end`` inclusive, with PyTorch's rounding.

    As PyTorch: step = (end − start)/(steps − 1) in the output dtype; the first half is
    ``start + i·step``, the second half ``end − (steps − 1 − i)·step``, each with one rounding
    (a fused multiply-add), so the last value is exactly ``end``.
    """
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    dt = to_numpy_dtype(dtype)
    i = np.arange(steps)
    if dt.kind != "f":  # integer outputs: bounds cast to the dtype, the step in float64
        a, b = int(start), int(end)
        step = (b - a) / (steps - 1) if steps > 1 else 0.0
        out = np.where(i < steps // 2, a + step * i, b - step * (steps - 1 - i))
        return _make(out.astype(dt), requires_grad, device, "linspace")
    a, b = dt.type(start), dt.type(end)
    step = dt.type((b - a) / dt.type(steps - 1)) if steps > 1 else dt.type(0)
    wide = np.float64 if dt.itemsize < 8 else np.longdouble  # room for an exact product
    forward = wide(a) + wide(step) * i.astype(dt).astype(wide)
    backward = wide(b) - wide(step) * (steps - 1 - i).astype(dt).astype(wide)
    out = np.where(i < steps // 2, forward, backward).astype(dt)
    return _make(out, requires_grad, device, "linspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.eye(n, m, dtype=to_numpy_dtype(dtype)), requires_grad, device, "eye")


def _no_extra(kwargs: dict, name: str) -> None:
    if "out" in kwargs and kwargs["out"] is None:
        del kwargs["out"]
    for ignored in ("layout", "pin_memory", "memory_format"):
        kwargs.pop(ignored, None)
    if kwargs:
        raise TypeError(f"{name}: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Normal samples, as ``torch.normal``: ``normal(mean, std, size)`` with numbers, or
    ``normal(mean, std)`` with tensors (element-wise means and standard deviations)."""
    rng = _rng(generator)
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise ValueError("normal: give either tensor mean/std or size=, not both")
        m = mean.detach().numpy() if isinstance(mean, Tensor) else mean
        s = std.detach().numpy() if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise ValueError("normal: std must be non-negative")
        dt = tensors[0].dtype if dtype is None else to_numpy_dtype(dtype)
        return _make(rng.normal(m, s).astype(dt), requires_grad, device, "normal")
    if size is None:
        raise ValueError("normal: with number mean and std, give size=, e.g. normal(0, 1, (2, 3))")
    if std < 0:
        raise ValueError(f"normal: std must be non-negative, got {std}")
    shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "normal")
    out = fill_normal(rng, np.empty(shape, _float_dtype(dtype, "normal")), mean, std)
    return _make(out, requires_grad, device, "normal")
