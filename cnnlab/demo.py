"""A small self-contained demo: an MLP learns y = sin(x₀) + x₁² with plain SGD."""

from __future__ import annotations

import numpy as np

import cnnlab
from cnnlab import nn


def synthetic_regression_demo(steps: int = 300, seed: int = 0, log=print) -> float:
    """Train a 2-32-1 MLP with a hand-written SGD loop; returns the final MSE."""
    cnnlab.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (512, 2)).astype(np.float32)
    y = (np.sin(x[:, :1]) + x[:, 1:] ** 2 / 4).astype(np.float32)
    X, Y = cnnlab.from_numpy(x), cnnlab.from_numpy(y)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1))
    lr = 0.1
    loss_value = float("nan")
    for step in range(steps + 1):
        loss = ((model(X) - Y) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with cnnlab.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        loss_value = loss.item()
        if step % max(steps // 10, 1) == 0:
            log(f"step {step:4d}  mse {loss_value:.5f}")
    return loss_value
