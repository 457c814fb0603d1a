"""Tensor API, grad modes and the error messages of the foundation."""

import numpy as np
import pytest
import torch

import cnnlab


def test_creation_dtypes_follow_torch():
    assert cnnlab.tensor([1.0, 2.0]).dtype == np.float32
    assert cnnlab.tensor([1, 2]).dtype == np.int64
    assert cnnlab.tensor([True]).dtype == np.bool_
    assert cnnlab.tensor([1.0], dtype=cnnlab.float64).dtype == np.float64
    assert cnnlab.zeros(2, 3).shape == (2, 3) and cnnlab.zeros(2, 3).dtype == np.float32
    assert cnnlab.ones((2, 3)).numpy().sum() == 6
    assert cnnlab.zeros_like(cnnlab.ones(2, dtype=cnnlab.float64)).dtype == np.float64
    assert cnnlab.arange(5).dtype == np.int64 and cnnlab.arange(0.0, 1.0, 0.25).dtype == np.float32
    assert cnnlab.arange(5).tolist() == torch.arange(5).tolist()
    r = cnnlab.randint(0, 10, (100,))
    assert r.dtype == np.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10
    u = cnnlab.rand(1000)
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    assert abs(cnnlab.randn(10000).numpy().std() - 1) < 0.05
    a = np.arange(3.0)
    t = cnnlab.from_numpy(a)
    a[0] = 7
    assert t.dtype == np.float64 and t[0].item() == 7  # shares memory, as torch.from_numpy


def test_manual_seed_reproducible():
    cnnlab.manual_seed(3)
    a = cnnlab.randn(5).numpy().copy()
    cnnlab.manual_seed(3)
    assert np.array_equal(a, cnnlab.randn(5).numpy())


def test_attributes_and_conversions():
    x = cnnlab.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert x.shape == (1, 3) and x.ndim == 2 and x.size() == (1, 3) and x.size(1) == 3
    assert x.numel() == 3 and x.dim() == 2 and x.device == "cpu"
    assert x.to("cpu") is x
    assert x.to(cnnlab.float64).dtype == np.float64
    assert x.to("cpu", dtype=cnnlab.float64).dtype == np.float64
    assert x.to(torch.float64).dtype == np.float64  # ported code passing torch dtypes
    assert x.double().dtype == np.float64 and x.detach().long().dtype == np.int64
    assert x.sum().item() == 6.0
    d = x.detach()
    assert not d.requires_grad and d.numpy() is x._data
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(ValueError, match="CPU only"):
        x.to("cuda")
    assert cnnlab.device("cpu") == "cpu"


def test_cast_is_differentiable():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]


def test_no_grad_and_enable_grad():
    x = cnnlab.tensor([1.0], requires_grad=True)
    with cnnlab.no_grad():
        y = x * 2
        with cnnlab.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad

    @cnnlab.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and cnnlab.is_grad_enabled()


def test_backward_on_non_scalar_needs_gradient():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs.*gradient="):
        (x * 2).backward()
    (x * 2).backward(cnnlab.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(cnnlab.tensor([1.0, 1.0, 1.0]))


def test_second_backward_through_released_graph_is_refused():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph"):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.tolist() == [2 + 4, 4 + 8]


def test_backward_without_grad_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cnnlab.tensor([1.0]).sum().backward()


@pytest.mark.parametrize(
    "fn,pattern",
    [
        (lambda a, b: a + b, r"add: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: a * b, r"mul: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: a @ b, r"matmul: shapes \(2, 3\) and \(4,\)"),
        (lambda a, b: cnnlab.cat([a, b]), r"cat: tensor 1 has shape \(4,\)"),
    ],
)
def test_incompatible_shapes_raise_value_error_naming_op_and_shapes(fn, pattern):
    with pytest.raises(ValueError, match=pattern):
        fn(cnnlab.zeros(2, 3), cnnlab.zeros(4))


def test_reshape_and_dim_errors_are_clear():
    with pytest.raises(ValueError, match=r"reshape: shape \(4, 4\) is invalid for an input of shape \(2, 3\)"):
        cnnlab.zeros(2, 3).reshape(4, 4)
    with pytest.raises(IndexError, match="sum: dim 5 is out of range"):
        cnnlab.zeros(2, 3).sum(5)


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        cnnlab.tensor([1, 2], requires_grad=True)


def test_inplace_update_of_leaf_outside_no_grad_is_refused():
    w = cnnlab.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1
    with cnnlab.no_grad():
        w -= 1
    assert w.item() == 0.0 and w.is_leaf


def test_repr_looks_like_torch():
    assert repr(cnnlab.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(cnnlab.tensor([1.0], requires_grad=True))
