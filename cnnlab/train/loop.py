"""``fit`` and ``evaluate``: a training loop any ``nn.Module`` can use.

The loop (``run_loop``) is the one a PyTorch user writes by hand (``zero_grad``, forward, loss,
``backward``, ``step``), with the validation and test passes after each epoch, the scheduler
step, exact resume and a stop with a clear message when the loss diverges. Everything else a run
does is a callback (``cnnlab.train.callbacks``): best-model tracking, the checkpoint per epoch,
the JSONL logs, the plots, the line per epoch, early stopping. ``fit`` wires the usual ones.

Validation and test: ``val_loader`` (metrics ``val_*``) is what decisions use: the best model,
``ReduceLROnPlateau``, early stopping. ``test_loader`` (metrics ``test_*``) is scored after each
epoch for the record and never read by a decision.

Determinism: with the same seed (``cnnlab.manual_seed`` before building the model, and a seeded
``generator`` for the loader) two runs give the same numbers bit for bit. A checkpoint stores
the weights, the optimizer and scheduler state and every random-generator state the next epoch
draws from, so ``resume`` continues exactly where an uninterrupted run would be.

Example:
    >>> history = fit(model, train_loader, epochs=2, optimizer=optim.SGD(model.parameters(), lr=0.01),
    ...               val_loader=val_loader, test_loader=test_loader, out_dir="runs/demo")
    >>> history.records[-1]["val_accuracy"], history.records[-1]["test_accuracy"]
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .callbacks import (BEST, CHECKPOINT, BestModel, Callback, Checkpoint, ConsoleLog, FunctionCallback, History,
                        JSONLogger, Plots, TrainState, history_from_store)
from .metrics import make_meter
from .progress import Progress, progress_enabled


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; ``step`` and ``checkpoint`` say where and what is left."""

    def __init__(self, message: str, step: int, checkpoint: Path | None):
        super().__init__(message)
        self.step = step
        self.checkpoint = checkpoint


# ------------------------------------------------------------------ helpers
def _as_tensor(x):
    from .._tensor import Tensor, from_numpy

    return x if isinstance(x, Tensor) else from_numpy(np.asarray(x))


def _split_batch(batch, where: str):
    if isinstance(batch, dict):
        batch = (batch.get("input", batch.get("image")), batch.get("target", batch.get("label")))
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise ValueError(f"{where}: expected batches of (inputs, targets), got {type(batch).__name__}")
    return _as_tensor(batch[0]), _as_tensor(batch[1])


def default_loss(task: str) -> Callable:
    """cross-entropy for classification, mean squared error for regression."""
    from .. import functional as F

    if task == "classification":
        return F.cross_entropy
    if task == "regression":
        def mse(output, target):  # a (N,) target for a (N, 1) output is the usual regression shape
            if tuple(target.shape) != tuple(output.shape) and target.numel() == output.numel():
                target = target.reshape(*output.shape)
            return F.mse_loss(output, target.float() if target.dtype != output.dtype else target)

        return mse
    raise ValueError(f"task must be one of 'classification', 'regression'; got {task!r}")


def _loader_generators(loader) -> list:
    """The NumPy generators a loader shuffles with (its own, its sampler's), deduplicated."""
    found = []
    holders = [loader, getattr(loader, "sampler", None), getattr(getattr(loader, "batch_sampler", None), "sampler", None)]
    for h in holders:
        g = getattr(h, "generator", None)
        if isinstance(g, np.random.Generator) and all(g is not f for f in found):
            found.append(g)
    return found


def capture_rng_state(loader=None) -> dict:
    """Every generator state the next epoch will draw from (global cnnlab one + loader's)."""
    from ..random import get_rng_state

    return {"cnnlab": get_rng_state(),
            "loader": [g.bit_generator.state for g in _loader_generators(loader)] if loader is not None else []}


def restore_rng_state(state: dict, loader=None) -> None:
    from ..random import set_rng_state

    if state.get("cnnlab") is not None:
        set_rng_state(state["cnnlab"])
    gens = _loader_generators(loader) if loader is not None else []
    for g, s in zip(gens, state.get("loader", [])):
        g.bit_generator.state = s


