"""``cnnlab.accelerator``: PyTorch's device-agnostic checks; cnnlab has no accelerator."""

from __future__ import annotations


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    """The accelerator in use: None, as in a CPU-only PyTorch."""
    return None


def device_count() -> int:
    return 0
