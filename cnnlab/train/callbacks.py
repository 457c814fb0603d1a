"""Callbacks: everything a training run does around ``fit``'s loop.

The loop (``cnnlab.train.loop.run_loop``) only trains, evaluates and steps the scheduler. What a
run does besides (keeping the best model, writing checkpoints and logs, drawing plots, printing
a line per epoch, stopping early) is a ``Callback``. Write your own by subclassing ``Callback``
and overriding the hooks you need; every hook receives the ``TrainState`` of the run.

Hooks, in the order the loop calls them::

    on_train_begin(state)                  after a resume has restored weights and history
      on_epoch_begin(state)                before the epoch's first batch
        on_batch_end(state, batch) -> stop?   after each optimizer step
      on_epoch_end(state, record) -> stop?    after evaluation and the scheduler's epoch step;
                                             ``record`` is already the last of history.records
    on_train_end(state)                    after the last epoch, also when a callback stopped

A stop signal is a true return value: from ``on_batch_end`` it ends the epoch after that batch
(the epoch is still evaluated, checkpointed and logged) and the run after it; from
``on_epoch_end`` it ends the run after this epoch. Every callback sees every epoch's end, even
when an earlier one asked to stop.

Decisions (best model, early stopping) read the validation metrics (``val_*``) or, without a
validation set, the training metrics; the test metrics (``test_*``) are recorded, never used.

Example:
    >>> class PrintLR(Callback):
    ...     def on_epoch_end(self, state, record):
    ...         print(record["epoch"], record["lr"])
    >>> fit(model, loader, epochs=3, optimizer=opt, val_loader=val,
    ...     callbacks=[PrintLR(), EarlyStopping(patience=2)])

The older form, a function ``fn(record, model)`` that returns ``False`` to stop, still works:
``fit`` wraps it in ``FunctionCallback``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

CHECKPOINT = "checkpoint.safetensors"
BEST = "best.safetensors"


@dataclass
class History:
    """What ``fit`` returns: one record per epoch (the lines of ``metrics.jsonl``)."""

    records: list = field(default_factory=list)
    run_dir: Path | None = None
    best_epoch: int | None = None
    last_val: dict | None = None  # full validation metrics of the last epoch (confusion matrix...)
    last_test: dict | None = None  # full test metrics of the last epoch (for the record only)
    steps: list = field(default_factory=list)  # per-step {"step", "epoch", "loss", "accuracy"}
    filters: Any = None  # the first conv layer per epoch (snapshots.FilterHistory), with out_dir

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}


@dataclass
class TrainState:
    """The run as callbacks see it; the loop updates ``epoch``, ``step`` and ``history``."""

    model: Any
    optimizer: Any
    train_loader: Any
    epochs: int
    scheduler: Any = None
    loss_fn: Callable | None = None
    val_loader: Any = None
    test_loader: Any = None
    task: str = "classification"
    num_classes: int | None = None
    classes: list | None = None
    out_dir: Path | None = None
    history: History = field(default_factory=History)
    epoch: int = 0  # the epoch in progress (1-based), or the last one finished
    step: int = 0  # optimizer steps done since the start of the run
    start_epoch: int = 0  # epochs already done when this call of fit began (resume)
    resumed: dict | None = None  # the checkpoint metadata a resumed run started from
    best: float | None = None  # the best monitored value so far (BestModel)
    improved: bool = False  # whether this epoch set a new best (BestModel)
    last_good: Path | None = None  # the newest checkpoint on disk
    epoch_steps: list = field(default_factory=list)  # this epoch's per-step records
    grad_clip: float | None = None  # clip the gradient norm to this before each step
    progress: bool | None = None  # progress bars (default: only on a terminal)

    def monitor(self) -> str:
        """The metric decisions use by default: validation if there is some, else training."""
        split = "val" if self.val_loader is not None else "train"
        return f"{split}_{'accuracy' if self.task == 'classification' else 'loss'}"


class Callback:
    """Base class of callbacks; every hook does nothing unless overridden (see module doc)."""

    def on_train_begin(self, state: TrainState) -> None:
        pass

    def on_epoch_begin(self, state: TrainState) -> None:
        pass

    def on_batch_end(self, state: TrainState, batch: dict) -> bool | None:
        """``batch``: ``{"step", "loss", "accuracy", "size"}`` of the step just taken."""
        return None

    def on_epoch_end(self, state: TrainState, record: dict) -> bool | None:
        """``record``: the epoch's line of ``metrics.jsonl``; return True to stop the run."""
        return None

    def on_train_end(self, state: TrainState) -> None:
        pass


