"""``load``/``from_onnx``: an ONNX graph as a cnnlab model (``GraphModule``).

Each node becomes a child module named after the node: the cnnlab layer that computes it
(Conv → ``nn.Conv2d``, Gemm → ``nn.Linear``, BatchNormalization → ``nn.BatchNorm2d``...) when
its weights are constants, otherwise an ``OnnxOp`` that runs it with tensor operations (Add,
MatMul, Concat, Reshape...). Everything that cannot be built is named, all of it, in one line.
"""

from __future__ import annotations

import os
from itertools import chain
from pathlib import Path

import numpy as np

import cnnlab

from .. import nn
from ._common import require_onnx
from ._layers import FUNCTIONS, GraphModule, OnnxOp

_MAX_LISTED = 6


class LoadError(ValueError):
    """An ONNX file cnnlab cannot read or build; the message is one line."""


class _Unsupported(Exception):
    """A node that cannot be built; the message says why (may be empty)."""


class _Node:
    """A node with its attributes as Python values and access to constant inputs."""

    def __init__(self, onnx, node, constants: dict, opset: int, ranks: dict, used: set):
        self.node, self.op, self.opset = node, node.op_type, opset
        self.constants, self.ranks = constants, ranks
        self.attrs = {a.name: _attr_value(onnx, a) for a in node.attribute}
        if any(o in used for o in node.output[1:]):
            raise _Unsupported(f"its extra outputs {[o for o in node.output[1:] if o]} are used; cnnlab builds only the first")

    def attr(self, key: str, default=None):
        return self.attrs.get(key, default)

    def input(self, i: int) -> str:
        return self.node.input[i] if i < len(self.node.input) else ""

    def const(self, i: int, required: bool = True):
        name = self.input(i)
        if name and name in self.constants:
            return self.constants[name]
        if name and required:
            raise _Unsupported(f"input {i} ({name!r}) must be a constant (an initializer or Constant node)")
        if required:
            raise _Unsupported(f"input {i} is missing")
        return None

    def rank(self, i: int = 0):
        return self.ranks.get(self.input(i))

    def pads(self) -> tuple[int, int]:
        auto = self.attr("auto_pad", "NOTSET")
        if auto == "VALID":
            return (0, 0)
        if auto != "NOTSET":
            raise _Unsupported(f"auto_pad={auto} (only explicit pads or VALID)")
        pads = list(self.attr("pads", [0, 0, 0, 0]))
        if len(pads) != 4 or pads[:2] != pads[2:]:
            raise _Unsupported(f"pads {pads}: cnnlab pads both sides of a dim equally")
        return (pads[0], pads[1])

    def pair(self, key: str, default: int):
        value = list(self.attr(key, [default, default]))
        if len(value) != 2:
            raise _Unsupported(f"{key}={value}: only 2-D (two spatial dims)")
        return tuple(int(v) for v in value)


def _attr_value(onnx, a):
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, onnx.TensorProto):
        return onnx.numpy_helper.to_array(v)
    if isinstance(v, onnx.GraphProto) or (isinstance(v, list) and v and not isinstance(v[0], (int, float, bytes, str))):
        return v  # subgraphs (If, Loop) and lists of tensors: no op cnnlab builds takes them
    if not isinstance(v, (int, float, str)):
        v = [x.decode() if isinstance(x, bytes) else x for x in v]
    return v


def _fold(op_type: str, attrs: dict, inputs, constants: dict) -> np.ndarray:
    """Compute a node whose inputs are all constants once, at load time (shape arithmetic)."""
    args = [cnnlab.from_numpy(np.array(constants[i], copy=True)) if i else None for i in inputs]
    with cnnlab.no_grad():
        return np.array(FUNCTIONS[op_type](args, attrs).detach().numpy(), copy=True)


def _copy(param, array) -> None:
    with cnnlab.no_grad():
        param.copy_(cnnlab.from_numpy(np.ascontiguousarray(array, dtype=param.dtype)))


