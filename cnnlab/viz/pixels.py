"""Images are numbers: the pixel matrix of an image region, printed and drawn.

Example:
    >>> from cnnlab.viz import load_image, pixel_channels, format_matrix
    >>> chans = pixel_channels(load_image("camera"), box=(200, 100, 8, 6))
    >>> print(format_matrix(chans["gray"]))  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ._plot import new_figure, save_figure, text_color_for
from .images import center_box, crop

# The lecture's matrix is 12 values wide and 16 tall: a region that still fits a terminal.
DEFAULT_REGION = (12, 16)
# Above this many cells the numbers stop being readable on the picture.
MAX_LABELLED_CELLS = 32 * 32


def pixel_channels(image: np.ndarray, box=None) -> dict[str, np.ndarray]:
    """The region's values per channel, as the lecture shows them (0-255 integers).

    Args:
        image: ``uint8`` array, ``(H, W)`` or ``(H, W, 3)``.
        box: ``(x, y, w, h)``; default a 12×16 region at the centre.

    Returns:
        ``{"gray": (h, w)}`` for a grayscale image, ``{"R": ..., "G": ..., "B": ...}`` for colour.
    """
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"pixels: expected an image of shape (H, W) or (H, W, 3), got {image.shape}")
    box = box if box is not None else center_box(image, *DEFAULT_REGION)
    region = crop(image, box)
    if region.ndim == 2:
        return {"gray": region.astype(np.int64)}
    return {c: region[:, :, i].astype(np.int64) for i, c in enumerate("RGB")}


def format_matrix(matrix: np.ndarray, color: bool = False) -> str:
    """Rows of right-aligned values; with ``color``, each value on its own gray level (ANSI 256)."""
    width = max(3, max(len(str(int(v))) for v in matrix.ravel()))
    lines = []
    for row in matrix:
        cells = []
        for v in row:
            s = f"{int(v):>{width}}"
            if color:
                # 24 gray levels 232..255 in the xterm palette; the value picks the background.
                level = 232 + int(round(min(max(int(v), 0), 255) / 255 * 23))
                fg = 16 if v > 127 else 231
                s = f"\x1b[48;5;{level}m\x1b[38;5;{fg}m{s} \x1b[0m"
            cells.append(s)
        lines.append(("" if color else " ").join(cells))
    return "\n".join(lines)


def plot_pixels(channels: dict[str, np.ndarray], path: str, title: str = "Pixel values") -> str:
    """Write :func:`pixels_figure` to ``path``; returns the path."""
    return save_figure(pixels_figure(channels, title), path)


def pixels_figure(channels: dict[str, np.ndarray], title: str = "Pixel values"):
    """Each channel of the region with its value written on every pixel, as a matplotlib figure.

    Colour images get a fourth panel with the region itself. Every panel has a colour bar on
    the 0-255 scale of the lecture.

    Example:
        >>> pixels_figure(pixel_channels(sample_image("camera"), box=(230, 80, 12, 10)))  # doctest: +SKIP
    """
    names = list(channels)
    h, w = channels[names[0]].shape
    panels = (["RGB"] if names != ["gray"] else []) + names
    cell = 0.42 if h * w <= MAX_LABELLED_CELLS else 0.1
    pw, ph = max(3.2, w * cell + 1.2), max(2.8, h * cell + 0.9)
    fig = new_figure(min(pw * len(panels), 24), min(ph + 0.6, 14))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    cmaps = {"gray": "gray", "R": "Reds_r", "G": "Greens_r", "B": "Blues_r"}
    labelled = h * w <= MAX_LABELLED_CELLS
    for ax, name in zip(axes, panels):
        if name == "RGB":
            rgb = np.stack([channels[c] for c in "RGB"], axis=-1).astype(np.uint8)
            ax.imshow(rgb, interpolation="nearest")
            ax.set_title("region (RGB)")
        else:
            m = channels[name]
            im = ax.imshow(m, cmap=cmaps[name], vmin=0, vmax=255, interpolation="nearest")
            fig.colorbar(im, ax=ax, shrink=0.8, label="pixel value (0-255)")
            ax.set_title("grayscale" if name == "gray" else f"{name} channel")
            if labelled:
                size = 8 if max(len(str(int(v))) for v in m.ravel()) <= 3 else 6
                for (i, j), v in np.ndenumerate(m):
                    ax.text(j, i, str(int(v)), ha="center", va="center", fontsize=size,
                            color=text_color_for(v, 0, 255))
        ax.set_xlabel("column (x)")
        ax.set_ylabel("row (y)")
    fig.suptitle(title if labelled else f"{title} (region too large to label each pixel)")
    return fig
