"""Group and layer normalisation, composed from differentiable tensor ops.

Both normalise with statistics of each sample (never of the batch), so training and evaluation
compute the same thing:

    y = (x − E[x]) / √(Var[x] + eps) · γ + β,   Var biased (divides by the count)

``group_norm`` takes E and Var over each group of C/G channels and all positions;
``layer_norm`` over the trailing ``normalized_shape`` dims.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import label


def _normalize(x: Tensor, dims: tuple[int, ...], eps: float) -> Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, correction=0)
    return (x - mean) / (var + eps).sqrt()


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He, 2018).

    Args:
        input: (N, C, *).
        num_groups: G, must divide C.
        weight, bias: per-channel γ and β of shape (C,), or None.
        eps: added to the variance (default 1e-5).

    Shape:
        - Output: the input's shape.
    """
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), got {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the {c} channels of input {tuple(input.shape)}")
    per_group = (c // num_groups) * int(np.prod(input.shape[2:], dtype=np.int64))
    grouped = input.reshape(n, num_groups, per_group)  # (not -1: an empty batch leaves it open)
    out = _normalize(grouped, (2,), eps).reshape(input.shape)
    affine = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(affine)
    if bias is not None:
        out = out + bias.reshape(affine)
    return label(out, "NativeGroupNormBackward0", (input, weight, bias))


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Layer normalisation (Ba et al., 2016) over the trailing ``normalized_shape`` dims.

    Args:
        input: (*, *normalized_shape).
        normalized_shape: int or tuple, the trailing dims to normalise over.
        weight, bias: γ and β of shape ``normalized_shape``, or None.
        eps: added to the variance (default 1e-5).
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[-k:]) != shape:
        raise ValueError(
            f"layer_norm: expected input of shape (*, {', '.join(map(str, shape))}), got {tuple(input.shape)}"
        )
    out = _normalize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return label(out, "NativeLayerNormBackward0", (input, weight, bias))
