"""The names Dive into Deep Learning's torch library aliases at import, exact to torch."""

import numpy as np
import pytest
import torch

import cnnlab
from helpers import check_against_torch, gradcheck, rand

# the aliases of d2l's torch.py: name -> the torch callable it aliases
D2L_FUNCTIONS = [
    "ones", "zeros", "ones_like", "zeros_like", "tensor", "arange", "meshgrid", "sin", "sinh", "cos",
    "cosh", "tanh", "linspace", "exp", "log", "normal", "rand", "randn", "matmul", "cat", "stack",
    "abs", "eye", "sigmoid", "bmm",
]
D2L_DTYPES = ["int32", "int64", "float32"]
# its lambdas call these Tensor methods
D2L_METHODS = ["numel", "reshape", "to", "sum", "argmax", "type", "t", "mean", "unsqueeze", "swapaxes",
               "repeat", "detach", "numpy"]


def test_every_aliased_name_exists():
    missing = [n for n in D2L_FUNCTIONS + D2L_DTYPES if not hasattr(cnnlab, n)]
    missing += [f"Tensor.{n}" for n in D2L_METHODS if not hasattr(cnnlab.Tensor, n)]
    assert not missing, f"missing: {missing}"
    for n in D2L_DTYPES:
        assert np.dtype(getattr(cnnlab, n)) == np.dtype(str(getattr(torch, n)).split(".")[1])


@pytest.mark.parametrize("name", ["sin", "cos", "sinh", "cosh"])
def test_trig_against_torch_and_finite_differences(name):
    x = rand(3, 4, seed=1, low=-2, high=2)
    check_against_torch(getattr(cnnlab, name), getattr(torch, name), x)
    check_against_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)
    gradcheck(getattr(cnnlab, name), x)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (3, 2), (2, 4, 3)])
def test_meshgrid(indexing, sizes):
    arrays = [rand(n, seed=i) for i, n in enumerate(sizes)]

    def combine(lib):
        def fn(*ts):
            grids = lib.meshgrid(*ts, indexing=indexing)
            return sum(g * (k + 1) for k, g in enumerate(grids))
        return fn

    check_against_torch(combine(cnnlab), combine(torch), *arrays)
    gradcheck(combine(cnnlab), *arrays)
    ours = cnnlab.meshgrid([cnnlab.tensor(a) for a in arrays], indexing=indexing)
    theirs = torch.meshgrid([torch.tensor(a) for a in arrays], indexing=indexing)
    assert [tuple(g.shape) for g in ours] == [tuple(g.shape) for g in theirs]


def test_meshgrid_errors():
    with pytest.raises(ValueError, match="indexing"):
        cnnlab.meshgrid(cnnlab.ones(2), indexing="ji")
    with pytest.raises(ValueError, match="shape"):
        cnnlab.meshgrid(cnnlab.ones(2, 2))


@pytest.mark.parametrize("sizes", [(2,), (2, 3), (1, 2, 2), (3, 1, 1)])
def test_repeat(sizes):
    x = rand(2, 3, seed=2) if len(sizes) >= 2 else rand(3, seed=2)
    check_against_torch(lambda t: t.repeat(*sizes), lambda t: t.repeat(*sizes), x)
    gradcheck(lambda t: t.repeat(*sizes), x)
    with pytest.raises(ValueError, match="repeat"):
        cnnlab.ones(2, 2, 2).repeat(2)


def test_swapaxes():
    x = rand(2, 3, 4)
    check_against_torch(lambda t: t.swapaxes(0, 2), lambda t: t.swapaxes(0, 2), x)
    check_against_torch(lambda t: cnnlab.swapaxes(t, 1, 2), lambda t: torch.swapaxes(t, 1, 2), x)


def test_normal_shapes_dtypes_and_moments():
    cnnlab.manual_seed(0)
    a = cnnlab.normal(2.0, 3.0, (200, 100))
    b = torch.normal(2.0, 3.0, (200, 100))
    assert a.shape == tuple(b.shape) and a.dtype == np.float32 and str(b.dtype) == "torch.float32"
    assert abs(a.mean().item() - 2.0) < 0.05 and abs(a.std().item() - 3.0) < 0.05
    mean, std = cnnlab.arange(4.0), cnnlab.tensor([0.0, 1.0, 0.0, 2.0])
    c = cnnlab.normal(mean, std)
    assert c.shape == (4,) and c[0].item() == 0.0 and c[2].item() == 2.0
    cnnlab.manual_seed(5)
    first = cnnlab.normal(0, 1, (3,)).tolist()
    cnnlab.manual_seed(5)
    assert cnnlab.normal(0, 1, (3,)).tolist() == first
    with pytest.raises(ValueError, match="size"):
        cnnlab.normal(0.0, 1.0)
    with pytest.raises(ValueError, match="std"):
        cnnlab.normal(0.0, -1.0, (2,))


def test_d2l_style_synthetic_data_and_accuracy():
    # what d2l's helpers do with these names: normal data, matmul, reshape, argmax, type, sum
    cnnlab.manual_seed(0)
    w = cnnlab.tensor([2.0, -3.4])
    X = cnnlab.normal(0, 1, (10, len(w)))
    y = cnnlab.matmul(X, w) + 4.2
    assert y.reshape((-1, 1)).shape == (10, 1)
    y_hat = cnnlab.tensor([[0.1, 0.9], [0.8, 0.2]])
    labels = cnnlab.tensor([1, 1])
    cmp = y_hat.argmax(axis=1).type(labels.dtype) == labels
    assert float(cmp.type(labels.dtype).sum()) == 1.0
