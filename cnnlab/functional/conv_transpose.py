"""``conv_transpose2d``: transposed ("fractionally strided") convolution, as ``F.conv_transpose2d``."""

from __future__ import annotations

import numpy as np

from .._ops.conv_transpose import ConvTranspose2dOp
from .._tensor import Tensor
from ..autograd.graph import label
from .._args import pair, positive


def conv_transpose_output_size(size: int, kernel: int, stride: int, padding: int, output_padding: int,
                               dilation: int) -> int:
    """H_out = (H − 1)·s − 2p + d·(k − 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The gradient of ``conv2d`` with respect to its input, used as a layer (upsampling by ``stride``).

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out/groups, kH, kW) (note: input channels first, unlike conv2d).
        bias: (C_out,) or None.
        stride, padding, output_padding, dilation: int or (H, W) pairs; ``padding`` crops
            d·(k − 1) − p ... from each side; ``output_padding`` (< stride or < dilation)
            adds rows/columns at the end to pick among output sizes that conv2d maps alike.
        groups: blocked connections; divides C_in and C_out.

    Shape:
        - Output: (N, C_out, H_out, W_out), H_out = (H − 1)·sH − 2·pH + dH·(kH − 1) + opH + 1.

    Example:
        >>> F.conv_transpose2d(cnnlab.randn(1, 4, 5, 5), cnnlab.randn(4, 2, 3, 3), stride=2).shape
        cnnlab.Size([1, 2, 11, 11])
    """
    op = "conv_transpose2d"
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected weight of shape (C_in, C_out/groups, kH, kW), got {tuple(weight.shape)}")
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    padding, output_padding = pair(padding, "padding", op), pair(output_padding, "output_padding", op)
    positive(stride, "stride", op)
    positive(dilation, "dilation", op)
    if min(padding) < 0 or min(output_padding) < 0:
        raise ValueError(f"{op}: padding and output_padding must be non-negative, got {padding} and {output_padding}")
    for k in range(2):
        if output_padding[k] >= max(stride[k], dilation[k]):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either stride {stride} or dilation {dilation}"
            )
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise ValueError(f"{op}: `groups` must be a positive int, got {groups!r}")
    c_in, fg, kh, kw = weight.shape
    if c_in % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels of weight {tuple(weight.shape)}")
    unbatched = input.ndim == 3
    if input.ndim not in (3, 4) or input.shape[-3] != c_in:
        raise ValueError(f"{op}: expected input of shape (N, {c_in}, H, W), got {tuple(input.shape)}")
    if bias is not None and tuple(bias.shape) != (fg * groups,):
        raise ValueError(f"{op}: expected bias of shape ({fg * groups},), got {tuple(bias.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{op}: input ({input.dtype}) and {name} ({t.dtype}) must have the same dtype")
    x = input.unsqueeze(0) if unbatched else input
    out_size = [conv_transpose_output_size(x.shape[2 + k], (kh, kw)[k], stride[k], padding[k], output_padding[k], dilation[k])
                for k in range(2)]
    if min(out_size) <= 0:
        raise ValueError(f"{op}: output size {tuple(out_size)} is too small for input {tuple(input.shape)}")
    params = (weight,) if bias is None else (weight, bias)
    out = ConvTranspose2dOp.apply(x, *params, stride=stride, padding=padding, output_padding=output_padding,
                                  dilation=dilation, groups=int(groups))
    out = label(out, "ConvolutionBackward0", (x, weight, bias))
    return out.squeeze(0) if unbatched else out
