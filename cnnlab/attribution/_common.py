"""What every attribution method shares: the model held still, the input and target checked,
and the gradient of the target's logit with respect to a batch of inputs.

Design note: an attribution is a question asked of a trained model, so it must not change
the model. ``frozen`` puts every module in eval mode and stops parameters from requiring a
gradient for the duration (which also skips the work of their gradients), then puts back
each module's mode, each parameter's ``requires_grad`` and ``.grad`` exactly as they were.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, from_numpy
from ..autograd.grad_mode import enable_grad, no_grad
from ..inspect.trace import evaluating

# rows of (perturbed or scaled) inputs sent through the model at once: the per-row work is
# independent in eval mode, so the chunking changes memory, never the numbers
ROWS_PER_PASS = 256


def frozen(model):
    """Run ``model`` in eval mode with no parameter gradient; restore everything afterwards
    (``cnnlab.inspect``'s context, with the parameters frozen)."""
    return evaluating(model, freeze_parameters=True)


def as_batch(x, name: str = "x") -> np.ndarray:
    """A float array of shape (N, C, H, W) from a Tensor or array (never the caller's buffer)."""
    a = x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)
    if a.ndim != 4:
        raise ValueError(f"`{name}`: expected a batch of images of shape (N, C, H, W), got shape {a.shape}")
    if a.dtype.kind != "f":
        raise ValueError(f"`{name}`: expected floating-point values, got dtype {a.dtype}")
    return np.array(a, copy=True)


def as_targets(target, n: int, num_classes: int) -> np.ndarray:
    """``target`` (an int, or one class index per sample) as an int array of length ``n``."""
    t = target.detach().numpy() if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu" or t.ndim > 1:
        raise ValueError(f"`target`: expected an int or one class index per sample, got {target!r}")
    t = np.broadcast_to(t, (n,)) if t.ndim == 0 else t
    if t.shape != (n,):
        raise ValueError(f"`target`: expected {n} class indices (one per sample), got {t.shape[0]}")
    bad = t[(t < 0) | (t >= num_classes)]
    if bad.size:
        raise ValueError(f"`target`: expected class indices in 0..{num_classes - 1}, got {int(bad[0])}")
    return t.astype(np.int64)


def logits(model, x: np.ndarray) -> np.ndarray:
    """The model's outputs (N, K) without a graph, checked to be a classifier's scores."""
    with no_grad():
        out = model(from_numpy(x)).numpy()
    if out.ndim != 2:
        raise ValueError(f"attribution needs a classifier with outputs of shape (N, classes); "
                         f"{type(model).__name__} gave shape {out.shape}")
    return out


def target_scores(model, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The target's logit for each row of ``x``, in passes of at most ``ROWS_PER_PASS`` rows."""
    out = np.empty(len(x), dtype=np.result_type(x.dtype, np.float32))
    for lo in range(0, len(x), ROWS_PER_PASS):
        rows = logits(model, x[lo:lo + ROWS_PER_PASS])
        out[lo:lo + ROWS_PER_PASS] = rows[np.arange(len(rows)), target[lo:lo + ROWS_PER_PASS]]
    return out


def input_gradients(model, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """∂ logit_target / ∂ x for every row of ``x`` (one target per row), batched.

    The model must already be ``frozen``. The rows are independent, so the gradient of the
    sum of the selected logits is each row's own gradient.
    """
    grads = np.empty_like(x)
    for lo in range(0, len(x), ROWS_PER_PASS):
        rows = from_numpy(np.array(x[lo:lo + ROWS_PER_PASS])).requires_grad_()
        with enable_grad():
            out = model(rows)
            onehot = np.zeros(out.shape, dtype=out.dtype)
            onehot[np.arange(len(onehot)), target[lo:lo + ROWS_PER_PASS]] = 1
            out.backward(from_numpy(onehot))
        grads[lo:lo + ROWS_PER_PASS] = rows.grad.numpy()
    return grads


def prepare(model, x, target):
    """``(x array, targets, logits of x)`` after checking all three."""
    a = as_batch(x)
    out = logits(model, a)
    return a, as_targets(target, len(a), out.shape[1]), out


def result(array: np.ndarray) -> Tensor:
    """The one place an attribution array becomes the returned Tensor (no grad)."""
    return from_numpy(np.ascontiguousarray(array))
