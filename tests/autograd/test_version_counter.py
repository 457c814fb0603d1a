"""Version counters and in-place changes, against torch (issue 12).

Each case runs the same code on ``torch`` and on ``cnnlab`` (the two share the method names
used here) and checks the two agree: both raise, or neither raises and the gradients match.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn, optim


def run_both(program, *arrays, grad=(True,)):
    """``program(lib, *tensors)`` → tensor to ``sum().backward()``; returns per-library
    ("raised", message) or ("ok", [grads])."""
    results = []
    for lib in (torch, cnnlab):
        leaves = [lib.tensor(a, requires_grad=g) for a, g in zip(arrays, list(grad) + [False] * 9)]
        try:
            out = program(lib, *leaves)
            out.sum().backward()
        except RuntimeError as e:
            results.append(("raised", str(e)))
            continue
        results.append(("ok", [None if t.grad is None else t.grad.detach().numpy().copy() for t in leaves]))
    return results


def assert_same(program, *arrays, grad=(True,), must_raise=None):
    (tk, tv), (ck, cv) = run_both(program, *arrays, grad=grad)
    assert tk == ck, f"torch {tk} ({tv if tk == 'raised' else ''}), cnnlab {ck} ({cv if ck == 'raised' else ''})"
    if must_raise is not None:
        assert (tk == "raised") == must_raise
    if tk == "raised":
        assert "modified by an inplace operation" in cv or "in-place operation" in cv, cv
        return cv
    for i, (a, b) in enumerate(zip(tv, cv)):
        assert (a is None) == (b is None), f"input {i}: torch grad {a}, cnnlab grad {b}"
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=f"gradient of input {i}")
    return None


X = np.array([1.0, 2.0, 3.0], dtype=np.float32)


def test_issue_example_raises_instead_of_a_wrong_gradient():
    def program(lib, x):
        a = x * 2
        b = a * a
        a.add_(1)
        return b

    message = assert_same(program, X, must_raise=True)
    assert "MulBackward" in message and "version 1; expected version 0" in message


def test_sigmoid_output_changed_in_place_raises():
    def program(lib, x):
        s = x.sigmoid()
        y = s * 1
        s.mul_(2)
        return y

    message = assert_same(program, X, must_raise=True)
    assert "SigmoidBackward" in message


def test_op_that_needs_no_saved_value_does_not_raise():
    def program(lib, x):
        a = x * 2
        b = a + 5
        a.mul_(3)  # recorded: the final graph sees the new a
        return b + a

    assert_same(program, X, must_raise=False)


# (name, op on (a, b)); a and b are non-leaf tensors of shape (3, 3)
BINARY_AND_UNARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "pow_scalar": lambda a, b: a**2,
    "rpow": lambda a, b: 2**a,
    "mul_scalar": lambda a, b: a * 3,
    "matmul": lambda a, b: a @ b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "neg": lambda a, b: -a,
    "abs": lambda a, b: a.abs(),
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: a.log(),
    "sqrt": lambda a, b: a.sqrt(),
    "clamp": lambda a, b: a.clamp(0.6, 1.2),
    "relu": lambda a, b: a.relu(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "tanh": lambda a, b: a.tanh(),
    "softmax": lambda a, b: a.softmax(-1),
    "log_softmax": lambda a, b: a.log_softmax(-1),
    "sum": lambda a, b: a.sum(0),
    "mean": lambda a, b: a.mean(1),
    "amax": lambda a, b: a.amax(0),
    "max_dim": lambda a, b: a.max(0)[0],
    "var": lambda a, b: a.var(0),
    "reshape": lambda a, b: a.reshape(9),
    "t": lambda a, b: a.t(),
    "slice": lambda a, b: a[1:],
}


@pytest.mark.parametrize("name", sorted(BINARY_AND_UNARY))
@pytest.mark.parametrize("target", ["a", "b", "out"])
@pytest.mark.parametrize("b_grad", [True, False])
def test_each_op_raises_exactly_where_torch_raises(name, target, b_grad):
    op = BINARY_AND_UNARY[name]
    rng = np.random.default_rng(0)
    xa = rng.uniform(0.5, 1.5, (3, 3)).astype(np.float32)
    xb = rng.uniform(0.5, 1.5, (3, 3)).astype(np.float32)

    def program(lib, x, y):
        a = x * 1
        b = y * 1 if b_grad else y
        out = op(a, b)
        keep = out * 1  # backward goes through the op whatever happens to `out`
        with lib.no_grad():
            {"a": a, "b": b, "out": out}[target].mul_(1)
        return keep

    assert_same(program, xa, xb, grad=(True, b_grad))


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.add_(1),
        lambda t: t.sub_(0.5, alpha=2),
        lambda t: t.mul_(3),
        lambda t: t.div_(4),
        lambda t: t.clamp_(2.5, 5),
        lambda t: t.relu_(),
        lambda t: t.fill_(7),
        lambda t: t.zero_(),
        lambda t: t.copy_(t * 0 + 2),
        lambda t: t.__setitem__(slice(0, 2), 9),
        lambda t: t.__iadd__(t * t),
        lambda t: t.__isub__(1),
        lambda t: t.__imul__(t),
        lambda t: t.__itruediv__(2),
    ],
    ids=["add_", "sub_", "mul_", "div_", "clamp_", "relu_", "fill_", "zero_", "copy_",
         "setitem", "iadd", "isub", "imul", "idiv"],
)
def test_in_place_on_non_leaf_is_recorded_as_torch(change):
    def program(lib, x, y):
        a = x * y
        b = a + 1  # does not read a: must not raise
        change(a)
        return a * 2 + b

    assert_same(program, X, X + 1, grad=(True, True))


def test_setitem_with_a_tensor_value_sends_it_the_gradient():
    def program(lib, x, v):
        a = x * 3
        a[1:] = v * v
        return a * a

    assert_same(program, X, np.float32([4, 5]), grad=(True, True), must_raise=False)


@pytest.mark.parametrize(
    "change",
    [lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(), lambda t: t.fill_(1),
     lambda t: t.copy_(t), lambda t: t.clamp_(0, 1), lambda t: t.__setitem__(0, 1.0),
     lambda t: t.__iadd__(1), lambda t: t.__isub__(1), lambda t: t.sub_(1), lambda t: t.div_(2)],
)
def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad(change):
    for lib in (torch, cnnlab):
        x = lib.tensor(X.copy(), requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            change(x)
        with lib.no_grad():
            change(x)  # allowed, and counted
        assert x._version == 1


def test_in_place_on_a_view_of_a_leaf_is_refused_as_torch():
    for lib in (torch, cnnlab):
        x = lib.tensor(X.copy(), requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            x[1:].mul_(2)


@pytest.mark.parametrize(
    "change",
    [lambda t: t.add_(1), lambda t: t.sub_(1), lambda t: t.mul_(2), lambda t: t.div_(2),
     lambda t: t.zero_(), lambda t: t.fill_(3), lambda t: t.copy_(t * 2), lambda t: t.clamp_(0, 1),
     lambda t: t.relu_(), lambda t: t.__setitem__(0, 5.0), lambda t: t.__iadd__(1),
     lambda t: t.__isub__(1), lambda t: t.__imul__(2), lambda t: t.__itruediv__(2)],
)
def test_every_in_place_op_bumps_the_version_shared_by_views(change):
    for lib in (torch, cnnlab):
        base = lib.tensor(np.arange(6, dtype=np.float32))
        views = [base.view(2, 3), base[1:], base.view(3, 2).t(), base.detach(), base.unsqueeze(0)]
        change(views[1])
        assert base._version == 1, lib.__name__
        assert [v._version for v in views] == [1] * len(views), lib.__name__


def test_version_starts_at_zero_and_out_of_place_ops_do_not_bump():
    for lib in (torch, cnnlab):
        x = lib.tensor(X.copy())
        _ = x + 1, x * 2, x.reshape(3, 1), x.exp()
        assert x._version == 0
        assert (x + 1)._version == 0


def test_optimizer_step_bumps_versions_so_a_stale_graph_refuses_backward():
    for lib, tnn, topt in ((torch, torch.nn, torch.optim), (cnnlab, nn, optim)):
        lib.manual_seed(0)
        layer = tnn.Linear(3, 2)
        opt = topt.SGD(layer.parameters(), lr=0.1)
        # the weight is saved only for the input's gradient (torch's addmm): the input needs one
        loss = layer(lib.tensor(X.reshape(1, 3), requires_grad=True)).sum()
        loss.backward(retain_graph=True)
        before = layer.weight._version
        opt.step()
        assert layer.weight._version == before + 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


def test_optimizer_updates_every_parameter_version_once_per_step():
    for name in ("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"):
        model = nn.Linear(3, 2)
        opt = getattr(optim, name)(model.parameters(), lr=0.1)
        model(cnnlab.tensor(X.reshape(1, 3))).sum().backward()
        opt.step()
        opt.step()
        assert [p._version for p in model.parameters()] == [2, 2], name


def test_in_place_dtype_rules_follow_torch():
    for lib in (torch, cnnlab):
        i = lib.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match=r"result type (Float|Double) can't be cast to the desired output type Long"):
            i.add_(1.5)
        b = lib.tensor([True, False])
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Bool"):
            b.add_(lib.tensor([1, 2]))
        f = lib.tensor([1.0, 2.0])
        f.add_(lib.tensor([1.0, 2.0], dtype=lib.float64))  # same kind: allowed
        assert f.dtype == lib.float32


def test_in_place_on_an_expanded_tensor_is_refused():
    for lib in (torch, cnnlab):
        e = lib.tensor([1.0, 2.0]).expand(3, 2)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            e.add_(1)


# ------------------------------------------------------------------------ views
def shares(t, base) -> bool:
    return np.shares_memory(t.detach().numpy(), base.detach().numpy())


VIEW_OPS = {
    "view": lambda t: t.view(3, 4),
    "view_as": lambda t: t.view_as(t.reshape(2, 6)),
    "reshape_contiguous": lambda t: t.reshape(2, 2, 3),
    "flatten": lambda t: t.flatten(),
    "t": lambda t: t.t(),
    "T": lambda t: t.T,
    "transpose": lambda t: t.transpose(0, 1),
    "permute": lambda t: t.permute(1, 0),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "squeeze": lambda t: t.unsqueeze(0).squeeze(0),
    "basic_slice": lambda t: t[1:, ::2],
    "int_index": lambda t: t[1],
    "expand": lambda t: t[:1].expand(3, 4),
    "detach": lambda t: t.detach(),
    "contiguous": lambda t: t.contiguous(),
    "reshape_of_transpose": lambda t: t.t().reshape(12),
    "fancy_index": lambda t: t[[0, 2]],
    "contiguous_of_transpose": lambda t: t.t().contiguous(),
}


@pytest.mark.parametrize("name", sorted(VIEW_OPS))
def test_view_ops_share_memory_exactly_as_torch(name):
    op = VIEW_OPS[name]
    expected = None
    for lib in (torch, cnnlab):
        base = lib.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
        out = op(base)
        shared = shares(out, base)
        expected = shared if expected is None else expected
        assert shared == expected, f"{name}: torch shares memory: {expected}, cnnlab: {shared}"
        if shared and name != "expand":
            with lib.no_grad():
                out.mul_(-1)
            assert base._version == 1
            assert base.min().item() < 0, f"{name}: a write to the view did not reach the base"


def test_view_of_a_non_contiguous_tensor_raises_torchs_error():
    for lib in (torch, cnnlab):
        x = lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
        with pytest.raises(RuntimeError, match=r"view size is not compatible with input tensor's size and stride.*Use \.reshape\(\.\.\.\) instead"):
            x.t().view(6)
        assert x.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        v = x.t().contiguous().view(6)
        assert not shares(v, x)


def test_view_writes_reach_the_base_and_gradients_flow():
    for lib in (torch, cnnlab):
        x = lib.tensor(np.arange(6, dtype=np.float32))
        v = x.view(2, 3)
        v[1, 1] = 100
        assert x.tolist()[4] == 100
    assert_same(lambda lib, x: x.view(3, 1).t().reshape(3) * x, X)


def test_a_view_of_a_base_changed_in_place_is_re_derived_as_torch():
    def program(lib, x):
        a = x * 2
        v = a[:2]
        w = a.view(3, 1)
        a.mul_(x)
        return v * 1 + w[:2, 0] * 2  # both views see a's new value and its graph

    assert_same(program, X, must_raise=False)


def test_base_changed_through_a_view_is_refused():
    """Deliberate difference (docs/design/autograd-semantics.md): torch records CopySlices on
    the base when one of its views is changed in place; cnnlab refuses to use the base then."""
    x = cnnlab.tensor(X.copy(), requires_grad=True)
    a = x * 2
    a[:2].mul_(3)
    with pytest.raises(RuntimeError, match="re-derives such views, cnnlab does not"):
        (a * 1).sum()


def test_in_place_on_view_of_non_leaf_matches_torch_for_the_view():
    def program(lib, x):
        a = x * 2
        v = a[1:]
        v.mul_(x[1:])
        return v

    assert_same(program, X, must_raise=False)


# -------------------------------------------- where cnnlab once refused what torch accepts
def test_max_pooling_on_integers_follows_torch():
    x = np.random.default_rng(0).integers(-50, 50, (1, 2, 5, 5))
    for dtype in (np.int64, np.int32, np.uint8):
        a = np.abs(x).astype(dtype) if dtype == np.uint8 else x.astype(dtype)
        ours = nn.MaxPool2d(2, padding=1)(cnnlab.from_numpy(a.copy()))
        theirs = torch.nn.MaxPool2d(2, padding=1)(torch.from_numpy(a.copy()))
        assert str(ours.numpy().dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_batch_norm_training_on_an_empty_batch_follows_torch():
    ours, theirs = nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2)
    x = cnnlab.zeros(0, 2, 3, 3, requires_grad=True)
    tx = torch.zeros(0, 2, 3, 3, requires_grad=True)
    ours(x).sum().backward()
    theirs(tx).sum().backward()
    assert x.grad.shape == tuple(tx.grad.shape)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
    np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
    with pytest.raises(ValueError, match="more than 1 value per channel"):  # exactly one: refused by both
        ours(cnnlab.zeros(1, 2, 1, 1))


def test_sgd_with_nan_learning_rate_is_a_documented_difference():
    """torch accepts lr=nan and its first step makes every parameter NaN; cnnlab refuses it
    (cnnlab/optim/sgd.py docstring, docs/design/autograd-semantics.md)."""
    torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=float("nan"))  # torch: accepted
    with pytest.raises(ValueError, match="Invalid learning rate: nan"):
        optim.SGD([nn.Parameter(cnnlab.ones(2))], lr=float("nan"))
