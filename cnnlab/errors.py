"""Where and how a classifier fails: error analysis of its predictions on a data set.

:class:`ErrorAnalysis` holds, for every image of a split, the true label, the class
probabilities and the loss, and answers the questions fastai's ``ClassificationInterpretation``
made popular:

- ``misclassified()`` and ``top_losses(k)``: images with true label, prediction and probability;
- ``most_confused(min_count)``: (true, predicted, count) off the diagonal, most frequent first,
  as fastai's ``most_confused``;
- ``confusion_matrix()`` (rows true, columns predicted, as scikit-learn) and ``cell(t, p)``,
  the images counted in one cell;
- ``per_class()``: precision, recall, F1 and support per class, as scikit-learn's
  ``precision_recall_fscore_support`` (0 where a ratio has no denominator).

:func:`analyze_run` builds one for a run's test split, or its validation split when the run
recorded one; the model's outputs go through ``cnnlab.inspect`` (its forward pass and its
probabilities) and the loss is the engine's own cross-entropy.

Example:
    >>> a = analyze_run("runs/latest")
    >>> a.most_confused()[:3]
    [('Shirt', 'T-shirt/top', 112), ('Pullover', 'Coat', 97), ...]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Prediction:
    """One image of the split: its index there, the labels and probabilities, and its loss."""

    index: int
    true: int
    predicted: int
    probability: float        # of the predicted class
    true_probability: float   # of the true class
    loss: float               # cross-entropy of this image

    def as_dict(self, classes) -> dict:
        return {"index": self.index, "true": self.true, "true_name": classes[self.true],
                "predicted": self.predicted, "predicted_name": classes[self.predicted],
                "probability": round(self.probability, 6), "true_probability": round(self.true_probability, 6),
                "loss": round(self.loss, 6)}


class ErrorAnalysis:
    """The predictions of a classifier on ``N`` labelled images.

    Args:
        probabilities: (N, K) class probabilities.
        labels: (N,) true class indices.
        losses: (N,) per-image loss (cross-entropy).
        classes: K class names (default "0".."K-1").
        split: a name for the images ("test", "val"), kept in the report.
    """

    def __init__(self, probabilities, labels, losses, classes=None, split: str = "test"):
        self.probabilities = np.asarray(probabilities, dtype=np.float64)
        self.labels = np.asarray(labels).astype(np.int64)
        self.losses = np.asarray(losses, dtype=np.float64)
        n, k = self.probabilities.shape
        if self.labels.shape != (n,) or self.losses.shape != (n,):
            raise ValueError(f"ErrorAnalysis: expected {n} labels and losses for {n} predictions, got "
                             f"{self.labels.shape} and {self.losses.shape}")
        if n and (self.labels.min() < 0 or self.labels.max() >= k):
            raise ValueError(f"ErrorAnalysis: labels must be class indices in 0..{k - 1}")
        self.classes = list(classes) if classes is not None and len(classes) == k else [str(i) for i in range(k)]
        self.split = split
        self.predicted = self.probabilities.argmax(axis=1)

    def __len__(self) -> int:
        return len(self.labels)

    def prediction(self, i: int) -> Prediction:
        p = self.probabilities[i]
        return Prediction(int(i), int(self.labels[i]), int(self.predicted[i]), float(p[self.predicted[i]]),
                          float(p[self.labels[i]]), float(self.losses[i]))

    def class_index(self, name) -> int:
        """A class given by name or by index (as text or int)."""
        if name in self.classes:
            return self.classes.index(name)
        if str(name).isdigit() and int(name) < len(self.classes):
            return int(name)
        raise ValueError(f"unknown class {name!r}; classes: {', '.join(self.classes)}")

    def misclassified(self) -> list[Prediction]:
        """The wrongly predicted images, highest loss first."""
        wrong = np.flatnonzero(self.predicted != self.labels)
        return [self.prediction(i) for i in wrong[np.argsort(-self.losses[wrong], kind="stable")]]

    def top_losses(self, k: int = 16, indices=None) -> list[Prediction]:
        """The ``k`` images with the highest loss (among ``indices`` if given), highest first."""
        pool = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64)
        order = pool[np.argsort(-self.losses[pool], kind="stable")]
        return [self.prediction(i) for i in order[:k]]

    def confusion_matrix(self) -> np.ndarray:
        """(K, K) counts: row = true class, column = predicted class."""
        k = len(self.classes)
        return np.bincount(self.labels * k + self.predicted, minlength=k * k).reshape(k, k)

    def cell(self, true, predicted) -> list[int]:
        """The indices of the images of class ``true`` predicted as ``predicted`` (names or indices)."""
        t, p = self.class_index(true), self.class_index(predicted)
        return np.flatnonzero((self.labels == t) & (self.predicted == p)).tolist()

    def cells(self) -> list[list[list[int]]]:
        """``cells()[t][p]``: the image indices counted in each cell of the confusion matrix."""
        k = len(self.classes)
        order = np.argsort(self.labels * k + self.predicted, kind="stable")
        bounds = np.cumsum(self.confusion_matrix().ravel())
        groups = np.split(order, bounds[:-1])
        return [[groups[t * k + p].tolist() for p in range(k)] for t in range(k)]

    def most_confused(self, min_count: int = 1) -> list[tuple[str, str, int]]:
        """``(true, predicted, count)`` for every off-diagonal cell with at least ``min_count``
        images, most frequent first (ties in row-major order), as fastai's ``most_confused``."""
        cm = self.confusion_matrix()
        pairs = [(self.classes[t], self.classes[p], int(cm[t, p]))
                 for t, p in zip(*np.nonzero(cm >= min_count)) if t != p]
        return sorted(pairs, key=lambda row: row[2], reverse=True)

    def per_class(self) -> dict[str, np.ndarray]:
        """Precision, recall, F1 and support per class (0 where a ratio is 0/0, as scikit-learn)."""
        cm = self.confusion_matrix().astype(np.float64)
        tp, predicted, support = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
        precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
        recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
        both = precision + recall
        f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
        return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}

    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.labels)) if len(self) else 0.0

    def report(self, top: int = 16) -> dict:
        """Everything above as JSON-able data."""
        stats = self.per_class()
        return {
            "split": self.split, "images": len(self), "accuracy": round(self.accuracy(), 6),
            "classes": self.classes,
            "most_confused": [{"true": t, "predicted": p, "count": c} for t, p, c in self.most_confused()],
            "top_losses": [p.as_dict(self.classes) for p in self.top_losses(top)],
            "misclassified": [p.as_dict(self.classes) for p in self.misclassified()],
            "confusion_matrix": self.confusion_matrix().tolist(),
            "confusion_cells": self.cells(),
            "per_class": [{"class": name, "precision": round(float(stats["precision"][i]), 6),
                           "recall": round(float(stats["recall"][i]), 6), "f1": round(float(stats["f1"][i]), 6),
                           "support": int(stats["support"][i])} for i, name in enumerate(self.classes)],
        }


