"""``pad`` with PyTorch's argument order and modes."""

from __future__ import annotations

from .._ops.padding import PAD_MODES, Pad
from .._tensor import Tensor


def pad(input: Tensor, pad: tuple[int, ...], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims of ``input``.

    Args:
        input: tensor to pad.
        pad: (left, right[, top, bottom[, front, back]]) — pairs start from the last dim.
        mode: 'constant', 'reflect', 'replicate' or 'circular'.
        value: fill value for 'constant' (default 0).

    Shape:
        each padded dim grows from D to D + before + after.

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
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding is not supported, got {pad}")
    if mode != "constant":
        if value not in (None, 0):
            raise ValueError(f"pad: value= applies only to mode 'constant', got mode {mode!r}")
        for i in range(len(pad) // 2):
            size = input.shape[input.ndim - 1 - i]
            lo, hi = pad[2 * i], pad[2 * i + 1]
            limit = size - 1 if mode == "reflect" else size
            if mode != "replicate" and (lo > limit or hi > limit):
                raise ValueError(
                    f"pad: {mode} padding ({lo}, {hi}) is too large for a dimension of size {size} "
                    f"(at most {limit})"
                )
    return Pad.apply(input, pad=pad, mode=mode, value=0.0 if value is None else value)
