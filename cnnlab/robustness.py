"""The lecture's challenges as a robustness lab: test accuracy under a sweep of each challenge.

Each challenge transforms uint8 dataset images (N, H, W) or (N, H, W, C) at a strength with
:mod:`cnnlab.transforms.challenges` (scipy.ndimage for the geometry; anything random drawn
from a generator seeded with ``(seed, image index)``). The identity strength (0, or 1 for
factors) returns the images unchanged, so its accuracy is the clean accuracy. The images go
back to uint8 before the run's own preprocessing, as a real picture would.

The lecture's list, and what each sweeps:

============  ============================  =====================================
name          strength                      transform
============  ============================  =====================================
viewpoint     degrees                       rotation about the centre, ``ndimage.rotate``
scale         factor (1 = unchanged)        zoom about the centre, ``ndimage.affine_transform``
deformation   alpha (sigma 4 px)            elastic field (Simard et al.), ``ndimage.map_coordinates``
occlusion     side of a square, pixels      a black square at a seeded random place
brightness    added intensity in [-1, 1]    ``p + b``           (illumination)
contrast      factor (1 = unchanged)        ``0.5 + c · (p − 0.5)`` (illumination)
gamma         exponent (1 = unchanged)      ``p ** g``          (illumination)
clutter       texture contrast in [0, 1]    ``p + (1 − p) · c · T``, T a seeded texture
noise         standard deviation            Gaussian pixel noise, seeded
translation   pixels                        shift right and down, ``ndimage.shift``
============  ============================  =====================================

``GROUPS`` lets a caller name ``illumination`` (brightness, contrast and gamma) and
``rotation`` (viewpoint).
"""

from __future__ import annotations

import numpy as np

from . import inspect
from .transforms import challenges as _ch

SWEEPS = {
    "viewpoint": [0, 15, 30, 45, 60, 90],
    "scale": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5],
    "deformation": [0, 10, 20, 34, 50, 70],
    "occlusion": [0, 4, 8, 12, 16],
    "brightness": [0.0, 0.1, 0.2, 0.3, 0.4],
    "contrast": [1.0, 0.8, 0.6, 0.4, 0.2],
    "gamma": [1.0, 1.5, 2.0, 3.0, 4.0],
    "clutter": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
    "noise": [0.0, 0.1, 0.2, 0.3, 0.5],
    "translation": [0, 2, 4, 6, 8],
}
IDENTITY = {name: _ch.CHALLENGES[name][0] for name in SWEEPS}
GROUPS = {"illumination": ("brightness", "contrast", "gamma"), "rotation": ("viewpoint",)}


def expand(names) -> list[str]:
    """Challenge names with the ``GROUPS`` expanded, each once, in the order given."""
    out = []
    for n in names:
        for m in GROUPS.get(n, (n,)):
            if m not in SWEEPS:
                raise ValueError(f"robustness: challenge must be one of {', '.join([*SWEEPS, *GROUPS])}, got {n!r}")
            if m not in out:
                out.append(m)
    return out


def label(challenge: str) -> str:
    """``"deformation: elastic deformation strength alpha (sigma 4 px)"``: a plot title."""
    return f"{challenge}: {_ch.CHALLENGES[challenge][1]}"


def transform(images: np.ndarray, challenge: str, strength: float, seed: int = 0) -> np.ndarray:
    """``images`` (uint8, (N, H, W) or (N, H, W, C)) under one challenge at one strength.

    Image ``n``'s random draws (occluder place, displacement field, texture, noise) come from
    a generator seeded with ``(seed, n)``.
    """
    if challenge not in SWEEPS:
        raise ValueError(f"robustness: challenge must be one of {', '.join(SWEEPS)}, got {challenge!r}")
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(f"robustness: images must be uint8 (N, H, W) or (N, H, W, C), got {images.dtype} {images.shape}")
    if strength == IDENTITY[challenge]:
        return images.copy()
    out = np.empty_like(images)
    for n, img in enumerate(images):
        try:
            p = _ch.apply(img.astype(np.float64) / 255.0, challenge, strength, np.random.default_rng([seed, n]))
        except ValueError as e:
            raise ValueError(f"robustness: {e}") from None
        out[n] = np.rint(np.clip(p, 0.0, 1.0) * 255).astype(np.uint8)
    return out


def _preprocess_of(info) -> dict:
    pre = info.preprocess_dict
    if pre is None or pre.get("kind") != "image":
        raise ValueError(f"robustness: the run {str(info.path)!r} is not a model of images with recorded preprocessing")
    return pre


def accuracy(model, info, images, labels, *, batch_size: int = 256) -> float:
    """Accuracy of ``model`` on uint8 ``images`` after the run's preprocessing."""
    from .train.recipe import apply_preprocess

    pre = _preprocess_of(info)
    labels = np.asarray(labels)
    correct = 0
    for i in range(0, len(images), batch_size):
        out = inspect.forward(model, apply_preprocess(images[i:i + batch_size], pre))
        correct += int((out.argmax(axis=1) == labels[i:i + batch_size]).sum())
    return correct / max(len(images), 1)


def sweep(model, info, images, labels, challenge: str, strengths=None, *, seed: int = 0,
          batch_size: int = 256) -> list[float]:
    """Test accuracy of ``model`` on ``(images, labels)`` at each strength of ``challenge``.

    Args:
        info: the run's :class:`cnnlab.inspect.RunInfo` (its preprocessing is applied).
        images: uint8 dataset images; labels: (N,) class indices.
        strengths: default ``SWEEPS[challenge]``.
    """
    return sweep_runs({"run": (model, info)}, images, labels, challenge, strengths, seed=seed,
                      batch_size=batch_size)["run"]


def sweep_runs(runs: dict, images, labels, challenge: str, strengths=None, *, seed: int = 0,
               batch_size: int = 256) -> dict[str, list[float]]:
    """:func:`sweep` for several ``{name: (model, info)}`` on the same transformed images
    (each strength is drawn once)."""
    for _, info in runs.values():
        _preprocess_of(info)
    accs = {name: [] for name in runs}
    for s in SWEEPS[challenge] if strengths is None else strengths:
        t = transform(images, challenge, s, seed)
        for name, (model, info) in runs.items():
            accs[name].append(accuracy(model, info, t, labels, batch_size=batch_size))
    return accs
