"""The autograd core: ``Function`` (one differentiable op) and the backward pass.

An op subclasses ``Function`` and writes ``forward(self, *arrays, **kwargs)`` and
``backward(self, grad)`` on NumPy arrays, next to each other. ``Function.apply`` is the
only place where arrays are wrapped into Tensors and where the graph is recorded.

Design note: a node of the graph is the ``Function`` instance itself (the "context").
It keeps its parent Tensors and what ``save_for_backward`` stored. After a backward
pass those references are dropped, so the arrays of a training step are freed before
the next step and memory stays flat; a second backward through the same graph is then
refused with a clear message (as in PyTorch) unless ``retain_graph=True`` was given.

Layering: this module is the bottom of the engine and imports nothing of cnnlab above
``cnnlab.autograd`` (autograd → ops → Tensor → functional → nn; tests/test_architecture.py
checks it). It still has to make Tensors, so the Tensor class registers itself:
``cnnlab/_tensor.py`` calls ``register_tensor_type(Tensor, as_tensor_like)`` once, at the end
of its import, and ``apply`` and ``run_backward`` use the registered class. Importing
``cnnlab`` (or ``cnnlab._tensor``) always runs that registration before any op can be applied.
As the one place that wraps arrays and fills ``.grad``, this module (with ``_tensor.py``) may
use the Tensor's private ``_data`` and ``_wrap``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .grad_mode import is_grad_enabled

Tensor = Any  # for annotations only: the class itself arrives through register_tensor_type
_tensor_type: type | None = None  # cnnlab.Tensor, once cnnlab/_tensor.py has registered it
_coerce: Callable[[Any, Any], Any] | None = None  # wraps a scalar/array operand as a Tensor


def register_tensor_type(tensor_type: type, coerce: Callable[[Any, Any], Any]) -> None:
    """Tell autograd which class wraps op outputs (called once by ``cnnlab/_tensor.py``).

    Args:
        tensor_type: the Tensor class; it must provide ``_wrap(array, requires_grad)``,
            ``_data``, ``requires_grad``, ``grad``, ``_ctx`` and ``_retains_grad``.
        coerce: ``coerce(value, reference_tensor)`` turns a non-Tensor operand (a Python
            scalar or an array) into a Tensor, with the dtype rules of the reference.
    """
    global _tensor_type, _coerce
    _tensor_type, _coerce = tensor_type, coerce


class Function:
    """Base class of every differentiable op.

    Subclasses implement:

    - ``forward(self, *arrays, **kwargs) -> ndarray``: the op on raw arrays. Non-Tensor
      configuration (dims, strides, ...) comes in ``kwargs``.
    - ``backward(self, grad) -> ndarray | tuple``: one gradient per Tensor input, in the
      order of the inputs, each with the input's shape (``None`` where no gradient flows).

    ``self.needs_input_grad`` tells backward which gradients are wanted, so an op can skip
    work (e.g. the input gradient of a network's first layer).
    """

    needs_input_grad: tuple[bool, ...]
    parents: tuple["Tensor", ...]
    saved: tuple[Any, ...]
    released: bool = False

    def save_for_backward(self, *values: Any) -> None:
        self.saved = values

    # how the node shows itself, as PyTorch's grad_fn does (names: cnnlab/autograd/graph.py)
    def name(self) -> str:
        from .graph import node_name

        return node_name(self)

    @property
    def next_functions(self) -> tuple:
        from .graph import next_functions

        return next_functions(self)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def forward(self, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def backward(self, grad: np.ndarray):  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> "Tensor":
        """Run the op on Tensors (or scalars/arrays) and record it for backward."""
        tensor_type = _tensor_type
        reference = next((t for t in inputs if isinstance(t, tensor_type)), None)
        tensors = tuple(t if isinstance(t, tensor_type) else _coerce(t, reference) for t in inputs)
        ctx = cls()
        needs = tuple(t.requires_grad for t in tensors)
        record = is_grad_enabled() and any(needs)
        # an op that will never run backward need not keep anything for it (e.g. under no_grad)
        ctx.needs_input_grad = needs if record else (False,) * len(needs)
        ctx.saved = ()
        out = ctx.forward(*(t._data for t in tensors), **kwargs)
        result = tensor_type._wrap(out, requires_grad=record)
        if record:
            ctx.parents = tensors
            result._ctx = ctx
        return result


def _topological_order(root: "Tensor") -> list["Tensor"]:
    """Tensors reachable from ``root`` through recorded ops, each after all its users."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:  # iterative DFS: deep graphs must not hit Python's recursion limit
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None and not ctx.released:
            for parent in ctx.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def run_backward(root: "Tensor", grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` from ``root`` to every leaf that requires a gradient."""
    wrap = _tensor_type._wrap
    if root._ctx is not None and root._ctx.released:
        raise RuntimeError(
            "backward: trying to backward through the graph a second time; the graph was "
            "released by the first backward() to free memory. Call backward(retain_graph=True) "
            "the first time if you need to backward twice."
        )
    grads: dict[int, np.ndarray] = {id(root): grad}
    order = _topological_order(root)
    for node in order:
        g = grads.pop(id(node), None)
        ctx = node._ctx
        if ctx is None:  # a leaf: accumulate into .grad, as PyTorch does
            if g is not None and node.requires_grad:
                if node.grad is None:
                    node.grad = wrap(np.array(g, dtype=node._data.dtype, copy=True))
                else:
                    node.grad._data += g
            continue
        if node._retains_grad and g is not None:
            node.grad = wrap(np.array(g, copy=True))
        if g is None:
            continue
        if ctx.released:
            raise RuntimeError(
                f"backward: the graph through {type(ctx).__name__} was already released by an "
                "earlier backward(); use retain_graph=True on the first call."
            )
        input_grads = ctx.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        _accumulate(ctx, input_grads, grads)
    if not retain_graph:
        for node in order:
            if node._ctx is not None:
                _release(node._ctx)


def _accumulate(ctx: Function, input_grads: Sequence, grads: dict[int, np.ndarray]) -> None:
    assert len(input_grads) == len(ctx.parents), (
        f"{type(ctx).__name__}.backward returned {len(input_grads)} gradients for "
        f"{len(ctx.parents)} inputs"
    )
    for parent, pg in zip(ctx.parents, input_grads):
        if pg is None or not parent.requires_grad:
            continue
        assert pg.shape == parent._data.shape, (
            f"{type(ctx).__name__}.backward: gradient shape {pg.shape} != input shape "
            f"{parent._data.shape}"
        )
        key = id(parent)
        # Never add in place: a backward may return a view of its incoming gradient.
        grads[key] = pg if key not in grads else grads[key] + pg


def _release(ctx: Function) -> None:
    ctx.parents = ()
    ctx.saved = ()
    ctx.__dict__.pop("label_inputs", None)  # a composite's inputs (graph.label) go with the graph
    ctx.released = True