# ----------------------------------------------------------------- layer builders
def _conv(n: _Node):
    w, bias = n.const(1), n.const(2, required=False)
    if w.ndim != 4:
        raise _Unsupported(f"only 2-D convolution (weight of rank 4), got rank {w.ndim}")
    group, stride, dilation = int(n.attr("group", 1)), n.pair("strides", 1), n.pair("dilations", 1)
    total = [d * (k - 1) for d, k in zip(dilation, w.shape[2:])]
    same = [t // 2 for t in total] + [t - t // 2 for t in total]  # cnnlab's padding='same': the extra one after
    padding = "same" if stride == (1, 1) and list(n.attr("pads", [])) == same and same[:2] != same[2:] else n.pads()
    m = nn.Conv2d(w.shape[1] * group, w.shape[0], kernel_size=tuple(w.shape[2:]), stride=stride, padding=padding,
                  dilation=dilation, groups=group, bias=bias is not None, dtype=w.dtype)
    _copy(m.weight, w)
    if bias is not None:
        _copy(m.bias, bias)
    return m


def _gemm(n: _Node):
    b, c = n.const(1, required=False), n.const(2, required=False)
    if n.attr("transA", 0) or b is None or b.ndim != 2 or (n.input(2) and c is None):
        return None  # not a fixed linear layer: run it as an OnnxOp
    w = b if n.attr("transB", 0) else b.T
    if n.attr("alpha", 1.0) != 1.0:
        w = w * np.asarray(n.attr("alpha"), b.dtype)
    # Built 1×1 and given the file's weights: initialising AlexNet's fc6 (37M weights) only to
    # overwrite it would double the load time.
    m = nn.Linear(1, 1, bias=c is not None, dtype=w.dtype)
    m.in_features, m.out_features = w.shape[1], w.shape[0]
    m.weight = nn.Parameter(cnnlab.from_numpy(np.ascontiguousarray(w)))
    if c is not None:
        bias = np.broadcast_to(c * np.asarray(n.attr("beta", 1.0), c.dtype), (w.shape[0],))
        m.bias = nn.Parameter(cnnlab.from_numpy(np.array(bias, dtype=w.dtype)))
    return m


def _max_pool(n: _Node):
    if n.attr("storage_order", 0):
        raise _Unsupported("storage_order=1")
    k = n.pair("kernel_shape", 1)
    return nn.MaxPool2d(k, stride=n.pair("strides", 1), padding=n.pads(), dilation=n.pair("dilations", 1),
                        ceil_mode=bool(n.attr("ceil_mode", 0)))


def _avg_pool(n: _Node):
    if n.pair("dilations", 1) != (1, 1):
        raise _Unsupported(f"dilations {n.attr('dilations')}: cnnlab's average pooling has none")
    return nn.AvgPool2d(n.pair("kernel_shape", 1), stride=n.pair("strides", 1), padding=n.pads(),
                        ceil_mode=bool(n.attr("ceil_mode", 0)), count_include_pad=bool(n.attr("count_include_pad", 0)))


def _global(layer):
    def build(n: _Node):
        if n.rank() not in (None, 4):
            raise _Unsupported(f"input of rank {n.rank()}: only (N, C, H, W)")
        return layer(1)
    return build


def _batch_norm(n: _Node):
    if n.attr("training_mode", 0):
        raise _Unsupported("training_mode=1")
    scale, shift, mean, var = (n.const(i) for i in (1, 2, 3, 4))
    layer = nn.BatchNorm1d if n.rank() in (2, 3) else nn.BatchNorm2d
    m = layer(scale.shape[0], eps=float(n.attr("epsilon", 1e-5)), momentum=1.0 - float(n.attr("momentum", 0.9)),
              dtype=scale.dtype)
    for t, a in ((m.weight, scale), (m.bias, shift), (m.running_mean, mean), (m.running_var, var)):
        _copy(t, a)
    return m


def _lrn(n: _Node):
    size = int(n.attr("size"))
    if size % 2 == 0:
        raise _Unsupported(f"even size {size}: ONNX centres its window differently from cnnlab")
    return nn.LocalResponseNorm(size, alpha=float(n.attr("alpha", 1e-4)), beta=float(n.attr("beta", 0.75)),
                                k=float(n.attr("bias", 1.0)))


def _softmax(layer):
    def build(n: _Node):
        if n.opset < 13:  # older opsets flatten to 2-D at `axis`: the same only on the last dim
            axis, rank = n.attr("axis", 1), n.rank()
            if rank is None or axis % rank != rank - 1:
                raise _Unsupported(f"opset {n.opset} semantics on axis {axis} of a rank-{rank} input")
            return layer(dim=-1)
        return layer(dim=int(n.attr("axis", -1)))
    return build


def _dropout(n: _Node):
    ratio = n.const(1, required=False)
    training = n.const(2, required=False)
    if training is not None and bool(training):
        raise _Unsupported("training_mode=True")
    p = float(ratio) if ratio is not None else float(n.attr("ratio", 0.5))
    return nn.Dropout(p)


def _flatten(n: _Node):
    return nn.Flatten() if n.attr("axis", 1) == 1 else None


_BUILDERS = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MaxPool": _max_pool,
    "AveragePool": _avg_pool,
    "GlobalAveragePool": _global(nn.AdaptiveAvgPool2d),
    "GlobalMaxPool": _global(nn.AdaptiveMaxPool2d),
    "BatchNormalization": _batch_norm,
    "LRN": _lrn,
    "Relu": lambda n: nn.ReLU(),
    "LeakyRelu": lambda n: nn.LeakyReLU(float(n.attr("alpha", 0.01))),
    "Elu": lambda n: nn.ELU(float(n.attr("alpha", 1.0))),
    "Sigmoid": lambda n: nn.Sigmoid(),
    "Tanh": lambda n: nn.Tanh(),
    "Softmax": _softmax(nn.Softmax),
    "LogSoftmax": _softmax(nn.LogSoftmax),
    "Dropout": _dropout,
    "Flatten": _flatten,
    "Identity": lambda n: nn.Identity(),
}
_WHY_NOT = {"ConvTranspose": "cnnlab has no transposed convolution"}


