"""``fit`` and ``evaluate``: a training loop any ``nn.Module`` can use.

The loop is the one a PyTorch user writes by hand (``zero_grad``, forward, loss, ``backward``,
``step``), plus what every run needs: metrics per epoch, progress bars, a checkpoint per epoch
in a run directory, exact resume, and a stop with a clear message when the loss diverges.

Determinism: with the same seed (``cnnlab.manual_seed`` before building the model, and a seeded
``generator`` for the loader) two runs give the same numbers bit for bit. A checkpoint stores
the weights, the optimizer and scheduler state and every random-generator state the next epoch
draws from, so ``resume`` continues exactly where an uninterrupted run would be.

Example:
    >>> history = fit(model, train_loader, epochs=2, optimizer=optim.SGD(model.parameters(), lr=0.01),
    ...               val_loader=test_loader, out_dir="runs/demo")
    >>> history.records[-1]["val_accuracy"]
"""

from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .metrics import make_meter
from .progress import Progress, progress_enabled

CHECKPOINT = "checkpoint.safetensors"
BEST = "best.safetensors"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; ``step`` and ``checkpoint`` say where and what is left."""

    def __init__(self, message: str, step: int, checkpoint: Path | None):
        super().__init__(message)
        self.step = step
        self.checkpoint = checkpoint


@dataclass
class History:
    """What ``fit`` returns: one record per epoch (the lines of ``metrics.jsonl``)."""

    records: list = field(default_factory=list)
    run_dir: Path | None = None
    best_epoch: int | None = None
    last_val: dict | None = None  # full validation metrics of the last epoch (confusion matrix...)
    steps: list = field(default_factory=list)  # per-step {"step", "epoch", "loss", "accuracy"}

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}


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
    return type(scheduler).__name__ in ("OneCycleLR", "CyclicLR")


def _is_plateau(scheduler) -> bool:
    return type(scheduler).__name__ == "ReduceLROnPlateau"


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
                    grad_clip: float | None = None, last_good: Path | None = None, trace: list | None = None):
    """One pass over ``loader``; returns ``(meter, steps_done, images_per_s)``.

    ``trace``, if given, receives ``(step, loss, batch_accuracy)`` for every step (the
    per-step curves of ``loss.png``/``accuracy.png``).

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
            if grad_clip:
                from ..nn.utils import clip_grad_norm_

                clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            if scheduler is not None and _is_per_batch(scheduler):
                scheduler.step()
            step += 1
            hits = getattr(meter, "correct", 0)
            meter.update(out.detach().numpy(), y.detach().numpy(), value)
            if trace is not None:
                n = len(x)
                trace.append((step, value, (meter.correct - hits) / n if hasattr(meter, "correct") and n else None))
            bar.update(len(x), meter.loss, getattr(meter, "accuracy", None))
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


def _save_epoch(out: Path, model, optimizer, scheduler, train_loader, record: dict, history: History, *,
                improved: bool, best, step: int, new_steps: list, meta: dict, extra: dict) -> Path:
    """Checkpoint (and best copy) plus the epoch's lines in metrics.jsonl/steps.jsonl."""
    from ..checkpoint import save_checkpoint
    from .run_dir import MetricsLog

    path = save_checkpoint(
        out / CHECKPOINT, model, optimizer=optimizer, scheduler=scheduler, epoch=record["epoch"],
        metrics={k: v for k, v in record.items() if not isinstance(v, list)},
        rng_state=capture_rng_state(train_loader),
        extra={"step": step, "best": best, "best_epoch": history.best_epoch, **extra}, **meta)
    if improved:
        shutil.copyfile(path, out / BEST)
    MetricsLog(out / "metrics.jsonl").append(record)
    MetricsLog(out / "steps.jsonl").extend(new_steps)
    return path


