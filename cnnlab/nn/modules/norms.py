"""``GroupNorm`` and ``LayerNorm``: per-sample normalisation layers (ops in ``F.group_norm``,
``F.layer_norm``)."""

from __future__ import annotations

from ... import functional as F
from ..._creation import empty
from .. import init
from ..parameter import Parameter
from .module import Module


class GroupNorm(Module):
    """Group normalisation over (N, C, *) inputs: statistics per sample and group of C/G channels.

    Args:
        num_groups: G, must divide ``num_channels``.
        num_channels: C.
        eps: added to the variance (default 1e-5).
        affine: learn per-channel ``weight`` (init 1) and ``bias`` (init 0) (default True).
        bias: learn the bias (default True; only with ``affine``).

    Shape:
        - Input: (N, C, *); Output: the same shape.

    Example:
        >>> gn = nn.GroupNorm(4, 16)
        >>> gn(cnnlab.randn(2, 16, 8, 8)).shape
        cnnlab.Size([2, 16, 8, 8])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if num_groups <= 0 or num_channels <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.use_bias = affine and bias
        if affine:
            self.weight = Parameter(empty(num_channels, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(empty(num_channels, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.num_channels}, *), got {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.use_bias}"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dims of each sample.

    Args:
        normalized_shape: int or tuple of the trailing dims.
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn ``weight`` (init 1) and ``bias`` (init 0) of that shape.
        bias: learn the bias (default True; only with ``elementwise_affine``).

    Shape:
        - Input: (*, *normalized_shape); Output: the same shape.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        if not shape or any(int(s) <= 0 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive sizes, got {normalized_shape!r}")
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(s) for s in shape), eps, elementwise_affine
        self.use_bias = elementwise_affine and bias
        if elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(empty(*self.normalized_shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, bias={self.use_bias}"
