"""Normalisation modules: ``LocalResponseNorm``, ``BatchNorm1d`` and ``BatchNorm2d``."""

from __future__ import annotations

import numpy as np

from ... import functional as F
from ..._tensor import from_numpy
from .. import init
from ..parameter import Parameter
from .module import Module


class LocalResponseNorm(Module):
    """Local response normalisation across channels, as in AlexNet.

    b_c = a_c / (k + α' Σ_{c'=c−⌊n/2⌋}^{c+⌊(n−1)/2⌋} a_{c'}²)^β, zero outside the channels.

    Args:
        size: number of neighbouring channels n.
        alpha: α (default 1e-4).
        beta: β (default 0.75).
        k: additive constant (default 1.0).
        alpha_mode: ``'pytorch'`` (default): α' = α/n, PyTorch's formula.
            ``'paper'``: α' = α, the AlexNet paper's formula. ``LocalResponseNorm.alexnet()``
            builds the paper's layer (n=5, k=2, α=1e-4, β=0.75).

    Shape:
        - Input: (N, C, *)
        - Output: (N, C, *), same shape as the input

    Example:
        >>> lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)   # α/5 inside
        >>> paper = nn.LocalResponseNorm.alexnet()                        # α itself inside
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0,
                 *, alpha_mode: str = "pytorch"):
        super().__init__()
        if alpha_mode not in ("pytorch", "paper"):
            raise ValueError(f"LocalResponseNorm: unknown alpha_mode {alpha_mode!r}; valid: 'pytorch', 'paper'")
        if int(size) != size or size < 1:
            raise ValueError(f"LocalResponseNorm: `size` must be a positive integer, got {size!r}")
        self.size, self.alpha, self.beta, self.k = int(size), alpha, beta, k
        self.alpha_mode = alpha_mode

    @classmethod
    def alexnet(cls) -> "LocalResponseNorm":
        """The AlexNet paper's LRN: k=2, n=5, α=1e-4, β=0.75, with α not divided by n."""
        return cls(5, alpha=1e-4, beta=0.75, k=2.0, alpha_mode="paper")

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k, alpha_mode=self.alpha_mode)

    def extra_repr(self) -> str:
        s = f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
        return s + (f", alpha_mode={self.alpha_mode!r}" if self.alpha_mode != "pytorch" else "")


class _BatchNorm(Module):
    _expected_dims: tuple[int, ...] = ()
    _shape_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        if device is not None and not str(device).startswith("cpu"):
            raise ValueError(f"{type(self).__name__}: cnnlab runs on the CPU only, got device {device!r}")
        if int(num_features) != num_features or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive integer, got {num_features!r}")
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(from_numpy(np.ones(num_features, dtype=dt)))
            if bias:
                self.bias = Parameter(from_numpy(np.zeros(num_features, dtype=dt)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", from_numpy(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", from_numpy(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", from_numpy(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.detach().numpy()[...] = 0
            self.running_var.detach().numpy()[...] = 1
            self.num_batches_tracked.detach().numpy()[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in self._expected_dims or input.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input of shape {self._shape_text.format(C=self.num_features)}, "
                f"got {tuple(input.shape)}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            tracked = self.num_batches_tracked.detach().numpy()
            tracked += 1
            if self.momentum is None:  # cumulative moving average over all batches seen
                factor = 1.0 / float(tracked)
        # Batch statistics in training, and in eval too when no running statistics exist.
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input, self.running_mean if track else None, self.running_var if track else None,
            self.weight, self.bias, use_batch, factor, self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over a (N, C) or (N, C, L) batch (Ioffe & Szegedy, 2015).

    y = (x − E[x]) / √(Var[x] + eps) · γ + β, per channel; statistics over N (and L).

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: running-average factor (default 0.1); None gives a cumulative average.
        affine: learn γ (``weight``, init 1) and β (``bias``, init 0) (default True).
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` buffers and use them in eval mode (default True).
        device, dtype: ``'cpu'`` only; dtype of parameters and buffers (default float32).
        bias: keyword-only; with ``affine``, learn β too (default True), as torch 2.13.

    Shape:
        - Input: (N, C) or (N, C, L)
        - Output: same shape as the input

    Example:
        >>> bn = nn.BatchNorm1d(64)
        >>> bn(cnnlab.randn(32, 64)).shape
        cnnlab.Size([32, 64])
    """

    _expected_dims = (2, 3)
    _shape_text = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over a (N, C, H, W) batch; statistics per channel over N, H, W.

    y = (x − E[x]) / √(Var[x] + eps) · γ + β. Arguments as ``BatchNorm1d``.

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H, W), same shape as the input

    Example:
        >>> bn = nn.BatchNorm2d(16)
        >>> bn(cnnlab.randn(8, 16, 12, 12)).shape
        cnnlab.Size([8, 16, 12, 12])
    """

    _expected_dims = (4,)
    _shape_text = "(N, {C}, H, W)"
