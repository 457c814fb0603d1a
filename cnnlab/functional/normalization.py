"""Normalisation layers: ``local_response_norm`` (AlexNet's LRN) and ``batch_norm``."""

from __future__ import annotations

import numpy as np

from .._ops.normalization import BatchNorm, LocalResponseNorm
from .._dtype import require_float, torch_name
from .._tensor import Tensor, from_numpy

_ALPHA_MODES = ("pytorch", "paper")


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
    if input.dtype.kind != "f":
        return _local_response_norm_int(input, int(size), alpha_eff, beta, k)
    return LocalResponseNorm.apply(input, size=int(size), alpha=alpha_eff, beta=beta, k=k)


def _local_response_norm_int(input: Tensor, size: int, alpha: float, beta: float, k: float) -> Tensor:
    """LRN of an int64 input as torch computes it: the window average of the squares in
    integer arithmetic (C's truncating division), then (k + α·n·avg)^β in float32 (``alpha``
    is α' = α/n here) and the input divided by it, a float32 result. torch has no kernel for other integer dtypes."""
    if input.dtype != np.int64:
        raise RuntimeError(
            f"local_response_norm: not implemented for {torch_name(input.dtype)} ({input.dtype}) "
            "input; needs float32, float64 or int64"
        )
    x = input.detach().numpy()
    squares = np.pad(x * x, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    window = sum(squares[:, i : i + x.shape[1]] for i in range(size))
    average = (window // size).astype(np.float32)
    scale = (average * np.float32(alpha * size) + np.float32(k)) ** np.float32(beta)
    return from_numpy(x.astype(np.float32) / scale)


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
    if input.ndim < 2 and input.shape != (0,):  # torch reads an empty 1-D input as 0 channels
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1] if input.ndim >= 2 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(
                f"batch_norm: expected `{name}` of shape ({channels},) for input of shape "
                f"{tuple(input.shape)}, got {tuple(t.shape)}"
            )
    require_float("batch_norm", input.detach().numpy())
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.dtype != input.dtype:  # torch's CPU kernel: one dtype for all
            raise RuntimeError(
                f"batch_norm: mixed dtype: input is {torch_name(input.dtype)} ({input.dtype}) but "
                f"`{name}` is {torch_name(t.dtype)} ({t.dtype}); all inputs must share one dtype"
            )
    if input.numel() == 0:  # as torch: an empty batch gives an empty output, statistics unchanged
        shape = (1, channels) + (1,) * (input.ndim - 2) if input.ndim >= 2 else (0,)
        out = input * (1.0 if weight is None else weight.reshape(shape))
        return out if bias is None else out + bias.reshape(shape)
    if training and input.numel() // max(channels, 1) == 1:
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
