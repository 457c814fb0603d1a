"""Property test (hypothesis): random chains of ops with in-place changes at random points.

The same chain runs on torch and on cnnlab (float64, so the only differences are real ones).
Either both raise, for the same reason, or both return the same gradients. The one allowed
difference is documented in docs/design/autograd-semantics.md: when a view (or its base) was
changed by an in-place op recorded in the graph, torch re-derives the other tensors on that
memory and cnnlab refuses to use them; the test checks that this refusal happens only in
chains that contain a view op, and that chains without views agree exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnnlab

# ops: (name, fn(h, y, w) -> new h of shape (3, 4), is_view)
OPS = [
    ("tanh", lambda h, y, w: h.tanh(), False),
    ("sigmoid", lambda h, y, w: h.sigmoid(), False),
    ("relu", lambda h, y, w: h.relu(), False),
    ("exp_tanh", lambda h, y, w: h.tanh().exp(), False),
    ("square", lambda h, y, w: h * h, False),
    ("mul_y", lambda h, y, w: h * y, False),
    ("add_y", lambda h, y, w: h + y, False),
    ("sub_scalar", lambda h, y, w: 1 - h, False),
    ("div", lambda h, y, w: h / (y.abs() + 1), False),
    ("pow", lambda h, y, w: (h.abs() + 1) ** 1.5, False),
    ("sqrt_log", lambda h, y, w: (h * h + 1).log().sqrt(), False),
    ("matmul", lambda h, y, w: h @ w, False),
    ("softmax", lambda h, y, w: h.softmax(1), False),
    ("log_softmax", lambda h, y, w: h.log_softmax(1), False),
    ("center", lambda h, y, w: h - h.mean(1, keepdim=True), False),
    ("sum_scale", lambda h, y, w: h * h.sum(0, keepdim=True), False),
    ("amax", lambda h, y, w: h - h.amax(1, keepdim=True), False),
    ("max_dim", lambda h, y, w: h + h.max(0, keepdim=True)[0], False),
    ("var", lambda h, y, w: h / (h.var(1, keepdim=True) + 1), False),
    ("maximum", lambda h, y, w: h.maximum(y), False),
    ("clamp", lambda h, y, w: h.clamp(-0.5, 0.5), False),
    ("view", lambda h, y, w: h.view(12).view(3, 4), True),
    ("t_t", lambda h, y, w: h.t().t(), True),
    ("slice", lambda h, y, w: h[:, :], True),
    ("unsqueeze", lambda h, y, w: h.unsqueeze(0).squeeze(0), True),
    ("permute_reshape", lambda h, y, w: h.permute(1, 0).reshape(3, 4), True),
]

# in-place changes: (name, fn(target, y))
CHANGES = [
    ("mul_c", lambda t, y: t.mul_(1.5)),
    ("add_c", lambda t, y: t.add_(0.25)),
    ("sub_c", lambda t, y: t.sub_(0.25)),
    ("div_c", lambda t, y: t.div_(2.0)),
    ("mul_y", lambda t, y: t.mul_(y)),
    ("iadd_y", lambda t, y: t.__iadd__(y)),
    ("setitem", lambda t, y: t.__setitem__((0, slice(None)), 0.5)),
    ("relu_", lambda t, y: t.relu_()),
    ("clamp_", lambda t, y: t.clamp_(-0.3, 0.3)),
    ("zero_", lambda t, y: t.zero_()),
]

step = st.one_of(
    st.tuples(st.just("op"), st.integers(0, len(OPS) - 1)),
    st.tuples(
        st.just("change"),
        st.integers(0, len(CHANGES) - 1),
        st.integers(0, 100),  # which earlier tensor (modulo how many exist)
        st.booleans(),  # under no_grad?
    ),
)


def category(message: str) -> str:
    for key in ("view of a leaf", "leaf Variable", "modified by an inplace operation",
                "re-derives such views"):
        if key in message:
            return key
    return message


def run(lib, steps, arrays):
    x, y, w = (lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays)
    tensors = [x]
    h = x
    try:
        for s in steps:
            if s[0] == "op":
                h = OPS[s[1]][1](h, y, w)
                tensors.append(h)
            else:
                _, which, index, quiet = s
                target = tensors[index % len(tensors)]
                if quiet:
                    with lib.no_grad():
                        CHANGES[which][1](target, y)
                else:
                    CHANGES[which][1](target, y)
        (h * h).sum().backward()
    except RuntimeError as e:
        return "raised", category(str(e))
    return "ok", [None if t.grad is None else t.grad.detach().numpy().copy() for t in (x, y, w)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=8), seed=st.integers(0, 2**16))
def test_random_chains_match_torch(steps, seed):
    rng = np.random.default_rng(seed)
    arrays = (rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4)), rng.uniform(-0.5, 0.5, (4, 4)))
    theirs = run(torch, steps, arrays)
    ours = run(cnnlab, steps, arrays)
    has_view = any(s[0] == "op" and OPS[s[1]][2] for s in steps)
    names = [OPS[s[1]][0] if s[0] == "op" else f"{CHANGES[s[1]][0]}@{s[2]}{' (no_grad)' if s[3] else ''}" for s in steps]
    if ours[0] == "raised" and ours[1] == "re-derives such views":
        # the documented difference: allowed only where a view exists (torch may succeed
        # there, or raise for another reason found later in its backward)
        assert has_view, f"cnnlab refused a stale view in a chain without views: {names}"
        return
    assert ours[0] == theirs[0], f"{names}: torch {theirs}, cnnlab {ours}"
    if theirs[0] == "raised":
        assert ours[1] == theirs[1], f"{names}: torch raised {theirs[1]!r}, cnnlab {ours[1]!r}"
        return
    for name, a, b in zip("xyw", theirs[1], ours[1]):
        assert (a is None) == (b is None), f"{names}: gradient of {name}: torch {a}, cnnlab {b}"
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=f"{names}: gradient of {name}")


def test_the_issue_example_is_one_of_the_chains():
    arrays = (np.array([[1.0, 2, 3, 4]] * 3), np.ones((3, 4)), np.eye(4))
    steps = [("op", 4), ("op", 4), ("change", 1, 1, False)]  # a = x*x; b = a*a; a.add_(0.25)
    expected = ("raised", "modified by an inplace operation")
    assert run(torch, steps, arrays) == expected
    assert run(cnnlab, steps, arrays) == expected