def _is_per_batch(scheduler) -> bool:
    """A schedule planned in optimizer steps says so with ``step_per_batch = True``."""
    return bool(getattr(scheduler, "step_per_batch", False))


def _steps_on_metric(scheduler) -> bool:
    """A schedule that watches a metric (``ReduceLROnPlateau``) says so with ``steps_on_metric``."""
    return bool(getattr(scheduler, "steps_on_metric", False))


def _current_lr(optimizer) -> float | None:
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else None


def _prefixed(prefix: str, metrics: dict, keep_matrix: bool) -> dict:
    out = {}
    for k, v in metrics.items():
        if k in ("confusion_matrix", "per_class_accuracy") and not keep_matrix:
            continue
        out[f"{prefix}_{k}"] = v
    return out


# ----------------------------------------------------------------- evaluate
def evaluate(model, loader: Iterable, *, task: str = "classification", loss_fn: Callable | None = None,
             num_classes: int | None = None, progress: bool | None = None, desc: str = "evaluate") -> dict:
    """Run ``model`` over ``loader`` without gradients and return its metrics.

    Args:
        model: any ``nn.Module``; put in eval mode for the pass, its mode restored afterwards.
        loader: yields ``(inputs, targets)`` batches.
        task: ``"classification"`` (loss, accuracy, top5_accuracy, per_class_accuracy,
            confusion_matrix) or ``"regression"`` (loss, rmse, mae).
        loss_fn: ``loss_fn(output, target)``; default cross-entropy / MSE.
        num_classes: size of the confusion matrix (default: the output width).
        progress: draw a bar (default: only on a TTY).

    Returns:
        a dict of metrics, plus ``count`` (samples seen) and ``images_per_s``.
    """
    from ..autograd.grad_mode import no_grad

    loss_fn = loss_fn or default_loss(task)
    meter = make_meter(task, num_classes)
    was_training = getattr(model, "training", False)
    model.eval()
    total = len(loader) if hasattr(loader, "__len__") else None
    try:
        with no_grad(), Progress(total, desc, progress_enabled(progress)) as bar:
            for batch in loader:
                x, y = _split_batch(batch, "evaluate")
                out = model(x)
                loss = float(loss_fn(out, y).item())
                meter.update(out.detach().numpy(), y.detach().numpy(), loss)
                bar.update(len(x), meter.loss, getattr(meter, "accuracy", None))
            speed = bar.images_per_second
    finally:
        model.train(was_training)
    result = meter.compute()
    result["images_per_s"] = speed
    return result


# ---------------------------------------------------------------------- fit
def train_one_epoch(model, loader, optimizer, loss_fn, *, task, scheduler=None, meter=None,
                    step: int = 0, desc: str = "train", progress: bool | None = None,
                    grad_clip: float | None = None, last_good: Path | None = None, trace: list | None = None,
                    on_batch: Callable | None = None, before_step: Callable | None = None):
    """One pass over ``loader``; returns ``(meter, steps_done, images_per_s)``.

    ``trace``, if given, receives ``(step, loss, batch_accuracy)`` for every step (the
    per-step curves of ``loss.png``/``accuracy.png``). ``on_batch``, if given, is called with
    ``{"step", "loss", "accuracy", "size"}`` after every step; a true result ends the pass.
    ``before_step``, if given, is called between ``backward`` and gradient clipping and
    ``optimizer.step`` (where data parallelism averages the gradients over processes).

    Raises:
        TrainingDiverged: the loss of a step is NaN or infinite (checked before its update,
            so the weights stay those of the last good step).
    """
    meter = meter or make_meter(task)
    model.train()
    total = len(loader) if hasattr(loader, "__len__") else None
    # Overflow warnings from NumPy would only precede the clearer TrainingDiverged below.
    with Progress(total, desc, progress_enabled(progress)) as bar, np.errstate(over="ignore", invalid="ignore"):
        for batch in loader:
            x, y = _split_batch(batch, "fit")
            out = model(x)
            loss = loss_fn(out, y)
            value = float(loss.item())
            if not math.isfinite(value):
                where = f"checkpoint {str(last_good)!r}" if last_good else "none (no checkpoint was written yet)"
                raise TrainingDiverged(
                    f"training stopped: the loss became {value} at step {step + 1} ({desc}); "
                    f"last good checkpoint: {where}. Try a lower learning rate.",
                    step + 1, last_good)
            optimizer.zero_grad()
            loss.backward()
            if before_step is not None:
                before_step()
            if grad_clip:
                from ..nn.utils import clip_grad_norm_

                clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            if scheduler is not None and _is_per_batch(scheduler):
                scheduler.step()
            step += 1
            hits = getattr(meter, "correct", 0)
            meter.update(out.detach().numpy(), y.detach().numpy(), value)
            n = len(x)
            batch_accuracy = (meter.correct - hits) / n if hasattr(meter, "correct") and n else None
            if trace is not None:
                trace.append((step, value, batch_accuracy))
            bar.update(n, meter.loss, getattr(meter, "accuracy", None))
            if on_batch is not None and on_batch({"step": step, "loss": value, "accuracy": batch_accuracy, "size": n}):
                break
        speed = bar.images_per_second
    return meter, step, speed


