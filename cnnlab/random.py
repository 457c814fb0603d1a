"""The global random generator behind ``cnnlab.manual_seed`` and the random creators."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)
_seed = 0


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random draw made by cnnlab (init, dropout, shuffling, ``randn``...).

    Example:
        >>> _ = cnnlab.manual_seed(0); a = cnnlab.randn(3)
        >>> _ = cnnlab.manual_seed(0); b = cnnlab.randn(3)
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


def fill_uniform(rng: np.random.Generator, out: np.ndarray, low: float = 0.0,
                 high: float = 1.0) -> np.ndarray:
    """Fill ``out`` with U[low, high) samples drawn in its own float dtype, in place.

    float32 and float64 are drawn directly into ``out`` (a float32 sample takes 32 random bits
    and no float64 temporary is made: building VGG-16 would otherwise hold a float64 copy of
    its largest weight); other float dtypes are drawn in float32 and cast.
    """
    drawn = _draw(out, lambda a: rng.random(dtype=a.dtype, out=a))
    if (low, high) != (0.0, 1.0):
        drawn *= drawn.dtype.type(high - low)
        drawn += drawn.dtype.type(low)
    return _place(drawn, out)


def fill_normal(rng: np.random.Generator, out: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """Fill ``out`` with N(mean, std²) samples drawn in its own float dtype, in place (see
    ``fill_uniform``)."""
    drawn = _draw(out, lambda a: rng.standard_normal(dtype=a.dtype, out=a))
    if std != 1.0:
        drawn *= drawn.dtype.type(std)
    if mean != 0.0:
        drawn += drawn.dtype.type(mean)
    return _place(drawn, out)


def _draw(out: np.ndarray, sample) -> np.ndarray:
    direct = out.dtype in (np.float32, np.float64) and out.flags.c_contiguous
    target = out if direct else np.empty(out.shape, np.float64 if out.dtype == np.float64 else np.float32)
    sample(target)
    return target


def _place(drawn: np.ndarray, out: np.ndarray) -> np.ndarray:
    if drawn is not out:
        out[...] = drawn
    return out


def get_rng_state() -> dict:
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator.bit_generator.state = state


class Generator:
    """A private random stream, as ``torch.Generator``: pass it as ``generator=`` to
    ``random_split``, ``DataLoader``, samplers and the random creators so one part of a program
    is reproducible on its own, whatever else draws from the global generator.

    Args:
        device: "cpu" (the only device cnnlab has).

    Example:
        >>> g = cnnlab.Generator().manual_seed(42)
        >>> train, val = random_split(dataset, [0.8, 0.2], generator=g)
    """

    def __init__(self, device="cpu"):
        from ._device import check_device

        check_device(device, "Generator")
        self._seed = 67280421310721  # PyTorch's default seed of a new generator
        self.numpy_generator = np.random.default_rng(self._seed)

    @property
    def device(self):
        from ._device import CPU

        return CPU

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        # reseed in place: a sampler or loader holding this stream follows the new seed
        self.numpy_generator.bit_generator.state = np.random.default_rng(self._seed).bit_generator.state
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % (2**63))).initial_seed()

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.numpy_generator.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        self.numpy_generator.bit_generator.state = state
        return self
