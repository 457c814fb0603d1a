"""Argument parsing shared by ``cnnlab.functional``, ``cnnlab.nn`` and the Tensor methods.

One place for PyTorch's argument conventions: ``pair`` (an int or a pair), ``positive``,
``conv_padding`` ('same', 'valid', ints), pooling windows, loss reductions, softmax dims, and
``window_output_size``, the one output-size formula of convolution and pooling. Errors name
the op or layer, the argument, and what came.

Layering: a leaf module (NumPy only) that any layer of the engine may import; checks that
need an input read only its ``ndim``, ``shape`` and ``dtype``.
"""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("none", "mean", "sum")


class LayerName:
    """A layer's ``repr``, built only when an error message formats it.

    Layers name themselves in argument errors; building that string on every forward cost
    more than a batch-1 pooling op itself (docs/design/performance.md).
    """

    __slots__ = ("module",)

    def __init__(self, module):
        self.module = module

    def __str__(self) -> str:
        return repr(self.module)

    __format__ = lambda self, spec: format(str(self), spec)  # noqa: E731


def pair(value, name: str = "value", op: str = "pair") -> tuple[int, int]:
    """An int or a 2-sequence of ints as a pair (PyTorch's ``_pair``)."""
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int:
        return value  # the common case (a layer's stored pair), on every forward: kept short
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{op}: `{name}` must be an int or a pair of ints, got {value!r}") from None
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise ValueError(f"{op}: `{name}` must be an int or a pair of ints, got {value!r}")
    return values


def positive(values: tuple[int, int], name: str, op: str) -> None:
    """Raise ValueError unless every element of ``values`` (argument ``name`` of ``op``) is > 0."""
    if min(values) <= 0:
        raise ValueError(f"{op}: `{name}` must be positive, got {values}")


def window_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                       ceil_mode: bool = False, pad_after: int | None = None) -> int:
    """Output length of a sliding window (convolution or pooling) along one dim, as PyTorch.

    O = ⌊(size + p_before + p_after − d·(k−1) − 1) / s⌋ + 1 (⌈⌉ with ``ceil_mode``); in ceil
    mode the last window must start inside the input or its left padding, else it is dropped.
    ``padding`` is added before and, unless ``pad_after`` is given, after. This is the one
    formula: the ops, the argument checks and ``cnnlab.conv_output_size`` all use it.
    """
    span = size + padding + (padding if pad_after is None else pad_after) - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


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
    ph, pw = pair(padding, "padding", op)
    if min(ph, pw) < 0:
        raise ValueError(f"{op}: `padding` must be non-negative, got {(ph, pw)}")
    return ph, ph, pw, pw


def check_conv_input(name: str, input, in_channels: int, kernel_size, pads, dilation) -> None:
    """Raise ValueError (naming ``name``) if ``input`` does not fit the convolution."""
    shape = tuple(input.shape)
    if len(shape) not in (3, 4) or shape[-3] != in_channels:
        raise ValueError(f"{name}: expected input of shape (N, {in_channels}, H, W), got {shape}")
    top, bottom, left, right = pads
    padded = (shape[-2] + top + bottom, shape[-1] + left + right)
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(
            f"{name}: kernel size {tuple(kernel_size)} (dilated: {reach}) is larger than the padded "
            f"input {padded} (input {tuple(input.shape[-2:])} with padding {pads})"
        )


def check_pool_input(name: str, input, int_dtypes: tuple[str, ...] = ()) -> None:
    """``int_dtypes``: the integer dtypes torch also pools (max_pool2d: all but bool)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"{name}: expected input of shape (N, C, H, W) or (C, H, W), got {tuple(input.shape)}")
    if input.dtype.kind != "f" and input.dtype.name not in int_dtypes:
        allowed = "a floating point" + (f" or {'/'.join(int_dtypes)}" if int_dtypes else "")
        raise RuntimeError(f"{name}: expected {allowed} input, got dtype {input.dtype}")


def pool_args(name, input, kernel_size, stride, padding, dilation, ceil_mode, int_dtypes=()):
    """Validate window arguments; return them as pairs."""
    check_pool_input(name, input, int_dtypes)
    kernel = pair(kernel_size, "kernel_size", name)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else pair(stride, "stride", name)
    pad, dilation = pair(padding, "padding", name), pair(dilation, "dilation", name)
    positive(kernel, "kernel_size", name)
    positive(stride, "stride", name)
    positive(dilation, "dilation", name)
    if min(pad) < 0 or pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{name}: `padding` must be between 0 and half the kernel size {kernel}, got {pad}")
    size = input.shape[-2:]
    out = tuple(window_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(size, kernel, stride, pad, dilation))
    if min(out) <= 0:
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(
            f"{name}: kernel size {kernel} (dilated: {reach}) is larger than the padded input "
            f"{tuple(n + 2 * p for n, p in zip(size, pad))} (input {tuple(size)} with padding {pad})"
        )
    return kernel, stride, pad, dilation


def adaptive_size(name, input, output_size):
    check_pool_input(name, input)
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(output_size)
    if len(output_size) != 2:
        raise ValueError(f"{name}: `output_size` must be an int or a pair, got {output_size!r}")
    size = tuple(input.shape[-2:][i] if o is None else int(o) for i, o in enumerate(output_size))
    if min(size) <= 0:
        raise ValueError(f"{name}: `output_size` must be positive, got {output_size!r}")
    if min(input.shape[-2:]) <= 0:
        raise ValueError(f"{name}: expected a non-empty input, got shape {tuple(input.shape)}")
    return size


def loss_reduction(op: str, reduction: str, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:  # torch's deprecated arguments
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if (size_average and reduce) else ("sum" if reduce else "none")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; valid: 'none', 'mean', 'sum'")
    return reduction


def softmax_dim(dim, shape: tuple[int, ...], op: str) -> int:
    """The non-negative dim of a softmax over a tensor of ``shape``.

    ``dim=None`` is PyTorch's legacy default: dim 0 for 0-D/1-D/3-D input, else 1.
    """
    ndim = len(shape)
    if dim is None:
        dim = 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for input of shape {tuple(shape)}")
    return dim % max(ndim, 1)
