"""cnnlab keeps freed buffers for reuse (glibc malloc thresholds), unless told not to."""

import os
import subprocess
import sys

import pytest

from cnnlab import _allocator

# A fresh process allocates 20 MB and reports how many bytes glibc serves by mmap (mallinfo2's
# hblkhd): above the default threshold a block is mmapped, and freeing it returns it to the OS.
PROBE = """
import ctypes, numpy as np
import cnnlab
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
before = mallinfo2().hblkhd
a = np.ones(20 << 20, dtype=np.uint8)
print(cnnlab._allocator.KEPT, mallinfo2().hblkhd - before)
"""


def _probe(**env):
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}, **env})
    assert out.returncode == 0, out.stderr
    kept, mmapped = out.stdout.split()
    return kept == "True", int(mmapped)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is Linux-only")
def test_large_buffers_come_from_the_heap_after_import():
    kept, mmapped = _probe()
    assert kept and mmapped == 0  # a 20 MB block stays in the heap, to be reused after free
    kept, mmapped = _probe(CNNLAB_KEEP_FREED_MEMORY="0")
    assert not kept and mmapped >= 20 << 20  # glibc's default: mmapped, unmapped again on free


def test_caller_settings_win():
    assert not _allocator.keep_freed_memory({"CNNLAB_KEEP_FREED_MEMORY": "0"})
    assert not _allocator.keep_freed_memory({"MALLOC_TRIM_THRESHOLD_": "100000"})
    assert not _allocator.keep_freed_memory({"MALLOC_MMAP_THRESHOLD_": "100000"})
