"""Stateless layer functions, PyTorch's ``torch.nn.functional`` for cnnlab.

Also reachable as ``cnnlab.nn.functional``; conventionally imported as ``F``.
"""

from .activation import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .linear import flatten, linear
from .padding import pad

__all__ = [
    "elu", "flatten", "leaky_relu", "linear", "log_softmax", "pad", "relu", "sigmoid",
    "softmax", "tanh",
]
