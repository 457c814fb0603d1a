"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import numpy as np

from .._tensor import from_numpy
from .optimizer import Optimizer, _check, _new_step, _step_count


class Adam(Optimizer):
    """Adam (as ``torch.optim.Adam``).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment averages (default (0.9, 0.999)).
        eps: added to the denominator for stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0), or, with
            ``decoupled_weight_decay=True`` (AdamW), a direct shrink ``p *= 1 - lr * weight_decay``.
        amsgrad: use the maximum of all second-moment averages so far (default False).
        maximize: ascend the objective (default False).
        decoupled_weight_decay: AdamW's weight decay (default False).

    Notes:
        With ``g`` the gradient (plus ``weight_decay * p`` unless decoupled), at step ``t``::

            m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g²
            p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Example:
        >>> opt = cnnlab.optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, param: np.ndarray, state: dict, group: dict) -> None:
        state["step"] = _new_step()
        state["exp_avg"] = from_numpy(np.zeros_like(param))
        state["exp_avg_sq"] = from_numpy(np.zeros_like(param))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = from_numpy(np.zeros_like(param))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        step = _step_count(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1.0 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        exp_avg, exp_avg_sq = state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()
        # torch's lerp form (m += (1 - beta1) * (g - m)), so float32 rounding matches its own
        exp_avg += (1.0 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * grad * grad
        bias_correction1 = 1.0 - beta1**step
        bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
        second = exp_avg_sq
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:  # amsgrad switched on after the first step
                state["max_exp_avg_sq"] = from_numpy(np.zeros_like(param))
            second = state["max_exp_avg_sq"].numpy()
            np.maximum(second, exp_avg_sq, out=second)
        denom = np.sqrt(second)
        denom /= bias_correction2_sqrt
        denom += eps
        param += (-(lr / bias_correction1) * exp_avg) / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (as ``torch.optim.AdamW``; default weight_decay 1e-2).

    Args:
        params, lr, betas, eps, amsgrad, maximize: as in :class:`Adam`.
        weight_decay: each step shrinks the parameters by ``1 - lr * weight_decay`` before
            the Adam update (default 1e-2).

    Example:
        >>> opt = cnnlab.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # as torch: AdamW always decouples its weight decay
            group["decoupled_weight_decay"] = True
