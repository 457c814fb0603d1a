"""Compiled hot kernels (numba), with the pure-NumPy ops as reference and fallback.

Used for overlapping max pooling on a batch (``cnnlab/_ops/pooling.py`` decides). Why: it
needs, per window, a running maximum, the first maximum's offset, and in the backward a
scatter-add of each window's gradient to that one element. In NumPy that is kH·kW passes of four ufuncs each over the whole output,
and a masked multiply-add per offset back; one compiled loop does it in a single pass
(measurements in docs/design/performance.md).

Rules:
- ``CNNLAB_KERNELS=numpy`` (read once per process, at the first kernel use) keeps every op on
  its NumPy path; so does a machine without numba. The NumPy path is the reference: the
  tests check the compiled kernels equal to it, and both to torch.
- numba is imported only when a kernel is first needed, never at ``import cnnlab``, so the
  CLI's start-up does not pay for it. Kernels are compiled with ``cache=True``: the first
  use on a machine compiles them (a few seconds) into numba's cache, later processes load
  them from there.
"""

from __future__ import annotations

import os

import numpy as np

_state: dict = {}


def enabled() -> bool:
    """Whether the compiled kernels are used (numba importable, not switched off)."""
    on = _state.get("on")
    if on is None:
        on = os.environ.get("CNNLAB_KERNELS", "").lower() != "numpy" and _load() is not None
        _state["on"] = on
    return on


def set_enabled(on: bool | None) -> None:
    """Force the choice (tests compare both paths); ``None`` goes back to the default."""
    if on is None:
        _state.pop("on", None)
    else:
        _state["on"] = bool(on) and _load() is not None


def _load():
    """The module of compiled kernels, or None without numba."""
    if "mod" not in _state:
        try:
            from . import _numba_kernels as mod
        except ImportError:
            mod = None
        _state["mod"] = mod
    return _state["mod"]


def is_batch_last(x: np.ndarray) -> bool:
    """Whether ``x`` (N, C, H, W), N > 1, lies in memory as (C, H, W, N), as conv returns it."""
    return x.shape[0] > 1 and x.transpose(1, 2, 3, 0).flags.c_contiguous


def canonical(x: np.ndarray, batch_last: bool) -> np.ndarray:
    """``x`` (N, C, H, W) as a C-contiguous 4-D array (P, H, W, Q), copied only if needed:
    (C, H, W, N) if ``batch_last`` (the inner loops then run over the batch), else
    (N·C, H, W, 1)."""
    n, c, h, w = x.shape
    if batch_last:
        return np.ascontiguousarray(x.transpose(1, 2, 3, 0))
    return np.ascontiguousarray(x).reshape(n * c, h, w, 1)


def from_canonical(a: np.ndarray, batch_last: bool, n: int) -> np.ndarray:
    """The (N, C, H', W') view of a canonical (P, H', W', Q) result."""
    if batch_last:
        return a.transpose(3, 0, 1, 2)
    return a.reshape(n, a.shape[0] // n, *a.shape[1:3])


def max_pool_forward(xp, kernel, stride, dilation, out_hw, with_argmax: bool):
    """(out, argmax or None) for the padded input ``xp``, as (N, C, Ho, Wo) views of batch-last
    arrays (a batch of one: NCHW). argmax holds the row-major window offset of the first
    maximum. An NCHW input is copied to batch-last first: with the batch as the inner loop the
    kernel runs ~3× faster than with scalar inner loops over strided rows."""
    mod = _load()
    n = xp.shape[0]
    batch_last = n > 1  # always so from MaxPool2dOp; a batch of one has no batch to run over
    x4 = canonical(xp, batch_last)
    shape = (x4.shape[0], out_hw[0], out_hw[1], x4.shape[3])
    out = np.empty(shape, dtype=xp.dtype)
    kh, kw = kernel
    arg = np.empty(shape, dtype=np.uint8 if kh * kw < 256 else np.int32) if with_argmax else None
    if with_argmax:
        mod.max_pool_fwd_arg(x4, kh, kw, stride[0], stride[1], dilation[0], dilation[1], out, arg)
    else:
        mod.max_pool_fwd(x4, kh, kw, stride[0], stride[1], dilation[0], dilation[1], out)
    out_v = from_canonical(out, batch_last, n)
    return out_v, (from_canonical(arg, batch_last, n) if with_argmax else None)


def max_pool_backward(grad, argmax, padded_shape, kernel, stride, dilation):
    """The gradient of the padded input: each window's gradient added to its first maximum."""
    mod = _load()
    n, c, hp, wp = padded_shape
    batch_last = n > 1  # argmax's layout (max_pool_forward)
    g4, a4 = canonical(grad, batch_last), canonical(argmax, batch_last)
    gp = np.zeros((g4.shape[0], hp, wp, g4.shape[3]), dtype=grad.dtype)
    mod.max_pool_bwd(g4, a4, kernel[0], kernel[1], stride[0], stride[1], dilation[0], dilation[1], gp)
    return from_canonical(gp, batch_last, n)
