"""Global switch for graph recording: ``no_grad``, ``enable_grad``, ``inference_mode`` and
``set_grad_enabled``.

All work as context managers and as decorators, as in PyTorch; ``set_grad_enabled(False)``
also works as a plain call that switches recording off until switched on again.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """Per-thread modes; the class attributes are every new thread's defaults."""

    enabled = True
    inference = False


_state = _State()


def is_grad_enabled() -> bool:
    """Return True when new operations record a graph for backward."""
    return _state.enabled


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


def is_inference_mode_enabled() -> bool:
    return _state.inference


class _GradMode:
    """A context manager that sets the mode on entry and restores it on exit; also a decorator,
    with or without parentheses (``@no_grad()`` and ``@no_grad``)."""

    _target: bool

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs and cls is not set_grad_enabled:
            return cls()(args[0])  # used bare: @cnnlab.no_grad
        return super().__new__(cls)

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set_enabled(self._target)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._previous)
        return False

    def _clone(self) -> "_GradMode":
        return self.__class__()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
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


class inference_mode(_GradMode):
    """No graph recording, as ``no_grad`` (cnnlab has no separate inference tensors).

    Args:
        mode: True (default) switches recording off; False leaves it as it is.

    Example:
        >>> with cnnlab.inference_mode():
        ...     logits = model(x)
        >>> @cnnlab.inference_mode()
        ... def predict(x): return model(x).argmax(1)
    """

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = is_grad_enabled()
        self._previous_inference = is_inference_mode_enabled()
        if self.mode:
            _set_enabled(False)
            _state.inference = True
        return self

    def __exit__(self, *exc):
        _set_enabled(self._previous)
        _state.inference = self._previous_inference
        return False

    def _clone(self) -> "inference_mode":
        return inference_mode(self.mode)


class set_grad_enabled(_GradMode):
    """Switch graph recording on or off: as a call, a context manager, or a decorator.

    ``cnnlab.set_grad_enabled(False)`` takes effect at once (as a function call);
    ``with cnnlab.set_grad_enabled(is_train): ...`` restores the previous mode at the end of the
    block, as in PyTorch.

    Args:
        mode: True to record graphs, False not to.
    """

    def __init__(self, mode: bool):
        self._previous = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_enabled(self._previous)
        return False

    def __call__(self, fn):
        _set_enabled(self._previous)  # used as a decorator: the mode applies inside fn only
        return super().__call__(fn)

    def _clone(self) -> "set_grad_enabled":
        return set_grad_enabled(self.mode)
