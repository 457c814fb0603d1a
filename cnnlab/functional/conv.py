"""2-D convolution: ``conv2d`` and the op behind it.

Design note (speed, see /work/shared/PERF-NOTES.md): the op works internally in a
channels-first, batch-last layout (C, H, W, N). In that layout every kernel offset (i, j) of
im2col is one slice-copy of a large block whose inner run is W·N elements, the column matrix
is K-major (C·kH·kW, Ho·Wo·N) and the whole convolution is one GEMM; col2im is kH·kW
slice-adds. The output is returned as an (N, F, Ho, Wo) *view* of the (F, Ho, Wo, N) result,
so a following conv (after ReLU / pooling, which keep the memory order) reads its input
without a transpose copy.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function


def _pair(value, name: str, op: str) -> tuple[int, int]:
    """An int or a 2-sequence of ints as a pair (PyTorch's ``_pair``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        pair = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{op}: `{name}` must be an int or a pair of ints, got {value!r}") from None
    if len(pair) == 1:
        pair = pair * 2
    if len(pair) != 2:
        raise ValueError(f"{op}: `{name}` must be an int or a pair of ints, got {value!r}")
    return pair


def _positive(pair: tuple[int, int], name: str, op: str) -> None:
    if min(pair) <= 0:
        raise ValueError(f"{op}: `{name}` must be positive, got {pair}")


def conv_padding(padding, kernel_size, stride, dilation, op: str) -> tuple[int, int, int, int]:
    """Resolve ``padding`` (int, pair, 'valid', 'same') to (top, bottom, left, right).

    'same' pads d·(k−1) in total, the smaller half before, as PyTorch does for even kernels.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            if max(stride) > 1:
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions, got stride={stride}")
            (kh, kw), (dh, dw) = kernel_size, dilation
            th, tw = dh * (kh - 1), dw * (kw - 1)
            return th // 2, th - th // 2, tw // 2, tw - tw // 2
        raise ValueError(f"{op}: invalid padding string {padding!r}; valid: 'valid', 'same', an int or a pair")
    ph, pw = _pair(padding, "padding", op)
    if min(ph, pw) < 0:
        raise ValueError(f"{op}: `padding` must be non-negative, got {(ph, pw)}")
    return ph, ph, pw, pw


def conv_output_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """⌊(size + pad_total − d·(k−1) − 1) / s⌋ + 1."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def check_conv_input(name: str, input: Tensor, in_channels: int, kernel_size, pads, dilation) -> None:
    """Raise ValueError (naming ``name``) if ``input`` does not fit the convolution."""
    if input.ndim not in (3, 4) or input.shape[-3] != in_channels:
        raise ValueError(f"{name}: expected input of shape (N, {in_channels}, H, W), got {tuple(input.shape)}")
    top, bottom, left, right = pads
    padded = (input.shape[-2] + top + bottom, input.shape[-1] + left + right)
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(
            f"{name}: kernel size {tuple(kernel_size)} (dilated: {reach}) is larger than the padded "
            f"input {padded} (input {tuple(input.shape[-2:])} with padding {pads})"
        )


def _windows(i, j, dil, stride, out_hw):
    """The (rows, cols) slices that kernel offset (i, j) reads for every output position."""
    (dh, dw), (sh, sw), (ho, wo) = dil, stride, out_hw
    return slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)


