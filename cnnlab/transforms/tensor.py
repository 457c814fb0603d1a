"""``ToTensor`` and ``Normalize``: from pixels to normalised float Tensors."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._tensor import Tensor, from_numpy
from ._functional import is_pil


class ToTensor:
    """Convert a PIL image or an ``(H, W[, C])`` array to a ``(C, H, W)`` Tensor.

    uint8 data (PIL modes L, RGB, RGBA, P, 1...) is scaled to float32 in [0, 1]; other arrays
    keep their dtype and values, as in torchvision.

    Shape:
        (H, W) or (H, W, C) → (C, H, W); batch form (N, H, W, C) → (N, C, H, W).

    Example:
        >>> ToTensor()(np.full((28, 28), 255, np.uint8)).shape
        cnnlab.Size([1, 28, 28])
    """

    def __call__(self, pic) -> Tensor:
        if is_pil(pic):
            arr = np.asarray(pic)
            if pic.mode == "1":
                arr = arr.astype(np.uint8) * 255
        elif isinstance(pic, Tensor):
            raise TypeError("ToTensor: input is already a Tensor; expected a PIL image or a NumPy array")
        else:
            arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise ValueError(f"ToTensor: expected an image of shape (H, W) or (H, W, C), got {arr.shape}")
        return from_numpy(self._convert(arr.transpose(2, 0, 1)))

    @staticmethod
    def _convert(arr: np.ndarray) -> np.ndarray:
        if arr.dtype == np.uint8:
            # Multiply by 1/255 would differ from torch's division in the last bit: divide.
            return np.divide(arr, np.float32(255), dtype=np.float32)
        if arr.dtype == np.bool_:
            return arr.astype(np.float32)
        return np.ascontiguousarray(arr)

    def batch(self, x: np.ndarray, chw: bool) -> tuple[np.ndarray, bool]:
        """(N, H, W[, C]) array → (N, C, H, W), scaled like ``__call__``."""
        if chw:
            raise ValueError("ToTensor: the batch is already a tensor (N, C, H, W)")
        if x.ndim == 3:
            x = x[..., None]
        return np.ascontiguousarray(self._convert(x.transpose(0, 3, 1, 2))), True

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """Normalise each channel: ``out[c] = (x[c] - mean[c]) / std[c]``.

    Args:
        mean: per-channel means (sequence of C floats).
        std: per-channel standard deviations (sequence of C floats, none zero).
        inplace: write into the input tensor (default False).

    Shape:
        (..., C, H, W) → same shape; float tensors only.

    Example:
        >>> Normalize((0.1307,), (0.3081,))(ToTensor()(img))
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean = [float(m) for m in np.atleast_1d(mean)]
        self.std = [float(s) for s in np.atleast_1d(std)]
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero, leading to division by zero, got std={self.std}")
        self.inplace = inplace

    def _apply(self, arr: np.ndarray, channel_axis: int) -> np.ndarray:
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor, got {arr.dtype}; apply ToTensor first")
        c = arr.shape[channel_axis]
        if len(self.mean) not in (1, c):
            raise ValueError(
                f"Normalize(mean={self.mean}, std={self.std}): expected {len(self.mean)} channels, "
                f"got an input with {c} (shape {arr.shape})"
            )
        shape = [1] * arr.ndim
        shape[channel_axis] = len(self.mean)
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(shape)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(shape)
        if self.inplace:
            np.subtract(arr, mean, out=arr)
            return np.divide(arr, std, out=arr)
        return (arr - mean) / std

    def __call__(self, tensor):
        arr = tensor.detach().numpy() if isinstance(tensor, Tensor) else np.asarray(tensor)
        if arr.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor of shape (..., C, H, W), got {arr.shape}")
        return from_numpy(self._apply(arr, -3))

    def batch(self, x: np.ndarray, chw: bool) -> tuple[np.ndarray, bool]:
        if not chw:
            raise ValueError("Normalize: needs a tensor (N, C, H, W); put ToTensor before Normalize")
        return self._apply(x, 1), True

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"
