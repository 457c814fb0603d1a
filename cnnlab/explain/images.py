"""Uploaded images: refuse what is too large BEFORE decoding (fitting them to the model's input
is :func:`cnnlab.inspect.to_model_input`'s job, as for every other image).

A PNG of a few kilobytes can declare 50,000 × 50,000 pixels and expand to gigabytes when
decoded (a decompression bomb). So the upload's byte size is checked first, then Pillow is
asked only for the header (``Image.open`` is lazy), and the declared width × height is checked
against a pixel limit before any pixel data is read. ``Image.MAX_IMAGE_PIXELS`` is also set,
so Pillow itself refuses anything bigger should another code path decode an image.

Example:
    >>> img = decode_upload(open("digit.png", "rb").read())
    >>> mi = cnnlab.inspect.to_model_input(img, info, invert="auto", transparency="flatten", fit="crop")
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


def png_data_url(arr: np.ndarray) -> str:
    """A small PNG data URL of a uint8 (H, W) or (H, W, 3) array, for the gallery."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
