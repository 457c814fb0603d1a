"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from .._tensor import from_numpy
from .optimizer import Optimizer, _check, add_scaled


class SGD(Optimizer):
    """Stochastic gradient descent (as ``torch.optim.SGD``).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3, as in torch 2.x).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: use Nesterov momentum (default False).
        maximize: ascend the objective instead of descending it (default False).

    Notes:
        With ``g = ±grad + weight_decay * p`` (minus when maximizing)::

            b_1 = g;   b_t = momentum * b_{t-1} + (1 - dampening) * g
            d = g + momentum * b_t  (nesterov)   or   d = b_t  (momentum > 0)   or   d = g
            p = p - lr * d

    Deliberate difference from torch: a NaN ``lr`` (or momentum, weight_decay) is refused
    here ("Invalid learning rate: nan"); torch's check ``lr < 0`` lets NaN through and the
    first ``step()`` silently turns every parameter into NaN (docs/design/autograd-semantics.md).

    Example:
        >>> opt = cnnlab.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(not nesterov or (momentum > 0 and dampening == 0),
               "Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        weight_decay = float(group["weight_decay"])
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = from_numpy(np.array(grad, copy=True))
                buf = state["momentum_buffer"].numpy()
            else:
                buf = buf.numpy()
                buf *= momentum
                dampening = float(group["dampening"])
                if dampening == 0:  # 1.0 * grad is grad exactly: skip a grad-sized temporary
                    buf += grad
                else:
                    add_scaled(buf, grad, 1.0 - dampening)
            grad = grad + momentum * buf if group["nesterov"] else buf
        add_scaled(param, grad, -lr)  # param -= lr * grad, without a param-sized temporary
