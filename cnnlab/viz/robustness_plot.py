"""Robustness curves: accuracy against each challenge's strength, one line per run, with a strip
of one example image at every strength under each plot."""

from __future__ import annotations

import numpy as np

from ._plot import new_figure, save_figure


def curves(results: dict, images: np.ndarray, path: str, *, seed: int = 0, title: str | None = None,
           styles: dict | None = None) -> str:
    """Draw ``results`` (``{run name: {challenge: [accuracy per strength]}}``) to ``path``.

    Args:
        images: uint8 images; the first is shown at each strength.
        seed: the seed the sweep used (the strip shows the same draws).
        styles: optional ``{run name: matplotlib line keywords}``.
    """
    from .. import robustness

    challenges = list(next(iter(results.values())))
    cols = min(len(challenges), 4)
    rows = -(-len(challenges) // cols)
    fig = new_figure(3.2 * cols, 3.6 * rows + (0.4 if title else 0))
    grid = fig.add_gridspec(rows * 4, cols)
    for k, ch in enumerate(challenges):
        r, c = divmod(k, cols)
        ax = fig.add_subplot(grid[r * 4:r * 4 + 3, c])
        xs = robustness.SWEEPS[ch]
        for name, res in results.items():
            ax.plot(xs, [100 * a for a in res[ch]], marker="o", ms=3, label=name, **(styles or {}).get(name, {}))
        ax.set_title(robustness.label(ch), fontsize=8)
        ax.set_ylim(0, 100)
        if xs[-1] < xs[0]:  # factors swept down from 1 (scale, contrast): harder to the right
            ax.invert_xaxis()
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if c == 0:
            ax.set_ylabel("test accuracy (%)", fontsize=8)
        if k == 0:
            ax.legend(fontsize=6, handlelength=3)
        strip = np.concatenate([robustness.transform(images[:1], ch, s, seed)[0] for s in xs], axis=1)
        sx = fig.add_subplot(grid[r * 4 + 3, c])
        sx.imshow(strip, cmap="gray" if strip.ndim == 2 else None, vmin=0, vmax=255)
        sx.set_xticks([])
        sx.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
