"""dtypes: cnnlab uses NumPy dtypes, exported under PyTorch's names (``cnnlab.float32``...)."""

from __future__ import annotations

import builtins

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
float = float32  # noqa: A001  (PyTorch's aliases)
double = float64
long = int64
int = int32  # noqa: A001

DEFAULT_FLOAT = float32


def to_numpy_dtype(dtype) -> np.dtype:
    """Accept NumPy dtypes, cnnlab aliases, Python types and torch dtypes (by name)."""
    if dtype is None:
        return DEFAULT_FLOAT
    python_types = {builtins.float: DEFAULT_FLOAT, builtins.int: int64, builtins.bool: bool_}
    if dtype in python_types:
        return python_types[dtype]
    name = str(dtype)
    if name.startswith("torch."):  # lets ported code pass torch dtypes
        name = name[len("torch."):]
        name = {"long": "int64", "int": "int32", "float": "float32", "double": "float64", "bool": "bool"}.get(name, name)
    try:
        return np.dtype(name if name.startswith(("float", "int", "uint", "bool")) else dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None


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
