"""Loss functions with PyTorch's semantics: cross_entropy, nll_loss, mse_loss, l1_loss,
binary_cross_entropy_with_logits.

``cross_entropy`` with class indices is one fused op (log-softmax and the negative
log-likelihood together): one pass, no (N, C) log-probability graph node, and the
gradient is computed directly as softmax − target.

Weighted means follow torch exactly: with class weights w, ``reduction='mean'`` divides
the summed loss by Σ_n w[y_n] over the targets that are not ``ignore_index``.
"""

from __future__ import annotations

import numpy as np

from .._args import loss_reduction
from .._dtype import result_type, torch_name
from .._ops.loss import BCEWithLogits, CrossEntropy, NLLLoss
from ..autograd.graph import label
from .._tensor import Tensor, from_numpy
from .activation import log_softmax

class TargetOutOfRangeError(ValueError, IndexError):
    """A class-index target outside 0..C−1 (an IndexError in torch, a ValueError here)."""


def _check_index_dtype(op: str, target: Tensor) -> None:
    """torch takes class indices as int64 or uint8 only."""
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(
            f"{op}: expected target dtype to be Long or Byte, but got {torch_name(target.dtype)} "
            f"({target.dtype})"
        )


def _check_targets(op: str, input: Tensor, target: Tensor, ignore_index: int) -> np.ndarray:
    """Validate class-index targets; returns them as an int64 array of shape (N, d1, ...)."""
    shape = tuple(input.shape)
    expected = shape[:1] + shape[2:]
    if tuple(target.shape) != expected:
        text = "(N, d1, ...) = " if len(shape) > 2 else "(N,) = "
        raise ValueError(
            f"{op}: expected class-index target of shape {text}{expected} for input of shape {shape}, "
            f"got {tuple(target.shape)}"
        )
    t = target.detach().numpy().astype(np.int64, copy=False)
    classes = shape[1]
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    if bad.any():
        value = int(t[bad].flat[0])
        raise TargetOutOfRangeError(
            f"{op}: target {value} is out of range for {classes} classes; valid targets are "
            f"0..{classes - 1} (or ignore_index={ignore_index})"
        )
    return t


def _check_weight(op: str, weight, classes: int):
    if weight is None:
        return None
    w = weight.detach().numpy() if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (classes,):
        raise ValueError(f"{op}: expected `weight` of shape ({classes},) (one per class), got {tuple(w.shape)}")
    return w


def _flat_unbatched(input: Tensor, target: Tensor):
    """torch accepts one unbatched sample: input (C,) with target () → (1, C) and (1,)."""
    if input.ndim == 1 and target.ndim == 0:
        return input.reshape(1, -1), target.reshape(1), True
    return input, target, False


def _check_input(op: str, input: Tensor) -> None:
    if input.ndim < 1 or input.dtype.kind != "f":
        raise ValueError(
            f"{op}: expected floating-point input of shape (N, C) or (N, C, d1, ...), "
            f"got shape {tuple(input.shape)} and dtype {input.dtype}"
        )


def cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
    ignore_index: int = -100, reduce=None, reduction: str = "mean", label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and targets: log_softmax and NLL in one stable op.

    Args:
        input: unnormalised logits, (N, C), (N, C, d1, ...) or (C,).
        target: class indices (integer) of shape (N,), (N, d1, ...) or (); or class
            probabilities (floating point) with the input's shape.
        weight: rescaling weight per class, shape (C,) (default None).
        size_average, reduce: deprecated, as in torch; use ``reduction``.
        ignore_index: class-index target that contributes neither loss nor gradient (default -100).
        reduction: 'none' | 'mean' | 'sum' (default 'mean').
        label_smoothing: ε in [0, 1]; the target becomes (1 − ε)·onehot + ε/C (default 0).

    Shape:
        - Output: scalar, or (N, d1, ...) with reduction='none'.

    Notes:
        ℓ_n = −(1 − ε) w_{y_n} log p_{n,y_n} − (ε/C) Σ_c w_c log p_{n,c}, with p = softmax(x).
        'mean' divides Σ_n ℓ_n by Σ_n w_{y_n} over the non-ignored samples (by their count
        when weight is None), exactly as torch. With probability targets, 'mean' divides
        by N·d1·... instead.

    Example:
        >>> loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
    """
    op = "cross_entropy"
    _check_input(op, input)
    reduction = loss_reduction(op, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    target = target if isinstance(target, Tensor) else Tensor(target)
    if target.dtype.kind == "f":
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    _check_index_dtype(op, target)
    input, target, unbatched = _flat_unbatched(input, target)
    t = _check_targets(op, input, target, ignore_index)
    w = _check_weight(op, weight, input.shape[1])
    out = CrossEntropy.apply(
        input, target=t, weight=w, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=float(label_smoothing),
    )
    return out.reshape(()) if unbatched and reduction == "none" else out


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"cross_entropy: class-probability targets must have the input's shape {tuple(input.shape)}, "
            f"got {tuple(target.shape)} of dtype {target.dtype} (class-index targets need an integer dtype)"
        )
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    if weight is not None:
        w = _check_weight("cross_entropy", weight, classes)
        shape = [1] * input.ndim
        shape[class_dim] = classes
        logp = logp * from_numpy(w.reshape(shape).astype(input.dtype))
    loss = -(logp * target)
    if reduction == "none":
        return loss.sum(class_dim)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (input.numel() // classes)


def nll_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
    ignore_index: int = -100, reduce=None, reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood loss on log-probabilities (e.g. the output of log_softmax).

    Args:
        input: log-probabilities, (N, C), (N, C, d1, ...) or (C,).
        target: class indices, (N,), (N, d1, ...) or ().
        weight, size_average, ignore_index, reduce, reduction: as ``cross_entropy``.

    Shape:
        - Output: scalar, or (N, d1, ...) with reduction='none'.

    Notes:
        ℓ_n = −w_{y_n} x_{n,y_n}; 'mean' divides Σ ℓ_n by Σ_n w_{y_n} (non-ignored n).

    Example:
        >>> loss = F.nll_loss(F.log_softmax(logits, 1), labels)
    """
    op = "nll_loss"
    _check_input(op, input)
    reduction = loss_reduction(op, reduction, size_average, reduce)
    target = target if isinstance(target, Tensor) else Tensor(target)
    _check_index_dtype(op, target)
    input, target, unbatched = _flat_unbatched(input, target)
    t = _check_targets(op, input, target, ignore_index)
    w = _check_weight(op, weight, input.shape[1])
    out = NLLLoss.apply(input, target=t, weight=w, ignore_index=ignore_index, reduction=reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _pointwise_loss(op, input, target, size_average, reduce, reduction, weight, fn):
    reduction = loss_reduction(op, reduction, size_average, reduce)
    target = target if isinstance(target, Tensor) else from_numpy(np.asarray(target, dtype=input.dtype))
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        raise ValueError(
            f"{op}: target of shape {tuple(target.shape)} does not broadcast with input of shape {tuple(input.shape)}"
        ) from None
    dtype = result_type(input.detach().numpy(), target.detach().numpy())
    if dtype.kind != "f" or (op == "l1_loss" and np.bool_ in (input.dtype, target.dtype)):
        raise RuntimeError(
            f"{op}: cannot compute a loss between input of dtype {torch_name(input.dtype)} "
            f"({input.dtype}) and target of dtype {torch_name(target.dtype)} ({target.dtype}); "
            "needs a floating point result" + (" and no bool operand" if op == "l1_loss" else "")
        )
    loss = fn(input.to(dtype) - target.to(dtype))
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError(
                f"{op}: `weight` must have the input's shape {tuple(input.shape)}, got {tuple(weight.shape)}"
            )
        loss = loss * weight
        if reduction == "mean":
            return loss.sum() / weight.sum()
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error: ℓ_n = (x_n − y_n)², averaged (or summed) over all elements.

    Args:
        input, target: same shape (broadcast otherwise, as torch).
        size_average, reduce: deprecated, as in torch.
        reduction: 'none' | 'mean' | 'sum' (default 'mean').
        weight: per-element weights of the input's shape; 'mean' then divides by Σ weight.

    Shape:
        - Output: scalar, or the input's shape with reduction='none'.

    Example:
        >>> F.mse_loss(cnnlab.tensor([1.0, 2.0]), cnnlab.tensor([0.0, 0.0]))
        tensor(2.5000)
    """
    out = _pointwise_loss("mse_loss", input, target, size_average, reduce, reduction, weight, lambda d: d * d)
    return label(out, "MseLossBackward0", (input, target)) if weight is None else out


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: ℓ_n = |x_n − y_n| (gradient sign(x − y), 0 where equal, as torch).

    Args, Shape: as ``mse_loss``.

    Example:
        >>> F.l1_loss(cnnlab.tensor([1.0, -2.0]), cnnlab.tensor([0.0, 0.0]))
        tensor(1.5000)
    """
    return _pointwise_loss("l1_loss", input, target, size_average, reduce, reduction, weight, abs)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, reduce=None,
    reduction: str = "mean", pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits, sigmoid included, stable for any logit.

    Args:
        input: logits x, any shape.
        target: y in [0, 1], same shape as the input.
        weight: rescales each element's loss; broadcasts to the input's shape (default None).
        size_average, reduce: deprecated, as in torch.
        reduction: 'none' | 'mean' | 'sum' (default 'mean'); 'mean' averages over all elements.
        pos_weight: weight of positive examples, broadcast along the last dim, e.g. shape
            (C,) for multi-label (default None).

    Shape:
        - Output: scalar, or the input's shape with reduction='none'.

    Notes:
        ℓ = −w [p · y · log σ(x) + (1 − y) · log(1 − σ(x))], computed as
        w [(1 − y) x + (1 + (p − 1) y) · softplus(−x)]. Gradients flow to input and target,
        not to ``weight`` or ``pos_weight``.

    Example:
        >>> loss = F.binary_cross_entropy_with_logits(logits, labels.float())
    """
    op = "binary_cross_entropy_with_logits"
    reduction = loss_reduction(op, reduction, size_average, reduce)
    target = target if isinstance(target, Tensor) else from_numpy(np.asarray(target, dtype=input.dtype))
    for name, t in (("input", input), ("target", target)):
        if t.dtype.kind != "f":
            raise RuntimeError(
                f"{op}: expected a floating point {name}, got {torch_name(t.dtype)} ({t.dtype}) "
                f"(input {input.dtype}, target {target.dtype})"
            )
    if target.dtype != input.dtype:  # torch computes in the target's dtype
        input = input.to(target.dtype)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: target size {tuple(target.shape)} must be the same as input size {tuple(input.shape)}"
        )
    arrays = {}
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is None:
            continue
        a = (t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t)).astype(input.dtype, copy=False)
        try:
            np.broadcast_shapes(a.shape, tuple(input.shape))
        except ValueError:
            raise ValueError(
                f"{op}: `{name}` of shape {a.shape} does not broadcast with input of shape {tuple(input.shape)}"
            ) from None
        arrays[name] = a
    loss = BCEWithLogits.apply(input, target, **arrays)
    if reduction != "none":
        loss = loss.sum() if reduction == "sum" else loss.mean()
    return label(loss, "BinaryCrossEntropyWithLogitsBackward0", (input, target))
