"""Every differentiable op of the engine: forward and gradients vs torch, and a float64
finite-difference gradcheck."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cnnlab
from helpers import check_against_torch, gradcheck, rand

# (name, cnnlab fn, torch fn, input arrays) for ops with two float inputs
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / b, lambda a, b: a / b),
    ("maximum", lambda a, b: cnnlab.maximum(a, b), torch.maximum),
    ("minimum", lambda a, b: cnnlab.minimum(a, b), torch.minimum),
]
BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((), (2, 2))]


@pytest.mark.parametrize("name,ours,theirs", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES)
def test_binary_ops_match_torch(name, ours, theirs, sa, sb):
    a, b = rand(*sa, seed=1), rand(*sb, seed=2, low=0.5, high=2.0)
    check_against_torch(ours, theirs, a, b)


@pytest.mark.parametrize("name,ours,theirs", BINARY, ids=[b[0] for b in BINARY])
def test_binary_ops_gradcheck(name, ours, theirs):
    gradcheck(ours, rand(2, 3, seed=3), rand(3, seed=4, low=0.5, high=2.0))


def test_binary_ops_with_python_scalars():
    check_against_torch(lambda a: 2 * a - 1 + a / 4 - 3 / (a + 5), lambda a: 2 * a - 1 + a / 4 - 3 / (a + 5), rand(3, 4))
    check_against_torch(lambda a: a**3 + 2**a, lambda a: a**3 + 2**a, rand(3, 4))
    x = cnnlab.tensor([1.0, 2.0])
    assert (x * 2).dtype == np.float32 and (x + 1.5).dtype == np.float32


def test_pow_tensor_exponent():
    check_against_torch(lambda a, b: a**b, lambda a, b: a**b, rand(3, 4, low=0.5, high=2), rand(4, seed=5))
    gradcheck(lambda a, b: a**b, rand(3, 4, low=0.5, high=2), rand(4, seed=5))


def test_maximum_ties_split_gradient_like_torch():
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    check_against_torch(lambda x, y: cnnlab.maximum(x, y), torch.maximum, a, a.copy())


UNARY = [
    ("neg", lambda a: -a, lambda a: -a, (-1, 1)),
    ("exp", lambda a: a.exp(), torch.exp, (-1, 1)),
    ("log", lambda a: a.log(), torch.log, (0.5, 2)),
    ("sqrt", lambda a: a.sqrt(), torch.sqrt, (0.5, 2)),
    ("abs", lambda a: a.abs(), torch.abs, (-1, 1)),
    ("clamp", lambda a: a.clamp(-0.3, 0.4), lambda a: a.clamp(-0.3, 0.4), (-1, 1)),
    ("clamp_min", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), (-1, 1)),
]


@pytest.mark.parametrize("name,ours,theirs,rng", UNARY, ids=[u[0] for u in UNARY])
def test_unary_ops(name, ours, theirs, rng):
    x = rand(3, 5, low=rng[0], high=rng[1])
    check_against_torch(ours, theirs, x)
    gradcheck(ours, x)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(sa, sb):
    check_against_torch(lambda a, b: a @ b, lambda a, b: a @ b, rand(*sa), rand(*sb, seed=7))
    gradcheck(lambda a, b: a @ b, rand(*sa), rand(*sb, seed=7))


REDUCTIONS = [
    ("sum_all", lambda a: a.sum(), lambda a: a.sum()),
    ("sum_dim", lambda a: a.sum(1), lambda a: a.sum(1)),
    ("sum_dims_keep", lambda a: a.sum((0, 2), keepdim=True), lambda a: a.sum((0, 2), keepdim=True)),
    ("mean_all", lambda a: a.mean(), lambda a: a.mean()),
    ("mean_neg_dim", lambda a: a.mean(-1), lambda a: a.mean(-1)),
    ("max_all", lambda a: a.max(), lambda a: a.max()),
    ("min_all", lambda a: a.min(), lambda a: a.min()),
    ("max_dim", lambda a: a.max(1).values, lambda a: a.max(1).values),
    ("min_dim_keep", lambda a: a.min(2, keepdim=True)[0], lambda a: a.min(2, keepdim=True)[0]),
    ("var_all", lambda a: a.var(), lambda a: a.var()),
    ("var_dim", lambda a: a.var(1), lambda a: a.var(1)),
    ("var_biased_keep", lambda a: a.var(2, unbiased=False, keepdim=True), lambda a: a.var(2, unbiased=False, keepdim=True)),
    ("std_dim", lambda a: a.std(0), lambda a: a.std(0)),
    ("std_correction", lambda a: a.std(-1, correction=0), lambda a: a.std(-1, correction=0)),
]


@pytest.mark.parametrize("name,ours,theirs", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions(name, ours, theirs):
    x = rand(3, 4, 5)
    check_against_torch(ours, theirs, x)
    gradcheck(ours, x)


def test_max_with_ties_matches_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], dtype=np.float32)
    check_against_torch(lambda a: a.max(), lambda a: a.max(), x)
    check_against_torch(lambda a: a.max(1).values, lambda a: a.max(1).values, x)
    assert cnnlab.tensor(x).max(1).indices.tolist() == torch.tensor(x).max(1).indices.tolist()


SHAPE_OPS = [
    ("reshape", lambda a: a.reshape(4, 6), lambda a: a.reshape(4, 6)),
    ("view_infer", lambda a: a.view(-1, 3), lambda a: a.view(-1, 3)),
    ("flatten", lambda a: a.flatten(), lambda a: a.flatten()),
    ("flatten_1", lambda a: a.flatten(1), lambda a: a.flatten(1)),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2)),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1)),
    ("unsqueeze", lambda a: a.unsqueeze(1), lambda a: a.unsqueeze(1)),
    ("squeeze", lambda a: a.unsqueeze(0).squeeze(), lambda a: a.unsqueeze(0).squeeze()),
    ("squeeze_dim", lambda a: a.unsqueeze(-1).squeeze(-1), lambda a: a.unsqueeze(-1).squeeze(-1)),
    ("T", lambda a: a.reshape(6, 4).T, lambda a: a.reshape(6, 4).T),
    ("expand", lambda a: a[:, :1].expand(2, 3, 4), lambda a: a[:, :1].expand(2, 3, 4)),
]


@pytest.mark.parametrize("name,ours,theirs", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(name, ours, theirs):
    x = rand(2, 3, 4)
    check_against_torch(ours, theirs, x)
    gradcheck(ours, x)


INDEXING = [
    ("int", lambda a: a[1]),
    ("slice", lambda a: a[:, 1:3]),
    ("step", lambda a: a[::2, 1::2]),
    ("ellipsis_none", lambda a: a[..., None, 2]),
    ("negative", lambda a: a[-1, -2:]),
    ("int_array_repeats", lambda a: a[[0, 2, 0, 0]]),
    ("bool_mask", lambda a: a[a > 0]),
    ("mixed", lambda a: a[[1, 1], :, [0, 3]]),
]


@pytest.mark.parametrize("name,fn", INDEXING, ids=[i[0] for i in INDEXING])
def test_indexing(name, fn):
    x = rand(3, 4, 5)
    check_against_torch(fn, fn, x)
    gradcheck(fn, x)


def test_index_with_tensor_indices():
    x = rand(5, 3)
    idx = np.array([4, 0, 4])
    check_against_torch(lambda a, i: a[i], lambda a, i: a[i], x, idx)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim):
    a, b, c = rand(2, 3), rand(2, 3, seed=1), rand(2, 3, seed=2)
    check_against_torch(lambda *t: cnnlab.cat(t, dim), lambda *t: torch.cat(t, dim), a, b, c)
    check_against_torch(lambda *t: cnnlab.stack(t, dim), lambda *t: torch.stack(t, dim), a, b, c)
    gradcheck(lambda *t: cnnlab.cat(t, dim) * 2, a, b, c)
    gradcheck(lambda *t: cnnlab.stack(t, dim) * 2, a, b, c)


def test_cat_uneven_sizes():
    check_against_torch(lambda a, b: cnnlab.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), rand(2, 3), rand(2, 5))


def test_where():
    cond = rand(3, 4) > 0
    check_against_torch(lambda c, a, b: cnnlab.where(c, a, b), torch.where, cond, rand(3, 4, seed=1), rand(4, seed=2), grad=[False, True, True])
    gradcheck(lambda a, b: cnnlab.where(cnnlab.tensor(cond), a, b), rand(3, 4, seed=1), rand(4, seed=2))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2), (2, 0, 1, 1), (0, 3, 2, 1)])
def test_pad_modes(mode, pad):
    x = rand(2, 3, 5) if len(pad) == 2 else rand(2, 3, 4, 5)  # torch's shapes for non-constant modes
    ours = lambda a: cnnlab.functional.pad(a, pad, mode=mode)  # noqa: E731
    theirs = lambda a: torch.nn.functional.pad(a, pad, mode=mode)  # noqa: E731
    check_against_torch(ours, theirs, x)
    gradcheck(ours, rand(*x.shape[:-2], 4, 5)[:1])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(-1, 2), (2, -3), (-1, -2, 1, 1), (3, -1, -2, 0), (-2, 3, 0, -3)])
def test_pad_negative_widths_crop(mode, pad):
    """A negative width crops that side; circular crops first, then wraps what is left."""
    x = rand(2, 3, 5) if len(pad) == 2 else rand(2, 3, 4, 5)
    ours = lambda a: cnnlab.functional.pad(a, pad, mode=mode)  # noqa: E731
    theirs = lambda a: torch.nn.functional.pad(a, pad, mode=mode)  # noqa: E731
    check_against_torch(ours, theirs, x)
    gradcheck(ours, x[:1])


@pytest.mark.parametrize("mode, pad, size", [
    ("constant", (-4, -4), 7), ("replicate", (-4, -3), 7), ("reflect", (7, -1), 7),
    ("circular", (-3, 5), 7), ("circular", (-4, -4), 7),
])
def test_pad_refuses_what_torch_refuses(mode, pad, size):
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.zeros(1, 1, size), pad, mode=mode)
    with pytest.raises(ValueError, match="pad: .*padding"):
        cnnlab.functional.pad(cnnlab.zeros(1, 1, size), pad, mode=mode)


@pytest.mark.parametrize("bounds", ["both", "min", "max", "crossed"])
def test_clamp_with_tensor_bounds(bounds):
    """Tensor bounds broadcast; gradients follow torch's rules for the input and both bounds."""
    x, lo, hi = rand(3, 4), rand(4, seed=1) - 0.5, rand(3, 1, seed=2) + 0.5
    if bounds == "crossed":  # min above max: the result is max
        lo, hi = hi.T[0, :1] + 1.0, hi
    pick = {"both": (True, True), "min": (True, False), "max": (False, True), "crossed": (True, True)}[bounds]

    def call(lib):
        def fn(a, b, c):
            return lib.clamp(a, min=b if pick[0] else None, max=c if pick[1] else None)
        return fn

    check_against_torch(call(cnnlab), call(torch), x, lo, hi)
    gradcheck(call(cnnlab), x, lo, hi)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_modes(mode):
    a, b = rand(3, 4) * 5, rand(4, seed=1) + 0.3 * np.sign(rand(4, seed=1))
    div = lambda x, y: x.div(y, rounding_mode=mode)  # noqa: E731  (the same call in both libraries)
    check_against_torch(div, div, a, b)
    gradcheck(div, a, b)  # piecewise constant: zero gradient


