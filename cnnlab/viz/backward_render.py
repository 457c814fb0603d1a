"""Renderers for :mod:`cnnlab.viz.backward_stepper`: ANSI text frames and an animated GIF.

Each frame shows the walk's panels (highlighted cells in yellow) and the gradient filling in,
the cells just written in green; the same look as ``explain-conv``'s frames.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .backward_stepper import BackwardWalk
from .stepper import fmt
from .stepper_render import _CELL, _GREEN, _NEW, _WINDOW, _YELLOW, _draw_grid, _font, _grid_lines


def _in_box(box, i, j) -> bool:
    return box is not None and box[0] <= i < box[0] + box[2] and box[1] <= j < box[1] + box[3]


def render_frame(walk: BackwardWalk, k: int, color: bool = True) -> str:
    """Frame ``k`` (0-based) as a block of text, ANSI-coloured unless ``color=False``."""
    step = walk.steps[k]
    mats = [p.matrix for p in step.panels] + [step.result]
    width = max(len(fmt(v)) for m in mats for v in np.asarray(m).ravel() if not np.isnan(v)) + 1
    panels = [_grid_lines(p.matrix, width, lambda i, j, b=p.box: _WINDOW if _in_box(b, i, j) else None, color)
              for p in step.panels]
    panels.append(_grid_lines(step.result, width, lambda i, j: _NEW if (i, j) in step.written else None, color))
    names = [p.name for p in step.panels] + [walk.result_name]
    vis = [max(len(_grid_lines(m, width, None, False)[0]), len(n)) for m, n in zip(mats, names)]
    gap = "   "
    lines = [f"{walk.title} — step {k + 1}/{len(walk.steps)}", gap.join(f"{n:<{w}}" for n, w in zip(names, vis))]
    for i in range(max(len(p) for p in panels)):
        parts = []
        for pl, w, m in zip(panels, vis, mats):
            text = pl[i] if i < len(pl) else ""
            plain = _grid_lines(m, width, None, False)[i] if i < len(pl) else ""
            parts.append(text + " " * (w - len(plain)))
        lines.append(gap.join(parts).rstrip())
    lines.append(f"  {step.expression}")
    return "\n".join(lines)


def play(walks: list[BackwardWalk], animate: bool = True, delay: float = 0.6, color: bool = True,
         stream=None) -> None:
    """Print every frame of every walk; with ``animate`` each replaces the previous one."""
    stream = stream or sys.stdout
    for walk in walks:
        previous = 0
        for k in range(len(walk.steps)):
            frame = render_frame(walk, k, color)
            if animate and previous:
                stream.write(f"\x1b[{previous}F\x1b[J")
            stream.write(frame + "\n" + ("" if animate else "\n"))
            stream.flush()
            previous = frame.count("\n") + 1
            if animate and k < len(walk.steps) - 1:
                time.sleep(delay)
        res = walk.result
        stream.write(f"{walk.result_name} ({res.shape[0]}x{res.shape[1]}):\n")
        stream.write("\n".join(_grid_lines(res, max(len(fmt(v)) for v in res.ravel()) + 1, None, False)) + "\n\n")
        stream.flush()


def gif_frames(walks: list[BackwardWalk]):
    """One Pillow RGB image per step of every walk, all of the same size."""
    from PIL import Image, ImageDraw

    title_font, font, small = _font(17), _font(14), _font(14)
    gap, margin, top = 36, 20, 84
    all_steps = [(w, k, s) for w in walks for k, s in enumerate(w.steps)]

    def layout(step):
        return [p.matrix for p in step.panels] + [step.result]

    width = max(max(margin * 2 + sum(m.shape[1] * _CELL for m in layout(s)) + gap * len(s.panels), 560)
                for _, _, s in all_steps)
    width = max(width, 9 * max(len(s.expression) for _, _, s in all_steps) // 2 // 2 + 2 * margin)
    height = top + max(m.shape[0] for _, _, s in all_steps for m in layout(s)) * _CELL + 80
    frames = []
    for walk, k, step in all_steps:
        img = Image.new("RGB", (width, height), (255, 255, 255))
        d = ImageDraw.Draw(img)
        d.text((margin, 12), walk.title, fill=(0, 0, 0), font=title_font)
        d.text((margin, 36), f"step {k + 1}/{len(walk.steps)}", fill=(60, 60, 60), font=small)
        x = margin
        for p in step.panels:
            d.text((x, top - 20), p.name, fill=(0, 0, 0), font=small)
            _draw_grid(d, x, top, p.matrix, font, lambda i, j, b=p.box: _YELLOW if _in_box(b, i, j) else None)
            if p.box is not None:
                r, c, h, w = p.box
                d.rectangle((x + c * _CELL, top + r * _CELL, x + (c + w) * _CELL, top + (r + h) * _CELL),
                            outline=(220, 120, 0), width=3)
            x += p.matrix.shape[1] * _CELL + gap
        d.text((x, top - 20), walk.result_name, fill=(0, 0, 0), font=small)
        _draw_grid(d, x, top, step.result, font, lambda i, j: _GREEN if (i, j) in step.written else None)
        expr = step.expression
        if len(expr) > 100:  # a long sum wraps onto two lines
            cut = max(expr.rfind(" + ", 0, 100), expr.rfind(", ", 0, 100)) + 2
            expr = expr[:cut] + "\n" + expr[cut:].lstrip()
        d.multiline_text((margin, height - 62), expr, fill=(0, 0, 0), font=small, spacing=4)
        frames.append(img)
    return frames


def save_gif(walks: list[BackwardWalk], path: str, duration_ms: int = 900) -> str:
    """Write every walk's frames as one looping GIF; each walk's last frame stays longer."""
    import os

    frames = gif_frames(walks)
    durations = []
    for w in walks:
        durations += [duration_ms] * (len(w.steps) - 1) + [duration_ms * 3]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path
