"""The Errors view's answers: where the model fails on its test set, from :mod:`cnnlab.errors`.

The explainer's test set is the one its gallery pages through, so an image is named by the
same index there and here (``/api/infer {"sample": i}`` runs it). The analysis runs the model
over the first ``limit`` images once, on the first request, and is kept for the life of the
app: the model of an app never changes.

Example:
    >>> errs = TestSetErrors(ex, limit=10_000)
    >>> errs.summary()["confusion_matrix"][6][0]      # how many Shirts were called T-shirt/top
    >>> errs.cell(6, 0)["images"][0]["probability"]   # the most confident of those mistakes
"""

from __future__ import annotations

import threading

import numpy as np

from .. import errors
from .details import _int_arg
from .errors import ExplainError

MAX_ERROR_IMAGES = 10_000   # the whole test set of MNIST, Fashion-MNIST and CIFAR-10
MAX_CELL_PAGE = 100


class TestSetErrors:
    """The error analysis of an explainer's test set, computed on first use and then kept.

    Args:
        ex: the :class:`~cnnlab.explain.service.Explainer` (its model, dataset and classes).
        limit: analyse at most the first ``limit`` images of the test set.
    """

    __test__ = False   # not a pytest class, whatever its name says

    def __init__(self, ex, limit: int = MAX_ERROR_IMAGES):
        if limit < 1:
            raise ValueError(f"`errors_limit`: expected a positive number of images, got {limit}")
        self.ex = ex
        self.limit = int(limit)
        self._analysis = None
        self._lock = threading.Lock()

    def analysis(self) -> errors.ErrorAnalysis:
        ds = self.ex.dataset
        if ds is None:
            raise ExplainError("this explainer has no test set attached, so there are no errors to analyse",
                               404)
        with self._lock:             # one computation, however many requests ask at once
            if self._analysis is None:
                n = min(len(ds), self.limit)
                inputs = np.stack([ds.model_input(i) for i in range(n)]) if n else \
                    np.zeros((0, *self.ex.input_shape), np.float32)
                split = errors.SplitData("test", ds.data[:n], inputs, ds.targets[:n])
                with self.ex.engine.exclusive():
                    self._analysis = errors.analyze(self.ex.engine.model, split, self.ex.classes)
            return self._analysis

    def summary(self) -> dict:
        """The confusion matrix with the images of each cell, per-class scores, confused pairs."""
        if self.ex.dataset is None:
            return {"available": False,
                    "note": "no test set is attached to this model: there are no errors to show"}
        a = self.analysis()
        stats = a.per_class()
        index = {name: k for k, name in enumerate(a.classes)}
        total = len(self.ex.dataset)
        return {
            "available": True, "split": a.split, "images": len(a), "total": total,
            "note": "" if len(a) == total else f"the first {len(a):,} of the {total:,} test images",
            "accuracy": a.accuracy(), "classes": a.classes,
            "confusion_matrix": a.confusion_matrix().tolist(), "cells": a.cells(),
            "per_class": [{"class": name, "precision": float(stats["precision"][k]),
                           "recall": float(stats["recall"][k]), "f1": float(stats["f1"][k]),
                           "support": int(stats["support"][k])} for k, name in enumerate(a.classes)],
            "most_confused": [{"true": index[t], "true_name": t, "predicted": index[p], "predicted_name": p,
                               "count": c} for t, p, c in a.most_confused()],
        }

    def cell(self, true, predicted, offset=0, count=48) -> dict:
        """A page of the images of one confusion cell, highest loss first, with thumbnails."""
        a = self.analysis()
        k = len(a.classes)
        t, p = _int_arg(true, "true"), _int_arg(predicted, "predicted")
        for name, v in (("true", t), ("predicted", p)):
            if not 0 <= v < k:
                raise ExplainError(f"`{name}` must be a class index in 0..{k - 1}, got {v}", 404)
        offset, count = _int_arg(offset, "offset"), _int_arg(count, "count")
        if offset < 0 or not 1 <= count <= MAX_CELL_PAGE:
            raise ExplainError(f"need offset ≥ 0 and 1 ≤ count ≤ {MAX_CELL_PAGE}, "
                               f"got offset={offset}, count={count}")
        members = a.cells()[t][p]
        page = a.top_losses(len(members), indices=members)[offset:offset + count]
        return {"true": t, "true_name": a.classes[t], "predicted": p, "predicted_name": a.classes[p],
                "total": len(members), "offset": offset,
                "images": [{**row.as_dict(a.classes), "image": self.ex.dataset.thumbnail(row.index)}
                           for row in page]}