class Conv2dOp(Function):
    """Convolution on (N, C, H, W) arrays via a K-major im2col and one GEMM (see module note)."""

    def forward(self, x, w, *bias, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        n, c, h, wd = x.shape
        f, cg, kh, kw = w.shape
        top, bottom, left, right = pads
        ho = conv_output_size(h, kh, stride[0], top + bottom, dilation[0])
        wo = conv_output_size(wd, kw, stride[1], left + right, dilation[1])
        xt = x.transpose(1, 2, 3, 0)  # (C, H, W, N): free when x came from a previous conv
        if any(pads) or not xt.flags.c_contiguous:
            padded = np.zeros((c, h + top + bottom, wd + left + right, n), dtype=x.dtype)
            padded[:, top : top + h, left : left + wd] = xt
            xt = padded
        cols = np.empty((c, kh, kw, ho, wo, n), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                rows, columns = _windows(i, j, dilation, stride, (ho, wo))
                cols[:, i, j] = xt[:, rows, columns]
        cols = cols.reshape(groups, cg * kh * kw, ho * wo * n)
        out = np.matmul(w.reshape(groups, f // groups, cg * kh * kw), cols).reshape(f, ho * wo * n)
        if bias:
            out += bias[0][:, None]
        self.geometry = (x.shape, (ho, wo), stride, pads, dilation, groups)
        self.save_for_backward(cols if self.needs_input_grad[1] else None, w)
        return out.reshape(f, ho, wo, n).transpose(3, 0, 1, 2)

    def backward(self, grad):
        cols, w = self.saved
        (n, c, h, wd), (ho, wo), stride, (top, bottom, left, right), dilation, groups = self.geometry
        f, cg, kh, kw = w.shape
        g = np.ascontiguousarray(grad.transpose(1, 2, 3, 0)).reshape(groups, f // groups, ho * wo * n)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[1]:
            grad_w = self._weight_grad(cols, g, ho, wo * n).reshape(w.shape)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            grad_b = g.reshape(f, -1).sum(axis=1)
        if self.needs_input_grad[0]:
            wg = w.reshape(groups, f // groups, cg * kh * kw)
            gcols = np.matmul(wg.transpose(0, 2, 1), g).reshape(c, kh, kw, ho, wo, n)
            gpad = np.zeros((c, h + top + bottom, wd + left + right, n), dtype=grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    rows, columns = _windows(i, j, dilation, stride, (ho, wo))
                    gpad[:, rows, columns] += gcols[:, i, j]
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


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) over a batch of images.

    out[n, f] = bias[f] + Σ_c Σ_(i,j) weight[f, c, i, j] · x_pad[n, g·C/G + c, s·h + d·i, s·w + d·j]

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None (default None).
        stride: int or (sH, sW), default 1.
        padding: int, (pH, pW), 'valid' (no padding) or 'same' (output as large as the
            input; stride must be 1; for even kernels the extra row/column goes after),
            default 0. Zeros are padded; other modes go through ``F.pad`` first.
        dilation: int or (dH, dW) spacing between kernel elements, default 1.
        groups: split input and output channels into ``groups`` independent blocks, default 1.

    Shape:
        - Input: (N, C_in, H, W)
        - Output: (N, C_out, H_out, W_out) with
          H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1, and likewise W_out.

    Example:
        >>> x = cnnlab.randn(8, 1, 28, 28)
        >>> w = cnnlab.randn(16, 1, 5, 5)
        >>> F.conv2d(x, w).shape
        (8, 16, 24, 24)
    """
    op = "conv2d"
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected weight of shape (C_out, C_in/groups, kH, kW), got {tuple(weight.shape)}")
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    f, cg, kh, kw = weight.shape
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise ValueError(f"{op}: `groups` must be a positive int, got {groups!r}")
    if f % groups:
        raise ValueError(f"{op}: groups={groups} must divide the output channels, got weight of shape {tuple(weight.shape)}")
    pads = conv_padding(padding, (kh, kw), stride, dilation, op)
    if input.ndim in (3, 4) and input.shape[-3] % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels, got input of shape {tuple(input.shape)}")
    check_conv_input(op, input, cg * groups, (kh, kw), pads, dilation)
    if bias is not None and tuple(bias.shape) != (f,):
        raise ValueError(f"{op}: expected bias of shape ({f},), got {tuple(bias.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{op}: input ({input.dtype}) and {name} ({t.dtype}) must have the same dtype")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    tensors = (x, weight) if bias is None else (x, weight, bias)
    out = Conv2dOp.apply(*tensors, stride=stride, pads=pads, dilation=dilation, groups=int(groups))
    return out.squeeze(0) if unbatched else out
