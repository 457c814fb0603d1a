"""The autograd core: ``Function`` (one differentiable op) and the backward pass.

An op subclasses ``Function`` and writes ``forward(self, *arrays, **kwargs)`` and
``backward(self, grad)`` on NumPy arrays, next to each other. ``Function.apply`` is the
only place where arrays are wrapped into Tensors and where the graph is recorded.

Design note: a node of the graph is the ``Function`` instance itself (the "context").
It keeps its parent Tensors and what ``save_for_backward`` stored. A backward pass drops
those references op by op, right after each op's backward has run (as torch frees saved
tensors), so what each layer saved is freed as soon as the pass has gone through it, and memory
stays flat from step to step; a second backward through the same graph is then
refused with a clear message (as in PyTorch) unless ``retain_graph=True`` was given.

Layering: this module is the bottom of the engine and imports nothing of cnnlab above
``cnnlab.autograd`` (autograd → ops → Tensor → functional → nn; tests/test_architecture.py
checks it). It still has to make Tensors, so the Tensor class registers itself:
``cnnlab/_tensor.py`` calls ``register_tensor_type(Tensor, as_tensor_like)`` once, at the end
of its import, and ``apply`` and ``run_backward`` use the registered class. Importing
``cnnlab`` (or ``cnnlab._tensor``) always runs that registration before any op can be applied.
As the one place that wraps arrays and fills ``.grad``, this module (with ``_tensor.py``) may
use the Tensor's private ``_data`` and ``_wrap``.

Version counters (as torch): every tensor holds ``_vc``, a list ``[version, graph_epoch]``
shared by all tensors on the same storage (views and ``detach()`` aliases). Every in-place
write bumps ``version``. An op declares in ``saves`` which of its input/output tensors its
backward reads, the same ones torch saves; ``apply`` records their versions and
``run_backward`` compares them, one integer compare per saved tensor, raising torch's
"modified by an inplace operation" error on a mismatch. ``graph_epoch`` is bumped by an
in-place op that is itself recorded in the graph: a view (or base) created before it then
holds a value its own graph no longer describes; torch re-derives such views, cnnlab refuses
to use them in a recorded op (one clear error instead of a wrong gradient; docs/design/
autograd-semantics.md). Graph edges point at the *op* that made each input at the time of use
(``ctx.edges``), as in torch, so a later in-place op on that tensor does not rewrite history.
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
    edges: list[Any]  # per input: the Function that made it, the leaf Tensor, or None
    saved: tuple[Any, ...]
    released: bool = False
    # Which tensors backward reads, as torch saves them: ``(index, condition)`` pairs, index
    # -1 for the output; condition None (always) or a tuple of input indices (saved only if
    # one of those inputs needs a gradient). None: found from the saved arrays' memory.
    saves: tuple[tuple[int, Any], ...] | None = None
    versions: tuple = ()  # (index, counter, version at save time) per saved tensor
    is_view: bool = False  # the output may share the first input's memory (a view op)
    retained_by: Any = None  # the output tensor, when it called retain_grad()

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
        if not is_grad_enabled():  # the lean path (inference): nothing to record or keep
            for t in inputs:
                if not isinstance(t, tensor_type):
                    break
            else:
                ctx = cls()
                ctx.needs_input_grad = _NO_GRADS[len(inputs)] if len(inputs) < 8 else (False,) * len(inputs)
                ctx.saved = ()
                out = ctx.forward(*[t._data for t in inputs], **kwargs)
                result = tensor_type._wrap(out)
                if cls.is_view and np.may_share_memory(out, inputs[0]._data):
                    _mark_view(result, inputs[0])
                return result
        tensors = inputs
        for t in inputs:
            if not isinstance(t, tensor_type):  # a scalar or array operand: wrap them all
                reference = next((t for t in inputs if isinstance(t, tensor_type)), None)
                tensors = tuple(t if isinstance(t, tensor_type) else _coerce(t, reference) for t in inputs)
                break
        ctx = cls()
        needs = tuple([t.requires_grad for t in tensors])
        record = any(needs) and is_grad_enabled()
        # an op that will never run backward need not keep anything for it (e.g. under no_grad)
        ctx.needs_input_grad = needs if record else (False,) * len(needs)
        ctx.saved = ()
        out = ctx.forward(*[t._data for t in tensors], **kwargs)
        result = tensor_type._wrap(out, requires_grad=record)
        if cls.is_view and np.may_share_memory(out, tensors[0]._data):
            _mark_view(result, tensors[0])
            if record:  # how to re-derive it if its base changes in place (as torch)
                result._view_of = (tensors[0], cls, kwargs)
        if record:
            edges = []
            for t in tensors:
                made_by = t._ctx
                if made_by is None:
                    edges.append(t if t.requires_grad else None)
                elif t._vc[1] != t._graph_epoch:
                    edges.append(rederive(t, cls.__name__))
                else:
                    edges.append(made_by)
            ctx.parents = tensors
            ctx.edges = edges
            result._ctx = ctx
            if cls.saves != ():
                ctx.versions = _saved_versions(ctx, tensors, result)
        return result


_NO_GRADS = tuple((False,) * n for n in range(8))


def rederive(view: "Tensor", op: str) -> Function:
    """A view whose base was changed in place by a recorded op: record the view op again on
    the base's current graph, as torch regenerates a view's grad_fn. A base that itself went
    stale through another view (torch's CopySlices) cannot be re-derived: one clear error."""
    origin = view._view_of
    if origin is None:
        raise RuntimeError(stale_message(op))
    base, view_op, kwargs = origin
    if base._ctx is not None and base._vc[1] != base._graph_epoch:
        rederive(base, op)
    if base._ctx is None and not base.requires_grad:
        raise RuntimeError(stale_message(op))
    fresh = view_op.apply(base, **kwargs)
    view._ctx, view._graph_epoch = fresh._ctx, view._vc[1]
    return view._ctx


def _mark_view(result: "Tensor", base: "Tensor") -> None:
    """``result`` shares ``base``'s memory: one version counter, as torch's views."""
    result._vc = base._vc
    result._graph_epoch = base._vc[1]
    result._is_view = True
    result._view_of_leaf = base._view_of_leaf or (base.requires_grad and base._ctx is None)


def _saved_versions(ctx: Function, tensors: tuple, result: "Tensor") -> tuple:
    spec = ctx.saves
    if spec is None:  # no declaration: every input/output whose memory a saved array touches
        arrays = [t._data for t in tensors] + [result._data]
        found = {
            (k if k < len(tensors) else -1)
            for value in ctx.saved
            if isinstance(value, np.ndarray)
            for k, arr in enumerate(arrays)
            if np.may_share_memory(value, arr)
        }
        spec = tuple((k, None) for k in sorted(found))
    needs = ctx.needs_input_grad
    entries = []
    for index, condition in spec:
        if condition is None or any(needs[j] for j in condition):
            counter = (result if index < 0 else tensors[index])._vc
            entries.append((index, counter, counter[0]))
    return tuple(entries)


def stale_message(op: str) -> str:
    return (
        f"{op}: an input was changed by an in-place operation recorded in the graph through "
        "another tensor sharing its memory (a view or its base), after it was made; its graph "
        "no longer describes its value. torch re-derives such views, cnnlab does not: take the "
        "view after the in-place change, or clone() before changing it "
        "(docs/design/autograd-semantics.md)"
    )


def _check_versions(ctx: Function) -> None:
    for index, counter, version in ctx.versions:
        if counter[0] != version:
            if index < 0:
                what = f"output 0 of {_node_name(ctx)}"
            else:
                maker = ctx.edges[index]
                made_by = f"output 0 of {_node_name(maker)}" if isinstance(maker, Function) else "a leaf"
                what = f"{made_by}, saved as input {index} of {_node_name(ctx)}"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{what}] is at version {counter[0]}; expected version "
                f"{version} instead. Hint: clone() the tensor before changing it in place, or "
                "change it out of place."
            )


