"""Shared test tools: compare cnnlab with torch, and finite-difference gradchecks.

``check_against_torch`` runs one computation in both libraries on the same float32 inputs,
backpropagates the same random upstream gradient, and compares the forward output and
every input gradient. A failure message says which stage failed, "cnnlab vs torch".
"""

from __future__ import annotations

import numpy as np
import torch

import cnnlab

RTOL, ATOL = 1e-5, 1e-6


def _assert_close(ours, theirs, stage: str, rtol: float, atol: float) -> None:
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        raise AssertionError(f"{stage}: cnnlab shape {ours.shape} vs torch shape {theirs.shape}")
    if not np.allclose(ours, theirs, rtol=rtol, atol=atol):
        diff = np.abs(ours - theirs)
        worst = np.unravel_index(np.argmax(diff - rtol * np.abs(theirs)), diff.shape) if diff.ndim else ()
        raise AssertionError(
            f"{stage}: cnnlab vs torch differ (rtol={rtol}, atol={atol}); max abs diff "
            f"{diff.max():.3g} at {worst}: cnnlab {ours[worst]!r} vs torch {theirs[worst]!r}\n"
            f"cnnlab:\n{ours}\ntorch:\n{theirs}"
        )


def check_against_torch(fn_ours, fn_torch, *arrays, grad=None, rtol=RTOL, atol=ATOL, seed=0):
    """Run ``fn_ours(*cnnlab_tensors)`` and ``fn_torch(*torch_tensors)`` and compare.

    Args:
        arrays: NumPy arrays; floating ones require grad in both libraries, integer ones
            (labels, indices) are passed through without gradient.
        grad: which inputs get a gradient check (default: every floating input).
    Returns the two outputs, for further checks.
    """
    grad = [a.dtype.kind == "f" for a in arrays] if grad is None else grad
    ours_in = [cnnlab.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    torch_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    out_ours = fn_ours(*ours_in)
    out_torch = fn_torch(*torch_in)
    _assert_close(out_ours.detach().numpy(), out_torch.detach().numpy(), "forward", rtol, atol)
    if any(grad) and out_torch.requires_grad:
        upstream = np.random.default_rng(seed).standard_normal(out_torch.shape).astype(out_torch.detach().numpy().dtype)
        out_ours.backward(cnnlab.tensor(upstream))
        out_torch.backward(torch.tensor(upstream))
        for i, (a, b, g) in enumerate(zip(ours_in, torch_in, grad)):
            if not g:
                continue
            if b.grad is None:
                assert a.grad is None or not np.any(a.grad.numpy()), f"input {i}: torch gives no grad, cnnlab does"
                continue
            assert a.grad is not None, f"gradient of input {i}: cnnlab gives none, torch does"
            _assert_close(a.grad.numpy(), b.grad.numpy(), f"gradient of input {i}", rtol, atol)
    return out_ours, out_torch


def gradcheck(fn, *arrays, eps=1e-6, rtol=1e-4, atol=1e-6, seed=0, wrt=None):
    """Compare cnnlab's gradients with central finite differences, in float64.

    ``fn`` maps cnnlab tensors to one tensor; its output is contracted with a fixed random
    upstream gradient so that every output element is tested.
    """
    arrays = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in arrays]
    wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"] if wrt is None else wrt
    tensors = [cnnlab.tensor(a, dtype=a.dtype, requires_grad=(i in wrt)) for i, a in enumerate(arrays)]
    out = fn(*tensors)
    assert out.dtype == np.float64, f"gradcheck: expected a float64 output, got {out.dtype}"
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(cnnlab.tensor(upstream, dtype=np.float64))

    def scalar(values):
        ts = [cnnlab.tensor(v, dtype=v.dtype) for v in values]
        with cnnlab.no_grad():
            return float(np.sum(fn(*ts).numpy() * upstream))

    for i in wrt:
        analytic = tensors[i].grad.numpy() if tensors[i].grad is not None else np.zeros_like(arrays[i])
        numeric = np.zeros_like(arrays[i])
        flat = arrays[i].reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = scalar(arrays)
            flat[k] = orig - eps
            minus = scalar(arrays)
            flat[k] = orig
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, rtol=rtol, atol=atol):
            raise AssertionError(
                f"gradcheck of input {i}: analytic (cnnlab) vs numeric (finite differences) differ; "
                f"max abs diff {np.abs(analytic - numeric).max():.3g}\nanalytic:\n{analytic}\nnumeric:\n{numeric}"
            )


def rand(*shape, seed=0, low=-1.0, high=1.0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)
