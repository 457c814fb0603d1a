"""Sampling straight into an array's own float dtype (``cnnlab/random.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import cnnlab
from cnnlab.random import fill_normal, fill_uniform


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fill_uniform_and_normal_draw_in_place_with_the_right_law(dtype):
    rng = np.random.default_rng(0)
    u = np.empty(200_000, dtype)
    assert fill_uniform(rng, u, -2.0, 3.0) is u and u.dtype == dtype
    assert u.min() >= -2.0 and u.max() < 3.0
    assert stats.kstest(u, stats.uniform(loc=-2.0, scale=5.0).cdf).pvalue > 1e-3
    n = np.empty(200_000, dtype)
    fill_normal(rng, n, 1.5, 0.5)
    assert stats.kstest(n, stats.norm(loc=1.5, scale=0.5).cdf).pvalue > 1e-3


def test_fill_handles_views_and_other_float_dtypes():
    rng = np.random.default_rng(0)
    base = np.zeros((300, 400), np.float32)
    view = base.T  # not C-contiguous: drawn beside, then copied in
    fill_uniform(rng, view, 1.0, 2.0)
    assert base.min() >= 1.0 and base.max() < 2.0
    half = np.empty(1000, np.float16)
    fill_normal(rng, half)
    assert half.dtype == np.float16 and abs(float(half.astype(np.float64).mean())) < 0.2


def test_a_seed_gives_the_same_initial_weights():
    cnnlab.manual_seed(7)
    a = cnnlab.nn.Linear(50, 40).weight.detach().numpy().copy()
    cnnlab.manual_seed(7)
    b = cnnlab.nn.Linear(50, 40).weight.detach().numpy().copy()
    np.testing.assert_array_equal(a, b)
    bound = 1 / np.sqrt(50)  # kaiming_uniform_(a=√5) on a Linear: U(-1/√in, 1/√in), as torch
    assert a.dtype == np.float32 and np.abs(a).max() <= bound
    assert stats.kstest(a.ravel(), stats.uniform(loc=-bound, scale=2 * bound).cdf).pvalue > 1e-3
