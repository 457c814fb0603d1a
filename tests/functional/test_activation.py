"""Activations against torch 2.13 (incl. derivatives at 0 and huge logits) and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.functional as F
from cnnlab import nn
from helpers import check_against_torch, gradcheck, rand

ELEMENTWISE = [
    ("relu", lambda a: F.relu(a), lambda a: TF.relu(a)),
    ("leaky_relu", lambda a: F.leaky_relu(a), lambda a: TF.leaky_relu(a)),
    ("leaky_relu_0.1", lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1)),
    ("elu", lambda a: F.elu(a), lambda a: TF.elu(a)),
    ("elu_0.5", lambda a: F.elu(a, 0.5), lambda a: TF.elu(a, 0.5)),
    ("sigmoid", lambda a: F.sigmoid(a), lambda a: torch.sigmoid(a)),
    ("tanh", lambda a: F.tanh(a), lambda a: torch.tanh(a)),
]
IDS = [name for name, _, _ in ELEMENTWISE]


@pytest.mark.parametrize("name,ours,theirs", ELEMENTWISE, ids=IDS)
@pytest.mark.parametrize("shape", [(1,), (1, 5), (4, 3, 2, 2)])
def test_elementwise_match_torch(name, ours, theirs, shape):
    check_against_torch(ours, theirs, rand(*shape, low=-4, high=4))


@pytest.mark.parametrize("name,ours,theirs", ELEMENTWISE, ids=IDS)
def test_derivative_conventions_at_zero_and_extremes(name, ours, theirs):
    # relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = alpha, as torch
    x = np.array([0.0, -0.0, -1000.0, 1000.0, -88.0, 89.0, 1e-30, -1e-30], np.float32)
    out, _ = check_against_torch(ours, theirs, x)
    assert np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("name,ours,theirs", ELEMENTWISE, ids=IDS)
def test_elementwise_gradcheck(name, ours, theirs):
    x = rand(3, 4, low=-3, high=3)
    x[np.abs(x) < 1e-3] = 0.5  # finite differences are meaningless at relu's kink
    gradcheck(ours, x)


@pytest.mark.parametrize("fn,tfn", [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((1, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 2, 2), 1)])
def test_softmax_match_torch(fn, tfn, shape, dim):
    check_against_torch(lambda a: fn(a, dim), lambda a: tfn(a, dim), rand(*shape, low=-5, high=5))
    gradcheck(lambda a: fn(a, dim), rand(*shape, low=-5, high=5))


@pytest.mark.parametrize("fn,tfn", [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)])
def test_softmax_stable_for_large_logits(fn, tfn):
    x = np.array([[1000.0, -1000.0, 0.0], [1e4, 1e4, -1e4], [-1000.0, -1000.0, -1000.0], [3e37, 0.0, -3e37]],
                 np.float32)
    out, _ = check_against_torch(lambda a: fn(a, 1), lambda a: tfn(a, 1), x)
    assert np.isfinite(out.detach().numpy()).all()
    gradcheck(lambda a: fn(a, 1), x[:3] * 10)


def test_softmax_implicit_dim_like_torch():
    for shape in [(4,), (3, 4), (2, 3, 4), (2, 3, 2, 2)]:
        x = rand(*shape)
        with pytest.warns(UserWarning):
            expected = TF.softmax(torch.tensor(x), dim=None).numpy()
        np.testing.assert_allclose(F.softmax(cnnlab.tensor(x)).numpy(), expected, rtol=1e-6, atol=1e-7)
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        F.softmax(cnnlab.ones(2, 2), 2)


MODULES = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.ELU(0.7), lambda: torch.nn.ELU(0.7)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
]


@pytest.mark.parametrize("make_ours,make_torch", MODULES)
def test_modules_match_torch(make_ours, make_torch):
    ours, theirs = make_ours(), make_torch()
    check_against_torch(ours, theirs, rand(2, 3, 4, low=-3, high=3))
    assert repr(ours) == repr(theirs)


def test_float64_stays_float64():
    x = cnnlab.tensor(rand(3, 3), dtype=np.float64)
    for fn in (F.relu, F.leaky_relu, F.elu, F.sigmoid, F.tanh, lambda a: F.softmax(a, 1), lambda a: F.log_softmax(a, 1)):
        assert fn(x).dtype == np.float64


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), scale=st.sampled_from([1.0, 30.0, 500.0]),
       seed=st.integers(0, 999), pick=st.integers(0, len(ELEMENTWISE) + 1))
def test_activations_hypothesis(shape, scale, seed, pick):
    x = rand(*shape, seed=seed, low=-scale, high=scale)
    if pick < len(ELEMENTWISE):
        _, ours, theirs = ELEMENTWISE[pick]
    else:
        fn, tfn = (F.softmax, TF.softmax) if pick == len(ELEMENTWISE) else (F.log_softmax, TF.log_softmax)
        dim = seed % len(shape)
        ours, theirs = (lambda a: fn(a, dim)), (lambda a: tfn(a, dim))
    check_against_torch(ours, theirs, x)
