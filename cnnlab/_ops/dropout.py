"""The dropout op: multiply by a mask of 0 and 1/(1 − p) (forward and backward).

``cnnlab.functional.dropout`` checks the arguments and draws the mask.
"""

from __future__ import annotations

from ..autograd.function import Function


class MaskedScale(Function):
    """out = x · mask, where ``mask`` holds 0 or 1/(1 − p) and broadcasts against x."""

    def forward(self, x, mask=None):
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad):
        (mask,) = self.saved
        # Dropped units get no gradient, kept ones get it scaled by 1/(1-p), like the forward.
        return grad * mask
