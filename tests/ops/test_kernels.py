"""The compiled kernels (cnnlab/_ops/_kernels.py) against the NumPy reference path and torch."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.nn.functional as F
from cnnlab._ops import _kernels, pooling

pytest.importorskip("numba")  # a dependency (pyproject.toml); without it the NumPy path is all there is


def _input(shape, layout, tied, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == np.int32:
        x = rng.integers(-5, 5, shape).astype(np.int32)
    elif tied:  # blank background as in Fashion-MNIST: whole windows equal
        x = rng.integers(0, 3, shape).astype(dtype)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    if layout == "batch-last":  # memory (C, H, W, N), as a conv returns it
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    return x


def _run(x_np, grad_np, compiled, **kw):
    _kernels.set_enabled(compiled)
    try:
        if compiled and x_np.shape[0] > 1:  # every window shape through the kernel, not only overlapping ones
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(pooling, "_compiled", lambda kernel, stride, x: x.shape[0] > 1)
                return _run_inner(x_np, grad_np, **kw)
        return _run_inner(x_np, grad_np, **kw)
    finally:
        _kernels.set_enabled(None)


def _run_inner(x_np, grad_np, **kw):
    x = cnnlab.from_numpy(x_np.copy(order="K"))
    if x_np.dtype.kind == "f":
        x.requires_grad_()
    out, idx = F.max_pool2d(x, return_indices=True, **kw)
    gx = None
    if x.requires_grad and grad_np is not None:
        out.backward(cnnlab.from_numpy(grad_np))
        gx = x.grad.numpy()
    with cnnlab.no_grad():
        plain = F.max_pool2d(cnnlab.from_numpy(x_np), **kw).numpy()
    return out.detach().numpy(), idx.numpy(), gx, plain


CASES = [
    dict(kernel_size=2, stride=2),
    dict(kernel_size=3, stride=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=2, dilation=2, padding=1, ceil_mode=True),
]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("layout", ["nchw", "batch-last"])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("batch", [1, 3])
def test_max_pool_kernel_equals_numpy_path_and_torch(kw, layout, tied, batch):
    x = _input((batch, 4, 11, 9), layout, tied, np.float32, seed=batch)
    ref = _run(x, None, False, **kw)
    grad = np.random.default_rng(7).standard_normal(ref[0].shape).astype(np.float32)
    numpy_path, compiled = _run(x, grad, False, **kw), _run(x, grad, True, **kw)
    np.testing.assert_array_equal(compiled[0], numpy_path[0])
    np.testing.assert_array_equal(compiled[1], numpy_path[1])  # the first maximum, as torch
    np.testing.assert_array_equal(compiled[3], numpy_path[3])  # no-grad forward
    # overlapping windows add up to four gradients per element, in another order: last-bit ties
    np.testing.assert_allclose(compiled[2], numpy_path[2], rtol=1e-6, atol=1e-6)
    tx = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_()
    tout, tidx = torch.nn.functional.max_pool2d(tx, return_indices=True, **kw)
    tout.backward(torch.from_numpy(grad))
    np.testing.assert_array_equal(compiled[0], tout.detach().numpy())
    np.testing.assert_array_equal(compiled[1], tidx.numpy())
    np.testing.assert_allclose(compiled[2], tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("layout", ["nchw", "batch-last"])
def test_max_pool_kernel_nan_and_integers_as_numpy_path(layout):
    x = _input((2, 3, 8, 8), layout, False, np.float32, seed=0)
    x[0, 1, 2, 3] = np.nan
    x[1, 2, 5, 5] = np.nan
    a, b = _run(x, None, False, kernel_size=3, stride=2), _run(x, None, True, kernel_size=3, stride=2)
    np.testing.assert_array_equal(a[0], b[0])  # NaN propagates to its windows in both
    np.testing.assert_array_equal(a[1], b[1])
    xi = _input((2, 3, 8, 8), layout, False, np.int32, seed=1)
    a, b = _run(xi, None, False, kernel_size=3, stride=2), _run(xi, None, True, kernel_size=3, stride=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert b[0].dtype == np.int32


def test_switch_off_by_environment_and_numba_is_not_imported_with_cnnlab():
    code = ("import sys, cnnlab; assert 'numba' not in sys.modules; "
            "from cnnlab._ops import _kernels; print(_kernels.enabled())")
    env = dict(os.environ, CNNLAB_KERNELS="numpy")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    env.pop("CNNLAB_KERNELS")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("layout, kw, used", [
    ("batch-last", dict(kernel_size=3, stride=2), True),  # overlapping (AlexNet), after a conv
    ("nchw", dict(kernel_size=3, stride=2), True),
    ("nchw", dict(kernel_size=2, stride=2), False),  # numba's memory is not worth it there
    ("batch-last", dict(kernel_size=2, stride=2), False),
])
def test_which_inputs_take_the_kernel(monkeypatch, layout, kw, used):
    calls = []
    real = _kernels.max_pool_forward
    monkeypatch.setattr(_kernels, "max_pool_forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    _kernels.set_enabled(True)
    try:
        _run_inner(_input((3, 4, 10, 10), layout, False, np.float32, seed=0), None, **kw)
        assert bool(calls) == used
        calls.clear()
        _run_inner(_input((1, 4, 10, 10), layout, False, np.float32, seed=0), None, **kw)
        assert not calls  # a single image (cnnlab predict) never imports numba
    finally:
        _kernels.set_enabled(None)
