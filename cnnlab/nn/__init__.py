"""Neural-network building blocks with PyTorch's names: ``cnnlab.nn``."""

from . import functional, init
from . import utils
from .modules.activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .modules.dropout import Dropout, Dropout2d
from .modules.loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .modules.maxout import Maxout
from .modules.norms import GroupNorm, LayerNorm
from .modules.upsample import Upsample
from .modules.normalization import BatchNorm1d, BatchNorm2d, LocalResponseNorm
from .modules.containers import ModuleDict, ModuleList, Sequential
from .modules.conv import Conv2d, ConvTranspose2d
from .modules.linear import Flatten, Identity, Linear
from .modules.lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear, UninitializedParameter
from .modules.module import Module
from .modules.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .parameter import Parameter
