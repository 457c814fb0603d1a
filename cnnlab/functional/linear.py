"""Fully connected layer and flatten."""

from __future__ import annotations

from .._dtype import torch_name
from .._ops.arithmetic import LinearNoGrad
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.graph import label


def check_same_dtype(op: str, input: Tensor, weight: Tensor, bias: Tensor | None = None) -> None:
    """torch's matrix products take one dtype: no promotion between input and weight."""
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"{op}: mat1 and mat2 must have the same dtype, but got {torch_name(input.dtype)} and "
            f"{torch_name(weight.dtype)} (input {input.dtype}, weight {weight.dtype})"
        )
    if bias is not None and bias.dtype != weight.dtype:
        raise RuntimeError(
            f"{op}: bias must have the weight's dtype, but got {torch_name(bias.dtype)} and "
            f"{torch_name(weight.dtype)}"
        )


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b.

    Args:
        input: (*, in_features).
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Shape:
        - Input: (*, H_in) with H_in = in_features
        - Output: (*, H_out) with H_out = out_features
    """
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: expected input of shape (*, {weight.shape[1]}) for weight of shape "
            f"{tuple(weight.shape)}, got {tuple(input.shape)}"
        )
    check_same_dtype("linear", input, weight, bias)
    if not (is_grad_enabled() and (input.requires_grad or weight.requires_grad
                                   or (bias is not None and bias.requires_grad))):
        # nothing to record: one fused op (same bits) instead of t, matmul and add
        return LinearNoGrad.apply(input, weight) if bias is None else LinearNoGrad.apply(input, weight, bias)
    wt = weight.t()
    out = input @ wt
    if bias is None:
        return out
    out = out + bias
    return label(out, "AddmmBackward0", (bias, input, wt)) if input.ndim == 2 else out


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (``cnnlab.flatten``)."""
    return input.flatten(start_dim, end_dim)
