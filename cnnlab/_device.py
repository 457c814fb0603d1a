"""``cnnlab.device``: device names as PyTorch spells them, on a library that computes on the CPU.

Ported code builds ``torch.device("cuda" if torch.cuda.is_available() else "cpu")`` and moves
models and tensors with ``.to(device)``. cnnlab answers the checks as a CPU-only build of
PyTorch does (``cnnlab.cuda.is_available()`` is False), so such code picks ``"cpu"``; a device
object for another type can still be made, and moving data there fails with one line.
"""

from __future__ import annotations

# PyTorch's device types (its error message lists them); only "cpu" can hold data here.
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


class device:  # noqa: N801  (PyTorch's name)
    """A device: a ``type`` ("cpu", "cuda", ...) and an optional ``index``.

    Args:
        type: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, another device, ...
        index: the device number, when ``type`` does not carry one.

    Example:
        >>> cnnlab.device("cuda:1")
        device(type='cuda', index=1)
        >>> cnnlab.device("cuda" if cnnlab.cuda.is_available() else "cpu")
        device(type='cpu')
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type="cpu", index: int | None = None):  # noqa: A002  (PyTorch's name)
        if isinstance(type, device):
            kind, idx = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            # torch.device(0) means the first accelerator; a CPU-only PyTorch refuses it too
            raise RuntimeError(f"device: an integer device ({type}) names an accelerator, and cnnlab has none; use 'cpu'")
        elif isinstance(type, str):
            kind, _, number = type.partition(":")
            idx = None
            if number:
                if not number.isdigit():
                    raise RuntimeError(f"device: invalid device string {type!r}; expected 'type' or 'type:index'")
                idx = int(number)
        else:
            raise TypeError(f"device: expected a string, an int or a device, got {type!r}")
        if kind not in DEVICE_TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(DEVICE_TYPES)} as the device type, got {kind!r}")
        if index is not None:
            if idx is not None:
                raise RuntimeError(f"device: {type!r} already names an index; do not pass index={index}")
            idx = int(index)
        if idx is not None and idx < 0:
            raise RuntimeError(f"device: the index must be non-negative, got {idx}")
        self._type, self._index = kind, idx

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):  # lenient: `t.device == "cpu"` reads naturally
            return str(self) == other
        return isinstance(other, device) and (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash(str(self))

    def __reduce__(self):
        return (device, (self._type, self._index))


CPU = device("cpu")


def is_device_like(value) -> bool:
    """True for what ``.to()`` reads as a device: a device, a device string, or torch's device."""
    if isinstance(value, device):
        return True
    if isinstance(value, str):
        return value.partition(":")[0] in DEVICE_TYPES
    return type(value).__name__ == "device" and hasattr(value, "type") and hasattr(value, "index")


def check_device(value, where: str) -> device:
    """Return ``value`` as a device, or raise the one-line error for a device cnnlab lacks."""
    dev = value if isinstance(value, device) else device(str(value))
    if dev.type != "cpu":
        raise ValueError(
            f"{where}: cnnlab runs on the CPU only, got device {str(dev)!r} "
            "(cnnlab.cuda.is_available() is False; use 'cpu')"
        )
    return dev


def dtype_of_to(args, kwargs, where: str):
    """Read ``.to(...)``'s arguments (a device, a dtype, or both; keywords ``device=``,
    ``dtype=``, ``non_blocking=``, ``copy=``): check the device, return the dtype or None."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{where}: unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    dtype, dev = kwargs.get("dtype"), kwargs.get("device")
    for a in args:
        if a is None:
            continue
        if is_device_like(a):
            dev = a
        else:
            dtype = a
    if dev is not None:
        check_device(dev, where)
    return dtype
