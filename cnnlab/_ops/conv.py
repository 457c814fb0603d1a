"""The 2-D convolution op (forward and backward); ``cnnlab.functional.conv2d`` checks its arguments.

Design note (speed, see docs/design/performance.md): the op works internally in a
channels-first, batch-last layout (C, H, W, N). In that layout every kernel offset (i, j) of
im2col is one slice-copy of a large block whose inner run is W·N elements, the column matrix
is K-major (C·kH·kW, Ho·Wo·N) and the whole convolution is one GEMM; col2im is kH·kW
slice-adds. The output is returned as an (N, F, Ho, Wo) *view* of the (F, Ho, Wo, N) result,
so a following conv (after ReLU / pooling, which keep the memory order) reads its input
without a transpose copy.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._args import window_output_size
from ..autograd.function import Function


def _windows(i, j, dil, stride, out_hw):
    """The (rows, cols) slices that kernel offset (i, j) reads for every output position."""
    (dh, dw), (sh, sw), (ho, wo) = dil, stride, out_hw
    return slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)


def _im2col(xt, cols, dilation, stride, row0=0):
    """Fill ``cols`` (C, kH, kW, R, Wo, N) with the windows of ``xt`` (C, H, W, N) for the R
    output rows from ``row0`` on.

    Small inputs (batch 1) take one strided copy of a sliding-window view: one C loop instead
    of kH·kW Python-level slice copies. Large ones take the per-offset copies, which measured
    up to 20% faster there (docs/design/performance.md).
    """
    _, kh, kw, ho, wo, _ = cols.shape
    (dh, dw), (sh, sw) = dilation, stride
    if cols.size <= _ONE_COPY_MAX:
        win = sliding_window_view(xt, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
        win = win[:, ::sh, ::sw][:, row0 : row0 + ho, :wo, :, ::dh, ::dw]
        np.copyto(cols, win.transpose(0, 4, 5, 1, 2, 3))
        return
    for i in range(kh):
        for j in range(kw):
            rows, columns = _windows(i, j, dilation, stride, (ho, wo))
            rows = slice(rows.start + row0 * sh, rows.stop + row0 * sh, sh)
            cols[:, i, j] = xt[:, rows, columns]


_ONE_COPY_MAX = 1 << 16
# Column matrices up to this size are kept from forward to backward (the weight gradient
# needs them); larger ones (AlexNet at 224², CIFAR at large batches) are rebuilt from the
# input, which the graph keeps anyway: memory over a little time (docs/design/performance.md).
KEEP_COLUMNS_MAX = 64 << 20


class Conv2dOp(Function):
    """Convolution on (N, C, H, W) arrays via a K-major im2col and one GEMM (see module note)."""
    saves = ((0, None), (1, None))  # as torch: input and weight

    def forward(self, x, w, *bias, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        n, c, h, wd = x.shape
        f, cg, kh, kw = w.shape
        top, bottom, left, right = pads
        ho = window_output_size(h, kh, stride[0], top, dilation[0], pad_after=bottom)
        wo = window_output_size(wd, kw, stride[1], left, dilation[1], pad_after=right)
        self.geometry = (x.shape, (ho, wo), stride, pads, dilation, groups)
        wg = w.reshape(groups, f // groups, cg * kh * kw)
        if c * kh * kw * ho * wo * n * x.itemsize <= KEEP_COLUMNS_MAX:
            cols = self._columns(self._padded_input(x), kh, kw, 0, ho)
            out = np.matmul(wg, cols)
            kept = cols
        else:  # in blocks of output rows: no column matrix larger than KEEP_COLUMNS_MAX
            out = np.empty((groups, f // groups, ho * wo * n), dtype=x.dtype)
            xt = self._padded_input(x)
            for r0, r1 in self._row_blocks(c * kh * kw * wo * n * x.itemsize):
                # into a contiguous block, then copied: with a strided out= NumPy's matmul
                # leaves BLAS for its own loop (measured 5× slower on AlexNet's conv1)
                out[:, :, r0 * wo * n : r1 * wo * n] = np.matmul(wg, self._columns(xt, kh, kw, r0, r1))
            kept = x  # backward rebuilds the columns block by block
        self.save_for_backward(kept if self.needs_input_grad[1] else None, w)
        out = out.reshape(f, ho * wo * n)
        if bias:
            out += bias[0][:, None]
        return out.reshape(f, ho, wo, n).transpose(3, 0, 1, 2)

    def _row_blocks(self, row_bytes):
        """(first, end) output rows of blocks whose column matrix fits in KEEP_COLUMNS_MAX."""
        ho = self.geometry[1][0]
        step = max(1, KEEP_COLUMNS_MAX // row_bytes)
        return [(r, min(r + step, ho)) for r in range(0, ho, step)]

    def _padded_input(self, x):
        """``x`` as (C, H + pads, W + pads, N), C-contiguous (no copy after a previous conv)."""
        (n, c, h, wd), _, _, (top, bottom, left, right), _, _ = self.geometry
        xt = x.transpose(1, 2, 3, 0)  # (C, H, W, N): free when x came from a previous conv
        if any((top, bottom, left, right)) or not xt.flags.c_contiguous:
            padded = np.zeros((c, h + top + bottom, wd + left + right, n), dtype=x.dtype)
            padded[:, top : top + h, left : left + wd] = xt
            xt = padded
        return xt

    def _columns(self, xt, kh, kw, r0, r1):
        """The K-major column matrix (groups, C/groups·kH·kW, R·Wo·N) of output rows r0..r1."""
        (n, c, _, _), (_, wo), stride, _, dilation, groups = self.geometry
        cols = np.empty((c, kh, kw, r1 - r0, wo, n), dtype=xt.dtype)
        _im2col(xt, cols, dilation, stride, r0)
        return cols.reshape(groups, c // groups * kh * kw, (r1 - r0) * wo * n)

    def backward(self, grad):
        cols, w = self.saved
        (n, c, h, wd), (ho, wo), stride, (top, bottom, left, right), dilation, groups = self.geometry
        f, cg, kh, kw = w.shape
        g = np.ascontiguousarray(grad.transpose(1, 2, 3, 0)).reshape(groups, f // groups, ho * wo * n)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[1]:
            if cols.ndim == 4:  # the input was kept: rebuild its columns block by block
                xt = self._padded_input(cols)
                grad_w = 0
                for r0, r1 in self._row_blocks(c * kh * kw * wo * n * grad.itemsize):
                    block = self._columns(xt, kh, kw, r0, r1)
                    grad_w = grad_w + self._weight_grad(block, g[:, :, r0 * wo * n : r1 * wo * n], r1 - r0, wo * n)
                xt = block = None
            else:
                grad_w = self._weight_grad(cols, g, ho, wo * n)
            grad_w = grad_w.reshape(w.shape)
        cols = None
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            grad_b = g.reshape(f, -1).sum(axis=1)
        if self.needs_input_grad[0]:
            gpad = np.zeros((c, h + top + bottom, wd + left + right, n), dtype=grad.dtype)
            whole = c * kh * kw * ho * wo * n * grad.itemsize <= KEEP_COLUMNS_MAX
            wg = w.reshape(groups, f // groups, cg * kh * kw)
            if whole:  # one GEMM for every kernel offset
                gcols = np.matmul(wg.transpose(0, 2, 1), g).reshape(c, kh, kw, ho, wo, n)
            for i in range(kh):
                for j in range(kw):
                    if whole:
                        part = gcols[:, i, j]
                    else:  # one GEMM per offset: no (C·kH·kW, Ho·Wo·N) buffer at all
                        wij = w[:, :, i, j].reshape(groups, f // groups, cg).transpose(0, 2, 1)
                        part = np.matmul(wij, g).reshape(c, ho, wo, n)
                    rows, columns = _windows(i, j, dilation, stride, (ho, wo))
                    gpad[:, rows, columns] += part
            grad_x = gpad[:, top : top + h, left : left + wd].transpose(3, 0, 1, 2)
        return (grad_x, grad_w) if len(self.needs_input_grad) == 2 else (grad_x, grad_w, grad_b)

    @staticmethod
    def _weight_grad(cols, g, rows, run):
        """grad_w = g · colsᵀ per group, as a few GEMMs over blocks of output rows, summed.

        One GEMM whose reduction runs over all N·Ho·Wo columns was up to 10× slower in
        OpenBLAS with 2 threads on a busy machine, and one GEMM per row costs a thread sync
        each; blocks of ≤ 8192 columns (whole rows) sit in between. Operands are strided
        views (no copies).
        """
        groups, kg, _ = cols.shape
        fg = g.shape[1]
        blocks = next(b for b in range(1, rows + 1) if rows % b == 0 and (rows // b) * run <= 8192 or b == rows)
        cols_run = (rows // blocks) * run
        c = cols.reshape(groups, kg, blocks, cols_run).transpose(0, 2, 1, 3)  # (G, B, Kg, cols)
        gt = g.reshape(groups, fg, blocks, cols_run).transpose(0, 2, 3, 1)  # (G, B, cols, Fg)
        return np.matmul(c, gt).sum(axis=1).transpose(0, 2, 1)
