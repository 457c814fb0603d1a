"""Metrics for classification and regression, computed on NumPy arrays.

Each metric is a plain function (``accuracy``, ``topk_accuracy``, ``confusion_matrix``,
``per_class_accuracy``, ``rmse``, ``mae``); the meters accumulate them over the batches of an
epoch without keeping every prediction in memory.

Example:
    >>> logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.5, 3.0]])
    >>> accuracy(logits, np.array([0, 1]))
    0.5
"""

from __future__ import annotations

import math

import numpy as np


def _logits_2d(logits: np.ndarray, who: str) -> np.ndarray:
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"{who}: expected logits of shape (N, C), got {tuple(logits.shape)}")
    return logits


def _check_targets(logits: np.ndarray, targets: np.ndarray, who: str) -> np.ndarray:
    targets = np.asarray(targets).reshape(-1)
    if targets.shape[0] != logits.shape[0]:
        raise ValueError(
            f"{who}: logits have {logits.shape[0]} rows but targets have {targets.shape[0]} entries"
        )
    return targets.astype(np.int64, copy=False)


def topk_correct(logits: np.ndarray, targets: np.ndarray, k: int) -> int:
    """How many rows have their target among the ``k`` largest logits.

    Ties are broken as ``argsort`` does (stable, earlier classes first); ``k`` larger than the
    number of classes counts every row as correct.
    """
    logits = _logits_2d(logits, "topk_correct")
    targets = _check_targets(logits, targets, "topk_correct")
    k = min(int(k), logits.shape[1])
    if k == 1:
        return int((logits.argmax(axis=1) == targets).sum())
    # A row's target is in the top k when fewer than k logits are strictly larger than it.
    target_logit = np.take_along_axis(logits, targets[:, None], axis=1)
    larger = (logits > target_logit).sum(axis=1)
    return int((larger < k).sum())


def accuracy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of rows whose largest logit is the target class (0 for an empty batch)."""
    n = len(np.asarray(targets).reshape(-1))
    return topk_correct(logits, targets, 1) / n if n else 0.0


def topk_accuracy(logits: np.ndarray, targets: np.ndarray, k: int = 5) -> float:
    """Fraction of rows whose target is among the ``k`` largest logits."""
    n = len(np.asarray(targets).reshape(-1))
    return topk_correct(logits, targets, k) / n if n else 0.0


def confusion_matrix(targets: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """``cm[i, j]`` counts samples of true class ``i`` predicted as class ``j`` (sklearn's layout)."""
    t = np.asarray(targets, dtype=np.int64).reshape(-1)
    p = np.asarray(predictions, dtype=np.int64).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: {t.shape[0]} targets but {p.shape[0]} predictions")
    bad = (t < 0) | (t >= num_classes)
    if bad.any():
        raise ValueError(
            f"confusion_matrix: target {int(t[bad][0])} is outside the {num_classes} classes 0..{num_classes - 1}"
        )
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix; NaN for a class with no samples."""
    cm = np.asarray(cm, dtype=np.float64)
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def rmse(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Root mean squared error over every element."""
    d = np.asarray(predictions, np.float64).reshape(-1) - np.asarray(targets, np.float64).reshape(-1)
    return float(np.sqrt(np.mean(d * d))) if d.size else 0.0


def mae(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Mean absolute error over every element."""
    d = np.asarray(predictions, np.float64).reshape(-1) - np.asarray(targets, np.float64).reshape(-1)
    return float(np.mean(np.abs(d))) if d.size else 0.0


class ClassificationMeter:
    """Accumulates loss, top-1/top-5 hits and the confusion matrix over batches.

    Args:
        num_classes: the number of classes (the confusion matrix grows if a batch has more
            logit columns).

    Example:
        >>> m = ClassificationMeter(3)
        >>> m.update(np.array([[2.0, 1.0, 0.0]]), np.array([0]), loss=0.3)
        >>> m.compute()["accuracy"]
        1.0
    """

    def __init__(self, num_classes: int | None = None):
        self.num_classes = num_classes
        self.cm = None if num_classes is None else np.zeros((num_classes, num_classes), np.int64)
        self.loss_sum = 0.0
        self.count = 0
        self.correct = 0
        self.correct5 = 0

    def update(self, logits: np.ndarray, targets: np.ndarray, loss: float | None = None) -> None:
        """Add one batch; ``loss`` is the batch's mean loss (weighted by its size)."""
        logits = _logits_2d(logits, "ClassificationMeter.update")
        targets = _check_targets(logits, targets, "ClassificationMeter.update")
        n = len(targets)
        c = logits.shape[1]
        if self.cm is None or c > self.cm.shape[0]:
            grown = np.zeros((c, c), np.int64)
            if self.cm is not None:
                grown[: self.cm.shape[0], : self.cm.shape[0]] = self.cm
            self.cm, self.num_classes = grown, c
        self.cm += confusion_matrix(targets, logits.argmax(axis=1), self.num_classes)
        self.correct += topk_correct(logits, targets, 1)
        self.correct5 += topk_correct(logits, targets, 5)
        if loss is not None:
            self.loss_sum += float(loss) * n
        self.count += n

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else 0.0

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else math.nan

    def compute(self) -> dict:
        """``loss``, ``accuracy``, ``top5_accuracy``, ``per_class_accuracy``, ``confusion_matrix``, ``count``."""
        cm = self.cm if self.cm is not None else np.zeros((0, 0), np.int64)
        return {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "top5_accuracy": self.correct5 / self.count if self.count else 0.0,
            "per_class_accuracy": [None if math.isnan(a) else float(a) for a in per_class_accuracy(cm)],
            "confusion_matrix": cm.tolist(),
            "count": self.count,
        }


class RegressionMeter:
    """Accumulates loss, squared and absolute errors over batches (RMSE and MAE)."""

    def __init__(self):
        self.loss_sum = 0.0
        self.count = 0
        self.sq_sum = 0.0
        self.abs_sum = 0.0
        self.elements = 0

    def update(self, predictions: np.ndarray, targets: np.ndarray, loss: float | None = None) -> None:
        p = np.asarray(predictions, np.float64).reshape(-1)
        t = np.asarray(targets, np.float64).reshape(-1)
        if p.shape != t.shape:
            raise ValueError(
                f"RegressionMeter.update: {p.size} predicted values but {t.size} target values"
            )
        d = p - t
        n = len(np.asarray(predictions))
        self.sq_sum += float(d @ d)
        self.abs_sum += float(np.abs(d).sum())
        self.elements += d.size
        if loss is not None:
            self.loss_sum += float(loss) * n
        self.count += n

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else math.nan

    def compute(self) -> dict:
        """``loss``, ``rmse``, ``mae``, ``count``."""
        e = max(self.elements, 1)
        return {
            "loss": self.loss,
            "rmse": math.sqrt(self.sq_sum / e),
            "mae": self.abs_sum / e,
            "count": self.count,
        }


def make_meter(task: str, num_classes: int | None = None):
    """A fresh meter for ``task`` ('classification' or 'regression')."""
    if task == "classification":
        return ClassificationMeter(num_classes)
    if task == "regression":
        return RegressionMeter()
    raise ValueError(f"task must be one of 'classification', 'regression'; got {task!r}")
