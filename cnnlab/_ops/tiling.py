"""``Tensor.repeat``: tile a tensor along each dimension (NumPy's ``tile``).

Backward: output element ``(r0, i0, r1, i1, ...)`` came from input element ``(i0, i1, ...)``
for every copy ``r``, so the gradient is the output gradient reshaped to interleave copy and
input axes, summed over the copy axes.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Repeat(Function):
    def forward(self, a, repeats=()):
        assert len(repeats) >= a.ndim
        self.in_shape = (1,) * (len(repeats) - a.ndim) + a.shape
        self.shape, self.repeats = a.shape, tuple(repeats)
        return np.tile(a.reshape(self.in_shape), self.repeats)

    def backward(self, grad):
        split = tuple(n for pair in zip(self.repeats, self.in_shape) for n in pair)
        copies = tuple(range(0, 2 * len(self.repeats), 2))
        return grad.reshape(split).sum(axis=copies).reshape(self.shape)
