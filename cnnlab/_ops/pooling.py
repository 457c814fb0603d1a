"""Pooling ops (forward and backward): max, average, adaptive average, adaptive max.

``cnnlab.functional.pooling`` checks the arguments and calls these.

Design note: a window op is a loop over the kH·kW kernel offsets, each a strided slice of the
(padded) input covering every output position at once, so no Python loop ever runs over
the batch, channels or pixels. Max pooling keeps, per output, the offset of the *first*
maximum in row-major window order (PyTorch's rule); the backward sends the gradient to that
one element only. Sending it to every element equal to the max (a tie) is wrong on real
images, whose blank background makes whole windows equal (see docs/design/performance.md). Without
padding the input is sliced in place: non-overlapping 2×2 pooling is the max of 4 strided
views (the fast path), and its backward writes each window once.
"""

from __future__ import annotations

import numpy as np

from .._args import window_output_size
from ..autograd.function import Function
from . import _kernels
from .conv import _windows


def _buffer_like(x: np.ndarray, shape, fill) -> np.ndarray:
    """An (N, C, H, W) array filled with ``fill`` (None: uninitialised) in ``x``'s memory
    order (e.g. conv's batch-last layout)."""
    order = np.argsort([-s for s in x.strides], kind="stable")
    dims = [shape[i] for i in order]
    buf = np.empty(dims, dtype=x.dtype) if fill is None else np.full(dims, fill, dtype=x.dtype)
    return buf.transpose(np.argsort(order))


def _padded(x, pads, extra, fill):
    """``x`` padded by ``pads`` = (pH, pW) on both sides plus ``extra`` = (eH, eW) after."""
    (ph, pw), (eh, ew) = pads, extra
    if not (ph or pw or eh or ew):
        return x
    n, c, h, w = x.shape
    buf = _buffer_like(x, (n, c, h + 2 * ph + eh, w + 2 * pw + ew), fill)
    buf[:, :, ph : ph + h, pw : pw + w] = x
    return buf


def _geometry(x_shape, kernel, stride, pad, dilation, ceil_mode):
    """Output size and the extra bottom/right padding that ceil_mode windows reach into."""
    out, extra = [], []
    for size, k, s, p, d in zip(x_shape[2:], kernel, stride, pad, dilation):
        o = window_output_size(size, k, s, p, d, ceil_mode)
        out.append(o)
        extra.append(max(0, (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p)))
    return tuple(out), tuple(extra)


def _phase_split(kernel, stride) -> bool:
    """Whether reading the windows through stride phases pays: the stride skips elements and
    several kernel offsets share a phase (overlapping windows, e.g. AlexNet's 3×3, stride 2)."""
    return max(stride) > 1 and kernel[0] * kernel[1] > stride[0] * stride[1]


