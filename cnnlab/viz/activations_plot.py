"""The lecture's non-linearities and their derivatives, computed with cnnlab's autograd.

Each curve's derivative comes from ``backward()`` through cnnlab's own activation ops, so the
figure also shows what the engine computes (tests compare both with torch).
"""

from __future__ import annotations

import numpy as np

# The lecture's Maxout slide: max(w1ᵀx + b1, w2ᵀx + b2). A 1-D example with two pieces.
MAXOUT_PIECES = ((1.0, 0.0), (-0.5, -1.0))

FORMULAS = {
    "Sigmoid": "σ(x) = 1 / (1 + e^-x)",
    "tanh": "tanh(x)",
    "ReLU": "max(0, x)",
    "Leaky ReLU": "max(0.1x, x)",
    "ELU": "x if x ≥ 0, α(e^x - 1) if x < 0  (α = 1)",
    "Maxout": "max(x, -0.5x - 1)",
}


def _functions():
    import cnnlab
    import cnnlab.functional as F

    (w1, b1), (w2, b2) = MAXOUT_PIECES
    return {
        "Sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "ReLU": F.relu,
        "Leaky ReLU": lambda x: F.leaky_relu(x, 0.1),
        "ELU": lambda x: F.elu(x, 1.0),
        "Maxout": lambda x: cnnlab.maximum(x * w1 + b1, x * w2 + b2),
    }


def activation_curves(lo: float = -4.0, hi: float = 4.0, n: int = 401) -> dict[str, tuple]:
    """``{name: (x, f(x), f'(x))}`` for every activation, as NumPy arrays.

    The derivative is ``x.grad`` after ``f(x).sum().backward()`` in cnnlab.
    """
    import cnnlab

    curves = {}
    for name, fn in _functions().items():
        x = cnnlab.tensor(np.linspace(lo, hi, n, dtype=np.float32), requires_grad=True)
        y = fn(x)
        y.sum().backward()
        curves[name] = (x.detach().numpy().copy(), y.detach().numpy().copy(), x.grad.numpy().copy())
    return curves


def plot_activations(path: str) -> dict[str, tuple]:
    """Write :func:`activations_figure` to ``path``; returns the curves drawn."""
    from ._plot import save_figure

    curves = activation_curves()
    save_figure(activations_figure(curves), path)
    return curves


def activations_figure(curves: dict[str, tuple] | None = None):
    """Each activation with its derivative (2×3 grid), as a matplotlib figure.

    ``curves``: what :func:`activation_curves` returns (default: computed now).
    """
    from ._plot import new_figure

    curves = activation_curves() if curves is None else curves
    fig = new_figure(13, 7.5)
    axes = fig.subplots(2, 3).ravel()
    for ax, (name, (x, y, dy)) in zip(axes, curves.items()):
        ax.axhline(0, color="0.75", lw=0.8)
        ax.axvline(0, color="0.75", lw=0.8)
        ax.plot(x, y, lw=2.2, color="tab:blue", label="f(x)")
        ax.plot(x, dy, lw=1.8, ls="--", color="tab:orange", label="f'(x)  (autograd)")
        if name == "Maxout":
            for (w, b), ls in zip(MAXOUT_PIECES, (":", "-.")):
                ax.plot(x, w * x + b, lw=1, ls=ls, color="0.5", label=f"{w:g}x {'+' if b >= 0 else '-'} {abs(b):g}")
        ax.set_title(f"{name}\n{FORMULAS[name]}", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("value")
        ax.set_ylim(-2.2, 4.2) if name in ("ReLU", "Leaky ReLU", "ELU", "Maxout") else ax.set_ylim(-1.2, 1.2)
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
    return fig
