"""View-like ops: reshape, transpose/permute, squeeze/unsqueeze, expand."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Reshape(Function):
    saves = ()
    is_view = True  # a view when the memory allows it, else a copy (as torch)

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


class View(Reshape):
    """``Tensor.view``: always a view sharing memory; no view possible is an error, as torch."""

    def forward(self, a, shape=()):
        self.shape = a.shape
        out = super().forward(a, shape)
        if not np.may_share_memory(out, a) and a.size > 0:
            raise RuntimeError(
                f"view: view size is not compatible with input tensor's size and stride (at least "
                f"one dimension spans across two contiguous subspaces) for shape {tuple(shape)} of "
                f"an input of shape {tuple(a.shape)} and strides {_elements(a)}. Use .reshape(...) "
                "instead."
            )
        return out


def _elements(a: np.ndarray) -> tuple[int, ...]:
    return tuple(s // a.itemsize for s in a.strides)


class Contiguous(Function):
    """``Tensor.contiguous`` of a tensor whose memory is not in row-major order: a copy."""

    saves = ()

    def forward(self, a):
        return np.ascontiguousarray(a)

    def backward(self, grad):
        return grad


class Permute(Function):
    saves = ()
    is_view = True
    def forward(self, a, dims=()):
        if sorted(dims) != list(range(a.ndim)):
            raise ValueError(
                f"permute: dims {tuple(dims)} are not a permutation of the {a.ndim} dims of "
                f"shape {tuple(a.shape)}"
            )
        self.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))  # argsort, without NumPy's call cost
        return np.transpose(a, dims)

    def backward(self, grad):
        return np.transpose(grad, self.inverse)


class Expand(Function):
    saves = ()
    is_view = True
    def forward(self, a, shape=()):
        from .arithmetic import unbroadcast  # noqa: F401  (kept with backward below)

        self.shape = a.shape
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {tuple(a.shape)} to {tuple(shape)}") from None

    def backward(self, grad):
        from .arithmetic import unbroadcast

        out = np.asarray(unbroadcast(grad, self.shape))
        return out if out.flags.c_contiguous else out.copy()  # (ascontiguousarray makes 0-d 1-d)
