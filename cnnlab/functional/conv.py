"""2-D convolution: ``conv2d`` checks its arguments and runs the op.

The op itself (forward, backward and its design note) is ``Conv2dOp`` in ``cnnlab/_ops/conv.py``.
"""

from __future__ import annotations

import numpy as np

from .._ops.conv import Conv2dOp, conv_output_size  # noqa: F401  (conv_output_size: re-exported)
from .._tensor import Tensor


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