# ----------------------------------------------------------------- a run's split, predicted

SPLITS = ("test", "val")
ROWS_PER_PASS = 500  # images per forward pass: bounded memory, same numbers


@dataclass
class SplitData:
    """The labelled images of one split of a run's data set, raw and as the model's input."""

    name: str                 # "test" or "val"
    images: np.ndarray        # uint8 (N, H, W) or (N, H, W, 3), for display
    inputs: np.ndarray        # float32 (N, C, H, W), preprocessed as in training
    labels: np.ndarray        # int64 (N,)


def validation_indices(checkpoint) -> np.ndarray:
    """The training-split indices a run held out for validation, from its ``run.json``."""
    import json

    from .inspect import resolve_checkpoint

    run = resolve_checkpoint(checkpoint).parent
    record = {}
    if (run / "run.json").is_file():
        record = json.loads((run / "run.json").read_text()).get("validation") or {}
    indices = np.asarray(record.get("indices") or [], dtype=np.int64)
    if not len(indices):
        raise ValueError(f"run {str(run)!r} records no validation split (trained with --val-split 0, or "
                         "before runs recorded one); use the test split")
    return indices


def recorded_root(checkpoint, dataset: str) -> str | None:
    """The ``--data-root`` the run was trained with (its ``run.json``), if that folder still
    exists and the run's data set is ``dataset``; else None (the data set's usual places)."""
    import json
    from pathlib import Path

    from .inspect import resolve_checkpoint

    try:
        config = json.loads((resolve_checkpoint(checkpoint).parent / "run.json").read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    root = config.get("data_root")
    return str(root) if root and config.get("data") == dataset and Path(root).is_dir() else None


def load_split(model_info, checkpoint, split: str = "test", limit: int | None = None) -> SplitData:
    """The images and labels of ``split`` of the run's data set, preprocessed as in training."""
    from .train.recipe import apply_preprocess
    from .train.session import _load_split

    if split not in SPLITS:
        raise ValueError(f"`split`: expected one of {', '.join(SPLITS)}, got {split!r}")
    if not model_info.is_image_model or (model_info.task or "classification") != "classification":
        raise ValueError(f"checkpoint {str(checkpoint)!r} is not an image classifier; error analysis needs one")
    if not model_info.dataset:
        raise ValueError(f"checkpoint {str(checkpoint)!r} does not record its data set")
    fold = model_info.split_for(model_info.dataset)
    root = recorded_root(checkpoint, model_info.dataset)   # an imagefolder run's own folder
    if split == "test":
        ds = _load_split(model_info.dataset, False, root, fold)
        data, labels = np.asarray(ds.data), np.asarray(ds.targets)
    else:
        ds = _load_split(model_info.dataset, True, root, fold)
        idx = validation_indices(checkpoint)
        data, labels = np.asarray(ds.data)[idx], np.asarray(ds.targets)[idx]
    if limit is not None:
        if limit < 1:
            raise ValueError(f"`limit`: expected a positive number of images, got {limit}")
        data, labels = data[:limit], labels[:limit]
    inputs = apply_preprocess(data, model_info.preprocess_dict)
    return SplitData(split, data, inputs, labels.astype(np.int64))


def analyze(model, data: SplitData, classes=None) -> ErrorAnalysis:
    """Run ``model`` over ``data`` (in passes of ``ROWS_PER_PASS`` images) and analyse its errors."""
    import cnnlab
    import cnnlab.functional as F

    from .inspect import forward, probabilities

    outputs = np.concatenate([forward(model, data.inputs[i:i + ROWS_PER_PASS])
                              for i in range(0, len(data.inputs), ROWS_PER_PASS)])
    if outputs.ndim != 2:
        raise ValueError(f"error analysis needs a classifier with outputs (N, classes), got {outputs.shape}")
    with cnnlab.no_grad():
        losses = F.cross_entropy(cnnlab.from_numpy(outputs), cnnlab.from_numpy(data.labels), reduction="none")
    return ErrorAnalysis(probabilities(outputs), data.labels, losses.numpy(), classes, split=data.name)


def analyze_run(checkpoint, split: str = "test", limit: int | None = None):
    """``(analysis, data, model, info)`` for a run directory or checkpoint on ``split``."""
    from .inspect import load_run

    model, info = load_run(checkpoint)
    data = load_split(info, checkpoint, split, limit)
    return analyze(model, data, info.classes), data, model, info


def split_image(model_info, checkpoint, split: str, index: int) -> tuple[np.ndarray, int]:
    """``(uint8 image, label)`` of image ``index`` of ``split`` ("test" or "val": the run's
    validation part, numbered as in its error report)."""
    from .train.session import _load_split

    if split not in SPLITS:
        raise ValueError(f"`split`: expected one of {', '.join(SPLITS)}, got {split!r}")
    if not model_info.dataset:
        raise ValueError(f"{split}:{index}: checkpoint {str(checkpoint)!r} does not record its data set; "
                         "give an image file")
    ds = _load_split(model_info.dataset, split == "val", recorded_root(checkpoint, model_info.dataset),
                     model_info.split_for(model_info.dataset))
    positions = np.arange(len(ds)) if split == "test" else validation_indices(checkpoint)
    if not 0 <= index < len(positions):
        raise ValueError(f"{split}:{index}: the {model_info.dataset} {split} split has images "
                         f"0..{len(positions) - 1}")
    i = int(positions[index])
    return np.asarray(ds.data[i], dtype=np.uint8), int(ds.targets[i])
