"""One function per cnnlab layer type: the ONNX nodes that compute what the layer computes.

A converter gets the graph builder, the call's node name, the module, the value names of its
inputs and the traced call (for shapes), appends its nodes and returns the value name of the
layer's output. Initializers take the parameters' state_dict names (``conv1.weight``).
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ._graph import ExportError, GraphBuilder
from ._layers import OnnxOp


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _fail(name: str, module, why: str) -> ExportError:
    return ExportError(f"cnnlab.onnx.export: layer {name!r} ({module!r}): {why}")


def _conv2d(b: GraphBuilder, name, m: nn.Conv2d, ins, call) -> str:
    kh, kw = m.kernel_size
    dh, dw = m.dilation
    if m.padding == "valid":
        pads = [0, 0, 0, 0]
    elif m.padding == "same":  # the extra row/column goes after, as cnnlab's conv_padding does
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
    else:
        ph, pw = _pair(m.padding)
        pads = [ph, pw, ph, pw]
    x = ins[0]
    if m.padding_mode != "zeros" and any(pads):
        modes = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
        if m.padding_mode == "circular" and b.opset < 19:
            raise _fail(name, m, f"padding_mode='circular' needs opset 19 or newer (ONNX Pad mode 'wrap'), got {b.opset}")
        t, l, bo, r = pads
        x = b.node("Pad", [x, b.ints(f"{name}.pads", [0, 0, t, l, 0, 0, bo, r])], f"{name}/pad",
                   mode=modes[m.padding_mode])
        pads = [0, 0, 0, 0]
    inputs = [x, b.param(m.weight, f"{name}.weight")]
    if m.bias is not None:
        inputs.append(b.param(m.bias, f"{name}.bias"))
    return b.node("Conv", inputs, name, kernel_shape=[kh, kw], strides=list(m.stride), pads=pads,
                  dilations=[dh, dw], group=m.groups)


def _matmul_weight(b: GraphBuilder, name, x, weight, bias, ndim: int, out: str | None = None) -> str:
    """x @ weightᵀ + bias: Gemm for 2-D inputs, MatMul (+ Add) otherwise."""
    if ndim == 2:
        inputs = [x, b.param(weight, f"{name}.weight")]
        if bias is not None:
            inputs.append(b.param(bias, f"{name}.bias"))
        return b.node("Gemm", inputs, name, output=out, transB=1)
    wt = b.init(f"{name}.weight_t", weight.detach().numpy().T)
    if bias is None:
        return b.node("MatMul", [x, wt], name, output=out)
    y = b.node("MatMul", [x, wt], f"{name}/matmul")
    return b.node("Add", [y, b.param(bias, f"{name}.bias")], name, output=out)


def _linear(b, name, m: nn.Linear, ins, call) -> str:
    return _matmul_weight(b, name, ins[0], m.weight, m.bias, call.inputs[0].ndim)


def _maxout(b, name, m: nn.Maxout, ins, call) -> str:
    x = call.inputs[0]
    z = _matmul_weight(b, f"{name}/linear", ins[0], m.weight, m.bias, x.ndim)
    shape = [0] * (x.ndim - 1) + [m.out_features, m.pieces]
    z = b.node("Reshape", [z, b.ints(f"{name}.shape", shape)], f"{name}/pieces")
    if b.opset >= 18:
        return b.node("ReduceMax", [z, b.ints(f"{name}.axes", [-1])], name, keepdims=0)
    return b.node("ReduceMax", [z], name, axes=[-1], keepdims=0)


def _batch_norm(b, name, m, ins, call) -> str:
    if m.running_mean is None:
        raise _fail(name, m, "track_running_stats=False normalises with batch statistics in eval; ONNX "
                             "BatchNormalization needs running statistics")
    c, dt = m.num_features, m.running_mean.detach().numpy().dtype
    scale = b.param(m.weight, f"{name}.weight") if m.weight is not None else b.init(f"{name}.weight", np.ones(c, dt))
    shift = b.param(m.bias, f"{name}.bias") if m.bias is not None else b.init(f"{name}.bias", np.zeros(c, dt))
    stats = [b.param(m.running_mean, f"{name}.running_mean"), b.param(m.running_var, f"{name}.running_var")]
    return b.node("BatchNormalization", [ins[0], scale, shift, *stats], name, epsilon=float(m.eps))


def _lrn(b, name, m: nn.LocalResponseNorm, ins, call) -> str:
    if m.size % 2 == 0:
        raise _fail(name, m, f"an even size ({m.size}) centres the window differently in ONNX LRN; use an odd size")
    alpha = m.alpha if m.alpha_mode == "pytorch" else m.alpha * m.size  # ONNX divides α by size, as PyTorch
    return b.node("LRN", [ins[0]], name, size=m.size, alpha=float(alpha), beta=float(m.beta), bias=float(m.k))


def _pool_attrs(m) -> dict:
    k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
    return {"kernel_shape": list(k), "strides": list(s), "pads": [p[0], p[1], p[0], p[1]],
            "ceil_mode": int(bool(m.ceil_mode))}


def _max_pool(b, name, m: nn.MaxPool2d, ins, call) -> str:
    if m.return_indices:
        raise _fail(name, m, "return_indices=True has no single-output ONNX equivalent")
    return b.node("MaxPool", [ins[0]], name, dilations=list(_pair(m.dilation)), **_pool_attrs(m))


def _avg_pool(b, name, m: nn.AvgPool2d, ins, call) -> str:
    if m.divisor_override:
        raise _fail(name, m, "divisor_override has no ONNX AveragePool equivalent")
    return b.node("AveragePool", [ins[0]], name, count_include_pad=int(bool(m.count_include_pad)), **_pool_attrs(m))


def _adaptive(op: str):
    def convert(b, name, m, ins, call) -> str:
        if getattr(m, "return_indices", False):
            raise _fail(name, m, "return_indices=True has no single-output ONNX equivalent")
        h, w = call.inputs[0].shape[-2:]
        oh, ow = call.output.shape[-2:]
        if (oh, ow) == (1, 1):
            return b.node(f"Global{op}", [ins[0]], name)
        if h % oh or w % ow:
            raise _fail(name, m, f"{h}×{w} → {oh}×{ow} needs windows of unequal size; ONNX pools with one "
                                 "kernel (use an output size that divides the input)")
        k = [h // oh, w // ow]
        extra = {"count_include_pad": 0} if op == "AveragePool" else {"dilations": [1, 1]}
        # the attributes the pooling layers write, so that a loaded copy exports the same graph
        return b.node(op, [ins[0]], name, kernel_shape=k, strides=k, pads=[0, 0, 0, 0], ceil_mode=0, **extra)
    return convert


def _flatten(b, name, m: nn.Flatten, ins, call) -> str:
    x, y = call.inputs[0], call.output
    if x.ndim >= 2 and y.ndim == 2 and x.shape[0] == y.shape[0]:
        return b.node("Flatten", [ins[0]], name, axis=1)
    target = b.target_shape(x.shape, y.shape, f"layer {name!r}")
    return b.node("Reshape", [ins[0], b.ints(f"{name}.shape", target)], name)


def _dropout(b, name, m, ins, call) -> str:
    dt = call.inputs[0].detach().numpy().dtype
    return b.node("Dropout", [ins[0], b.init(f"{name}.ratio", np.asarray(m.p, dt))], name)


def _softmax(op: str):
    def convert(b, name, m, ins, call) -> str:
        nd = call.inputs[0].ndim
        dim = m.dim if m.dim is not None else (0 if nd in (0, 1, 3) else 1)  # cnnlab's (PyTorch's) default
        return b.node(op, [ins[0]], name, axis=int(dim) % max(nd, 1))
    return convert


def _simple(op: str, **attr_of):
    def convert(b, name, m, ins, call) -> str:
        return b.node(op, [ins[0]], name, **{k: float(getattr(m, a)) for k, a in attr_of.items()})
    return convert


def _onnx_op(b, name, m: OnnxOp, ins, call) -> str:
    inputs, runtime = [], iter(ins)
    for i, slot in enumerate(m.slots):
        if slot is None:
            inputs.append(next(runtime))
        else:
            inputs.append(b.param(getattr(m, m.constant_attr(i)), slot) if slot else "")
    return b.node(m.op_type, inputs, name, **m.attributes)


CONVERTERS = {
    nn.Conv2d: _conv2d,
    nn.Linear: _linear,
    nn.Maxout: _maxout,
    nn.BatchNorm1d: _batch_norm,
    nn.BatchNorm2d: _batch_norm,
    nn.LocalResponseNorm: _lrn,
    nn.MaxPool2d: _max_pool,
    nn.AvgPool2d: _avg_pool,
    nn.AdaptiveAvgPool2d: _adaptive("AveragePool"),
    nn.AdaptiveMaxPool2d: _adaptive("MaxPool"),
    nn.Flatten: _flatten,
    nn.Dropout: _dropout,
    nn.Dropout2d: _dropout,
    nn.Identity: _simple("Identity"),
    nn.ReLU: _simple("Relu"),
    nn.LeakyReLU: _simple("LeakyRelu", alpha="negative_slope"),
    nn.ELU: _simple("Elu", alpha="alpha"),
    nn.Sigmoid: _simple("Sigmoid"),
    nn.Tanh: _simple("Tanh"),
    nn.Softmax: _softmax("Softmax"),
    nn.LogSoftmax: _softmax("LogSoftmax"),
    OnnxOp: _onnx_op,
}
