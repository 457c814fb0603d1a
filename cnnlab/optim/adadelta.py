"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from .._tensor import from_numpy
from .optimizer import Optimizer, _check, _new_step, _step_count


class Adadelta(Optimizer):
    """Adadelta (as ``torch.optim.Adadelta``).

    Args:
        params: parameters or parameter groups to optimize.
        lr: coefficient that scales the update (default 1.0).
        rho: decay rate of the running averages (default 0.9).
        eps: added inside the square roots for stability (default 1e-6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective (default False).

    Notes:
        ``v = rho * v + (1 - rho) * g²``; ``d = sqrt(u + eps) / sqrt(v + eps) * g``;
        ``u = rho * u + (1 - rho) * d²``; ``p = p - lr * d``.

    Example:
        >>> opt = cnnlab.optim.Adadelta(model.parameters())
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, state: dict, group: dict) -> None:
        state["step"] = _new_step()
        state["square_avg"] = from_numpy(np.zeros_like(param))
        state["acc_delta"] = from_numpy(np.zeros_like(param))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        _step_count(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg, acc_delta = state["square_avg"].numpy(), state["acc_delta"].numpy()
        square_avg *= rho
        square_avg += (1.0 - rho) * grad * grad
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps)
        delta /= std
        delta *= grad
        acc_delta *= rho
        acc_delta += (1.0 - rho) * delta * delta
        param -= lr * delta
