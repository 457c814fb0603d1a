"""Lazy layers: ``LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm1d``/``2d`` infer their input size.

Such a layer is built without its input size (``nn.LazyLinear(10)``); its first call reads the
size from the input, initialises the parameters exactly as the ordinary layer does (so, as in
PyTorch, a seeded model draws the same numbers as the same model written with explicit sizes,
provided nothing else draws in between), and turns into that layer (``type(layer) is
nn.Linear`` afterwards). Parameters are placeholders until then; they keep their identity,
so an optimizer built before the first call updates the materialised weights.
"""

from __future__ import annotations

from ..._creation import empty
from ...random import get_rng_state, set_rng_state
from ..parameter import Parameter
from .conv import Conv2d
from .linear import Linear
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d

# Module.__dict__ entries that belong to the lazy module's own life (hooks, mode), not to the layer
_KEEP = {"_parameters", "_buffers", "_non_persistent", "_modules", "_forward_hooks", "training"}


class UninitializedParameter(Parameter):
    """A parameter whose shape a lazy layer learns at its first call."""

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class _LazyModule(Module):
    cls_to_become: type

    def _placeholders(self, names, dtype) -> None:
        for name in names:
            setattr(self, name, UninitializedParameter(empty(0, dtype=dtype)))

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def _in_size(self, input) -> int:  # pragma: no cover
        raise NotImplementedError

    def _build(self, in_size: int) -> Module:  # pragma: no cover
        raise NotImplementedError

    def forward(self, input, *args, **kwargs):
        built = self._build(self._in_size(input))
        for name, param in list(self._parameters.items()):
            if param is None:
                continue
            source = built._parameters[name]
            param.data = source.data  # in place: optimizers holding `param` see the weights
            param.__class__ = Parameter
        for name, buffer in built._buffers.items():
            self.register_buffer(name, buffer, persistent=name not in built._non_persistent)
        for key, value in built.__dict__.items():
            if key not in _KEEP:
                object.__setattr__(self, key, value)
        self.__class__ = type(built)
        return self.forward(input, *args, **kwargs)

    def _input_error(self, input, expected: str) -> ValueError:
        return ValueError(f"{type(self).__name__}: expected input of shape {expected}, got {tuple(input.shape)}")


class LazyLinear(_LazyModule):
    """``Linear`` whose ``in_features`` is the last dim of its first input.

    Args:
        out_features: size of each output sample.
        bias: learn an additive bias (default True).

    Example:
        >>> fc = nn.LazyLinear(10)
        >>> fc(cnnlab.randn(8, 84)).shape, fc
        (cnnlab.Size([8, 10]), Linear(in_features=84, out_features=10, bias=True))
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        if out_features <= 0:
            raise ValueError(f"LazyLinear: out_features must be positive, got {out_features}")
        self.in_features, self.out_features, self._bias, self._dtype = 0, out_features, bias, dtype
        self._placeholders(["weight", "bias"] if bias else ["weight"], dtype)
        if not bias:
            self.register_parameter("bias", None)

    def _in_size(self, input) -> int:
        if input.ndim == 0 or input.shape[-1] == 0:
            raise self._input_error(input, "(*, in_features) with in_features > 0")
        return input.shape[-1]

    def _build(self, in_size: int) -> Module:
        return Linear(in_size, self.out_features, bias=self._bias, dtype=self._dtype)

    def extra_repr(self) -> str:
        return f"in_features=0, out_features={self.out_features}, bias={self._bias}"


class LazyConv2d(_LazyModule):
    """``Conv2d`` whose ``in_channels`` comes from its first input, (N, C, H, W) or (C, H, W).

    Args: as ``Conv2d`` without ``in_channels``.

    Example:
        >>> conv = nn.LazyConv2d(6, kernel_size=5, padding=2)
        >>> conv(cnnlab.randn(1, 1, 28, 28)).shape
        cnnlab.Size([1, 6, 28, 28])
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        # validate now, with a stand-in in_channels, so a bad argument fails where it is written;
        # the stand-in's initialisation must not move the random stream
        state = get_rng_state()
        try:
            Conv2d(groups, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, dtype)
        finally:
            set_rng_state(state)
        self.out_channels = out_channels
        self._args = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                          groups=groups, bias=bias, padding_mode=padding_mode, dtype=dtype)
        self._placeholders(["weight", "bias"] if bias else ["weight"], dtype)
        if not bias:
            self.register_parameter("bias", None)

    def _in_size(self, input) -> int:
        if input.ndim not in (3, 4):
            raise self._input_error(input, "(N, C, H, W) or (C, H, W)")
        return input.shape[-3]

    def _build(self, in_size: int) -> Module:
        return Conv2d(in_size, self.out_channels, **self._args)

    def extra_repr(self) -> str:
        return f"0, {self.out_channels}, kernel_size={self._args['kernel_size']!r}"


class _LazyBatchNorm(_LazyModule):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None):
        super().__init__()
        self._args = dict(eps=eps, momentum=momentum, affine=affine,
                          track_running_stats=track_running_stats, dtype=dtype)
        self.num_features = 0
        if affine:
            self._placeholders(["weight", "bias"], dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def _in_size(self, input) -> int:
        if input.ndim not in self.cls_to_become._expected_dims:
            raise self._input_error(input, self.cls_to_become._shape_text.format(C="C"))
        return input.shape[1]

    def _build(self, in_size: int) -> Module:
        return self.cls_to_become(in_size, **self._args)

    def extra_repr(self) -> str:
        a = self._args
        return (f"0, eps={a['eps']}, momentum={a['momentum']}, affine={a['affine']}, "
                f"track_running_stats={a['track_running_stats']}")


class LazyBatchNorm1d(_LazyBatchNorm):
    """``BatchNorm1d`` whose ``num_features`` is dim 1 of its first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm):
    """``BatchNorm2d`` whose ``num_features`` is dim 1 of its first input.

    Example:
        >>> bn = nn.LazyBatchNorm2d()
        >>> bn(cnnlab.randn(8, 16, 12, 12)).shape, bn.num_features
        (cnnlab.Size([8, 16, 12, 12]), 16)
    """

    cls_to_become = BatchNorm2d
