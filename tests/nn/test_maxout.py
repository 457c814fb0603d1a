"""Maxout against an equivalent torch computation (Linear + view + max) and finite differences."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.functional as F
from cnnlab import nn
from helpers import check_against_torch, gradcheck, rand


def _torch_maxout(x, w, b, pieces):
    z = torch.nn.functional.linear(x, w, b)
    return z.view(*z.shape[:-1], w.shape[0] // pieces, pieces).max(dim=-1).values


@pytest.mark.parametrize("batch", [(1,), (6,), (2, 3)])
@pytest.mark.parametrize("pieces", [1, 2, 3, 5])
@pytest.mark.parametrize("bias", [True, False])
def test_maxout_matches_torch(batch, pieces, bias):
    in_f, out_f = 7, 4
    x = rand(*batch, in_f, seed=1)
    w = rand(out_f * pieces, in_f, seed=2)
    b = rand(out_f * pieces, seed=3)
    if bias:
        check_against_torch(lambda a, ww, bb: F.maxout(a, ww, bb, pieces),
                            lambda a, ww, bb: _torch_maxout(a, ww, bb, pieces), x, w, b)
    else:
        check_against_torch(lambda a, ww: F.maxout(a, ww, None, pieces),
                            lambda a, ww: _torch_maxout(a, ww, None, pieces), x, w)


def test_module_uses_its_parameters_like_the_formula():
    m = nn.Maxout(5, 3, pieces=4)
    assert m.weight.shape == (12, 5) and m.bias.shape == (12,)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    x = rand(8, 5, seed=4)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    # y_j = max_k (W_k x + b_k)_j with row j·pieces + k holding w_{j,k}
    expected = np.max((x @ w.T + b).reshape(8, 3, 4), axis=-1)
    np.testing.assert_allclose(m(cnnlab.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    xo = cnnlab.tensor(x, requires_grad=True)
    g = rand(8, 3, seed=5)
    m(xo).backward(cnnlab.tensor(g))
    _torch_maxout(xt, wt, bt, 4).backward(torch.tensor(g))
    for ours, theirs in ((xo.grad, xt.grad), (m.weight.grad, wt.grad), (m.bias.grad, bt.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_lecture_two_pieces_formula():
    # max(w1ᵀx + b1, w2ᵀx + b2) for a single output
    m = nn.Maxout(3, 1, pieces=2)
    w1, w2 = m.weight.detach().numpy()
    b1, b2 = m.bias.detach().numpy()
    x = rand(3, seed=6)
    assert np.isclose(m(cnnlab.tensor(x)).detach().item(), max(w1 @ x + b1, w2 @ x + b2), rtol=1e-6)


def test_initialisation_like_linear():
    cnnlab.manual_seed(0)
    m = nn.Maxout(64, 32, pieces=3)
    bound = 1 / math.sqrt(64)
    for p in (m.weight, m.bias):
        v = p.detach().numpy()
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.9 * bound
        assert abs(v.std() - bound / math.sqrt(3)) < 0.1 * bound  # U(-b, b) has std b/√3


def test_maxout_gradcheck():
    gradcheck(lambda a, w, b: F.maxout(a, w, b, 3), rand(2, 4, seed=7), rand(6, 4, seed=8), rand(6, seed=9))


def test_maxout_errors_and_repr():
    with pytest.raises(ValueError, match=r"Maxout\(in_features=4.*expected input of shape \(\*, 4\), got \(2, 5\)"):
        nn.Maxout(4, 2)(cnnlab.ones(2, 5))
    with pytest.raises(ValueError, match=r"`pieces` must be a positive integer, got 0"):
        nn.Maxout(4, 2, pieces=0)
    with pytest.raises(ValueError, match=r"maxout: expected weight of shape \(out_features \* 3, in_features\)"):
        F.maxout(cnnlab.ones(2, 4), cnnlab.ones(5, 4), pieces=3)
    assert repr(nn.Maxout(4, 2, bias=False)) == "Maxout(in_features=4, out_features=2, pieces=2, bias=False)"


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 5), in_f=st.integers(1, 8), out_f=st.integers(1, 5), pieces=st.integers(1, 4),
       seed=st.integers(0, 999))
def test_maxout_hypothesis(n, in_f, out_f, pieces, seed):
    check_against_torch(lambda a, w, b: F.maxout(a, w, b, pieces),
                        lambda a, w, b: _torch_maxout(a, w, b, pieces),
                        rand(n, in_f, seed=seed), rand(out_f * pieces, in_f, seed=seed + 1),
                        rand(out_f * pieces, seed=seed + 2))
