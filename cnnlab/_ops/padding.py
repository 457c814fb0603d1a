"""Padding with PyTorch's modes: constant, reflect, replicate, circular.

A negative width crops that side, as in PyTorch. Every mode is an index map per padded axis:
output position j of an axis reads input position ``index[j]``. The backward sums the gradient
of every copy of an input element back into it with the same map.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad_widths(pad: tuple[int, ...], ndim: int) -> list[tuple[int, int]]:
    """PyTorch's flat pad tuple (last dim first) as NumPy's per-axis (before, after) list."""
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return widths


def kept_range(n: int, lo: int, hi: int) -> tuple[int, int]:
    """The input positions [start, stop) left after negative widths crop an axis of size n."""
    return max(-lo, 0), n - max(-hi, 0)


def pad_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """For each output position of an axis of size n padded by (lo, hi), the input position it
    reads. Reflect and replicate map positions of the whole axis; circular first crops, then
    wraps around what is left (PyTorch's order)."""
    if mode == "circular":
        start, stop = kept_range(n, lo, hi)
        return start + np.arange(-max(lo, 0), stop - start + max(hi, 0)) % (stop - start)
    index = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(index, 0, n - 1)
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...
    if period == 0:
        return np.zeros_like(index)
    index = np.abs(index) % period
    return np.where(index < n, index, period - index)


class Pad(Function):
    """Pad (or, for negative widths, crop) the trailing dims."""

    def forward(self, a, pad=(), mode="constant", value=0.0):
        self.widths = pad_widths(pad, a.ndim)
        self.shape, self.mode = a.shape, mode
        if mode == "constant":
            self.src, self.dst = self._regions()
            shape = tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, self.widths))
            out = np.full(shape, value, dtype=a.dtype)
            out[self.dst] = a[self.src]
            return out
        self.index = {}
        out = a
        for axis, (lo, hi) in enumerate(self.widths):
            if lo or hi:
                self.index[axis] = pad_index(a.shape[axis], lo, hi, mode)
                out = np.take(out, self.index[axis], axis=axis)
        return out

    def _regions(self):
        """(input slices, output slices) of the part of the input that survives in the output."""
        src, dst = [], []
        for n, (lo, hi) in zip(self.shape, self.widths):
            start, stop = kept_range(n, lo, hi)
            length = max(stop - start, 0)
            src.append(slice(start, start + length))
            dst.append(slice(max(lo, 0), max(lo, 0) + length))
        return tuple(src), tuple(dst)

    def backward(self, grad):
        if self.mode == "constant":
            g = np.zeros(self.shape, dtype=grad.dtype)
            g[self.src] = grad[self.dst]
            return g
        g = grad
        for axis, source in self.index.items():
            n = self.shape[axis]
            reduced = np.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1 :], dtype=g.dtype)
            np.add.at(np.moveaxis(reduced, axis, 0), source, np.moveaxis(g, axis, 0))
            g = reduced
        return g
