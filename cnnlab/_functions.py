"""Top-level tensor functions (``cnnlab.cat``, ``cnnlab.exp``...), as in the ``torch`` namespace."""

from __future__ import annotations

import numpy as np

from ._ops import indexing as ix
from ._tensor import Tensor, as_tensor_like


def _tensors(seq, op: str) -> list[Tensor]:
    seq = list(seq)
    if not seq:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in seq]


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Concatenate tensors along an existing ``dim`` (``axis=`` is an alias, as in torch)."""
    dim = dim if axis is None else axis
    ts = _tensors(tensors, "cat")
    ndim = next((t.ndim for t in ts if t.shape != (0,)), ts[0].ndim)  # (0,) joins any shape
    if not -ndim <= dim < ndim:
        raise IndexError(f"cat: dim {dim} is out of range for tensors with {ndim} dimensions")
    return ix.Cat.apply(*ts, dim=dim % ndim)


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of the same shape along a new ``dim`` (``axis=`` is an alias)."""
    dim = dim if axis is None else axis
    ts = _tensors(tensors, "stack")
    return ix.Stack.apply(*ts, dim=dim % (ts[0].ndim + 1))


def where(condition, input, other) -> Tensor:
    """Element-wise ``input if condition else other``; differentiable in ``input`` and ``other``."""
    cond = condition if isinstance(condition, Tensor) else Tensor(np.asarray(condition, dtype=bool))
    ref = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    a = input if isinstance(input, Tensor) else as_tensor_like(input, ref)
    b = other if isinstance(other, Tensor) else as_tensor_like(other, ref)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast together") from None
    return ix.Where.apply(cond, a, b)


def _method(name):
    def fn(input: Tensor, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"``cnnlab.{name}(x, ...)`` is ``x.{name}(...)``."
    return fn


exp, log, sqrt, abs, clamp, clip = (_method(n) for n in ("exp", "log", "sqrt", "abs", "clamp", "clip"))
sin, cos, sinh, cosh = (_method(n) for n in ("sin", "cos", "sinh", "cosh"))
swapaxes, swapdims = _method("swapaxes"), _method("swapdims")
sum, mean, var, std, amax, amin = (_method(n) for n in ("sum", "mean", "var", "std", "amax", "amin"))
argmax, argmin, reshape, flatten = (_method(n) for n in ("argmax", "argmin", "reshape", "flatten"))
all, any = _method("all"), _method("any")
sort, argsort, topk = _method("sort"), _method("argsort"), _method("topk")
transpose, permute, squeeze, unsqueeze = (_method(n) for n in ("transpose", "permute", "squeeze", "unsqueeze"))
relu, sigmoid, tanh, softmax, log_softmax = (_method(n) for n in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"))
eq, ne, lt, le, gt, ge = (_method(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
t, numel = _method("t"), _method("numel")


def max(input: Tensor, *args, **kwargs):
    return input.max(*args, **kwargs)


def min(input: Tensor, *args, **kwargs):
    return input.min(*args, **kwargs)


def maximum(input: Tensor, other) -> Tensor:
    return input.maximum(other)


def minimum(input: Tensor, other) -> Tensor:
    return input.minimum(other)


def matmul(input: Tensor, other) -> Tensor:
    return input @ other


mm = bmm = matmul


def allclose(a: Tensor, b, rtol=1e-5, atol=1e-8) -> bool:
    return a.allclose(b, rtol, atol)


def equal(a: Tensor, b: Tensor) -> bool:
    return a.equal(b)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def meshgrid(*tensors, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors, as ``torch.meshgrid``.

    Args:
        tensors: 1-D tensors (or one list of them) of lengths ``n1, n2, ...``.
        indexing: ``"ij"`` (default, as torch): outputs have shape ``(n1, n2, ...)``;
            ``"xy"``: the first two dims are swapped, as NumPy's default.

    Differentiable: each output is a broadcast of its input, so its gradient sums back.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = _tensors(tensors, "meshgrid")
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-d or 1-d tensors, tensor {i} has shape {t.shape}")
    ts = [t.reshape(-1) for t in ts]
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(len(t) for t in ts)
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        grids.append(t.reshape(*view).expand(*shape))
    if indexing == "xy" and len(grids) >= 2:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
