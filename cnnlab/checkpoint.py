"""Checkpoints: one safetensors file holding the weights, the optimizer's arrays and JSON metadata.

Layout of ``checkpoint.safetensors``:

* model weights under their ``state_dict`` names (``features.0.weight``...), so any safetensors
  reader (or ``torch``'s ``load_state_dict``) can use them directly;
* optimizer and scheduler arrays under ``optimizer.`` and ``scheduler.`` prefixes;
* the safetensors header's ``__metadata__["cnnlab"]``: a JSON document with the model's
  registry name and config, the optimizer/scheduler state (arrays replaced by references to
  the tensors above), epoch, metrics, seed, the random-generator states needed for an exact
  resume, and cnnlab's version.

Writes are atomic: the bytes go to a temporary file in the same directory, are fsync'ed, then
``os.replace`` puts them in place, so a run killed mid-write leaves the previous checkpoint.

Example:
    >>> save_checkpoint("run/checkpoint.safetensors", model, model_name="mnist-cnn",
    ...                 model_config={}, epoch=1, metrics={"accuracy": 0.8}, seed=0)
    >>> model, meta = load_checkpoint("run/checkpoint.safetensors")
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "cnnlab-checkpoint/1"
_META_KEY = "cnnlab"


# ----------------------------------------------------------------- encoding
def _contiguous(a: np.ndarray) -> np.ndarray:
    # Not np.ascontiguousarray: it turns a 0-d array (Adam's step) into shape (1,).
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")


def _encode(obj: Any, prefix: str, arrays: dict, where: str) -> Any:
    """JSON-able form of ``obj``; arrays and Tensors move to ``arrays`` under ``prefix``."""
    from ._tensor import Tensor

    if isinstance(obj, Tensor):
        arrays[prefix] = _contiguous(obj.detach().numpy())
        return {"__tensor__": prefix, "kind": "tensor"}
    if isinstance(obj, np.ndarray):
        arrays[prefix] = _contiguous(obj)
        return {"__tensor__": prefix, "kind": "ndarray"}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {"__dict__": [[k if isinstance(k, (int, str)) else str(k),
                              _encode(v, f"{prefix}.{k}", arrays, where)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{prefix}.{i}", arrays, where) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{prefix}.{i}", arrays, where) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(
        f"save_checkpoint: cannot store {where} entry {prefix!r} of type {type(obj).__name__} "
        "(only arrays, tensors, numbers, strings, lists and dicts)"
    )


def _decode(obj: Any, arrays: dict) -> Any:
    from ._tensor import from_numpy

    if isinstance(obj, dict):
        if "__tensor__" in obj:
            arr = np.array(arrays[obj["__tensor__"]])  # a writable copy, never a view of the file
            return from_numpy(arr) if obj.get("kind") == "tensor" else arr
        if "__dict__" in obj:
            return {k: _decode(v, arrays) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        return {k: _decode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    return obj


def _jsonable(obj: Any) -> Any:
    """Metrics and configs as plain JSON (NumPy scalars/arrays become numbers/lists)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# --------------------------------------------------------------------- write
def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the new one.

    The bytes go to a temporary file next to ``path`` (same file system, so the rename is
    atomic), are flushed to disk, and replace ``path`` with ``os.replace``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and e.errno is not None and e.filename is None:  # a full disk: say which file
            raise OSError(e.errno, f"cannot write {str(path)!r}: {e.strerror}; "
                                   "the previous version of the file is unchanged") from None
        raise
    try:  # make the rename itself durable; not every platform can open a directory
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def save_checkpoint(
    path: str | os.PathLike,
    model,
    *,
    model_name: str | None = None,
    model_config: dict | None = None,
    optimizer=None,
    scheduler=None,
    epoch: int = 0,
    metrics: dict | None = None,
    seed: int | None = None,
    extra: dict | None = None,
    rng_state: dict | None = None,
) -> Path:
    """Save ``model`` (and optionally optimizer/scheduler state) to a safetensors checkpoint.

    Args:
        path: the ``.safetensors`` file to write (atomically).
        model: an ``nn.Module``; its ``state_dict`` becomes the file's weights.
        model_name: registry name for ``cnnlab.models.create`` (``None`` for a custom model;
            such a checkpoint loads with ``load_into`` only).
        model_config: keyword arguments for ``cnnlab.models.create``.
        optimizer, scheduler: objects with ``state_dict()``; their arrays are stored under
            ``optimizer.`` / ``scheduler.`` and the rest in the metadata.
        epoch: epochs completed. metrics: JSON-able numbers. seed: the run's seed.
        extra: more JSON-able metadata (arrays allowed; stored under ``extra.``).
        rng_state: random-generator states for an exact resume; defaults to cnnlab's global one.

    Returns:
        the path written.
    """
    from . import __version__
    from .random import get_rng_state

    arrays: dict[str, np.ndarray] = {}
    model_keys = []
    for key, value in model.state_dict().items():
        arrays[key] = _contiguous(value.detach().numpy() if hasattr(value, "detach") else value)
        model_keys.append(key)
    meta = {
        "format": FORMAT,
        "cnnlab_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model_name": model_name,
        "model_config": _jsonable(model_config or {}),
        "model_class": type(model).__name__,
        "model_keys": model_keys,
        "epoch": int(epoch),
        "metrics": _jsonable(metrics or {}),
        "seed": seed,
        "rng_state": _jsonable(rng_state if rng_state is not None else {"cnnlab": get_rng_state()}),
    }
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None:
            meta[name] = {"class": type(obj).__name__, "state": _encode(obj.state_dict(), name, arrays, name)}
    if extra:
        meta["extra"] = _encode(extra, "extra", arrays, "extra")
    clash = [k for k in model_keys if k.split(".")[0] in ("optimizer", "scheduler", "extra")]
    if clash:
        raise ValueError(f"save_checkpoint: model keys {clash} collide with the checkpoint's reserved prefixes")

    from safetensors.numpy import save

    data = save(arrays, metadata={_META_KEY: json.dumps(meta, allow_nan=True)})
    atomic_write_bytes(path, data)
    return Path(path)


