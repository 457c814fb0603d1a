"""The arithmetic behind one value of one layer, recomputed from the layer's own input.

Each ``*_detail`` function takes a :class:`~cnnlab.explain.inference.LayerRecord` (the layer's
module, the input it received and the output it produced) and a position, and returns plain
numbers (JSON-ready) that show how the value at that position came about. Every detail also
returns ``activation``, the value the model itself produced there, so the page (and the tests)
can show that the recomputation and the model agree.

The recomputation is deliberately independent of the engine's ops: NumPy indexing and float64
sums of the float32 operands, so a wrong engine op would show up as a mismatch here.

Notes:
    Convolution output position (y, x) of channel c reads input rows
    ``y·S_h − P_top + i·D_h`` (i < K_h) and the analogous columns, over the input channels of
    c's group; positions outside the input are padding. The lecture's size formula
    O = (W − K + 2P)/S + 1 uses the effective kernel D·(K − 1) + 1.
"""

from __future__ import annotations

import math

import numpy as np

from .._args import conv_padding, pair as _pair
from .errors import ExplainError

ELEMENTWISE = {
    "ReLU": "max(0, x)",
    "ReLU6": "min(max(0, x), 6)",
    "LeakyReLU": "x if x > 0 else slope·x",
    "ELU": "x if x > 0 else α(eˣ − 1)",
    "Sigmoid": "1 / (1 + e⁻ˣ)",
    "Tanh": "tanh(x)",
    "Dropout": "x (dropout is the identity at inference)",
    "Dropout2d": "x (dropout is the identity at inference)",
    "Identity": "x",
}
POOLS = ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d")


