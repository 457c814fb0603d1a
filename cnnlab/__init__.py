"""cnnlab: convolutional neural networks from scratch on NumPy, with PyTorch's API and numbers.

Example:
    >>> import cnnlab
    >>> from cnnlab import nn
    >>> x = cnnlab.randn(4, 3, requires_grad=True)
    >>> nn.Linear(3, 2)(x).sum().backward()
"""

from . import _allocator  # noqa: F401  (keeps freed buffers for reuse: see its docstring)
from ._creation import (
    arange, as_tensor, empty, eye, from_numpy, full, linspace, ones, ones_like, rand, randint,
    randn, randperm, tensor, zeros, zeros_like,
)
from ._dtype import bool_, double, float, float16, float32, float64, int, int8, int32, int64, long, uint8
from ._functions import (
    abs, allclose, amax, amin, argmax, argmin, bmm, cat, clamp, clip, concat, concatenate, eq,
    equal, exp, flatten, ge, gt, is_tensor, le, log, log_softmax, lt, matmul, max, maximum, mean,
    min, minimum, mm, ne, numel, permute, relu, reshape, sigmoid, softmax, sqrt, squeeze, stack,
    std, sum, t, tanh, transpose, unsqueeze, var, where,
)
from ._tensor import Tensor
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .random import initial_seed, manual_seed

__version__ = "0.1.0"


def device(name: str = "cpu") -> str:
    """``cnnlab.device("cpu")``: cnnlab computes on the CPU; other devices are refused."""
    if not str(name).startswith("cpu"):
        raise ValueError(f"device: cnnlab runs on the CPU only, got {name!r}")
    return "cpu"


from . import functional, nn, optim, utils  # noqa: E402
from . import datasets, transforms  # noqa: E402
from . import models  # noqa: E402
from . import checkpoint, train  # noqa: E402
from . import onnx  # noqa: E402  (needs the `onnx` extra only when export/load run)
from .summarize import conv_output_size, summary  # noqa: E402  (package is `summarize` so `summary` is the function)
