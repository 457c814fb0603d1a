"""conv2d / Conv2d against torch 2.13 (float32 forward and gradients) and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import check_against_torch, gradcheck, rand
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import nn


def _tolerance(n, c, h, w, f, groups, kernel, out_hw):
    """atol for sums of many float32 terms: rounding grows about like √(terms)."""
    terms = max(c // groups * kernel[0] * kernel[1], n * out_hw[0] * out_hw[1], f // groups * kernel[0] * kernel[1])
    return 1e-6 * max(1.0, math.sqrt(terms))


def _compare(n, c, h, w, f, kernel, stride=1, padding=0, dilation=1, groups=1, bias=True, seed=0, grad=None):
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = rand(n, c, h, w, seed=seed)
    wt = rand(f, c // groups, *kernel, seed=seed + 1)
    arrays = [x, wt] + ([rand(f, seed=seed + 2)] if bias else [])
    out_ours, _ = check_against_torch(
        lambda *t: F.conv2d(*t[:2], t[2] if bias else None, stride, padding, dilation, groups),
        lambda *t: torch.nn.functional.conv2d(*t[:2], t[2] if bias else None, stride, padding, dilation, groups),
        *arrays,
        grad=grad,
        atol=_tolerance(n, c, h, w, f, groups, kernel, (h, w)),
    )
    return out_ours


CASES = [
    # n, c, h, w, f, kernel, stride, padding, dilation, groups, bias
    (2, 3, 9, 9, 4, 1, 1, 0, 1, 1, True),
    (2, 3, 10, 7, 4, 2, 1, 0, 1, 1, True),
    (2, 3, 11, 13, 5, 3, 1, 1, 1, 1, True),
    (1, 2, 12, 9, 3, 4, 2, 3, 1, 1, False),
    (3, 4, 13, 11, 6, 5, 1, 2, 1, 2, True),
    (2, 2, 15, 14, 4, 6, 3, 2, 1, 1, True),
    (2, 3, 17, 16, 2, 7, 4, 3, 1, 1, True),
    (1, 4, 19, 21, 4, 8, 2, 1, 1, 4, False),
    (2, 1, 21, 20, 3, 9, 1, 0, 1, 1, True),
    (2, 3, 23, 22, 2, 10, 3, 3, 1, 1, True),
    (2, 3, 27, 25, 4, 11, 4, 2, 1, 1, True),
    (2, 3, 13, 12, 4, 3, 1, 1, 2, 1, True),
    (2, 4, 16, 15, 4, 3, 2, 3, 3, 2, False),
    (1, 6, 9, 11, 6, 3, 1, 1, 1, 6, True),  # depthwise
    (2, 6, 10, 9, 12, 3, 2, 1, 1, 3, True),
    (1, 1, 5, 5, 1, 5, 1, 0, 1, 1, True),  # kernel == input
    (2, 3, 8, 11, 4, (3, 5), (1, 2), (1, 2), (2, 1), 1, True),
    (2, 3, 9, 9, 4, (1, 4), (3, 1), (0, 3), (1, 2), 1, True),
    (4, 3, 32, 32, 8, 3, 1, 1, 1, 1, True),
]


@pytest.mark.parametrize("n,c,h,w,f,kernel,stride,padding,dilation,groups,bias", CASES)
def test_conv2d_matches_torch(n, c, h, w, f, kernel, stride, padding, dilation, groups, bias):
    _compare(n, c, h, w, f, kernel, stride, padding, dilation, groups, bias)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel,dilation", [(1, 1), (2, 1), (3, 2), (4, 3), ((4, 3), (1, 2)), (5, 1)])
def test_conv2d_string_padding(padding, kernel, dilation):
    out = _compare(2, 3, 11, 10, 4, kernel, 1, padding, dilation)
    if padding == "same":
        assert out.shape[2:] == (11, 10)


def test_conv2d_skips_input_gradient_when_not_needed():
    x = rand(2, 3, 8, 8)
    w = rand(4, 3, 3, 3, seed=1)
    b = rand(4, seed=2)
    ours, _ = check_against_torch(
        lambda x, w, b: F.conv2d(x, w, b, padding=1),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1),
        x, w, b, grad=[False, True, True],
    )
    assert ours.grad_fn is not None


def test_conv2d_weight_without_grad_gives_input_grad():
    check_against_torch(
        lambda x, w: F.conv2d(x, w, stride=2),
        lambda x, w: torch.nn.functional.conv2d(x, w, stride=2),
        rand(2, 3, 9, 9), rand(5, 3, 3, 3, seed=1), grad=[True, False],
    )


def test_stacked_convs_match_torch():
    """conv → relu → pool → conv: the second conv reads the first's batch-last view."""
    arrays = [rand(3, 2, 14, 13), rand(5, 2, 3, 3, seed=1), rand(5, seed=2), rand(4, 5, 3, 3, seed=3), rand(4, seed=4)]

    def ours(x, w1, b1, w2, b2):
        return F.conv2d(F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2), w2, b2, padding="same")

    def theirs(x, w1, b1, w2, b2):
        tf = torch.nn.functional
        return tf.conv2d(tf.max_pool2d(tf.relu(tf.conv2d(x, w1, b1, padding=1)), 2), w2, b2, padding="same")

    check_against_torch(ours, theirs, *arrays, atol=1e-5)


