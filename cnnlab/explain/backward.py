"""The explainer's Backward view: gradients of a loss, ∂L/∂W of a conv kernel, one SGD step.

The loss is the cross-entropy of the model's output for one input against a chosen class
(the page offers the true label of a test sample, else the predicted class). Everything here
stands on :func:`cnnlab.inspect.trace` with ``grads=True``: the per-layer gradients shown are
autograd's. What the page explains is recomputed independently in float64 NumPy:

* ``∂L/∂W[c]`` of a conv kernel as the sum over output positions (y, x) of the input window
  under the kernel at (y, x) times the output gradient ``G[c, y, x]``; the page shows the terms
  of one position and the total, with autograd's value beside it;
* one SGD step, ``w ← w − lr·∂L/∂w`` for every parameter, taken on a copy of the model (the
  served model never changes), with the loss before and after.

Notes:
    For a Conv2d with stride S, dilation D and (top, left) padding P the window of output
    (y, x) reads input rows ``y·S_h − P_top + i·D_h`` (i < K_h) and the analogous columns, so
    ``∂L/∂W[c, k, i, j] = Σ_{y,x} X_pad[k, y·S_h + i·D_h, x·S_w + j·D_w] · G[c, y, x]``
    (a correlation of the input with the output gradient) and ``∂L/∂b[c] = Σ_{y,x} G[c, y, x]``.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .._args import conv_padding, pair as _pair
from .details import _NP_PAD_MODE, _int_arg
from .errors import ExplainError

MAX_LR = 100.0


@dataclass
class LayerGrads:
    """One executed layer (the same index as the forward trace's columns) and its gradients."""

    index: int
    name: str
    kind: str
    module: object
    input: np.ndarray          # what the layer received (no batch dimension)
    output_grad: np.ndarray    # ∂L/∂output
    param_grads: dict          # ∂L/∂parameter by name


@dataclass
class Gradients:
    """One backward pass: the loss, ∂L/∂input and every layer's gradients."""

    target: int
    loss: float
    input_grad: np.ndarray
    layers: list[LayerGrads]


def loss_of(output, target: int, output_kind: str):
    """Cross-entropy of a (1, K) output against class ``target``, whatever the output is."""
    import cnnlab
    import cnnlab.nn.functional as F

    y = cnnlab.from_numpy(np.array([target], dtype=np.int64))
    if output_kind == "log-probabilities":
        return F.nll_loss(output, y)
    if output_kind == "probabilities":
        return F.nll_loss(output.log(), y)
    return F.cross_entropy(output, y)


def check_target(target, n_classes: int) -> int:
    k = _int_arg(target, "target")
    if not 0 <= k < n_classes:
        raise ExplainError(f"`target` must be a class index in 0..{n_classes - 1}, got {k}")
    return k


def check_lr(lr) -> float:
    try:
        if isinstance(lr, bool):
            raise ValueError
        value = float(lr)
    except (TypeError, ValueError):
        raise ExplainError(f"`lr` must be a number, got {lr!r:.40}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_LR:
        raise ExplainError(f"`lr` must be a finite number in (0, {MAX_LR:g}], got {lr!r:.40}")
    return value


class BackwardCache:
    """The last few backward passes, keyed by (input_id, target); computed under the engine's lock
    because ``trace`` attaches hooks to the shared model."""

    def __init__(self, engine, size: int = 8):
        self.engine, self.size = engine, size
        self._cache: OrderedDict[tuple, Gradients] = OrderedDict()

    def get(self, trace, target: int) -> Gradients:
        key = (trace.input_id, target)
        with self.engine._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            grads = _backward(self.engine.model, trace.input, target, trace.output_kind)
            self._cache[key] = grads
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
            return grads


def _backward(model, x: np.ndarray, target: int, output_kind: str) -> Gradients:
    from ..inspect import trace

    losses = []

    def objective(out):
        loss = loss_of(out, target, output_kind)
        losses.append(float(loss.detach().numpy()))
        return loss

    try:
        t = trace(model, x[None], grads=True, target=objective)
    except Exception as e:  # a model that cannot take this input is a client-visible error
        raise ExplainError(f"the backward pass failed on this input: {type(e).__name__}: {e}", 422) from None
    calls = [layer for layer in t.leaves() if layer.input is not None]
    layers = [LayerGrads(i, c.unique_name, c.kind, c.module, c.input[0], c.output_grad[0],
                         dict(c.param_grads)) for i, c in enumerate(calls)]
    return Gradients(target, losses[0], t.input_grad[0], layers)


def gradients_json(g: Gradients, encode) -> dict:
    """The loss, ∂L/∂input and every layer's ∂L/∂output (arrays through ``encode``)."""
    return {
        "target": g.target, "loss": g.loss, "objective": "cross-entropy", "input_grad": encode(g.input_grad),
        "layers": [{"index": r.index, "name": r.name, "kind": r.kind, "shape": list(r.output_grad.shape),
                    "grad": encode(r.output_grad),
                    "param_grad_norms": {k: float(np.linalg.norm(v)) for k, v in r.param_grads.items()}}
                   for r in g.layers],
    }


def _conv_layer(grads: Gradients, layer) -> LayerGrads:
    li = _int_arg(layer, "layer")
    if not 0 <= li < len(grads.layers):
        raise ExplainError(f"layer {li} is out of range: the model has layers 0..{len(grads.layers) - 1}", 404)
    rec = grads.layers[li]
    if rec.kind != "Conv2d":
        convs = [g.index for g in grads.layers if g.kind == "Conv2d"]
        raise ExplainError(f"layer {li} ({rec.name}) is a {rec.kind}; ∂L/∂W of a kernel is shown for the "
                           f"Conv2d layers {convs}", 404)
    return rec


def conv_windows(rec: LayerGrads, channel: int) -> tuple[np.ndarray, list[int]]:
    """Every input window output channel ``channel`` reads: float64 (C_in/groups, K_h, K_w, H_o, W_o)."""
    m = rec.module
    w = m.weight.detach().numpy()
    kh, kw = w.shape[2:]
    sh, sw = _pair(m.stride)
    dh, dw = _pair(getattr(m, "dilation", 1))
    groups = int(getattr(m, "groups", 1))
    top, bottom, left, right = conv_padding(m.padding, (kh, kw), (sh, sw), (dh, dw), type(m).__name__)
    cin = w.shape[1]
    g = channel // (w.shape[0] // groups)
    chans = list(range(g * cin, (g + 1) * cin))
    mode = _NP_PAD_MODE.get(getattr(m, "padding_mode", "zeros"), "constant")
    padded = np.pad(rec.input[chans].astype(np.float64), ((0, 0), (top, bottom), (left, right)), mode=mode)
    Ho, Wo = rec.output_grad.shape[1:]
    out = np.empty((cin, kh, kw, Ho, Wo))
    for i in range(kh):          # a loop over kernel offsets; each is one strided slice
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            out[:, i, j] = padded[:, r0:r0 + (Ho - 1) * sh + 1:sh, c0:c0 + (Wo - 1) * sw + 1:sw]
    return out, chans


def kernel_gradient(grads: Gradients, layer, channel, y=None, x=None) -> dict:
    """∂L/∂W[channel] of a conv layer as Σ over positions of window × output gradient.

    ``y, x`` choose the position whose term is shown (default: the largest |G|).
    """
    rec = _conv_layer(grads, layer)
    n_out = rec.output_grad.shape[0]
    c = _int_arg(channel, "channel")
    if not 0 <= c < n_out:
        raise ExplainError(f"`channel` must be in 0..{n_out - 1} for layer {rec.index} ({rec.name}), got {c}")
    G = rec.output_grad[c].astype(np.float64)
    Ho, Wo = G.shape
    if y is None and x is None:
        y, x = (int(v) for v in np.unravel_index(int(np.argmax(np.abs(G))), G.shape))
    else:
        y, x = _int_arg(y if y is not None else 0, "y"), _int_arg(x if x is not None else 0, "x")
        if not (0 <= y < Ho and 0 <= x < Wo):
            raise ExplainError(f"position (y={y}, x={x}) is outside layer {rec.index} ({rec.name})'s "
                               f"{Ho}×{Wo} output gradient")
    windows, chans = conv_windows(rec, c)
    total = np.einsum("kijyx,yx->kij", windows, G)
    autograd = rec.param_grads["weight"][c].astype(np.float64)
    bias_auto = rec.param_grads.get("bias")
    window = windows[:, :, :, y, x]
    scale = 1.0 + float(np.abs(windows * G).sum())
    return {
        "layer": rec.index, "name": rec.name, "channel": c, "input_channels": chans,
        "y": y, "x": x, "positions": Ho * Wo, "nonzero_positions": int(np.count_nonzero(G)),
        "out_grad": G.tolist(), "g": float(G[y, x]), "window": window.tolist(), "term": (window * G[y, x]).tolist(),
        "total": total.tolist(), "autograd": autograd.tolist(),
        "bias_total": float(G.sum()), "bias_autograd": None if bias_auto is None else float(bias_auto[c]),
        "max_abs_difference": float(np.abs(total - autograd).max()),
        "match": bool(np.abs(total - autograd).max() <= 1e-4 * scale),
        "loss": grads.loss, "target": grads.target,
    }


def sgd_step(engine, grads: Gradients, x: np.ndarray, output_kind: str, layer, channel, lr) -> dict:
    """One SGD step on every parameter of a copy of the model; the kernel ``channel`` of conv
    ``layer`` before and after, and the loss before and after."""
    import cnnlab
    from ..optim import SGD

    rec = _conv_layer(grads, layer)
    n_out = rec.output_grad.shape[0]
    c = _int_arg(channel, "channel")
    if not 0 <= c < n_out:
        raise ExplainError(f"`channel` must be in 0..{n_out - 1} for layer {rec.index} ({rec.name}), got {c}")
    lr = check_lr(lr)
    with engine._lock:
        model = copy.deepcopy(engine.model)
    # the copy's parameter standing where the served layer's weight stands
    names = {id(p): n for n, p in engine.model.named_parameters()}
    key = names[id(rec.module.weight)]
    weight = dict(model.named_parameters())[key]
    model.eval()
    xt = cnnlab.from_numpy(np.ascontiguousarray(x[None], dtype=np.float32))
    for p in model.parameters():
        p.requires_grad_(True)
        p.grad = None
    out = model(xt)
    loss = loss_of(out, grads.target, output_kind)
    loss.backward()
    w_before = weight.detach().numpy()[c].astype(np.float64)
    grad = weight.grad.numpy()[c].astype(np.float64)
    SGD(model.parameters(), lr=lr).step()
    with cnnlab.no_grad():
        out_after = model(xt)
        loss_after = loss_of(out_after, grads.target, output_kind)
    w_after = weight.detach().numpy()[c].astype(np.float64)
    return {
        "layer": rec.index, "name": rec.name, "channel": c, "lr": lr, "target": grads.target,
        "w": w_before.tolist(), "grad": grad.tolist(), "new_w": w_after.tolist(),
        "loss_before": float(loss.detach().numpy()), "loss_after": float(loss_after.numpy()),
        "output_before": out.detach().numpy()[0].astype(float).tolist(),
        "output_after": out_after.numpy()[0].astype(float).tolist(),
        "parameters_stepped": sum(int(np.prod(p.shape)) for p in model.parameters()),
    }
