"""The global random generator behind ``cnnlab.manual_seed`` and the random creators."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)
_seed = 0


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random draw made by cnnlab (init, dropout, shuffling, ``randn``...).

    Example:
        >>> cnnlab.manual_seed(0); a = cnnlab.randn(3)
        >>> cnnlab.manual_seed(0); b = cnnlab.randn(3)
        >>> bool((a == b).all())
        True
    """
    global _generator, _seed
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed() -> int:
    return _seed


def default_generator() -> np.random.Generator:
    return _generator


def get_rng_state() -> dict:
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator.bit_generator.state = state
