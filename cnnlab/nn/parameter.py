"""``Parameter``: a Tensor that a Module registers as learnable."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's learnable weight; ``requires_grad`` defaults to True.

    Example:
        >>> w = nn.Parameter(cnnlab.zeros(3, 4))
        >>> w.requires_grad
        True
    """

    def __init__(self, data=None, requires_grad: bool = True):
        array = np.zeros(0, dtype=np.float32) if data is None else (data.detach().numpy() if isinstance(data, Tensor) else np.asarray(data))
        super().__init__(array, dtype=array.dtype, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
