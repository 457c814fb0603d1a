"""Reductions: sum, mean, max/min (whole tensor or along a dim), var."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def normalize_dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    """Turn ``dim`` (None, int or sequence, negatives allowed) into sorted positive axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    rank = max(ndim, 1)
    out = []
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                f"(expected a value in [{-rank}, {rank - 1}])"
            )
        out.append(d % rank)
    return tuple(sorted(set(out))) if ndim else ()


def expand_reduced(grad: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...], keepdim: bool):
    """Broadcast a reduced gradient back to the input's ``shape``."""
    if not keepdim:
        for ax in axes:
            grad = np.expand_dims(grad, ax)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    saves = ()
    def forward(self, a, axes=(), keepdim=False):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    def backward(self, grad):
        return expand_reduced(grad, self.shape, self.axes, self.keepdim)


class Mean(Function):
    saves = ()
    def forward(self, a, axes=(), keepdim=False):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        self.count = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        return np.mean(a, axis=axes, keepdims=keepdim)

    def backward(self, grad):
        return expand_reduced(grad / self.count, self.shape, self.axes, self.keepdim)


class AMax(Function):
    """max/min over whole axes; ties share the gradient evenly (torch.amax semantics)."""
    saves = ((0, None), (-1, None))

    def forward(self, a, axes=(), keepdim=False, minimum=False):
        out = (np.min if minimum else np.max)(a, axis=axes, keepdims=True)
        self.save_for_backward(a, out)
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim  # shape: for graph.node_name
        return out if keepdim else np.squeeze(out, axis=axes)

    def backward(self, grad):
        a, out = self.saved
        mask = a == out
        count = mask.sum(axis=self.axes, keepdims=True)
        g = grad if self.keepdim else expand_reduced(grad, out.shape, self.axes, False)
        return (mask * (g / count)).astype(a.dtype, copy=False)


class MaxAlongDim(Function):
    """max/min along one dim, returning values; the gradient goes to the chosen index."""
    saves = ()

    def forward(self, a, dim=0, keepdim=False, minimum=False):
        idx = (np.argmin if minimum else np.argmax)(a, axis=dim)
        idx_k = np.expand_dims(idx, dim)
        out = np.take_along_axis(a, idx_k, axis=dim)
        self.shape, self.dim, self.idx = a.shape, dim, idx_k
        self.indices = idx_k if keepdim else idx
        return out if keepdim else np.squeeze(out, axis=dim)

    def backward(self, grad):
        g = np.zeros(self.shape, dtype=grad.dtype)
        gk = grad if grad.ndim == len(self.shape) else np.expand_dims(grad, self.dim)
        np.put_along_axis(g, self.idx, gk, axis=self.dim)
        return g


class Var(Function):
    saves = ((0, None),)
    def forward(self, a, axes=(), correction=1, keepdim=False):
        n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        mean = np.mean(a, axis=axes, keepdims=True)
        centered = a - mean
        denom = max(n - correction, 0)
        self.save_for_backward(centered)
        self.axes, self.keepdim, self.denom = axes, keepdim, denom
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(centered * centered, axis=axes, keepdims=keepdim) / a.dtype.type(denom)

    def backward(self, grad):
        (centered,) = self.saved
        g = expand_reduced(grad, centered.shape, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * centered * (2.0 / self.denom)).astype(centered.dtype, copy=False)
