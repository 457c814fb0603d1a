"""The output-size calculator: O = (W − K + 2P)/S + 1, with dilation and ceil mode.

``conv_output_size`` gives the number PyTorch gives (floor division, or PyTorch's ceil-mode
rule for pooling); ``explain_output_size`` also says, in a sentence, when the stride does not
divide ``W − K + 2P`` and which input rows/columns PyTorch leaves out. ``layer_flow`` runs
the compact stack syntax of ``cnnlab size --layers`` (``conv16k5,pool2,flatten,fc64``).

Notes:
    With dilation d the kernel covers K_eff = d·(K − 1) + 1 input pixels, so
    O = floor((W + 2P − K_eff) / S) + 1.
    In ceil mode (pooling) the division rounds up, but a last window that would start in the
    right padding is dropped: if (O − 1)·S ≥ W + P then O −= 1 (PyTorch's rule).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .._args import window_output_size

__all__ = ["OutputSize", "conv_output_size", "explain_output_size", "layer_flow", "parse_layers", "format_shape"]


@dataclass(frozen=True)
class OutputSize:
    """The result of ``explain_output_size``: the size PyTorch computes and why.

    Attributes:
        size: the output length PyTorch produces.
        exact: True when S divides (W + 2P − K_eff), i.e. no input pixel is left out.
        cropped: input rows/columns (of the padded input) no window reaches (floor mode).
        explanation: the arithmetic and, when not exact, what PyTorch crops, in words.
    """

    size: int
    exact: bool
    cropped: int
    explanation: str

    def __int__(self) -> int:
        return self.size

    def __str__(self) -> str:
        return self.explanation


def _check_int(name: str, value, minimum: int, why: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
        isinstance(value, float) and value.is_integer()
    ):
        raise ValueError(f"output size: `{name}` must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"output size: `{name}` must be ≥ {minimum} ({why}), got {value}")
    return value


def explain_output_size(W, K, P=0, S=1, dilation=1, ceil_mode=False, pool=False) -> OutputSize:
    """Output length of a convolution or pooling window along one axis, with the reasoning.

    Args:
        W: input length (height or width).
        K: kernel size.
        P: zero padding on each side (default 0).
        S: stride (default 1).
        dilation: spacing between kernel taps (default 1).
        ceil_mode: round up as ``MaxPool2d(ceil_mode=True)`` does (default False).
        pool: apply pooling's extra rule P ≤ K//2 (default False; implied by ceil_mode).

    Returns:
        An ``OutputSize`` with ``size`` and a sentence ``explanation``.

    Raises:
        ValueError: for negative or zero sizes, or a kernel larger than the padded input,
            with a sentence saying why the setting cannot work.

    Example:
        >>> explain_output_size(227, 11, 0, 4).size
        55
    """
    W = _check_int("W (input size)", W, 1, "an input needs at least one pixel")
    K = _check_int("K (kernel size)", K, 1, "a kernel covers at least one pixel")
    P = _check_int("P (padding)", P, 0, "padding adds zeros; a negative amount is not padding")
    S = _check_int("S (stride)", S, 1, "the window must move forward by at least one pixel")
    d = _check_int("dilation", dilation, 1, "dilation 1 means adjacent taps; 0 would stack every tap on one pixel")
    k_eff = d * (K - 1) + 1
    padded = W + 2 * P
    keff_txt = f"K_eff = {d}·({K} − 1) + 1 = {k_eff}, " if d != 1 else ""
    pool = pool or ceil_mode
    if pool and P > K // 2:
        raise ValueError(
            f"output size: padding P = {P} is more than half the kernel K = {K}; PyTorch's pooling rejects "
            f"it (P ≤ K//2 = {K // 2}) because a window could then lie entirely in the padding and see no input"
        )
    # Ceil mode may keep one window that starts inside the input but overhangs it.
    fits = k_eff <= padded or (ceil_mode and (padded - k_eff + S - 1) // S >= 0)
    if not fits:
        raise ValueError(
            f"output size: the kernel covers {k_eff} pixels{f' ({keff_txt[:-2]})' if d != 1 else ''} but the padded input "
            f"is only W + 2P = {W} + 2·{P} = {padded} wide, so not even one window fits; "
            f"use a smaller kernel or dilation, or more padding"
        )
    span = padded - k_eff
    floor_size = window_output_size(W, K, S, P, d)  # the engine's formula, one for all
    rem = span % S
    size = floor_size
    head = f"O = (W − K + 2P)/S + 1 = ({W} − {k_eff} + 2·{P})/{S} + 1"
    if d != 1:
        head = f"{keff_txt}" + head.replace("(W − K", "(W − K_eff")
    if rem == 0:
        text = f"{head} = {span}/{S} + 1 = {size}: the stride divides {span} exactly, every pixel is used."
        return OutputSize(size, True, 0, text)
    exact_val = span / S + 1
    if not ceil_mode:
        text = (
            f"{head} = {exact_val:g} is not an integer: W − K + 2P = {span} is not divisible by S = {S} "
            f"(remainder {rem}). PyTorch rounds down to O = {size}; the last {rem} row(s)/column(s) of the "
            f"padded input (bottom/right) are never covered by a window, i.e. they are cropped."
        )
        return OutputSize(size, False, rem, text)
    size = window_output_size(W, K, S, P, d, ceil_mode=True)
    dropped = ""
    if size < -(-span // S) + 1:
        dropped = " but the last window would start in the right padding, so PyTorch drops it:"
    text = (
        f"{head} = {exact_val:g} is not an integer: {span} is not divisible by S = {S} (remainder {rem}). "
        f"ceil_mode rounds up to {-(-span // S) + 1}{dropped or ':'} O = {size}"
        + ("; the last window hangs over the edge and pools only the pixels that exist." if size > floor_size else ".")
    )
    return OutputSize(size, False, 0 if size > floor_size else rem, text)


def conv_output_size(W, K, P=0, S=1, dilation=1, ceil_mode=False, explain=False, pool=False):
    """O = (W − K + 2P)/S + 1, rounded as PyTorch does; ``explain=True`` returns an OutputSize.

    Args:
        W: input length. K: kernel size. P: padding (default 0). S: stride (default 1).
        dilation: kernel dilation (default 1). ceil_mode: pooling's round-up rule (default False).
        explain: return ``OutputSize`` (size + sentence) instead of the int (default False).
        pool: check pooling's rule P ≤ K//2 as well (default False; implied by ceil_mode).

    Example:
        >>> cnnlab.conv_output_size(32, 5)
        28
        >>> print(cnnlab.conv_output_size(7, 3, P=1, S=3, explain=True))
        O = (W − K + 2P)/S + 1 = (7 − 3 + 2·1)/3 + 1 = 6/3 + 1 = 3: the stride divides 6 exactly, every pixel is used.
    """
    result = explain_output_size(W, K, P, S, dilation, ceil_mode, pool)
    return result if explain else result.size


# ------------------------------------------------------------------ stack syntax
_TOKEN_HELP = (
    "conv<C>k<K>[s<S>][p<P>][d<D>] (e.g. conv96k11s4), pool<K>[s<S>][p<P>] or maxpool/avgpool "
    "(stride defaults to K), adapt<N> (adaptive pool to N×N), flatten, fc<N>, and shape-keeping "
    "relu, tanh, sigmoid, lrn, bn, dropout"
)
_CONV = re.compile(r"^conv(\d+)k(\d+)(?:s(\d+))?(?:p(\d+))?(?:d(\d+))?$")
_POOL = re.compile(r"^(?:max|avg)?pool(\d+)(?:s(\d+))?(?:p(\d+))?(c)?$")
_ADAPT = re.compile(r"^adapt(\d+)$")
_FC = re.compile(r"^(?:fc|linear)(\d+)$")
_KEEP = {"relu", "tanh", "sigmoid", "lrn", "bn", "dropout", "softmax"}


def parse_layers(spec: str) -> list[tuple[str, dict]]:
    """Parse ``"conv16k5,pool2,flatten,fc64"`` into ``[(kind, params), ...]``.

    Raises:
        ValueError: for an unknown token, naming it and listing the valid forms.
    """
    out = []
    for raw in spec.replace(" ", "").split(","):
        tok = raw.lower()
        if not tok:
            continue
        if m := _CONV.match(tok):
            c, k, s, p, d = m.groups()
            out.append(("conv", dict(out=int(c), K=int(k), S=int(s or 1), P=int(p or 0), dilation=int(d or 1))))
        elif m := _POOL.match(tok):
            k, s, p, c = m.groups()
            out.append(("pool", dict(K=int(k), S=int(s or k), P=int(p or 0), ceil_mode=bool(c))))
        elif m := _ADAPT.match(tok):
            out.append(("adapt", dict(out=int(m.group(1)))))
        elif m := _FC.match(tok):
            out.append(("fc", dict(out=int(m.group(1)))))
        elif tok == "flatten":
            out.append(("flatten", {}))
        elif tok in _KEEP:
            out.append((tok, {}))
        else:
            raise ValueError(f"layer stack: unknown layer {raw!r}; valid forms: {_TOKEN_HELP}")
    if not out:
        raise ValueError(f"layer stack: no layers given; valid forms: {_TOKEN_HELP}")
    for i, (kind, params) in enumerate(out, 1):
        if params.get("out", 1) < 1 or params.get("K", 1) < 1 or params.get("S", 1) < 1 or params.get("dilation", 1) < 1:
            raise ValueError(f"layer stack: layer {i} ({kind}): sizes, kernel, stride and dilation must be at "
                             f"least 1, got {params}")
    return out


def format_shape(shape, sep: str = "×") -> str:
    """(16, 24, 24) → '16×24×24'; (384,) → '384'."""
    return sep.join(str(int(s)) for s in shape)


def layer_flow(input_shape, layers) -> list[tuple[str, tuple[int, ...], str]]:
    """Shapes through a layer stack, PyTorch's layout (C, H, W) then (features,).

    Args:
        input_shape: (C, H, W) or (features,).
        layers: a stack string (see ``parse_layers``) or its parsed list.

    Returns:
        ``[(token, shape, note), ...]`` starting with ``("input", input_shape, "")``.

    Example:
        >>> [format_shape(s) for _, s, _ in layer_flow((1, 28, 28), "conv16k5,pool2")]
        ['1×28×28', '16×24×24', '16×12×12']
    """
    if isinstance(layers, str):
        layers = parse_layers(layers)
    shape = tuple(int(s) for s in input_shape)
    flow = [("input", shape, "")]
    for i, (kind, p) in enumerate(layers, 1):
        where = f"layer {i} ({kind})"
        if kind in ("conv", "pool", "adapt") and len(shape) != 3:
            raise ValueError(f"layer stack: {where} needs a C×H×W input, got {format_shape(shape)}")
        try:
            if kind == "conv":
                h, w = (conv_output_size(x, p["K"], p["P"], p["S"], p["dilation"]) for x in shape[1:])
                k_eff = p["dilation"] * (p["K"] - 1) + 1
                note = f"({shape[1]} − {k_eff} + 2·{p['P']})/{p['S']} + 1 = {h}"
                shape = (p["out"], h, w)
            elif kind == "pool":
                h, w = (conv_output_size(x, p["K"], p["P"], p["S"], ceil_mode=p["ceil_mode"], pool=True) for x in shape[1:])
                note = f"({shape[1]} − {p['K']} + 2·{p['P']})/{p['S']} + 1 = {h}"
                shape = (shape[0], h, w)
            elif kind == "adapt":
                shape, note = (shape[0], p["out"], p["out"]), "adaptive"
            elif kind == "flatten":
                n = math.prod(shape)
                note, shape = f"{format_shape(shape)} = {n}", (n,)
            elif kind == "fc":
                if len(shape) != 1:
                    raise ValueError(f"layer stack: {where} needs a flat input (add `flatten`), got {format_shape(shape)}")
                note, shape = f"{shape[0]} → {p['out']}", (p["out"],)
            else:
                note = "same shape"
        except ValueError as e:
            raise ValueError(f"layer stack: {where}: {str(e).removeprefix('output size: ')}") from None
        flow.append((kind, shape, note))
    return flow
