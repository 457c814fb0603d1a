"""Shared matplotlib plumbing: figures drawn with the Agg canvas, without pyplot.

Using ``matplotlib.figure.Figure`` directly skips pyplot's global state and backend
selection, which keeps each command's figure well under the 2 s budget and safe in threads.
"""

from __future__ import annotations

import os


def new_figure(width: float, height: float, dpi: int = 100, layout: str | None = "constrained"):
    """A blank ``Figure`` of ``width × height`` inches rendered by Agg; it shows itself in Jupyter.

    ``layout=None`` leaves the placement to the caller (``subplots_adjust``): the constrained
    layout measures every label by drawing the figure once more, ≈ 0.9 s for the 14 axes of a
    feature-map figure.
    """
    return _figure_class()(figsize=(width, height), dpi=dpi, layout=layout)


_FIGURE_CLASS = None


def _figure_class():
    """``matplotlib.figure.Figure`` with a ``_repr_png_``, made once (matplotlib is imported late).

    A figure made without pyplot has no display hook in Jupyter unless pyplot's inline
    backend happens to be loaded; the PNG method makes a returned figure show itself either way.
    """
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        from matplotlib.figure import Figure

        class LabFigure(Figure):
            """A matplotlib ``Figure`` that Jupyter draws as a PNG when a cell returns it."""

            def _repr_png_(self) -> bytes:
                import io

                buf = io.BytesIO()
                self.savefig(buf, format="png")
                return buf.getvalue()

        _FIGURE_CLASS = LabFigure
    return _FIGURE_CLASS


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
