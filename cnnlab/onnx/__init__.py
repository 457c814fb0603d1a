"""ONNX out and in: ``export`` a cnnlab model to an ``.onnx`` file, ``load`` one as a cnnlab model.

Needs the optional ``onnx`` extra (``pip install 'cnnlab[onnx]'``: onnx and onnxruntime);
cnnlab itself imports without it, and these functions say so in one line when it is missing.

Example:
    >>> net = cnnlab.models.create("mnist-cnn")
    >>> cnnlab.onnx.export(net, cnnlab.zeros(1, 1, 28, 28), "mnist-cnn.onnx")
    >>> again = cnnlab.onnx.load("mnist-cnn.onnx")   # a GraphModule of cnnlab layers
"""

from ._export import export, to_onnx
from ._graph import ExportError
from ._layers import GraphModule, OnnxOp
from ._load import LoadError, from_onnx, load

__all__ = ["export", "to_onnx", "load", "from_onnx", "GraphModule", "OnnxOp", "ExportError", "LoadError"]
