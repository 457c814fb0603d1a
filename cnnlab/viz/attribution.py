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
TITLES = {"saliency": "Saliency", "input-x-gradient": "Input x gradient",
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
    """A window of about 1/7 of the image (4x4 on 28x28) and half of it as stride, all channels."""
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
            note = f"layer {name} ({cam.shape[1]}x{cam.shape[2]})"
            a = at.upsample(cam, x.shape[1:])
        elif method == "occlusion":
            window, stride = occlusion_window(x.shape)
            a = at.occlusion(model, batch, target, window=window, stride=stride)
            note = f"window {window[1]}x{window[2]}, stride {stride[1]}"
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
    """uint8 (H, W) or (H, W, 3) → float RGB in [0, 1]."""
    g = image.astype(np.float32) / 255
    return np.repeat(g[..., None], 3, axis=2) if g.ndim == 2 else g


def heat_rgb(m: AttributionMap) -> np.ndarray:
    """The map alone, colour-coded (H, W, 3)."""
    import matplotlib

    cmap, vmin, vmax = _norm(m)
    return matplotlib.colormaps[cmap]((m.values - vmin) / (vmax - vmin))[..., :3]


def overlay_rgb(image: np.ndarray, m: AttributionMap, alpha: float = 0.7) -> np.ndarray:
    """The input, dimmed, with the map over it: opaque where the map is strong, clear where it is weak."""
    _, vmin, vmax = _norm(m)
    strength = np.clip(np.abs(m.values) / max(abs(vmin), vmax), 0, 1) ** 0.5
    a = (alpha * strength)[..., None]
    return (1 - a) * 0.75 * _gray(image) + a * heat_rgb(m)


class Mosaic:
    """Panels of one size laid out on a grid with a title band above each row, drawn as ONE
    image in one axes: a figure of dozens of panels then costs one ``imshow`` and some text,
    where an axes per panel costs ≈ 50 ms each."""

    def __init__(self, rows: int, cols: int, h: int, w: int, title_band: float = 0.3, gap: float = 0.06,
                 scale: float = 2.0, fontsize: float = 8):
        self.h, self.w, self.scale, self.fontsize, self.title = h, w, scale, fontsize, ""
        self.band, self.gap = max(2, round(title_band * h)), max(1, round(gap * w))
        self.pixels = np.ones((rows * (h + self.band), cols * (w + self.gap) - self.gap, 3), np.float32)
        self.texts: list[tuple] = []

    def origin(self, r: int, c: int) -> tuple[int, int]:
        return r * (self.h + self.band) + self.band, c * (self.w + self.gap)

    def put(self, r: int, c: int, rgb: np.ndarray, title: str = "", color="black") -> None:
        y, x = self.origin(r, c)
        self.pixels[y:y + self.h, x:x + self.w] = rgb
        if title:
            self.texts.append((x + self.w / 2, y - 0.04 * self.h, title, "center", "bottom", color))

    def text(self, r: int, c: int, dy: float, dx: float, label: str, **kw) -> None:
        y, x = self.origin(r, c)
        self.texts.append((x + dx * self.w, y + dy * self.h, label, kw.get("ha", "left"), "center",
                           kw.get("color", "black")))

    def panel(self, r: int, c: int) -> np.ndarray:
        y, x = self.origin(r, c)
        return self.pixels[y:y + self.h, x:x + self.w]

    def labels(self) -> list[str]:
        return [t[2] for t in self.texts]

    def save(self, path: str) -> str:
        """Write the mosaic as a PNG (:meth:`to_image`); returns the path."""
        import os

        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self.to_image().save(path)
        return path

    def _repr_png_(self) -> bytes:
        """Jupyter shows a mosaic a cell returns as this PNG."""
        import io

        buf = io.BytesIO()
        self.to_image().save(buf, format="png")
        return buf.getvalue()

    def to_image(self):
        """The mosaic as a Pillow image, ``scale`` x 100 pixels per panel width (nearest-neighbour,
        so every input pixel stays a crisp square), titles drawn with Pillow's FreeType font:
        no matplotlib figure, whose import alone costs ≈ 0.4 s of a figure's 2 s budget."""
        import textwrap

        from PIL import Image, ImageDraw

        f = max(1, round(self.scale * 100 / self.w))
        px = max(8, round(self.fontsize * 100 / 72))
        font, big = _font(px), _font(round(px * 1.25))
        body = np.repeat(np.repeat(np.clip(self.pixels, 0, 1), f, axis=0), f, axis=1)
        chars = max(20, int(body.shape[1] / (0.55 * px * 1.25)))
        title = [line for part in self.title.split("\n") for line in textwrap.wrap(part, chars)]
        top = round(len(title) * px * 1.25 * 1.3 + px)
        canvas = Image.new("RGB", (body.shape[1], body.shape[0] + top), "white")
        canvas.paste(Image.fromarray((body * 255 + 0.5).astype(np.uint8)), (0, top))
        draw = ImageDraw.Draw(canvas)
        for i, line in enumerate(title):
            draw.text((canvas.width / 2, px * 0.6 + i * px * 1.25 * 1.3), line, fill="black", font=big, anchor="ma")
        for x, y, label, ha, va, color in self.texts:
            lines = label.split("\n")
            step = px * 1.25
            # the block's last line sits on y ("bottom") or the block is centred on y
            y0 = top + y * f - (len(lines) - 1) * step if va == "bottom" else top + y * f - (len(lines) - 1) * step / 2
            for k, line in enumerate(lines):
                draw.text((x * f, y0 + k * step), line, fill=_COLOURS.get(color, color), font=font,
                          anchor=("m" if ha == "center" else "l") + ("d" if va == "bottom" else "m"))
        return canvas


_COLOURS = {"tab:red": (214, 39, 40), "tab:blue": (31, 119, 180)}


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _bars(mosaic: Mosaic, r: int, c: int, probs: np.ndarray, classes, target: int) -> None:
    """The five most probable classes as bars, labelled (red: the target, blue: the prediction)."""
    pred = int(np.argmax(probs))
    panel = np.ones((mosaic.h, mosaic.w, 3), np.float32)
    top = np.argsort(-probs, kind="stable")[:5]
    slot = mosaic.h / 5
    for i, k in enumerate(top):
        colour = (0.84, 0.15, 0.16) if k == target else (0.12, 0.47, 0.71) if k == pred else (0.75, 0.75, 0.75)
        y0, y1 = round(i * slot + 0.55 * slot), round((i + 1) * slot - 0.05 * slot)
        x0 = round(0.02 * mosaic.w)
        panel[y0:max(y1, y0 + 1), x0:x0 + max(1, round(probs[k] * (mosaic.w - x0)))] = colour
        mosaic.text(r, c, (i + 0.3) / 5, 0.02, f"{classes[k]}  {probs[k]:.2f}")
    mosaic.put(r, c, panel, "top-5 probabilities")


def plot_attributions(image, maps, probs, classes, path: str, **kw) -> str:
    """Draw :func:`attribution_mosaic` to ``path``."""
    return attribution_mosaic(image, maps, probs, classes, **kw).save(path)


def attribution_mosaic(image: np.ndarray, maps: list[AttributionMap], probs: np.ndarray, classes: list[str],
                       *, target: int, label: int | None = None, title: str | None = None) -> Mosaic:
    """Input and probabilities on the left; per method a heatmap (top) and an overlay (bottom)."""
    h, w = image.shape[:2]
    mosaic = Mosaic(2, 1 + len(maps), h, w)
    pred = int(np.argmax(probs))
    mosaic.put(0, 0, _gray(image), "input" + ("" if label is None else f"\ntrue: {classes[label]}"))
    _bars(mosaic, 1, 0, probs, classes, target)
    for j, m in enumerate(maps, start=1):
        _, _, vmax = _norm(m)
        mosaic.put(0, j, heat_rgb(m), f"{TITLES[m.method]}\n{m.note or ('max ' + format(vmax, '.2g'))}")
        mosaic.put(1, j, overlay_rgb(image, m), "over the input")
    head = title or "Why did the model decide?"
    which = "the predicted class" if target == pred else "target"
    mosaic.title = (f"{head}\npredicted {classes[pred]} ({probs[pred]:.2f}); maps for {which} "
                    f"{classes[target]} ({probs[target]:.2f})")
    return mosaic


def plot_error_gallery(images, cams, rows, path: str, **kw) -> str:
    """Draw :func:`error_gallery_mosaic` to ``path``."""
    return error_gallery_mosaic(images, cams, rows, **kw).save(path)


def error_gallery_mosaic(images: np.ndarray, cams: np.ndarray, rows: list[dict], *, title: str,
                         per_row: int = 4) -> Mosaic:
    """Each image twice, plain and with the Grad-CAM of its predicted class over it, labelled
    with true class, prediction, its probability and the loss (red when misclassified)."""
    h, w = images.shape[1:3]
    lines = max(1, -(-len(rows) // per_row))
    mosaic = Mosaic(lines, 2 * per_row, h, w, title_band=0.45, scale=1.25, fontsize=7)
    mosaic.title = title
    for i, (img, cam, row) in enumerate(zip(images, cams, rows)):
        r, c = divmod(i, per_row)
        wrong = row["true"] != row["predicted"]
        mosaic.put(r, 2 * c, _gray(img), f"#{row['index']} true {row['true_name']}\npred {row['predicted_name']} "
                                         f"{row['probability']:.2f}", color="tab:red" if wrong else "black")
        # ReLU(Σ w_k A_k) can be 0 everywhere: say so rather than show a blank overlay
        mosaic.put(r, 2 * c + 1, overlay_rgb(img, AttributionMap("grad-cam", cam)),
                   f"Grad-CAM{'' if cam.max() > 0 else ' (all 0)'}\nloss {row['loss']:.2f}")
    return mosaic
