"""Element-wise unary ops: neg, exp, log, sqrt, abs, clamp, and the dtype cast."""

from __future__ import annotations

import numpy as np

from .._dtype import float_result
from ..autograd.function import Function


class Neg(Function):
    saves = ()
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Exp(Function):
    saves = ((-1, None),)
    def forward(self, a):
        a = a.astype(float_result(a.dtype), copy=False)  # ints give float32, as torch
        out = np.exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * out


class Log(Function):
    saves = ((0, None),)
    def forward(self, a):
        a = a.astype(float_result(a.dtype), copy=False)  # ints give float32, as torch
        self.save_for_backward(a)
        return np.log(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad / a


class Sqrt(Function):
    saves = ((-1, None),)
    def forward(self, a):
        a = a.astype(float_result(a.dtype), copy=False)  # ints give float32, as torch
        out = np.sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad / (2 * out)


class Abs(Function):
    saves = ((0, None),)
    def forward(self, a):
        self.save_for_backward(a)
        return np.abs(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad * np.sign(a)


class Clamp(Function):
    saves = ((0, None),)
    def forward(self, a, min=None, max=None):
        # Gradient flows where the input is inside [min, max], bounds included (as torch).
        mask = np.ones(a.shape, dtype=bool)
        if min is not None:
            mask &= a >= min
        if max is not None:
            mask &= a <= max
        self.save_for_backward(mask)
        return np.clip(a, min, max)

    def backward(self, grad):
        (mask,) = self.saved
        return grad * mask


class Cast(Function):
    """``Tensor.to(dtype)``; the gradient is cast back to the source dtype."""
    saves = ()

    def forward(self, a, dtype=None):
        self.source = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.source) if self.source.kind == "f" else None
