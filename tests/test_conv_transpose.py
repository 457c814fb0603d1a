"""conv_transpose2d / ConvTranspose2d against torch (values, gradients) and finite differences."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn
from helpers import check_against_torch, gradcheck, rand

CASES = [
    dict(), dict(stride=2), dict(stride=2, padding=1), dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 3), padding=(0, 1)), dict(dilation=2), dict(stride=3, dilation=2, output_padding=1),
    dict(groups=2), dict(stride=2, groups=2, padding=1),
]


@pytest.mark.parametrize("kwargs", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_matches_torch(kwargs, bias):
    groups = kwargs.get("groups", 1)
    x = rand(2, 4, 5, 6, seed=1)
    w = rand(4, 6 // groups, 3, 2, seed=2)
    b = rand(6, seed=3)
    if bias:
        check_against_torch(lambda t, u, v: nn.functional.conv_transpose2d(t, u, v, **kwargs),
                            lambda t, u, v: torch.nn.functional.conv_transpose2d(t, u, v, **kwargs), x, w, b,
                            atol=1e-4)  # float32 sums of many large terms: both libraries round
    else:
        check_against_torch(lambda t, u: nn.functional.conv_transpose2d(t, u, **kwargs),
                            lambda t, u: torch.nn.functional.conv_transpose2d(t, u, **kwargs), x, w, atol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2)])
def test_conv_transpose2d_finite_differences(kwargs):
    groups = kwargs.get("groups", 1)
    x, w, b = rand(1, 2, 3, 3, seed=4), rand(2, 4 // groups, 2, 3, seed=5), rand(4, seed=6)
    gradcheck(lambda t, u, v: nn.functional.conv_transpose2d(t, u, v, **kwargs), x, w, b)


def test_module_matches_torch_init_shape_and_repr():
    for args, kwargs in [((8, 4, 2), dict(stride=2)), ((4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2, bias=False))]:
        torch.manual_seed(0)
        theirs = torch.nn.ConvTranspose2d(*args, **kwargs)
        ours = nn.ConvTranspose2d(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert ours.weight.shape == theirs.weight.shape
        bound = 1 / np.sqrt(theirs.weight.shape[1] * theirs.kernel_size[0] * theirs.kernel_size[1])
        assert np.abs(ours.weight.detach().numpy()).max() <= bound + 1e-7
        ours.load_state_dict(theirs.state_dict())
        x = rand(2, args[0], 4, 5)
        check_against_torch(lambda t: ours(t), lambda t: theirs(t), x, atol=1e-4)
        unbatched = ours(cnnlab.tensor(x[0]))
        np.testing.assert_allclose(unbatched.detach().numpy(), theirs(torch.tensor(x[0])).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_conv_transpose_is_the_adjoint_of_conv():
    # <conv(x), y> == <x, conv_transpose(y)> for the same weight
    x, y, w = rand(1, 3, 7, 7, seed=7, dtype=np.float64), rand(1, 5, 3, 3, seed=8, dtype=np.float64), rand(5, 3, 3, 3, seed=9, dtype=np.float64)
    t = lambda a: cnnlab.tensor(a, dtype=cnnlab.float64)  # noqa: E731
    lhs = (nn.functional.conv2d(t(x), t(w), stride=2) * t(y)).sum().item()
    rhs = (t(x) * nn.functional.conv_transpose2d(t(y), t(w), stride=2)).sum().item()
    assert abs(lhs - rhs) < 1e-10


def test_conv_transpose_errors():
    x, w = cnnlab.zeros(1, 4, 5, 5), cnnlab.zeros(4, 2, 3, 3)
    with pytest.raises(ValueError, match="output_padding"):
        nn.functional.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"\(N, 4, H, W\)"):
        nn.functional.conv_transpose2d(cnnlab.zeros(1, 3, 5, 5), w)
    with pytest.raises(ValueError, match="groups=3"):
        nn.ConvTranspose2d(4, 6, 3, groups=3)
