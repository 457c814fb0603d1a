"""The backward pass frees what each op saved as soon as that op's backward has run."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlab
from cnnlab.autograd.function import Function


class Probe(Function):
    """Identity that records, when its backward runs, whether the op after it was released."""
    seen: list = []

    def forward(self, a):
        self.save_for_backward(a)
        return a.copy()

    def backward(self, grad):
        Probe.seen.append([n.released for n in Probe.later])
        return grad


def test_saved_arrays_are_freed_op_by_op_during_backward():
    x = cnnlab.randn(3, requires_grad=True)
    y = Probe.apply(x)
    z = y.exp()  # saves its output
    w = z * 2.0
    Probe.later, Probe.seen = [z._ctx, w._ctx], []
    w.sum().backward()
    assert Probe.seen == [[True, True]]  # exp's and mul's saved arrays were gone before Probe ran
    assert z._ctx.saved == () and y._ctx.released
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.detach().numpy()), rtol=1e-6)


def test_retain_graph_keeps_every_op_until_the_second_backward():
    x = cnnlab.randn(3, requires_grad=True)
    y = Probe.apply(x).exp()
    Probe.later, Probe.seen = [y._ctx], []
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert Probe.seen == [[False], [True]]
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.detach().numpy()), rtol=1e-6)
    with pytest.raises(RuntimeError, match="already released"):
        y.sum().backward()