def test_unbatched_input():
    check_against_torch(
        lambda x, w: F.conv2d(x, w, padding=1),
        lambda x, w: torch.nn.functional.conv2d(x, w, padding=1),
        rand(3, 7, 6), rand(4, 3, 3, 3, seed=1),
    )


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 3), c_per_group=st.integers(1, 3), f_per_group=st.integers(1, 3), groups=st.integers(1, 3),
    kh=st.integers(1, 11), kw=st.integers(1, 11), sh=st.integers(1, 4), sw=st.integers(1, 4),
    ph=st.integers(0, 3), pw=st.integers(0, 3), dh=st.integers(1, 3), dw=st.integers(1, 3),
    extra_h=st.integers(0, 6), extra_w=st.integers(0, 6), bias=st.booleans(), seed=st.integers(0, 1000),
)
def test_conv2d_hypothesis(n, c_per_group, f_per_group, groups, kh, kw, sh, sw, ph, pw, dh, dw, extra_h, extra_w, bias, seed):
    # the input is drawn large enough for the dilated kernel to fit in the padded input
    h = max(1, dh * (kh - 1) + 1 - 2 * ph + extra_h)
    w = max(1, dw * (kw - 1) + 1 - 2 * pw + extra_w)
    _compare(n, c_per_group * groups, h, w, f_per_group * groups, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups, bias, seed)


GRADCHECK_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=1),
    dict(stride=1, padding=2, dilation=2, groups=2),
    dict(stride=(2, 1), padding="same", dilation=1, groups=1),
]


@pytest.mark.parametrize("cfg", GRADCHECK_CASES)
def test_conv2d_gradcheck_float64(cfg):
    if cfg["padding"] == "same":
        cfg = dict(cfg, stride=1)
    x, w, b = rand(2, 2, 5, 4, dtype=np.float64), rand(2, 2 // cfg["groups"], 3, 2, seed=1, dtype=np.float64), rand(2, seed=2, dtype=np.float64)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, **cfg), x, w, b)


def test_conv2d_keeps_float64():
    x = cnnlab.tensor(rand(1, 2, 5, 5, dtype=np.float64), dtype=cnnlab.float64)
    conv = nn.Conv2d(2, 3, 3).double()
    assert conv(x).dtype == np.float64


# ------------------------------------------------------------------------------- module
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding,kernel,stride", [(1, 3, 1), ((2, 1), (3, 4), 2), ("same", 4, 1), ("same", (3, 5), 1)])
def test_conv2d_module_padding_modes(padding_mode, padding, kernel, stride):
    ours = nn.Conv2d(3, 4, kernel, stride=stride, padding=padding, padding_mode=padding_mode)
    theirs = torch.nn.Conv2d(3, 4, kernel, stride=stride, padding=padding, padding_mode=padding_mode)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    check_against_torch(ours, theirs, rand(2, 3, 9, 8))
    x_ours, x_theirs = cnnlab.tensor(rand(2, 3, 9, 8)), torch.tensor(rand(2, 3, 9, 8))
    ours(x_ours).sum().backward()
    theirs(x_theirs).sum().backward()
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("args,kwargs", [
    ((3, 16, 3), {}),
    ((3, 16, (3, 5), 2, 1, 2, 1, False, "reflect"), {}),
    ((4, 8, 3), dict(padding="same", groups=2)),
    ((4, 8, 5), dict(padding="valid", dilation=(1, 2))),
    ((1, 16, 5), dict(stride=(2, 1), padding=(0, 2), padding_mode="circular")),
])
def test_conv2d_repr_matches_torch(args, kwargs):
    assert repr(nn.Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))


