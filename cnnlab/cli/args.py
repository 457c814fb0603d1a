"""Argument types shared by every command: each checks one value where argparse parses it.

Every helper is an argparse ``type=``: it returns the converted value or raises
``argparse.ArgumentTypeError`` with what was expected and what came, which the parser turns
into one line naming the flag (``cnnlab train: error: argument --epochs: expected an integer
>= 1, got '0'``). Paths are checked here too, so a missing input or an output directory that
cannot be written is refused before any work starts.

Example:
    >>> p.add_argument("--epochs", type=positive_int)
    >>> p.add_argument("--out", type=output_file, default="filters.png")
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

__all__ = [
    "positive_int", "nonneg_int", "int_range", "positive_float", "nonneg_float", "finite_float", "float_range",
    "fraction", "existing_file", "existing_dir", "existing_path", "checkpoint_path", "output_file",
    "optional_output_file", "output_dir", "not_a_file", "image_source", "image_file", "photo_source", "port", "available_memory", "check_writable",
    "cluster_spec", "grid_axis", "add_threads_argument", "check_threads",
]

# Sizes beyond this are typos, not requests: 2**31 keeps every count inside int32 arithmetic.
HUGE = 2**31 - 1


def _fail(expected: str, text) -> None:
    raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")


def _int(text: str, expected: str) -> int:
    try:
        return int(str(text).strip().replace("_", ""))
    except ValueError:
        _fail(expected, text)


def int_range(low: int, high: int = HUGE):
    """An integer in ``[low, high]``."""
    expected = f"an integer from {low} to {high}" if high != HUGE else f"an integer >= {low}"

    def check(text: str) -> int:
        value = _int(text, expected)
        if not low <= value <= high:
            # Past the open-ended bound, name the bound: "expected an integer >= 1" would mislead.
            _fail(expected if value < low else f"an integer from {low} to {high}", text)
        return value

    check.__name__ = f"int_range({low}, {high})"
    check.low, check.high = low, high
    return check


positive_int = int_range(1)
positive_int.__name__ = "positive_int"
nonneg_int = int_range(0)
nonneg_int.__name__ = "nonneg_int"


def _float(text: str, expected: str) -> float:
    try:
        value = float(text)
    except ValueError:
        _fail(expected, text)
    if not math.isfinite(value):
        _fail(expected, text)
    return value


def float_range(low: float, high: float = math.inf, *, low_open: bool = False):
    """A finite float in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    lo = f"> {low:g}" if low_open else f">= {low:g}"
    expected = f"a finite number {lo}" + ("" if high == math.inf else f" and <= {high:g}")

    def check(text: str) -> float:
        value = _float(text, expected)
        if value < low or (low_open and value == low) or value > high:
            _fail(expected, text)
        return value

    check.__name__ = "float_range"
    check.low, check.high, check.low_open = low, high, low_open
    return check


positive_float = float_range(0.0, low_open=True)
nonneg_float = float_range(0.0)
fraction = float_range(0.0, 1.0, low_open=True)


def holdout_fraction(text: str) -> float:
    """A fraction in ``[0, 1)``: the part of a split held out (0: none; 1 would leave nothing)."""
    expected = "a fraction >= 0 and < 1"
    value = _float(text, expected)
    if not 0.0 <= value < 1.0:
        _fail(expected, text)
    return value


def finite_float(text: str) -> float:
    return _float(text, "a finite number")


# ------------------------------------------------------------------ paths
def existing_file(text: str) -> str:
    """A file that exists and can be read."""
    p = Path(text).expanduser()
    if not p.exists():
        raise argparse.ArgumentTypeError(f"file {text!r} does not exist")
    if not p.is_file():
        raise argparse.ArgumentTypeError(f"expected a file, got {text!r}, a directory")
    if not os.access(p, os.R_OK):
        raise argparse.ArgumentTypeError(f"file {text!r} cannot be read (permission denied)")
    return str(p)


def existing_dir(text: str) -> str:
    """A directory that exists (never created here)."""
    p = Path(text).expanduser()
    if not p.exists():
        raise argparse.ArgumentTypeError(f"directory {text!r} does not exist")
    if not p.is_dir():
        raise argparse.ArgumentTypeError(f"expected a directory, got {text!r}, a file")
    return str(p)


def existing_path(text: str) -> str:
    """A file or a directory that exists."""
    if not Path(text).expanduser().exists():
        raise argparse.ArgumentTypeError(f"{text!r} does not exist")
    return str(Path(text).expanduser())


def checkpoint_path(text: str) -> str:
    """A checkpoint file, a run directory or a ``runs/latest`` marker; it must exist and a file
    must not be empty."""
    p = Path(text).expanduser()
    if not p.exists():
        raise argparse.ArgumentTypeError(f"checkpoint {text!r} does not exist")
    if p.is_file() and p.stat().st_size == 0:
        raise argparse.ArgumentTypeError(f"checkpoint {text!r} is an empty file")
    return str(p)


