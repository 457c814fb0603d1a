"""Occlusion (Zeiler & Fergus 2014): how much the target's logit drops when a window of the
input is set to a baseline, for every window position, as Captum 0.9's ``Occlusion``."""

from __future__ import annotations

import numpy as np

from ._common import ROWS_PER_PASS, frozen, logits, prepare, result
from .._tensor import Tensor
from .gradients import _baseline_like


def _triple(value, name: str, shape: tuple[int, int, int]) -> tuple[int, int, int]:
    v = (value,) * 3 if isinstance(value, (int, np.integer)) else tuple(value)
    if len(v) != 3 or not all(isinstance(k, (int, np.integer)) and k >= 1 for k in v):
        raise ValueError(f"`{name}`: expected three positive integers (C, h, w), got {value!r}")
    return tuple(int(k) for k in v)


def window_masks(size: int, window: int, stride: int) -> np.ndarray:
    """Along one axis of length ``size``: a (positions, size) 0/1 matrix, row k covering
    ``[k·stride, k·stride + window)`` clipped to the axis. Positions are
    ``ceil((size − window) / stride) + 1``, so the last window reaches the far edge (Captum's rule)."""
    count = -(-(size - window) // stride) + 1
    starts = np.arange(count)[:, None] * stride
    i = np.arange(size)[None, :]
    return ((i >= starts) & (i < starts + window)).astype(np.float32)


def occlusion(model, x, target, window=(1, 4, 4), stride=(1, 2, 2), baseline=0.0) -> Tensor:
    """For every window position, the drop of the target's logit when the window is replaced by
    ``baseline``, given to each element of the window and averaged where windows overlap.

    Args:
        window: ``(C, h, w)`` of the occluding block (an int means a cube), default (1, 4, 4).
        stride: ``(C, sh, sw)`` between window positions, each at most the window's (default (1, 2, 2)).
        baseline: a number, or an array/Tensor broadcastable to ``x``, put in the window (default 0.0).

    Shape:
        x: (N, C, H, W) → attributions (N, C, H, W). Window positions per axis:
        ``ceil((D − window) / stride) + 1``, the last one clipped at the edge.

    Notes:
        attr[n, e] = Σ_{p ∋ e} (f(x_n) − f(x_n with window p occluded)) / #{p ∋ e}. Windows
        factor into one 0/1 matrix per axis, so the occluded inputs and the spreading back are
        broadcasts and one ``einsum``, in batches of windows; no loop over pixels.
    """
    with frozen(model):
        a, t, out = prepare(model, x, target)
        shape = a.shape[1:]
        win = _triple(window, "window", shape)
        step = _triple(stride, "stride", shape)
        if any(w > d for w, d in zip(win, shape)):
            raise ValueError(f"`window`: {win} does not fit the input's (C, H, W) = {shape}")
        if any(s > w and d > w for s, w, d in zip(step, win, shape)):
            raise ValueError(f"`stride`: each must be at most the window's {win}, got {step}")
        b = _baseline_like(baseline, a)
        mc, mh, mw = (window_masks(d, w, s) for d, w, s in zip(shape, win, step))
        counts = mc.shape[0], mh.shape[0], mw.shape[0]
        full = out[np.arange(len(a)), t]
        positions = int(np.prod(counts))
        drops = np.empty((positions, len(a)), dtype=out.dtype)
        per_pass = max(1, ROWS_PER_PASS // len(a))
        for lo in range(0, positions, per_pass):
            ic, ih, iw = np.unravel_index(np.arange(lo, min(lo + per_pass, positions)), counts)
            m = (mc[ic, :, None, None] * mh[ih, None, :, None] * mw[iw, None, None, :]).astype(a.dtype)
            m = m[:, None]                                          # (P, 1, C, H, W)
            occluded = (a * (1 - m) + b * m).reshape(-1, *shape)   # window-major, then sample
            scores = logits(model, occluded).reshape(len(m), len(a), -1)
            drops[lo:lo + len(m)] = full - scores[:, np.arange(len(a)), t]
        drops = drops.T.reshape(len(a), *counts)
        total = np.einsum("nabd,ac,bh,dw->nchw", drops, mc, mh, mw, optimize=True)
        covered = np.einsum("ac,bh,dw->chw", mc, mh, mw)
        return result((total / covered).astype(a.dtype, copy=False))
