"""``trace``: one forward pass (and, when asked, one backward pass) recorded layer by layer.

Every module that is a leaf, or that owns parameters of its own, gets a forward hook for the
duration of one call. Each hooked call becomes a :class:`LayerTrace` in the order the layers
actually ran (not the order of attribute definition), with copies of the input it received and
the output it produced. With ``grads=True`` the input and every recorded output keep their
gradient (``retain_grad``), one backward pass runs from ``target``, and each record also gets
the gradient of the target with respect to the layer's output and input, and the gradient of
each of its parameters.

The model is left exactly as it was: its train/eval flags, hooks, parameters' ``.grad`` tensors
(the same objects, untouched) and ``requires_grad`` flags are restored, also on error.

Example:
    >>> t = trace(model, np.zeros((1, 1, 28, 28), np.float32))
    >>> [(layer.name, layer.output.shape) for layer in t][:2]
    [('conv1', (1, 16, 24, 24)), ('relu', (1, 16, 24, 24))]
    >>> t = trace(model, x, grads=True, target=3)     # d logit_3 / d everything
    >>> t["conv1"].param_grads["weight"].shape
    (16, 1, 5, 5)
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np


@dataclass
class LayerTrace:
    """One executed module call.

    Attributes:
        index: position in the trace (execution order).
        name: qualified module name as ``named_modules()`` gives it (``features.0``); the
            model's class name when the model itself is a leaf.
        call: 1 for the module's first call in this pass, 2 for its second (a shared ``relu``).
        module: the module object.
        kind: its class name (``Conv2d``).
        leaf: True when the module has no child modules.
        input: the first positional input, whole batch (None when the call had no Tensor input).
        output: the output, whole batch.
        input_from: index of the layer whose output this call received, -1 for the model's
            input, None when it came from an operation between modules.
        params: the module's own parameters (not its children's), by name: the live arrays,
            not copies.
        output_grad, input_grad: d target / d output and d input (``grads=True`` only; zeros
            where the target does not depend on it).
        param_grads: d target / d parameter, by name (``grads=True`` only).
    """

    index: int
    name: str
    call: int
    module: object
    kind: str
    leaf: bool
    input: np.ndarray | None
    output: np.ndarray
    input_from: int | None
    params: dict = field(default_factory=dict)
    output_grad: np.ndarray | None = None
    input_grad: np.ndarray | None = None
    param_grads: dict = field(default_factory=dict)

    @property
    def unique_name(self) -> str:
        """``name`` for a first call, ``name#2`` for the second call of the same module."""
        return self.name if self.call == 1 else f"{self.name}#{self.call}"


@dataclass
class Trace:
    """What one pass produced: the input, the output and one :class:`LayerTrace` per call.

    Iterating, ``len`` and indexing go over ``layers``; ``trace["conv1"]`` finds a layer's
    first call by name (``"relu#2"`` its second).
    """

    input: np.ndarray
    output: np.ndarray
    layers: list[LayerTrace]
    input_grad: np.ndarray | None = None
    target_value: float | None = None

    def __iter__(self) -> Iterator[LayerTrace]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, key) -> LayerTrace:
        if isinstance(key, str):
            for layer in self.layers:
                if key in (layer.unique_name, layer.name) and (layer.call == 1 or key == layer.unique_name):
                    return layer
            names = ", ".join(dict.fromkeys(layer.unique_name for layer in self.layers))
            raise KeyError(f"trace has no layer {key!r}; layers: {names}")
        return self.layers[key]

    def leaves(self) -> list[LayerTrace]:
        """The calls of leaf modules only (what a layer-by-layer view shows)."""
        return [layer for layer in self.layers if layer.leaf]

    @property
    def output_kind(self) -> str:
        """"probabilities" or "log-probabilities" when the last leaf call is a Softmax or
        LogSoftmax, else "logits" (what :func:`~cnnlab.inspect.probabilities` needs to know)."""
        from .outputs import output_kind_of

        leaves = self.leaves()
        return output_kind_of(leaves[-1].kind if leaves else "")


def _recorded_modules(model):
    """(name, module) of every leaf module and every module owning parameters of its own."""
    for name, m in model.named_modules():
        has_children = any(True for _ in m.children())
        has_params = any(True for _ in m.parameters(recurse=False))
        if not has_children or has_params:
            yield name or type(m).__name__, m, not has_children


