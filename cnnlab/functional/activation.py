"""Activation functions: relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax, maxout.

The ops (forward and backward) are in ``cnnlab/_ops/activation.py``.
"""

from __future__ import annotations

from .._args import softmax_dim
from .._ops.activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .._tensor import Tensor
from .linear import check_same_dtype, linear


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU(x) = max(0, x), element-wise.

    ``inplace=True`` writes the result into ``input`` and returns it, as PyTorch does (refused
    for a leaf tensor that requires grad).
    """
    out = ReLU.apply(input)
    return input._become(out, "relu(inplace=True)") if inplace else out


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """LeakyReLU(x) = x if x > 0 else negative_slope * x (the lecture's max(0.1x, x) is slope 0.1)."""
    out = LeakyReLU.apply(input, negative_slope=negative_slope)
    return input._become(out, "leaky_relu(inplace=True)") if inplace else out


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(x) = x if x > 0 else alpha * (exp(x) - 1)."""
    out = ELU.apply(input, alpha=alpha)
    return input._become(out, "elu(inplace=True)") if inplace else out


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + exp(-x)), computed without overflow for large |x|."""
    return Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(x), element-wise."""
    return Tanh.apply(input)


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """softmax(x)_i = exp(x_i - max x) / Σ_j exp(x_j - max x) along ``dim``."""
    x = input.to(dtype) if dtype is not None else input
    return Softmax.apply(x, dim=softmax_dim(dim, x.shape, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """log_softmax(x) = x - max x - log Σ exp(x - max x): stable for large logits."""
    x = input.to(dtype) if dtype is not None else input
    return LogSoftmax.apply(x, dim=softmax_dim(dim, x.shape, "log_softmax"))


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
    if pieces < 1 or weight.ndim != 2 or weight.shape[0] % pieces:
        raise ValueError(
            f"maxout: expected weight of shape (out_features * {pieces}, in_features), got {tuple(weight.shape)}"
        )
    check_same_dtype("maxout", input, weight, bias)
    z = linear(input, weight, bias)
    z = z.reshape(z.shape[:-1] + (weight.shape[0] // pieces, pieces))
    # The gradient goes to the first maximal piece, as torch.max(dim) does.
    return z.max(dim=-1).values