class FunctionCallback(Callback):
    """The older callback form: ``fn(record, model)`` after each epoch, ``False`` stops."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def on_epoch_end(self, state, record):
        return self.fn(record, state.model) is False


def _check_monitor(owner: str, monitor: str | None) -> None:
    if monitor is not None and monitor.startswith("test_"):
        raise ValueError(f"{owner}: monitor {monitor!r} reads the test set, which is never used for a "
                         "decision; monitor a val_ or train_ metric")


def _better(value: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    return value > best + min_delta if mode == "max" else value < best - min_delta


def _mode(monitor: str, mode: str | None) -> str:
    if mode is not None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        return mode
    return "max" if monitor.endswith("accuracy") else "min"


class BestModel(Callback):
    """Marks the epoch whose ``monitor`` is the best so far (``state.improved``, ``state.best``,
    ``history.best_epoch``); ``Checkpoint`` then copies it to ``best.safetensors``.

    Args:
        monitor: a record key; default ``val_accuracy`` (``val_loss`` for regression), or the
            training metric when there is no validation set. ``test_*`` is refused.
        mode: ``"max"`` or ``"min"``; default ``"max"`` for accuracies, else ``"min"``.
    """

    def __init__(self, monitor: str | None = None, mode: str | None = None):
        _check_monitor("BestModel", monitor)
        self.monitor, self.mode = monitor, mode

    def on_epoch_end(self, state, record):
        monitor = self.monitor or state.monitor()
        score = record.get(monitor)
        state.improved = score is not None and (
            state.best is None or _better(score, state.best, _mode(monitor, self.mode)))
        if state.improved:
            state.best, state.history.best_epoch = score, record["epoch"]


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    It reads the history's records (not a counter of its own), so a resumed run stops exactly
    where the uninterrupted run would.

    Args:
        monitor: as in ``BestModel`` (default: validation accuracy / loss; never a test metric).
        patience: epochs without improvement tolerated (default 3).
        min_delta: how much better counts as an improvement (default 0).
        mode: ``"max"`` or ``"min"`` (default from the metric's name).
    """

    def __init__(self, monitor: str | None = None, patience: int = 3, min_delta: float = 0.0,
                 mode: str | None = None):
        _check_monitor("EarlyStopping", monitor)
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be a positive integer, got {patience!r}")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, min_delta, mode
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, state, record):
        monitor = self.monitor or state.monitor()
        mode = _mode(monitor, self.mode)
        if record.get(monitor) is None:
            return None
        values = [(r["epoch"], r[monitor]) for r in state.history.records if r.get(monitor) is not None]
        best_epoch, best = values[0]
        for epoch, value in values[1:]:
            if _better(value, best, mode, self.min_delta):
                best_epoch, best = epoch, value
        if record["epoch"] - best_epoch >= self.patience:
            self.stopped_epoch = record["epoch"]
            return True
        return None


class Checkpoint(Callback):
    """``checkpoint.safetensors`` after every epoch and ``best.safetensors`` for the best one,
    both written atomically (temporary file in the same directory, fsync, rename).

    The checkpoint is the run's source of truth: besides weights, optimizer, scheduler and
    random-generator states it stores every finished epoch's record and every step's loss and
    accuracy, from which a resumed run rebuilds ``metrics.jsonl`` and ``steps.jsonl``.
    On start it removes temporary files a killed run left behind.

    Args:
        out_dir: the run directory.
        model_name, model_config, seed: stored for ``load_checkpoint`` (registry models).
        extra: more JSON-able metadata (task, classes, dataset, preprocessing...).
    """

    def __init__(self, out_dir, *, model_name=None, model_config=None, seed=None, extra: dict | None = None):
        self.out = Path(out_dir)
        self.meta = dict(model_name=model_name, model_config=model_config, seed=seed)
        self.extra = dict(extra or {})

    def on_train_begin(self, state):
        from .run_dir import remove_stale_temp_files

        remove_stale_temp_files(self.out)
        if state.resumed is not None:
            self._repair_best(state)

    def _repair_best(self, state):
        """A kill between the checkpoint's rename and the best copy left best one epoch behind."""
        from ..checkpoint import atomic_write_bytes, read_checkpoint

        best_epoch = state.history.best_epoch
        if best_epoch is None or best_epoch != state.start_epoch:
            return
        try:
            have = read_checkpoint(self.out / BEST)[1].get("epoch")
        except (FileNotFoundError, ValueError):
            have = None
        if have != best_epoch:
            atomic_write_bytes(self.out / BEST, (self.out / CHECKPOINT).read_bytes())

    def on_epoch_end(self, state, record):
        from ..checkpoint import atomic_write_bytes, save_checkpoint
        from .loop import capture_rng_state

        h = state.history
        path = save_checkpoint(
            self.out / CHECKPOINT, state.model, optimizer=state.optimizer, scheduler=state.scheduler,
            epoch=record["epoch"], metrics={k: v for k, v in record.items() if not isinstance(v, list)},
            rng_state=capture_rng_state(state.train_loader),
            extra={"step": state.step, "best": state.best, "best_epoch": h.best_epoch, **self.extra,
                   "history": history_to_store(h.records, h.steps),
                   **({"filter_history": h.filters.to_store()} if h.filters is not None else {})},
            **self.meta)
        state.last_good = path
        if state.improved:
            atomic_write_bytes(self.out / BEST, path.read_bytes())