def _as_array(x) -> np.ndarray:
    from .._tensor import Tensor

    if isinstance(x, Tensor):
        return np.array(x.detach().numpy(), copy=True)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"trace: `x` must be a numpy array or a cnnlab Tensor, got {type(x).__name__}")
    return x


def _target_scalar(out, target, n: int):
    """The 0-d Tensor to differentiate: the chosen class per sample, summed, or ``target(out)``."""
    import cnnlab

    if callable(target):
        value = target(out)
        if not isinstance(value, cnnlab.Tensor) or value.numel() != 1:
            got = tuple(value.shape) if isinstance(value, cnnlab.Tensor) else type(value).__name__
            raise ValueError(f"trace: `target` returned {got}; it must return a one-element Tensor")
        return value.reshape(())
    if out.ndim != 2:
        raise ValueError(f"trace: a class `target` needs an output of shape (N, classes), got {tuple(out.shape)}; "
                         "pass a callable target instead")
    classes = out.shape[1]
    if target is None:  # the predicted class of each sample
        idx = out.detach().numpy().argmax(axis=1)
    elif isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        idx = np.full(n, int(target))
    else:
        idx = np.asarray(target)
        if idx.shape != (n,) or idx.dtype.kind not in "iu":
            raise ValueError(f"trace: `target` must be an int, {n} class indices (one per sample) or a "
                             f"callable, got {target!r}")
    if idx.size and (idx.min() < 0 or idx.max() >= classes):
        raise ValueError(f"trace: `target` class indices must be in 0..{classes - 1}, got {idx.tolist()}")
    onehot = np.zeros(out.shape, dtype=out.dtype)
    onehot[np.arange(n), idx] = 1
    return (out * cnnlab.from_numpy(onehot)).sum()


class _Recorder:
    """The forward hooks of one pass and what they saw, in call order."""

    def __init__(self, xt, grads: bool):
        self.grads = grads
        self.calls: list[tuple] = []
        self.produced: dict[int, int] = {id(xt): -1}  # tensor id -> index of the call that made it
        self.alive = [xt]  # tensor ids are only unique while the tensors live
        self.counts: dict[int, int] = {}

    def attach(self, model) -> list:
        return [m.register_forward_hook(self._hook_for(name, leaf)) for name, m, leaf in _recorded_modules(model)]

    def _hook_for(self, name: str, leaf: bool):
        import cnnlab

        def hook(module, inputs, out):
            if not isinstance(out, cnnlab.Tensor):
                return None
            first = inputs[0] if inputs and isinstance(inputs[0], cnnlab.Tensor) else None
            self.counts[id(module)] = self.counts.get(id(module), 0) + 1
            source = self.produced.get(id(first)) if first is not None else None
            self.alive.extend([out] if first is None else [first, out])
            if self.grads:
                for t in (first, out):
                    if t is not None and t.requires_grad and not t.is_leaf:
                        t.retain_grad()
            # copies taken now: an in-place op later in the pass must not change the record
            arrays = (None if first is None else np.array(first.detach().numpy(), copy=True),
                      np.array(out.detach().numpy(), copy=True))
            self.calls.append((name, module, leaf, self.counts[id(module)], first, out, source, arrays))
            self.produced[id(out)] = len(self.calls) - 1
            if self.grads and out.requires_grad:
                # the next layers get a fresh node: an in-place op on it (ReLU(inplace=True))
                # leaves `out`, and the gradient retained on it, the layer's own
                passed = out + 0
                self.produced[id(passed)] = len(self.calls) - 1
                self.alive.append(passed)
                return passed
            return None

        return hook


@contextmanager
def evaluating(model, *, freeze_parameters: bool = False):
    """Eval mode inside (and, with ``freeze_parameters``, no parameter requires a gradient);
    afterwards the train/eval flags, ``.grad`` tensors (the same objects) and ``requires_grad``
    flags of the model are what they were, also after an error. Yields the model.

    ``trace`` uses it as is (it may record parameter gradients); ``cnnlab.attribution`` freezes
    the parameters, since only the input's gradient is wanted.
    """
    modes = [(m, m.training) for m in model.modules()]
    saved = [(p, p.grad, p.requires_grad) for p in model.parameters()]
    try:
        model.eval()
        if freeze_parameters:
            for p, _, _ in saved:
                p.requires_grad_(False)
        yield model
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        for p, grad, flag in saved:
            p.grad = grad
            p.requires_grad_(flag)


