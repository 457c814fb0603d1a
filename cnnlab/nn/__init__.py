"""Neural-network building blocks with PyTorch's names: ``cnnlab.nn``."""

from . import functional, init
from . import utils
from .modules.activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .modules.containers import ModuleDict, ModuleList, Sequential
from .modules.linear import Flatten, Identity, Linear
from .modules.module import Module
from .parameter import Parameter
