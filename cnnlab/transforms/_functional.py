"""Array helpers shared by the transforms: image kinds, layouts, padding and cropping.

An image reaches a transform as a PIL image, a NumPy array ``(H, W)`` / ``(H, W, C)`` or a
cnnlab Tensor ``(..., C, H, W)``; geometric transforms give back the same kind.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._tensor import Tensor, from_numpy


def is_pil(img) -> bool:
    return hasattr(img, "getbands") and hasattr(img, "mode")


def image_size(img) -> tuple[int, int]:
    """(height, width) of a PIL image, an HWC array or a CHW Tensor."""
    if is_pil(img):
        return img.size[1], img.size[0]
    if isinstance(img, Tensor):
        return tuple(img.shape[-2:])
    return tuple(np.asarray(img).shape[:2])


def hw_axes(img) -> tuple[int, int]:
    return (-2, -1) if isinstance(img, Tensor) else (0, 1)


def pair(size, name: str) -> tuple[int, int]:
    """An int or a 1/2-sequence → (h, w)."""
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{name}: `size` must be an int or a sequence of 1 or 2 ints, got {size!r}")


def padding4(padding, name: str) -> tuple[int, int, int, int]:
    """torchvision's padding forms → (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        p = int(padding)
        return p, p, p, p
    if isinstance(padding, (tuple, list)) and len(padding) in (1, 2, 4):
        p = [int(v) for v in padding]
        if len(p) == 1:
            return p[0], p[0], p[0], p[0]
        if len(p) == 2:
            return p[0], p[1], p[0], p[1]
        return p[0], p[1], p[2], p[3]
    raise ValueError(f"{name}: `padding` must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")


PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def pad_array(arr: np.ndarray, ltrb, h_axis: int, mode: str, fill=0) -> np.ndarray:
    """Pad the (h_axis, h_axis + 1) dimensions of ``arr`` by (left, top, right, bottom)."""
    left, top, right, bottom = ltrb
    widths = [(0, 0)] * arr.ndim
    h_axis %= arr.ndim
    widths[h_axis] = (top, bottom)
    widths[h_axis + 1] = (left, right)
    if mode == "constant":
        return np.pad(arr, widths, mode="constant", constant_values=fill)
    return np.pad(arr, widths, mode=mode)


def to_array(img) -> tuple[np.ndarray, str]:
    """The image as an array plus its kind ("pil", "array", "tensor")."""
    if is_pil(img):
        return np.asarray(img), "pil"
    if isinstance(img, Tensor):
        return img.detach().numpy(), "tensor"
    return np.asarray(img), "array"


def from_array(arr: np.ndarray, kind: str, like=None):
    if kind == "pil":
        from PIL import Image

        return Image.fromarray(np.ascontiguousarray(arr), mode=like.mode if like is not None and like.mode in ("L", "RGB", "RGBA") else None)
    if kind == "tensor":
        return from_numpy(np.ascontiguousarray(arr))
    return arr


def pad_image(img, ltrb, mode: str = "constant", fill=0):
    arr, kind = to_array(img)
    h_axis = -2 if kind == "tensor" else 0
    return from_array(pad_array(arr, ltrb, h_axis, mode, fill), kind, img)


def crop(img, top: int, left: int, height: int, width: int):
    """Crop ``img`` to the box at (top, left) of size (height, width)."""
    if is_pil(img):
        return img.crop((left, top, left + width, top + height))
    arr, kind = to_array(img)
    if kind == "tensor":
        return from_array(arr[..., top : top + height, left : left + width], kind)
    return arr[top : top + height, left : left + width]


def batch_hw_axis(chw: bool) -> int:
    """The height axis of a batch: (N, C, H, W) after ToTensor, (N, H, W, C) before."""
    return 2 if chw else 1
