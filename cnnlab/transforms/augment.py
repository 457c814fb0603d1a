"""``RandomChallenges``: training-time augmentation drawn from the lecture's challenges.

Each image of each epoch gets its own random draw: every listed challenge is applied with
probability ``p`` at a strength drawn uniformly from its training range (``TRAIN_RANGES``),
in a fixed order (geometry first). The draws of sample ``i`` in epoch ``e`` come from a
generator seeded with ``(seed, e, i)``: a run gives the same images whatever the batch size,
the shuffling or a resume, and a new epoch gives new ones.
"""

from __future__ import annotations

import numpy as np

from . import challenges as C

#: strength range drawn for training, per challenge (translation: each axis independently)
TRAIN_RANGES = {
    "scale": (0.7, 1.15),
    "viewpoint": (-30.0, 30.0),
    "translation": (-5.0, 5.0),
    "deformation": (0.0, 40.0),
    "occlusion": (0.0, 12.0),
    "clutter": (0.0, 0.5),
    "brightness": (-0.3, 0.3),
    "contrast": (0.4, 1.0),
    "gamma": (0.5, 2.5),
    "noise": (0.0, 0.2),
}
ORDER = tuple(TRAIN_RANGES)  # the order of application


def parse_challenges(text) -> tuple[str, ...]:
    """``"viewpoint,scale"`` (or a sequence of names) → names in application order; unknown names are refused."""
    names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if str(t).strip()]
    bad = [n for n in names if n not in TRAIN_RANGES]
    if not names or bad:
        raise ValueError(f"augmentation challenges must be names from {','.join(ORDER)}, got {text!r}")
    return tuple(n for n in ORDER if n in names)


class RandomChallenges:
    """Random challenges applied to uint8 images, reproducible per (seed, epoch, sample).

    Args:
        challenges: names from ``TRAIN_RANGES`` or a comma-separated string
            (default viewpoint, scale, translation, deformation).
        p: probability that each listed challenge is applied to an image (default 0.5).
        seed: the run's seed (default 0).

    Call it on a batch ``images`` (uint8, (N, H, W) or (N, H, W, C)) with the samples'
    ``indices`` in the dataset (default 0..N-1); ``set_epoch`` chooses the epoch's draws.

    Example:
        >>> aug = RandomChallenges("viewpoint,deformation", seed=0)
        >>> aug.set_epoch(1)
        >>> out = aug(train_images[:64], indices=range(64))
    """

    def __init__(self, challenges=("viewpoint", "scale", "translation", "deformation"), p: float = 0.5,
                 seed: int = 0):
        self.challenges = parse_challenges(challenges)
        if not 0 <= p <= 1:
            raise ValueError(f"RandomChallenges: p must lie in [0, 1], got {p}")
        self.p = float(p)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def draws(self, index: int) -> list[tuple[str, tuple[float, ...]]]:
        """What sample ``index`` gets this epoch: ``[(challenge, strengths), ...]`` in order of application."""
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        out = []
        for name in self.challenges:
            lo, hi = TRAIN_RANGES[name]
            apply, s = rng.random() < self.p, rng.uniform(lo, hi, 2 if name == "translation" else 1)
            if apply:
                out.append((name, tuple(float(v) for v in s)))
        return out

    def _one(self, image: np.ndarray, index: int) -> np.ndarray:
        todo = self.draws(index)
        if not todo:
            return image
        p = image.astype(np.float64) / 255.0
        rng = np.random.default_rng([self.seed, self.epoch, int(index), 1])  # textures, fields, places
        for name, s in todo:
            p = C.shift(p, *s) if name == "translation" else C.apply(p, name, s[0], rng)
        return np.rint(np.clip(p, 0.0, 1.0) * 255).astype(np.uint8)

    def __call__(self, images: np.ndarray, indices=None) -> np.ndarray:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise ValueError(f"RandomChallenges: images must be uint8 (N, H, W) or (N, H, W, C), "
                             f"got {images.dtype} {images.shape}")
        idx = np.arange(len(images)) if indices is None else np.asarray(list(indices), np.int64)
        if len(idx) != len(images):
            raise ValueError(f"RandomChallenges: {len(images)} images but {len(idx)} indices")
        return np.stack([self._one(img, i) for img, i in zip(images, idx)]) if len(images) else images.copy()

    def __repr__(self) -> str:
        return f"RandomChallenges(challenges={','.join(self.challenges)}, p={self.p}, seed={self.seed})"