def _resume_state(resume, out_dir, model, optimizer, scheduler, train_loader):
    """Load a checkpoint's weights, optimizer/scheduler and RNG states; returns its metadata."""
    from ..checkpoint import load_into

    path = Path(resume) if isinstance(resume, (str, os.PathLike)) else None
    if path is None:
        if out_dir is None:
            raise ValueError("fit(resume=True) needs out_dir (the run to continue) or a checkpoint path")
        path = Path(out_dir) / CHECKPOINT
    meta = load_into(model, path)
    if optimizer is not None and "optimizer" in meta:
        optimizer.load_state_dict(meta["optimizer"]["state"])
    if scheduler is not None and "scheduler" in meta:
        scheduler.load_state_dict(meta["scheduler"]["state"])
    restore_rng_state(meta.get("rng_state", {}), train_loader)
    return meta


def _resume(state: TrainState, resume) -> None:
    """Continue from a checkpoint: weights, optimizer/scheduler/RNG states, counters, history."""
    meta = _resume_state(resume, state.out_dir, state.model, state.optimizer, state.scheduler, state.train_loader)
    extra = meta.get("extra") or {}
    state.resumed = meta
    state.start_epoch = state.epoch = int(meta.get("epoch", 0))
    state.step, state.best = int(extra.get("step", 0)), extra.get("best")
    state.history.best_epoch = extra.get("best_epoch")
    state.last_good = Path(meta["path"])
    if "history" in extra:  # the checkpoint is the source of truth for finished epochs
        state.history.records, state.history.steps = history_from_store(extra["history"])
    elif state.out_dir is not None:  # a checkpoint written before it stored its history
        from .run_dir import MetricsLog

        state.history.records = [r for r in MetricsLog(state.out_dir / "metrics.jsonl").read()
                                 if r.get("epoch", 0) <= state.start_epoch]
        state.history.steps = [s for s in MetricsLog(state.out_dir / "steps.jsonl").read()
                               if s.get("step", 0) <= state.step]
    if "filter_history" in extra:  # the first conv layer at every finished epoch
        from .snapshots import FilterHistory

        state.history.filters = FilterHistory.from_store(extra["filter_history"])


def _step_epoch_scheduler(scheduler, record: dict) -> None:
    """Once per epoch; a plateau schedule watches the validation loss (the training loss without
    a validation set), never the test loss."""
    if scheduler is None or _is_per_batch(scheduler):
        return
    if _steps_on_metric(scheduler):
        scheduler.step(record.get("val_loss", record["train_loss"]))
    else:
        scheduler.step()