# ---------------------------------------------------------------------- read
def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """The raw arrays and decoded metadata of a checkpoint, with clear errors for bad files.

    The metadata's ``optimizer``/``scheduler``/``extra`` entries come back with their arrays
    restored, ready for ``load_state_dict``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for truncated/garbage files
        raise ValueError(
            f"checkpoint {str(path)!r} is corrupt or not a safetensors file: {e}"
        ) from None
    if _META_KEY not in header:
        raise ValueError(
            f"checkpoint {str(path)!r} is a safetensors file but not a cnnlab checkpoint "
            f"(no {_META_KEY!r} metadata); load its weights with load_into(model, path)"
        )
    try:
        meta = json.loads(header[_META_KEY])
    except json.JSONDecodeError as e:
        raise ValueError(f"checkpoint {str(path)!r} has corrupt metadata: {e}") from None
    missing = [k for k in meta.get("model_keys", []) if k not in arrays]
    if missing:
        raise ValueError(f"checkpoint {str(path)!r} is missing weight tensors: {missing}")
    for name in ("optimizer", "scheduler"):
        if name in meta:
            meta[name]["state"] = _decode(meta[name]["state"], arrays)
    if "extra" in meta:
        meta["extra"] = _decode(meta["extra"], arrays)
    meta["path"] = str(path)
    return arrays, meta


def _model_arrays(arrays: dict, meta: dict) -> dict[str, np.ndarray]:
    keys = meta.get("model_keys")
    if keys is None:  # a plain safetensors file of weights
        return arrays
    return {k: arrays[k] for k in keys}


def load_into(model, path: str | os.PathLike, strict: bool = True):
    """Copy a checkpoint's weights into ``model``; refuses another architecture's checkpoint.

    Plain safetensors files of weights (no cnnlab metadata) load too.

    Raises:
        RuntimeError: naming the missing, unexpected and wrongly shaped keys when the
            checkpoint was saved from a different architecture.
    """
    path = Path(path)
    try:
        arrays, meta = read_checkpoint(path)
    except ValueError as e:
        if "not a cnnlab checkpoint" not in str(e):
            raise
        from safetensors.numpy import load_file

        arrays, meta = load_file(str(path)), {}
    _apply_weights(model, arrays, meta, path, strict)
    return meta


def _apply_weights(model, arrays: dict, meta: dict, path: Path, strict: bool = True) -> None:
    weights = _model_arrays(arrays, meta)
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(weights[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own if k in weights and tuple(weights[k].shape) != tuple(own[k].shape)
    ]
    if shapes or (strict and (missing or unexpected)):
        saved_from = meta.get("model_name") or meta.get("model_class") or "another model"
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected}")
        if shapes:
            parts.append("shape mismatches [" + "; ".join(shapes) + "]")
        raise RuntimeError(
            f"checkpoint {str(path)!r} (saved from {saved_from}) does not match the architecture of "
            f"this {type(model).__name__}: " + ", ".join(parts)
        )
    model.load_state_dict({k: v for k, v in weights.items() if k in own}, strict=False)


def load_checkpoint(path: str | os.PathLike):
    """Rebuild the checkpoint's model with ``cnnlab.models.create`` and load its weights.

    Returns:
        ``(model, meta)``: the model in eval mode and the metadata dictionary (``epoch``,
        ``metrics``, ``seed``, ``model_name``, ``model_config``, ``optimizer``...).
    """
    arrays, meta = read_checkpoint(path)
    name = meta.get("model_name")
    if not name:
        raise ValueError(
            f"checkpoint {str(path)!r} holds a custom {meta.get('model_class', 'model')} with no "
            "registry name; build the model yourself and use load_into(model, path)"
        )
    from . import models

    model = models.create(name, **meta.get("model_config", {}))
    _apply_weights(model, arrays, meta, Path(path))
    model.eval()
    return model, meta
