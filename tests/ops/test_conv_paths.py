"""The convolution op's alternative paths (cnnlab/_ops/conv.py) against each other and torch:
im2col as one copy or per offset, columns kept or rebuilt in backward, the input gradient
as one GEMM or one per kernel offset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from cnnlab._ops import conv as conv_op

CASES = [  # input shape, weight shape, stride, padding, dilation, groups
    ((3, 2, 9, 8), (4, 2, 3, 3), 1, 0, 1, 1),
    ((2, 4, 11, 10), (6, 2, 3, 2), 2, 1, 1, 2),
    ((2, 1, 12, 12), (5, 1, 5, 5), 1, 2, 2, 1),
    ((1, 3, 15, 15), (4, 3, 4, 4), 3, 0, 1, 1),
]


def _run(case, batch_last, seed=0):
    shape, wshape, stride, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal(shape).astype(np.float32)
    if batch_last:  # as a previous conv returns it
        x_np = np.ascontiguousarray(x_np.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    w_np, b_np = rng.standard_normal(wshape).astype(np.float32), rng.standard_normal(wshape[0]).astype(np.float32)
    x, w, b = (cnnlab.from_numpy(a.copy(order="K")).requires_grad_() for a in (x_np, w_np, b_np))
    out = F.conv2d(x, w, b, stride, padding, dilation, groups)
    g = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(cnnlab.from_numpy(g))
    return out.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy(), (x_np, w_np, b_np, g)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batch_last", [False, True])
def test_conv_paths_agree_and_match_torch(monkeypatch, case, batch_last):
    default = _run(case, batch_last)
    monkeypatch.setattr(conv_op, "_ONE_COPY_MAX", 0)  # per-offset im2col
    monkeypatch.setattr(conv_op, "KEEP_COLUMNS_MAX", 0)  # rebuild the columns, per-offset input grad
    lean = _run(case, batch_last)
    monkeypatch.setattr(conv_op, "_ONE_COPY_MAX", 1 << 40)  # one-copy im2col even here
    one_copy = _run(case, batch_last)
    for other in (lean, one_copy):
        # row blocks and per-offset GEMMs sum in another order: last-bit differences
        for k in range(4):
            np.testing.assert_allclose(other[k], default[k], rtol=1e-5, atol=1e-5)
    x_np, w_np, b_np, g = default[4]
    shape, wshape, stride, padding, dilation, groups = case
    tx, tw, tb = (torch.from_numpy(np.ascontiguousarray(a)).requires_grad_() for a in (x_np, w_np, b_np))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    tout.backward(torch.from_numpy(g))
    for ours in (default, lean):
        np.testing.assert_allclose(ours[0], tout.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ours[1], tx.grad.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ours[2], tw.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ours[3], tb.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_large_columns_are_not_kept_until_backward(monkeypatch):
    monkeypatch.setattr(conv_op, "KEEP_COLUMNS_MAX", 0)
    x = cnnlab.randn(2, 3, 8, 8)
    w = cnnlab.randn(4, 3, 3, 3, requires_grad=True)
    out = F.conv2d(x, w)
    saved = out.grad_fn.saved[0]
    assert saved.shape == (2, 3, 8, 8)  # the input itself, not a (1, 27, 72) column matrix
    assert np.shares_memory(saved, x.numpy())