def _evaluate_splits(state: TrainState, record: dict) -> None:
    """Score the validation and test sets; their metrics join ``record`` as ``val_*``/``test_*``."""
    keep_matrix = state.task == "classification" and (state.num_classes or 0) <= 100
    for split, loader, desc in (("val", state.val_loader, "validate"), ("test", state.test_loader, "test")):
        if loader is None:
            continue
        metrics = evaluate(state.model, loader, task=state.task, loss_fn=state.loss_fn,
                           num_classes=state.num_classes, progress=state.progress,
                           desc=f"{desc} {state.epoch}/{state.epochs}")
        setattr(state.history, f"last_{split}", metrics)
        record.update(_prefixed(split, {k: v for k, v in metrics.items() if k != "images_per_s"}, keep_matrix))


def run_loop(state: TrainState, callbacks: list[Callback]) -> History:
    """Train from ``state.start_epoch`` to ``state.epochs``: each epoch one pass over the training
    data, the validation and test passes, the scheduler's epoch step, then the callbacks.

    Returns:
        ``state.history``, one record per finished epoch.
    """
    h = state.history
    for cb in callbacks:
        cb.on_train_begin(state)
    stop = False

    def on_batch(batch: dict) -> bool:
        nonlocal stop
        stop = any([bool(cb.on_batch_end(state, batch)) for cb in callbacks]) or stop
        return stop

    hooked = [cb for cb in callbacks if type(cb).on_before_step is not Callback.on_before_step]

    def before_step() -> None:
        for cb in hooked:
            cb.on_before_step(state)

    for epoch in range(state.start_epoch + 1, state.epochs + 1):
        state.epoch, t0, first, trace = epoch, time.perf_counter(), state.step, []
        for cb in callbacks:
            cb.on_epoch_begin(state)
        meter, state.step, speed = train_one_epoch(
            state.model, state.train_loader, state.optimizer, state.loss_fn, task=state.task,
            scheduler=state.scheduler, meter=make_meter(state.task, state.num_classes), step=state.step,
            desc=f"epoch {epoch}/{state.epochs}", progress=state.progress, grad_clip=state.grad_clip,
            last_good=state.last_good, trace=trace, on_batch=on_batch,
            before_step=before_step if hooked else None)
        per_epoch = max(state.step - first, 1)
        state.epoch_steps = [{"step": s, "epoch": epoch - 1 + (s - first) / per_epoch, "loss": v, "accuracy": a}
                             for s, v, a in trace]
        h.steps.extend(state.epoch_steps)
        record = {"epoch": epoch, "step": state.step, "lr": _current_lr(state.optimizer)}
        record.update(_prefixed("train", meter.compute(), False))
        record["train_images_per_s"] = speed
        _evaluate_splits(state, record)
        _step_epoch_scheduler(state.scheduler, record)
        record["time_s"] = time.perf_counter() - t0
        h.records.append(record)
        if any([bool(cb.on_epoch_end(state, record)) for cb in callbacks]) or stop:
            break
    for cb in callbacks:
        cb.on_train_end(state)
    return h


