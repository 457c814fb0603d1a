"""GroupNorm and LayerNorm against torch (values, gradients, modules) and finite differences."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn
from helpers import check_against_torch, gradcheck, rand


@pytest.mark.parametrize("shape,groups", [((2, 6, 4, 4), 3), ((3, 4, 5), 2), ((2, 4, 3), 4), ((1, 6, 3, 3), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm(shape, groups, affine):
    c = shape[1]
    x, w, b = rand(*shape, seed=1, low=-3, high=3), rand(c, seed=2), rand(c, seed=3)
    if affine:
        check_against_torch(lambda t, g, h: nn.functional.group_norm(t, groups, g, h),
                            lambda t, g, h: torch.nn.functional.group_norm(t, groups, g, h), x, w, b, atol=1e-5)
        small = rand(*((2, c) + shape[2:3]), seed=4)
        gradcheck(lambda t, g, h: nn.functional.group_norm(t, groups, g, h, eps=1e-3), small, w, b)
    else:
        check_against_torch(lambda t: nn.functional.group_norm(t, groups), lambda t: torch.nn.functional.group_norm(t, groups),
                            x, atol=1e-5)


@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 5), (5,)), ((2, 3, 4, 4), (3, 4, 4)), ((3, 2, 5), (2, 5))])
def test_layer_norm(shape, normalized, affine=True):
    norm = (normalized,) if isinstance(normalized, int) else normalized
    x, w, b = rand(*shape, seed=5, low=-2, high=2), rand(*norm, seed=6), rand(*norm, seed=7)
    check_against_torch(lambda t, g, h: nn.functional.layer_norm(t, normalized, g, h),
                        lambda t, g, h: torch.nn.functional.layer_norm(t, norm, g, h), x, w, b, atol=1e-5)
    check_against_torch(lambda t: nn.functional.layer_norm(t, normalized),
                        lambda t: torch.nn.functional.layer_norm(t, norm), x, atol=1e-5)
    gradcheck(lambda t, g, h: nn.functional.layer_norm(t, normalized, g, h, eps=1e-3), x[:2], w, b)


def test_modules_match_torch():
    torch.manual_seed(0)
    pairs = [(nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)), (nn.GroupNorm(4, 4, affine=False), torch.nn.GroupNorm(4, 4, affine=False)),
             (nn.LayerNorm((4, 3, 3)), torch.nn.LayerNorm((4, 3, 3))), (nn.LayerNorm(3, bias=False), torch.nn.LayerNorm(3, bias=False)),
             (nn.LayerNorm(3, elementwise_affine=False), torch.nn.LayerNorm(3, elementwise_affine=False))]
    x = rand(2, 4, 3, 3)
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        with torch.no_grad():
            for p in theirs.parameters():
                p.uniform_(-1, 1)
        ours.load_state_dict(theirs.state_dict())
        check_against_torch(lambda t: ours(t), lambda t: theirs(t), x, atol=1e-5)
        assert ours(cnnlab.tensor(x, requires_grad=True)).grad_fn.name() == theirs(torch.tensor(x, requires_grad=True)).grad_fn.name()


def test_norm_errors():
    with pytest.raises(ValueError, match="num_groups=3"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"\(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(cnnlab.zeros(2, 6, 3))
    with pytest.raises(ValueError, match=r"\(\*, 3\)"):
        nn.LayerNorm(3)(cnnlab.zeros(2, 4))
