"""Uploaded images: refuse what is too large BEFORE decoding, then fit to the model's input.

A PNG of a few kilobytes can declare 50,000 × 50,000 pixels and expand to gigabytes when
decoded (a decompression bomb). So the upload's byte size is checked first, then Pillow is
asked only for the header (``Image.open`` is lazy), and the declared width × height is checked
against a pixel limit before any pixel data is read. ``Image.MAX_IMAGE_PIXELS`` is also set,
so Pillow itself refuses anything bigger should another code path decode an image.

Example:
    >>> img = decode_upload(open("digit.png", "rb").read())
    >>> x, steps = to_model_input(img, (1, 28, 28), dark_background=True)
"""

from __future__ import annotations

import base64
import io

import numpy as np

from .errors import ExplainError

MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
ALLOWED_FORMATS = ("PNG", "JPEG")


def decode_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS):
    """Check size, format and declared dimensions, then decode; returns a loaded PIL image.

    Raises:
        ExplainError: 413 when the file or its declared pixel count is too large, 415 when it
            is not a PNG or JPEG (or cannot be decoded).
    """
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels
    if not data:
        raise ExplainError("the upload is empty; send a PNG or JPEG file", 400)
    if len(data) > max_bytes:
        raise ExplainError(f"the upload has {len(data):,} bytes; the limit is {max_bytes:,} bytes", 413)
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError as e:
        raise ExplainError(f"image refused before decoding: {e}", 413) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ExplainError("the upload is not an image that can be read; send a PNG or JPEG file", 415) from None
    if img.format not in ALLOWED_FORMATS:
        raise ExplainError(f"the upload is a {img.format} image; only PNG and JPEG are accepted", 415)
    w, h = img.size
    if w <= 0 or h <= 0 or w * h > max_pixels:
        raise ExplainError(
            f"image refused before decoding: it declares {w} × {h} = {w * h:,} pixels; "
            f"the limit is {max_pixels:,}", 413)
    try:
        img.load()
    except Image.DecompressionBombError as e:
        raise ExplainError(f"image refused: {e}", 413) from None
    except (OSError, ValueError, SyntaxError) as e:
        raise ExplainError(f"the {img.format} file is damaged and cannot be decoded: {e}", 415) from None
    return img


def to_model_input(img, input_shape, dark_background: bool = True, normalize=None):
    """Convert a PIL image to a float32 (C, H, W) model input, and say what was done.

    Args:
        img: a decoded PIL image, any mode and size.
        input_shape: the model's (C, H, W); C must be 1 (grayscale) or 3 (RGB).
        dark_background: the training images are light strokes on black (MNIST): a grayscale
            upload with a light border is inverted to match.
        normalize: optional ``(mean, std)`` per channel, applied after scaling to [0, 1].

    Returns:
        ``(x, steps)``: the array and a list of sentences describing each step.
    """
    from PIL import Image, ImageOps

    C, H, W = input_shape
    steps = [f"decoded a {img.format or 'image'} of {img.size[0]} × {img.size[1]} pixels, mode {img.mode}"]
    transposed = ImageOps.exif_transpose(img)
    if transposed.size != img.size:
        steps.append("rotated as the photo's EXIF orientation says")
    img = transposed
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(base, rgba)
        steps.append("flattened the transparency onto white")
    mode = "L" if C == 1 else "RGB"
    if img.mode != mode:
        img = img.convert(mode)
        steps.append("converted to grayscale" if mode == "L" else "converted to RGB")
    w, h = img.size
    side = min(w, h)
    if w != h:
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
        steps.append(f"cropped the centre square {side} × {side} (the model's input is square)")
    if (W, H) != img.size:
        img = img.resize((W, H), Image.Resampling.LANCZOS if hasattr(Image, "Resampling") else Image.LANCZOS)
        steps.append(f"resized to {W} × {H} pixels")
    arr = np.asarray(img, dtype=np.float32) / 255.0
    steps.append("scaled pixel values from 0–255 to 0–1")
    if C == 1 and dark_background:
        border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
        if border.mean() > 0.5:
            arr = 1.0 - arr
            steps.append("inverted (light background → dark), because the training images "
                         "are light strokes on a dark background")
    x = arr[None] if C == 1 else arr.transpose(2, 0, 1)
    x = apply_normalize(x, normalize)
    if normalize is not None:
        steps.append(f"normalised with mean {normalize[0]} and std {normalize[1]}, as in training")
    return np.ascontiguousarray(x, dtype=np.float32), steps


def apply_normalize(x: np.ndarray, normalize) -> np.ndarray:
    """(x − mean) / std per channel; ``normalize`` is None or ``(mean, std)``."""
    if normalize is None:
        return x
    mean = np.asarray(normalize[0], np.float32).reshape(-1, 1, 1)
    std = np.asarray(normalize[1], np.float32).reshape(-1, 1, 1)
    return (x - mean) / std


def png_data_url(arr: np.ndarray) -> str:
    """A small PNG data URL of a uint8 (H, W) or (H, W, 3) array, for the gallery."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
