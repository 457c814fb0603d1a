"""``Optimizer``: the base class of every optimizer, with PyTorch's param groups and state.

A subclass only says how to create a parameter's state (``_init_state``) and how to update
one parameter's array in place (``_update``); the base class walks the groups, skips
parameters without a gradient, and saves/loads the state in PyTorch's ``state_dict`` format.
Updates work in place on the arrays ``p.detach().numpy()``, so they never record a graph;
each update bumps the parameter's version counter, as torch's in-place updates do, so a graph
that saved a parameter before ``step()`` refuses to backward afterwards.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from .._tensor import Tensor, from_numpy
from ..autograd.grad_mode import enable_grad


class _RequiredParameter:
    """Marks a default that every param group must set (e.g. a required ``lr``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


CHUNK = 1 << 20  # elements per block of add_scaled's scratch buffer (4 MB in float32)


def add_scaled(target: np.ndarray, source: np.ndarray, alpha: float) -> None:
    """``target += alpha * source`` in place, without a temporary as large as ``target``.

    The product is formed block by block in one small scratch buffer, with the same rounding
    as the one-line form: an update of VGG-16's 103-million-element first Linear weight would
    otherwise allocate another 411 MB for ``alpha * source``.
    """
    if target.size <= CHUNK or target.shape != source.shape or not (
        target.flags.c_contiguous and source.flags.c_contiguous
    ):
        target += alpha * source
        return
    flat_t, flat_s = target.reshape(-1), source.reshape(-1)
    scratch = np.empty(CHUNK, dtype=np.result_type(source.dtype, target.dtype))
    alpha = scratch.dtype.type(alpha)
    for start in range(0, flat_t.size, CHUNK):
        stop = min(start + CHUNK, flat_t.size)
        block = scratch[: stop - start]
        np.multiply(flat_s[start:stop], alpha, out=block)
        flat_t[start:stop] += block


def _as_array(value: Any) -> np.ndarray | None:
    """The array behind a state value (cnnlab Tensor, NumPy array, or torch tensor), else None."""
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor, without importing torch
        return value.detach().cpu().numpy()
    return None


def _copy_value(value: Any, dtype=None) -> Any:
    """A deep copy of one state value, as a cnnlab Tensor when it holds an array.

    Nested lists (a state that went through JSON) become arrays of ``dtype``.
    """
    arr = _as_array(value)
    if arr is None and isinstance(value, (list, tuple)) and dtype is not None:
        arr = np.asarray(value, dtype=dtype)
    if arr is None:
        return copy.deepcopy(value)
    arr = np.array(arr, dtype=dtype if (dtype is not None and arr.dtype.kind == "f") else arr.dtype)
    return from_numpy(arr)


class Optimizer:
    """Base class for optimizers (as ``torch.optim.Optimizer``).

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts that each
            define a parameter group (``{"params": [...], "lr": ...}``).
        defaults: the hyperparameters that groups which do not set them get.

    Attributes:
        param_groups: a list of dicts, one per group, with every default filled in.
        state: per-parameter state (e.g. ``momentum_buffer``), keyed by the parameter.

    Example:
        >>> opt = cnnlab.optim.SGD([{"params": model[0].parameters()},
        ...                         {"params": model[2].parameters(), "lr": 1e-3}], lr=1e-2)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params argument given to the optimizer should be an iterable "
                f"of Tensors or dicts, but got a single {type(params).__name__}; wrap it in a list"
            )
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. when unfreezing layers).

        Args:
            param_group: a dict with ``"params"`` and any hyperparameters that override the
                optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to ``None`` (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.requires_grad = False
                    p.grad.detach().numpy().fill(0)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient, once.

        Args:
            closure: optional; re-evaluates the model and returns the loss (graph recording on).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.detach().numpy()
                param = p.detach().numpy()
                if grad.shape != param.shape:
                    raise RuntimeError(
                        f"{type(self).__name__}.step(): a parameter of shape {p.shape} has a "
                        f"gradient of shape {grad.shape}"
                    )
                state = self.state[p]
                if not state:
                    self._init_state(param, state, group)
                self._update(param, grad, state, group)
                p._bump_version()  # an in-place change, as torch's optimizers make
                if not state:  # e.g. plain SGD keeps no state: as torch, no empty entry
                    del self.state[p]
        return loss

    def _init_state(self, param: np.ndarray, state: dict, group: dict) -> None:
        """Fill a parameter's empty state before its first update (default: nothing)."""

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """Update ``param`` in place from ``grad``; implemented by each optimizer."""
        raise NotImplementedError

    # -------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's format, as copies (safe to keep while training).

        Returns:
            ``{"state": {index: {name: Tensor, ...}}, "param_groups": [{..., "params": [index, ...]}]}``
            where parameters are numbered in the order of the groups, starting at 0.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: _copy_value(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state saved by ``state_dict()`` (or by torch's) so training resumes exactly.

        Args:
            state_dict: ``{"state": ..., "param_groups": ...}``; arrays are copied, and floating
                state (other than ``step``) is cast to its parameter's dtype.
        """
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict(): loaded state dict has a different number of parameter "
                f"groups ({len(saved_groups)}) than the optimizer ({len(self.param_groups)})"
            )
        for i, (ours, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(ours["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict(): loaded state dict contains a parameter group that "
                    f"doesn't match the size of optimizer's group: group {i} has "
                    f"{len(saved['params'])} parameters, the optimizer's has {len(ours['params'])}"
                )
        id_map = {
            saved_id: p
            for ours, saved in zip(self.param_groups, saved_groups)
            for saved_id, p in zip(saved["params"], ours["params"])
        }
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            key = int(key) if isinstance(key, str) and key.isdigit() else key  # JSON turns keys into str
            p = id_map.get(key)
            if p is None:
                state[key] = copy.deepcopy(values)
                continue
            state[p] = {
                k: _copy_value(v, None if k == "step" else p.dtype) for k, v in values.items()
            }
            if isinstance(state[p].get("step"), (int, float)):  # a plain number, e.g. from JSON
                state[p]["step"] = from_numpy(np.array(state[p]["step"], dtype=np.float32))
        new_groups = []
        for ours, saved in zip(self.param_groups, saved_groups):
            group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if isinstance(group.get("betas"), list):  # JSON turns the betas tuple into a list
                group["betas"] = tuple(group["betas"])
            group["params"] = ours["params"]
            new_groups.append(group)
        self.state = state
        self.param_groups = new_groups

    # ------------------------------------------------------------------- other
    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k not in ("params", "param_names")]
        return "\n".join(lines) + "\n)"


def _step_count(state: dict) -> float:
    """Add one to ``state['step']`` (a float32 0-d Tensor, as in torch) and return the new count."""
    step = state["step"]
    count = step.numpy()
    count += 1
    return float(count)


def _new_step() -> Tensor:
    return from_numpy(np.array(0.0, dtype=np.float32))


def _check(condition: bool, message: str) -> None:
    """Raise ``ValueError(message)`` (torch's wording) when a hyperparameter is invalid."""
    if not condition:
        raise ValueError(message)
