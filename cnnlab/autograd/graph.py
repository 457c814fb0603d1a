"""The recorded graph as PyTorch shows it: ``grad_fn`` names and ``next_functions``.

``t.grad_fn`` is the op node that made ``t`` (a ``Function`` instance). Its ``name()`` is the
name PyTorch gives the same node (``AddBackward0``, ``MseLossBackward0``...), and
``next_functions`` links it to the nodes of its inputs: another op node, an
``AccumulateGrad`` node for a leaf that requires grad (``.variable`` is the leaf), or None.

A composite layer function (``F.mse_loss`` computed from sub/mul/mean, ``F.linear`` from
matmul/add) can ``label`` its output with the single name PyTorch's fused op has; the label's
``next_functions`` then point at the layer's own inputs, as in PyTorch.

Op classes are matched by their class name, so this module needs nothing from ``cnnlab._ops``.
"""

from __future__ import annotations

import numpy as np

_FIXED = {
    "Add": "AddBackward0", "Mul": "MulBackward0", "Div": "DivBackward0", "Maximum": "MaximumBackward0",
    "Minimum": "MinimumBackward0", "Neg": "NegBackward0", "Exp": "ExpBackward0", "Log": "LogBackward0",
    "Sqrt": "SqrtBackward0", "Abs": "AbsBackward0", "Clamp": "ClampBackward1", "Cast": "ToCopyBackward0",
    "AMax": "AmaxBackward0", "MaxAlongDim": "MaxBackward0", "Var": "VarBackward0", "Reshape": "ViewBackward0",
    "Permute": "PermuteBackward0", "Expand": "ExpandBackward0", "Cat": "CatBackward0",
    "Stack": "StackBackward0", "Where": "WhereBackward0", "ReLU": "ReluBackward0",
    "LeakyReLU": "LeakyReluBackward0", "ELU": "EluBackward0", "Sigmoid": "SigmoidBackward0",
    "Tanh": "TanhBackward0", "Softmax": "SoftmaxBackward0", "LogSoftmax": "LogSoftmaxBackward0",
    "Conv2dOp": "ConvolutionBackward0", "MaskedScale": "MulBackward0", "CrossEntropy": "NllLossBackward0",
    "NLLLoss": "NllLossBackward0", "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0",
    "LocalResponseNorm": "DivBackward0", "BatchNorm": "NativeBatchNormBackward0",
    "MaxPool2dOp": "MaxPool2DWithIndicesBackward0", "AvgPool2dOp": "AvgPool2DBackward0",
    "AdaptiveAvgPool2dOp": "AdaptiveAvgPool2DBackward0", "AdaptiveMaxPool2dOp": "AdaptiveMaxPool2DBackward0",
    "Repeat": "RepeatBackward0", "Sin": "SinBackward0", "Cos": "CosBackward0", "Sinh": "SinhBackward0",
    "Cosh": "CoshBackward0", "TakeAlongDim": "GatherBackward0",
    "Resize2d": "UpsampleBilinear2DBackward0",
    "View": "ViewBackward0", "PowScalar": "PowBackward0", "Contiguous": "CloneBackward0",
    "SetItem": "CopySlices",
}


def _constant(t: "Tensor") -> bool:
    """A Python number that an op wrapped into a 0-d tensor (no gradient, no graph)."""
    return not t.requires_grad and t.ndim == 0


def _reduces_everything(ctx) -> bool:
    return len(ctx.axes) == len(ctx.shape) and not ctx.keepdim


def _getitem_name(index) -> str:
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, (np.ndarray, list)) for i in items):
        return "IndexBackward0"
    if any(isinstance(i, (int, np.integer)) for i in items):
        return "SelectBackward0"
    return "SliceBackward0"


def node_name(ctx: "Function") -> str:
    """PyTorch's name for the backward node of one recorded op."""
    label = getattr(ctx, "label", None)
    if label is not None:
        return label
    kind = type(ctx).__name__
    parents = getattr(ctx, "parents", ())
    if kind == "Sub":
        return "RsubBackward1" if len(parents) == 2 and _constant(parents[0]) else "SubBackward0"
    if kind == "Pow" and len(parents) == 2:
        if _constant(parents[1]):
            return "PowBackward0"
        return "PowBackward2" if _constant(parents[0]) else "PowBackward1"
    if kind == "MatMul" and len(parents) == 2:
        dims = (parents[0].ndim, parents[1].ndim)
        return {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0", (3, 3): "BmmBackward0"}.get(
            dims, "UnsafeViewBackward0")
    if kind in ("Sum", "Mean"):
        return f"{kind}Backward{0 if _reduces_everything(ctx) else 1}"
    if kind == "AMax":
        return "MaxBackward1" if _reduces_everything(ctx) and not getattr(ctx, "named_amax", False) else "AmaxBackward0"
    if kind == "GetItem":
        return _getitem_name(ctx.index)
    if kind == "Pad":
        return {"constant": "ConstantPadNdBackward0", "reflect": "ReflectionPad2DBackward0",
                "replicate": "ReplicationPad2DBackward0"}.get(ctx.mode, "CopySlices")
    return _FIXED.get(kind, f"{kind}Backward0")


class _Shown:
    """A node PyTorch has where cnnlab fused it away (the log_softmax inside cross_entropy)."""

    def __init__(self, name: str, edges: tuple):
        self._name, self.next_functions = name, edges

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {id(self):#x}>"


class AccumulateGrad:
    """The node that adds a gradient into a leaf tensor's ``.grad`` (``.variable``)."""

    next_functions: tuple = ()

    def __init__(self, variable: "Tensor"):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def _edge(t: "Tensor"):
    if not t.requires_grad:
        return (None, 0)
    if t.grad_fn is None:
        cache = t.__dict__.get("_accumulate_node")
        if cache is None:
            cache = AccumulateGrad(t)
            t.__dict__["_accumulate_node"] = cache
        return (cache, 0)
    return (t.grad_fn, 0)


def next_functions(ctx: "Function") -> tuple:
    inputs = getattr(ctx, "label_inputs", None)
    if inputs is None:
        inputs = getattr(ctx, "parents", ())
        if type(ctx).__name__ == "CrossEntropy" and inputs:
            # PyTorch: NllLossBackward0 -> LogSoftmaxBackward0 -> the logits
            return ((_Shown("LogSoftmaxBackward0", (_edge(inputs[0]),)), 0),)
        if type(ctx).__name__ in ("Add", "Sub", "Mul", "Div", "Pow", "PowScalar"):
            # `x * 2`: PyTorch's scalar overloads show no edge for the number
            inputs = tuple(t for t in inputs if not _constant(t))
    return tuple(_edge(t) for t in inputs)


def label(output: "Tensor", name: str, inputs) -> "Tensor":
    """Show ``output``'s node as PyTorch's fused op ``name`` whose inputs are ``inputs``
    (tensors, or None for an input PyTorch shows as a missing edge). Changes no numbers."""
    node = output.grad_fn
    if node is not None:
        node.label = name
        node.label_inputs = tuple(t for t in inputs if t is not None)
    return output
