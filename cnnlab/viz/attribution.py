"""Figures of "why did the model decide?": attribution maps as heatmaps and as overlays on the
input, with the class probabilities; and a gallery of a model's worst mistakes with the Grad-CAM
of what it predicted. The maps come from :mod:`cnnlab.attribution`; this module only draws.

Example:
    >>> maps = attribution_maps(model, x, target=9, methods=METHODS, layer="conv2")
    >>> plot_attributions(image, maps, probs, classes, "why.png", target=9)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("saliency", "input-x-gradient", "integrated-gradients", "smoothgrad", "grad-cam", "occlusion")
SIGNED = {"input-x-gradient", "integrated-gradients", "occlusion"}
TITLES = {"saliency": "Saliency", "input-x-gradient": "Input × gradient",
          "integrated-gradients": "Integrated gradients", "smoothgrad": "SmoothGrad",
          "grad-cam": "Grad-CAM", "occlusion": "Occlusion"}


@dataclass
class AttributionMap:
    """One method's map for one input, reduced to (H, W) for display."""

    method: str
    values: np.ndarray        # (H, W): signed maps summed over channels, others their channel max
    note: str = ""            # a line under the title (IG's completeness error, Grad-CAM's layer...)
    error: float | None = None  # integrated gradients' completeness gap

    @property
    def signed(self) -> bool:
        return self.method in SIGNED


def default_layer(model, x: np.ndarray) -> str:
    """The last convolution layer that runs, for Grad-CAM (its name as in ``named_modules()``)."""
    from ..inspect import trace

    convs = [r.name for r in trace(model, x[None]) if r.kind == "Conv2d" and r.output.ndim == 4]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no convolution layer; Grad-CAM needs one (use --method "
                         "saliency, integrated-gradients, ... instead)")
    return convs[-1]


def occlusion_window(shape) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A window of about 1/7 of the image (4×4 on 28×28) and half of it as stride, all channels."""
    c, h, w = shape
    win = (c, max(2, round(h / 7)), max(2, round(w / 7)))
    return win, (c, max(1, win[1] // 2), max(1, win[2] // 2))


def attribution_maps(model, x: np.ndarray, target: int, methods=METHODS, layer=None,
                     steps: int = 50, samples: int = 25, seed: int = 0) -> list[AttributionMap]:
    """Each method's map of one input ``x`` (C, H, W) for class ``target``."""
    from .. import attribution as at

    batch = x[None]
    maps = []
    for method in methods:
        note, error = "", None
        if method == "saliency":
            a = at.saliency(model, batch, target)
        elif method == "input-x-gradient":
            a = at.input_x_gradient(model, batch, target)
        elif method == "integrated-gradients":
            a, gap = at.integrated_gradients(model, batch, target, steps=steps, return_error=True)
            error = float(gap.numpy()[0])
            note = f"{steps} steps, completeness error {error:+.2g}"
        elif method == "smoothgrad":
            a = at.smoothgrad(model, batch, target, samples=samples, generator=seed)
            note = f"{samples} samples, noise 15%"
        elif method == "grad-cam":
            name = layer or default_layer(model, x)
            cam = at.grad_cam(model, batch, target, name)
            note = f"layer {name} ({cam.shape[1]}×{cam.shape[2]})"
            a = at.upsample(cam, x.shape[1:])
        elif method == "occlusion":
            window, stride = occlusion_window(x.shape)
            a = at.occlusion(model, batch, target, window=window, stride=stride)
            note = f"window {window[1]}×{window[2]}, stride {stride[1]}"
        else:
            raise ValueError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")
        v = a.numpy()[0]
        if v.ndim == 3:
            v = v.sum(axis=0) if method in SIGNED else v.max(axis=0)
        maps.append(AttributionMap(method, v, note, error))
    return maps


def _norm(m: AttributionMap):
    """``(cmap, vmin, vmax)``: signed maps symmetric around 0 in red/blue, others from 0."""
    top = float(np.abs(m.values).max()) or 1.0
    return ("RdBu_r", -top, top) if m.signed else ("inferno", 0.0, top)


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else image.mean(axis=2)


