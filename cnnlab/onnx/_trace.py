"""Record one forward pass of a model: which layer ran on which tensor, in order.

Every leaf module that ``_converters`` knows is hooked; its calls become node groups named
after the module. What a custom ``forward`` does between layers (``x.flatten(1)``, ``a + b``,
``cnnlab.cat``) is not a module call: the exporter finds it by walking the autograd graph
back from the next layer's input (``Tensor.grad_fn`` and its ``parents``) until it reaches a
tensor it knows. That is why the trace runs with gradients recorded, on a copy of the input
that requires a gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import cnnlab

from .. import nn


@dataclass
class Call:
    """One call of a leaf module: its node name, the module, its tensor inputs and its output."""

    name: str
    module: nn.Module
    inputs: tuple
    output: object


def converter_for(module, converters: dict):
    """The converter registered for ``module``'s class (or a base class whose forward it keeps)."""
    for cls in type(module).__mro__:
        if cls in converters:
            return converters[cls] if type(module).forward is cls.forward else None
    return None


def trace(model: nn.Module, example, converters: dict) -> tuple[object, object, list[Call]]:
    """Run ``model`` once in eval mode on a copy of ``example``; returns (input, outputs, calls).

    The model's train/eval flags are restored afterwards.
    """
    x = cnnlab.from_numpy(np.array(example, copy=True)).requires_grad_()
    names: dict[int, str] = {}
    for name, module in model.named_modules():
        if not list(module.children()) and converter_for(module, converters) is not None:
            names.setdefault(id(module), name or type(module).__name__)
    calls: list[Call] = []
    counts: dict[str, int] = {}

    def hook(module, args, output):
        base = names[id(module)]
        counts[base] = counts.get(base, 0) + 1
        name = base if counts[base] == 1 else f"{base}:{counts[base]}"
        calls.append(Call(name, module, tuple(a for a in args if isinstance(a, cnnlab.Tensor)), output))

    modes = [(m, m.training) for m in model.modules()]
    handles = [m.register_forward_hook(hook) for m in model.modules() if id(m) in names]
    try:
        model.eval()
        with cnnlab.enable_grad():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    outs = out if isinstance(out, tuple) else (out,)
    if not outs or not all(isinstance(o, cnnlab.Tensor) for o in outs):
        raise TypeError(
            f"cnnlab.onnx.export: {type(model).__name__}.forward must return a Tensor or a tuple of Tensors, "
            f"got {type(out).__name__}"
        )
    return x, outs, calls