def history_to_store(records: list[dict], steps: list[dict]) -> dict:
    """The run's records and per-step values in a compact form for the checkpoint: the records
    as JSON, each step's loss and accuracy as a float64 array (NaN for no accuracy)."""
    return {"records": records,
            "step_loss": np.array([s["loss"] for s in steps], np.float64),
            "step_accuracy": np.array([np.nan if s["accuracy"] is None else s["accuracy"] for s in steps],
                                      np.float64)}


def history_from_store(stored: dict) -> tuple[list[dict], list[dict]]:
    """``(records, steps)`` from ``history_to_store``'s form: the steps exactly as the loop made
    them (step numbers and fractional epochs follow from each record's ``step``)."""
    records = list(stored["records"])
    loss = np.asarray(stored["step_loss"], np.float64)
    acc = np.asarray(stored["step_accuracy"], np.float64)
    steps, first = [], 0
    for r in records:
        last = int(r["step"])
        per_epoch = max(last - first, 1)
        for s in range(first + 1, last + 1):
            a = acc[s - 1]
            steps.append({"step": s, "epoch": r["epoch"] - 1 + (s - first) / per_epoch,
                          "loss": float(loss[s - 1]), "accuracy": None if np.isnan(a) else float(a)})
        first = last
    return records, steps


class JSONLogger(Callback):
    """``metrics.jsonl`` (one record per epoch) and ``steps.jsonl`` (one line per step).

    A resumed run rewrites both from the history the checkpoint holds, so records lost to a
    kill or a full disk come back and the files equal those of an uninterrupted run.
    """

    def __init__(self, out_dir):
        from .run_dir import MetricsLog

        self.metrics = MetricsLog(Path(out_dir) / "metrics.jsonl")
        self.steps = MetricsLog(Path(out_dir) / "steps.jsonl")

    def on_train_begin(self, state):
        if state.resumed is not None:
            self.metrics.rewrite(state.history.records)
            self.steps.rewrite(state.history.steps)

    def on_epoch_end(self, state, record):
        self.metrics.append(record)
        self.steps.extend(state.epoch_steps)


class Plots(Callback):
    """``loss.png``, ``accuracy.png``/``rmse.png`` and ``confusion.png`` after the last epoch (also
    of a run a callback stopped), and in between at most every ``every_s`` seconds (matplotlib
    costs about a second)."""

    def __init__(self, out_dir, every_s: float = 30.0):
        self.out, self.every_s = Path(out_dir), every_s
        self.last, self.drawn = time.perf_counter(), None

    def on_epoch_end(self, state, record):
        if record["epoch"] == state.epochs or time.perf_counter() - self.last > self.every_s:
            self.draw(state)

    def on_train_end(self, state):
        if state.history.records and self.drawn != state.history.records[-1]["epoch"]:
            self.draw(state)

    def draw(self, state):
        from .plots import plot_run

        h = state.history
        cm, title = None, None
        if state.task == "classification":
            for split, metrics in (("test", h.last_test), ("validation", h.last_val)):
                if metrics and metrics.get("confusion_matrix") is not None:
                    cm, title = metrics["confusion_matrix"], f"confusion matrix ({split})"
                    break
        plot_run(self.out, h.records, state.task, cm, state.classes, steps=h.steps, confusion_title=title)
        self.last, self.drawn = time.perf_counter(), h.records[-1]["epoch"]


class ConsoleLog(Callback):
    """One line per epoch through ``log`` (``print`` by default)."""

    def __init__(self, log: Callable = print):
        self.log = log

    def on_epoch_end(self, state, record):
        from .loop import format_record

        self.log(format_record(record, state.epochs))


class StopAfter(Callback):
    """End the run after epoch ``epochs`` (simulates an interrupted run in tests of resume)."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def on_epoch_end(self, state, record):
        return record["epoch"] >= self.epochs
