"""Loss modules; each stores its options and calls its ``cnnlab.functional`` counterpart."""

from __future__ import annotations

from ... import functional as F
from ..._args import loss_reduction
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = loss_reduction(type(self).__name__, reduction, size_average, reduce)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        # A buffer, as in torch, so the class weights travel with state_dict and .to().
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits and class indices (or class probabilities).

    ℓ_n = −(1 − ε) w_{y_n} log softmax(x_n)_{y_n} − (ε/C) Σ_c w_c log softmax(x_n)_c

    Args:
        weight: per-class weight of shape (C,) (default None).
        size_average, reduce: deprecated, as in torch.
        ignore_index: target value that is ignored (default -100).
        reduction: 'none' | 'mean' | 'sum' (default 'mean'); 'mean' divides by Σ w_{y_n}.
        label_smoothing: ε in [0, 1] (default 0.0).

    Shape:
        - Input: (N, C), (N, C, d1, ...) or (C,)
        - Target: (N,), (N, d1, ...) or () class indices; or probabilities shaped as the input
        - Output: scalar, or (N, d1, ...) with reduction='none'

    Example:
        >>> loss = nn.CrossEntropyLoss()(model(x), y)
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()] if self.reduction != "mean" else []
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(parts)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood on log-probabilities: ℓ_n = −w_{y_n} x_{n, y_n}.

    Args: ``weight``, ``size_average``, ``ignore_index`` (-100), ``reduce``, ``reduction`` ('mean').

    Shape:
        - Input: (N, C), (N, C, d1, ...) or (C,); Target: (N,), (N, d1, ...) or ()
        - Output: scalar, or (N, d1, ...) with reduction='none'

    Example:
        >>> loss = nn.NLLLoss()(F.log_softmax(logits, 1), y)
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ℓ_n = (x_n − y_n)². Shape: input and target alike; output scalar
    (or the input's shape with reduction='none').

    Example:
        >>> nn.MSELoss()(pred, target)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ℓ_n = |x_n − y_n|. Shape: as ``MSELoss``.

    Example:
        >>> nn.L1Loss(reduction="sum")(pred, target)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable op.

    ℓ_n = −w_n [p · y_n log σ(x_n) + (1 − y_n) log(1 − σ(x_n))]

    Args:
        weight: per-element rescaling, broadcast to the input (default None).
        size_average, reduce: deprecated, as in torch.
        reduction: 'none' | 'mean' | 'sum' (default 'mean').
        pos_weight: weight p of positive examples, broadcast along the last dim (default None).

    Shape:
        - Input: (*); Target: (*), same shape; Output: scalar or (*) with reduction='none'

    Example:
        >>> nn.BCEWithLogitsLoss(pos_weight=cnnlab.tensor([3.0]))(logits, labels)
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
