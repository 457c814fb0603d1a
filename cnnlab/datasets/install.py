"""``install(name)``: put a dataset into the cache from the sources this machine allows.

Used by ``cnnlab data install`` (and so by ``scripts/setup.sh``). File-based sets found outside
the cache (Debian's Fashion-MNIST) are copied in, so the cache alone is enough afterwards;
converted sets (MNIST10k, Iris, Digits, Boston) are converted once; MNIST and CIFAR-10 can only
come from a download.
"""

from __future__ import annotations

import shutil

from .cifar import CIFAR10
from .registry import info
from .sources import cache_dir, write_source_note


def install(name: str) -> str:
    """Install dataset ``name`` into the cache; return a one-line report.

    Raises:
        ValueError: unknown name, or a dataset that has nothing to install (``imagefolder``).
        DataNotFoundError: no source could provide it (the message names the files needed).
    """
    entry = info(name)
    cls, cache = entry.cls, cache_dir(entry.name)
    if entry.name == "imagefolder":
        raise ValueError("imagefolder reads your own folder (pass its path as root); there is nothing to install")
    if hasattr(cls, "producers"):  # converted once into the cache by the dataset itself
        ds = cls(train=True, transform=None)
        return f"{entry.name}: {len(ds)} training samples, {ds.origin}"
    if cls is CIFAR10:
        located = cls.resolve(None, None, download=True)
        return f"{entry.name}: {located.origin}"
    located = cls.resolve(None, None, download=True)
    if located.where.resolve() == cache.resolve():
        return f"{entry.name}: already in {located.origin}"
    cache.mkdir(parents=True, exist_ok=True)
    for path in located.paths.values():
        tmp = cache / (path.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(cache / path.name)
    write_source_note(cache, located.origin)
    cls(train=True)  # read it back once: a corrupt copy fails here, not in the first training run
    return f"{entry.name}: copied into {cache} from {located.origin}"
