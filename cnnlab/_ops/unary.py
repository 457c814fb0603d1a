"""Element-wise unary ops: neg, exp, log, sqrt, abs, clamp, and the dtype cast."""

from __future__ import annotations

import numpy as np

from .._dtype import float_result, result_type
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


class ClampTensor(Function):
    """``clamp`` with tensor bounds: min(max(a, lo), hi), broadcast. The gradient rules are
    torch's: ``a`` where lo <= a <= hi; ``lo`` where a < lo < hi; ``hi`` where a > hi or hi < lo."""
    saves = ((0, None), (1, None), (2, None))

    def forward(self, a, lo, hi):
        from .arithmetic import check_broadcast

        check_broadcast("clamp", a, lo)
        check_broadcast("clamp", a, hi)
        self.save_for_backward(a, lo, hi)
        first = np.empty((0,) * max(a.ndim, lo.ndim), result_type(a, lo))  # torch's promotion of all three
        out = np.minimum(np.maximum(a, lo), hi)
        return out.astype(result_type(first, hi), copy=False)

    def backward(self, grad):
        from .arithmetic import unbroadcast

        a, lo, hi = self.saved
        zero = np.zeros((), dtype=grad.dtype)
        ga = np.where((a >= lo) & (a <= hi), grad, zero) if self.needs_input_grad[0] else None
        gl = np.where((a < lo) & (lo < hi), grad, zero) if self.needs_input_grad[1] else None
        gh = np.where((a > hi) | (hi < lo), grad, zero) if self.needs_input_grad[2] else None
        return (
            None if ga is None else unbroadcast(ga, a.shape),
            None if gl is None else unbroadcast(gl, lo.shape),
            None if gh is None else unbroadcast(gh, hi.shape),
        )


class Cast(Function):
    """``Tensor.to(dtype)``; the gradient is cast back to the source dtype."""
    saves = ()

    def forward(self, a, dtype=None):
        self.source = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.source) if self.source.kind == "f" else None
