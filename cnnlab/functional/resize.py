"""``interpolate``: resize a batch of images (nearest or bilinear), as ``F.interpolate``; nearest
also resizes signals (N, C, L) and volumes (N, C, D, H, W)."""

from __future__ import annotations

import math

from .._ops.resize import Resize2d, bilinear_matrix, nearest_matrix
from .._tensor import Tensor
from ..autograd.graph import label

MODES = ("nearest", "bilinear")


_AXES = {3: "(L)", 4: "(H, W)", 5: "(D, H, W)"}


def _per_axis(value, k: int, name: str):
    if isinstance(value, (tuple, list)):
        if len(value) != k:
            raise ValueError(
                f"interpolate: `{name}` must be one value or {k} {_AXES[k + 2]}, got {tuple(value)}"
            )
        return tuple(value)
    return (value,) * k


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize images (N, C, H, W) to ``size`` or by ``scale_factor``; 'nearest' also resizes
    signals (N, C, L) and volumes (N, C, D, H, W).

    Args:
        input: (N, C, H, W); (N, C, L) or (N, C, D, H, W) for 'nearest'.
        size: (H_out, W_out) or one int for all spatial dims.
        scale_factor: a float or (sH, sW); H_out = ⌊H · sH⌋. Give exactly one of size, scale_factor.
        mode: 'nearest' (default) or 'bilinear'.
        align_corners: bilinear only (default False): True maps the corner pixels' centres onto
            each other, x_in = x_out · (H − 1)/(H_out − 1); False maps pixel areas,
            x_in = (x_out + ½) · H/H_out − ½.
        recompute_scale_factor: True computes the sampling from the sizes instead of the
            given scale factor (they differ when H · s is not whole).

    Shape:
        - Output: (N, C, H_out, W_out) (and likewise for L or D, H, W)

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
    if input.ndim != 4 and not (mode == "nearest" and input.ndim in (3, 5)):
        expected = "(N, C, H, W)" if mode == "bilinear" else "(N, C, L), (N, C, H, W) or (N, C, D, H, W)"
        raise ValueError(
            f"interpolate: mode {mode!r} expects input of shape {expected}, got {tuple(input.shape)}"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    spatial = tuple(input.shape[2:])
    k = len(spatial)
    if size is not None:
        out = tuple(int(s) for s in _per_axis(size, k, "size"))
        scales = (None,) * k
    else:
        scales = tuple(float(s) for s in _per_axis(scale_factor, k, "scale_factor"))
        if any(s <= 0 for s in scales):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor}")
        out = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * k
    if min(out) <= 0:
        raise ValueError(f"interpolate: output size {out} for input {tuple(input.shape)} must be positive")
    dtype = input.dtype
    if mode == "nearest":
        maps = [nearest_matrix(n, o, s, dtype) for n, o, s in zip(spatial, out, scales)]
    else:
        maps = [bilinear_matrix(n, o, s, bool(align_corners), dtype) for n, o, s in zip(spatial, out, scales)]
    name = {3: "UpsampleNearest1DBackward0", 4: "UpsampleNearest2DBackward0", 5: "UpsampleNearest3DBackward0"}
    name = name[input.ndim] if mode == "nearest" else "UpsampleBilinear2DBackward0"
    return label(_resize(input, maps), name, (input,))


def _resize(x: Tensor, maps: list) -> Tensor:
    """Apply one interpolation matrix per spatial axis, as passes of ``Resize2d`` over the last
    two axes (a volume: H and W first, then D with the resized plane flattened)."""
    n, c = x.shape[:2]
    if len(maps) == 1:
        return Resize2d.apply(x, rows=None, cols=maps[0])
    if len(maps) == 2:
        return Resize2d.apply(x, rows=maps[0], cols=maps[1])
    d, h, w = x.shape[2:]
    planes = Resize2d.apply(x.reshape(n, c * d, h, w), rows=maps[1], cols=maps[2])
    ho, wo = planes.shape[2:]
    volume = Resize2d.apply(planes.reshape(n, c, d, ho * wo), rows=maps[0], cols=None)
    return volume.reshape(n, c, maps[0].shape[0], ho, wo)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """``interpolate`` under its older name."""
    return interpolate(input, size, scale_factor, mode, align_corners)
