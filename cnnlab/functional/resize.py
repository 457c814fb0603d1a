"""``interpolate``: resize a batch of images (nearest or bilinear), as ``F.interpolate``."""

from __future__ import annotations

import math

from .._ops.resize import Resize2d, bilinear_matrix, nearest_matrix
from .._tensor import Tensor
from ..autograd.graph import label

MODES = ("nearest", "bilinear")


def _pair(value, name: str):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"interpolate: `{name}` must be one value or two (H, W), got {tuple(value)}")
        return tuple(value)
    return (value, value)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize (N, C, H, W) images to ``size`` or by ``scale_factor``.

    Args:
        input: (N, C, H, W).
        size: (H_out, W_out) or one int for both.
        scale_factor: a float or (sH, sW); H_out = ⌊H · sH⌋. Give exactly one of size, scale_factor.
        mode: 'nearest' (default) or 'bilinear'.
        align_corners: bilinear only (default False): True maps the corner pixels' centres onto
            each other, x_in = x_out · (H − 1)/(H_out − 1); False maps pixel areas,
            x_in = (x_out + ½) · H/H_out − ½.
        recompute_scale_factor: True computes the sampling from the sizes instead of the
            given scale factor (they differ when H · s is not whole).

    Shape:
        - Output: (N, C, H_out, W_out)

    Example:
        >>> F.interpolate(cnnlab.randn(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape
        cnnlab.Size([1, 3, 16, 16])
    """
    if mode not in MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r}; valid modes are {', '.join(map(repr, MODES))}")
    if align_corners is not None and mode == "nearest":
        raise ValueError("interpolate: align_corners can only be set with mode='bilinear'")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    if input.ndim != 4:
        raise ValueError(f"interpolate: expected input of shape (N, C, H, W), got {tuple(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    h, w = input.shape[2], input.shape[3]
    if size is not None:
        out = tuple(int(s) for s in _pair(size, "size"))
        scales = (None, None)
    else:
        scales = tuple(float(s) for s in _pair(scale_factor, "scale_factor"))
        if any(s <= 0 for s in scales):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor}")
        out = (int(math.floor(h * scales[0])), int(math.floor(w * scales[1])))
        if recompute_scale_factor:
            scales = (None, None)
    if min(out) <= 0:
        raise ValueError(f"interpolate: output size {out} for input {tuple(input.shape)} must be positive")
    dtype = input.dtype
    if mode == "nearest":
        rows = nearest_matrix(h, out[0], scales[0], dtype)
        cols = nearest_matrix(w, out[1], scales[1], dtype)
    else:
        corners = bool(align_corners)
        rows = bilinear_matrix(h, out[0], scales[0], corners, dtype)
        cols = bilinear_matrix(w, out[1], scales[1], corners, dtype)
    out = Resize2d.apply(input, rows=rows, cols=cols)
    return label(out, "UpsampleNearest2DBackward0" if mode == "nearest" else "UpsampleBilinear2DBackward0", (input,))


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """``interpolate`` under its older name."""
    return interpolate(input, size, scale_factor, mode, align_corners)
