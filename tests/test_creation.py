"""Creation functions take torch's keywords (dtype, device, requires_grad, size) and match its values."""

import numpy as np
import pytest
import torch

import cnnlab

DTYPES = [None, "float64", "int64", "int32", "bool"]


def _torch_dtype(name):
    return None if name is None else getattr(torch, name)


def _our_dtype(name):
    return None if name is None else getattr(cnnlab, name if name != "bool" else "bool_")


def _same(ours, theirs, exact=True):
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == np.dtype(str(theirs.dtype)[6:]), (ours.dtype, theirs.dtype)
    assert ours.requires_grad == theirs.requires_grad
    if exact:
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


CASES = {
    "zeros": ((2, 3), {}), "ones": ((2, 3), {}), "empty": ((2, 3), {}),
    "zeros_size": ((), {"size": (2, 3)}), "ones_size": ((), {"size": (4,)}),
    "zeros_tuple": (((2, 3),), {}), "eye": ((3,), {}), "eye_nm": ((2, 4), {}),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_deterministic_creators(case, dtype):
    name = case.split("_")[0]
    args, kwargs = CASES[case]
    req = dtype in (None, "float64") and name != "empty"
    ours = getattr(cnnlab, name)(*args, dtype=_our_dtype(dtype), device="cpu", requires_grad=req, **kwargs)
    theirs = getattr(torch, name)(*args, dtype=_torch_dtype(dtype), device="cpu", requires_grad=req, **kwargs)
    _same(ours, theirs, exact=name != "empty")


@pytest.mark.parametrize("fill", [3, 2.5, True, -1])
@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_full_and_full_like(fill, dtype):
    _same(cnnlab.full((2, 3), fill, dtype=_our_dtype(dtype)), torch.full((2, 3), fill, dtype=_torch_dtype(dtype)))
    _same(cnnlab.full(size=(2,), fill_value=fill, dtype=_our_dtype(dtype)),
          torch.full(size=(2,), fill_value=fill, dtype=_torch_dtype(dtype)))
    base_ours, base_theirs = cnnlab.zeros(2, 2, dtype=cnnlab.float64), torch.zeros(2, 2, dtype=torch.float64)
    _same(cnnlab.full_like(base_ours, fill, dtype=_our_dtype(dtype)),
          torch.full_like(base_theirs, fill, dtype=_torch_dtype(dtype)))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "randn_like", "rand_like"])
@pytest.mark.parametrize("dtype", [None, "float64", "float32"])
def test_like_functions(name, dtype):
    ours_in = cnnlab.ones(3, 2, dtype=cnnlab.float64)
    theirs_in = torch.ones(3, 2, dtype=torch.float64)
    ours = getattr(cnnlab, name)(ours_in, dtype=_our_dtype(dtype), device="cpu", requires_grad=True)
    theirs = getattr(torch, name)(theirs_in, dtype=_torch_dtype(dtype), device="cpu", requires_grad=True)
    _same(ours, theirs, exact=name in ("zeros_like", "ones_like"))


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_random_creators_keywords(name):
    for args, kwargs in [((2, 3), {}), (((2, 3),), {}), ((), {"size": (2, 3)}), ((4,), {"dtype": "float64"})]:
        kw = dict(kwargs)
        ours = getattr(cnnlab, name)(*args, device="cpu", requires_grad=True,
                                     **{k: (_our_dtype(v) if k == "dtype" else v) for k, v in kw.items()})
        theirs = getattr(torch, name)(*args, device="cpu", requires_grad=True,
                                      **{k: (_torch_dtype(v) if k == "dtype" else v) for k, v in kw.items()})
        _same(ours, theirs, exact=False)
    with pytest.raises(TypeError, match="floating"):
        getattr(cnnlab, name)(2, dtype=cnnlab.int64)
    cnnlab.manual_seed(4)
    a = getattr(cnnlab, name)(5)
    cnnlab.manual_seed(4)
    assert a.equal(getattr(cnnlab, name)(size=(5,)))