def supported_ops() -> list[str]:
    """The ONNX operators ``load`` can build (besides Constant)."""
    return sorted(set(_BUILDERS) | set(FUNCTIONS))


# ----------------------------------------------------------------- reading
def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def load(path: str | os.PathLike) -> GraphModule:
    """Build a cnnlab model from an ONNX file (from cnnlab, ``torch.onnx.export`` or elsewhere).

    Args:
        path: the ``.onnx`` file.

    Returns:
        a ``GraphModule`` in eval mode; call it with the graph's input(s). Its ``metadata``
        holds the file's metadata_props (``classes``, ``preprocess``... as strings).

    Raises:
        FileNotFoundError: no such file.
        LoadError: an empty, truncated or non-ONNX file, an invalid graph, or nodes cnnlab
            cannot build (every one named, with its op type, in one line).

    Example:
        >>> net = cnnlab.onnx.load("mnist-cnn.onnx")
        >>> net(cnnlab.zeros(2, 1, 28, 28)).shape
        cnnlab.Size([2, 10])
    """
    onnx = require_onnx("cnnlab.onnx.load")
    p = Path(path)
    if p.is_dir():
        raise LoadError(f"cnnlab.onnx.load: {str(p)!r} is a directory; give the .onnx file")
    if not p.is_file():
        raise FileNotFoundError(f"cnnlab.onnx.load: {str(p)!r} does not exist")
    data = p.read_bytes()
    if not data:
        raise LoadError(f"cnnlab.onnx.load: {str(p)!r} is empty")
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf raises its own DecodeError (and RuntimeWarning-free ValueErrors)
        raise LoadError(f"cnnlab.onnx.load: {str(p)!r} is not an ONNX model (cannot parse it: {_first_line(e)})") from None
    return from_onnx(proto, source=str(p), _serialized=data)


_NEED_RANKS = {"BatchNormalization", "GlobalAveragePool", "GlobalMaxPool", "Softmax", "LogSoftmax"}


