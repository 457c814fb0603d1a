"""cnnlab: convolutional neural networks from scratch on NumPy, with PyTorch's API and numbers.

Example:
    >>> import cnnlab
    >>> from cnnlab import nn
    >>> x = cnnlab.randn(4, 3, requires_grad=True)
    >>> nn.Linear(3, 2)(x).sum().backward()
"""

from . import _allocator  # noqa: F401  (keeps freed buffers for reuse: see its docstring)
from ._device import device
from ._creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, normal, ones,
    ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from ._dtype import (
    bool_, double, dtype, float, float16, float32, float64, half, int, int8, int16, int32, int64, long, short, uint8,
)
from ._dtype import bool_ as bool  # noqa: A004  (torch.bool)
from ._printing import set_printoptions
from ._size import Size
from ._functions import (
    abs, allclose, amax, amin, argmax, argmin, bmm, cat, clamp, clip, concat, concatenate, eq,
    equal, exp, flatten, ge, gt, is_tensor, le, log, log_softmax, lt, matmul, max, maximum, mean,
    min, minimum, mm, ne, numel, permute, relu, reshape, sigmoid, softmax, sqrt, squeeze, stack,
    std, sum, t, tanh, transpose, unsqueeze, var, where,
    all, any, argsort, cos, cosh, meshgrid, sin, sinh, sort, swapaxes, swapdims, topk,
)
from ._tensor import Tensor
from .autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from . import return_types  # noqa: F401
from .random import Generator, initial_seed, manual_seed
from .serialization import load, save

__version__ = "0.1.0"


from . import functional, nn, optim, utils  # noqa: E402
from . import datasets, transforms  # noqa: E402
from . import models  # noqa: E402
from . import checkpoint, train  # noqa: E402
from . import inspect  # noqa: E402  (the inspection core every viewer uses)
from . import onnx  # noqa: E402  (needs the `onnx` extra only when export/load run)
from . import accelerator, backends, cuda  # noqa: E402
from .summarize import conv_output_size, summary  # noqa: E402  (package is `summarize` so `summary` is the function)
