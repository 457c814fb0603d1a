"""The lecture's challenges as a robustness lab: test accuracy under a sweep of each challenge.

Each challenge transforms uint8 dataset images (N, H, W) or (N, H, W, C) at a strength, with
scipy.ndimage for the geometry and seeded NumPy generators for anything random; strength 0 (1
for factors) returns the images unchanged, so its accuracy is the clean accuracy. The images
go back to uint8 before the run's own preprocessing, as a real picture would.

Challenges and their strengths:

============  ============================  =====================================
name          strength                      transform
============  ============================  =====================================
rotation      degrees                       ``ndimage.rotate`` about the centre (viewpoint)
scale         factor (1 = unchanged)        zoom about the centre, ``ndimage.affine_transform``
translation   pixels                        shift right and down, ``ndimage.shift``
occlusion     side of a square, pixels      a black square at a seeded random place
brightness    added intensity in [-1, 1]    ``p + b``
contrast      factor (1 = unchanged)        ``0.5 + c · (p − 0.5)``
gamma         exponent (1 = unchanged)      ``p ** g`` (illumination)
clutter       noise standard deviation      Gaussian background noise, seeded
============  ============================  =====================================
"""

from __future__ import annotations

import numpy as np

from . import inspect

SWEEPS = {
    "rotation": [0, 15, 30, 45, 60, 90],
    "scale": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5],
    "translation": [0, 2, 4, 6, 8],
    "occlusion": [0, 4, 8, 12, 16],
    "brightness": [0.0, 0.1, 0.2, 0.3, 0.4],
    "contrast": [1.0, 0.8, 0.6, 0.4, 0.2],
    "gamma": [1.0, 1.5, 2.0, 3.0, 4.0],
    "clutter": [0.0, 0.1, 0.2, 0.3, 0.5],
}
IDENTITY = {"scale": 1.0, "contrast": 1.0, "gamma": 1.0}


def _spatial(fn, x: np.ndarray) -> np.ndarray:
    """Apply ``fn`` to every (H, W) plane of (N, H, W) or (N, H, W, C) floats."""
    out = np.empty_like(x)
    for n in range(len(x)):
        if x.ndim == 3:
            out[n] = fn(x[n])
        else:
            for c in range(x.shape[3]):
                out[n, ..., c] = fn(x[n, ..., c])
    return out


def transform(images: np.ndarray, challenge: str, strength: float, seed: int = 0) -> np.ndarray:
    """``images`` (uint8, (N, H, W) or (N, H, W, C)) under one challenge at one strength."""
    from scipy import ndimage

    if challenge not in SWEEPS:
        raise ValueError(f"robustness: challenge must be one of {', '.join(SWEEPS)}, got {challenge!r}")
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(f"robustness: images must be uint8 (N, H, W) or (N, H, W, C), got {images.dtype} {images.shape}")
    if strength == IDENTITY.get(challenge, 0):
        return images.copy()
    s = float(strength)
    if challenge == "scale" and s <= 0:
        raise ValueError(f"robustness: scale must be > 0, got {strength}")
    p = images.astype(np.float64) / 255.0
    h, w = images.shape[1:3]
    rng = np.random.default_rng(seed)
    if challenge == "rotation":
        p = _spatial(lambda a: ndimage.rotate(a, s, reshape=False, order=1, mode="constant", cval=0.0), p)
    elif challenge == "scale":
        centre = np.array([(h - 1) / 2, (w - 1) / 2])
        # output pixel o samples input at centre + (o - centre) / s: a zoom by s about the centre
        p = _spatial(lambda a: ndimage.affine_transform(a, np.eye(2) / s, offset=centre - centre / s, order=1,
                                                        mode="constant", cval=0.0), p)
    elif challenge == "translation":
        p = _spatial(lambda a: ndimage.shift(a, (s, s), order=1, mode="constant", cval=0.0), p)
    elif challenge == "occlusion":
        k = int(round(s))
        if not 0 <= k <= min(h, w):
            raise ValueError(f"robustness: occlusion size must be in 0..{min(h, w)}, got {strength}")
        for n in range(len(p)):
            r, c = rng.integers(0, h - k + 1), rng.integers(0, w - k + 1)
            p[n, r:r + k, c:c + k] = 0.0
    elif challenge == "brightness":
        p = p + s
    elif challenge == "contrast":
        p = 0.5 + s * (p - 0.5)
    elif challenge == "gamma":
        p = p ** s
    elif challenge == "clutter":
        p = p + s * rng.standard_normal(p.shape)
    return np.rint(np.clip(p, 0.0, 1.0) * 255).astype(np.uint8)


def sweep(model, info, images, labels, challenge: str, strengths=None, *, seed: int = 0,
          batch_size: int = 256) -> list[float]:
    """Test accuracy of ``model`` on ``(images, labels)`` at each strength of ``challenge``.

    Args:
        info: the run's :class:`cnnlab.inspect.RunInfo` (its preprocessing is applied).
        images: uint8 dataset images; labels: (N,) class indices.
        strengths: default ``SWEEPS[challenge]``.
    """
    from .train.recipe import apply_preprocess

    pre = info.preprocess_dict
    if pre is None or pre.get("kind") != "image":
        raise ValueError(f"robustness: the run {str(info.path)!r} is not a model of images with recorded preprocessing")
    labels = np.asarray(labels)
    accs = []
    for s in SWEEPS[challenge] if strengths is None else strengths:
        t = transform(images, challenge, s, seed)
        correct = 0
        for i in range(0, len(t), batch_size):
            out = inspect.forward(model, apply_preprocess(t[i:i + batch_size], pre))
            correct += int((out.argmax(axis=1) == labels[i:i + batch_size]).sum())
        accs.append(correct / max(len(t), 1))
    return accs
