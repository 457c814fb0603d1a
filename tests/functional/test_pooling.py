"""Pooling against torch 2.13 (values, indices, gradients) and finite differences."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from helpers import check_against_torch, gradcheck, rand
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import nn

TF = torch.nn.functional

MAX_CASES = [
    # shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 7), 2, None, 0, 1, False),  # odd sizes: last row/column dropped
    ((2, 3, 9, 7), 2, None, 0, 1, True),
    ((2, 4, 13, 13), 3, 2, 0, 1, False),  # AlexNet's overlapping pooling
    ((2, 4, 14, 13), 3, 2, 1, 1, True),
    ((1, 2, 11, 10), (3, 2), (2, 1), (1, 1), (2, 3), False),
    ((1, 2, 12, 11), 4, 3, 2, 1, True),
    ((2, 2, 10, 9), 5, 1, 2, 1, False),
    ((1, 1, 17, 19), 11, 4, 5, 1, True),
    ((3, 2, 7, 8), 1, 2, 0, 1, False),
    ((1, 3, 6, 6), 3, 3, 1, 2, True),
]


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil_mode", MAX_CASES)
def test_max_pool2d_matches_torch(shape, kernel, stride, padding, dilation, ceil_mode):
    args = (kernel, stride, padding, dilation, ceil_mode)
    check_against_torch(lambda x: F.max_pool2d(x, *args), lambda x: TF.max_pool2d(x, *args), rand(*shape))
    _, i_ours = F.max_pool2d(cnnlab.tensor(rand(*shape)), *args, return_indices=True)
    _, i_torch = TF.max_pool2d(torch.tensor(rand(*shape)), *args, return_indices=True)
    assert i_ours.dtype == np.int64
    np.testing.assert_array_equal(i_ours.numpy(), i_torch.numpy())


def _tied(shape, seed=0):
    """Real-image-like data: blank (all-zero) regions and repeated values make ties in windows."""
    x = np.random.default_rng(seed).integers(0, 3, size=shape).astype(np.float32)
    x[..., : shape[-2] // 2, :] = 0.0
    return x


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode", [(2, None, 0, False), (3, 2, 0, False), (3, 2, 1, True), (2, 1, 1, False)])
def test_max_pool2d_ties_send_gradient_to_first_max(kernel, stride, padding, ceil_mode):
    x = _tied((2, 3, 10, 11))
    args = (kernel, stride, padding, 1, ceil_mode)
    check_against_torch(lambda x: F.max_pool2d(x, *args), lambda x: TF.max_pool2d(x, *args), x)
    _, i_ours = F.max_pool2d(cnnlab.tensor(x), *args, return_indices=True)
    _, i_torch = TF.max_pool2d(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(i_ours.numpy(), i_torch.numpy())


@pytest.mark.parametrize("kernel,stride,dilation", [(3, 2, 1), (3, 2, 2), ((4, 3), (3, 2), 1), (2, 2, 1)])
def test_max_pool2d_after_conv_batch_last_layout_with_ties(kernel, stride, dilation):
    """conv2d returns a batch-last array; overlapping pools read it through stride phases.
    The blank half of the image gives windows of equal values (the bias): ties."""
    x, w, b = _tied((3, 2, 13, 12)) / 4, rand(4, 2, 3, 3, seed=1), np.abs(rand(4, seed=2)) + 0.5
    args = (kernel, stride, 0, dilation)
    check_against_torch(
        lambda x, w, b: F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), *args),
        lambda x, w, b: TF.max_pool2d(TF.relu(TF.conv2d(x, w, b, padding=1)), *args), x, w, b)


def test_max_pool2d_all_zero_window_gradient():
    x = cnnlab.zeros(1, 1, 2, 2, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0], [0, 0]])  # torch: the first element only


AVG_CASES = [
    ((2, 3, 8, 8), 2, None, 0, False),
    ((2, 3, 9, 7), 3, 2, 1, False),
    ((2, 3, 9, 7), 3, 2, 1, True),
    ((1, 2, 12, 11), (4, 3), (3, 2), (2, 1), True),
    ((2, 2, 10, 9), 5, 1, 2, False),
    ((1, 1, 11, 11), 11, 4, 5, True),
]


@pytest.mark.parametrize("shape,kernel,stride,padding,ceil_mode", AVG_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor_override", [None, 3])
def test_avg_pool2d_matches_torch(shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    check_against_torch(lambda x: F.avg_pool2d(x, *args), lambda x: TF.avg_pool2d(x, *args), rand(*shape))


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 3, 11, 7), (1, 2, 5, 13), (1, 1, 3, 2)])
@pytest.mark.parametrize("output_size", [1, 3, (4, 5), (2, None), (7, 13)])
def test_adaptive_pools_match_torch(shape, output_size):
    check_against_torch(lambda x: F.adaptive_avg_pool2d(x, output_size), lambda x: TF.adaptive_avg_pool2d(x, output_size), rand(*shape))
    for x in (rand(*shape), _tied(shape)):
        check_against_torch(lambda x: F.adaptive_max_pool2d(x, output_size), lambda x: TF.adaptive_max_pool2d(x, output_size), x)
        _, i_ours = F.adaptive_max_pool2d(cnnlab.tensor(x), output_size, return_indices=True)
        _, i_torch = TF.adaptive_max_pool2d(torch.tensor(x), output_size, return_indices=True)
        np.testing.assert_array_equal(i_ours.numpy(), i_torch.numpy())


def _every_window_sees_input(size, k, s, p, d, ceil_mode):
    from cnnlab._args import window_output_size

    out = window_output_size(size, k, s, p, d, ceil_mode)
    return all(any(0 <= o * s - p + i * d < size for i in range(k)) for o in range(out))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 3), c=st.integers(1, 3), kh=st.integers(1, 5), kw=st.integers(1, 5), sh=st.integers(1, 4),
    sw=st.integers(1, 4), ph=st.integers(0, 2), pw=st.integers(0, 2), dh=st.integers(1, 3), dw=st.integers(1, 3),
    extra_h=st.integers(0, 7), extra_w=st.integers(0, 7), ceil_mode=st.booleans(), tied=st.booleans(), seed=st.integers(0, 1000),
)
def test_pools_hypothesis(n, c, kh, kw, sh, sw, ph, pw, dh, dw, extra_h, extra_w, ceil_mode, tied, seed):
    ph, pw = min(ph, kh // 2), min(pw, kw // 2)
    h, w = max(1, dh * (kh - 1) + 1 - 2 * ph + extra_h), max(1, dw * (kw - 1) + 1 - 2 * pw + extra_w)
    x = _tied((n, c, h, w), seed) if tied else rand(n, c, h, w, seed=seed)
    args = ((kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode)
    # a dilated window made only of padding has no maximum; torch then points into another
    # row (an undefined case), so such configurations are left out
    assume(_every_window_sees_input(h, kh, sh, ph, dh, ceil_mode) and _every_window_sees_input(w, kw, sw, pw, dw, ceil_mode))
    check_against_torch(lambda t: F.max_pool2d(t, *args), lambda t: TF.max_pool2d(t, *args), x)
    if h + 2 * ph >= kh and w + 2 * pw >= kw:
        avg = ((kh, kw), (sh, sw), (ph, pw), ceil_mode, seed % 2 == 0)
        check_against_torch(lambda t: F.avg_pool2d(t, *avg), lambda t: TF.avg_pool2d(t, *avg), x)


@pytest.mark.parametrize("name,fn", [
    ("max", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("max_dilated", lambda x: F.max_pool2d(x, 2, 1, 1, dilation=2)),
    ("avg", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("adaptive_avg", lambda x: F.adaptive_avg_pool2d(x, (2, 3))),
    ("adaptive_max", lambda x: F.adaptive_max_pool2d(x, (3, 2))),
])
def test_pools_gradcheck_float64(name, fn):
    x = np.random.default_rng(1).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 10.0  # distinct: no ties
    gradcheck(fn, x)
    assert fn(cnnlab.tensor(x, dtype=cnnlab.float64)).dtype == np.float64


def test_unbatched_input():
    check_against_torch(lambda x: F.max_pool2d(x, 3, 2), lambda x: TF.max_pool2d(x, 3, 2), rand(4, 9, 9))
    check_against_torch(lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2), rand(4, 9, 9))
    out, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(cnnlab.tensor(rand(4, 9, 9)))
    assert out.shape == idx.shape == (4, 2, 2)


# ------------------------------------------------------------------------------- modules
@pytest.mark.parametrize("ours,theirs", [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True)),
    (nn.AvgPool2d(3, 2), torch.nn.AvgPool2d(3, 2)),
    (nn.AvgPool2d((2, 3), padding=1, count_include_pad=False), torch.nn.AvgPool2d((2, 3), padding=1, count_include_pad=False)),
    (nn.AdaptiveAvgPool2d((3, None)), torch.nn.AdaptiveAvgPool2d((3, None))),
    (nn.AdaptiveMaxPool2d(2), torch.nn.AdaptiveMaxPool2d(2)),
])
def test_modules_match_torch(ours, theirs):
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, rand(2, 3, 11, 10))


def test_maxpool_module_return_indices():
    out, idx = nn.MaxPool2d(3, 2, return_indices=True)(cnnlab.tensor(rand(2, 3, 11, 10)))
    t_out, t_idx = torch.nn.MaxPool2d(3, 2, return_indices=True)(torch.tensor(rand(2, 3, 11, 10)))
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(2), nn.AdaptiveMaxPool2d(2)])
@pytest.mark.parametrize("shape", [(28, 28), (1, 1, 1, 28, 28)])
def test_pool_input_must_be_3d_or_4d(layer, shape):
    expected = f"{layer!r}: expected input of shape (N, C, H, W) or (C, H, W), got {shape}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        layer(cnnlab.zeros(*shape))


def test_pool_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=5.*kernel size \(5, 5\).*larger than the padded input \(4, 10\)"):
        nn.MaxPool2d(5)(cnnlab.zeros(1, 1, 4, 10))
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel size \(3, 3\) .*larger than the padded input \(2, 2\)"):
        F.avg_pool2d(cnnlab.zeros(1, 1, 2, 2), 3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(stride=0), r"max_pool2d: `stride` must be positive, got \(0, 0\)"),
    (dict(dilation=0), r"max_pool2d: `dilation` must be positive, got \(0, 0\)"),
    (dict(padding=2), r"max_pool2d: `padding` must be between 0 and half the kernel size \(3, 3\), got \(2, 2\)"),
    (dict(kernel_size=0), r"`kernel_size` must be positive"),
])
def test_max_pool_argument_errors(kwargs, match):
    kwargs = dict(dict(kernel_size=3), **kwargs)
    with pytest.raises(ValueError, match=match):
        F.max_pool2d(cnnlab.zeros(1, 1, 8, 8), **kwargs)


def test_module_argument_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2, stride=0.*`stride` must be positive"):
        nn.MaxPool2d(2, stride=0)(cnnlab.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"AvgPool2d\(kernel_size=2, stride=-1.*`stride` must be positive"):
        nn.AvgPool2d(2, stride=-1)(cnnlab.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d\(output_size=0\): `output_size` must be positive"):
        nn.AdaptiveAvgPool2d(0)(cnnlab.zeros(1, 1, 8, 8))


@pytest.mark.parametrize("kernel,stride,padding,dilation", [(2, 2, 0, 1), (3, 2, 1, 1), (3, 1, 0, 2)])
def test_max_pool2d_under_no_grad_keeps_values_and_indices(kernel, stride, padding, dilation):
    """Without a graph the op computes the max alone (no argmax); indices still come when asked."""
    x = _tied((2, 3, 11, 12))
    args = (kernel, stride, padding, dilation)
    weight = cnnlab.tensor(rand(3, 3, 1, 1), requires_grad=True)  # a parameter upstream, as in a model
    with cnnlab.no_grad():
        h = F.conv2d(cnnlab.tensor(x), weight)
        out = F.max_pool2d(h, *args)
        _, idx = F.max_pool2d(h, *args, return_indices=True)
    assert not out.requires_grad
    t_out, t_idx = TF.max_pool2d(TF.conv2d(torch.tensor(x), torch.tensor(weight.detach().numpy())), *args, return_indices=True)
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
