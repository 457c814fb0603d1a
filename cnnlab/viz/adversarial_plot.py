"""Figures for :mod:`cnnlab.adversarial`: one example (original, perturbation, adversarial) and
the accuracy-against-ε curve of one or more runs."""

from __future__ import annotations

import numpy as np

from ._plot import new_figure, save_figure


def to_pixels(x: np.ndarray, mean, std) -> np.ndarray:
    """A (C, H, W) model input back to [0, 1] pixels, (H, W) or (H, W, 3) for imshow."""
    m = np.asarray(mean, np.float64).reshape(-1, 1, 1)
    s = np.asarray(std, np.float64).reshape(-1, 1, 1)
    p = np.clip(x.astype(np.float64) * s + m, 0, 1)
    return p[0] if p.shape[0] == 1 else p.transpose(1, 2, 0)


def example_figure(original, adversarial, mean, std, eps_pixels: float, before: str, after: str, path: str) -> str:
    """Three panels: the original with its prediction, the perturbation scaled so ±ε spans
    black to white, and the adversarial image with its prediction."""
    fig = new_figure(9, 3.9)
    axes = fig.subplots(1, 3)
    a, b = to_pixels(original, mean, std), to_pixels(adversarial, mean, std)
    delta = b - a
    scale = eps_pixels if eps_pixels > 0 else 1.0
    gray = dict(cmap="gray", vmin=0, vmax=1) if a.ndim == 2 else {}
    axes[0].imshow(a, **gray)
    axes[0].set_title(f"original\n{before}", fontsize=10)
    axes[1].imshow(np.clip(0.5 + delta / (2 * scale), 0, 1), **gray)
    axes[1].set_title(f"perturbation (±{eps_pixels:g} → black/white)\nmax |δ| = {np.abs(delta).max():.3f}",
                      fontsize=10)
    axes[2].imshow(b, **gray)
    axes[2].set_title(f"adversarial, ε = {eps_pixels:g}\n{after}", fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return save_figure(fig, path)


def curve_figure(eps_values, curves: dict, method: str, n: int, path: str) -> str:
    """Test accuracy against ε (pixel units), one line per run."""
    fig = new_figure(6, 4)
    ax = fig.subplots()
    for label, accs in curves.items():
        ax.plot(eps_values, [100 * a for a in accs], marker="o", label=label)
    ax.set_xlabel("ε (L∞, in [0, 1] pixel units)")
    ax.set_ylabel(f"test accuracy (%), first {n} images")
    ax.set_title(f"Accuracy under {method.upper()} attack")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
