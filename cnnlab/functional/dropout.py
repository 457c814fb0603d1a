"""Inverted dropout: ``dropout`` (single units) and ``dropout2d`` (whole channels).

During training each unit (or each channel of each sample) is kept with probability
1 − p and the kept values are scaled by 1 / (1 − p), so the expected output equals the
input and nothing needs rescaling at test time. Outside training the input is returned
unchanged. Masks are drawn from ``cnnlab.random.default_generator()``, so
``cnnlab.manual_seed`` makes them reproducible.
"""

from __future__ import annotations

import numpy as np

from .._ops.dropout import MaskedScale
from .._tensor import Tensor
from ..random import default_generator


def _check_p(p: float, op: str) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> np.ndarray:
    if p == 1.0:  # torch returns zeros (and zero gradients) instead of dividing by 0
        return np.zeros(shape, dtype=dtype)
    draws = default_generator().random(shape, dtype=np.float32 if dtype == np.float32 else np.float64)
    keep = draws >= p  # P(keep) = 1 - p
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p).

    Args:
        input: any shape, floating point.
        p: probability of an element being zeroed (default 0.5), 0 ≤ p ≤ 1.
        training: apply dropout only if True (default True); otherwise return ``input``.
        inplace: accepted for PyTorch compatibility; cnnlab never modifies the input.

    Shape:
        - Input: (*)
        - Output: (*), same shape as the input

    Notes:
        y = x · m / (1 − p) with m ~ Bernoulli(1 − p) i.i.d. per element, so E[y] = x.

    Example:
        >>> y = F.dropout(cnnlab.ones(4, 5), p=0.2)   # kept entries equal 1.25
    """
    p = _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    return MaskedScale.apply(input, mask=_mask(input.shape, p, input.dtype))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels: each (sample, channel) plane is dropped with probability ``p``.

    Adjacent pixels of a feature map are strongly correlated, so dropping single pixels
    barely regularises a CNN; dropping entire feature maps does (Tompson et al., 2015).

    Args:
        input: (N, C, H, W) or (N, C, L) (3-D input is treated as (N, C, L), as in torch).
        p: probability of a channel being zeroed (default 0.5).
        training: apply dropout only if True (default True).
        inplace: accepted for PyTorch compatibility; ignored.

    Shape:
        - Input: (N, C, H, W) or (N, C, L)
        - Output: same shape as the input

    Example:
        >>> y = F.dropout2d(cnnlab.ones(2, 3, 4, 4), p=0.5)   # each 4×4 plane is all 0 or all 2
    """
    p = _check_p(p, "dropout2d")
    if input.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected input of shape (N, C, H, W) or (N, C, L), got {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return MaskedScale.apply(input, mask=_mask(mask_shape, p, input.dtype))
