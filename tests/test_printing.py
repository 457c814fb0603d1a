"""Tensors, sizes, dtypes and grad_fns print as torch prints them (with cnnlab for torch)."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn


def _as_torch_text(text: str) -> str:
    return text.replace("cnnlab.", "torch.")


rng = np.random.default_rng(0)
VALUES = {
    "scalar": np.float32(3.14159),
    "scalar_int_mode": np.float32(2.0),
    "vector": rng.standard_normal(7).astype(np.float32),
    "matrix": rng.standard_normal((3, 4)).astype(np.float32),
    "3d": rng.standard_normal((2, 3, 4)).astype(np.float32),
    "4d": rng.standard_normal((2, 1, 2, 3)).astype(np.float32),
    "ints_as_floats": np.arange(12, dtype=np.float32).reshape(3, 4),
    "wide_range": np.array([1e-5, 1.0, 3e3], dtype=np.float32),
    "huge": np.array([1.5e9, -2.0], dtype=np.float32),
    "big_ints": np.array([1e9, 1.0], dtype=np.float32),
    "tiny": np.array([1e-6, 2e-6], dtype=np.float32),
    "nonfinite": np.array([np.nan, -np.inf, 1.5, 0.0], dtype=np.float32),
    "nonfinite_ints": np.array([np.nan, np.inf, 2.0], dtype=np.float32),
    "zeros": np.zeros((2, 2), dtype=np.float32),
    "negative": -np.abs(rng.standard_normal(5)).astype(np.float32) * 100,
    "long_row": rng.standard_normal(40).astype(np.float32),
    "summarised": rng.standard_normal((50, 50)).astype(np.float32),
    "summarised_3d": rng.standard_normal((10, 12, 11)).astype(np.float32),
    "summarised_vector": np.arange(2000, dtype=np.float32),
    "float64": rng.standard_normal((2, 3)),
    "float16": rng.standard_normal(4).astype(np.float16),
    "int64": rng.integers(-100, 100, (3, 5)),
    "int32": rng.integers(0, 10, 6).astype(np.int32),
    "uint8": rng.integers(0, 255, (2, 3)).astype(np.uint8),
    "bool": rng.standard_normal((2, 3)) > 0,
    "empty": np.zeros((0,), dtype=np.float32),
    "empty_2d": np.zeros((0, 3), dtype=np.float32),
    "empty_int": np.zeros((2, 0), dtype=np.int64),
}


@pytest.mark.parametrize("name", list(VALUES))
def test_repr_matches_torch(name):
    values = VALUES[name]
    ours = repr(cnnlab.tensor(values))
    theirs = repr(torch.tensor(values))
    assert _as_torch_text(ours) == theirs, f"\ncnnlab:\n{ours}\ntorch:\n{theirs}"
    assert _as_torch_text(str(cnnlab.tensor(values))) == str(torch.tensor(values))


@pytest.mark.parametrize("name", ["vector", "matrix", "float64", "empty_2d"])
def test_requires_grad_and_parameter_reprs(name):
    values = VALUES[name].astype(np.float64 if name == "float64" else np.float32)
    ours = cnnlab.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    assert _as_torch_text(repr(ours)) == repr(theirs)
    assert _as_torch_text(repr(nn.Parameter(ours))) == repr(torch.nn.Parameter(theirs))


def test_grad_fn_in_repr_and_long_suffixes_wrap():
    values = rng.standard_normal((2, 9)).astype(np.float64)
    ours = cnnlab.tensor(values, requires_grad=True) * 2
    theirs = torch.tensor(values, requires_grad=True) * 2
    assert _as_torch_text(repr(ours)) == repr(theirs)


def test_print_options_round_trip():
    x = VALUES["matrix"]
    try:
        cnnlab.set_printoptions(precision=2)
        torch.set_printoptions(precision=2)
        assert _as_torch_text(repr(cnnlab.tensor(x))) == repr(torch.tensor(x))
    finally:
        cnnlab.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert _as_torch_text(repr(cnnlab.tensor(x))) == repr(torch.tensor(x))


def test_size():
    ours, theirs = cnnlab.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert _as_torch_text(repr(ours.size())) == repr(theirs.size()) == "torch.Size([2, 3, 4])"
    assert _as_torch_text(str(ours.shape)) == str(theirs.shape)
    assert ours.size() == (2, 3, 4) and ours.shape == theirs.shape and isinstance(ours.size(), tuple)
    assert ours.size(1) == 3 and ours.size()[1:] == theirs.size()[1:] and type(ours.size()[1:]) is cnnlab.Size
    assert ours.size().numel() == theirs.size().numel() == 24
    assert _as_torch_text(repr(cnnlab.zeros(()).shape)) == repr(torch.zeros(()).shape)
    n, *rest = ours.shape
    assert n == 2 and rest == [3, 4]


def test_dtypes_print_as_torch():
    for name in ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]:
        ours, theirs = getattr(cnnlab, name), getattr(torch, name)
        assert _as_torch_text(repr(ours)) == repr(theirs) and _as_torch_text(str(ours)) == str(theirs)
        assert ours.is_floating_point == theirs.is_floating_point and ours.itemsize == theirs.itemsize
    x = cnnlab.ones(2, dtype=cnnlab.float64)
    assert x.dtype == cnnlab.float64 == np.float64 == np.dtype("float64") and x.dtype != cnnlab.float32
    assert np.zeros(2, dtype=x.dtype).dtype == np.float64 and np.ones(1).astype(cnnlab.float16).dtype == np.float16
    assert cnnlab.long is cnnlab.int64 and cnnlab.float is cnnlab.float32 and cnnlab.double is cnnlab.float64
    assert {cnnlab.float32: "a"}[np.dtype(np.float32)] == "a"


def test_format_one_element_tensors():
    for value in [2.0, 3.14159, -0.5]:
        assert f"{cnnlab.tensor(value):.3f}" == f"{torch.tensor(value):.3f}"
        assert f"{cnnlab.tensor(value)}" == f"{torch.tensor(value)}"
        assert f"{cnnlab.tensor(value):>10.2e}" == f"{torch.tensor(value):>10.2e}"
    assert f"{cnnlab.tensor(7)}" == f"{torch.tensor(7)}"
    loss = nn.functional.mse_loss(cnnlab.ones(3), cnnlab.zeros(3))
    assert f"loss: {loss:>7f}" == "loss: 1.000000"
    assert f"{cnnlab.ones(2)}" == "tensor([1., 1.])"
    with pytest.raises(TypeError, match="one-element"):
        f"{cnnlab.ones(2):.2f}"


def _graph_names(lib, fn, *arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    node = fn(lib, *ts).grad_fn
    names = [node.name()]
    for child, _ in node.next_functions:
        names.append(None if child is None else child.name())
    return names


GRAPHS = {
    "add": lambda L, a, b: a + b, "sub": lambda L, a, b: a - b, "rsub": lambda L, a, b: 1 - a,
    "mul": lambda L, a, b: a * b, "div": lambda L, a, b: a / b, "pow": lambda L, a, b: a ** 2,
    "matmul": lambda L, a, b: a @ b.T, "sum": lambda L, a, b: (a * b).sum(), "sum_dim": lambda L, a, b: a.sum(1),
    "mean": lambda L, a, b: a.mean(), "mean_dim": lambda L, a, b: a.mean(0), "exp": lambda L, a, b: a.exp(),
    "neg": lambda L, a, b: -a, "relu": lambda L, a, b: L.relu(a), "sigmoid": lambda L, a, b: L.sigmoid(a),
    "tanh": lambda L, a, b: L.tanh(a), "reshape": lambda L, a, b: a.reshape(6), "select": lambda L, a, b: a[0],
    "slice": lambda L, a, b: a[:, 1:], "cat": lambda L, a, b: L.cat([a, b]), "stack": lambda L, a, b: L.stack([a, b]),
    "max_dim": lambda L, a, b: a.max(1).values, "double": lambda L, a, b: a.double(),
    "softmax": lambda L, a, b: L.softmax(a, 1), "log_softmax": lambda L, a, b: L.log_softmax(a, 1),
    "mse": lambda L, a, b: L.nn.functional.mse_loss(a, b),
    "cross_entropy": lambda L, a, b: L.nn.functional.cross_entropy(a, L.tensor([0, 2])),
    "bce": lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(a, L.sigmoid(b)),
    "linear": lambda L, a, b: L.nn.functional.linear(a, b, b[0]),
    "linear_no_bias": lambda L, a, b: L.nn.functional.linear(a, b),
    "sin": lambda L, a, b: a.sin(), "repeat": lambda L, a, b: a.repeat(2, 1),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_grad_fn_names_and_next_functions_match_torch(name):
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32) + 3
    if name.startswith("linear"):
        b = rng.standard_normal((3, 3)).astype(np.float32)
    ours = _graph_names(cnnlab, GRAPHS[name], a, b)
    theirs = _graph_names(torch, GRAPHS[name], a, b)
    assert ours == theirs


def test_tutorial_walk_back_through_the_graph():
    # the walk the "Neural Networks" tutorial does: loss -> MseLoss -> Addmm -> AccumulateGrad
    def walk(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))
        loss = lib.nn.MSELoss()(net(lib.ones(1, 4)), lib.zeros(1, 2))
        first = loss.grad_fn.next_functions[0][0]
        return [loss.grad_fn.name(), first.name(), first.next_functions[0][0].name()]

    assert walk(cnnlab) == walk(torch) == ["MseLossBackward0", "AddmmBackward0", "torch::autograd::AccumulateGrad"]
    x = cnnlab.ones(2, requires_grad=True)
    node = (x * 2).grad_fn.next_functions[0][0]
    assert node.variable is x and repr(node).startswith("<AccumulateGrad object at 0x")
    assert repr((x * 2).grad_fn).startswith("<MulBackward0 object at 0x")