def draw_overlay(ax, image: np.ndarray, m: AttributionMap, alpha: float = 0.55) -> None:
    """The input in gray with the map over it (transparent where the map is weak)."""
    import matplotlib

    cmap, vmin, vmax = _norm(m)
    ax.imshow(_gray(image), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    rgba = matplotlib.colormaps[cmap]((m.values - vmin) / (vmax - vmin))
    strength = np.abs(m.values) / max(abs(vmin), vmax)
    rgba[..., 3] = alpha * np.clip(strength, 0, 1) ** 0.5
    ax.imshow(rgba, interpolation="bilinear")


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def plot_attributions(image: np.ndarray, maps: list[AttributionMap], probs: np.ndarray, classes: list[str],
                      path: str, *, target: int, label: int | None = None, title: str | None = None) -> str:
    """Input and probabilities on the left; per method a heatmap (top) and an overlay (bottom)."""
    from ._plot import new_figure, save_figure

    cols = 1 + len(maps)
    fig = new_figure(2.1 * cols + 0.6, 5.0, dpi=100, layout=None)
    fig.subplots_adjust(left=0.02, right=0.99, top=0.80, bottom=0.03, wspace=0.08, hspace=0.28)
    grid = fig.add_gridspec(2, cols)
    pred = int(np.argmax(probs))
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    _bare(ax)
    ax.set_title("input" + ("" if label is None else f"\ntrue: {classes[label]}"), fontsize=9)
    ax = fig.add_subplot(grid[1, 0])
    top = np.argsort(-probs, kind="stable")[:5][::-1]
    colors = ["tab:red" if k == target else "tab:blue" if k == pred else "0.7" for k in top]
    ax.barh(range(len(top)), probs[top], color=colors)
    ax.set_yticks(range(len(top)), [f"{classes[k]} {probs[k]:.2f}" for k in top], fontsize=7)
    ax.yaxis.tick_right()
    ax.set_xlim(0, 1)
    ax.set_xticks([])
    ax.set_title("top-5 probabilities", fontsize=8)
    for j, m in enumerate(maps, start=1):
        cmap, vmin, vmax = _norm(m)
        ax = fig.add_subplot(grid[0, j])
        ax.imshow(m.values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        _bare(ax)
        ax.set_title(f"{TITLES[m.method]}\n{m.note or ('max ' + format(vmax, '.2g'))}", fontsize=8)
        ax = fig.add_subplot(grid[1, j])
        draw_overlay(ax, image, m)
        _bare(ax)
    head = title or "Why did the model decide?"
    fig.suptitle(f"{head}\npredicted {classes[pred]} ({probs[pred]:.2f}); maps for "
                 f"{'the predicted class' if target == pred else 'target'} {classes[target]} ({probs[target]:.2f})",
                 fontsize=10)
    return save_figure(fig, path)


def plot_error_gallery(images: np.ndarray, cams: np.ndarray, rows: list[dict], path: str, *,
                       title: str, per_row: int = 4) -> str:
    """Each image twice, plain and with the Grad-CAM of its predicted class over it, labelled
    with true class, prediction, its probability and the loss."""
    from ._plot import new_figure, save_figure

    n = len(rows)
    lines = max(1, -(-n // per_row))
    fig = new_figure(2 * per_row * 1.25 + 0.2, lines * 1.75 + 0.6, dpi=100, layout=None)
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.55 / (lines * 1.75 + 0.6), bottom=0.01,
                        wspace=0.05, hspace=0.55)
    grid = fig.add_gridspec(lines, 2 * per_row)
    for i, (img, cam, row) in enumerate(zip(images, cams, rows)):
        r, c = divmod(i, per_row)
        ax = fig.add_subplot(grid[r, 2 * c])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
        _bare(ax)
        ax.set_title(f"#{row['index']} true {row['true_name']}\npred {row['predicted_name']} "
                     f"{row['probability']:.2f}", fontsize=6.5,
                     color="black" if row["true"] == row["predicted"] else "tab:red")
        ax = fig.add_subplot(grid[r, 2 * c + 1])
        draw_overlay(ax, img, AttributionMap("grad-cam", cam))
        _bare(ax)
        ax.set_title(f"Grad-CAM\nloss {row['loss']:.2f}", fontsize=6.5)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
