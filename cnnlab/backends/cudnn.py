"""``cnnlab.backends.cudnn``: settable flags (``benchmark``, ``deterministic``, ``enabled``) that
change nothing, since cnnlab has no cuDNN; ``is_available()`` is False."""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
