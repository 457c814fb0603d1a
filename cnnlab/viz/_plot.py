"""Shared matplotlib plumbing: figures drawn with the Agg canvas, without pyplot.

Using ``matplotlib.figure.Figure`` directly skips pyplot's global state and backend
selection, which keeps each command's figure well under the 2 s budget and safe in threads.
"""

from __future__ import annotations

import os


def new_figure(width: float, height: float, dpi: int = 100, layout: str | None = "constrained"):
    """A blank ``Figure`` of ``width × height`` inches rendered by Agg.

    ``layout=None`` leaves the placement to the caller (``subplots_adjust``): the constrained
    layout measures every label by drawing the figure once more, ≈ 0.9 s for the 14 axes of a
    feature-map figure.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi, layout=layout)


def save_figure(fig, path: str) -> str:
    """Write ``fig`` to ``path`` (PNG unless the suffix says otherwise); returns the path."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path)
    return path


def text_color_for(value: float, vmin: float, vmax: float) -> str:
    """Black text on light cells, white on dark ones, for value labels drawn on an image."""
    if vmax <= vmin:
        return "black"
    return "black" if (value - vmin) / (vmax - vmin) > 0.5 else "white"
