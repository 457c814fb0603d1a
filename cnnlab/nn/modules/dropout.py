"""Dropout modules; active in ``train()`` mode only, identity in ``eval()`` mode."""

from __future__ import annotations

from ... import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: during training, y = x · m / (1 − p) with m ~ Bernoulli(1 − p).

    Args:
        p: probability of an element being zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility; ignored.

    Shape:
        - Input: (*)
        - Output: (*), same shape as the input

    Example:
        >>> drop = nn.Dropout(p=0.5)
        >>> drop.eval()(x) is x    # identity at test time
        True
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Channel dropout: zeroes whole feature maps (N, C) with probability ``p`` in training.

    Args:
        p: probability of a channel being zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility; ignored.

    Shape:
        - Input: (N, C, H, W) or (N, C, L)
        - Output: same shape as the input

    Example:
        >>> nn.Dropout2d(p=0.2)(cnnlab.randn(8, 16, 12, 12)).shape
        cnnlab.Size([8, 16, 12, 12])
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)
