"""Loading images for the teaching tools: files through Pillow, sample photos from scikit-image.

Every command of ``cnnlab.viz`` works on a plain ``uint8`` array, ``(H, W)`` for grayscale
or ``(H, W, 3)`` for colour, as the lecture's "images are numbers" slides show them.
"""

from __future__ import annotations

import os

import numpy as np

# scikit-image ships these photos inside the package (no download), so every command has a
# default image to work on, even offline.
SAMPLE_IMAGES = ("camera", "astronaut", "coffee", "chelsea", "coins", "rocket")


def sample_image(name: str) -> np.ndarray:
    """One of scikit-image's sample photos (``camera``, ``astronaut``, ``coffee``...).

    Example:
        >>> sample_image("camera").shape
        (512, 512)
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"unknown sample image {name!r}; valid names: {', '.join(SAMPLE_IMAGES)}")
    import importlib.util

    # The photos ship as files inside scikit-image; reading them with Pillow directly skips
    # importing skimage.data (≈0.5 s), which matters for the 2 s per figure budget.
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.submodule_search_locations:
        for ext in ("png", "jpg"):
            path = os.path.join(list(spec.submodule_search_locations)[0], "data", f"{name}.{ext}")
            if os.path.exists(path):
                from PIL import Image

                with Image.open(path) as img:
                    return np.asarray(img.convert("L" if img.mode in ("L", "1") else "RGB"), dtype=np.uint8)
    import skimage.data

    return np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)


def load_image(source: str, gray: bool = False) -> np.ndarray:
    """Read an image file, or a sample photo by name, as a ``uint8`` array.

    Args:
        source: a path to an image file Pillow can read, or a sample name (``camera``;
            ``sample:camera`` also works).
        gray: convert to one channel with Pillow's ITU-R 601 luma (``L`` mode).

    Shape:
        ``(H, W)`` for grayscale (or ``gray=True``), ``(H, W, 3)`` for colour.

    Raises:
        ValueError: the file is missing, not an image, or has 16/32-bit pixels (which 8 bits
            would clip); the message names the file.
    """
    from PIL import Image

    from ..inspect import check_bit_depth

    name = source[len("sample:"):] if source.startswith("sample:") else source
    if not os.path.exists(source) and (source.startswith("sample:") or name in SAMPLE_IMAGES):
        img = Image.fromarray(sample_image(name))
    else:
        if not os.path.exists(source):
            raise ValueError(
                f"cannot read image {source!r}: no such file (sample images: {', '.join(SAMPLE_IMAGES)})"
            )
        try:
            img = Image.open(source)
            img.load()
        except Exception as e:  # Pillow raises several types for broken or non-image files
            raise ValueError(f"cannot read image {source!r}: {type(e).__name__}: {e}") from None
    # 16/32-bit pixels would be clipped to 8 bits: refused, as `cnnlab predict` refuses them
    check_bit_depth(img, source, into="8 bits")
    if gray:
        img = img.convert("L")
    elif img.mode not in ("L", "RGB"):
        # Palette, alpha and CMYK images become plain 8-bit RGB (or L for 1-bit).
        img = img.convert("L" if img.mode == "1" else "RGB")
    return np.asarray(img, dtype=np.uint8)


def parse_crop(text: str) -> tuple[int, int, int, int]:
    """Parse ``"x,y,w,h"`` into four ints; a clear error shows what was received."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"--crop: expected four integers x,y,w,h, got {text!r}") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise ValueError(f"--crop: x and y must be >= 0 and w, h > 0, got x={x}, y={y}, w={w}, h={h}")
    return x, y, w, h


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``image[y:y+h, x:x+w]``, refusing a box that leaves the image."""
    x, y, w, h = box
    H, W = image.shape[:2]
    if x + w > W or y + h > H:
        raise ValueError(
            f"crop x={x}, y={y}, w={w}, h={h} leaves the image of width {W} and height {H}"
        )
    return image[y:y + h, x:x + w]


def center_box(image: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    """The ``(x, y, w, h)`` box of size at most ``w×h`` centred in ``image``."""
    H, W = image.shape[:2]
    w, h = min(w, W), min(h, H)
    return (W - w) // 2, (H - h) // 2, w, h


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 image to ``(H, W)`` with Pillow's bilinear filter (anti-aliased)."""
    from PIL import Image

    h, w = size
    return np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR), dtype=np.uint8)
