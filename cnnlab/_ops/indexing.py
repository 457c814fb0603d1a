"""Indexing and joining: getitem, cat, stack, where, constant pad."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .arithmetic import unbroadcast


def is_basic_index(index) -> bool:
    """True when ``index`` only slices (no integer/boolean arrays), so no element repeats."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis))) for i in items)


class GetItem(Function):
    saves = ()
    is_view = True  # basic slicing gives a view, as torch; integer/boolean arrays copy
    def forward(self, a, index=None):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        try:
            return np.array(a[index], copy=True) if not is_basic_index(index) else a[index]
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {tuple(a.shape)})") from None

    def backward(self, grad):
        g = np.zeros(self.shape, dtype=grad.dtype)
        if is_basic_index(self.index):
            g[self.index] = grad
        else:  # fancy indexing may pick an element twice: accumulate
            np.add.at(g, self.index, grad)
        return g


class SetItem(Function):
    """``t[index] = value`` recorded in the graph: ``t`` with ``value`` written at ``index``."""

    saves = ()

    def forward(self, a, value, index=None):
        self.index, self.value_shape = index, value.shape
        out = a.copy()
        try:
            out[index] = value
        except (IndexError, ValueError) as e:
            raise IndexError(f"setitem: {e} (tensor of shape {tuple(a.shape)})") from None
        return out

    def backward(self, grad):
        ga = gv = None
        if self.needs_input_grad[0]:
            ga = grad.copy()
            ga[self.index] = 0
        if self.needs_input_grad[1]:
            picked = grad[self.index] if is_basic_index(self.index) else np.asarray(grad[self.index])
            gv = unbroadcast(picked, self.value_shape) if picked.shape != self.value_shape else picked.copy()
        return ga, gv


class Cat(Function):
    """Concatenate along ``dim``. As torch (a rule it keeps for old code), a 1-D empty tensor
    may join tensors of any shape: it is left out, and its gradient is empty."""
    saves = ()
    def forward(self, *arrays, dim=0):
        self.kept = [i for i, a in enumerate(arrays) if a.shape != (0,)] or list(range(len(arrays)))
        self.count, self.dtype = len(arrays), arrays[0].dtype
        first = arrays[self.kept[0]]
        for i in self.kept[1:]:
            a = arrays[i]
            if a.ndim != first.ndim or any(
                s != t for k, (s, t) in enumerate(zip(a.shape, first.shape)) if k != dim
            ):
                raise ValueError(
                    f"cat: tensor {i} has shape {tuple(a.shape)}, which does not match tensor "
                    f"{self.kept[0]}'s shape {tuple(first.shape)} outside dim {dim}"
                )
        self.splits = np.cumsum([arrays[i].shape[dim] for i in self.kept])[:-1]
        self.dim = dim
        return np.concatenate([arrays[i] for i in self.kept], axis=dim)

    def backward(self, grad):
        grads = [np.zeros((0,), grad.dtype)] * self.count
        for i, g in zip(self.kept, np.split(grad, self.splits, axis=self.dim)):
            grads[i] = g
        return tuple(grads)


class Stack(Function):
    saves = ()
    def forward(self, *arrays, dim=0):
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
        self.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.dim, 0))


class Where(Function):
    saves = ((0, None),)
    def forward(self, condition, a, b):
        self.save_for_backward(condition)
        self.shapes = (a.shape, b.shape)
        return np.where(condition, a, b)

    def backward(self, grad):
        (cond,) = self.saved
        zero = np.zeros((), dtype=grad.dtype)
        ga = unbroadcast(np.where(cond, grad, zero), self.shapes[0])
        gb = unbroadcast(np.where(cond, zero, grad), self.shapes[1])
        return None, ga, gb