def _read_only(d: Path) -> bool:
    try:
        return bool(os.statvfs(d).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def check_writable(d: Path, what: str) -> None:
    """``d`` (or, if it does not exist yet, its nearest existing parent) is a writable directory."""
    probe = d
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise argparse.ArgumentTypeError(f"{what}: {str(probe)!r} is a file, not a directory")
    if _read_only(probe):
        raise argparse.ArgumentTypeError(f"{what}: {str(probe)!r} is on a read-only file system")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{what}: directory {str(probe)!r} is not writable (permission denied)")


def output_file(text: str) -> str:
    """A file to write: not a directory, in an existing directory that can be written."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError(f"expected a file name to write, got {text!r}")
    p = Path(text).expanduser()
    if p.is_dir():
        raise argparse.ArgumentTypeError(f"expected a file to write, got {text!r}, a directory")
    if str(text).endswith(("/", os.sep)):   # Path() drops the slash: "new/" would become a file "new"
        raise argparse.ArgumentTypeError(f"expected a file to write, got {text!r}, a directory name (it ends with '/')")
    parent = p.parent
    if not parent.exists():
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: directory {str(parent)!r} does not exist")
    check_writable(parent, f"cannot write {text!r}")
    if p.exists() and not os.access(p, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: the file is read-only")
    return str(p)


def optional_output_file(text: str) -> str:
    """``output_file``, or ``''`` for "write nothing"."""
    return "" if text == "" else output_file(text)


def output_dir(text: str) -> str:
    """A directory to write into: an existing directory or a new one (created later) under a
    writable parent; never an existing file."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError(f"expected a directory name, got {text!r}")
    p = Path(text).expanduser()
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"expected a directory, got {text!r}, an existing file")
    check_writable(p, f"cannot write into {text!r}")
    return str(p)


def not_a_file(text: str) -> str:
    """A directory that may not exist yet (checked for writing only when it is written)."""
    p = Path(text).expanduser()
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"expected a directory, got {text!r}, an existing file")
    return str(p)


def _check_image_header(path: str) -> None:
    """Open the header only: refuses non-images and decompression bombs before any decoding."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise argparse.ArgumentTypeError(
            f"image {path!r} is too large to decode safely (more than {Image.MAX_IMAGE_PIXELS:,} pixels: "
            "a decompression bomb?)") from None
    except UnidentifiedImageError:
        raise argparse.ArgumentTypeError(f"cannot read image file {path!r}: not an image (PNG or JPEG expected)") from None
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot read image file {path!r}: {e.strerror or e}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"image {path!r} is empty ({w}x{h} pixels)")


def image_source(text: str) -> str:
    """An image file, a sample photo name (``camera``...) or ``test:N``."""
    if text.startswith("test:"):
        if not re.fullmatch(r"test:\d+", text):
            _fail("test:N with an integer N >= 0", text)
        return text
    return photo_source(text, test=True)


def photo_source(text: str, test: bool = False) -> str:
    """An image file or a sample photo name (``camera``, ``coffee``...)."""
    p = Path(text).expanduser()
    if not p.exists():
        from ..viz.images import SAMPLE_IMAGES

        name = text.removeprefix("sample:")
        if name in SAMPLE_IMAGES:
            return text
        raise argparse.ArgumentTypeError(
            f"cannot read image {text!r}: no such file (sample photos: {', '.join(SAMPLE_IMAGES)}"
            + ("; or test:N)" if test else ")"))
    return image_file(text)


def image_file(text: str) -> str:
    """An image file that exists and is no decompression bomb (its pixels are decoded later)."""
    path = existing_file(text)
    if os.path.getsize(path) == 0:
        raise argparse.ArgumentTypeError(f"image {text!r} is an empty file")
    _check_image_header(path)
    return path


def port(text: str) -> int:
    return int_range(1, 65535)(text)


# ------------------------------------------------------------------ memory
def available_memory() -> int:
    """Bytes this machine can still allocate (``MemAvailable``), or its physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**63


def add_threads_argument(p) -> None:
    """``--threads`` of the commands that run many trainings (``reproduce``, ``sweep``); see
    :func:`check_threads`."""
    p.add_argument("--threads", type=positive_int, metavar="N",
                   help="serial runs: BLAS threads per training (default: all cores). Serial and --cluster runs "
                        "agree bit for bit when they use the same count (OpenBLAS rounds some products "
                        "differently with another one); a local cluster's count is local:WORKERSxTHREADS")


def check_threads(args) -> None:
    """``--threads`` is for serial runs; a cluster's workers take theirs from ``--cluster``."""
    if args.threads and args.cluster:
        from .errors import CLIError

        raise CLIError("--threads sets the serial runs' BLAS threads; give a local cluster's as "
                       "--cluster local:WORKERSxTHREADS")


def cluster_spec(text: str) -> str:
    """``local``, ``local:WORKERS``, ``local:WORKERSxTHREADS`` or a Dask scheduler address."""
    from ..cluster.dask_runs import parse_cluster

    try:
        parse_cluster(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return str(text).strip()


def grid_axis(text: str) -> tuple[str, list]:
    """``KEY=V1,V2,...``: one axis of a sweep's grid (key and values checked by ``cnnlab.cluster.sweep``)."""
    from ..cluster.sweep import parse_axis

    try:
        return parse_axis(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
