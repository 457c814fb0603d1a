"""Geometric transforms: ``RandomCrop``, ``RandomHorizontalFlip``, ``Resize``, ``CenterCrop``.

Each accepts a PIL image, an ``(H, W[, C])`` array or a ``(..., C, H, W)`` Tensor and returns
the same kind. Random draws come from cnnlab's global generator (``cnnlab.manual_seed``).
"""

from __future__ import annotations

import numpy as np

from .. import random as _random
from .._tensor import from_numpy
from . import _functional as F


class RandomCrop:
    """Crop a random ``size`` window, after optionally padding the borders.

    Args:
        size: output (h, w), or an int for a square.
        padding: pixels added to each border first: an int, (left/right, top/bottom) or
            (left, top, right, bottom). Default None.
        pad_if_needed: pad an image smaller than ``size`` so the crop fits (default False).
        fill: value of constant padding (default 0).
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.

    Shape:
        (H, W) image → (h, w); the window's top-left is uniform in
        [0, H + top + bottom - h] × [0, W + left + right - w].

    Example:
        >>> RandomCrop(32, padding=4)(img)  # the CIFAR-10 augmentation
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant"):
        self.size = F.pair(size, "RandomCrop")
        self.padding = None if padding is None else F.padding4(padding, "RandomCrop")
        if padding_mode not in F.PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {F.PAD_MODES}, got {padding_mode!r}")
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _padded_size(self, h: int, w: int) -> tuple[int, int, tuple]:
        ltrb = list(self.padding or (0, 0, 0, 0))
        th, tw = self.size
        if self.pad_if_needed:
            hh, ww = h + ltrb[1] + ltrb[3], w + ltrb[0] + ltrb[2]
            if ww < tw:
                ltrb[0] += tw - ww
                ltrb[2] += tw - ww
            if hh < th:
                ltrb[1] += th - hh
                ltrb[3] += th - hh
        h2, w2 = h + ltrb[1] + ltrb[3], w + ltrb[0] + ltrb[2]
        if h2 < th or w2 < tw:
            raise ValueError(
                f"RandomCrop(size={self.size}): required crop size is larger than the (padded) input image "
                f"of size {(h2, w2)}"
            )
        return h2, w2, tuple(ltrb)

    def __call__(self, img):
        h, w = F.image_size(img)
        h2, w2, ltrb = self._padded_size(h, w)
        if any(ltrb):
            img = F.pad_image(img, ltrb, self.padding_mode, self.fill)
        th, tw = self.size
        rng = _random.default_generator()
        i = int(rng.integers(0, h2 - th + 1))
        j = int(rng.integers(0, w2 - tw + 1))
        return F.crop(img, i, j, th, tw)

    def batch(self, x: np.ndarray, chw: bool) -> tuple[np.ndarray, bool]:
        """Each image gets its own window: one gather with fancy indexing, no loop."""
        ha = F.batch_hw_axis(chw)
        h2, w2, ltrb = self._padded_size(x.shape[ha], x.shape[ha + 1])
        if any(ltrb):
            x = F.pad_array(x, ltrb, ha, self.padding_mode, self.fill)
        th, tw = self.size
        n = x.shape[0]
        rng = _random.default_generator()
        tops = rng.integers(0, h2 - th + 1, size=n)
        lefts = rng.integers(0, w2 - tw + 1, size=n)
        rows = (tops[:, None] + np.arange(th))[:, :, None]  # (N, th, 1)
        cols = (lefts[:, None] + np.arange(tw))[:, None, :]  # (N, 1, tw)
        nn = np.arange(n)[:, None, None]
        if chw:  # (N, C, H, W): advanced indices split by a slice → result (N, th, tw, C)
            return np.ascontiguousarray(x[nn, :, rows, cols].transpose(0, 3, 1, 2)), chw
        return x[nn, rows, cols], chw

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p`` (default 0.5)."""

    def __init__(self, p: float = 0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must lie in [0, 1], got {p}")
        self.p = p

    def __call__(self, img):
        if _random.default_generator().random() >= self.p:
            return img
        if F.is_pil(img):
            from PIL import Image

            return img.transpose(Image.FLIP_LEFT_RIGHT)
        arr, kind = F.to_array(img)
        axis = -1 if kind == "tensor" else 1
        return F.from_array(np.flip(arr, axis=axis), kind)

    def batch(self, x: np.ndarray, chw: bool) -> tuple[np.ndarray, bool]:
        flip = _random.default_generator().random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = np.flip(x[flip], axis=3 if chw else 2)  # the W axis of (N, C, H, W) or (N, H, W[, C])
        return out, chw

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


def _pil_filter(name: str):
    from PIL import Image

    return getattr(Image.Resampling, name.upper())


class Resize:
    """Resize with Pillow.

    Args:
        size: (h, w), or an int: the smaller edge becomes ``size``, keeping the aspect ratio
            (the longer edge is ``int(size * long / short)``, as torchvision).
        interpolation: one of ``'nearest'``, ``'bilinear'`` (default), ``'bicubic'``,
            ``'lanczos'``, ``'box'``, ``'hamming'``.

    Tensors and float arrays are resized channel by channel in Pillow's float mode ``'F'``.

    Example:
        >>> Resize((28, 28))(Image.open("digit.png")).size
        (28, 28)
    """

    def __init__(self, size, interpolation: str = "bilinear", max_size=None, antialias=True):
        self.size = size if isinstance(size, int) else F.pair(size, "Resize")
        interp = str(getattr(interpolation, "value", interpolation)).lower()
        if interp not in _INTERPOLATIONS:
            raise ValueError(f"Resize: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
        self.interpolation = interp
        self.max_size = max_size

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        if not isinstance(self.size, int):
            return self.size
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = self.size, int(self.size * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)

    def __call__(self, img):
        from PIL import Image

        h, w = F.image_size(img)
        oh, ow = self.output_size(h, w)
        resample = _pil_filter(self.interpolation)
        if F.is_pil(img):
            return img.resize((ow, oh), resample)
        arr, kind = F.to_array(img)
        if arr.dtype == np.uint8 and kind == "array" and arr.ndim in (2, 3) and (arr.ndim == 2 or arr.shape[2] in (1, 3, 4)):
            squeeze = arr.ndim == 3 and arr.shape[2] == 1
            out = np.asarray(Image.fromarray(arr[..., 0] if squeeze else arr).resize((ow, oh), resample))
            return out[..., None] if squeeze else out
        # Float data: resize each 2-D plane in mode 'F' so values are not clipped to 8 bits.
        planes = arr if kind == "tensor" else np.moveaxis(arr.reshape(h, w, -1), -1, 0)
        lead = planes.shape[:-2]
        flat = planes.reshape(-1, h, w).astype(np.float32)
        out = np.stack([np.asarray(Image.fromarray(p, mode="F").resize((ow, oh), resample)) for p in flat])
        out = out.reshape(*lead, oh, ow).astype(arr.dtype if arr.dtype.kind == "f" else np.float32)
        if kind == "tensor":
            return from_numpy(out)
        return np.moveaxis(out, 0, -1).reshape((oh, ow) + arr.shape[2:])

    def __repr__(self) -> str:
        return f"Resize(size={self.size}, interpolation={self.interpolation})"


class CenterCrop:
    """Crop the centre ``size`` window; an image smaller than ``size`` is padded with zeros first.

    The window's top-left is ``(round((H - h) / 2), round((W - w) / 2))``, as torchvision.
    """

    def __init__(self, size):
        self.size = F.pair(size, "CenterCrop")

    def __call__(self, img):
        h, w = F.image_size(img)
        th, tw = self.size
        if th > h or tw > w:
            ltrb = ((tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                    (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0)
            img = F.pad_image(img, ltrb, "constant", 0)
            h, w = F.image_size(img)
            if (h, w) == (th, tw):
                return img
        top = int(round((h - th) / 2.0))
        left = int(round((w - tw) / 2.0))
        return F.crop(img, top, left, th, tw)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"
