"""NumPy's ``axis=`` / ``keepdims=`` are accepted wherever torch accepts them."""

import numpy as np
import pytest
import torch

import cnnlab
from helpers import check_against_torch, rand

REDUCTIONS = ["sum", "mean", "amax", "amin", "var", "std"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{"axis": 1}, {"axis": -1, "keepdims": True}, {"axis": (0, 2)}])
def test_reductions(name, kwargs):
    x = rand(2, 3, 4)
    check_against_torch(lambda t: getattr(t, name)(**kwargs), lambda t: getattr(t, name)(**kwargs), x)
    check_against_torch(lambda t: getattr(cnnlab, name)(t, **kwargs), lambda t: getattr(torch, name)(t, **kwargs), x)


@pytest.mark.parametrize("name", ["argmax", "argmin", "max", "min", "all", "any"])
@pytest.mark.parametrize("kwargs", [{"axis": 1}, {"axis": 0, "keepdims": True}])
def test_index_reductions(name, kwargs):
    x = rand(3, 5, seed=3)
    data = x > 0 if name in ("all", "any") else x
    ours = getattr(cnnlab.tensor(data), name)(**kwargs)
    theirs = getattr(torch.tensor(data), name)(**kwargs)
    ours_values = ours.values if name in ("max", "min") else ours
    theirs_values = theirs.values if name in ("max", "min") else theirs
    np.testing.assert_array_equal(ours_values.numpy(), theirs_values.numpy())
    if name in ("max", "min"):
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    top = getattr(cnnlab, name)(cnnlab.tensor(data), **kwargs)
    np.testing.assert_array_equal((top.values if name in ("max", "min") else top).numpy(), theirs_values.numpy())


def test_max_gradient_through_axis():
    check_against_torch(lambda t: t.max(axis=1).values, lambda t: t.max(axis=1).values, rand(3, 4))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_axis(name):
    check_against_torch(lambda t: getattr(t, name)(axis=1), lambda t: getattr(t, name)(axis=1), rand(2, 5))


def test_cat_stack_squeeze_unsqueeze():
    a, b = rand(2, 3, seed=1), rand(2, 3, seed=2)
    check_against_torch(lambda x, y: cnnlab.cat((x, y), axis=1), lambda x, y: torch.cat((x, y), axis=1), a, b)
    check_against_torch(lambda x, y: cnnlab.stack((x, y), axis=1), lambda x, y: torch.stack((x, y), axis=1), a, b)
    c = rand(2, 1, 3)
    check_against_torch(lambda t: t.squeeze(axis=1), lambda t: t.squeeze(axis=1), c)
    check_against_torch(lambda t: t.unsqueeze(axis=0), lambda t: t.unsqueeze(axis=0), c)


def test_dim_and_axis_together_is_an_error():
    with pytest.raises(TypeError, match="axis"):
        cnnlab.ones(2, 2).sum(dim=0, axis=1)
