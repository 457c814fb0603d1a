"""``cnnlab.cuda``: the answers of a PyTorch build without CUDA (cnnlab computes on the CPU).

``is_available()`` is False and ``device_count()`` is 0, so the usual
``device = "cuda" if cnnlab.cuda.is_available() else "cpu"`` picks the CPU. Seeding calls are
accepted and do nothing, as in a CPU-only PyTorch.
"""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored: there is no CUDA generator to seed."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored: there is no CUDA generator to seed."""


def empty_cache() -> None:
    """Accepted and ignored: there is no CUDA memory to release."""


def synchronize(device=None) -> None:
    raise ValueError("cnnlab.cuda.synchronize: cnnlab runs on the CPU only (cnnlab.cuda.is_available() is False)")


def current_device() -> int:
    raise ValueError("cnnlab.cuda.current_device: cnnlab runs on the CPU only (cnnlab.cuda.is_available() is False)")
