"""F.interpolate / nn.Upsample (nearest, bilinear with and without align_corners) against torch."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn
from helpers import check_against_torch, gradcheck, rand

CASES = [
    ({"scale_factor": 2}, (5, 6)), ({"scale_factor": 3}, (2, 3)), ({"scale_factor": 0.5}, (8, 6)),
    ({"size": (7, 5)}, (4, 6)), ({"size": 9}, (4, 4)), ({"scale_factor": (1.5, 2.5)}, (5, 4)),
    ({"scale_factor": 1.7}, (5, 6)), ({"scale_factor": 1.7, "recompute_scale_factor": True}, (5, 6)),
    ({"size": (1, 3)}, (4, 5)), ({"size": (4, 5)}, (4, 5)),
]


@pytest.mark.parametrize("kwargs,hw", CASES)
@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_interpolate_matches_torch(kwargs, hw, mode, align):
    x = rand(2, 3, *hw, seed=1)
    opts = dict(kwargs, mode=mode, align_corners=align)
    check_against_torch(lambda t: nn.functional.interpolate(t, **opts),
                        lambda t: torch.nn.functional.interpolate(t, **opts), x)
    small = rand(1, 1, *hw, seed=2)
    gradcheck(lambda t: nn.functional.interpolate(t, **opts), small)


@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", True)])
def test_upsample_module(mode, align):
    ours = nn.Upsample(scale_factor=2, mode=mode, align_corners=align)
    theirs = torch.nn.Upsample(scale_factor=2, mode=mode, align_corners=align)
    assert repr(ours) == repr(theirs)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), rand(1, 2, 3, 4))
    sized = (nn.Upsample(size=(5, 7)), torch.nn.Upsample(size=(5, 7)))
    assert repr(sized[0]) == repr(sized[1])


def test_interpolate_float64_and_errors():
    x = rand(1, 1, 3, 3, dtype=np.float64)
    check_against_torch(lambda t: nn.functional.interpolate(t, scale_factor=2, mode="bilinear"),
                        lambda t: torch.nn.functional.interpolate(t, scale_factor=2, mode="bilinear"), x)
    t = cnnlab.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="'nearest', 'bilinear'"):
        nn.functional.interpolate(t, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners"):
        nn.functional.interpolate(t, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="exactly one"):
        nn.functional.interpolate(t)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.functional.interpolate(cnnlab.zeros(4, 4), size=2)
    with pytest.raises(ValueError, match=r"'bilinear' expects input of shape \(N, C, H, W\)"):
        nn.functional.interpolate(cnnlab.zeros(1, 2, 4), size=2, mode="bilinear")
    with pytest.raises(ValueError, match=r"one value or 3 \(D, H, W\)"):
        nn.functional.interpolate(cnnlab.zeros(1, 1, 2, 3, 4), size=(4, 6))


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 5), dict(size=8)), ((2, 3, 7), dict(scale_factor=0.6)), ((1, 2, 3, 4, 5), dict(size=(5, 3, 7))),
    ((1, 2, 3, 3, 4), dict(scale_factor=(2, 1.5, 0.5))),
])
def test_nearest_resizes_signals_and_volumes(shape, kwargs):
    """mode='nearest' on (N, C, L) and (N, C, D, H, W), as torch's 1-D and 3-D nearest."""
    ours = lambda t: nn.functional.interpolate(t, mode="nearest", **kwargs)  # noqa: E731
    theirs = lambda t: torch.nn.functional.interpolate(t, mode="nearest", **kwargs)  # noqa: E731
    check_against_torch(ours, theirs, rand(*shape))
    gradcheck(ours, rand(*shape))
