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
