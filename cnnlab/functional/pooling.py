"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d.

These check arguments and shapes; the ops (forward, backward and their design note) are in
``cnnlab/_ops/pooling.py``.
"""

from __future__ import annotations

import numpy as np

from .._args import adaptive_size, pool_args

INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8")  # torch max-pools these, not bool
from .._ops.pooling import AdaptiveAvgPool2dOp, AdaptiveMaxPool2dOp, AvgPool2dOp, MaxPool2dOp
from .._tensor import Tensor, from_numpy


def _batched(input: Tensor, fn):
    """Run ``fn`` on a 4-D tensor; a 3-D (C, H, W) input is treated as a batch of one."""
    if input.ndim == 4:
        return fn(input)
    out = fn(input.unsqueeze(0))
    return tuple(t.squeeze(0) for t in out) if isinstance(out, tuple) else out.squeeze(0)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling: the largest value in each kH×kW window.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW); default None means ``kernel_size``. A stride smaller than
            the kernel gives overlapping pooling (AlexNet: 3×3, stride 2).
        padding: implicit −∞ padding on both sides, at most half the kernel (default 0).
        dilation: spacing between window elements (default 1).
        ceil_mode: round the output size up instead of down (default False).
        return_indices: also return the flat index h·W + w of each maximum in its plane.

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H_out, W_out) with
          H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1 (⌈⌉ with ceil_mode), likewise W_out.

    Example:
        >>> F.max_pool2d(cnnlab.randn(8, 16, 24, 24), 2).shape
        cnnlab.Size([8, 16, 12, 12])
    """
    kernel, stride, pad, dilation = pool_args(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, int_dtypes=INT_DTYPES
    )

    def run(x):
        sink = [] if return_indices else None
        out = MaxPool2dOp.apply(x, kernel=kernel, stride=stride, pad=pad, dilation=dilation, ceil_mode=bool(ceil_mode), indices_out=sink)
        return (out, from_numpy(sink[0])) if return_indices else out

    return _batched(input, run)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling: the mean of each kH×kW window.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW); default None means ``kernel_size``.
        padding: implicit zero padding on both sides, at most half the kernel (default 0).
        ceil_mode: round the output size up instead of down (default False).
        count_include_pad: count the zero padding in the divisor (default True).
        divisor_override: divide every window by this number instead (default None).

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H_out, W_out) with
          H_out = ⌊(H + 2·pH − kH) / sH⌋ + 1 (⌈⌉ with ceil_mode), likewise W_out.

    Example:
        >>> F.avg_pool2d(cnnlab.randn(8, 16, 24, 24), 2).shape
        cnnlab.Size([8, 16, 12, 12])
    """
    kernel, stride, pad, _ = pool_args(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode, int_dtypes=("int64",)
    )
    if divisor_override is not None and divisor_override == 0:  # negative is allowed, as in torch
        raise ValueError(f"avg_pool2d: `divisor_override` must not be zero, got {divisor_override!r}")
    if input.dtype == np.int64:  # torch: integer sum, divided with C's truncation
        mean = avg_pool2d(input.double(), kernel, stride, pad, ceil_mode, count_include_pad, divisor_override)
        return from_numpy(np.trunc(mean.detach().numpy()).astype(np.int64))
    return _batched(input, lambda x: AvgPool2dOp.apply(
        x, kernel=kernel, stride=stride, pad=pad, ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad), divisor_override=divisor_override))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed output size; bin i spans ⌊i·H/H_out⌋ … ⌈(i+1)·H/H_out⌉ − 1.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (H_out, W_out); None in a pair keeps that input size.

    Shape:
        - Output: (N, C, H_out, W_out)

    Example:
        >>> F.adaptive_avg_pool2d(cnnlab.randn(2, 8, 7, 9), (2, 3)).shape
        cnnlab.Size([2, 8, 2, 3])
    """
    size = adaptive_size("adaptive_avg_pool2d", input, output_size)
    return _batched(input, lambda x: AdaptiveAvgPool2dOp.apply(x, out_size=size))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size, with the bins of ``adaptive_avg_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (H_out, W_out); None in a pair keeps that input size.
        return_indices: also return the flat index h·W + w of each maximum in its plane.

    Shape:
        - Output: (N, C, H_out, W_out)

    Example:
        >>> F.adaptive_max_pool2d(cnnlab.randn(2, 8, 7, 9), 3).shape
        cnnlab.Size([2, 8, 3, 3])
    """
    size = adaptive_size("adaptive_max_pool2d", input, output_size)

    def run(x):
        sink = [] if return_indices else None
        out = AdaptiveMaxPool2dOp.apply(x, out_size=size, indices_out=sink)
        return (out, from_numpy(sink[0])) if return_indices else out

    return _batched(input, run)