def test_add_sub_alpha():
    check_against_torch(lambda x, y: x.add(y, alpha=2.5).sub(y, alpha=-0.5),
                        lambda x, y: x.add(y, alpha=2.5).sub(y, alpha=-0.5), rand(3, 4), rand(4, seed=1))


def test_pad_constant_value():
    check_against_torch(lambda a: cnnlab.functional.pad(a, (1, 1), value=2.5), lambda a: torch.nn.functional.pad(a, (1, 1), value=2.5), rand(3, 4))


def test_comparisons_and_argmax_are_not_differentiable():
    a, b = rand(3, 4), rand(3, 4, seed=1)
    ta, tb = cnnlab.tensor(a, requires_grad=True), cnnlab.tensor(b)
    for ours, theirs in [(ta < tb, a < b), (ta <= tb, a <= b), (ta > tb, a > b), (ta >= tb, a >= b), (ta == tb, a == b), (ta != tb, a != b), (ta.eq(ta), a == a)]:
        assert ours.dtype == np.bool_ and not ours.requires_grad
        np.testing.assert_array_equal(ours.numpy(), theirs)
    assert ta.argmax(1).tolist() == torch.tensor(a).argmax(1).tolist()
    assert ta.argmax().item() == torch.tensor(a).argmax().item()
    assert ta.argmax(0).dtype == np.int64


def test_tensor_used_twice_accumulates():
    check_against_torch(lambda a: a * a + a.exp() * a, lambda a: a * a + a.exp() * a, rand(3, 4))


def test_leaf_grad_accumulates_across_backward_calls():
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4), op=st.sampled_from(BINARY[:4]))
def test_broadcasting_shapes_hypothesis(shapes, op):
    (sa, sb), _ = shapes
    _, ours, theirs = op
    a, b = rand(*sa, seed=1), rand(*sb, seed=2, low=0.5, high=2.0)
    check_against_torch(ours, theirs, a, b)
