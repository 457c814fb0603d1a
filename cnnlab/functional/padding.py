"""``pad`` with PyTorch's argument order and modes."""

from __future__ import annotations

from .._ops.padding import PAD_MODES, Pad
from .._tensor import Tensor


def pad(input: Tensor, pad: tuple[int, ...], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims of ``input``.

    Args:
        input: tensor to pad.
        pad: (left, right[, top, bottom[, front, back]]) — pairs start from the last dim. A
            negative width crops that side instead (circular mode crops first, then wraps
            around what is left).
        mode: 'constant', 'reflect', 'replicate' or 'circular'.
        value: fill value for 'constant' (default 0).

    Shape:
        each padded dim goes from D to D + before + after.

    Example:
        >>> F.pad(x, (1, 1, 2, 2))     # pads W by 1 and H by 2 on each side
    """
    if mode not in PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; valid modes are {', '.join(PAD_MODES)}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: padding {pad} must have an even length of at most 2 × {input.ndim} (the input's "
            f"dims, shape {tuple(input.shape)})"
        )
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: value= applies only to mode 'constant', got mode {mode!r}")
    for i in range(len(pad) // 2):
        size = input.shape[input.ndim - 1 - i]
        lo, hi = pad[2 * i], pad[2 * i + 1]
        _check_widths(mode, size, lo, hi, input.ndim - 1 - i)
    return Pad.apply(input, pad=pad, mode=mode, value=0.0 if value is None else value)


def _check_widths(mode: str, size: int, lo: int, hi: int, dim: int) -> None:
    """PyTorch's limits on one dimension's widths: what is left must not be negative (empty
    is refused by reflect and replicate), reflect pads by less than the size, circular wraps
    at most once around what is left after cropping."""
    out = size + lo + hi
    if out < 0 or (out == 0 and mode in ("reflect", "replicate")):
        raise ValueError(
            f"pad: padding ({lo}, {hi}) of dim {dim} (size {size}) leaves a size of {out}; "
            f"mode {mode!r} needs at least {1 if mode in ('reflect', 'replicate') else 0}"
        )
    if mode == "reflect" and (lo >= size or hi >= size):
        raise ValueError(
            f"pad: reflect padding ({lo}, {hi}) is too large for dim {dim} of size {size} "
            f"(at most {size - 1})"
        )
    if mode == "circular":
        kept = size - max(-lo, 0) - max(-hi, 0)
        if lo > kept or hi > kept:
            raise ValueError(
                f"pad: circular padding ({lo}, {hi}) wraps more than once around dim {dim} "
                f"(size {kept} after cropping)"
            )
