"""``GraphBuilder``: collects ONNX nodes and initializers while the exporter walks a trace."""

from __future__ import annotations

import numpy as np


class ExportError(ValueError):
    """A model that cannot be written as ONNX; the message is one line naming the layer or op."""


class GraphBuilder:
    """Nodes and initializers of one graph, with unique names and tensor → value-name bookkeeping.

    Args:
        onnx: the ``onnx`` module.
        opset: the default-domain opset the graph is written for.
        dynamic_batch: whether dim 0 of the input is symbolic (Reshape targets then keep it).
        constant_names: id of a model's parameter/buffer → its state_dict name, so a tensor
            used outside any layer becomes an initializer with a meaningful name.
    """

    def __init__(self, onnx, opset: int, dynamic_batch: bool, constant_names: dict[int, str]):
        self.onnx, self.opset, self.dynamic_batch = onnx, opset, dynamic_batch
        self.nodes: list = []
        self.initializers: dict[str, np.ndarray] = {}
        self.values: dict[int, str] = {}      # id(Tensor) → value name
        self.tensors: dict[str, object] = {}  # value name → the traced Tensor (for output shapes)
        self.keep: list = []                  # tensors whose ids are in `values` stay alive
        self.node_names: set[str] = set()
        self.constant_names = constant_names
        self._by_id: dict[int, str] = {}      # id(parameter) → initializer name (shared layers)

    # ----------------------------------------------------------------- names and values
    def unique(self, name: str) -> str:
        base, i = name, 1
        while name in self.node_names or name in self.initializers:
            i += 1
            name = f"{base}:{i}"
        self.node_names.add(name)
        return name

    def bind(self, tensor, name: str) -> None:
        self.values[id(tensor)] = name
        self.tensors[name] = tensor
        self.keep.append(tensor)

    def init(self, name: str, array, *, source=None) -> str:
        """Add an initializer (``source``: the Tensor it came from, so a shared one is added once)."""
        if source is not None and id(source) in self._by_id:
            return self._by_id[id(source)]
        array = np.asarray(array)
        if name in self.initializers:
            if self.initializers[name].shape == array.shape and np.array_equal(self.initializers[name], array):
                return name
            name = self.unique(name)
        self.node_names.add(name)
        # no copy: the weights are written out before the model can change (ascontiguousarray would make 0-d 1-d)
        self.initializers[name] = array if array.flags.c_contiguous else np.array(array, order="C")
        if source is not None:
            self._by_id[id(source)] = name
            self.keep.append(source)
        return name

    def param(self, tensor, name: str) -> str:
        """An initializer for a parameter or buffer tensor, added once however often it is used."""
        return self.init(name, tensor.detach().numpy(), source=tensor)

    def ints(self, name: str, values) -> str:
        return self.init(name, np.asarray(list(values), dtype=np.int64))

    def node(self, op_type: str, inputs: list[str], name: str, *, output: str | None = None, **attrs) -> str:
        """Append a node; its output value takes ``output`` or the node's name. Returns the value name."""
        name = self.unique(name)
        out = output or name
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out

    # ----------------------------------------------------------------- shapes
    def target_shape(self, before: tuple, after: tuple, where: str) -> list[int]:
        """A Reshape target from ``before`` to ``after`` that keeps a symbolic batch dim."""
        if not self.dynamic_batch:
            return list(after)
        if before and after and before[0] == after[0]:
            return [0] + list(after[1:])
        raise ExportError(
            f"cnnlab.onnx.export: {where} reshapes {before} to {after}, mixing the batch dim with others; "
            "export with dynamic_batch=False"
        )
