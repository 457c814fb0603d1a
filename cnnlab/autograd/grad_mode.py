"""Global switch for graph recording: ``no_grad`` and ``enable_grad``.

Both work as context managers and as decorators, as in PyTorch.
"""

from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """Return True when new operations record a graph for backward."""
    return getattr(_state, "enabled", True)


def set_grad_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode:
    _target: bool

    def __enter__(self):
        self._previous = is_grad_enabled()
        set_grad_enabled(self._target)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording inside the block (inference, optimizer steps).

    Example:
        >>> with cnnlab.no_grad():
        ...     y = model(x)        # y.requires_grad is False
    """

    _target = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _target = True
