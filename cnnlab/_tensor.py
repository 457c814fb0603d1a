"""``Tensor``: an ndarray with reverse-mode autograd and PyTorch's method names.

Arrays in and out (the one public way, for code outside the engine):

- ``t.detach().numpy()`` is the array behind ``t``, shared, not copied (``t.numpy()`` alone
  refuses a tensor that requires grad, as torch does). Writing into it changes ``t`` without
  recording a graph: that is how optimizers and ``nn.init`` update parameters.
- ``cnnlab.from_numpy(array)`` wraps an array as a Tensor, shared, not copied.

Both cost well under a microsecond. ``Tensor._data`` and ``Tensor._wrap`` are private to the
engine (this module, ``cnnlab/_ops/`` and ``cnnlab/autograd/``); tests/test_architecture.py
checks that nothing else touches them.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np

from ._args import softmax_dim
from ._device import CPU, check_device, device, dtype_of_to
from ._dtype import DEFAULT_FLOAT, as_dtype, dtype, to_numpy_dtype, torch_name
from ._size import Size
from ._ops import activation as act
from ._ops import arithmetic as ar
from ._ops import indexing as ix
from ._ops import reduction as rd
from ._ops import selection as sel
from ._ops import shape as sh
from ._ops import tiling as tl
from ._ops import trig
from ._ops import unary as un
from .autograd.function import register_tensor_type, rederive, run_backward
from .autograd.grad_mode import is_grad_enabled

from . import return_types

SortResult, TopKResult = return_types.sort, return_types.topk


def _to_array(data: Any, dtype=None) -> np.ndarray:
    """Make an array from user data with PyTorch's dtype rules (Python floats → float32)."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=to_numpy_dtype(dtype))
    arr = np.array(data)
    if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
        arr = arr.astype(DEFAULT_FLOAT)  # Python floats, as torch.tensor, become float32
    elif arr.dtype.kind in "iu" and not isinstance(data, np.ndarray):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: cannot make a tensor from data of dtype {arr.dtype}")
    return arr


def as_tensor_like(value: Any, reference: "Tensor | None") -> "Tensor":
    """Wrap a Python scalar or array operand of an op whose other operand is ``reference``.

    A Python scalar takes the tensor's dtype (``x * 2`` stays float32), except a float
    scalar with an integer tensor, which gives float32, as in PyTorch.
    """
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value)
    arr = np.asarray(value)
    if arr.ndim == 0 and reference is not None:
        ref = reference._data.dtype
        if ref.kind == "f" or arr.dtype.kind != "f":
            return Tensor._wrap(arr.astype(ref))
    if arr.dtype == np.float64:
        arr = arr.astype(DEFAULT_FLOAT)
    return Tensor._wrap(arr)


