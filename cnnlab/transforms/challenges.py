"""The lecture's challenges as image transforms: what a hand-made feature fails on.

Each function takes one image as floats in [0, 1], ``(H, W)`` or ``(H, W, C)``, and returns a
new float image of the same shape (not clipped; callers clip). The geometry comes from
``scipy.ndimage`` with bilinear interpolation (``order=1``) and black outside the image; what
is random (an occluder's place, a displacement field, a texture, noise) is drawn from the
``numpy.random.Generator`` passed in, so a seed fixes it.

:func:`apply` names them for :mod:`cnnlab.robustness` (one strength per challenge, swept) and
:class:`cnnlab.transforms.RandomChallenges` draws them at random for training.

Notes:
    Elastic deformation follows Simard, Steinkraus and Platt (2003): two fields of uniform
    noise in [-1, 1] (one per axis), smoothed with a Gaussian of width ``sigma`` and scaled by
    ``alpha``, give each output pixel the input position it samples:
    ``out(y, x) = in(y + alpha·(G_sigma * U_y)(y, x), x + alpha·(G_sigma * U_x)(y, x))``.
    Background clutter blends a seeded texture ``T`` in [0, 1] into the dark part of the image:
    ``out = p + (1 − p)·c·T``, so a bright object keeps its pixels and the black background shows
    the texture at contrast ``c``.
"""

from __future__ import annotations

import numpy as np

#: name -> (strength that leaves the image unchanged, what the strength means)
CHALLENGES = {
    "viewpoint": (0.0, "rotation (degrees)"),
    "scale": (1.0, "zoom factor"),
    "deformation": (0.0, "elastic alpha (sigma 4 px)"),
    "occlusion": (0.0, "black square (px)"),
    "brightness": (0.0, "intensity added"),
    "contrast": (1.0, "contrast factor"),
    "gamma": (1.0, "gamma exponent"),
    "clutter": (0.0, "background texture contrast"),
    "noise": (0.0, "Gaussian noise std"),
    "translation": (0.0, "shift right+down (px)"),
}


def _planes(fn, p: np.ndarray) -> np.ndarray:
    """``fn`` on each (H, W) plane of an (H, W) or (H, W, C) image."""
    if p.ndim == 2:
        return fn(p)
    return np.stack([fn(p[..., c]) for c in range(p.shape[2])], axis=-1)


def rotate(p: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise about the centre, keeping the size."""
    from scipy import ndimage

    return _planes(lambda a: ndimage.rotate(a, degrees, reshape=False, order=1, mode="constant", cval=0.0), p)


def zoom(p: np.ndarray, factor: float) -> np.ndarray:
    """Zoom by ``factor`` about the centre (< 1 shrinks the object), keeping the size."""
    from scipy import ndimage

    if not factor > 0:
        raise ValueError(f"scale factor must be > 0, got {factor}")
    h, w = p.shape[:2]
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    # output pixel o samples the input at centre + (o - centre) / factor
    return _planes(lambda a: ndimage.affine_transform(a, np.eye(2) / factor, offset=centre - centre / factor,
                                                      order=1, mode="constant", cval=0.0), p)


def shift(p: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """Move the content ``dy`` pixels down and ``dx`` right."""
    from scipy import ndimage

    return _planes(lambda a: ndimage.shift(a, (dy, dx), order=1, mode="constant", cval=0.0), p)


def displacement_field(shape, alpha: float, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Simard et al.'s smoothed random field ``(dy, dx)``, each (H, W), in pixels."""
    from scipy.ndimage import gaussian_filter

    u = rng.uniform(-1.0, 1.0, (2, *shape))
    return (alpha * gaussian_filter(u[0], sigma, mode="constant"),
            alpha * gaussian_filter(u[1], sigma, mode="constant"))


def elastic(p: np.ndarray, alpha: float, rng: np.random.Generator, sigma: float = 4.0) -> np.ndarray:
    """Elastic deformation of strength ``alpha`` and smoothness ``sigma`` (one field for all channels)."""
    from scipy import ndimage

    h, w = p.shape[:2]
    dy, dx = displacement_field((h, w), alpha, sigma, rng)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    coords = np.stack([yy + dy, xx + dx])
    return _planes(lambda a: ndimage.map_coordinates(a, coords, order=1, mode="constant", cval=0.0), p)


def occlude(p: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A black ``size`` x ``size`` square at a random place inside the image."""
    h, w = p.shape[:2]
    k = int(round(size))
    if not 0 <= k <= min(h, w):
        raise ValueError(f"occlusion size must be in 0..{min(h, w)}, got {size}")
    r, c = rng.integers(0, h - k + 1), rng.integers(0, w - k + 1)
    out = p.copy()
    out[r:r + k, c:c + k] = 0.0
    return out


def texture(shape, rng: np.random.Generator, sigma: float = 1.0) -> np.ndarray:
    """A random texture in [0, 1]: uniform noise smoothed at ``sigma`` pixels, stretched to its range."""
    from scipy.ndimage import gaussian_filter

    t = gaussian_filter(rng.uniform(0.0, 1.0, shape), sigma, mode="wrap")
    lo, hi = t.min(), t.max()
    return (t - lo) / (hi - lo) if hi > lo else np.zeros(shape)


def clutter(p: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """A texture at contrast ``level`` in the image's dark parts: ``p + (1 − p)·level·T``."""
    t = texture(p.shape[:2], rng)
    return p + (1.0 - p) * level * (t if p.ndim == 2 else t[..., None])


def apply(p: np.ndarray, challenge: str, strength: float, rng: np.random.Generator) -> np.ndarray:
    """One image under ``challenge`` at ``strength`` (see ``CHALLENGES``); the identity strength returns a copy."""
    if challenge not in CHALLENGES:
        raise ValueError(f"challenge must be one of {', '.join(CHALLENGES)}, got {challenge!r}")
    s = float(strength)
    if s == CHALLENGES[challenge][0]:
        return p.copy()
    if challenge == "viewpoint":
        return rotate(p, s)
    if challenge == "scale":
        return zoom(p, s)
    if challenge == "deformation":
        return elastic(p, s, rng)
    if challenge == "occlusion":
        return occlude(p, s, rng)
    if challenge == "brightness":
        return p + s
    if challenge == "contrast":
        return 0.5 + s * (p - 0.5)
    if challenge == "gamma":
        return p ** s
    if challenge == "clutter":
        return clutter(p, s, rng)
    if challenge == "noise":
        return p + s * rng.standard_normal(p.shape)
    return shift(p, s, s)
