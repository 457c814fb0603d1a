"""``export``/``to_onnx``: a cnnlab model as an ONNX graph, built with the ``onnx`` helper API.

The model runs once on the example input (``_trace``); each call of a layer becomes the
nodes its converter writes (``_converters``), named after the module (``features.0``; a
layer called twice gives ``relu`` and ``relu:2``). Tensor operations of a custom ``forward``
between layers (a flatten, a residual add, a concatenation) are found in the autograd graph
and written as the matching ONNX operator.
"""

from __future__ import annotations

import json
import os
from itertools import chain
from pathlib import Path

import numpy as np

import cnnlab

from .. import nn
from ._common import check_opset, require_onnx
from ._converters import CONVERTERS
from ._graph import ExportError, GraphBuilder
from ._trace import converter_for, trace

# Autograd ops a custom forward may use between layers → ONNX operator.
_GLUE_UNARY = {"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Neg": "Neg", "Exp": "Exp", "Log": "Log",
               "Sqrt": "Sqrt", "Abs": "Abs"}
_GLUE_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "MatMul": "MatMul"}
_GLUE_OTHER = ("Reshape", "Cat")


def _value(b: GraphBuilder, t, consumer: str) -> str:
    """The value name of tensor ``t``, writing the ops between known tensors and ``t`` if needed."""
    if id(t) in b.values:
        return b.values[id(t)]
    fn = t.grad_fn
    if fn is None:  # a parameter, buffer or constant that no layer owns
        return b.param(t, b.constant_names.get(id(t), "constant"))
    op = type(fn).__name__
    parents = fn.parents
    ins = [_value(b, p, consumer) for p in parents]
    where = f"before layer {consumer!r}" if consumer != "output" else "before the output"

    def node(onnx_op, inputs, **attrs):
        return b.node(onnx_op, inputs, f"{onnx_op.lower()}_before_{consumer}", **attrs)

    if op in _GLUE_UNARY:
        out = node(_GLUE_UNARY[op], ins)
    elif op in _GLUE_BINARY:
        out = node(_GLUE_BINARY[op], ins)
    elif op == "Reshape":
        x = parents[0]
        if x.ndim >= 2 and t.ndim == 2 and x.shape[0] == t.shape[0]:
            out = node("Flatten", ins, axis=1)
        else:
            target = b.target_shape(x.shape, t.shape, f"the forward {where}")
            out = node("Reshape", [ins[0], b.ints(f"reshape_before_{consumer}.shape", target)])
    elif op == "Cat":
        differs = [d for d in range(t.ndim) if t.shape[d] != parents[0].shape[d]]
        out = node("Concat", ins, axis=differs[0] if differs else 0)
    else:
        known = sorted(set(_GLUE_UNARY) | set(_GLUE_BINARY) | set(_GLUE_OTHER))
        raise ExportError(
            f"cnnlab.onnx.export: the forward computes {op} {where} outside any exportable layer; between "
            f"layers only {', '.join(known)} are supported (use cnnlab.nn layers for the rest)"
        )
    b.bind(t, out)
    return out


def _as_array(example) -> np.ndarray:
    arr = example.detach().numpy() if isinstance(example, cnnlab.Tensor) else np.asarray(example)
    if arr.dtype.kind != "f" or arr.ndim < 1 or arr.shape[0] < 1:
        raise ValueError(
            f"cnnlab.onnx.export: `example_input` must be a floating-point batch (N, ...) with N ≥ 1, "
            f"got dtype {arr.dtype} and shape {arr.shape}"
        )
    return arr


