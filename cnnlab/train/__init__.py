"""Training and evaluation: ``fit``, ``evaluate``, metrics, progress bars, run directories, plots.

Example:
    >>> from cnnlab.train import fit, evaluate
    >>> history = fit(model, train_loader, epochs=1, optimizer=opt, val_loader=test_loader)
    >>> evaluate(model, test_loader)["accuracy"]
"""

from .loop import History, TrainingDiverged, evaluate, fit, train_one_epoch
from .metrics import (
    ClassificationMeter, RegressionMeter, accuracy, confusion_matrix, mae, per_class_accuracy, rmse,
    topk_accuracy,
)
from .run_dir import RunExistsError, create_run_dir, latest_run, set_latest

__all__ = [
    "ClassificationMeter", "History", "RegressionMeter", "RunExistsError", "TrainingDiverged",
    "accuracy", "confusion_matrix", "create_run_dir", "evaluate", "fit", "latest_run", "mae",
    "per_class_accuracy", "rmse", "set_latest", "topk_accuracy", "train_one_epoch",
]
