"""Stateless layer functions, PyTorch's ``torch.nn.functional`` for cnnlab.

Also reachable as ``cnnlab.nn.functional``; conventionally imported as ``F``.
"""

from .activation import elu, leaky_relu, log_softmax, maxout, relu, sigmoid, softmax, tanh
from .dropout import dropout, dropout2d
from .encoding import one_hot
from .norms import group_norm, layer_norm
from .resize import interpolate, upsample
from .conv_transpose import conv_transpose2d
from .loss import binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss, nll_loss
from .normalization import batch_norm, local_response_norm
from .conv import conv2d
from .linear import flatten, linear
from .padding import pad
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "elu", "flatten", "leaky_relu", "linear", "log_softmax", "pad", "relu", "sigmoid",
    "softmax", "tanh",
    "batch_norm", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "dropout2d",
    "l1_loss", "local_response_norm", "maxout", "mse_loss", "nll_loss",
]
__all__ += ["adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "conv2d", "max_pool2d"]
__all__ += ["one_hot"]
__all__ += ["group_norm", "layer_norm"]
__all__ += ["interpolate", "upsample"]
__all__ += ["conv_transpose2d"]
