"""Activation ops: relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax.

``cnnlab.functional.activation`` checks arguments and calls these; ``Tensor.relu`` and
friends call them directly.
"""

from __future__ import annotations

import numpy as np

from .._dtype import float_result, require_float
from ..autograd.function import Function


class ReLU(Function):
    saves = ((-1, None),)  # torch saves the output
    def forward(self, x):
        if x.dtype == np.bool_:
            raise RuntimeError("relu: Boolean inputs not supported for relu (got dtype bool)")
        out = np.maximum(x, 0)
        if self.needs_input_grad[0]:
            self.save_for_backward(out)  # as torch: the output, which the graph holds anyway (no mask)
        return out

    def backward(self, grad):
        (y,) = self.saved
        mask = y > 0
        out = grad * mask  # keeps the memory order of grad (a masked np.where is ~15x slower)
        if np.isnan(out.sum()):
            # inf * 0 gave NaN where the unit was off: torch's threshold_backward passes 0 there
            np.copyto(out, 0, where=~mask)
        return out


class LeakyReLU(Function):
    saves = ((0, None),)
    def forward(self, x, negative_slope=0.01):
        require_float("leaky_relu", x)
        mask = x > 0
        self.save_for_backward(mask)
        self.slope = negative_slope
        return np.where(mask, x, x * x.dtype.type(negative_slope))

    def backward(self, grad):
        (mask,) = self.saved
        return np.where(mask, grad, grad * grad.dtype.type(self.slope))


class ELU(Function):
    saves = ((0, None),)
    def forward(self, x, alpha=1.0):
        require_float("elu", x)
        mask = x > 0
        expm1 = np.expm1(np.minimum(x, 0))
        self.save_for_backward(mask, expm1)
        self.alpha = x.dtype.type(alpha)
        return np.where(mask, x, self.alpha * expm1)

    def backward(self, grad):
        mask, expm1 = self.saved
        return np.where(mask, grad, grad * self.alpha * (expm1 + 1))


class Sigmoid(Function):
    saves = ((-1, None),)
    def forward(self, x):
        x = x.astype(float_result(x.dtype), copy=False)  # ints give float32, as torch
        # Split by sign so exp never overflows: σ(x) = e^x / (1 + e^x) for x < 0.
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * out * (1 - out)


class Tanh(Function):
    saves = ((-1, None),)
    def forward(self, x):
        x = x.astype(float_result(x.dtype), copy=False)
        out = np.tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * (1 - out * out)


class Softmax(Function):
    saves = ((-1, None),)
    def forward(self, x, dim=-1):
        require_float("softmax", x)
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)  # stable; initial: empty dims
        e = np.exp(shifted)
        out = e / e.sum(axis=dim, keepdims=True)
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, grad):
        (out,) = self.saved
        return out * (grad - (grad * out).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    saves = ((-1, None),)
    def forward(self, x, dim=-1):
        require_float("log_softmax", x)
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad - np.exp(out) * grad.sum(axis=self.dim, keepdims=True)
