"""Gradient clipping: rescale all gradients together by their total norm, or clamp them."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..._tensor import Tensor, from_numpy


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.detach().numpy() for p in parameters if p.grad is not None]


def _norm(a: np.ndarray, norm_type: float) -> float:
    """The ``norm_type``-norm of all elements of ``a``, accumulated in float64."""
    a = np.abs(a.astype(np.float64, copy=False)).ravel()
    if norm_type == math.inf:
        return float(a.max()) if a.size else 0.0
    if norm_type == -math.inf:
        return float(a.min()) if a.size else math.inf
    if norm_type == 0:
        return float(np.count_nonzero(a))
    if norm_type == 2:
        return float(np.sqrt(np.dot(a, a)))
    if norm_type == 1:
        return float(a.sum())
    return float(np.sum(a**norm_type) ** (1.0 / norm_type))


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The norm of the norms of ``tensors`` (as if all were one vector), as a 0-d Tensor.

    Args:
        tensors: Tensors (e.g. gradients) to measure.
        norm_type: p of the p-norm; ``inf`` for the largest absolute value (default 2.0).
        error_if_nonfinite: raise if the total norm is NaN or infinite (default False).
    """
    arrays = [t.detach().numpy() for t in ([tensors] if isinstance(tensors, Tensor) else tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return from_numpy(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*arrays)
    norms = np.array([_norm(a, norm_type) for a in arrays])
    total = np.array(_norm(norms, norm_type), dtype=dtype if dtype.kind == "f" else np.float32)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    return from_numpy(total)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients in place so that their total norm is at most ``max_norm``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm; ``float("inf")`` for the max-norm (default 2.0).
        error_if_nonfinite: raise a RuntimeError when the total norm is NaN or infinite
            (default False: the gradients are scaled by it anyway, as in torch).

    Returns:
        The total norm of the gradients before clipping, a 0-d Tensor.

    Notes:
        Every gradient is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``, as torch does.

    Example:
        >>> loss.backward()
        >>> cnnlab.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    if not isinstance(parameters, Tensor):
        parameters = list(parameters)  # a generator would be used up by the norm
    grads = _grads(parameters)
    total = get_total_norm([from_numpy(g) for g in grads], norm_type, error_if_nonfinite)
    if grads:
        coef = np.minimum(np.float32(max_norm) / (total.numpy() + np.float32(1e-6)), np.float32(1.0))
        for g in grads:
            g *= coef.astype(g.dtype)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element in place to ``[-clip_value, clip_value]``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clamped.
        clip_value: the largest allowed absolute value.

    Example:
        >>> cnnlab.nn.utils.clip_grad_value_(model.parameters(), 0.5)
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
