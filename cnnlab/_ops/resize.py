"""Resizing images by separable interpolation: ``Resize2d``.

Both nearest and bilinear resizing are linear maps applied to rows and columns separately:
``out = R · x · Cᵀ`` with R of shape (H_out, H) and C of shape (W_out, W), whose rows hold the
interpolation weights (one 1 for nearest, λ0 and λ1 for bilinear). The backward is the
transposed map, ``grad_x = Rᵀ · grad · C``, which sums each output's gradient back into the
input pixels it was interpolated from.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Resize2d(Function):
    """``R · x · Cᵀ`` over the last two axes; a map given as None leaves its axis as it is
    (a 1-D or 3-D resize is built from such passes in ``cnnlab/functional/resize.py``)."""
    def forward(self, a, rows=None, cols=None):
        self.rows, self.cols = rows, cols
        out = a if rows is None else np.matmul(rows, a)
        return out if cols is None else np.matmul(out, cols.T)

    def backward(self, grad):
        g = grad if self.rows is None else np.matmul(self.rows.T, grad)
        return g if self.cols is None else np.matmul(g, self.cols)


def nearest_matrix(in_size: int, out_size: int, scale, dtype) -> np.ndarray:
    """Row i picks input floor(i · s), s = 1/scale_factor or in/out, computed in float32 as torch."""
    if out_size == in_size:
        src = np.arange(out_size)
    else:
        s = np.float32(1.0 / scale) if scale else np.float32(in_size / out_size)
        src = np.minimum(np.floor(np.arange(out_size, dtype=np.float32) * s).astype(np.int64), in_size - 1)
    m = np.zeros((out_size, in_size), dtype=dtype)
    m[np.arange(out_size), src] = 1
    return m


def bilinear_matrix(in_size: int, out_size: int, scale, align_corners: bool, dtype) -> np.ndarray:
    """Row i mixes inputs i0 and i1 with weights 1 − λ and λ, PyTorch's source-index rule:
    align_corners: x = i · (in − 1)/(out − 1); else x = max((i + ½) · s − ½, 0)."""
    t = np.dtype(dtype).type
    m = np.zeros((out_size, in_size), dtype=dtype)
    i = np.arange(out_size)
    if out_size == in_size:
        m[i, i] = 1
        return m
    if align_corners:
        s = t((in_size - 1) / (out_size - 1)) if out_size > 1 else t(0)
        src = s * i.astype(dtype)
    else:
        s = t(1.0 / scale) if scale else t(in_size / out_size)
        src = np.maximum(s * (i.astype(dtype) + t(0.5)) - t(0.5), t(0))
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < in_size - 1)
    lam1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    lam0 = (t(1) - lam1).astype(dtype)
    np.add.at(m, (i, i0), lam0)
    np.add.at(m, (i, i1), lam1)
    return m
