"""Padding with PyTorch's modes: constant, reflect, replicate, circular."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function

PAD_MODES = ("constant", "reflect", "replicate", "circular")
_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad_widths(pad: tuple[int, ...], ndim: int) -> list[tuple[int, int]]:
    """PyTorch's flat pad tuple (last dim first) as NumPy's per-axis (before, after) list."""
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return widths


class Pad(Function):
    """Pad the trailing dims. The backward of a non-constant mode sums the gradient of every
    copy of an input element back into it, using the index map that ``np.pad`` builds."""

    def forward(self, a, pad=(), mode="constant", value=0.0):
        self.widths = pad_widths(pad, a.ndim)
        self.shape, self.mode = a.shape, mode
        if mode == "constant":
            return np.pad(a, self.widths, mode="constant", constant_values=value)
        return np.pad(a, self.widths, mode=_NUMPY_MODE[mode])

    def backward(self, grad):
        if self.mode == "constant":
            index = tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))
            return grad[index]
        g = grad
        for axis, (lo, hi) in enumerate(self.widths):
            if lo == 0 and hi == 0:
                continue
            n = self.shape[axis]
            source = np.pad(np.arange(n), (lo, hi), mode=_NUMPY_MODE[self.mode])
            reduced = np.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1 :], dtype=g.dtype)
            moved = np.moveaxis(reduced, axis, 0)
            np.add.at(moved, source, np.moveaxis(g, axis, 0))
            g = reduced
        return g