def _offset_reader(xp, kernel, stride, dilation, out_hw, phases):
    """``read(o)``: the view that kernel offset ``o`` (row-major) takes for every output.

    With ``phases`` the reads come from copies of xp's stride phases xp[:, :, p::sH, q::sW], so
    each view is a unit-stride slice. Strided reads cost ~10× a contiguous pass in NumPy's
    ufuncs, and an overlapping window reads each phase several times.
    """
    kh, kw = kernel
    if not phases:
        def read(o):
            rows, cols = _windows(o // kw, o % kw, dilation, stride, out_hw)
            return xp[:, :, rows, cols]
        return read
    (sh, sw) = stride
    cache = {}

    def read(o):
        phase, rows, cols = _phase_slot(o, kernel, stride, dilation, out_hw)
        if phase not in cache:
            cache[phase] = xp[:, :, phase[0]::sh, phase[1]::sw].copy(order="K")
        return cache[phase][:, :, rows, cols]
    return read


def _phase_slot(o, kernel, stride, dilation, out_hw):
    """Kernel offset ``o``'s stride phase (p, q) and the unit-stride (rows, cols) it reads there:
    input row r0 + sH·t is row r0 // sH + t of phase r0 % sH (likewise columns)."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    r0, c0 = (o // kernel[1]) * dh, (o % kernel[1]) * dw
    return (r0 % sh, c0 % sw), slice(r0 // sh, r0 // sh + ho), slice(c0 // sw, c0 // sw + wo)


def _compiled(kernel, stride, x) -> bool:
    """Whether max pooling takes the compiled kernel (cnnlab/_ops/_kernels.py): overlapping
    windows on a batch (N > 1), when numba is there and not switched off. Other windows stay
    on NumPy: there the kernel saved about 4% of a mnist-cnn training step but loading numba
    adds about 120 MB of RSS and 0.2 s of start-up, more than that buys; a single image
    keeps numba out of ``cnnlab predict`` (docs/design/performance.md)."""
    if x.ndim != 4 or x.shape[0] < 2 or x.size == 0:
        return False
    return _phase_split(kernel, stride) and _kernels.enabled()


class MaxPool2dOp(Function):
    saves = ((0, None),)  # as torch: the input (and the indices)
    compiled = False  # whether forward took the compiled kernel (argmax is then batch-last)
    def forward(self, x, kernel=(2, 2), stride=(2, 2), pad=(0, 0), dilation=(1, 1), ceil_mode=False, indices_out=None):
        (ho, wo), extra = _geometry(x.shape, kernel, stride, pad, dilation, ceil_mode)
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min  # integers: as torch
        xp = _padded(x, pad, extra, lowest)
        kh, kw = kernel
        train = self.needs_input_grad[0] or indices_out is not None
        if _compiled(kernel, stride, x):
            out, argmax = _kernels.max_pool_forward(xp, kernel, stride, dilation, (ho, wo), train)
            if not train:
                return out
            self.compiled = True
            return self._keep(argmax, x, xp, kernel, stride, pad, dilation, indices_out, out)
        read = _offset_reader(xp, kernel, stride, dilation, (ho, wo), _phase_split(kernel, stride))
        out = read(0).copy(order="K")
        if not self.needs_input_grad[0] and indices_out is None:  # inference: the max alone
            for o in range(1, kh * kw):
                np.maximum(out, read(o), out=out)
            return out
        argmax = np.zeros_like(out, dtype=np.uint8 if kh * kw < 256 else np.int32)
        better = np.empty_like(out, dtype=bool)  # reused: fresh pages cost page faults
        step = np.empty_like(argmax)
        for o in range(1, kh * kw):
            view = read(o)
            np.greater(view, out, out=better)  # strict: the first maximum in row-major order wins ties
            np.maximum(out, view, out=out)  # faster than a masked copy; NaN propagates as in torch
            # o only grows, so max(argmax, better·o) records the last strict improvement; a
            # masked copyto(where=) is ~50× slower
            np.maximum(argmax, np.multiply(better, argmax.dtype.type(o), out=step), out=argmax)
        return self._keep(argmax, x, xp, kernel, stride, pad, dilation, indices_out, out)

    def _keep(self, argmax, x, xp, kernel, stride, pad, dilation, indices_out, out):
        self.save_for_backward(argmax)
        self.geometry = (x.shape, xp.shape, kernel, stride, pad, dilation)
        if indices_out is not None:
            indices_out.append(self._flat_indices(argmax, x.shape[3], kernel, stride, pad, dilation))
        return out

    @staticmethod
    def _flat_indices(argmax, width, kernel, stride, pad, dilation):
        """PyTorch's indices: the position h·W + w of each maximum in its (H, W) plane."""
        ho, wo = argmax.shape[2:]
        row0 = (np.arange(ho) * stride[0] - pad[0])[:, None]
        col0 = (np.arange(wo) * stride[1] - pad[1])[None, :]
        i, j = np.divmod(argmax.astype(np.int64), kernel[1])
        return (row0 + i * dilation[0]) * width + col0 + j * dilation[1]

    def backward(self, grad):
        (argmax,) = self.saved
        x_shape, padded_shape, (kh, kw), stride, pad, dilation = self.geometry
        ho, wo = grad.shape[2:]
        if self.compiled:
            gp = _kernels.max_pool_backward(grad, argmax, padded_shape, (kh, kw), stride, dilation)
            if gp.shape == x_shape:
                return gp
            return gp[:, :, pad[0] : pad[0] + x_shape[2], pad[1] : pad[1] + x_shape[3]]
        mask = np.empty_like(argmax, dtype=bool)
        if _phase_split((kh, kw), stride):
            gp = self._scatter_by_phase(grad, argmax, padded_shape, (kh, kw), stride, dilation, mask,
                                        np.empty_like(grad))
        else:
            # windows that tile the input exactly write each offset's view once
            tiled = stride == (kh, kw) and dilation == (1, 1) and padded_shape[2:] == (ho * kh, wo * kw)
            gp = _buffer_like(grad, padded_shape, None if tiled else 0)
            part = None if tiled else np.empty_like(grad)
            for o in range(kh * kw):
                rows, cols = _windows(o // kw, o % kw, dilation, stride, (ho, wo))
                view = gp[:, :, rows, cols]
                np.equal(argmax, o, out=mask)
                if tiled:
                    np.multiply(grad, mask, out=view)
                else:  # a dense multiply + add beats a masked add (`where=`) by ~1.8×
                    view += np.multiply(grad, mask, out=part)
        if gp.shape == x_shape:
            return gp
        return gp[:, :, pad[0] : pad[0] + x_shape[2], pad[1] : pad[1] + x_shape[3]]

    @staticmethod
    def _scatter_by_phase(grad, argmax, padded_shape, kernel, stride, dilation, mask, part):
        """The forward's phase trick in reverse: add into one contiguous buffer per stride
        phase, then interleave the phases into the padded gradient (each element once)."""
        (sh, sw), (n, c, hp, wp) = stride, padded_shape
        gp = _buffer_like(grad, padded_shape, None)
        phases = {(p, q): _buffer_like(grad, (n, c, len(range(p, hp, sh)), len(range(q, wp, sw))), 0)
                  for p in range(sh) for q in range(sw)}
        for o in range(kernel[0] * kernel[1]):
            phase, rows, cols = _phase_slot(o, kernel, stride, dilation, grad.shape[2:])
            view = phases[phase][:, :, rows, cols]
            np.equal(argmax, o, out=mask)
            view += np.multiply(grad, mask, out=part)
        for (p, q), phase in phases.items():
            gp[:, :, p::sh, q::sw] = phase
        return gp


class AvgPool2dOp(Function):
    saves = ((0, None),)
    def forward(self, x, kernel=(2, 2), stride=(2, 2), pad=(0, 0), ceil_mode=False, count_include_pad=True, divisor_override=None):
        one = (1, 1)
        (ho, wo), extra = _geometry(x.shape, kernel, stride, pad, one, ceil_mode)
        xp = _padded(x, pad, extra, 0)
        kh, kw = kernel
        out = None
        for o in range(kh * kw):
            rows, cols = _windows(o // kw, o % kw, one, stride, (ho, wo))
            view = xp[:, :, rows, cols]
            out = view.copy(order="K") if out is None else np.add(out, view, out=out)
        self.divisor = self._divisor(x.shape[2:], (ho, wo), kernel, stride, pad, count_include_pad, divisor_override, x.dtype)
        out /= self.divisor
        self.geometry = (x.shape, xp.shape, kernel, stride, pad)
        return out

    @staticmethod
    def _divisor(size, out_size, kernel, stride, pad, count_include_pad, divisor_override, dtype):
        """PyTorch's per-window divisor, an (H_out, W_out) array."""
        if divisor_override:
            return np.full(out_size, divisor_override, dtype=dtype)
        lengths = []
        for n, o, k, s, p in zip(size, out_size, kernel, stride, pad):
            start = np.arange(o) * s - p
            end = np.minimum(start + k, n + p)  # windows stop at the padded edge
            if not count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, n)
            lengths.append(end - start)
        return (lengths[0][:, None] * lengths[1][None, :]).astype(dtype)

    def backward(self, grad):
        x_shape, padded_shape, (kh, kw), stride, pad = self.geometry
        g = grad / self.divisor
        gp = _buffer_like(grad, padded_shape, 0)
        for o in range(kh * kw):
            rows, cols = _windows(o // kw, o % kw, (1, 1), stride, grad.shape[2:])
            gp[:, :, rows, cols] += g
        if gp.shape == x_shape:
            return gp
        return gp[:, :, pad[0] : pad[0] + x_shape[2], pad[1] : pad[1] + x_shape[3]]


def adaptive_bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's bins: start = ⌊i·size/out⌋, end = ⌈(i+1)·size/out⌉."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


class AdaptiveAvgPool2dOp(Function):
    """Separable: out = A_h · x · A_wᵀ, where row i of A_h averages bin i."""

    def forward(self, x, out_size=(1, 1)):
        self.mats = []
        for size, o in zip(x.shape[2:], out_size):
            start, end = adaptive_bins(size, o)
            pos = np.arange(size)
            inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < end[:, None])
            self.mats.append((inside / (end - start)[:, None]).astype(x.dtype))
        ah, aw = self.mats
        return np.matmul(np.matmul(ah, x), aw.T)

    def backward(self, grad):
        ah, aw = self.mats
        return np.matmul(np.matmul(ah.T, grad), aw)


class AdaptiveMaxPool2dOp(Function):
    """Loops over offsets inside the largest bin; offsets past a bin's end re-read its last
    row/column, which never changes a strict first-maximum scan."""

    def forward(self, x, out_size=(1, 1), indices_out=None):
        n, c, h, w = x.shape
        (sh, eh), (sw, ew) = adaptive_bins(h, out_size[0]), adaptive_bins(w, out_size[1])
        out = flat = None
        for a in range(int((eh - sh).max())):
            rows = np.minimum(sh + a, eh - 1)[:, None]
            for b in range(int((ew - sw).max())):
                cols = np.minimum(sw + b, ew - 1)[None, :]
                view, pos = x[:, :, rows, cols], rows * w + cols
                if out is None:
                    out, flat = view, np.broadcast_to(pos, view.shape).copy()
                    continue
                better = view > out
                np.copyto(out, view, where=better)
                np.copyto(flat, pos, where=better)
        self.x_shape, self.flat = x.shape, flat
        if indices_out is not None:
            indices_out.append(flat.astype(np.int64))
        return out

    def backward(self, grad):
        n, c, h, w = self.x_shape
        planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
        gx = np.bincount((planes + self.flat).ravel(), weights=grad.ravel(), minlength=n * c * h * w)
        return gx.astype(grad.dtype).reshape(self.x_shape)
