"""Adagrad: per-coordinate learning rates from the sum of all past squared gradients."""

from __future__ import annotations

import numpy as np

from .._tensor import from_numpy
from .optimizer import Optimizer, _check, _new_step, _step_count


class Adagrad(Optimizer):
    """Adagrad (as ``torch.optim.Adagrad``).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: starting value of the squared-gradient sum (default 0).
        eps: added to the denominator for stability (default 1e-10).
        maximize: ascend the objective (default False).

    Notes:
        At step ``t``: ``s = s + g²``, ``p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.

    Example:
        >>> opt = cnnlab.optim.Adagrad(model.parameters(), lr=0.1)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(initial_accumulator_value >= 0.0,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def add_param_group(self, param_group) -> None:
        super().add_param_group(param_group)
        # torch creates Adagrad's state up front, so a fresh state_dict already holds it
        group = self.param_groups[-1]
        for p in group["params"]:
            if not self.state[p]:
                self._init_state(p.detach().numpy(), self.state[p], group)

    def _init_state(self, param: np.ndarray, state: dict, group: dict) -> None:
        state["step"] = _new_step()
        state["sum"] = from_numpy(np.full_like(param, float(group["initial_accumulator_value"])))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        step = _step_count(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = state["sum"].numpy()
        state_sum += grad * grad
        std = np.sqrt(state_sum)
        std += eps
        param += (-clr * grad) / std
