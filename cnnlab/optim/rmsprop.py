"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

import numpy as np

from .._tensor import from_numpy
from .optimizer import Optimizer, _check, _new_step, _step_count


class RMSprop(Optimizer):
    """RMSprop (as ``torch.optim.RMSprop``).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator for stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by the estimated variance instead of the raw second moment
            (default False).
        maximize: ascend the objective (default False).

    Notes:
        ``v = alpha * v + (1 - alpha) * g²``; centered: ``a = alpha * a + (1 - alpha) * g`` and
        ``v~ = v - a²``; ``d = g / (sqrt(v~) + eps)``; with momentum ``b = momentum * b + d``,
        ``p = p - lr * b``, else ``p = p - lr * d``.

    Example:
        >>> opt = cnnlab.optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, state: dict, group: dict) -> None:
        state["step"] = _new_step()
        state["square_avg"] = from_numpy(np.zeros_like(param))
        if group["momentum"] > 0:
            state["momentum_buffer"] = from_numpy(np.zeros_like(param))
        if group["centered"]:
            state["grad_avg"] = from_numpy(np.zeros_like(param))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        _step_count(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg = state["square_avg"].numpy()
        square_avg *= alpha
        square_avg += (1.0 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", from_numpy(np.zeros_like(param))).numpy()
            grad_avg += (1.0 - alpha) * (grad - grad_avg)  # torch's lerp form
            with np.errstate(invalid="ignore"):  # rounding can make v - a² < 0: NaN, as in torch
                avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", from_numpy(np.zeros_like(param))).numpy()
            buf *= momentum
            buf += grad / avg
            param -= lr * buf
        else:
            param += (-lr * grad) / avg
