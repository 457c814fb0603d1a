"""dtypes: ``cnnlab.float32`` and friends, PyTorch's names over NumPy's dtypes.

A ``cnnlab.dtype`` prints as ``cnnlab.float32`` and has torch's attributes
(``is_floating_point``, ``itemsize``...), yet it *is* a NumPy dtype wherever NumPy looks
(``np.zeros(3, dtype=cnnlab.float64)``, ``arr.astype(t.dtype)``) and compares equal to one
(``t.dtype == np.float32``), so code written against either library keeps working.
"""

from __future__ import annotations

import builtins

import numpy as np


class dtype:  # noqa: N801  (PyTorch's name)
    """A tensor element type; ``cnnlab.float32``, ``cnnlab.int64``, ... are its instances."""

    __slots__ = ("_np",)

    def __init__(self, numpy_dtype):
        object.__setattr__(self, "_np", np.dtype(numpy_dtype))

    @property
    def dtype(self) -> np.dtype:  # NumPy reads an object's ``.dtype`` when it is given as a dtype
        return self._np

    @property
    def is_floating_point(self) -> bool:
        return self._np.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self._np.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self._np.kind in "fic"

    @property
    def itemsize(self) -> int:
        return self._np.itemsize

    def __getattr__(self, name):  # kind, name, type, char...: as NumPy's dtype
        return getattr(object.__getattribute__(self, "_np"), name)

    def __repr__(self) -> str:
        return f"cnnlab.{'bool' if self._np == np.bool_ else self._np.name}"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        if isinstance(other, dtype):
            return self._np == other._np
        if isinstance(other, str) and other.startswith(("torch.", "cnnlab.")):
            other = other.split(".", 1)[1]
        try:
            return self._np == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self._np)

    def __reduce__(self):
        return (dtype, (self._np.str,))


_BY_NUMPY: dict[np.dtype, dtype] = {}


def as_dtype(numpy_dtype) -> dtype:
    """The ``cnnlab.dtype`` for a NumPy dtype (one shared instance per dtype)."""
    nd = np.dtype(numpy_dtype)
    found = _BY_NUMPY.get(nd)
    if found is None:
        found = _BY_NUMPY[nd] = dtype(nd)
    return found


float32 = as_dtype(np.float32)
float64 = as_dtype(np.float64)
float16 = as_dtype(np.float16)
int64 = as_dtype(np.int64)
int32 = as_dtype(np.int32)
int16 = as_dtype(np.int16)
int8 = as_dtype(np.int8)
uint8 = as_dtype(np.uint8)
bool_ = as_dtype(np.bool_)
float = float32  # noqa: A001  (PyTorch's aliases)
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

DEFAULT_FLOAT = np.dtype(np.float32)


def to_numpy_dtype(dtype_like) -> np.dtype:
    """Accept cnnlab dtypes, NumPy dtypes, Python types and torch dtypes (by name)."""
    if dtype_like is None:
        return DEFAULT_FLOAT
    if isinstance(dtype_like, dtype):
        return dtype_like._np
    python_types = {builtins.float: DEFAULT_FLOAT, builtins.int: np.dtype(np.int64), builtins.bool: np.dtype(np.bool_)}
    if dtype_like in python_types:
        return python_types[dtype_like]
    name = str(dtype_like)
    if name.startswith(("torch.", "cnnlab.")):  # lets ported code pass torch dtypes
        name = name.split(".", 1)[1]
        aliases = {"long": "int64", "int": "int32", "float": "float32", "double": "float64", "bool": "bool",
                   "half": "float16", "short": "int16"}
        name = aliases.get(name, name)
    try:
        return np.dtype(name if name.startswith(("float", "int", "uint", "bool")) else dtype_like)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype_like!r}") from None


# ----------------------------------------------------------------- torch's type rules
_TORCH_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
}


def torch_name(dtype) -> str:
    """torch's name of a dtype in its error messages: float32 → "Float", int64 → "Long"."""
    return _TORCH_NAMES.get(np.dtype(dtype).name, str(dtype))


def _category(dtype: np.dtype) -> int:
    return 0 if dtype.kind == "b" else 2 if dtype.kind in "fc" else 1


def result_type(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype of ``a op b`` by torch's rules (NumPy's differ: int64 + float32 is float64 there).

    A higher category (bool < integer < floating) wins outright: int64 + float32 → float32.
    Within one category a 0-d operand defers to a dimensioned one (float32 tensor + float64
    0-d tensor → float32); otherwise the wider type wins. Python scalars reach the ops as 0-d
    arrays already typed by ``as_tensor_like`` (a float scalar with an integer tensor is float32).
    """
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    ca, cb = _category(da), _category(db)
    if ca != cb:
        return da if ca > cb else db
    if (a.ndim == 0) != (b.ndim == 0):
        return db if a.ndim == 0 else da
    return np.promote_types(da, db)


def float_result(dtype: np.dtype) -> np.dtype:
    """The dtype torch gives a floating op (exp, sigmoid, ...) of a ``dtype`` input."""
    return dtype if dtype.kind == "f" else DEFAULT_FLOAT


def require_float(op: str, array: np.ndarray, what: str = "input") -> None:
    """Refuse an integer or bool ``array`` where torch has no kernel for it."""
    if array.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: not implemented for {torch_name(array.dtype)} ({array.dtype}) {what}; "
            "needs a floating point dtype (float32 or float64)"
        )
