"""``cnnlab.save`` / ``cnnlab.load`` in PyTorch's file format, read and written without torch.

The format (what ``torch.save`` has written since PyTorch 1.6) is an uncompressed zip archive
with one top-level folder:

* ``<folder>/data.pkl``: the saved object as a pickle (protocol 2). A tensor is pickled as a
  call ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``;
  its storage is a *persistent id* ``("storage", torch.FloatStorage, key, "cpu", numel)``.
* ``<folder>/data/<key>``: each storage's raw bytes, little-endian.
* ``<folder>/version`` (``3``), ``<folder>/byteorder`` (``little``) and a few small records.

``cnnlab.save`` writes exactly these names, so a file it writes opens in
``torch.load(weights_only=True)`` as torch tensors; ``cnnlab.load`` maps the same names back
to cnnlab tensors (NumPy arrays inside), so a ``.pt``/``.pth`` file from ``torch.save`` opens
here without torch installed. Torch's dtypes, ``torch.Size`` and ``torch.device`` travel the
same way. NumPy arrays are saved as tensors.

``weights_only=True`` (the default, as in PyTorch 2.6 and later) unpickles only tensors,
containers and plain values: a file cannot run code when it is loaded. Whole modules need
``weights_only=False``, and only for files you trust.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from ._device import device
from ._dtype import dtype
from ._size import Size
from ._tensor import Tensor

# torch storage class name <-> NumPy dtype; bfloat16 has no NumPy dtype and loads as float32
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    "BFloat16Storage": "bfloat16",
}
_STORAGE_NAMES = {np.dtype(v): k for k, v in _STORAGE_DTYPES.items() if v != "bfloat16"}
_TORCH_DTYPES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "int64": np.int64, "long": np.int64,
    "int32": np.int32, "int": np.int32, "int16": np.int16, "short": np.int16, "int8": np.int8,
    "uint8": np.uint8, "bool": np.bool_, "bfloat16": np.float32,
}


class _TorchName:
    """A name in torch's namespace, written into a pickle as a GLOBAL without importing torch."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle requires a reduce function to be callable; never called
        raise TypeError(f"{self.module}.{self.name} is only a name written into a file")


class _Storage:
    """One tensor's data on its way into the archive (a persistent id in the pickle)."""

    def __init__(self, array: np.ndarray):
        self.array = array


class _TorchPickler(pickle._Pickler):  # the Python pickler: its save() can write torch's names
    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages: list[np.ndarray] = []

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, np.generic):  # a NumPy scalar is saved as the Python number it holds
            obj = obj.item()
        if isinstance(obj, dtype):
            obj = np.dtype(obj)
        if isinstance(obj, np.dtype):
            obj = _TorchName("torch", str(obj) if obj != np.bool_ else "bool")
        if isinstance(obj, _TorchName):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("ascii"))
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if not isinstance(obj, _Storage):
            return None
        key = str(len(self.storages))
        self.storages.append(obj.array)
        kind = _STORAGE_NAMES[obj.array.dtype]
        return ("storage", _TorchName("torch", kind), key, "cpu", int(obj.array.size))

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return _reduce_tensor(obj)
        if isinstance(obj, np.ndarray):
            return _reduce_array(obj, False)
        if isinstance(obj, device):
            return (_TorchName("torch", "device"), (str(obj),))
        if isinstance(obj, Size):
            return (_TorchName("torch", "Size"), (tuple(obj),))
        return NotImplemented


