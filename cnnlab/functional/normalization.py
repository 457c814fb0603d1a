"""Normalisation layers: ``local_response_norm`` (AlexNet's LRN) and ``batch_norm``."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, from_numpy
from ..autograd.function import Function

_ALPHA_MODES = ("pytorch", "paper")


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


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0,
    *, alpha_mode: str = "pytorch",
) -> Tensor:
    """Local response normalisation across channels (Krizhevsky et al., 2012, §3.3).

    Args:
        input: (N, C, *) with at least 3 dims; normalised across dim 1.
        size: number of neighbouring channels n in the window.
        alpha: multiplicative factor α (default 1e-4).
        beta: exponent β (default 0.75).
        k: additive constant (default 1.0).
        alpha_mode: ``'pytorch'`` (default) uses α/n as PyTorch does; ``'paper'`` uses α
            itself, as the AlexNet paper writes the formula.

    Shape:
        - Input: (N, C, *)
        - Output: (N, C, *), same shape as the input

    Notes:
        b_c = a_c / (k + α' Σ_{c'=c−⌊n/2⌋}^{c+⌊(n−1)/2⌋} a_{c'}²)^β, with channels outside
        0..C−1 counting as zero; α' = α/n for ``'pytorch'`` and α' = α for ``'paper'``.
        The AlexNet paper uses k=2, n=5, α=1e-4, β=0.75 (``alpha_mode='paper'``).

    Example:
        >>> y = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0, alpha_mode="paper")
    """
    if alpha_mode not in _ALPHA_MODES:
        raise ValueError(
            f"local_response_norm: unknown alpha_mode {alpha_mode!r}; valid: {', '.join(map(repr, _ALPHA_MODES))}"
        )
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected input of shape (N, C, *) with at least 3 dims, got {tuple(input.shape)}"
        )
    if int(size) != size or size < 1:
        raise ValueError(f"local_response_norm: `size` must be a positive integer, got {size!r}")
    if input.numel() == 0:
        return input
    alpha_eff = alpha / size if alpha_mode == "pytorch" else alpha
    return LocalResponseNorm.apply(input, size=int(size), alpha=alpha_eff, beta=beta, k=k)


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


def batch_norm(
    input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
    weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
    momentum: float = 0.1, eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation: y = (x − μ) / √(σ² + eps) · γ + β per channel.

    In training, μ and σ² (biased) come from the batch over every dim but dim 1, and the
    running statistics, when given, are updated in place:
    running = (1 − momentum) · running + momentum · batch statistic, using the unbiased
    variance for ``running_var``. Outside training, the running statistics are used.

    Args:
        input: (N, C) or (N, C, L) or (N, C, H, W).
        running_mean, running_var: (C,) tensors, or None (then ``training`` must be True).
        weight, bias: γ and β of shape (C,), or None (1 and 0).
        training: use batch statistics (and update the running ones).
        momentum: factor of the running-average update (default 0.1).
        eps: added to the variance for numerical stability (default 1e-5).

    Shape:
        - Input: (N, C, *)
        - Output: (N, C, *), same shape as the input

    Example:
        >>> rm, rv = cnnlab.zeros(16), cnnlab.ones(16)
        >>> y = F.batch_norm(x, rm, rv, training=True)
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(
                f"batch_norm: expected `{name}` of shape ({channels},) for input of shape "
                f"{tuple(input.shape)}, got {tuple(t.shape)}"
            )
    if training and input.numel() // max(channels, 1) <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of shape {tuple(input.shape)}"
        )
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be given when training=False")
    ones = from_numpy(np.ones(channels, dtype=input.dtype))
    zeros = from_numpy(np.zeros(channels, dtype=input.dtype))
    return BatchNorm.apply(
        input, ones if weight is None else weight, zeros if bias is None else bias,
        running_mean=None if running_mean is None else running_mean.detach().numpy(),
        running_var=None if running_var is None else running_var.detach().numpy(),
        training=bool(training), momentum=momentum, eps=eps,
    )
