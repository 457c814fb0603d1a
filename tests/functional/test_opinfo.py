"""PyTorch's own test samples (OpInfo), run through cnnlab and compared with torch.

PyTorch describes each of its ops by an ``OpInfo`` in
``torch.testing._internal.common_methods_invocations.op_db``, with a generator of sample
arguments that its own test suite uses (edge cases included: empty tensors, 0-d tensors,
negative dims, odd strides). For every op cnnlab has (the ``OPS`` table below), each sample
is run in both libraries with the same arguments; the outputs must agree in shape, dtype and
value, and, for a differentiable op, the gradients of every input that requires grad must agree
for the same random upstream gradient.

Which samples:
- dtypes: float32 and float64 (int64 where an op takes only integers, e.g. ``one_hot``).
  Samples of other dtypes (complex, bfloat16, float16, uint8...) are not generated at all:
  cnnlab computes in float32/float64 and does not claim the others.
- dropout with ``p`` in (0, 1) in training mode draws random masks that no two libraries share;
  for those samples the check is deterministic instead: every output element is either 0 or
  the input scaled by 1/(1-p) (whole channels for dropout2d), and the gradient is the same mask
  times the same scale.
- an op with more than ``MAX_SAMPLES`` samples per dtype (only ``max_pool2d``, whose samples
  are every combination of kernel, stride, padding, dilation and ceil_mode) is checked on a
  fixed random subset of them, to keep the test fast.
- ``EXCLUDED`` lists the samples left out on purpose, each with its reason; the same list is in
  ``docs/design/autograd-semantics.md``.

Tolerances are those of float32 rounding (rtol 1e-5, atol 1e-5) and 1e-7 for float64; for a
gradient the absolute tolerance grows to rtol times the gradient's largest magnitude, since a
gradient is often a sum (over a broadcast or a window) whose terms cancel.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch's op_db imports it

import cnnlab  # noqa: E402
import cnnlab.nn.functional as F  # noqa: E402


def _method(name):
    """``x.name(...)`` for ops that cnnlab has as Tensor methods (``add``, ``expand``...)."""
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


# OpInfo name (and variant, after a dot) → the cnnlab callable taking the same arguments.
OPS = {
    # layers (cnnlab.nn.functional)
    "nn.functional.conv2d": F.conv2d,
    "nn.functional.conv_transpose2d": F.conv_transpose2d,
    "nn.functional.max_pool2d": F.max_pool2d,
    "nn.functional.avg_pool2d": F.avg_pool2d,
    "nn.functional.adaptive_avg_pool2d": F.adaptive_avg_pool2d,
    "nn.functional.adaptive_max_pool2d": F.adaptive_max_pool2d,
    "nn.functional.batch_norm": F.batch_norm,  # (its variant without_cudnn has CUDA dtypes only)
    "nn.functional.layer_norm": F.layer_norm,
    "nn.functional.group_norm": F.group_norm,
    "nn.functional.local_response_norm": F.local_response_norm,
    "nn.functional.linear": F.linear,
    "nn.functional.relu": F.relu,
    "nn.functional.leaky_relu": F.leaky_relu,
    "nn.functional.elu": F.elu,
    "nn.functional.dropout": F.dropout,
    "nn.functional.dropout2d": F.dropout2d,
    "nn.functional.one_hot": F.one_hot,
    "nn.functional.pad.constant": F.pad,
    "nn.functional.pad.reflect": F.pad,
    "nn.functional.pad.replicate": F.pad,
    "nn.functional.pad.replicate_negative": F.pad,
    "nn.functional.pad.circular": F.pad,
    "nn.functional.interpolate.nearest": F.interpolate,
    "nn.functional.interpolate.bilinear": F.interpolate,
    "nn.functional.cross_entropy": F.cross_entropy,
    "nn.functional.nll_loss": F.nll_loss,
    "nn.functional.mse_loss": F.mse_loss,
    "nn.functional.l1_loss": F.l1_loss,
    "nn.functional.binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    # activations and element-wise ops
    "softmax": cnnlab.softmax,
    "softmax.with_dtype": cnnlab.softmax,
    "log_softmax": cnnlab.log_softmax,
    "log_softmax.with_dtype": cnnlab.log_softmax,
    "sigmoid": cnnlab.sigmoid,
    "tanh": cnnlab.tanh,
    "exp": cnnlab.exp,
    "log": cnnlab.log,
    "sqrt": cnnlab.sqrt,
    "sin": cnnlab.sin,
    "cos": cnnlab.cos,
    "sinh": cnnlab.sinh,
    "cosh": cnnlab.cosh,
    "abs": cnnlab.abs,
    "neg": _method("neg"),
    "clamp": cnnlab.clamp,
    "add": _method("add"),
    "sub": _method("sub"),
    "mul": _method("mul"),
    "div.no_rounding_mode": _method("div"),
    "div.trunc_rounding": _method("div"),
    "div.floor_rounding": _method("div"),
    "pow": _method("pow"),
    "maximum": cnnlab.maximum,
    "minimum": cnnlab.minimum,
    "max.binary": cnnlab.max,
    "min.binary": cnnlab.min,
    "where": lambda x, condition, other: cnnlab.where(condition, x, other),  # OpInfo's order
    "eq": cnnlab.eq, "ne": cnnlab.ne, "lt": cnnlab.lt, "le": cnnlab.le, "gt": cnnlab.gt, "ge": cnnlab.ge,
    "matmul": cnnlab.matmul,
    "mm": cnnlab.mm,
    "bmm": cnnlab.bmm,
    # reductions, sorting
    "sum": cnnlab.sum,
    "mean": cnnlab.mean,
    "var": cnnlab.var,
    "var.unbiased": cnnlab.var,
    "std": cnnlab.std,
    "std.unbiased": cnnlab.std,
    "amax": cnnlab.amax,
    "amin": cnnlab.amin,
    "argmax": cnnlab.argmax,
    "argmin": cnnlab.argmin,
    "max.reduction_with_dim": cnnlab.max,
    "max.reduction_no_dim": cnnlab.max,
    "min.reduction_with_dim": cnnlab.min,
    "min.reduction_no_dim": cnnlab.min,
    "all": cnnlab.all,
    "any": cnnlab.any,
    "sort": cnnlab.sort,
    "argsort": cnnlab.argsort,
    "topk": cnnlab.topk,
    # shapes
    "reshape": cnnlab.reshape,
    "view": _method("view"),
    "flatten": cnnlab.flatten,
    "permute": cnnlab.permute,
    "transpose": cnnlab.transpose,
    "t": cnnlab.t,
    "squeeze": cnnlab.squeeze,
    "squeeze.multiple": cnnlab.squeeze,
    "unsqueeze": cnnlab.unsqueeze,
    "expand": _method("expand"),
    "expand_as": _method("expand_as"),
    "repeat": _method("repeat"),
    "cat": cnnlab.cat,
    "stack": cnnlab.stack,
    "meshgrid.list_of_tensors": cnnlab.meshgrid,
    "meshgrid.variadic_tensors": cnnlab.meshgrid,
}

# Samples left out on purpose, for a deliberate difference from torch:
#   (op key, which samples, in words): (a test on the sample, the reason)
# Every entry is also listed in docs/design/autograd-semantics.md ("PyTorch's OpInfo samples").
# Empty today: every sample of every op in OPS passes.
EXCLUDED: dict[tuple[str, str], tuple] = {}

FLOATS = (torch.float32, torch.float64)
MAX_SAMPLES = 60  # per op and dtype; max_pool2d alone generates 1,440 per dtype
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-7)}


@functools.lru_cache(maxsize=1)
def _op_db() -> dict:
    from torch.testing._internal.common_methods_invocations import op_db

    return {op.name + (f".{op.variant_test_name}" if op.variant_test_name else ""): op for op in op_db}


def _excluded(key: str, sample) -> str | None:
    for (op, _), (test, reason) in EXCLUDED.items():
        if (key == op or key.startswith(op + ".")) and test(sample):
            return reason
    return None


_DTYPES = {torch.float32: cnnlab.float32, torch.float64: cnnlab.float64, torch.int64: cnnlab.int64,
           torch.int32: cnnlab.int32, torch.bool: cnnlab.bool}


def _to_cnnlab(value):
    """The same argument for cnnlab: tensors copied (keeping requires_grad), dtypes mapped."""
    if isinstance(value, torch.Tensor):
        out = cnnlab.from_numpy(value.detach().numpy().copy())
        return out.requires_grad_(True) if value.requires_grad else out
    if isinstance(value, torch.dtype):
        return _DTYPES[value]
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cnnlab(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_cnnlab(v) for k, v in value.items()}
    return value


def _tensors(value) -> list:
    if isinstance(value, (torch.Tensor, cnnlab.Tensor)):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _close(ours, theirs, what: str, dtype) -> None:
    a, b = ours.detach().numpy(), theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: cnnlab shape {a.shape} vs torch {tuple(b.shape)}"
    assert a.dtype == b.dtype, f"{what}: cnnlab dtype {a.dtype} vs torch {b.dtype}"
    tol = dict(TOL.get(dtype, dict(rtol=0, atol=0)))  # integer samples: exact
    if what.startswith("gradient") and b.size:
        # a gradient is often a sum (over a broadcast or a window) in which terms cancel: its
        # rounding error scales with the largest value of the tensor, not with each element
        tol["atol"] = max(tol["atol"], tol["rtol"] * float(np.nanmax(np.abs(b), initial=0)))
    np.testing.assert_allclose(a, b, **tol, equal_nan=True, err_msg=f"{what}: cnnlab vs torch")


def _is_random_dropout(key: str, sample) -> bool:
    if "dropout" not in key:
        return False
    p = sample.kwargs.get("p", sample.args[0] if sample.args else 0.5)
    return sample.kwargs.get("training", True) and 0 < p < 1


def _check_dropout(fn, sample, dtype) -> None:
    """A random mask: each output is 0 or x/(1-p), the gradient the same mask and scale."""
    p = sample.kwargs.get("p", sample.args[0] if sample.args else 0.5)
    x = _to_cnnlab(sample.input)
    out = fn(x, *_to_cnnlab(sample.args), **_to_cnnlab(sample.kwargs))
    xs, ys = x.detach().numpy(), out.detach().numpy()
    assert ys.shape == xs.shape and ys.dtype == xs.dtype
    kept = ys != 0
    np.testing.assert_allclose(ys[kept], xs[kept] / (1 - p), **TOL[dtype])
    if x.requires_grad:
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), **TOL[dtype])


def _check_sample(fn, op, sample, dtype) -> None:
    theirs = op(sample.input, *sample.args, **sample.kwargs)
    ours_in = _to_cnnlab([sample.input, sample.args, sample.kwargs])
    ours = fn(ours_in[0], *ours_in[1], **ours_in[2])
    outs_t, outs_c = _tensors(theirs), _tensors(ours)
    assert len(outs_c) == len(outs_t), f"cnnlab returns {len(outs_c)} tensors, torch {len(outs_t)}"
    for i, (a, b) in enumerate(zip(outs_c, outs_t)):
        _close(a, b, f"output {i}", dtype)
    leaves_t = [t for t in _tensors([sample.input, sample.args, sample.kwargs]) if t.requires_grad]
    leaves_c = [t for t in _tensors(ours_in) if t.requires_grad]
    pairs = [(a, b) for a, b in zip(outs_c, outs_t) if b.requires_grad]
    if not (leaves_t and pairs):
        return
    rng = np.random.default_rng(0)
    ups = [rng.standard_normal(b.shape).astype(b.detach().numpy().dtype) for _, b in pairs]
    grads = torch.autograd.grad([b for _, b in pairs], leaves_t, [torch.from_numpy(u) for u in ups],
                                allow_unused=True)
    loss = sum((a * cnnlab.from_numpy(u)).sum() for (a, _), u in zip(pairs, ups))
    loss.backward()
    for i, (ours_leaf, g) in enumerate(zip(leaves_c, grads)):
        if g is None:
            assert ours_leaf.grad is None or not ours_leaf.grad.numpy().any(), f"gradient {i}: torch has none"
        else:
            assert ours_leaf.grad is not None, f"gradient {i}: cnnlab has none, torch has one"
            _close(ours_leaf.grad, g, f"gradient {i}", dtype)


def _dtypes(op) -> list:
    supported = op.supported_dtypes("cpu")
    return [d for d in FLOATS if d in supported] or [d for d in (torch.int64,) if d in supported]


@pytest.mark.parametrize("key", sorted(OPS))
def test_opinfo_samples(key):
    op, fn = _op_db()[key], OPS[key]
    checked, failures = 0, []
    for dtype in _dtypes(op):
        grad = dtype.is_floating_point and op.supports_autograd
        samples = list(op.sample_inputs("cpu", dtype, requires_grad=grad))
        if len(samples) > MAX_SAMPLES:  # a fixed random subset (a stride could alias a loop)
            keep = np.random.default_rng(0).choice(len(samples), MAX_SAMPLES, replace=False)
            samples = [samples[i] for i in sorted(keep)]
        for sample in samples:
            if _excluded(key, sample):
                continue
            checked += 1
            try:
                if _is_random_dropout(key, sample):
                    _check_dropout(fn, sample, dtype)
                else:
                    _check_sample(fn, op, sample, dtype)
            except Exception as e:  # noqa: BLE001  (collected, reported together below)
                lines = [ln for ln in str(e).strip().splitlines() if ln.strip()][:5]
                failures.append(f"{dtype} {sample.summary()}"[:400] + f"\n    -> {type(e).__name__}: "
                                + "\n       ".join(lines))
    assert checked > 0, f"{key}: no sample was checked"
    assert not failures, (f"{key}: {len(failures)} of {checked} samples differ from torch:\n"
                          + "\n".join(failures[:8]))