def _checked_output(out):
    import cnnlab

    if not isinstance(out, cnnlab.Tensor):
        raise ValueError(f"trace: the model returned {type(out).__name__}, not a Tensor")
    return out


def _grad_of(t):
    if t is None:
        return None
    return np.zeros(t.shape, dtype=t.dtype) if t.grad is None else np.array(t.grad.numpy(), copy=True)


def trace(model, x, *, grads: bool = False, target: int | Sequence[int] | Callable | None = None) -> Trace:
    """Run ``model`` once on ``x`` in eval mode and record every layer call.

    Args:
        model: a cnnlab ``nn.Module``.
        x: the batch, a NumPy array or a Tensor of shape (N, ...) (not modified).
        grads: also run one backward pass from ``target`` and record gradients (default False:
            the forward runs under ``no_grad``). Every parameter gets a gradient, also a frozen
            one; the parameters' own ``.grad`` are not touched.
        target: what to differentiate when ``grads`` is True: a class index (the sum over the
            batch of that output column), one class index per sample, or a callable taking the
            output Tensor and returning a one-element Tensor (a loss). Default: each sample's
            predicted class.

    Returns:
        a :class:`Trace`: ``trace.layers`` in execution order, ``trace.output``, and with
        ``grads`` ``trace.input_grad`` and each layer's ``output_grad``, ``input_grad``,
        ``param_grads``.

    Raises:
        ValueError: a target that does not fit the output.
    """
    import cnnlab

    if target is not None and not grads:
        raise ValueError("trace: `target` is only used with grads=True")
    arr = _as_array(x)
    if arr.ndim < 1:
        raise ValueError(f"trace: `x` must be a batch of shape (N, ...), got shape {arr.shape}")
    xt = cnnlab.from_numpy(np.array(arr, copy=True) if grads else arr)
    recorder = _Recorder(xt, grads)
    params = list(model.parameters())
    handles = []
    with evaluating(model):
        try:
            handles = recorder.attach(model)
            if not grads:
                with cnnlab.no_grad():
                    out = _checked_output(model(xt))
            else:
                xt.requires_grad_(True)
                for p in params:
                    p.grad = None
                    p.requires_grad_(True)
                with cnnlab.enable_grad():
                    out = _checked_output(model(xt))
                    if out.requires_grad and not out.is_leaf:
                        out.retain_grad()
                    scalar = _target_scalar(out, target, arr.shape[0])
                    scalar.backward()
                param_grads = {id(p): _grad_of(p) for p in params}
        finally:
            for h in handles:
                h.remove()
    layers = []
    for i, (name, module, leaf, call, first, o, source, (in_arr, out_arr)) in enumerate(recorder.calls):
        own = dict(module.named_parameters(recurse=False))
        layer = LayerTrace(
            index=i, name=name, call=call, module=module, kind=type(module).__name__, leaf=leaf,
            # what the producing layer handed over: an in-place layer has changed its input by now
            input=in_arr if source is None else arr if source == -1 else layers[source].output,
            output=out_arr, input_from=source,
            params={k: p.detach().numpy() for k, p in own.items()})
        if grads:
            layer.output_grad = _grad_of(o)
            # the input as the producing layer (or the model input) left it, before any in-place op
            layer.input_grad = (_grad_of(xt) if source == -1 else layers[source].output_grad if source is not None
                                else _grad_of(first))
            layer.param_grads = {k: param_grads[id(p)] for k, p in own.items()}
        layers.append(layer)
    result = Trace(input=arr, output=np.array(out.detach().numpy(), copy=True), layers=layers)
    if grads:
        result.input_grad = _grad_of(xt)
        result.target_value = float(scalar.detach().numpy())
    return result


def forward(model, x) -> np.ndarray:
    """The model's output for the batch ``x`` (eval mode, no graph), without recording layers.

    For the many-inputs case (a shift sweep, a batch of predictions) where :func:`trace`
    would keep every layer's arrays. The model's train/eval flags are restored.
    """
    import cnnlab

    arr = _as_array(x)
    with evaluating(model), cnnlab.no_grad():
        return _checked_output(model(cnnlab.from_numpy(arr))).numpy()