def test_conv2d_default_init_follows_torch():
    conv = nn.Conv2d(6, 64, (5, 3), groups=2)
    fan_in = 3 * 5 * 3
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=√5) gives gain·√(3/fan_in) = 1/√fan_in
    for p in (conv.weight, conv.bias):
        values = p.detach().numpy()
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound
    w = conv.weight.detach().numpy()
    assert conv.weight.shape == (64, 3, 5, 3)
    assert np.abs(w).max() > 0.95 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    before = w.copy()
    conv.reset_parameters()
    assert not np.array_equal(before, conv.weight.detach().numpy())


def test_conv2d_without_bias_has_no_bias_parameter():
    conv = nn.Conv2d(2, 3, 3, bias=False)
    assert conv.bias is None and [n for n, _ in conv.named_parameters()] == ["weight"]


# ------------------------------------------------------------------------------- errors
def test_wrong_channel_count_names_layer():
    conv = nn.Conv2d(3, 16, 3)
    with pytest.raises(ValueError) as info:
        conv(cnnlab.zeros(8, 1, 28, 28))
    assert str(info.value) == "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)): expected input of shape (N, 3, H, W), got (8, 1, 28, 28)"
    with pytest.raises(ValueError, match=r"conv2d: expected input of shape \(N, 2, H, W\), got \(1, 3, 5, 5\)"):
        F.conv2d(cnnlab.zeros(1, 3, 5, 5), cnnlab.zeros(4, 2, 3, 3))


@pytest.mark.parametrize("shape", [(28, 28), (1, 1, 1, 28, 28), (3,)])
def test_input_must_be_4d(shape):
    with pytest.raises(ValueError, match=r"Conv2d\(1, 4.*expected input of shape \(N, 1, H, W\), got"):
        nn.Conv2d(1, 4, 3)(cnnlab.zeros(*shape))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"Conv2d\(1, 4, kernel_size=\(5, 5\).*kernel size \(5, 5\).*larger than the padded input \(4, 6\)"):
        nn.Conv2d(1, 4, 5, padding=(1, 0))(cnnlab.zeros(1, 1, 2, 6))
    with pytest.raises(ValueError, match=r"conv2d: kernel size \(3, 3\) \(dilated: \(5, 5\)\) is larger"):
        F.conv2d(cnnlab.zeros(1, 1, 4, 4), cnnlab.zeros(1, 1, 3, 3), dilation=2)


@pytest.mark.parametrize("kwargs,match", [
    (dict(stride=0), r"Conv2d: `stride` must be positive, got \(0, 0\)"),
    (dict(stride=(1, -1)), r"`stride` must be positive"),
    (dict(dilation=0), r"Conv2d: `dilation` must be positive, got \(0, 0\)"),
    (dict(groups=3), r"Conv2d: groups=3 must divide in_channels \(4\) and out_channels \(8\)"),
    (dict(groups=0), r"groups=0 must divide"),
    (dict(padding="same", stride=2), r"Conv2d: padding='same' is not supported for strided convolutions"),
    (dict(padding="full"), r"invalid padding string 'full'; valid: 'valid', 'same'"),
    (dict(padding=-1), r"`padding` must be non-negative"),
    (dict(padding_mode="mirror"), r"Conv2d: unknown padding_mode 'mirror'; valid modes are 'zeros', 'reflect', 'replicate', 'circular'"),
])
def test_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.Conv2d(4, 8, 3, **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(stride=0), r"conv2d: `stride` must be positive"),
    (dict(dilation=(1, 0)), r"conv2d: `dilation` must be positive"),
    (dict(padding="same", stride=2), r"conv2d: padding='same' is not supported for strided"),
    (dict(groups=3), r"conv2d: groups=3 must divide the output channels"),
])
def test_functional_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.conv2d(cnnlab.zeros(1, 4, 8, 8), cnnlab.zeros(8, 4, 3, 3), **kwargs)


def test_functional_groups_must_divide_input_channels():
    with pytest.raises(ValueError, match=r"conv2d: groups=2 must divide the input channels, got input of shape \(1, 3, 8, 8\)"):
        F.conv2d(cnnlab.zeros(1, 3, 8, 8), cnnlab.zeros(4, 1, 3, 3), groups=2)
