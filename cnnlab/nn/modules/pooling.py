"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d."""

from __future__ import annotations

from ... import functional as F
from ..._args import LayerName, adaptive_size, pool_args
from ...functional.pooling import INT_DTYPES
from .module import Module


class MaxPool2d(Module):
    """2-D max pooling: the largest value of each kH×kW window.

    Args:
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW); default None means ``kernel_size``. A stride smaller than
            the kernel overlaps the windows (AlexNet's MaxPool2d(3, stride=2)).
        padding: implicit −∞ padding on both sides, at most half the kernel, default 0.
        dilation: spacing between window elements, default 1.
        return_indices: also return each maximum's flat index h·W + w in its plane.
        ceil_mode: round the output size up instead of down, default False.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) with
          H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1 (⌈⌉ with ceil_mode), likewise W_out.

    The gradient of a window goes to its first maximum (row-major), as in PyTorch.

    Example:
        >>> nn.MaxPool2d(2)(cnnlab.randn(8, 16, 24, 24)).shape
        cnnlab.Size([8, 16, 12, 12])
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        pool_args(LayerName(self), input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                  int_dtypes=INT_DTYPES)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """2-D average pooling: the mean of each kH×kW window.

    Args:
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW); default None means ``kernel_size``.
        padding: implicit zero padding on both sides, at most half the kernel, default 0.
        ceil_mode: round the output size up instead of down, default False.
        count_include_pad: count the zero padding in each window's divisor, default True.
        divisor_override: divide every window sum by this number instead, default None.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) with
          H_out = ⌊(H + 2·pH − kH) / sH⌋ + 1 (⌈⌉ with ceil_mode), likewise W_out.

    Example:
        >>> nn.AvgPool2d(2)(cnnlab.randn(8, 16, 24, 24)).shape
        cnnlab.Size([8, 16, 12, 12])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        pool_args(LayerName(self), input, self.kernel_size, self.stride, self.padding, 1, self.ceil_mode,
                  int_dtypes=("int64",))
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (H_out, W_out), whatever the input size.

    Bin i of a dimension of size H spans rows ⌊i·H/H_out⌋ … ⌈(i+1)·H/H_out⌉ − 1 (PyTorch's bins).

    Args:
        output_size: int or (H_out, W_out); None in a pair keeps that input size.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out)

    Example:
        >>> nn.AdaptiveAvgPool2d((6, 6))(cnnlab.randn(2, 256, 13, 13)).shape
        cnnlab.Size([2, 256, 6, 6])
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        adaptive_size(LayerName(self), input, self.output_size)
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size, with the bins of ``AdaptiveAvgPool2d``.

    Args:
        output_size: int or (H_out, W_out); None in a pair keeps that input size.
        return_indices: also return each maximum's flat index h·W + w in its plane.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out)

    Example:
        >>> nn.AdaptiveMaxPool2d(1)(cnnlab.randn(2, 64, 7, 7)).shape
        cnnlab.Size([2, 64, 1, 1])
    """

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        adaptive_size(LayerName(self), input, self.output_size)
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
