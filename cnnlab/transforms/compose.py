"""``Compose`` and ``Lambda``: chaining transforms."""

from __future__ import annotations

import numpy as np


class Compose:
    """Apply ``transforms`` in order.

    ``batch(x, chw)`` applies them to a whole batch when every transform has a ``batch``
    method (see ``Compose.batchable``); array-backed datasets use it in ``__getitems__``.

    Example:
        >>> Compose([ToTensor(), Normalize((0.5,), (0.5,))])
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def batchable(self) -> bool:
        return all(is_batchable(t) for t in self.transforms)

    def batch(self, x: np.ndarray, chw: bool) -> tuple[np.ndarray, bool]:
        for t in self.transforms:
            x, chw = t.batch(x, chw)
        return x, chw

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class Lambda:
    """Wrap a function as a transform (no batch form)."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, img):
        return self.fn(img)


def is_batchable(t) -> bool:
    """True if ``t`` can transform a whole (N, ...) batch at once."""
    if t is None:
        return True
    if isinstance(t, Compose):
        return t.batchable
    return callable(getattr(t, "batch", None))
