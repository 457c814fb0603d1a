"""The IDX file format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a 4-byte magic number ``0x00 0x00 TYPE NDIM``, then NDIM big-endian uint32
dimensions, then the data in C order (big-endian for multi-byte types). MNIST's labels are
``0x00000801`` (uint8, 1-D), its images ``0x00000803`` (uint8, 3-D: N × 28 × 28).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from .sources import open_maybe_gzip

IDX_TYPES = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


class IDXError(ValueError):
    """A malformed IDX file; the message names the file and what is wrong."""


def read_idx(path, expected_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a NumPy array in native byte order.

    Args:
        path: the file; gzip is detected from its first bytes, not its name.
        expected_ndim: check the number of dimensions (1 for labels, 3 for images).

    Raises:
        IDXError: bad magic number, unexpected dimensions, truncated or corrupt data.

    Example:
        >>> read_idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz").shape
        (10000,)
    """
    path = Path(path)
    try:
        with open_maybe_gzip(path) as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise IDXError(f"{path}: corrupt or truncated gzip stream ({type(e).__name__}: {e})") from e
    if len(raw) < 4:
        raise IDXError(f"{path}: file is {len(raw)} bytes, too short for an IDX header")
    zero, type_code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in IDX_TYPES or ndim == 0:
        raise IDXError(
            f"{path}: bad IDX magic number 0x{raw[:4].hex()} (expected 0x0000TTNN with type TT in "
            f"{{{', '.join(f'{t:02x}' for t in IDX_TYPES)}}} and NN ≥ 1 dimensions); not an IDX file?"
        )
    if expected_ndim is not None and ndim != expected_ndim:
        raise IDXError(f"{path}: expected an IDX file with {expected_ndim} dimension(s), got {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header: needs {header} bytes, file has {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = IDX_TYPES[type_code]
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise IDXError(
            f"{path}: file {what}: header says dims {dims} of {dtype.name} ({expected} bytes), "
            f"file has {len(raw)} bytes"
        )
    # A copy: frombuffer over bytes is read-only, and users (as with torch) may edit .data in place.
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzipped if ``compress`` or the name ends in ``.gz``)."""
    array = np.asarray(array)
    codes = {v.newbyteorder("=") if v.byteorder == ">" else v: k for k, v in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    code = next((k for dt, k in codes.items() if dt.kind == native.kind and dt.itemsize == native.itemsize), None)
    if code is None:
        raise ValueError(f"write_idx: dtype {array.dtype} has no IDX type code")
    body = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    body += np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    compress = str(path).endswith(".gz") if compress is None else compress
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as f:
        f.write(body)
