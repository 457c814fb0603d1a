"""From a model's output to class probabilities: the one softmax outside the engine.

Every viewer (predict, the shift test, the explainer) turns outputs into probabilities here,
with the engine's own ``cnnlab.functional.softmax`` in float64, so they all agree to the bit.
A model may already end in ``Softmax`` or ``LogSoftmax``; ``output_kind`` says which, and
:func:`probabilities` then passes the values through or exponentiates them.

Example:
    >>> p = probabilities(np.array([[2.0, 1.0, 0.1]]))
    >>> top_k(p[0], 2)
    [(0, 0.659...), (1, 0.242...)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTPUT_KINDS = ("logits", "log-probabilities", "probabilities")


def output_kind_of(last_layer_kind: str) -> str:
    """The kind of a model's output from its last layer's class name."""
    return {"Softmax": "probabilities", "LogSoftmax": "log-probabilities"}.get(last_layer_kind, "logits")


def _check_kind(kind: str) -> None:
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(OUTPUT_KINDS)}, got {kind!r}")


def probabilities(logits, kind: str = "logits") -> np.ndarray:
    """Class probabilities in float64 along the last axis.

    Args:
        logits: the model's output, an array or Tensor of shape (..., classes).
        kind: "logits" (softmax, default), "log-probabilities" (exp) or "probabilities"
            (returned as float64 unchanged).

    Returns:
        float64 array of the same shape, each row summing to 1 (for logits).
    """
    import cnnlab
    import cnnlab.functional as F

    _check_kind(kind)
    z = np.array(logits.detach().numpy() if isinstance(logits, cnnlab.Tensor) else logits, dtype=np.float64)
    if kind == "probabilities":
        return z
    t = cnnlab.from_numpy(z)
    return (t.exp() if kind == "log-probabilities" else F.softmax(t, dim=-1)).numpy()


def top_k(probs, k: int) -> list[tuple[int, float]]:
    """The ``k`` most probable classes of one sample, best first, as ``(index, probability)``.

    Ties keep the lower index first; ``k`` is clipped to 1..classes.
    """
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    k = max(1, min(int(k), p.size))
    order = np.argsort(-p, kind="stable")[:k]
    return [(int(i), float(p[i])) for i in order]


@dataclass
class SoftmaxSteps:
    """The arithmetic of one softmax, step by step (for a view that shows how it was done)."""

    logits: np.ndarray
    max: float
    shifted: np.ndarray
    exps: np.ndarray
    sum: float
    probabilities: np.ndarray


def softmax_steps(output, kind: str = "logits") -> SoftmaxSteps:
    """Logits → minus their max → exponentials → divided by their sum, for one sample.

    For a model that outputs probabilities, their logarithms serve as the logits (the same
    softmax results); log-probabilities are logits already.
    """
    import cnnlab

    _check_kind(kind)
    logits = np.asarray(output, dtype=np.float64).reshape(-1)
    if kind == "probabilities":
        logits = np.log(np.maximum(logits, 1e-300))
    m = float(logits.max())
    shifted = logits - m
    exps = cnnlab.from_numpy(shifted).exp().numpy()
    total = float(exps.sum())
    return SoftmaxSteps(logits, m, shifted, exps, total, exps / total)