def _reduce_array(array: np.ndarray, requires_grad: bool):
    if array.dtype not in _STORAGE_NAMES:
        raise TypeError(f"save: cannot save an array of dtype {array.dtype} (torch has no such dtype)")
    data = array if array.flags.c_contiguous else array.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
    strides = tuple(s // data.itemsize for s in data.strides) if data.size else (1,) * data.ndim
    args = (_Storage(data.reshape(-1)), 0, tuple(data.shape), strides, bool(requires_grad), OrderedDict())
    return (_TorchName("torch._utils", "_rebuild_tensor_v2"), args)


def _reduce_tensor(t: Tensor):
    from .nn.parameter import Parameter

    if isinstance(t, Parameter):
        inner = _reduce_array(t.detach().numpy(), False)
        return (_TorchName("torch._utils", "_rebuild_parameter"), (_Rebuild(*inner), t.requires_grad, OrderedDict()))
    return _reduce_array(t.detach().numpy(), t.requires_grad and t.is_leaf)


class _Rebuild:
    """A nested ``callable(*args)`` inside another reduce tuple (a Parameter's data)."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def save(obj: Any, f, pickle_protocol: int = 2, **kwargs) -> None:
    """Save ``obj`` (a state_dict, a checkpoint dict, a module...) in PyTorch's file format.

    Args:
        obj: what to save; tensors, NumPy arrays, dicts, lists, numbers, strings, and (to be
            loaded with ``weights_only=False``) any picklable object such as a whole module.
        f: a path or a binary file object.

    Example:
        >>> cnnlab.save({"model": model.state_dict(), "epoch": 3}, "checkpoint.pt")
        >>> state = cnnlab.load("checkpoint.pt")
    """
    if pickle_protocol != 2:
        raise ValueError(f"save: cnnlab writes pickle protocol 2 (as torch does), got pickle_protocol={pickle_protocol}")
    buffer = io.BytesIO()
    pickler = _TorchPickler(buffer)
    pickler.dump(obj)
    folder = _folder_name(f)
    with _open(f, "wb") as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{folder}/data.pkl", buffer.getvalue())
        archive.writestr(f"{folder}/.format_version", "1")
        archive.writestr(f"{folder}/.storage_alignment", "64")
        archive.writestr(f"{folder}/byteorder", "little")
        for key, array in enumerate(pickler.storages):
            archive.writestr(f"{folder}/data/{key}", array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
        archive.writestr(f"{folder}/version", "3\n")


def _folder_name(f) -> str:
    name = os.path.basename(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "archive"
    stem = os.path.splitext(name)[0]
    return stem if stem and stem.isascii() and "/" not in stem else "archive"


class _open:
    """A path or an already open binary file, as a context manager that closes only what it opened."""

    def __init__(self, f, mode: str):
        self.f, self.mode, self.owned = f, mode, isinstance(f, (str, os.PathLike))

    def __enter__(self):
        self.stream = open(self.f, self.mode) if self.owned else self.f
        return self.stream

    def __exit__(self, *exc):
        if self.owned:
            self.stream.close()
        return False


# ------------------------------------------------------------------------------- loading
def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    array = _strided(storage, storage_offset, size, stride)
    out = Tensor(array, dtype=array.dtype)  # a copy: tensors that shared a storage stay apart
    if requires_grad and out.dtype.kind == "f":
        out.requires_grad_(True)
    return out


def _strided(storage: np.ndarray, offset: int, size, stride) -> np.ndarray:
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if any(n == 0 for n in size):
        return np.zeros(size, dtype=storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or last >= storage.size:
        raise pickle.UnpicklingError(
            f"load: a tensor of size {size} and stride {stride} at offset {offset} reaches past its "
            f"storage of {storage.size} elements; the file is damaged"
        )
    base = storage[offset:]
    if not size:  # as_strided reads an empty shape as "keep the base's shape"
        return base[:1].reshape(())
    return np.lib.stride_tricks.as_strided(base, shape=size, strides=tuple(s * storage.itemsize for s in stride))


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    from .nn.parameter import Parameter

    return Parameter(data, requires_grad=requires_grad)


def _rebuild_from_type_v2(func, new_type, args, state):
    return func(*args)


class _StorageType:
    def __init__(self, name: str):
        self.name = name


def _torch_dtype(name: str):
    from . import _dtype

    return getattr(_dtype, {"bool": "bool_"}.get(name, name), None) or np.dtype(_TORCH_DTYPES[name])


# what a weights-only load may build: torch's names mapped to cnnlab's, and plain containers
_SAFE = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Tensor"): Tensor,
    ("torch", "device"): device,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "int"): int,
    ("builtins", "float"): float,
    ("builtins", "bool"): bool,
    ("builtins", "complex"): complex,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, folder: str, weights_only: bool, source: str):
        super().__init__(file)
        self.archive, self.folder, self.weights_only, self.source = archive, folder, weights_only, source
        self.storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str):
        key = (module, name)
        if key in _SAFE:
            return _SAFE[key]
        if module == "torch" and name.endswith("Storage") and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch" and name in _TORCH_DTYPES:
            return _torch_dtype(name)
        if module == "torch" and name == "Size":
            return Size
        if module.split(".")[0] == "torch":
            raise pickle.UnpicklingError(
                f"load: {self.source} holds a torch object ({module}.{name}) that cnnlab cannot rebuild; "
                "save its state_dict() in torch and load that instead"
            )
        if self.weights_only:
            raise pickle.UnpicklingError(
                f"load: weights_only=True refuses {module}.{name} in {self.source}; this file holds more "
                "than tensors and plain values (e.g. a whole module). If you trust its source, "
                "call cnnlab.load(..., weights_only=False)"
            )
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"load: unknown persistent id {pid!r} in {self.source}")
        _, kind, key, _location, numel = pid
        if key not in self.storages:
            name = kind.name if isinstance(kind, _StorageType) else str(kind)
            if name not in _STORAGE_DTYPES:
                raise pickle.UnpicklingError(f"load: unknown storage type {name!r} in {self.source}")
            raw = self.archive.read(f"{self.folder}/data/{key}")
            dtype = _STORAGE_DTYPES[name]
            if dtype == "bfloat16":  # the high 16 bits of a float32
                array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype, copy=False)
            if array.size != int(numel):
                raise pickle.UnpicklingError(
                    f"load: storage {key} of {self.source} holds {array.size} elements, its header says {numel}"
                )
            self.storages[key] = array
        return self.storages[key]


def load(f, map_location=None, weights_only: bool = True, mmap=None, **kwargs) -> Any:
    """Load an object saved by ``cnnlab.save`` or by ``torch.save``; torch need not be installed.

    Args:
        f: a path or a binary file object.
        map_location: accepted for ported code; every tensor loads on the CPU (a CUDA-saved
            file loads too), so a device other than the CPU is refused.
        weights_only: (default True) build only tensors, containers and plain values; give
            False to load whole modules or other objects, from sources you trust.

    Example:
        >>> state = cnnlab.load("model.pth")     # e.g. written by torch.save(model.state_dict())
        >>> model.load_state_dict(state)
    """
    from ._device import check_device

    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        check_device(map_location, "load(map_location=...)")
    source = repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file"
    with _open(f, "rb") as stream:
        if not zipfile.is_zipfile(stream):
            raise pickle.UnpicklingError(
                f"load: {source} is not in PyTorch's zip format (torch.save since PyTorch 1.6); "
                "an older file must be re-saved with a recent torch"
            )
        stream.seek(0)
        with zipfile.ZipFile(stream) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
            if not pickles:
                raise pickle.UnpicklingError(f"load: {source} is a zip file but holds no data.pkl record")
            folder = pickles[0].split("/")[0]
            order = archive.read(f"{folder}/byteorder").decode().strip() if f"{folder}/byteorder" in archive.namelist() else "little"
            if order != "little":
                raise pickle.UnpicklingError(f"load: {source} was written on a {order}-endian machine; only little-endian is supported")
            data = io.BytesIO(archive.read(pickles[0]))
            return _Unpickler(data, archive, folder, weights_only, source).load()
