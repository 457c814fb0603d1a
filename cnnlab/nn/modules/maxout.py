"""Maxout (Goodfellow et al., 2013): the maximum of k affine pieces."""

from __future__ import annotations

import math

from ... import functional as F
from ..._creation import empty
from .. import init
from ..parameter import Parameter
from .module import Module


class Maxout(Module):
    """y_j = max_{k=1..pieces} (W_k x + b_k)_j

    The lecture's max(w₁ᵀx + b₁, w₂ᵀx + b₂) for every output j, generalised to ``pieces``
    affine maps. With pieces=2 and one piece fixed at 0 it is ReLU; it is piecewise
    linear, never saturates and never dies, at the cost of ``pieces``× the parameters.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        pieces: number k of affine pieces per output (default 2).
        bias: learn the biases b_k (default True).

    Shape:
        - Input: (*, in_features)
        - Output: (*, out_features)

    Parameters:
        ``weight`` (out_features·pieces, in_features): row j·pieces + k is the weight
        vector w_{j,k}, i.e. ``weight.view(out_features, pieces, in_features)``;
        ``bias`` (out_features·pieces,) laid out the same way. Both are initialised like
        ``Linear``: U(−1/√in_features, 1/√in_features).

    Example:
        >>> m = nn.Maxout(784, 128, pieces=2)
        >>> m(cnnlab.randn(64, 784)).shape
        cnnlab.Size([64, 128])
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 2, bias: bool = True, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features), ("pieces", pieces)):
            if int(v) != v or v <= 0:
                raise ValueError(f"Maxout: `{name}` must be a positive integer, got {v!r}")
        self.in_features, self.out_features, self.pieces = int(in_features), int(out_features), int(pieces)
        self.weight = Parameter(empty(out_features * pieces, in_features, dtype=dtype))
        self.bias = Parameter(empty(out_features * pieces, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # as Linear: bound 1/√in_features
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: expected input of shape (*, {self.in_features}), got {tuple(input.shape)}")
        return F.maxout(input, self.weight, self.bias, self.pieces)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}, "
                f"bias={self.bias is not None}")