def _numpy_names(method):
    """Accept NumPy's ``axis=`` / ``keepdims=`` as aliases of ``dim=`` / ``keepdim=``, as torch does."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
            if alias in kwargs:
                if name in kwargs:
                    raise TypeError(f"{method.__name__}(): got both {name}= and its alias {alias}=")
                kwargs[name] = kwargs.pop(alias)
        return method(self, *args, **kwargs)

    return wrapper


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation.

    Args:
        data: array-like (nested lists, NumPy array, scalar).
        dtype: NumPy dtype or a ``cnnlab`` dtype; Python floats default to ``float32``.
        requires_grad: record operations on this tensor so ``backward`` can fill ``.grad``.

    Example:
        >>> x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """

    __array_priority__ = 1000  # so ``ndarray + Tensor`` calls Tensor.__radd__
    # Version counter and view flags (cnnlab/autograd/function.py): ``_vc`` is the
    # [version, graph_epoch] list shared by every tensor on the same storage.
    _graph_epoch = 0
    _view_of = None  # (base, view op, its arguments) of a recorded view, to re-derive it
    _is_view = False
    _view_of_leaf = False

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False):
        self._data = _to_array(data, dtype)
        self._vc = [0, 0]
        self._init_graph(requires_grad)

    def _init_graph(self, requires_grad: bool) -> None:
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating point tensors can require gradients, got dtype {self._data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self._ctx = None
        self._retains_grad = False

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an existing array without copying (internal; outside the engine use
        ``cnnlab.from_numpy``)."""
        t = cls.__new__(cls)
        t._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t._vc = [0, 0]
        if requires_grad:
            t._init_graph(True)
        else:  # the common case (every op output under no_grad, every detach), kept short
            t.requires_grad = False
            t.grad = None
            t._ctx = None
            t._retains_grad = False
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def data(self) -> "Tensor":
        """A detached Tensor sharing this tensor's memory (as ``torch.Tensor.data``)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has had (shared with its views)."""
        return self._vc[0]

    @property
    def shape(self) -> Size:
        return tuple.__new__(Size, self._data.shape)  # NumPy's shape is already a tuple of ints

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtype:
        return as_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def T(self) -> "Tensor":
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None):
        """The shape as a ``cnnlab.Size``, or its length along ``dim``."""
        return self.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        from ._printing import tensor_repr

        grad_fn = None if self._ctx is None else self._ctx.name()
        return tensor_repr(self._data, repr(self.dtype), self.requires_grad, grad_fn)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats a one-element tensor as its number, as in PyTorch."""
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(
                f"unsupported format string {spec!r} for a tensor of shape {tuple(self.shape)}; "
                "only one-element tensors format as numbers (use .item() or .tolist())"
            )
        return repr(self)

    # ------------------------------------------------------------- conversions
    def numpy(self) -> np.ndarray:
        """The array behind this tensor, shared (no copy); refused if it requires grad.

        ``t.detach().numpy()`` works for any tensor and is the documented way to get an
        array out of cnnlab.
        """
        if self.requires_grad:
            raise RuntimeError(
                "numpy(): this tensor requires grad; call tensor.detach().numpy() instead"
            )
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this tensor's memory and version counter, outside the graph."""
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    def clone(self) -> "Tensor":
        return self + 0 if self.requires_grad else Tensor._wrap(self._data.copy())

    def contiguous(self) -> "Tensor":
        """This tensor if its memory is in row-major order, else a row-major copy (as torch)."""
        return self if self._data.flags.c_contiguous else sh.Contiguous.apply(self)

    def to(self, *args, **kwargs) -> "Tensor":
        """Cast to a dtype and/or "move" to a device, as ``torch.Tensor.to``.

        cnnlab computes on the CPU: ``to("cpu")`` and ``to(device)`` for a CPU device return
        the tensor itself; another device ("cuda", "mps") raises one clear error.
        ``to(other)`` takes ``other``'s dtype.
        """
        args = tuple(a.dtype if isinstance(a, Tensor) else a for a in args)
        dtype = dtype_of_to(args, kwargs, "to()")
        if dtype is None or to_numpy_dtype(dtype) == self._data.dtype:
            return self
        return un.Cast.apply(self, dtype=to_numpy_dtype(dtype))

    def type(self, dtype) -> "Tensor":
        return self.to(dtype)

    def float(self) -> "Tensor":
        return self.to(np.float32)

    def double(self) -> "Tensor":
        return self.to(np.float64)

    def long(self) -> "Tensor":
        return self.to(np.int64)

    def int(self) -> "Tensor":
        return self.to(np.int32)

    def bool(self) -> "Tensor":
        return self.to(np.bool_)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
        check_device("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}", "cuda()")
        return self

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        """A one-element integer (or bool) tensor used as a Python index: ``classes[labels[j]]``."""
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(
                f"only integer tensors of a single element can be converted to an index, got a "
                f"{self._data.dtype} tensor of shape {self.shape}"
            )
        return int(self._data.reshape(()))

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires it.

        Args:
            gradient: the gradient of some scalar with respect to this tensor; may be
                omitted only when this tensor holds a single element.
            retain_graph: keep the graph so backward can run through it again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn; make sure an "
                "input has requires_grad=True and that the computation is not under no_grad()"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward(): grad can be implicitly created only for scalar outputs, but this "
                    f"tensor has shape {self.shape}; pass gradient= a tensor of that shape, or "
                    "reduce first (e.g. loss.sum() or loss.mean())"
                )
            grad = np.ones_like(self._data)
        else:
            grad = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient, dtype=self.dtype)
            if grad.shape != self._data.shape:
                raise ValueError(
                    f"backward(): gradient has shape {grad.shape}, expected the tensor's shape {self.shape}"
                )
        run_backward(self, grad, retain_graph=retain_graph)

    def retain_grad(self) -> None:
        self._retains_grad = True
        if self._ctx is not None:
            self._ctx.retained_by = self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    # ---------------------------------------------------------------- in-place
    def _modify(self, name: str, value, recorded, others=()) -> "Tensor":
        """Write ``value()`` into this tensor's memory and bump its version, as torch.

        When a gradient can flow (grad mode on and this tensor or an operand requires grad),
        the change is recorded instead: ``recorded(old)`` computes the new value as a graph
        node on ``old``, an alias holding this tensor's previous graph, and this tensor takes
        that node as its own (torch's "rebase"). Ops that saved the old value see the bump.
        """
        if is_grad_enabled() and (self.requires_grad or any(_needs_grad(o) for o in others)):
            self._check_recordable(name)
            # the previous value, kept apart: an op on it may save it for its backward, as
            # torch keeps the original of an in-place op's input
            old = Tensor._wrap(self._data.copy())
            old._ctx, old.requires_grad = self._ctx, self.requires_grad
            result = recorded(old)
            self._write(name, result._data)
            self._vc[0] += 1
            self._vc[1] += 1  # views made earlier no longer match their graphs
            ctx = result._ctx
            ctx.versions = tuple(
                (i, self._vc, self._vc[0]) if i < 0 else (i, c, v) for i, c, v in ctx.versions
            )
            self._ctx, self.requires_grad, self._graph_epoch = ctx, True, self._vc[1]
            return self
        new = value()
        if new is not None:  # None: value() wrote in place itself
            self._write(name, new)
        self._vc[0] += 1
        return self

    def _bump_version(self) -> None:
        """Count a change made through ``detach().numpy()`` (optimizers call this after each
        update, so, as in torch, a graph that saved a parameter refuses to backward after
        ``step()``)."""
        self._vc[0] += 1

    def _check_recordable(self, name: str) -> None:
        if self._ctx is not None and self._vc[1] != self._graph_epoch:
            rederive(self, name)
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place "
                "operation; wrap parameter updates in `with cnnlab.no_grad():`"
            )
        if self._view_of_leaf:
            raise RuntimeError(
                f"{name}: a view of a leaf Variable that requires grad is being used in an "
                "in-place operation"
            )
        if self._is_view and not self.requires_grad:
            raise RuntimeError(
                f"{name}: an in-place operation with an operand that requires grad writes into a "
                "view of a tensor that does not; torch would make the base require grad, cnnlab "
                "refuses (docs/design/autograd-semantics.md): change the base, or clone() first"
            )

    def _write(self, name: str, value) -> None:
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"{name}: unsupported operation: more than one element of the written-to tensor "
                "refers to a single memory location (an expand()ed tensor); clone() it first"
            )
        value = np.asarray(value)
        if value.dtype != self._data.dtype and not np.can_cast(value.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(
                f"{name}: result type {torch_name(value.dtype)} can't be cast to the desired "
                f"output type {torch_name(self._data.dtype)}"
            )
        try:
            np.copyto(self._data, value, casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"{name}: the result of shape {tuple(value.shape)} cannot be written into a tensor "
                f"of shape {self.shape}"
            ) from None

    def zero_(self):
        return self._modify("zero_", lambda: 0, lambda old: _replaced(old, 0))

    def fill_(self, value):
        return self._modify("fill_", lambda: _raw(value), lambda old: _replaced(old, value), (value,))

    def copy_(self, src):
        arr = _raw(src) if isinstance(src, Tensor) else np.asarray(src)
        if np.broadcast_shapes(arr.shape, self.shape) != self.shape:
            raise ValueError(f"copy_(): cannot copy shape {arr.shape} into shape {self.shape}")
        if not isinstance(src, Tensor):
            src = Tensor._wrap(arr)
        # the copy takes this tensor's dtype, whatever the source's (as torch)
        return self._modify("copy_", lambda: arr, lambda old: _replaced(old, src.to(self.dtype)), (src,))

    def add_(self, other, alpha=1):
        other = other if alpha == 1 else other * alpha
        return self._modify("add_", lambda: self._data + _raw(other), lambda old: old + other, (other,))

    def sub_(self, other, alpha=1):
        other = other if alpha == 1 else other * alpha
        return self._modify("sub_", lambda: self._data - _raw(other), lambda old: old - other, (other,))

    def mul_(self, other):
        return self._modify("mul_", lambda: self._data * _raw(other), lambda old: old * other, (other,))

    def div_(self, other):
        return self._modify("div_", lambda: self._data / _raw(other), lambda old: old / other, (other,))

    def clamp_(self, min=None, max=None):
        return self._modify("clamp_", lambda: np.clip(self._data, min, max), lambda old: old.clamp(min, max))

    def relu_(self):
        return self._modify("relu_", lambda: np.maximum(self._data, 0), lambda old: old.relu())

    def normal_(self, mean=0.0, std=1.0):
        from .random import default_generator, fill_normal

        noise = np.empty(self.shape, self._data.dtype)
        noise = Tensor._wrap(fill_normal(default_generator(), noise, mean, std))
        return self._modify("normal_", lambda: noise._data, lambda old: _replaced(old, noise))

    def uniform_(self, a=0.0, b=1.0):
        from .random import default_generator, fill_uniform

        noise = np.empty(self.shape, self._data.dtype)
        noise = Tensor._wrap(fill_uniform(default_generator(), noise, a, b))
        return self._modify("uniform_", lambda: noise._data, lambda old: _replaced(old, noise))

    def _become(self, out: "Tensor", op: str) -> "Tensor":
        """Make this tensor hold ``out``, computed from it, in place (``F.relu(x, inplace=True)``).

        Its memory is overwritten, so views see the new values, and its version is bumped, as
        in PyTorch. When a graph is recorded this tensor takes ``out``'s node; that node's
        edge already points at the op that made the old value, so backward still reaches it.
        """
        recording = is_grad_enabled() and out._ctx is not None
        if recording or (self.requires_grad and is_grad_enabled()):
            self._check_recordable(op)
        self._write(op, out._data)
        self._vc[0] += 1
        if recording:
            self._vc[1] += 1  # views made earlier no longer match their graphs
            ctx = out._ctx
            # As torch's in-place activations: the node keeps the result (this tensor), not
            # the overwritten input, which its backward must then not read.
            assert not any(isinstance(v, np.ndarray) and np.may_share_memory(v, self._data) for v in ctx.saved), op
            # a saved result (ReLU keeps its output) now lives in this tensor: keep one copy
            ctx.saved = tuple(self._data if v is out._data else v for v in ctx.saved)
            ctx.versions = ((-1, self._vc, self._vc[0]),) + tuple(
                e for e in ctx.versions if e[1] is not self._vc
            )
            self._ctx, self.requires_grad, self._graph_epoch = ctx, True, self._vc[1]
        return self

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return ar.Add.apply(self, other)

    def __radd__(self, other):
        return ar.Add.apply(other, self)

    def __sub__(self, other):
        return ar.Sub.apply(self, other)

    def __rsub__(self, other):
        return ar.Sub.apply(other, self)

    def __mul__(self, other):
        return ar.Mul.apply(self, other)

    def __rmul__(self, other):
        return ar.Mul.apply(other, self)

    def __truediv__(self, other):
        return ar.Div.apply(self, other)

    def __rtruediv__(self, other):
        return ar.Div.apply(other, self)

    def __pow__(self, other):
        return (ar.Pow if isinstance(other, Tensor) else ar.PowScalar).apply(self, other)

    def __rpow__(self, other):
        return ar.Pow.apply(other, self)

    def __matmul__(self, other):
        return ar.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return ar.MatMul.apply(other, self)

    def __neg__(self):
        return un.Neg.apply(self)

    def __abs__(self):
        return un.Abs.apply(self)

    mul, pow, matmul = __mul__, __pow__, __matmul__
    neg, abs = __neg__, __abs__

    def add(self, other, *, alpha=1):
        """``self + alpha * other``."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other``."""
        return self - (other if alpha == 1 else other * alpha)

    def div(self, other, *, rounding_mode=None):
        """``self / other``; ``rounding_mode`` 'trunc' rounds toward zero, 'floor' down (both
        have a zero gradient, as in torch)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        return ar.RoundedDiv.apply(self, other, rounding_mode=rounding_mode)

    def exp(self):
        return un.Exp.apply(self)

    def log(self):
        return un.Log.apply(self)

    def sqrt(self):
        return un.Sqrt.apply(self)

    def sin(self):
        return trig.Sin.apply(self)

    def cos(self):
        return trig.Cos.apply(self)

    def sinh(self):
        return trig.Sinh.apply(self)

    def cosh(self):
        return trig.Cosh.apply(self)

    def clamp(self, min=None, max=None):
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            inf = np.inf if self.dtype.kind == "f" else np.iinfo(self._data.dtype).max
            lo = min if min is not None else as_tensor_like(-inf, self)
            hi = max if max is not None else as_tensor_like(inf, self)
            return un.ClampTensor.apply(self, lo, hi)
        return un.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def maximum(self, other):
        return ar.Maximum.apply(self, other)

    def minimum(self, other):
        return ar.Minimum.apply(self, other)

    def relu(self):
        return act.ReLU.apply(self)

    def sigmoid(self):
        return act.Sigmoid.apply(self)

    def tanh(self):
        return act.Tanh.apply(self)

    @_numpy_names
    def softmax(self, dim, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        return act.Softmax.apply(x, dim=softmax_dim(dim, x.shape, "softmax"))

    @_numpy_names
    def log_softmax(self, dim, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        return act.LogSoftmax.apply(x, dim=softmax_dim(dim, x.shape, "log_softmax"))

    # ------------------------------------------------------------ comparisons
    def _compare(self, other, fn):
        return Tensor._wrap(fn(self._data, _raw(other)))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other):  # type: ignore[override]
        return self._compare(other, np.not_equal)

    __hash__ = object.__hash__
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        return Tensor._wrap(~self._data)

    def __and__(self, other):
        return self._compare(other, np.logical_and)

    def __or__(self, other):
        return self._compare(other, np.logical_or)

    def equal(self, other) -> bool:
        return self.shape == other.shape and bool(np.array_equal(self._data, _raw(other)))

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        return bool(np.allclose(self._data, _raw(other), rtol=rtol, atol=atol))

    @_numpy_names
    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(np.asarray(np.argmax(self._data), dtype=np.int64))
        return Tensor._wrap(np.argmax(self._data, axis=dim, keepdims=keepdim).astype(np.int64))

    @_numpy_names
    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(np.asarray(np.argmin(self._data), dtype=np.int64))
        return Tensor._wrap(np.argmin(self._data, axis=dim, keepdims=keepdim).astype(np.int64))

    @_numpy_names
    def all(self, dim=None, keepdim=False):
        axes = None if dim is None else rd.normalize_dims(dim, self.ndim, "all")
        return Tensor._wrap(np.all(self._data, axis=axes, keepdims=keepdim))

    @_numpy_names
    def any(self, dim=None, keepdim=False):
        axes = None if dim is None else rd.normalize_dims(dim, self.ndim, "any")
        return Tensor._wrap(np.any(self._data, axis=axes, keepdims=keepdim))

    def _pick(self, indices: np.ndarray, dim: int) -> "Tensor":
        return sel.TakeAlongDim.apply(self, indices=indices, dim=dim)

    @_numpy_names
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """Sorted values along ``dim`` and their indices; equal values keep their order."""
        if self.ndim == 0:
            return SortResult(self.clone(), Tensor._wrap(np.array(0, dtype=np.int64)))
        (axis,) = rd.normalize_dims(dim, self.ndim, "sort")
        order = sel.sort_indices(self._data, axis, descending)
        return SortResult(_named(self._pick(order, axis), "SortBackward0"), Tensor._wrap(order.astype(np.int64)))

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> "Tensor":
        return self.sort(dim, descending, stable).indices

    @_numpy_names
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """The ``k`` largest (or smallest) values along ``dim``, largest first, and their indices."""
        axis = rd.normalize_dims(dim, self.ndim, "topk")[0] if self.ndim else 0
        size = self.shape[axis] if self.ndim else 1
        if not 0 <= k <= size:
            raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {size} (shape {self.shape})")
        if self.ndim == 0:
            return TopKResult(self.clone(), Tensor._wrap(np.array(0, dtype=np.int64)))
        order = np.take(sel.sort_indices(self._data, axis, descending=largest), np.arange(k), axis=axis)
        return TopKResult(_named(self._pick(order, axis), "TopkBackward0"), Tensor._wrap(order.astype(np.int64)))

    # ------------------------------------------------------------- reductions
    @_numpy_names
    def sum(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if x.dtype.kind in "biu":
            return Tensor._wrap(np.sum(x._data, axis=rd.normalize_dims(dim, x.ndim, "sum"), keepdims=keepdim))
        return rd.Sum.apply(x, axes=rd.normalize_dims(dim, x.ndim, "sum"), keepdim=keepdim)

    @_numpy_names
    def mean(self, dim=None, keepdim=False):
        if self.dtype.kind != "f":
            raise RuntimeError(f"mean(): needs a floating point tensor, got dtype {self.dtype}")
        return rd.Mean.apply(self, axes=rd.normalize_dims(dim, self.ndim, "mean"), keepdim=keepdim)

    def _extreme(self, dim, keepdim, minimum: bool, name: str):
        if isinstance(dim, Tensor):  # torch.max(a, b): element-wise
            return self.minimum(dim) if minimum else self.maximum(dim)
        if dim is None:
            return rd.AMax.apply(self, axes=rd.normalize_dims(None, self.ndim, name), minimum=minimum)
        if self.ndim == 0:  # torch lets dim 0 (or -1) name the one element of a 0-d tensor
            rd.normalize_dims(dim, 1, name)
            values, indices = self.reshape(1)._extreme(0, False, minimum, name)
            return (return_types.min if minimum else return_types.max)(values, indices)
        (axis,) = rd.normalize_dims(dim, self.ndim, name)
        values = rd.MaxAlongDim.apply(self, dim=axis, keepdim=keepdim, minimum=minimum)
        fn = np.argmin if minimum else np.argmax
        indices = Tensor._wrap(fn(self._data, axis=axis, keepdims=keepdim).astype(np.int64))
        return (return_types.min if minimum else return_types.max)(values, indices)

    @_numpy_names
    def max(self, dim=None, keepdim=False):
        return self._extreme(dim, keepdim, False, "max")

    @_numpy_names
    def min(self, dim=None, keepdim=False):
        return self._extreme(dim, keepdim, True, "min")

    @_numpy_names
    def amax(self, dim=None, keepdim=False):
        return rd.AMax.apply(self, axes=rd.normalize_dims(dim, self.ndim, "amax"), keepdim=keepdim)

    @_numpy_names
    def amin(self, dim=None, keepdim=False):
        return rd.AMax.apply(self, axes=rd.normalize_dims(dim, self.ndim, "amin"), keepdim=keepdim, minimum=True)

    @_numpy_names
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(dim, bool):  # torch.var(x, unbiased): the bool is the flag, not a dim
            dim, unbiased = None, dim
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return rd.Var.apply(self, axes=rd.normalize_dims(dim, self.ndim, "var"), correction=correction, keepdim=keepdim)

    @_numpy_names
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        """The same data in a new shape: a view when the memory allows it, else a copy."""
        return sh.Reshape.apply(self, shape=_shape_arg(shape))

    def view(self, *shape):
        """A view in a new shape, sharing memory; refused (use reshape) when no view exists."""
        return sh.View.apply(self, shape=_shape_arg(shape))

    def view_as(self, other):
        return self.view(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self._data.shape
        new = shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :]
        return self.reshape(new)

    def permute(self, *dims):
        dims = tuple(d % max(self.ndim, 1) for d in _shape_arg(dims))
        return sh.Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        if self.ndim == 0:  # torch accepts dims 0 and -1 on a 0-d tensor
            rd.normalize_dims((dim0, dim1), 1, "transpose")
            return _named(sh.Permute.apply(self, dims=()), "TransposeBackward0")
        order = list(range(self.ndim))
        d0, d1 = dim0 % self.ndim, dim1 % self.ndim
        order[d0], order[d1] = order[d1], order[d0]
        return _named(sh.Permute.apply(self, dims=tuple(order)), "TransposeBackward0")

    swapaxes = swapdims = transpose

    def repeat(self, *sizes):
        """Tile the tensor ``sizes[i]`` times along dim ``i`` (extra leading sizes add dims)."""
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(
                f"repeat(): expected at least {self.ndim} repeat counts (one per dim of shape "
                f"{self.shape}), got {sizes}"
            )
        if any(n < 0 for n in sizes):
            raise ValueError(f"repeat(): repeat counts must be non-negative, got {sizes}")
        return tl.Repeat.apply(self, repeats=sizes)

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with <= 2 dimensions, got {self.ndim}")
        return _named(sh.Permute.apply(self, dims=(1, 0)), "TBackward0") if self.ndim == 2 else self

    @_numpy_names
    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dims = rd.normalize_dims(dim, self.ndim, "squeeze")
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1)))

    @_numpy_names
    def unsqueeze(self, dim):
        d = dim % (self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *shape):
        shape = _shape_arg(shape)
        lead = len(shape) - self.ndim  # new leading dims (where -1 is not allowed)
        shape = tuple(s if s != -1 or i < lead else self.shape[i - lead] for i, s in enumerate(shape))
        return sh.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, index):
        return ix.GetItem.apply(self, index=_index_arg(index))

    def __setitem__(self, index, value):
        index = _index_arg(index)
        if self.requires_grad and self._ctx is None and is_grad_enabled() and ix.is_basic_index(index):
            # torch writes through a view (select/slice, then copy_): its error says so
            raise RuntimeError(
                "setitem: a view of a leaf Variable that requires grad is being used in an "
                "in-place operation"
            )

        def value_now():
            if not self._data.flags.writeable:
                self._write("setitem", self._data)  # the one clear error for expanded tensors
            self._data[index] = _raw(value)

        return self._modify(
            "setitem", value_now, lambda old: ix.SetItem.apply(old, value, index=index), (value,)
        )

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap a NumPy array as a Tensor without copying; the tensor keeps the array's dtype.

    The public way (``cnnlab.from_numpy``) for code outside the engine to make a tensor from
    an array it computed. Writing into either one changes both.

    Example:
        >>> a = np.zeros(3, dtype=np.float32)
        >>> t = cnnlab.from_numpy(a); a[0] = 1
        >>> t
        tensor([1., 0., 0.])
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _named(out: "Tensor", name: str) -> "Tensor":
    """Give ``out``'s node the name PyTorch shows for the method that made it (``t()``...)."""
    if out._ctx is not None:
        out._ctx.label = name
    return out


def _raw(value):
    return value._data if isinstance(value, Tensor) else value


def _replaced(old: Tensor, new) -> Tensor:
    """``new`` (broadcast to ``old``'s shape) as a graph node on ``old`` that sends it no gradient."""
    return ix.Where.apply(np.zeros(old.shape, dtype=bool), old, new)


def _needs_grad(value) -> bool:
    return isinstance(value, Tensor) and value.requires_grad




def _shape_arg(shape: Sequence) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _index_arg(index):
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


register_tensor_type(Tensor, as_tensor_like)
