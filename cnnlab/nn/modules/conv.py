"""``Conv2d``: the convolution layer (parameters + validation; the op is ``F.conv2d``)."""

from __future__ import annotations

import math

from ... import functional as F
from ..._args import LayerName, check_conv_input, conv_padding, pair, positive
from ..._creation import empty
from .. import init
from ..parameter import Parameter
from .module import Module

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")



def _reset_conv_parameters(weight, bias) -> None:
    """PyTorch's initialisation of a convolution (plain or transposed): Kaiming-uniform weights
    with a = √5, and the bias uniform in ±1/√fan_in, fan_in = weight.shape[1] · kH · kW."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = weight.shape[1] * weight.shape[2] * weight.shape[3]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)

class Conv2d(Module):
    """2-D convolution over a batch of images, with PyTorch's arguments and initialisation.

    Args:
        in_channels: channels C_in of the input.
        out_channels: channels C_out (number of filters) of the output.
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW), default 1.
        padding: int, (pH, pW), 'valid' or 'same' (stride 1 only; even kernels put the
            extra row/column after), default 0.
        dilation: int or (dH, dW), spacing between kernel elements, default 1.
        groups: blocked connections; must divide both channel counts, default 1.
        bias: learn an additive bias per output channel, default True.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular', default 'zeros'.

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W)
        - Output: (N, C_out, H_out, W_out) with
          H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1, and likewise W_out.

    Parameters: ``weight`` (C_out, C_in/groups, kH, kW) from kaiming_uniform_(a=√5), i.e.
    U(−1/√fan_in, 1/√fan_in) with fan_in = C_in/groups · kH · kW, and ``bias`` (C_out,) from
    the same U(−1/√fan_in, 1/√fan_in), as in PyTorch.

    Example:
        >>> conv = nn.Conv2d(1, 16, kernel_size=5)
        >>> conv(cnnlab.randn(8, 1, 28, 28)).shape
        cnnlab.Size([8, 16, 24, 24])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None):
        super().__init__()
        name = "Conv2d"
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{name}: in_channels and out_channels must be positive, got {in_channels} and {out_channels}")
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels ({in_channels}) and out_channels ({out_channels})"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"{name}: unknown padding_mode {padding_mode!r}; valid modes are {', '.join(map(repr, PADDING_MODES))}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = pair(stride, "stride", name)
        self.dilation = pair(dilation, "dilation", name)
        for attr in ("kernel_size", "stride", "dilation"):
            positive(getattr(self, attr), attr, name)
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", name)
        self._pads = conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)
        self.padding_mode = padding_mode
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype))
        self.bias = Parameter(empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_conv_parameters(self.weight, self.bias)

    def forward(self, input):
        check_conv_input(LayerName(self), input, self.in_channels, self.kernel_size, self._pads, self.dilation)
        if self.padding_mode == "zeros":
            return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        top, bottom, left, right = self._pads
        padded = F.pad(input, (left, right, top, bottom), mode=self.padding_mode)
        return F.conv2d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class ConvTranspose2d(Module):
    """2-D transposed convolution (upsampling by ``stride``), PyTorch's arguments and initialisation.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as ``Conv2d``.
        output_padding: int or (H, W), extra rows/columns at the end (< stride or < dilation).

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W)
        - Output: (N, C_out, H_out, W_out), H_out = (H − 1)·sH − 2·pH + dH·(kH − 1) + opH + 1.

    Parameters: ``weight`` (C_in, C_out/groups, kH, kW) from kaiming_uniform_(a=√5), i.e.
    U(−1/√fan_in, 1/√fan_in) with fan_in = C_out/groups · kH · kW (torch computes the fan from
    the weight's dim 1), and ``bias`` (C_out,) from the same range.

    Example:
        >>> up = nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        >>> up(cnnlab.randn(1, 16, 7, 7)).shape
        cnnlab.Size([1, 8, 14, 14])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        name = "ConvTranspose2d"
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{name}: in_channels and out_channels must be positive, got {in_channels} and {out_channels}")
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels ({in_channels}) and out_channels ({out_channels})"
            )
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = pair(stride, "stride", name)
        self.dilation = pair(dilation, "dilation", name)
        for attr in ("kernel_size", "stride", "dilation"):
            positive(getattr(self, attr), attr, name)
        self.padding = pair(padding, "padding", name)
        self.output_padding = pair(output_padding, "output_padding", name)
        self.padding_mode = padding_mode
        self.weight = Parameter(empty(in_channels, out_channels // groups, *self.kernel_size, dtype=dtype, device=device))
        self.bias = Parameter(empty(out_channels, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_conv_parameters(self.weight, self.bias)

    def forward(self, input):
        if input.ndim not in (3, 4) or input.shape[-3] != self.in_channels:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.in_channels}, H, W), got {tuple(input.shape)}")
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
