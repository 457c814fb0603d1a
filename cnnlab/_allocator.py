"""Keep freed buffers in the process for reuse (glibc's malloc), applied once at import.

Why: every training step allocates and frees the same large arrays (im2col columns, feature
maps, their gradients). By default glibc hands large freed blocks straight back to the OS
(``mmap``/trim), so the next step faults them in again at ≈ 4 µs per 4 KB page. On this
project's 2-core machine that page-fault churn halved mnist-cnn's training speed: 1,700 against
3,100 images/s with the thresholds below (measured by the former training benchmark;
``docs/design/performance.md``).

The settings are process-wide: a block up to ``MMAP_THRESHOLD`` comes from the heap, and up to
``TRIM_THRESHOLD`` of free heap is kept. Resident memory therefore stays near its peak instead
of shrinking between steps. Nothing is changed when ``CNNLAB_KEEP_FREED_MEMORY=0``, when the
caller already chose glibc's thresholds (``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``),
or when the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed mmap threshold on 64-bit systems
TRIM_THRESHOLD = 1 << 30
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters from <malloc.h>
_ENV_KEYS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def keep_freed_memory(environ=os.environ) -> bool:
    """Raise glibc's mmap and trim thresholds; returns whether they were set."""
    if environ.get("CNNLAB_KEEP_FREED_MEMORY", "1") == "0" or any(k in environ for k in _ENV_KEYS):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only: musl's mallopt does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


KEPT = keep_freed_memory()
