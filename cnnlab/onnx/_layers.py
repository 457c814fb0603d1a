"""``OnnxOp``: an ONNX node with no cnnlab layer of its own (Add, Concat, Reshape...), run with
cnnlab's tensor ops, and ``GraphModule``: a model that runs a loaded graph's nodes in order."""

from __future__ import annotations

import numpy as np

import cnnlab

from .. import functional as F
from .. import nn


def _binary(fn):
    return lambda args, attrs: fn(args[0], args[1])


def _concat(args, attrs):
    return cnnlab.cat([a for a in args if a is not None], dim=attrs["axis"])


def _reshape(args, attrs):
    x, shape = args[0], [int(s) for s in args[1].detach().numpy()]
    if attrs.get("allowzero", 0) and 0 in shape:
        raise ValueError("Reshape: allowzero=1 with a 0 in the target shape makes an empty tensor; cnnlab refuses it")
    return x.reshape(tuple(x.shape[i] if s == 0 else s for i, s in enumerate(shape)))


def _flatten(args, attrs):
    x, axis = args[0], attrs.get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), int(np.prod(x.shape[axis:], dtype=np.int64)))


def _gemm(args, attrs):
    a, b, c = (args + [None])[:3]
    a = a.T if attrs.get("transA", 0) else a
    b = b.T if attrs.get("transB", 0) else b
    y = a @ b
    if attrs.get("alpha", 1.0) != 1.0:
        y = y * attrs["alpha"]
    if c is not None:
        y = y + (c * attrs["beta"] if attrs.get("beta", 1.0) != 1.0 else c)
    return y


def _reduce_max(args, attrs):
    x, axes = args[0], _axes(args, attrs)
    return x.amax(dim=tuple(axes) if axes else None, keepdim=bool(attrs.get("keepdims", 1)))


def _transpose(args, attrs):
    x = args[0]
    return x.permute(*attrs.get("perm", list(range(x.ndim))[::-1]))


def _axes(args, attrs) -> list[int]:
    if "axes" in attrs:  # opsets before 13 (Unsqueeze/Squeeze) or 18 (Reduce*) keep axes as an attribute
        return [int(a) for a in attrs["axes"]]
    return [int(a) for a in args[1].detach().numpy()] if len(args) > 1 and args[1] is not None else []


def _unsqueeze(args, attrs):
    x, axes = args[0], _axes(args, attrs)
    rank = x.ndim + len(axes)
    shape = list(x.shape)
    for a in sorted(a % rank for a in axes):
        shape.insert(a, 1)
    return x.reshape(tuple(shape))


def _squeeze(args, attrs):
    x, axes = args[0], _axes(args, attrs)
    axes = {a % x.ndim for a in axes} if axes else {d for d, n in enumerate(x.shape) if n == 1}
    return x.reshape(tuple(n for d, n in enumerate(x.shape) if d not in axes))


def _shape(args, attrs):
    shape = args[0].shape[attrs.get("start", 0): attrs.get("end", None)]
    return cnnlab.from_numpy(np.array(shape, dtype=np.int64))


def _gather(args, attrs):
    data, index, axis = args[0], args[1].detach().numpy().astype(np.int64), attrs.get("axis", 0)
    if data.dtype.kind != "f":  # shape arithmetic: plain NumPy
        return cnnlab.from_numpy(np.asarray(np.take(data.detach().numpy(), index, axis=axis)))
    return data[(slice(None),) * (axis % data.ndim) + (index,)]


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _pad(args, attrs):
    x = args[0]
    pads = [int(p) for p in (attrs["pads"] if "pads" in attrs else args[1].detach().numpy())]  # attr before opset 11
    if len(args) > 3 and args[3] is not None:
        raise ValueError("Pad: the axes input (opset 18) is not supported; pads must cover every dim")
    value = attrs.get("value", 0.0) if len(args) < 3 or args[2] is None else float(args[2].detach().numpy())
    mode = attrs.get("mode", "constant")
    if mode not in _PAD_MODES:
        raise ValueError(f"Pad: unknown mode {mode!r}; valid: {', '.join(_PAD_MODES)}")
    rank = len(pads) // 2
    torch_order = []  # cnnlab.functional.pad takes (before, after) pairs from the last dim backwards
    for d in reversed(range(rank)):
        torch_order += [pads[d], pads[d + rank]]
    while len(torch_order) > 2 and torch_order[-2:] == [0, 0]:
        torch_order = torch_order[:-2]
    return F.pad(x, tuple(torch_order), mode=_PAD_MODES[mode], value=value if mode == "constant" else None)


