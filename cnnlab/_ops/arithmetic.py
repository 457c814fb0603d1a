"""Broadcasting element-wise binary ops: add, sub, mul, div, pow, maximum, minimum."""

from __future__ import annotations

import numpy as np

from .._dtype import result_type
from ..autograd.function import Function


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def check_broadcast(op: str, a: np.ndarray, b: np.ndarray) -> None:
    sa, sb = a.shape, b.shape
    if len(sa) < len(sb):
        sa, sb = sb, sa
    if not sb or sa[len(sa) - len(sb):] == sb:  # equal trailing dims (a bias add): fits, skip the call
        return
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together"
        ) from None


class _Binary(Function):
    op_name = "binary"

    def forward(self, a, b, **kwargs):
        check_broadcast(self.op_name, a, b)
        self.shapes = (a.shape, b.shape)
        if a.dtype != b.dtype:  # torch's promotion, not NumPy's (int64 + float32 is float32)
            dtype = result_type(a, b)
            a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
        return self.compute(a, b, **kwargs)


class Add(_Binary):
    op_name = "add"
    saves = ()

    def compute(self, a, b):
        return a + b

    def backward(self, grad):
        sa, sb = self.shapes
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(_Binary):
    op_name = "sub"
    saves = ()

    def compute(self, a, b):
        return a - b

    def backward(self, grad):
        sa, sb = self.shapes
        return unbroadcast(grad, sa), unbroadcast(-grad, sb) if self.needs_input_grad[1] else None


class Mul(_Binary):
    op_name = "mul"
    saves = ((0, (1,)), (1, (0,)))  # as torch: each operand only for the other's gradient

    def compute(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved
        ga = unbroadcast(grad * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(grad * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(_Binary):
    op_name = "div"
    saves = ((0, (1,)), (1, None))

    def compute(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad):
        a, b = self.saved
        ga = unbroadcast(grad / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class RoundedDiv(_Binary):
    """``div(a, b, rounding_mode='trunc' | 'floor')``. The result is piecewise constant, so its
    gradient is zero everywhere, as torch defines it."""
    op_name = "div"
    saves = ()

    def compute(self, a, b, rounding_mode="trunc"):
        self.rounding_mode = rounding_mode
        if rounding_mode == "floor":
            return np.floor_divide(a, b)  # Python's floor division, as torch
        return np.trunc(a / b) if a.dtype.kind == "f" else (np.abs(a) // np.abs(b)) * np.sign(a) * np.sign(b)

    def backward(self, grad):
        sa, sb = self.shapes
        return (np.zeros(sa, grad.dtype) if self.needs_input_grad[0] else None,
                np.zeros(sb, grad.dtype) if self.needs_input_grad[1] else None)


class Pow(_Binary):
    op_name = "pow"
    saves = ((0, None), (1, None), (-1, None))

    def compute(self, a, b):
        out = np.power(a, b)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved
        ga = gb = None
        if self.needs_input_grad[0]:
            # d/da a**b = b * a**(b-1); written without dividing by a so a == 0 works.
            ga = unbroadcast(grad * b * np.power(a, b - 1), a.shape)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
            gb = unbroadcast(grad * out * log_a, b.shape)
        return ga, gb


class PowScalar(Pow):
    """``tensor ** number``: torch saves only the base."""

    saves = ((0, None),)


class Maximum(_Binary):
    op_name = "maximum"
    saves = ((0, None), (1, None))

    def compute(self, a, b):
        self.save_for_backward(a, b)
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = self.saved
        # Ties split the gradient in half, as torch.maximum does.
        wa = (a > b) + 0.5 * (a == b)
        ga = unbroadcast(grad * wa, a.shape).astype(a.dtype, copy=False)
        gb = unbroadcast(grad * (1 - wa), b.shape).astype(b.dtype, copy=False)
        return ga, gb


class Minimum(_Binary):
    op_name = "minimum"
    saves = ((0, None), (1, None))

    def compute(self, a, b):
        self.save_for_backward(a, b)
        return np.minimum(a, b)

    def backward(self, grad):
        a, b = self.saved
        wa = (a < b) + 0.5 * (a == b)
        ga = unbroadcast(grad * wa, a.shape).astype(a.dtype, copy=False)
        gb = unbroadcast(grad * (1 - wa), b.shape).astype(b.dtype, copy=False)
        return ga, gb


class MatMul(Function):
    saves = ((0, (1,)), (1, (0,)))
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both arguments need at least 1 dimension, got {a.shape} and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned "
                f"(inner sizes {ka} and {kb} differ)"
            )
        self.save_for_backward(a, b)
        return np.matmul(a, b)

    def backward(self, grad):
        a, b = self.saved
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:  # restore the dims that matmul dropped for 1-D operands
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
        return ga, gb


class LinearNoGrad(Function):
    """``x @ w.T (+ b)`` as one op, for calls that record no graph (inference, ``no_grad``).

    The same two NumPy operations as ``t()``, ``MatMul`` and ``Add`` one after the other, so
    the same bits, with one op dispatch instead of three (``F.linear`` takes it only when no
    input needs a gradient). It has no backward: a recorded call goes through the three ops.
    """

    def forward(self, x, w, b=None):
        out = np.matmul(x, w.T)
        return out if b is None else out + b
