"""Dropout and Dropout2d: statistics of the masks, train/eval behaviour, gradients, seeding."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.functional as F
from cnnlab import nn
from helpers import gradcheck, rand


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    x = cnnlab.ones(200, 500)
    y = F.dropout(x, p).numpy()
    n = y.size
    zero_frac = np.mean(y == 0)
    # Binomial(n, p) fraction: 5 standard deviations make a false failure vanishingly rare.
    assert abs(zero_frac - p) < 5 * np.sqrt(p * (1 - p) / n)
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)  # inverted: scaled at train time
    assert abs(y.mean() - 1) < 5 * np.sqrt(p / (1 - p) / n)  # E[y] = x


def test_dropout2d_drops_whole_channels():
    p = 0.4
    x = cnnlab.tensor(rand(100, 50, 3, 4, low=0.5, high=1.5))
    y = F.dropout2d(x, p).numpy()
    plane_zero = (y == 0).all(axis=(2, 3))
    plane_kept = np.isclose(y, x.numpy() / (1 - p), rtol=1e-6).all(axis=(2, 3))
    assert (plane_zero | plane_kept).all()  # each (n, c) plane is all dropped or all kept
    assert abs(plane_zero.mean() - p) < 5 * np.sqrt(p * (1 - p) / plane_zero.size)
    y3 = F.dropout2d(cnnlab.ones(20, 30, 7), p).numpy()  # 3-D: (N, C, L), as torch
    assert ((y3 == 0).all(axis=2) | (y3 != 0).all(axis=2)).all()


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
@pytest.mark.parametrize("shape", [(1, 3, 4, 4), (5, 6, 2, 3)])
def test_gradient_flows_only_through_kept_units(fn, shape):
    p = 0.3
    x = cnnlab.tensor(rand(*shape), requires_grad=True)
    y = fn(x, p)
    g = rand(*shape, seed=1)
    y.backward(cnnlab.tensor(g))
    kept = y.detach().numpy() != 0
    expected = np.where(kept, g / (1 - p), 0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_dropout_gradcheck_with_fixed_mask(fn):
    x = rand(2, 3, 2, 2)

    def seeded(a):  # the same mask for every finite-difference evaluation
        cnnlab.manual_seed(7)
        return fn(a, 0.5)

    gradcheck(seeded, x)


def test_eval_mode_is_identity_and_train_mode_is_not():
    x = cnnlab.tensor(rand(4, 3, 5, 5))
    for module in (nn.Dropout(0.5), nn.Dropout2d(0.5)):
        assert module.eval()(x) is x
        assert not np.array_equal(module.train()(x).numpy(), x.numpy())
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_p_one_zeroes_everything_with_zero_gradient():
    x = cnnlab.tensor(rand(3, 4), requires_grad=True)
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()
    xt = torch.tensor(rand(3, 4), requires_grad=True)
    torch.nn.functional.dropout(xt, 1.0).sum().backward()
    assert not xt.grad.any()


def test_seeded_masks_are_reproducible():
    x = cnnlab.ones(10, 10)
    cnnlab.manual_seed(3)
    a = F.dropout(x, 0.5).numpy()
    cnnlab.manual_seed(3)
    b = F.dropout(x, 0.5).numpy()
    c = F.dropout(x, 0.5).numpy()
    assert np.array_equal(a, b) and not np.array_equal(b, c)


def test_float64_stays_float64():
    y = F.dropout(cnnlab.ones(4, 4, dtype=np.float64), 0.25)
    assert y.dtype == np.float64
    assert F.dropout2d(cnnlab.ones(2, 2, 3, 3), 0.25).dtype == np.float32


def test_validation_and_repr_match_torch():
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"Dropout: dropout probability has to be between 0 and 1, but got"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match=r"dropout2d: dropout probability"):
            F.dropout2d(cnnlab.ones(1, 1, 2, 2), bad)
        with pytest.raises(ValueError):
            torch.nn.Dropout(bad)
    with pytest.raises(ValueError, match=r"dropout2d: expected input of shape \(N, C, H, W\) or \(N, C, L\), got \(3, 4\)"):
        F.dropout2d(cnnlab.ones(3, 4))
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))
    assert repr(nn.Dropout2d()) == repr(torch.nn.Dropout2d())


@settings(max_examples=15, deadline=None)
@given(p=st.floats(0.05, 0.95), n=st.integers(1, 4), c=st.integers(1, 5), seed=st.integers(0, 999))
def test_dropout_hypothesis_mask_and_scale(p, n, c, seed):
    cnnlab.manual_seed(seed)
    x = rand(n, c, 3, 3, seed=seed, low=0.5, high=1.5)
    for fn in (F.dropout, F.dropout2d):
        y = fn(cnnlab.tensor(x), p).numpy()
        kept = y != 0
        np.testing.assert_allclose(y[kept], x[kept] / np.float32(1 - p), rtol=1e-6)
