"""How tensors print: PyTorch's layout and number format, so printed results read the same.

The rules (those of ``torch.Tensor.__repr__``, re-implemented here on NumPy arrays):

* Floating tensors: all nonzero finite values are inspected. If they are all whole numbers
  they print as ``3.`` ("integer mode"); else with ``precision`` (4) decimals. Scientific
  notation (``1.2346e+05``) is used when the largest magnitude is over 1e8, or the ratio of
  largest to smallest is over 1000, or (outside integer mode) the smallest is under 1e-4.
  Every element is right-aligned to the widest formatted value.
* Rows wrap at ``linewidth`` (80) characters; nested dims are separated by one blank line
  per extra dim. Tensors with more than ``threshold`` (1000) elements show only the first and
  last ``edgeitems`` (3) entries of each dim, with ``...`` between.
* The suffix names what the values do not show: ``dtype=`` unless float32, int64 or bool;
  ``size=`` for empty tensors that are not 1-D; ``grad_fn=<...>`` or ``requires_grad=True``.
"""

from __future__ import annotations

import math

import numpy as np

PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Change how tensors print, as ``torch.set_printoptions``; ``profile`` is 'default',
    'short' (2 decimals) or 'full' (no summarisation)."""
    if profile is not None:
        presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}
        if profile not in presets:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; valid: {', '.join(presets)}")
        for key, value in zip(("precision", "threshold", "edgeitems", "linewidth"), presets[profile]):
            PRINT_OPTIONS[key] = value
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


class _NumberFormat:
    """The format every element of one tensor shares (decided from its values)."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        precision = PRINT_OPTIONS["precision"]
        flat = values.reshape(-1)
        if not self.floating:
            self.width = max([len(self._plain(v)) for v in flat.tolist()], default=1)
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size:
            magnitude = np.abs(finite)
            low, high = magnitude.min(), magnitude.max()
            self.int_mode = bool(np.all(finite == np.ceil(finite)))
            wide_range = high / low > 1000.0 or high > 1.0e8
            self.sci_mode = wide_range if self.int_mode else (wide_range or low < 1.0e-4)
            if self.sci_mode:
                texts = [f"{v:.{precision}e}" for v in finite.tolist()]
            elif self.int_mode:
                texts = [f"{v:.0f}." for v in finite.tolist()]
            else:
                texts = [f"{v:.{precision}f}" for v in finite.tolist()]
            self.width = max(len(t) for t in texts)
        if PRINT_OPTIONS["sci_mode"] is not None:
            self.sci_mode = PRINT_OPTIONS["sci_mode"]

    @staticmethod
    def _plain(value) -> str:
        return str(value)

    def __call__(self, value) -> str:
        precision = PRINT_OPTIONS["precision"]
        if not self.floating:
            text = self._plain(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{precision}f}"
        return text.rjust(self.width)


def _summary(values: np.ndarray) -> np.ndarray:
    """Only the elements a summarised print shows (the first/last ``edgeitems`` of each dim)."""
    k = PRINT_OPTIONS["edgeitems"]
    for axis in range(values.ndim):
        if values.shape[axis] > 2 * k:
            keep = np.r_[0:k, values.shape[axis] - k:values.shape[axis]]
            values = np.take(values, keep, axis=axis)
    return values


def _rows(values: np.ndarray, indent: int, summarize: bool, fmt: _NumberFormat) -> str:
    k = PRINT_OPTIONS["edgeitems"]
    long = summarize and values.shape[0] > 2 * k
    if values.ndim == 1:
        items = values.tolist()
        texts = ([fmt(v) for v in items[:k]] + [" ..."] + [fmt(v) for v in items[-k:]]) if long else [fmt(v) for v in items]
        per_line = max(1, (PRINT_OPTIONS["linewidth"] - indent) // (fmt.width + 2))
        lines = [", ".join(texts[i:i + per_line]) for i in range(0, len(texts), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    index = list(range(k)) + [None] + list(range(values.shape[0] - k, values.shape[0])) if long else range(values.shape[0])
    parts = ["..." if i is None else _rows(values[i], indent + 1, summarize, fmt) for i in index]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_values(values: np.ndarray, indent: int) -> str:
    """The bracketed values of a non-empty array, as torch lays them out."""
    if values.dtype == np.float16:
        values = values.astype(np.float32)
    summarize = values.size > PRINT_OPTIONS["threshold"]
    fmt = _NumberFormat(_summary(values) if summarize else values)
    if values.ndim == 0:
        return fmt(values.item())
    return _rows(values, indent, summarize, fmt)


def tensor_repr(values: np.ndarray, dtype_name: str, requires_grad: bool, grad_fn_name: str | None,
                prefix: str = "tensor(") -> str:
    """``tensor([...], dtype=..., grad_fn=<...>)`` for an array and its autograd state."""
    indent = len(prefix)
    suffixes = []
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype != np.float32:
            suffixes.append(f"dtype={dtype_name}")
        body = "[]"
    else:
        if values.dtype not in _DEFAULT_DTYPES:
            suffixes.append(f"dtype={dtype_name}")
        body = format_values(values, indent)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line + len(suffix) + 2 > PRINT_OPTIONS["linewidth"]:
            text += ",\n" + " " * indent + suffix
            line = indent + len(suffix)
        else:
            text += ", " + suffix
            line += len(suffix) + 2
    return text + ")"
