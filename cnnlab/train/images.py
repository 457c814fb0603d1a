"""Turn an image file into a model input, converting only when it is safe.

A thin front for ``cnnlab predict`` over :func:`cnnlab.inspect.to_model_input`, which does the
work and holds the rules: safe conversions (colour ↔ grayscale, palette images, resizing when
the aspect ratio stays within 25% of the model's) and refusals with a message saying what to
do (16/32-bit images, transparent pixels, large aspect-ratio changes).
"""

from __future__ import annotations

import os

import numpy as np

from ..inspect import MAX_ASPECT_CHANGE, RunInfo, to_model_input, top_k

__all__ = ["MAX_ASPECT_CHANGE", "load_image", "topk"]


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
    info = RunInfo(image_shape=tuple(int(v) for v in image_shape))
    return to_model_input(path, info, invert=invert).image


def topk(probabilities: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` most probable classes, best first, as ``(index, probability)``."""
    return top_k(probabilities, k)
