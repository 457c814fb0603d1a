"""Training and evaluation: ``fit``, callbacks, ``evaluate``, metrics, progress bars, run
directories, plots.

Example:
    >>> from cnnlab.train import EarlyStopping, fit, evaluate
    >>> history = fit(model, train_loader, epochs=10, optimizer=opt, val_loader=val_loader,
    ...               test_loader=test_loader, callbacks=[EarlyStopping(patience=2)])
    >>> evaluate(model, test_loader)["accuracy"]
"""

from .callbacks import (BestModel, Callback, Checkpoint, ConsoleLog, EarlyStopping, FunctionCallback, History,
                        JSONLogger, Plots, StopAfter, TrainState)
from .loop import TrainingDiverged, evaluate, fit, run_loop, train_one_epoch
from .metrics import (
    ClassificationMeter, RegressionMeter, accuracy, confusion_matrix, mae, per_class_accuracy, rmse,
    topk_accuracy,
)
from .run_dir import RunExistsError, create_run_dir, latest_run, set_latest

__all__ = [
    "BestModel", "Callback", "Checkpoint", "ConsoleLog", "EarlyStopping", "FunctionCallback", "JSONLogger",
    "Plots", "StopAfter", "TrainState", "run_loop",
    "ClassificationMeter", "History", "RegressionMeter", "RunExistsError", "TrainingDiverged",
    "accuracy", "confusion_matrix", "create_run_dir", "evaluate", "fit", "latest_run", "mae",
    "per_class_accuracy", "rmse", "set_latest", "topk_accuracy", "train_one_epoch",
]
