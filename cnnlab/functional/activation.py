"""Activation functions: relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax, maxout."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function


class ReLU(Function):
    def forward(self, x):
        mask = x > 0
        self.save_for_backward(mask)
        return np.maximum(x, 0)

    def backward(self, grad):
        (mask,) = self.saved
        return grad * mask


class LeakyReLU(Function):
    def forward(self, x, negative_slope=0.01):
        mask = x > 0
        self.save_for_backward(mask)
        self.slope = negative_slope
        return np.where(mask, x, x * x.dtype.type(negative_slope))

    def backward(self, grad):
        (mask,) = self.saved
        return np.where(mask, grad, grad * grad.dtype.type(self.slope))


class ELU(Function):
    def forward(self, x, alpha=1.0):
        mask = x > 0
        expm1 = np.expm1(np.minimum(x, 0))
        self.save_for_backward(mask, expm1)
        self.alpha = x.dtype.type(alpha)
        return np.where(mask, x, self.alpha * expm1)

    def backward(self, grad):
        mask, expm1 = self.saved
        return np.where(mask, grad, grad * self.alpha * (expm1 + 1))


class Sigmoid(Function):
    def forward(self, x):
        # Split by sign so exp never overflows: σ(x) = e^x / (1 + e^x) for x < 0.
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * out * (1 - out)


class Tanh(Function):
    def forward(self, x):
        out = np.tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * (1 - out * out)


class Softmax(Function):
    def forward(self, x, dim=-1):
        shifted = x - x.max(axis=dim, keepdims=True)  # stable for large logits
        e = np.exp(shifted)
        out = e / e.sum(axis=dim, keepdims=True)
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, grad):
        (out,) = self.saved
        return out * (grad - (grad * out).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, dim=-1):
        shifted = x - x.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad - np.exp(out) * grad.sum(axis=self.dim, keepdims=True)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU(x) = max(0, x), element-wise. ``inplace`` is accepted for PyTorch compatibility."""
    return ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """LeakyReLU(x) = x if x > 0 else negative_slope * x (the lecture's max(0.1x, x) is slope 0.1)."""
    return LeakyReLU.apply(input, negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(x) = x if x > 0 else alpha * (exp(x) - 1)."""
    return ELU.apply(input, alpha=alpha)


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + exp(-x)), computed without overflow for large |x|."""
    return Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(x), element-wise."""
    return Tanh.apply(input)


def _softmax_dim(input: Tensor, dim, op: str) -> int:
    if dim is None:  # PyTorch's legacy default: dim 0 for 0-D/1-D/3-D input, else 1
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for input of shape {input.shape}")
    return dim % max(input.ndim, 1)


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """softmax(x)_i = exp(x_i - max x) / Σ_j exp(x_j - max x) along ``dim``."""
    x = input.to(dtype) if dtype is not None else input
    return Softmax.apply(x, dim=_softmax_dim(x, dim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """log_softmax(x) = x - max x - log Σ exp(x - max x): stable for large logits."""
    x = input.to(dtype) if dtype is not None else input
    return LogSoftmax.apply(x, dim=_softmax_dim(x, dim, "log_softmax"))


def maxout(input: Tensor, weight: Tensor, bias: Tensor | None = None, pieces: int = 2) -> Tensor:
    """Maxout: y_j = max_{k=1..pieces} (W_k x + b_k)_j (Goodfellow et al., 2013).

    Args:
        input: (*, in_features).
        weight: (out_features·pieces, in_features); row j·pieces + k is w_{j,k}.
        bias: (out_features·pieces,) or None.
        pieces: number of affine pieces k per output (default 2).

    Shape:
        - Input: (*, in_features)
        - Output: (*, out_features) with out_features = weight.shape[0] / pieces

    Example:
        >>> y = F.maxout(x, weight, bias, pieces=3)
    """
    from .linear import linear

    if pieces < 1 or weight.ndim != 2 or weight.shape[0] % pieces:
        raise ValueError(
            f"maxout: expected weight of shape (out_features * {pieces}, in_features), got {tuple(weight.shape)}"
        )
    z = linear(input, weight, bias)
    z = z.reshape(z.shape[:-1] + (weight.shape[0] // pieces, pieces))
    # The gradient goes to the first maximal piece, as torch.max(dim) does.
    return z.max(dim=-1).values
