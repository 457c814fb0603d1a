"""2-D convolution: ``conv2d`` checks its arguments and runs the op.

The op itself (forward, backward and its design note) is ``Conv2dOp`` in ``cnnlab/_ops/conv.py``.
"""

from __future__ import annotations

import numpy as np

from .._args import check_conv_input, conv_padding, pair, positive
from .._ops.conv import Conv2dOp
from .._tensor import Tensor


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
        cnnlab.Size([8, 16, 24, 24])
    """
    op = "conv2d"
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected weight of shape (C_out, C_in/groups, kH, kW), got {tuple(weight.shape)}")
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    positive(stride, "stride", op)
    positive(dilation, "dilation", op)
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