def _ranks(onnx, proto) -> dict:
    """Rank of each value, from shape inference on the graph without its weights' data (fast)."""
    g = proto.graph
    if not any(n.op_type in _NEED_RANKS for n in g.node):
        return {}
    weights = [onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in g.initializer]
    light = onnx.helper.make_graph(g.node, g.name, list(g.input) + weights, g.output)
    model = onnx.helper.make_model(light, opset_imports=proto.opset_import, ir_version=proto.ir_version)
    try:
        g = onnx.shape_inference.infer_shapes(model).graph
    except Exception:  # ranks only refine a few choices (BatchNorm1d or 2d); a graph without them still loads
        return {}
    return {vi.name: len(vi.type.tensor_type.shape.dim) for vi in chain(g.input, g.value_info, g.output)
            if vi.type.tensor_type.HasField("shape")}


def _build(onnx, node, constants: dict, opset: int, ranks: dict, used: set):
    """(module, run-time input names) for one node, or None for a constant (added to ``constants``)."""
    if node.domain not in ("", "ai.onnx"):
        raise _Unsupported(f"domain {node.domain!r}")
    n = _Node(onnx, node, constants, opset, ranks, used)
    if node.op_type == "Constant":
        constants[node.output[0]] = np.asarray(next(iter(n.attrs.values())))
        return None
    build = _BUILDERS.get(node.op_type)
    module = build(n) if build else None
    if module is not None:
        return module, [node.input[0]]
    if node.op_type not in FUNCTIONS:
        raise _Unsupported(_WHY_NOT.get(node.op_type, ""))
    if all(not i or i in constants for i in node.input):  # shape arithmetic on constants: once, now
        constants[node.output[0]] = _fold(node.op_type, n.attrs, node.input, constants)
        return None
    slots = [("" if not i else i if i in constants else None) for i in node.input]
    return OnnxOp(node.op_type, n.attrs, slots, constants), [i for i, s in zip(node.input, slots) if s is None]


def from_onnx(proto, source: str = "the ONNX model", *, _serialized: bytes | None = None) -> GraphModule:
    """Build a cnnlab model from an ``onnx.ModelProto``; see ``load``."""
    onnx = require_onnx("cnnlab.onnx.load")
    if not proto.graph.output:
        raise LoadError(f"cnnlab.onnx.load: {source!r} is not an ONNX model (its graph has no outputs)")
    try:
        onnx.checker.check_model(_serialized if _serialized is not None else proto)
    except Exception as e:
        raise LoadError(f"cnnlab.onnx.load: {source!r} is not a valid ONNX model: {_first_line(e)}") from None
    g = proto.graph
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 1)
    constants = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    inputs = [i.name for i in g.input if i.name not in constants]
    used = {i for node in g.node for i in node.input} | {o.name for o in g.output}
    ranks = _ranks(onnx, proto)
    steps, problems, names, runtime_constants = [], [], set(), {}
    for index, node in enumerate(g.node):
        name = base = node.name or f"{node.op_type}_{index}"
        k = 1
        while name in names:  # node names become module names: they must be unique
            k += 1
            name = f"{base}:{k}"
        names.add(name)
        try:
            built = _build(onnx, node, constants, opset, ranks, used)
        except (_Unsupported, ValueError, TypeError) as e:
            problems.append(f"{node.op_type} {name!r}" + (f" ({e})" if str(e) else ""))
            continue
        if built is not None:
            module, ins = built
            runtime_constants.update({i: constants[i] for i in ins if i in constants})
            steps.append((name, module, ins, node.output[0]))
    if problems:
        more = f"; and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
        raise LoadError(
            f"cnnlab.onnx.load: {source!r} has nodes cnnlab cannot build: {'; '.join(problems[:_MAX_LISTED])}{more} "
            f"(cnnlab builds {', '.join(supported_ops())}, Constant)"
        )
    runtime_constants.update({o.name: constants[o.name] for o in g.output if o.name in constants})
    metadata = {p.key: p.value for p in proto.metadata_props}
    model = GraphModule(inputs, [o.name for o in g.output], steps, runtime_constants, metadata)
    return model.eval()