def fit(model, train_loader, *, epochs: int, optimizer, loss_fn: Callable | None = None, scheduler=None,
        val_loader=None, task: str = "classification", num_classes: int | None = None,
        callbacks: Iterable[Callable] = (), out_dir: str | os.PathLike | None = None,
        resume: bool | str | os.PathLike = False, model_name: str | None = None,
        model_config: dict | None = None, seed: int | None = None, classes: list | None = None,
        grad_clip: float | None = None, progress: bool | None = None, plots: bool = True,
        extra_meta: dict | None = None, log: Callable | None = print) -> History:
    """Train ``model`` for ``epochs`` epochs; evaluate, log, checkpoint and plot after each.

    Args:
        model: any ``nn.Module``.
        train_loader: yields ``(inputs, targets)``; shuffle it with a seeded ``generator``
            for reproducible runs.
        epochs: total epochs (a resumed run continues up to this number).
        optimizer: a ``cnnlab.optim`` optimizer over ``model.parameters()``.
        loss_fn: ``loss_fn(output, target)``, default cross-entropy (classification) or MSE.
        scheduler: stepped per batch (``OneCycleLR``), with the validation loss
            (``ReduceLROnPlateau``), or once per epoch (the rest).
        val_loader: evaluated after each epoch (its metrics get the ``val_`` prefix).
        task: ``"classification"`` or ``"regression"``.
        callbacks: ``cb(record, model)`` after each epoch; returning ``False`` stops training.
        out_dir: the run directory: ``checkpoint.safetensors`` each epoch, ``best.safetensors``,
            ``metrics.jsonl`` and the plots. ``None`` keeps everything in memory.
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
    from .run_dir import MetricsLog

    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    loss_fn = loss_fn or default_loss(task)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    log_file = MetricsLog(out / "metrics.jsonl") if out is not None else None
    steps_file = MetricsLog(out / "steps.jsonl") if out is not None else None
    history = History(run_dir=out)
    start_epoch, step, best = 0, 0, None
    last_good = None
    if resume:
        meta = _resume_state(resume, out, model, optimizer, scheduler, train_loader)
        start_epoch = int(meta.get("epoch", 0))
        extra = meta.get("extra") or {}
        step, best = int(extra.get("step", 0)), extra.get("best")
        history.best_epoch = extra.get("best_epoch")
        last_good = Path(meta["path"])
        if log_file is not None:
            log_file.truncate_after(start_epoch)
            steps_file.truncate_after(step, key="step")
            history.records = log_file.read()
            history.steps = steps_file.read()
    monitor = ("val_" if val_loader is not None else "train_") + ("accuracy" if task == "classification" else "loss")
    keep_matrix = task == "classification" and (num_classes or 0) <= 100

    last_plot = time.perf_counter()
    for epoch in range(start_epoch + 1, epochs + 1):
        t0 = time.perf_counter()
        trace: list = []
        first = step
        meter, step, speed = train_one_epoch(
            model, train_loader, optimizer, loss_fn, task=task, scheduler=scheduler,
            meter=make_meter(task, num_classes), step=step, desc=f"epoch {epoch}/{epochs}",
            progress=progress, grad_clip=grad_clip, last_good=last_good, trace=trace)
        per_epoch = max(step - first, 1)
        new_steps = [{"step": s, "epoch": epoch - 1 + (s - first) / per_epoch, "loss": v, "accuracy": a}
                     for s, v, a in trace]
        history.steps.extend(new_steps)
        record = {"epoch": epoch, "step": step, "lr": _current_lr(optimizer)}
        record.update(_prefixed("train", meter.compute(), False))
        record["train_images_per_s"] = speed
        if val_loader is not None:
            val = evaluate(model, val_loader, task=task, loss_fn=loss_fn, num_classes=num_classes,
                           progress=progress, desc=f"validate {epoch}/{epochs}")
            history.last_val = val
            record.update(_prefixed("val", {k: v for k, v in val.items() if k != "images_per_s"}, keep_matrix))
        if scheduler is not None and not _is_per_batch(scheduler):
            scheduler.step(record.get("val_loss", record["train_loss"])) if _is_plateau(scheduler) else scheduler.step()
        record["time_s"] = time.perf_counter() - t0
        score = record.get(monitor)
        improved = score is not None and (best is None or (score > best if monitor.endswith("accuracy") else score < best))
        if improved:
            best, history.best_epoch = score, epoch
        history.records.append(record)
        if out is not None:
            last_good = _save_epoch(out, model, optimizer, scheduler, train_loader, record, history,
                                    improved=improved, best=best, step=step, new_steps=new_steps,
                                    meta=dict(model_name=model_name, model_config=model_config, seed=seed),
                                    extra={"task": task, "classes": list(classes) if classes is not None else None,
                                           **(extra_meta or {})})
            # Plotting costs ≈ 1 s (matplotlib): draw after the last epoch, and in between at
            # most every 30 s so a long run still shows its curves while it trains.
            if plots and (epoch == epochs or time.perf_counter() - last_plot > 30):
                from .plots import plot_run

                cm = (history.last_val or {}).get("confusion_matrix") if task == "classification" else None
                plot_run(out, history.records, task, cm, classes, steps=history.steps)
                last_plot = time.perf_counter()
        if log is not None:
            log(format_record(record, epochs))
        if any(cb(record, model) is False for cb in callbacks):
            break
    return history


def format_record(record: dict, epochs: int | None = None) -> str:
    """One line per epoch: ``epoch 1/3  train loss 0.5123 acc 81.20%  val loss ... 5,100 img/s``."""
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
    return "  ".join(p for p in (head, part("train"), part("val"), speed, f"{record.get('time_s', 0):.1f} s") if p)