def fit(model, train_loader, *, epochs: int, optimizer, loss_fn: Callable | None = None, scheduler=None,
        val_loader=None, test_loader=None, task: str = "classification", num_classes: int | None = None,
        callbacks: Iterable = (), out_dir: str | os.PathLike | None = None,
        resume: bool | str | os.PathLike = False, model_name: str | None = None,
        model_config: dict | None = None, seed: int | None = None, classes: list | None = None,
        grad_clip: float | None = None, progress: bool | None = None, plots: bool = True,
        extra_meta: dict | None = None, log: Callable | None = print) -> History:
    """Train ``model`` for ``epochs`` epochs with the usual callbacks; see ``run_loop``.

    Args:
        model: any ``nn.Module``.
        train_loader: yields ``(inputs, targets)``; shuffle it with a seeded ``generator``
            for reproducible runs.
        epochs: total epochs (a resumed run continues up to this number).
        optimizer: a ``cnnlab.optim`` optimizer over ``model.parameters()``.
        loss_fn: ``loss_fn(output, target)``, default cross-entropy (classification) or MSE.
        scheduler: stepped after every batch when it says ``step_per_batch`` (``OneCycleLR``),
            with the validation loss when it says ``steps_on_metric`` (``ReduceLROnPlateau``),
            else once per epoch.
        val_loader: evaluated after each epoch (``val_*`` metrics); the best model, a plateau
            schedule and early stopping use it (without it: the training metrics).
        test_loader: evaluated after each epoch for the record only (``test_*`` metrics).
        task: ``"classification"`` or ``"regression"``.
        callbacks: ``Callback`` objects (``cnnlab.train.callbacks``), or functions
            ``cb(record, model)`` returning ``False`` to stop. They run after the built-in ones
            (best model, checkpoint, logs, plots, console line); a ``BestModel`` given here
            replaces the built-in one.
        out_dir: the run directory: ``checkpoint.safetensors`` each epoch, ``best.safetensors``,
            ``metrics.jsonl``, ``steps.jsonl``, ``filters.npz`` (the first conv layer at every
            epoch, see ``cnnlab.train.snapshots``) and the plots. ``None`` keeps everything in memory.
        resume: ``True`` to continue from ``out_dir``'s checkpoint, or a checkpoint path.
        model_name, model_config, seed, classes, extra_meta: stored in the checkpoint.
        grad_clip: clip the gradient norm to this value before each step.
        progress: progress bars (default: only when stderr is a terminal).
        plots: write PNG plots into ``out_dir``.
        log: called with one summary line per epoch (``None`` for silence).

    Returns:
        a ``History`` with one record per epoch.

    Raises:
        TrainingDiverged: a NaN/inf loss; the message names the step and the last good checkpoint.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    state = TrainState(model=model, optimizer=optimizer, train_loader=train_loader, epochs=epochs,
                       scheduler=scheduler, loss_fn=loss_fn or default_loss(task), val_loader=val_loader,
                       test_loader=test_loader, task=task, num_classes=num_classes,
                       classes=list(classes) if classes is not None else None, out_dir=out,
                       history=History(run_dir=out), grad_clip=grad_clip, progress=progress)
    if resume:
        _resume(state, resume)
    user = [cb if isinstance(cb, Callback) else FunctionCallback(cb) for cb in callbacks]
    chosen = [cb for cb in user if isinstance(cb, BestModel)][:1] or [BestModel()]
    built_in = chosen[:]
    if out is not None:
        from .snapshots import FilterSnapshots

        built_in += [FilterSnapshots(out), Checkpoint(out, model_name=model_name, model_config=model_config, seed=seed,
                                extra={"task": task, "classes": state.classes, **(extra_meta or {})}),
                     JSONLogger(out)]
        if plots:
            built_in.append(Plots(out))
    if log is not None:
        built_in.append(ConsoleLog(log))
    # A callback that must amend the epoch's record before it is saved and logged (data
    # parallelism's global training loss) says so with ``runs_first = True``.
    first = [cb for cb in user if getattr(cb, "runs_first", False) and cb not in chosen]
    return run_loop(state, first + built_in + [cb for cb in user if cb not in chosen and cb not in first])


def format_record(record: dict, epochs: int | None = None) -> str:
    """One line per epoch: ``epoch 1/3  train loss 0.5123 acc 81.20%  val ...  test ...  5,100 img/s``."""
    def part(prefix):
        bits = []
        if f"{prefix}_loss" in record:
            bits.append(f"loss {record[f'{prefix}_loss']:.4f}")
        if f"{prefix}_accuracy" in record:
            bits.append(f"acc {100 * record[f'{prefix}_accuracy']:.2f}%")
        if f"{prefix}_rmse" in record:
            bits.append(f"rmse {record[f'{prefix}_rmse']:.4f}")
        return f"{prefix} " + " ".join(bits) if bits else ""

    head = f"epoch {record['epoch']}" + (f"/{epochs}" if epochs else "")
    speed = f"{record.get('train_images_per_s', 0):,.0f} img/s"
    return "  ".join(p for p in (head, part("train"), part("val"), part("test"), speed,
                                 f"{record.get('time_s', 0):.1f} s") if p)
