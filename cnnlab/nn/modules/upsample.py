"""``Upsample``: the resizing layer (the op is ``F.interpolate``)."""

from __future__ import annotations

from ... import functional as F
from ...functional.resize import MODES
from .module import Module


class Upsample(Module):
    """Resize (N, C, H, W) images to ``size`` or by ``scale_factor`` (nearest or bilinear).

    Args: as ``F.interpolate`` (size, scale_factor, mode='nearest', align_corners,
    recompute_scale_factor).

    Example:
        >>> up = nn.Upsample(scale_factor=2, mode="nearest")
        >>> up(cnnlab.randn(1, 1, 4, 4)).shape
        cnnlab.Size([1, 1, 8, 8])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"Upsample: unknown mode {mode!r}; valid modes are {', '.join(map(repr, MODES))}")
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"
