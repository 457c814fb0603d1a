"""What export and load share: the optional-dependency check and the opsets cnnlab writes."""

from __future__ import annotations

MIN_OPSET = 13  # Softmax/LogSoftmax work on one axis from opset 13 on, as cnnlab's do


def require_onnx(what: str):
    """The ``onnx`` package, or an ImportError saying in one line which extra to install."""
    try:
        import onnx
    except ImportError:
        raise ImportError(
            f"{what} needs the `onnx` package: pip install 'cnnlab[onnx]' (or pip install onnx onnxruntime)"
        ) from None
    return onnx


def check_opset(opset, what: str) -> int:
    """A default-domain opset number that both cnnlab and the installed ``onnx`` support."""
    onnx = require_onnx(what)
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or int(opset) != opset or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"{what}: `opset` must be an integer from {MIN_OPSET} to {newest}, got {opset!r}")
    return int(opset)
