"""Turn an image file into a model input, converting only when it is safe.

Safe: colour ↔ grayscale (luminance, or gray copied into three channels), palette images,
resizing with Pillow when the aspect ratio stays within 25% of the model's. Refused with a
message saying what to do: 16/32-bit images (converting to 8 bits would clip them), images with
transparent pixels (the background they would get is a guess) and large aspect-ratio changes
(the resize would distort the picture).
"""

from __future__ import annotations

import os

import numpy as np

MAX_ASPECT_CHANGE = 1.25
_HIGH_DEPTH = ("I", "F", "I;16", "I;16B", "I;16L", "I;16N")


def load_image(path: str | os.PathLike, image_shape, *, invert: bool = False) -> np.ndarray:
    """Read ``path`` as a uint8 array of ``image_shape`` = (C, H, W), C ∈ {1, 3}.

    Args:
        path: a PNG/JPEG/... file Pillow can read.
        image_shape: the model's image geometry, e.g. ``(1, 28, 28)``.
        invert: flip intensities (255 − v): Fashion-MNIST and MNIST are light objects on a
            black background, most photos are the opposite.

    Returns:
        uint8 array of shape (H, W) for one channel or (H, W, 3), as the datasets store images.

    Raises:
        ValueError: the file is not a readable image or cannot be converted safely.
    """
    from PIL import Image, UnidentifiedImageError

    c, h, w = (int(v) for v in image_shape)
    name = str(path)
    try:
        with Image.open(path) as im:
            im.load()
            img = im.copy()
    except FileNotFoundError:
        raise FileNotFoundError(f"image file {name!r} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"cannot read image file {name!r}: {e}") from None
    if img.mode in _HIGH_DEPTH:
        raise ValueError(
            f"image {name!r} has {img.mode} pixels (16/32-bit); converting them to the model's 8-bit "
            "range would clip or rescale them unpredictably. Save it as an 8-bit PNG or JPEG first."
        )
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        alpha = np.asarray(img.getchannel("A"))
        if alpha.min() < 255:
            raise ValueError(
                f"image {name!r} has transparent pixels; the background they would get is a guess. "
                "Flatten it onto the background you mean (e.g. black for Fashion-MNIST) first."
            )
    img = img.convert("L" if c == 1 else "RGB")
    if img.size != (w, h):
        ratio = (img.size[0] / img.size[1]) / (w / h)
        change = max(ratio, 1 / ratio)
        if change > MAX_ASPECT_CHANGE:
            raise ValueError(
                f"image {name!r} is {img.size[0]}x{img.size[1]} but the model takes {w}x{h}; resizing "
                f"would stretch it by {change:.2f}x. Crop it to a {w}:{h} aspect ratio first."
            )
        img = img.resize((w, h), Image.Resampling.LANCZOS)
    arr = np.asarray(img, dtype=np.uint8)
    if invert:
        arr = 255 - arr
    return arr


def topk(probabilities: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` most probable classes, best first, as ``(index, probability)``."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    k = max(1, min(int(k), p.size))
    order = np.argsort(-p, kind="stable")[:k]
    return [(int(i), float(p[i])) for i in order]


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
