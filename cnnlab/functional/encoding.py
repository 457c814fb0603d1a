"""``one_hot``: class indices to one-hot rows."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, from_numpy


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot encode integer class indices, as ``torch.nn.functional.one_hot``.

    Args:
        tensor: integer class indices of any shape, each in ``[0, num_classes)``.
        num_classes: number of classes; -1 (default) uses ``tensor.max() + 1``.

    Shape:
        - Input: (*)
        - Output: (*, num_classes), int64

    Example:
        >>> F.one_hot(cnnlab.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        got = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: expected a tensor of integer class indices, got {got}")
    labels = tensor.detach().numpy()
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(labels.min())}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes of an empty tensor; pass num_classes")
        num_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {int(labels.max())}")
    out = (labels[..., None] == np.arange(num_classes)).astype(np.int64)
    return from_numpy(out)