def test_randint_randperm_keywords():
    _same(cnnlab.randint(0, 5, (3, 2), device="cpu"), torch.randint(0, 5, (3, 2), device="cpu"), exact=False)
    _same(cnnlab.randint(5, (4,)), torch.randint(5, (4,)), exact=False)
    _same(cnnlab.randint(0, 5, size=(2,), dtype=cnnlab.int32), torch.randint(0, 5, size=(2,), dtype=torch.int32), exact=False)
    _same(cnnlab.randperm(6, dtype=cnnlab.int32), torch.randperm(6, dtype=torch.int32), exact=False)
    assert sorted(cnnlab.randperm(6).tolist()) == list(range(6))


ARANGE = [(5,), (2, 9), (1, 10, 3), (10, 0, -2), (0.0, 1.0, 0.1), (-3.3, 2.9, 0.37), (0.5, 100, 0.7), (0, 5, 0.5)]


@pytest.mark.parametrize("args", ARANGE)
@pytest.mark.parametrize("dtype", [None, "float64", "int64"])
def test_arange(args, dtype):
    try:
        theirs = torch.arange(*args, dtype=_torch_dtype(dtype), device="cpu")
    except (ValueError, RuntimeError) as e:  # e.g. a float step that an integer dtype truncates to 0
        with pytest.raises(ValueError, match="step"):
            cnnlab.arange(*args, dtype=_our_dtype(dtype), device="cpu")
        assert "step" in str(e)
        return
    ours = cnnlab.arange(*args, dtype=_our_dtype(dtype), device="cpu")
    _same(ours, theirs, exact=False)
    if ours.dtype.kind == "f":  # torch's vectorised loop may round differently from its scalar formula
        step = args[2] if len(args) == 3 else 1
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6 * abs(step))
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert cnnlab.arange(5.0, requires_grad=True).requires_grad


@pytest.mark.parametrize("args", [(0, 1, 7), (-3.3, 2.9, 11), (0, 10, 1000), (1e-3, 7, 333), (2, -5, 101), (3, 3, 1), (0, 1, 0)])
@pytest.mark.parametrize("dtype", [None, "float64", "int64"])
def test_linspace(args, dtype):
    ours = cnnlab.linspace(*args, dtype=_our_dtype(dtype), device="cpu")
    theirs = torch.linspace(*args, dtype=_torch_dtype(dtype), device="cpu")
    _same(ours, theirs, exact=dtype != "float64")
    if dtype == "float64":
        np.testing.assert_array_max_ulp(ours.numpy(), theirs.numpy(), maxulp=1)


def test_tensor_and_as_tensor_keywords():
    _same(cnnlab.tensor([1, 2], dtype=cnnlab.float64, device="cpu", requires_grad=True),
          torch.tensor([1, 2], dtype=torch.float64, device="cpu", requires_grad=True))
    _same(cnnlab.as_tensor([1.5], device="cpu"), torch.as_tensor([1.5], device="cpu"))


@pytest.mark.parametrize("make", [
    lambda: cnnlab.zeros(2, device="cuda"), lambda: cnnlab.randn(2, device="cuda:0"),
    lambda: cnnlab.arange(3, device="mps"), lambda: cnnlab.ones_like(cnnlab.ones(1), device="cuda"),
    lambda: cnnlab.tensor([1.0], device="cuda"), lambda: cnnlab.eye(2, device=cnnlab.device("cuda")),
])
def test_device_keyword_off_the_cpu_fails_in_one_line(make):
    with pytest.raises(ValueError, match="CPU only"):
        make()


def test_bad_creation_arguments():
    with pytest.raises(TypeError, match="both"):
        cnnlab.zeros(2, size=(2,))
    with pytest.raises(TypeError, match="unexpected keyword"):
        cnnlab.ones(2, dtpye=cnnlab.float64)
    with pytest.raises(ValueError, match="negative"):
        cnnlab.zeros(-1)
    with pytest.raises(ValueError, match="step"):
        cnnlab.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="floating point"):
        cnnlab.zeros(2, dtype=cnnlab.int64, requires_grad=True)
