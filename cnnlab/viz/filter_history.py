"""The first conv layer's filters at every epoch of a run, as an animated GIF (Pillow).

One frame per snapshot in the run's ``filters.npz`` (``cnnlab.train.snapshots``): frame 0 is
the initialisation, frame k the filters after epoch k. Each filter keeps one scale over all
frames, so a frame shows how far a filter moved from where it started: with one input channel
blue < 0 < red at the filter's largest |w| over the run; with three, RGB stretched to the
filter's range over the run. With more input channels the first one is drawn.

Example:
    >>> from cnnlab.train.snapshots import load_filter_history
    >>> save_filter_gif(load_filter_history("runs/latest"), "filters.gif")
"""

from __future__ import annotations

import numpy as np

NEG, POS = np.array([33, 102, 172], np.float64), np.array([178, 24, 43], np.float64)


def _diverging(t: np.ndarray) -> np.ndarray:
    """t in [-1, 1] → RGB: blue, white at 0, red (the explainer's colour map)."""
    t = np.clip(t, -1, 1)[..., None]
    c = np.where(t < 0, NEG, POS)
    return 255 + (c - 255) * np.abs(t)


def filter_tiles(weights: np.ndarray) -> tuple[np.ndarray, str]:
    """(E, O, I, kh, kw) weights → (E, O, kh, kw, 3) uint8 tiles, on one scale per filter over all epochs."""
    w = np.asarray(weights, np.float64)
    if w.ndim != 5:
        raise ValueError(f"filter snapshots must have shape (epochs, out, in, kh, kw), got {w.shape}")
    if w.shape[2] == 3:
        f = w.transpose(0, 1, 3, 4, 2)
        lo = f.min(axis=(0, 2, 3, 4), keepdims=True)
        span = f.max(axis=(0, 2, 3, 4), keepdims=True) - lo
        rgb = 255 * (f - lo) / np.where(span > 0, span, 1.0)
        return rgb.round().astype(np.uint8), "RGB, each filter stretched to its range over the run"
    f = w[:, :, 0]
    m = np.abs(f).max(axis=(0, 2, 3), keepdims=True)
    rgb = _diverging(f / np.where(m > 0, m, 1.0))
    note = "blue < 0 < red, each filter at its largest |w| over the run"
    if w.shape[2] > 1:
        note += f"; input channel 0 of {w.shape[2]}"
    return rgb.round().astype(np.uint8), note


def frame_layout(n_filters: int, kh: int, kw: int, scale: int | None = None) -> dict:
    """Where each filter goes in a frame: ``size`` (w, h), the tile size ``tile`` (w, h) and the
    top-left corner of filter o's tile in ``corners[o]``."""
    s = scale or max(4, 72 // max(kh, kw))
    cols = int(np.ceil(np.sqrt(n_filters)))
    rows = -(-n_filters // cols)
    gap, top, pad = 6, 52, 12
    tw, th = kw * s, kh * s
    width = max(pad * 2 + cols * (tw + gap) - gap, 400)
    left = (width - (cols * (tw + gap) - gap)) // 2
    corners = [(left + (o % cols) * (tw + gap), top + (o // cols) * (th + gap)) for o in range(n_filters)]
    return {"size": (width, top + rows * (th + gap) - gap + pad), "tile": (tw, th), "corners": corners, "pad": pad}


def filter_frames(history, scale: int | None = None) -> list:
    """One PIL image per snapshot: a title, the epoch, and the filters on a square-ish grid."""
    from PIL import Image, ImageDraw

    from .stepper_render import _font

    tiles, note = filter_tiles(history.weights)
    E, O, kh, kw = tiles.shape[:4]
    lay = frame_layout(O, kh, kw, scale)
    (tw, th), pad = lay["tile"], lay["pad"]
    big, small = _font(15), _font(12)
    frames = []
    last = history.epochs[-1]
    for k, epoch in enumerate(history.epochs):
        img = Image.new("RGB", lay["size"], (255, 255, 255))
        d = ImageDraw.Draw(img)
        when = "initialisation" if epoch == 0 else f"after epoch {epoch} of {last}"
        d.text((pad, 8), f"{history.layer}: {O} filters of {kh}×{kw}, {when}", fill=(20, 20, 20), font=big)
        d.text((pad, 30), note, fill=(100, 100, 100), font=small)
        for o, (x0, y0) in enumerate(lay["corners"]):
            img.paste(Image.fromarray(tiles[k, o]).resize((tw, th), Image.NEAREST), (x0, y0))
            d.rectangle([x0 - 1, y0 - 1, x0 + tw, y0 + th], outline=(190, 190, 190))
        frames.append(img)
    return frames


def save_filter_gif(history, path: str, duration_ms: int = 700, hold_last_ms: int = 2000) -> str:
    """Write the animation (looping; the last frame held longer) and return ``path``."""
    frames = filter_frames(history)
    durations = [duration_ms] * (len(frames) - 1) + [hold_last_ms]
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   disposal=1)
    return path