def _int_arg(value, name: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ExplainError(f"`{name}` must be an integer, got {value!r}") from None


def _check_position(rec, channel, y, x) -> tuple[int, ...]:
    """Validate a position against the layer's output shape; returns the index tuple."""
    shape = rec.output.shape
    if len(shape) == 3:
        pos = (_int_arg(channel, "channel"), _int_arg(y, "y"), _int_arg(x, "x"))
        names = ("channel", "y", "x")
    elif len(shape) == 1:
        pos = (_int_arg(channel, "channel"),)
        names = ("channel",)
    else:
        raise ExplainError(f"layer {rec.name} has output shape {list(shape)}; details need (C, H, W) or (N,)")
    for p, s, nm in zip(pos, shape, names):
        if not 0 <= p < s:
            raise ExplainError(
                f"{nm}={p} is out of range for layer {rec.index} ({rec.name}, output shape "
                f"{list(shape)}): valid {nm} is 0..{s - 1}", 404)
    return pos


_NP_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def conv_detail(rec, channel, y, x) -> dict:
    """Window, kernel, products, sums and bias behind output (channel, y, x) of a Conv2d."""
    c, y, x = _check_position(rec, channel, y, x)
    m = rec.module
    w = m.weight.detach().numpy()
    bias = float(m.bias.detach().numpy()[c]) if getattr(m, "bias", None) is not None else 0.0
    kh, kw = w.shape[2:]
    sh, sw = _pair(m.stride)
    dh, dw = _pair(getattr(m, "dilation", 1))
    groups = int(getattr(m, "groups", 1))
    top, bottom, left, right = conv_padding(m.padding, (kh, kw), (sh, sw), (dh, dw), type(m).__name__)
    mode = getattr(m, "padding_mode", "zeros")
    cin_per_group = w.shape[1]
    g = c // (w.shape[0] // groups)
    chans = list(range(g * cin_per_group, (g + 1) * cin_per_group))
    inp = rec.input[chans]
    padded = np.pad(inp, ((0, 0), (top, bottom), (left, right)), mode=_NP_PAD_MODE.get(mode, "constant"))
    rows = y * sh + np.arange(kh) * dh
    cols = x * sw + np.arange(kw) * dw
    window = padded[:, rows[:, None], cols[None, :]].astype(np.float64)
    H, W = inp.shape[1:]
    in_rows, in_cols = rows - top, cols - left
    is_pad = ~(((in_rows >= 0) & (in_rows < H))[:, None] & ((in_cols >= 0) & (in_cols < W))[None, :])
    kernel = w[c].astype(np.float64)
    products = window * kernel
    channel_sums = products.reshape(len(chans), -1).sum(1)
    total = float(channel_sums.sum())
    result = total + bias
    activation = float(rec.output[c, y, x])
    return {
        "kind": "conv", "layer": rec.index, "name": rec.name, "channel": c, "y": y, "x": x,
        "input_channels": chans, "rows": in_rows.tolist(), "cols": in_cols.tolist(),
        "padding_mask": is_pad.tolist(), "windows": window.tolist(), "kernel": kernel.tolist(),
        "products": products.tolist(), "channel_sums": channel_sums.tolist(), "sum": total,
        "bias": bias, "result": result, "activation": activation,
        "stride": [sh, sw], "padding": [top, left], "dilation": [dh, dw], "groups": groups,
        "match": bool(abs(result - activation) <= 1e-4 * (1 + float(np.abs(products).sum()))),
    }


def _pool_window(m, kind, H, W, Ho, Wo, y, x):
    """Row/column index ranges of pooling window (y, x), clipped, plus its divisor for averages."""
    if kind.startswith("Adaptive"):
        r0, r1 = (y * H) // Ho, math.ceil((y + 1) * H / Ho)
        c0, c1 = (x * W) // Wo, math.ceil((x + 1) * W / Wo)
        return np.arange(r0, r1), np.arange(c0, c1), (r1 - r0) * (c1 - c0)
    kh, kw = _pair(m.kernel_size)
    sh, sw = _pair(m.stride if m.stride not in (None, ()) else m.kernel_size)
    ph, pw = _pair(getattr(m, "padding", 0))
    dh, dw = _pair(getattr(m, "dilation", 1))
    rows = y * sh - ph + np.arange(kh) * dh
    cols = x * sw - pw + np.arange(kw) * dw
    # PyTorch's average divisor counts padding cells but not cells past the padded edge.
    full = (min(y * sh - ph + kh, H + ph) - (y * sh - ph)) * (min(x * sw - pw + kw, W + pw) - (x * sw - pw))
    rows, cols = rows[(rows >= 0) & (rows < H)], cols[(cols >= 0) & (cols < W)]
    if getattr(m, "divisor_override", None):
        divisor = int(m.divisor_override)
    elif getattr(m, "count_include_pad", True):
        divisor = full
    else:
        divisor = len(rows) * len(cols)
    return rows, cols, divisor


def pool_detail(rec, channel, y, x) -> dict:
    """The window of a max or average pooling output (channel, y, x), and its max or mean."""
    c, y, x = _check_position(rec, channel, y, x)
    H, W = rec.input.shape[1:]
    Ho, Wo = rec.output.shape[1:]
    rows, cols, divisor = _pool_window(rec.module, rec.kind, H, W, Ho, Wo, y, x)
    window = rec.input[c][rows[:, None], cols[None, :]].astype(np.float64)
    is_max = "Max" in rec.kind
    if is_max:
        flat = int(np.argmax(window))  # the first maximum, as PyTorch picks it
        result, arg = float(window.max()), [int(rows[flat // window.shape[1]]), int(cols[flat % window.shape[1]])]
    else:
        result, arg = float(window.sum() / divisor), None
    activation = float(rec.output[c, y, x])
    return {
        "kind": "pool", "op": "max" if is_max else "average", "layer": rec.index, "name": rec.name,
        "channel": c, "y": y, "x": x, "rows": rows.tolist(), "cols": cols.tolist(),
        "window": window.tolist(), "sum": float(window.sum()), "divisor": divisor, "argmax": arg,
        "result": result, "activation": activation,
        "match": bool(abs(result - activation) <= 1e-5 * (1 + abs(activation))),
    }


def elementwise_detail(rec, channel, y=0, x=0, radius: int = 2) -> dict:
    """Values in and out around one position of an element-wise layer (ReLU, tanh, ...)."""
    pos = _check_position(rec, channel, y, x)
    if rec.input.shape != rec.output.shape:
        raise ExplainError(f"layer {rec.name} changes the shape; it is not element-wise")
    if len(pos) == 3:
        c, yy, xx = pos
        H, W = rec.output.shape[1:]
        r0, r1 = max(0, yy - radius), min(H, yy + radius + 1)
        c0, c1 = max(0, xx - radius), min(W, xx + radius + 1)
        vin, vout = rec.input[c, r0:r1, c0:c1], rec.output[c, r0:r1, c0:c1]
        rows, cols = list(range(r0, r1)), list(range(c0, c1))
    else:
        i = pos[0]
        a, b = max(0, i - radius * radius), min(rec.output.shape[0], i + radius * radius + 1)
        vin, vout = rec.input[None, a:b], rec.output[None, a:b]
        rows, cols = [0], list(range(a, b))
    idx = pos
    return {
        "kind": "elementwise", "op": rec.kind, "formula": ELEMENTWISE.get(rec.kind, rec.kind),
        "layer": rec.index, "name": rec.name, "position": list(idx), "rows": rows, "cols": cols,
        "inputs": vin.astype(np.float64).tolist(), "outputs": vout.astype(np.float64).tolist(),
        "value_in": float(rec.input[idx]), "activation": float(rec.output[idx]),
        "result": float(rec.output[idx]),
    }


def linear_detail(rec, channel, top: int = 12) -> dict:
    """Output unit ``channel`` of a Linear layer: Σ wᵢxᵢ + b with its largest contributions."""
    (j,) = _check_position(rec, channel, 0, 0)
    w = rec.module.weight.detach().numpy()[j].astype(np.float64)
    xin = rec.input.reshape(-1).astype(np.float64)
    products = w * xin
    bias = float(rec.module.bias.detach().numpy()[j]) if getattr(rec.module, "bias", None) is not None else 0.0
    order = np.argsort(-np.abs(products))[:top]
    total = float(products.sum())
    activation = float(rec.output[j])
    return {
        "kind": "linear", "layer": rec.index, "name": rec.name, "channel": j,
        "n_inputs": int(xin.size), "top_inputs": order.tolist(), "top_x": xin[order].tolist(),
        "top_w": w[order].tolist(), "top_products": products[order].tolist(), "sum": total,
        "bias": bias, "result": total + bias, "activation": activation,
        "match": bool(abs(total + bias - activation) <= 1e-4 * (1 + float(np.abs(products).sum()))),
    }


def flatten_detail(rec, channel) -> dict:
    """Where flattened element ``channel`` came from: (c, y, x) = unravel(i, (C, H, W))."""
    (i,) = _check_position(rec, channel, 0, 0)
    src = [int(v) for v in np.unravel_index(i, rec.input.shape)]
    return {
        "kind": "flatten", "layer": rec.index, "name": rec.name, "channel": i, "source": src,
        "in_shape": list(rec.input.shape), "length": int(rec.output.size),
        "formula": " + ".join(
            f"{n}·{int(np.prod(rec.input.shape[k + 1:]))}" if k < rec.input.ndim - 1 else n
            for k, n in enumerate("cyx"[-rec.input.ndim:])),
        "value_in": float(rec.input[tuple(src)]), "activation": float(rec.output[i]),
        "result": float(rec.input[tuple(src)]),
    }


def softmax_detail(trace, classes) -> dict:
    """Logits → exponentials (after subtracting the max) → normalised probabilities."""
    from ..inspect import softmax_steps

    steps = softmax_steps(trace.logits, trace.output_kind)
    return {
        "kind": "softmax", "output_kind": trace.output_kind, "classes": list(classes),
        "logits": steps.logits.tolist(), "max": steps.max, "shifted": steps.shifted.tolist(),
        "exps": steps.exps.tolist(), "sum": steps.sum, "probabilities": steps.probabilities.tolist(),
        "model_probabilities": trace.probabilities.tolist(),
    }


def detail(trace, layer, channel=0, y=0, x=0) -> dict:
    """Dispatch to the detail view of the layer's kind."""
    rec = trace.layer(layer)
    if rec.kind == "Conv2d":
        return conv_detail(rec, channel, y, x)
    if rec.kind in POOLS:
        return pool_detail(rec, channel, y, x)
    if rec.kind == "Linear":
        return linear_detail(rec, channel)
    if rec.kind == "Flatten" or (rec.input.ndim > 1 and rec.output.ndim == 1 and rec.kind != "Linear"):
        return flatten_detail(rec, channel)
    if rec.input.shape == rec.output.shape:
        return elementwise_detail(rec, channel, y, x)
    pos = _check_position(rec, channel, y, x)
    return {"kind": "other", "layer": rec.index, "name": rec.name, "op": rec.kind,
            "activation": float(rec.output[pos]), "result": float(rec.output[pos])}
