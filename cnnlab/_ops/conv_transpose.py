"""Transposed convolution (``conv_transpose2d``): the adjoint of ``conv2d`` with respect to its input.

Every input pixel (h, w) adds ``x[n, c, h, w] · W[c, f, i, j]`` to output position
(h·s + i·d, w·s + j·d) of a buffer, which is then cropped by ``padding`` on each side:

    H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1

Forward: one GEMM per group makes all k² contributions of every pixel, ``cols = Wᵀ x``, then
k² strided slice-adds scatter them (a loop over kernel offsets, never over pixels). Backward
reverses it: k² strided slice-reads gather the output gradient (``gcols``), and two GEMMs give
``grad_x = W · gcols`` and ``grad_W = Σ_n x · gcolsᵀ``.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _window(offset: int, dilation: int, stride: int, size: int) -> slice:
    """Where kernel offset ``offset`` of each of ``size`` input positions lands in the buffer."""
    start = offset * dilation
    return slice(start, start + (size - 1) * stride + 1, stride)


class ConvTranspose2dOp(Function):
    def forward(self, x, w, *bias, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1), groups=1):
        n, c, h, wd = x.shape
        _, fg, kh, kw = w.shape
        cg = c // groups  # input channels per group (the weight holds all of them)
        buf_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
        buf_w = (wd - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
        buf = np.zeros((n, fg * groups, buf_h, buf_w), dtype=x.dtype)
        for g in range(groups):
            xg = x[:, g * cg:(g + 1) * cg].reshape(n, cg, h * wd)
            wg = w[g * cg:(g + 1) * cg].reshape(cg, fg * kh * kw)
            cols = np.matmul(wg.T, xg).reshape(n, fg, kh, kw, h, wd)
            for i in range(kh):
                rows = _window(i, dilation[0], stride[0], h)
                for j in range(kw):
                    buf[:, g * fg:(g + 1) * fg, rows, _window(j, dilation[1], stride[1], wd)] += cols[:, :, i, j]
        out = buf[:, :, padding[0]:buf_h - padding[0], padding[1]:buf_w - padding[1]]
        if bias:
            out = out + bias[0].reshape(1, -1, 1, 1)
        self.geometry = (x.shape, (buf_h, buf_w), stride, padding, dilation, groups)
        self.save_for_backward(x if self.needs_input_grad[1] else None, w)
        return np.ascontiguousarray(out)

    def backward(self, grad):
        x, w = self.saved
        (n, c, h, wd), (buf_h, buf_w), stride, padding, dilation, groups = self.geometry
        _, fg, kh, kw = w.shape
        cg = c // groups
        gbuf = np.zeros((n, fg * groups, buf_h, buf_w), dtype=grad.dtype)
        gbuf[:, :, padding[0]:buf_h - padding[0], padding[1]:buf_w - padding[1]] = grad
        gx = np.empty((n, c, h, wd), dtype=grad.dtype) if self.needs_input_grad[0] else None
        gw = np.empty(w.shape, dtype=grad.dtype) if self.needs_input_grad[1] else None
        for g in range(groups):
            gcols = np.empty((n, fg, kh, kw, h, wd), dtype=grad.dtype)
            for i in range(kh):
                rows = _window(i, dilation[0], stride[0], h)
                for j in range(kw):
                    gcols[:, :, i, j] = gbuf[:, g * fg:(g + 1) * fg, rows, _window(j, dilation[1], stride[1], wd)]
            gcols = gcols.reshape(n, fg * kh * kw, h * wd)
            if gx is not None:
                wg = w[g * cg:(g + 1) * cg].reshape(cg, fg * kh * kw)
                gx[:, g * cg:(g + 1) * cg] = np.matmul(wg, gcols).reshape(n, cg, h, wd)
            if gw is not None:
                xg = x[:, g * cg:(g + 1) * cg].reshape(n, cg, h * wd)
                gw[g * cg:(g + 1) * cg] = np.tensordot(xg, gcols, axes=([0, 2], [0, 2])).reshape(cg, fg, kh, kw)
        grads = (gx, gw)
        if len(self.parents) == 3:
            grads += (grad.sum(axis=(0, 2, 3)) if self.needs_input_grad[2] else None,)
        return grads
