"""One forward pass that keeps every layer's input and output, for the explainer.

``cnnlab.inspect.trace`` records ``(module, input, output)`` of every leaf module in the order
the layers actually run. That order, not the order of attribute definition, gives the
overview's columns, and keeping each layer's own input lets the detail views recompute a value
from exactly what the layer saw, even where the model's ``forward`` applies functional ops
(``F.relu``, ``x.view``) between modules. Probabilities come from ``cnnlab.inspect.probabilities``.

Example:
    >>> engine = Engine(model, input_shape=(1, 28, 28))
    >>> trace = engine.run(np.zeros((1, 28, 28), np.float32))
    >>> [layer.name for layer in trace.layers]
    ['conv1', 'pool', 'conv2', 'pool#2', 'fc1', 'fc2']
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .errors import ExplainError


@dataclass
class LayerRecord:
    """One executed leaf module: its (unique) name, class name, and batch-free arrays."""

    index: int
    name: str
    kind: str
    module: object
    input: np.ndarray
    output: np.ndarray

    def describe(self) -> dict:
        extra = ""
        if hasattr(self.module, "extra_repr"):
            try:
                extra = self.module.extra_repr()
            except Exception:  # a user's module with a broken extra_repr must not break the page
                extra = ""
        return {"index": self.index, "name": self.name, "kind": self.kind, "extra": extra,
                "in_shape": list(self.input.shape), "shape": list(self.output.shape)}


@dataclass
class Trace:
    """Everything one forward pass produced for one input (no batch dimension)."""

    input_id: str
    input: np.ndarray
    layers: list[LayerRecord]
    logits: np.ndarray
    probabilities: np.ndarray
    output_kind: str = "logits"
    extra: dict = field(default_factory=dict)

    def layer(self, index) -> LayerRecord:
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise ExplainError(f"`layer` must be an integer, got {index!r}") from None
        if not 0 <= index < len(self.layers):
            raise ExplainError(
                f"layer {index} is out of range: the model has layers 0..{len(self.layers) - 1}", 404
            )
        return self.layers[index]


def input_id_of(x: np.ndarray) -> str:
    """A content hash, so the same pixels always get the same id (and the same cache entry)."""
    return hashlib.sha1(np.ascontiguousarray(x, dtype=np.float32).tobytes()).hexdigest()[:16]


class Engine:
    """Runs a model on one input at a time with every activation recorded, and caches traces.

    Args:
        model: any ``cnnlab.nn.Module`` taking a (1, *input_shape) Tensor.
        input_shape: (C, H, W) of one input.
        cache_size: traces kept (LRU); detail requests name an input by its id.

    Forward passes are serialised by a lock: hooks are attached to the shared model, and two
    passes at once would interleave their records.
    """

    def __init__(self, model, input_shape, cache_size: int = 32):
        self.model = model.eval() if hasattr(model, "eval") else model
        self.input_shape = tuple(int(s) for s in input_shape)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Trace] = OrderedDict()
        self._cache_size = cache_size

    def run(self, x: np.ndarray) -> Trace:
        """The trace of ``x`` (shape ``input_shape``), from the cache when it is there."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape != self.input_shape:
            raise ExplainError(f"input must have shape {self.input_shape}, got {x.shape}")
        if not np.isfinite(x).all():
            raise ExplainError("input contains NaN or infinite values")
        key = input_id_of(x)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            trace = self._forward(x, key)
            self._cache[key] = trace
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return trace

    def exclusive(self):
        """The lock that serialises the model's use: hold it to run the model outside ``run``
        (attribution attaches hooks and flips ``requires_grad`` on the shared model)."""
        return self._lock

    def get(self, input_id: str) -> Trace:
        """A cached trace by id; a 404 error when it is unknown or was evicted."""
        with self._lock:
            trace = self._cache.get(str(input_id))
        if trace is None:
            raise ExplainError(
                f"unknown input_id {str(input_id)[:40]!r}: run the input first (POST /api/infer)", 404
            )
        return trace

    def _forward(self, x: np.ndarray, key: str) -> Trace:
        from ..inspect import probabilities, trace

        try:
            t = trace(self.model, x[None])
        except Exception as e:  # a model that cannot take this input is a client-visible error
            raise ExplainError(f"the model failed on this input: {type(e).__name__}: {e}", 422) from None
        calls = [layer for layer in t.leaves() if layer.input is not None]
        records = [LayerRecord(i, layer.unique_name, layer.kind, layer.module, layer.input[0], layer.output[0])
                   for i, layer in enumerate(calls)]
        out = t.output[0].reshape(-1)
        kind = t.output_kind
        return Trace(key, x, records, out, probabilities(out, kind), kind)

    def predict_batch(self, xs: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch (no activations kept), float64 (N, K)."""
        from ..inspect import forward, output_kind_of, probabilities

        with self._lock:
            kind = output_kind_of(self._last_kind())
            out = forward(self.model, np.ascontiguousarray(xs, dtype=np.float32))
        return probabilities(out.reshape(len(xs), -1), kind)

    def _last_kind(self) -> str:
        for trace in reversed(self._cache.values()):
            return trace.layers[-1].kind if trace.layers else ""
        return ""