FUNCTIONS = {
    "Add": _binary(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _binary(lambda a, b: a * b),
    "Div": _binary(lambda a, b: a / b),
    "MatMul": _binary(lambda a, b: a @ b),
    "Concat": _concat,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Gemm": _gemm,
    "ReduceMax": _reduce_max,
    "Transpose": _transpose,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Shape": _shape,
    "Gather": _gather,
    "Pad": _pad,
}


class OnnxOp(nn.Module):
    """One ONNX node run with cnnlab's tensor operations.

    Args:
        op_type: the ONNX operator (a key of ``FUNCTIONS``).
        attributes: the node's attributes as Python values.
        slots: per ONNX input, ``None`` for a value computed at run time (passed to
            ``forward`` in order), ``""`` for an omitted optional input, or the name of a
            constant (stored as buffer ``input{i}`` and written back under that name on export).
        constants: constant name → array.
    """

    def __init__(self, op_type: str, attributes: dict, slots: list, constants: dict):
        super().__init__()
        if op_type not in FUNCTIONS:
            raise ValueError(f"OnnxOp: unsupported op_type {op_type!r}; supported: {', '.join(sorted(FUNCTIONS))}")
        self.op_type, self.attributes, self.slots = op_type, dict(attributes), list(slots)
        for i, slot in enumerate(self.slots):
            if slot:
                self.register_buffer(f"input{i}", cnnlab.from_numpy(np.array(constants[slot], copy=True)))

    def constant_attr(self, index: int) -> str:
        return f"input{index}"

    def forward(self, *inputs):
        runtime, args = iter(inputs), []
        for i, slot in enumerate(self.slots):
            args.append(next(runtime) if slot is None else getattr(self, f"input{i}") if slot else None)
        return FUNCTIONS[self.op_type](args, self.attributes)

    def extra_repr(self) -> str:
        return ", ".join([repr(self.op_type)] + [f"{k}={v!r}" for k, v in self.attributes.items()])


class GraphModule(nn.Module):
    """A model that runs a graph's nodes in order; each node is a child module named after it.

    Built by ``cnnlab.onnx.load``. Layers that cnnlab has (Conv → ``nn.Conv2d``, Gemm →
    ``nn.Linear``, Relu → ``nn.ReLU``...) are those layers; other nodes are ``OnnxOp``s.

    Args:
        inputs: the graph's input names, in the order ``forward`` takes them.
        outputs: the graph's output names; one output is returned as a Tensor, several as a tuple.
        steps: (node name, module, input value names, output value name) in run order.
        constants: value name → array for values that are constants (from Constant nodes) and
            that a node takes as a run-time input.
        metadata: the file's metadata_props (classes, preprocessing...).
    """

    def __init__(self, inputs: list[str], outputs: list[str], steps: list, constants: dict | None = None,
                 metadata: dict | None = None):
        super().__init__()
        self.input_names, self.output_names = list(inputs), list(outputs)
        self.metadata = dict(metadata or {})
        self._steps = []
        for name, module, ins, out in steps:
            self.register_module(name, module)
            self._steps.append((name, list(ins), out))
        self._constants = {k: cnnlab.from_numpy(np.array(v, copy=True)) for k, v in (constants or {}).items()}

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise ValueError(
                f"GraphModule: expected {len(self.input_names)} input(s) ({', '.join(self.input_names)}), got {len(inputs)}"
            )
        env = dict(self._constants)
        env.update(zip(self.input_names, inputs))
        for name, ins, out in self._steps:
            env[out] = getattr(self, name)(*(env[i] for i in ins))
        results = tuple(env[o] for o in self.output_names)
        return results[0] if len(results) == 1 else results
