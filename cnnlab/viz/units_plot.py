"""Grids for :mod:`cnnlab.units`: maximising images, top patches, and tuning curves per channel."""

from __future__ import annotations

import math

import numpy as np

from ._plot import new_figure, save_figure


def _show(ax, img):
    """A (C, H, W) image stretched to its own range (gray for one channel)."""
    img = np.asarray(img, np.float64)
    lo, hi = img.min(), img.max()
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    if img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(img.transpose(1, 2, 0))
    ax.set_xticks([])
    ax.set_yticks([])


def maximize_grid(images, activations, layer: str, title: str, path: str) -> str:
    """One maximising image per channel, its activation under it."""
    n = len(images)
    cols = min(n, 8)
    rows = math.ceil(n / cols)
    fig = new_figure(1.5 * cols, 1.7 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for k, ax in enumerate(axes):
        if k < n:
            _show(ax, images[k])
            ax.set_title(f"ch {k}: {activations[k]:.2f}", fontsize=8)
        else:
            ax.axis("off")
    fig.suptitle(f"{title}: {layer}", fontsize=11)
    return save_figure(fig, path)


def patches_grid(rows_of_patches: dict, layer: str, title: str, path: str, mean=None, std=None) -> str:
    """One row per channel: its top crops, strongest first, with their activations.

    With the run's ``mean``/``std`` the crops are drawn as pixels on one common [0, 1] scale."""
    from .adversarial_plot import to_pixels

    channels = list(rows_of_patches)
    k = max(len(v) for v in rows_of_patches.values())
    fig = new_figure(1.2 * k + 0.8, 1.3 * len(channels) + 0.6)
    axes = np.array(fig.subplots(len(channels), k)).reshape(len(channels), k)
    for r, ch in enumerate(channels):
        for c in range(k):
            ax = axes[r, c]
            if c < len(rows_of_patches[ch]):
                p = rows_of_patches[ch][c]
                if mean is None:
                    _show(ax, p.crop)
                else:
                    px = to_pixels(p.crop, mean, std)
                    ax.imshow(px, cmap="gray" if px.ndim == 2 else None, vmin=0, vmax=1)
                    ax.set_xticks([])
                    ax.set_yticks([])
                ax.set_title(f"{p.activation:.2f}", fontsize=7)
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(f"ch {ch}", fontsize=8)
    fig.suptitle(f"{title}: {layer}", fontsize=11)
    return save_figure(fig, path)


def tuning_grid(tuning, layer: str, path: str) -> str:
    """Each channel's tuning curve (best frequency), preferred orientation and OSI."""
    curves = tuning.curves
    n = len(curves)
    cols = min(n, 8)
    rows = math.ceil(n / cols)
    fig = new_figure(1.7 * cols, 1.6 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for k, ax in enumerate(axes):
        if k >= n:
            ax.axis("off")
            continue
        ax.plot(tuning.angles, curves[k], marker=".", lw=1)
        ax.axvline(tuning.preferred[k], color="tab:red", lw=0.8)
        ax.set_title(f"ch {k}: {tuning.preferred[k]:g}°, OSI {tuning.selectivity[k]:.2f}", fontsize=7)
        ax.set_xticks([0, 90, 180])
        ax.tick_params(labelsize=6)
    fig.suptitle(f"Orientation tuning (response to gratings vs bar angle, 0° = vertical): {layer}", fontsize=10)
    return save_figure(fig, path)


def hierarchy_grid(columns, title: str, path: str, cols: int = 4) -> str:
    """Maximising images of several layers side by side (the lecture's hierarchy of features).

    Args:
        columns: ``[(layer, images, activations), ...]`` in the order to draw, each a block of
            ``cols`` images per row with the layer's name above it.
    """
    rows = max(math.ceil(len(imgs) / cols) for _, imgs, _ in columns)
    fig = new_figure(1.35 * cols * len(columns) + 0.3 * (len(columns) - 1), 1.45 * rows + 0.7)
    blocks = np.atleast_1d(fig.subfigures(1, len(columns), wspace=0.04))
    for block, (layer, images, acts) in zip(blocks, columns):
        axes = np.atleast_1d(block.subplots(rows, cols)).ravel()
        for k, ax in enumerate(axes):
            if k < len(images):
                _show(ax, images[k])
                ax.set_title(f"{k}: {acts[k]:.2f}", fontsize=7)
            else:
                ax.axis("off")
        block.suptitle(layer, fontsize=10)
    fig.suptitle(title, fontsize=11)
    return save_figure(fig, path)


def position_grid(tunings, title: str, path: str, channels=None) -> str:
    """Per channel: each layer's response to a bar shifted across its unit, one line per layer,
    with the width (pixels at least half way from floor to peak) in the legend."""
    n = min(len(t.responses) for t in tunings) if channels is None else len(channels)
    channels = list(range(n)) if channels is None else list(channels)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = new_figure(2.6 * cols, 1.9 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for k, ax in enumerate(axes):
        if k >= n:
            ax.axis("off")
            continue
        c = channels[k]
        for t in tunings:
            ax.plot(t.offsets, t.responses[c], marker=".", lw=1, label=f"{t.layer}: {t.width[c]:g} px")
        ax.set_title(f"ch {c}: bar at {tunings[0].angles[c]:g}°", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=6)
        if k % cols == 0:
            ax.set_ylabel("response", fontsize=7)
        if k >= n - cols:
            ax.set_xlabel("bar offset (px)", fontsize=7)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
