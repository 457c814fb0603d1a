"""Optimizers with PyTorch's names and update rules: ``cnnlab.optim``.

Each optimizer matches ``torch.optim`` step by step (same formulas, same float32 rounding
order where it matters); learning-rate schedules live in ``cnnlab.optim.lr_scheduler``.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler"]
