"""Picking elements by computed indices along one dim (sort, topk): ``TakeAlongDim``.

Forward gathers ``a[..., indices[..., j], ...]`` along ``dim``; backward scatters the gradient
back to the picked positions (each index appears at most once per row, so no accumulation is
needed: sort and topk pick distinct elements).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class TakeAlongDim(Function):
    def forward(self, a, indices=None, dim=0):
        self.shape, self.indices, self.dim = a.shape, indices, dim
        return np.take_along_axis(a, indices, axis=dim)

    def backward(self, grad):
        out = np.zeros(self.shape, dtype=grad.dtype)
        np.put_along_axis(out, self.indices, grad, axis=self.dim)
        return out


def sort_indices(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable sorting order along ``dim`` (equal values keep their order, both directions)."""
    if a.dtype.kind == "b":
        a = a.astype(np.int8)
    if descending:
        a = -a if a.dtype.kind == "f" else ~a  # ~ reverses integer order without overflow
    return np.argsort(a, axis=dim, kind="stable")
