"""Renderers for :mod:`cnnlab.viz.stepper`: ANSI text frames for the terminal, and a GIF.

Both draw the same four panels per frame: the (padded) input with the window highlighted,
the kernel (convolution only), the window's products or values, and the output filling in.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .stepper import Walkthrough, fmt

_RESET = "\x1b[0m"
_WINDOW = "\x1b[1;30;103m"   # bold black on bright yellow: the sliding window
_PAD = "\x1b[2;37m"          # dim: the zero padding the lecture draws around the image
_NEW = "\x1b[1;30;102m"      # bold black on bright green: the output cell just computed
_KERNEL = "\x1b[1;36m"       # cyan: kernel weights


def _panel_names(walk: Walkthrough) -> list[str]:
    if walk.op == "conv":
        return ["Input", "Kernel", "Products", "Output"]
    return ["Input", "Window", "Output"]


def _grid_lines(matrix, width, style=None, color=True):
    """Format a matrix as text rows; ``style(i, j) -> ansi or None`` highlights cells."""
    lines = []
    for i, row in enumerate(matrix):
        cells = []
        for j, v in enumerate(row):
            text = "·" if np.isnan(v) else fmt(v)
            s = style(i, j) if style else None
            if color:
                cell = f"{text:>{width}}"
                cells.append(f"{s}{cell}{_RESET}" if s else cell)
            else:
                # Without colours, brackets mark the window / the new output cell.
                cells.append(f"[{text:>{width - 2}}]" if s in (_WINDOW, _NEW) else f"{text:>{width}}")
        lines.append(" ".join(cells))
    return lines


def render_frame(walk: Walkthrough, k: int, color: bool = True) -> str:
    """Frame ``k`` (0-based) as a block of text, ANSI-coloured unless ``color=False``."""
    step = walk.steps[k]
    padded, p = walk.padded, walk.padding
    r, c, kh, kw = step.window
    values = [padded, step.terms, walk.output_after(k)]
    if walk.kernel is not None:
        values.insert(1, walk.kernel)
    width = max(len(fmt(v)) for m in values for v in np.asarray(m).ravel() if not np.isnan(v)) + 1

    def input_style(i, j):
        if r <= i < r + kh and c <= j < c + kw:
            return _WINDOW
        if i < p or j < p or i >= padded.shape[0] - p or j >= padded.shape[1] - p:
            return _PAD
        return None

    panels = [_grid_lines(padded, width, input_style, color)]
    if walk.kernel is not None:
        panels.append(_grid_lines(walk.kernel, width, lambda i, j: _KERNEL, color))
    panels.append(_grid_lines(step.terms, width, None, color))
    panels.append(_grid_lines(values[-1], width, lambda i, j: _NEW if (i, j) == step.out_pos else None, color))

    names = _panel_names(walk)
    if p:
        names[0] = f"Input (padding {p})"
    vis_widths = [len(_grid_lines(m, width, None, False)[0]) for m in values]
    gap = "   "
    header = gap.join(f"{n:<{w}}" for n, w in zip(names, vis_widths))
    rows = max(len(pl) for pl in panels)
    body = []
    for i in range(rows):
        parts = []
        for pl, w in zip(panels, vis_widths):
            parts.append(pl[i] if i < len(pl) else " " * w)
        body.append(gap.join(parts))
    i, j = step.out_pos
    title = f"{walk.title} — step {k + 1}/{len(walk.steps)}: output[{i}, {j}]"
    return "\n".join([title, header, *body, f"  {step.expression}"])


def play(walk: Walkthrough, animate: bool = True, delay: float = 0.6, color: bool = True,
         stream=None) -> None:
    """Print every frame; with ``animate`` each replaces the previous one after ``delay`` s."""
    stream = stream or sys.stdout
    previous_lines = 0
    for k in range(len(walk.steps)):
        frame = render_frame(walk, k, color)
        if animate and previous_lines:
            stream.write(f"\x1b[{previous_lines}F\x1b[J")  # cursor up, clear the old frame
        stream.write(frame + "\n" + ("" if animate else "\n"))
        stream.flush()
        previous_lines = frame.count("\n") + 1
        if animate and k < len(walk.steps) - 1:
            time.sleep(delay)
    final = walk.output
    stream.write(f"Result ({final.shape[0]}x{final.shape[1]}):\n")
    stream.write("\n".join(_grid_lines(final, max(len(fmt(v)) for v in final.ravel()) + 1, None, False)) + "\n")
    stream.flush()


# ----------------------------------------------------------------------------- GIF
_CELL = 40
_YELLOW, _GREEN, _PADGRAY, _LINE = (255, 230, 110), (150, 225, 150), (225, 225, 225), (90, 90, 90)
_KERNELBLUE = (200, 225, 255)


def _font(size: int):
    from PIL import ImageFont

    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except Exception:  # matplotlib missing: Pillow's built-in scalable font
        return ImageFont.load_default(size=size)


def _draw_grid(draw, x0, y0, matrix, font, fill=None, cell=_CELL):
    """Draw ``matrix`` with its values; ``fill(i, j) -> rgb or None`` colours cells."""
    for (i, j), v in np.ndenumerate(matrix):
        box = (x0 + j * cell, y0 + i * cell, x0 + (j + 1) * cell, y0 + (i + 1) * cell)
        draw.rectangle(box, fill=(fill(i, j) if fill else None) or (255, 255, 255), outline=_LINE)
        if not np.isnan(v):
            draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), fmt(v), fill=(0, 0, 0),
                      font=font, anchor="mm")


def gif_frames(walk: Walkthrough):
    """One Pillow RGB image per step (the renderer behind :func:`save_gif`)."""
    from PIL import Image, ImageDraw

    title_font, font, small = _font(17), _font(15 if walk.op != "conv" else 14), _font(14)
    padded, p = walk.padded, walk.padding
    mats = [padded] + ([walk.kernel] if walk.kernel is not None else []) + [walk.steps[0].terms, walk.output]
    names = _panel_names(walk)
    if p:
        names[0] = f"Input (zero padding {p})"
    gap, margin, top = 36, 20, 84
    widths = [m.shape[1] * _CELL for m in mats]
    width = max(margin * 2 + sum(widths) + gap * (len(mats) - 1), 560)
    height = top + max(m.shape[0] for m in mats) * _CELL + 80
    frames = []
    for k, step in enumerate(walk.steps):
        img = Image.new("RGB", (width, height), (255, 255, 255))
        d = ImageDraw.Draw(img)
        i_out, j_out = step.out_pos
        d.text((margin, 12), f"{walk.title}", fill=(0, 0, 0), font=title_font)
        d.text((margin, 36), f"step {k + 1}/{len(walk.steps)}: output[{i_out}, {j_out}]",
               fill=(60, 60, 60), font=small)
        r, c, kh, kw = step.window
        cur = [padded] + ([walk.kernel] if walk.kernel is not None else []) + [step.terms, walk.output_after(k)]

        def in_fill(i, j):
            if r <= i < r + kh and c <= j < c + kw:
                return _YELLOW
            if i < p or j < p or i >= padded.shape[0] - p or j >= padded.shape[1] - p:
                return _PADGRAY
            return None

        fills = [in_fill] + ([lambda i, j: _KERNELBLUE] if walk.kernel is not None else []) + [
            lambda i, j: _YELLOW, lambda i, j: _GREEN if (i, j) == step.out_pos else None]
        x = margin
        for name, m, fill, w in zip(names, cur, fills, widths):
            d.text((x, top - 20), name, fill=(0, 0, 0), font=small)
            _draw_grid(d, x, top, m, font, fill)
            x += w + gap
        # The window's outline on the input, as in the lecture's animation.
        d.rectangle((margin + c * _CELL, top + r * _CELL, margin + (c + kw) * _CELL,
                     top + (r + kh) * _CELL), outline=(220, 120, 0), width=3)
        expr = step.expression
        if len(expr) > 90:  # a long sum wraps onto two lines
            cut = expr.rfind(" + ", 0, 90) + 3
            expr = expr[:cut] + "\n" + expr[cut:]
        d.multiline_text((margin, height - 62), expr, fill=(0, 0, 0), font=small, spacing=4)
        frames.append(img)
    return frames


def save_gif(walk: Walkthrough, path: str, duration_ms: int = 900) -> str:
    """Write the animation as a looping GIF; the last frame (the full output) stays longer."""
    import os

    frames = gif_frames(walk)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    durations = [duration_ms] * (len(frames) - 1) + [duration_ms * 3]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path