def _node_name(ctx: Function) -> str:
    from .graph import node_name  # torch's names (MulBackward0); only on the error path

    return node_name(ctx)


def _topological_order(root: Any) -> list[Any]:
    """Graph nodes (Functions, and leaf Tensors) reachable from ``root``, each after its users."""
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # iterative DFS: deep graphs must not hit Python's recursion limit
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if isinstance(node, Function) and not node.released:
            for parent in node.edges:
                if parent is not None and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def run_backward(root: "Tensor", grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` from ``root`` to every leaf that requires a gradient."""
    start = root._ctx
    if start is not None and start.released:
        raise RuntimeError(
            "backward: trying to backward through the graph a second time; the graph was "
            "released by the first backward() to free memory. Call backward(retain_graph=True) "
            "the first time if you need to backward twice."
        )
    if start is not None and root._vc[1] != root._graph_epoch:
        start = rederive(root, "backward")
    if start is None:
        start = root
    grads: dict[int, np.ndarray] = {id(start): grad}
    order = _topological_order(start)
    for node in order:
        g = grads.pop(id(node), None)
        if not isinstance(node, Function):  # a leaf: accumulate into .grad, as PyTorch does
            if g is not None:
                _accumulate_leaf(node, g)
            continue
        retained = node.retained_by
        if retained is not None and g is not None:
            retained.grad = _tensor_type._wrap(np.array(g, copy=True))
        if g is None:
            continue
        if node.released:
            raise RuntimeError(
                f"backward: the graph through {type(node).__name__} was already released by an "
                "earlier backward(); use retain_graph=True on the first call."
            )
        if node.versions:
            _check_versions(node)
        input_grads = node.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        _accumulate(node, input_grads, grads)
        del g, input_grads
        if not retain_graph:  # as torch: free what this op saved as soon as its backward ran
            _release(node)
    if not retain_graph:  # (and the nodes no gradient reached)
        for node in order:
            if isinstance(node, Function) and not node.released:
                _release(node)


def _accumulate_leaf(leaf: "Tensor", g: np.ndarray) -> None:
    if leaf.grad is None:
        leaf.grad = _tensor_type._wrap(np.array(g, dtype=leaf._data.dtype, copy=True))
    else:
        leaf.grad._data += g


def _accumulate(ctx: Function, input_grads: Sequence, grads: dict[int, np.ndarray]) -> None:
    assert len(input_grads) == len(ctx.parents), (
        f"{type(ctx).__name__}.backward returned {len(input_grads)} gradients for "
        f"{len(ctx.parents)} inputs"
    )
    for parent, edge, pg in zip(ctx.parents, ctx.edges, input_grads):
        if pg is None or edge is None:
            continue
        assert pg.shape == parent._data.shape, (
            f"{type(ctx).__name__}.backward: gradient shape {pg.shape} != input shape "
            f"{parent._data.shape}"
        )
        key = id(edge)
        # Never add in place: a backward may return a view of its incoming gradient.
        grads[key] = pg if key not in grads else grads[key] + pg


def _release(ctx: Function) -> None:
    ctx.parents = ()
    ctx.edges = ()
    ctx.saved = ()
    if ctx.versions:  # (an op that saved nothing keeps the shared class default)
        ctx.versions = ()
    ctx.__dict__.pop("label_inputs", None)  # a composite's inputs (graph.label) go with the graph
    ctx.released = True
    if ctx.retained_by is not None:
        ctx.retained_by = None
