"""View-like ops: reshape, transpose/permute, squeeze/unsqueeze, expand."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Reshape(Function):
    def forward(self, a, shape=()):
        self.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: shape {tuple(shape)} is invalid for an input of shape "
                f"{tuple(a.shape)} ({a.size} elements)"
            ) from None

    def backward(self, grad):
        return grad.reshape(self.shape)


class Permute(Function):
    def forward(self, a, dims=()):
        if sorted(dims) != list(range(a.ndim)):
            raise ValueError(
                f"permute: dims {tuple(dims)} are not a permutation of the {a.ndim} dims of "
                f"shape {tuple(a.shape)}"
            )
        self.inverse = tuple(np.argsort(dims))
        return np.transpose(a, dims)

    def backward(self, grad):
        return np.transpose(grad, self.inverse)


class Expand(Function):
    def forward(self, a, shape=()):
        from .arithmetic import unbroadcast  # noqa: F401  (kept with backward below)

        self.shape = a.shape
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {tuple(a.shape)} to {tuple(shape)}") from None

    def backward(self, grad):
        from .arithmetic import unbroadcast

        return np.ascontiguousarray(unbroadcast(grad, self.shape))
