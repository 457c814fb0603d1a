"""Per-layer rows of a model summary: shapes, parameters with their formula, MACs, receptive field.

``build_rows`` runs the model once on a batch of one sample with ``cnnlab.inspect.trace``
(every leaf module's call, under ``no_grad`` and in eval mode) and turns each call into a
``LayerRow``.
Counting rules live here; rendering lives in ``render.py``.

Notes:
    MAC convention (1 MAC = 1 multiply + 1 add):
    conv: output elements × (C_in/groups · k_h · k_w); linear: output elements × in_features
    (the bias is the accumulator's start value, so it adds no MAC);
    pooling: output elements × window area (one compare or add per element read);
    adaptive pooling: output elements × largest window; LRN: output elements × size
    (the sum of squares; the power and division are not counted);
    BatchNorm (inference): 1 per element (scale and shift); activations: 1 per element;
    dropout (identity at inference), flatten, identity: 0.

    Receptive field r and jump j (distance in input pixels between adjacent outputs) follow
    r_out = r_in + (K_eff − 1)·j_in and j_out = j_in·S, starting from r = j = 1 at the input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .sizing import conv_output_size

_ACTIVATIONS = {
    "ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SELU", "SiLU", "Sigmoid", "Tanh", "Softmax",
    "LogSoftmax", "Hardtanh", "Softplus", "PReLU", "Mish", "Hardswish",
}
_ZERO_COST = {"Dropout", "Dropout2d", "Dropout1d", "AlphaDropout", "Flatten", "Identity", "Unflatten"}
_POOLS = {"MaxPool2d", "AvgPool2d", "MaxPool1d", "AvgPool1d", "LPPool2d"}
_ADAPTIVE = {"AdaptiveAvgPool2d", "AdaptiveMaxPool2d"}
_NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm", "InstanceNorm2d"}


@dataclass
class LayerRow:
    """One row of the summary (one call of a leaf module, or the input).

    Attributes:
        name: dotted module path (``features.0``), ``input`` for the input row.
        kind: class name (``Conv2d``).
        category: conv | fc | pool | norm | act | other | input — used for the shares.
        layer: the layer with its hyper-parameters (``Conv2d 3→96 f=11 s=4 p=0``).
        shape: output shape of one sample, PyTorch layout (C, H, W) or (features,).
        size: elements in ``shape``.
        params: parameters owned by the module (0 on later calls of a shared module).
        formula: how ``params`` is counted (``11·11·3·96 + 96``).
        macs: multiply-accumulates for one sample (convention in the module docstring).
        rf: receptive field (h, w) in input pixels, or None once flattened (the whole input).
        jump: effective stride (h, w) in input pixels, or None once flattened.
    """

    name: str
    kind: str
    category: str
    layer: str
    shape: tuple
    size: int
    params: int
    formula: str
    macs: int
    rf: tuple | None
    jump: tuple | None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["shape"] = list(self.shape)
        d["rf"] = None if self.rf is None else list(self.rf)
        d["jump"] = None if self.jump is None else list(self.jump)
        return d


def _pair(v) -> tuple[int, int]:
    return tuple(int(x) for x in v) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _kind(m) -> str:
    return type(m).__name__


def _category(m) -> str:
    names = {c.__name__ for c in type(m).__mro__}
    if names & {"Conv1d", "Conv2d", "Conv3d", "_ConvNd"}:
        return "conv"
    if "Linear" in names:
        return "fc"
    if names & (_POOLS | _ADAPTIVE):
        return "pool"
    if names & (_NORMS | {"LocalResponseNorm"}):
        return "norm"
    if names & _ACTIVATIONS:
        return "act"
    return "other"


def _layer_text(m, category: str) -> str:
    k = _kind(m)
    if category == "conv":
        kh, kw = _pair(m.kernel_size)
        sh, sw = _pair(m.stride)
        pad = m.padding if isinstance(m.padding, str) else _pair(m.padding)
        f = f"{kh}" if kh == kw else f"{kh}x{kw}"
        s = f"{sh}" if sh == sw else f"{sh}x{sw}"
        p = pad if isinstance(pad, str) else (f"{pad[0]}" if pad[0] == pad[1] else f"{pad[0]}x{pad[1]}")
        extra = ""
        if _pair(getattr(m, "dilation", 1)) != (1, 1):
            extra += f" d={_pair(m.dilation)[0]}"
        if getattr(m, "groups", 1) != 1:
            extra += f" g={m.groups}"
        return f"{k} {m.in_channels}→{m.out_channels} f={f} s={s} p={p}{extra}"
    if category == "fc":
        return f"{k} {m.in_features}→{m.out_features}"
    if k in _POOLS or any(c.__name__ in _POOLS for c in type(m).__mro__):
        kh, kw = _pair(m.kernel_size)
        sh, sw = _pair(m.stride if m.stride is not None else m.kernel_size)
        ph, pw = _pair(getattr(m, "padding", 0))
        txt = f"{k} f={kh if kh == kw else f'{kh}x{kw}'} s={sh if sh == sw else f'{sh}x{sw}'}"
        if (ph, pw) != (0, 0):
            txt += f" p={ph if ph == pw else f'{ph}x{pw}'}"
        if getattr(m, "ceil_mode", False):
            txt += " ceil"
        return txt
    if k in _ADAPTIVE:
        return f"{k} → {m.output_size}"
    if k == "LocalResponseNorm":
        return f"{k} size={m.size}"
    if k.startswith("Dropout"):
        return f"{k} p={m.p}"
    return k


def _param_formula(m, category: str) -> tuple[int, str]:
    params = [p for p in m._parameters.values() if p is not None]
    count = sum(int(np.prod(p.shape)) for p in params)
    if not params:
        return 0, ""
    bias = getattr(m, "bias", None)
    bias_txt = f" + {bias.shape[0]}" if bias is not None and category in ("conv", "fc") else ""
    if category == "conv" and m.weight.ndim == 4:
        cout, cin_g, kh, kw = m.weight.shape
        return count, f"{kh}·{kw}·{cin_g}·{cout}{bias_txt}"
    if category == "fc":
        out_f, in_f = m.weight.shape
        return count, f"{in_f}·{out_f}{bias_txt}"
    return count, " + ".join("·".join(str(d) for d in p.shape) or "1" for p in params)


def _adaptive_window(n_in: int, n_out: int) -> int:
    # PyTorch's adaptive windows: [floor(i·n_in/n_out), ceil((i+1)·n_in/n_out)).
    return max(-(-(i + 1) * n_in // n_out) - (i * n_in // n_out) for i in range(n_out))


def _macs(m, category: str, in_shape: tuple, out_shape: tuple) -> int:
    k = _kind(m)
    out_n = math.prod(out_shape)
    if category == "conv":
        kh, kw = _pair(m.kernel_size)
        return out_n * (m.in_channels // m.groups) * kh * kw
    if category == "fc":
        return out_n * m.in_features
    if k in _ADAPTIVE:
        return out_n * math.prod(_adaptive_window(a, b) for a, b in zip(in_shape[-2:], out_shape[-2:]))
    if category == "pool":
        return out_n * math.prod(_pair(m.kernel_size))
    if k == "LocalResponseNorm":
        return out_n * int(m.size)
    if category in ("norm", "act"):
        return out_n
    return 0


def _window(m, category: str, in_shape: tuple, out_shape: tuple):
    """(K_eff, S) per spatial dim for layers that move a window, else None."""
    k = _kind(m)
    if category == "conv":
        d = _pair(getattr(m, "dilation", 1))
        ks = _pair(m.kernel_size)
        return tuple(di * (ki - 1) + 1 for di, ki in zip(d, ks)), _pair(m.stride)
    if k in _ADAPTIVE:
        ins, outs = in_shape[-2:], out_shape[-2:]
        return (tuple(_adaptive_window(a, b) for a, b in zip(ins, outs)), tuple(max(a // b, 1) for a, b in zip(ins, outs)))
    if category == "pool":
        d = _pair(getattr(m, "dilation", 1))
        ks = _pair(m.kernel_size)
        s = _pair(m.stride if m.stride is not None else m.kernel_size)
        return tuple(di * (ki - 1) + 1 for di, ki in zip(d, ks)), s
    return None


def _receptive(m, category, in_shape, out_shape, rf, jump):
    if rf is None or len(in_shape) != 3 or len(out_shape) != 3:
        return None, None  # flat features: every output sees the whole input
    win = _window(m, category, in_shape, out_shape)
    if win is not None:
        keff, s = win
        return tuple(r + (k - 1) * j for r, k, j in zip(rf, keff, jump)), tuple(j * si for j, si in zip(jump, s))
    if out_shape[-2:] != in_shape[-2:]:
        return None, None  # an unknown layer changed the map size: no honest value to give
    return rf, jump


def _shape_forward(m, category: str):
    """A forward that returns zeros of the right shape (shape inference, no arithmetic)."""
    from .._creation import zeros

    def forward(x):
        n, c, h, w = x.shape
        kh, kw = _pair(m.kernel_size)
        sh, sw = _pair(m.stride if m.stride is not None else m.kernel_size)
        ph, pw = _pair(m.padding)
        dh, dw = _pair(getattr(m, "dilation", 1))
        ceil = bool(getattr(m, "ceil_mode", False))
        pool = category == "pool"
        oh = conv_output_size(h, kh, ph, sh, dh, ceil, pool=pool)
        ow = conv_output_size(w, kw, pw, sw, dw, ceil, pool=pool)
        if category == "conv" and c != m.in_channels:
            raise ValueError(f"{m!r}: expected input of shape (N, {m.in_channels}, H, W), got {tuple(x.shape)}")
        return zeros(n, m.out_channels if category == "conv" else c, oh, ow, dtype=x.dtype)

    return forward


def build_rows(model, input_shape: tuple, dtype=None, method: str = "forward") -> list[LayerRow]:
    """Run ``model`` on one zero sample of ``input_shape`` and return the summary rows.

    Args:
        model: a cnnlab ``nn.Module``.
        input_shape: one sample's shape, (C, H, W) or (features,).
        dtype: input dtype (default: the model's first parameter's dtype, else float32).
        method: "forward" computes every layer; "shapes" replaces convolutions and
            (non-adaptive) pools by shape inference, for speed on large inputs.

    Returns:
        The input row followed by one row per leaf-module call, in execution order.
    """
    from .._creation import zeros
    from ..inspect import trace

    if method not in ("forward", "shapes"):
        raise ValueError(f"summary: `method` must be 'forward' or 'shapes', got {method!r}")
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else None
    x = zeros(1, *input_shape, dtype=dtype)
    patched = []
    try:
        if method == "shapes":
            for m in model.modules():
                cat = _category(m)
                recorded = not any(True for _ in m.children()) or any(True for _ in m.parameters(recurse=False))
                if recorded and (cat == "conv" or (cat == "pool" and _kind(m) not in _ADAPTIVE)) \
                        and hasattr(m, "kernel_size") and len(_pair(m.kernel_size)) == 2:
                    object.__setattr__(m, "forward", _shape_forward(m, cat))
                    patched.append(m)
        calls = trace(model, x).layers
    finally:
        for m in patched:
            object.__delattr__(m, "forward")

    start = _input_row(input_shape)
    rows = [start]
    seen_params: set[int] = set()
    for call in calls:
        m = call.module
        cat = _category(m)
        in_shape = tuple(call.input.shape[1:]) if call.input is not None else ()
        out_shape = tuple(call.output.shape[1:])
        # the receptive field of the tensor this call read: the model input's, the producing
        # layer's, or (after an op between modules) the previous row's
        src = call.input_from
        prev = start if src == -1 else rows[src + 1] if src is not None else rows[-1]
        rf, jump = _receptive(m, cat, in_shape, out_shape, prev.rf, prev.jump)
        count, formula = _param_formula(m, cat)
        if id(m) in seen_params:  # a shared module's parameters are counted once
            count, formula = 0, ("shared with an earlier call" if formula else "")
        seen_params.add(id(m))
        rows.append(LayerRow(
            name=call.name, kind=_kind(m), category=cat, layer=_layer_text(m, cat), shape=out_shape,
            size=math.prod(out_shape), params=count, formula=formula,
            macs=_macs(m, cat, in_shape, out_shape), rf=rf, jump=jump,
        ))
    return rows


def _input_row(input_shape) -> LayerRow:
    spatial = len(input_shape) == 3
    return LayerRow("input", "Input", "input", "Input", tuple(input_shape), math.prod(input_shape), 0, "", 0,
                    (1, 1) if spatial else None, (1, 1) if spatial else None)
