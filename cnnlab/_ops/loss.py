"""Loss ops (forward and backward): fused cross-entropy, NLL, BCE with logits.

``CrossEntropy`` on class indices is one fused op (log-softmax and the negative
log-likelihood together): one pass, no (N, C) log-probability graph node, and the gradient
is computed directly as softmax − target. ``cnnlab.functional.loss`` checks the arguments,
targets and weights, and builds the losses made of other ops (MSE, L1, probability targets).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def class_last(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) → (N·d1·..., C); (N, C) stays a view."""
    return x if x.ndim == 2 else np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def class_back(g2: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of ``class_last``."""
    if len(shape) == 2:
        return g2
    moved = (shape[0],) + shape[2:] + (shape[1],)
    return np.ascontiguousarray(np.moveaxis(g2.reshape(moved), -1, 1))


class CrossEntropy(Function):
    """Fused log_softmax + nll_loss (+ label smoothing) on class-index targets."""

    def forward(self, x, target=None, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        x2 = class_last(x)
        rows, classes = x2.shape
        t = target.reshape(-1)
        valid = t != ignore_index
        tc = np.where(valid, t, 0)
        shifted = x2 - x2.max(axis=1, keepdims=True)  # stable for large logits
        e = np.exp(shifted)
        sum_e = e.sum(axis=1, keepdims=True)
        logp = shifted - np.log(sum_e)
        dt = x.dtype.type
        w_row = (weight[tc].astype(x.dtype) if weight is not None else np.ones(rows, x.dtype)) * valid
        picked = np.take_along_axis(logp, tc[:, None], axis=1)[:, 0]
        eps = dt(label_smoothing)
        loss = -w_row * picked
        if eps:
            wsum_c = (logp * weight.astype(x.dtype)).sum(axis=1) if weight is not None else logp.sum(axis=1)
            smooth = -wsum_c * valid
            loss = (1 - eps) * loss + (eps / dt(classes)) * smooth
        total_weight = w_row.sum()
        self.save_for_backward(e / sum_e, tc, valid, w_row)
        self.shape, self.weight, self.eps, self.reduction = x.shape, weight, eps, reduction
        self.total_weight = total_weight
        if reduction == "none":
            return loss.reshape(target.shape)
        if reduction == "sum":
            return np.asarray(loss.sum(), dtype=x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as torch
            return np.asarray(loss.sum() / total_weight, dtype=x.dtype)

    def backward(self, grad):
        p, tc, valid, w_row = self.saved
        rows, classes = p.shape
        dt = p.dtype.type
        if self.reduction == "none":
            s = grad.reshape(-1).astype(p.dtype, copy=False)
        elif self.reduction == "sum":
            s = np.full(rows, grad, dtype=p.dtype)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                s = np.full(rows, grad / self.total_weight, dtype=p.dtype)
        # d loss_i / d logits_i = p_i · Σ_c(coef) − coef, with coef the target distribution
        # (1 − ε) w_i onehot(t_i) + ε/C · valid_i · weight.
        eps = self.eps
        hard = (1 - eps) * w_row * s
        if eps:
            wvec = self.weight.astype(p.dtype) if self.weight is not None else np.ones(classes, p.dtype)
            soft = (eps / dt(classes)) * valid * s
            g = p * (hard + soft * wvec.sum())[:, None] - soft[:, None] * wvec[None, :]
        else:
            g = p * hard[:, None]
        g[np.arange(rows), tc] -= hard
        return class_back(g, self.shape)


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities picked at the target classes."""

    def forward(self, x, target=None, weight=None, ignore_index=-100, reduction="mean"):
        x2 = class_last(x)
        rows = x2.shape[0]
        t = target.reshape(-1)
        valid = t != ignore_index
        tc = np.where(valid, t, 0)
        w_row = (weight[tc].astype(x.dtype) if weight is not None else np.ones(rows, x.dtype)) * valid
        loss = -w_row * x2[np.arange(rows), tc]
        self.save_for_backward(tc, w_row)
        self.shape, self.x2shape, self.reduction, self.dtype = x.shape, x2.shape, reduction, x.dtype
        self.total_weight = w_row.sum()
        if reduction == "none":
            return loss.reshape(target.shape)
        if reduction == "sum":
            return np.asarray(loss.sum(), dtype=x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(loss.sum() / self.total_weight, dtype=x.dtype)

    def backward(self, grad):
        tc, w_row = self.saved
        rows = tc.shape[0]
        if self.reduction == "none":
            s = grad.reshape(-1)
        elif self.reduction == "sum":
            s = np.full(rows, grad, dtype=self.dtype)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                s = np.full(rows, grad / self.total_weight, dtype=self.dtype)
        g = np.zeros(self.x2shape, dtype=self.dtype)
        g[np.arange(rows), tc] = -w_row * s
        return class_back(g, self.shape)


class BCEWithLogits(Function):
    """Element-wise ℓ = w · [(1 − y) x + (1 + (p − 1) y) · softplus(−x)]."""

    def forward(self, x, y, weight=None, pos_weight=None):
        # softplus(−x) = log(1 + e^−x) = max(−x, 0) + log1p(e^−|x|): no overflow for any x.
        sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
        coef = 1 + (pos_weight - 1) * y if pos_weight is not None else None
        loss = (1 - y) * x + (coef * sp if coef is not None else sp)
        if weight is not None:
            loss = loss * weight
        self.save_for_backward(x, y, sp, coef)
        self.weight, self.pos_weight = weight, pos_weight
        return loss.astype(x.dtype, copy=False)

    def backward(self, grad):
        x, y, sp, coef = self.saved
        g = grad * self.weight if self.weight is not None else grad
        gx = gy = None
        if self.needs_input_grad[0]:
            sig = np.exp(-sp)  # σ(x) = e^{−softplus(−x)}, accurate at both tails
            # d/dx [(1 − y) x + L softplus(−x)] = (1 − y) + L (σ − 1) = L σ − p y (L = 1 + (p − 1) y)
            gx = g * (coef * sig - self.pos_weight * y if coef is not None else sig - y)
            gx = _unbroadcast(gx.astype(x.dtype, copy=False), x.shape)
        if self.needs_input_grad[1]:
            dy = -x + ((self.pos_weight - 1) * sp if self.pos_weight is not None else 0)
            gy = _unbroadcast((g * dy).astype(y.dtype, copy=False), y.shape)
        return gx, gy


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g
