"""Normalisation ops (forward and backward): local response norm (AlexNet's LRN), batch norm.

``cnnlab.functional.normalization`` checks the arguments and calls these.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """out[:, c] = Σ a[:, c'] for c' in [c − before, c + after], zero outside the channels.

    A loop over the window's offsets (a handful) instead of a cumulative sum, which
    would lose float32 precision by subtracting large running totals.
    """
    out = a.copy()
    channels = a.shape[1]
    for d in range(1, before + 1):
        if d < channels:
            out[:, d:] += a[:, : channels - d]
    for d in range(1, after + 1):
        if d < channels:
            out[:, : channels - d] += a[:, d:]
    return out


class LocalResponseNorm(Function):
    def forward(self, x, size=5, alpha=1e-4, beta=0.75, k=1.0):
        # Window of channel c: [c - size//2, c + (size-1)//2], as torch's padded avg pool.
        self.before, self.after = size // 2, (size - 1) // 2
        t = x.dtype.type
        scale = t(k) + t(alpha) * _channel_window_sum(x * x, self.before, self.after)
        denom = np.power(scale, t(beta))
        out = x / denom
        self.save_for_backward(x, scale, denom, out)
        self.alpha, self.beta = t(alpha), t(beta)
        return out

    def backward(self, grad):
        x, scale, denom, out = self.saved
        # y_i = x_i s_i^-β with s_i = k + α Σ_{j∈W(i)} x_j², so
        # ∂L/∂x_j = g_j s_j^-β − 2αβ x_j Σ_{i: j∈W(i)} g_i y_i / s_i  (the window transposed).
        gy_over_s = grad * out / scale
        back = _channel_window_sum(gy_over_s, self.after, self.before)
        return grad / denom - (2 * self.alpha * self.beta) * x * back


class BatchNorm(Function):
    """Batch normalisation over every axis but the channel axis 1."""

    def forward(self, x, weight, bias, running_mean=None, running_var=None, training=False,
                momentum=0.1, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        t = x.dtype.type
        if training:
            n = x.size // x.shape[1]
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = np.mean(centered * centered, axis=axes, keepdims=True)  # biased, to normalise
            if running_mean is not None:
                m = running_mean.dtype.type(momentum)
                running_mean *= 1 - m
                running_mean += m * mean.reshape(-1)
            if running_var is not None:
                m = running_var.dtype.type(momentum)
                running_var *= 1 - m  # the running estimate uses the unbiased variance, as torch
                running_var += m * var.reshape(-1) * (n / (n - 1))
        else:
            # Eval: a per-channel affine map, y = x·scale + shift, in two passes over x.
            mean = running_mean.reshape(shape).astype(x.dtype, copy=False)
            invstd = 1 / np.sqrt(running_var.reshape(shape).astype(x.dtype, copy=False) + t(eps))
            scale = weight.reshape(shape) * invstd
            self.save_for_backward(x, mean, invstd, weight)
            self.training, self.axes, self.shape = False, axes, shape
            out = x * scale
            out += bias.reshape(shape) - mean * scale
            return out
        invstd = 1 / np.sqrt(var + t(eps))
        xhat = centered * invstd
        self.save_for_backward(xhat, invstd, weight)
        self.training, self.axes, self.shape = training, axes, shape
        return xhat * weight.reshape(shape) + bias.reshape(shape)

    def backward(self, grad):
        axes, shape = self.axes, self.shape
        if not self.training:
            x, mean, invstd, weight = self.saved
            gx = grad * (weight.reshape(shape) * invstd) if self.needs_input_grad[0] else None
            gweight = ((grad * (x - mean)).sum(axis=axes) * invstd.reshape(-1)) if self.needs_input_grad[1] else None
            gbias = grad.sum(axis=axes) if self.needs_input_grad[2] else None
            return gx, gweight, gbias
        xhat, invstd, weight = self.saved
        gbias = grad.sum(axis=axes)
        gweight = (grad * xhat).sum(axis=axes)
        gx = None
        if self.needs_input_grad[0]:
            # The batch statistics depend on x: subtract the mean gradient and its
            # projection on x̂ (d/dx of (x − μ)/σ with μ, σ from the same batch).
            n = xhat.dtype.type(grad.size // grad.shape[1])
            gx = (weight.reshape(shape) * invstd) * (grad - (gbias.reshape(shape) + xhat * gweight.reshape(shape)) / n)
        return gx, gweight, gbias