def _inferred(onnx, b: GraphBuilder, input_info, opset: int) -> dict:
    """Value infos of every node output, from shape inference on the graph without weight data."""
    weights = [onnx.helper.make_tensor_value_info(k, onnx.helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
               for k, a in b.initializers.items()]
    graph = onnx.helper.make_graph(b.nodes, "shapes", [input_info] + weights, [])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
    return {vi.name: vi for vi in onnx.shape_inference.infer_shapes(model, strict_mode=True).graph.value_info}


def _value_info(onnx, name: str, t, batch: int, dynamic: bool):
    shape = list(t.shape)
    if dynamic and shape and shape[0] == batch:
        shape[0] = "batch"
    dtype = onnx.helper.np_dtype_to_tensor_dtype(t.detach().numpy().dtype)
    return onnx.helper.make_tensor_value_info(name, dtype, shape)


def _add_initializer(onnx, graph, name: str, array: np.ndarray) -> None:
    t = graph.initializer.add()
    t.name = name
    t.data_type = onnx.helper.np_dtype_to_tensor_dtype(array.dtype)
    t.dims.extend(array.shape)
    t.raw_data = np.asarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def _rename(nodes, old: str, new: str) -> None:
    for node in nodes:
        for seq in (node.input, node.output):
            for i, v in enumerate(seq):
                if v == old:
                    seq[i] = new


def to_onnx(model: nn.Module, example_input, *, dynamic_batch: bool = True, intermediates: bool = False,
            opset: int = 17, metadata: dict | None = None):
    """The ONNX ``ModelProto`` of ``model``; see ``export`` (which also checks and writes it)."""
    onnx = require_onnx("cnnlab.onnx.export")
    opset = check_opset(opset, "cnnlab.onnx.export")
    if not isinstance(model, nn.Module):
        raise TypeError(f"cnnlab.onnx.export: `model` must be a cnnlab nn.Module, got {type(model).__name__}")
    example = _as_array(example_input)
    x, outs, calls = trace(model, example, CONVERTERS)
    constant_names = {id(t): n for n, t in chain(model.named_parameters(), model.named_buffers()) if t is not None}
    b = GraphBuilder(onnx, opset, dynamic_batch, constant_names)
    b.node_names.update(("input", "output"))
    b.bind(x, "input")
    layers = []
    for call in calls:
        ins = [_value(b, t, call.name) for t in call.inputs]
        value = converter_for(call.module, CONVERTERS)(b, call.name, call.module, ins, call)
        b.bind(call.output, value)
        layers.append((value, call.output))
    final = _value(b, outs[0], "output")
    if final == "input":
        b.node("Identity", ["input"], "output")
    else:
        _rename(b.nodes, final, "output")
    returned = [("output", outs[0])]
    for i, t in enumerate(outs[1:], 1):  # a model returning several tensors (a loaded graph with intermediates)
        v = _value(b, t, f"output{i}")
        if v in ("input", final) or v in dict(returned):
            v = b.node("Identity", [v if v != final else "output"], f"output{i}")
        returned.append((v, t))
    n = example.shape[0]
    outputs = [_value_info(onnx, v, t, n, dynamic_batch) for v, t in returned]
    if intermediates:  # every node's output, in node order: each layer's activation and what lies between
        listed, inner = {v for v, _ in returned}, []
        for node in b.nodes:
            for v in node.output:
                if v not in listed:
                    listed.add(v)
                    outputs.append(_value_info(onnx, v, b.tensors[v], n, dynamic_batch) if v in b.tensors else v)
                    inner += [] if v in b.tensors else [v]
        if inner:  # values inside a layer's group of nodes (Maxout's pieces): shapes from shape inference
            found = _inferred(onnx, b, _value_info(onnx, "input", x, n, dynamic_batch), opset)
            outputs = [found[o] if isinstance(o, str) else o for o in outputs]
    graph = onnx.helper.make_graph(
        b.nodes, type(model).__name__, [_value_info(onnx, "input", x, n, dynamic_batch)], outputs,
    )
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="cnnlab",
                                   producer_version=cnnlab.__version__,
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    proto.doc_string = f"{type(model).__name__} exported by cnnlab {cnnlab.__version__}"
    for name, array in b.initializers.items():  # added in place: make_graph would copy every weight twice
        _add_initializer(onnx, proto.graph, name, array)
    props = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}
    if props:
        onnx.helper.set_model_props(proto, props)
    return proto


def export(model: nn.Module, example_input, path: str | os.PathLike, *, dynamic_batch: bool = True,
           intermediates: bool = False, opset: int = 17, metadata: dict | None = None):
    """Write ``model`` as an ONNX file that onnxruntime, Netron and other frameworks read.

    Args:
        model: a cnnlab ``nn.Module`` built from cnnlab's layers (Sequential or a custom
            forward; the forward may flatten, reshape, add, multiply and concatenate between layers).
        example_input: one input batch (Tensor or array); the model runs on it once, in eval mode.
        path: the ``.onnx`` file to write.
        dynamic_batch: dim 0 of the input and outputs is symbolic (``batch``), so any batch
            size runs (default True); False fixes it to the example's.
        intermediates: also output every node's value: each layer's activation, named after
            the layer (the last layer's is ``output``), and the tensor ops between layers
            (default False).
        opset: ONNX opset of the default domain, 13 or newer (default 17).
        metadata: key → value written to the file's ``metadata_props`` (strings as they are,
            anything else as JSON), e.g. ``{"classes": [...], "preprocess": {...}}``.

    Returns:
        the ``onnx.ModelProto`` written; it has passed ``onnx.checker.check_model``.

    Raises:
        ExportError: a layer or op with no ONNX equivalent, named in one line.

    Example:
        >>> cnnlab.onnx.export(models.create("mnist-cnn"), cnnlab.zeros(1, 1, 28, 28), "mnist.onnx")
    """
    proto = to_onnx(model, example_input, dynamic_batch=dynamic_batch, intermediates=intermediates,
                    opset=opset, metadata=metadata)
    onnx = require_onnx("cnnlab.onnx.export")
    data = proto.SerializeToString()  # once: the checker and the file share the bytes
    try:
        onnx.checker.check_model(data, full_check=True)
    except onnx.checker.ValidationError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"cnnlab.onnx.export: the graph of {type(model).__name__} fails onnx.checker: {first}") from None
    Path(path).write_bytes(data)
    return proto
