"""A whole training run from names: model + dataset + recipe → run directory.

``train_run`` is what ``cnnlab train`` and the main job call: it checks every name before
loading anything, prepares the data, builds the model with the seed, writes ``run.json`` and
``summary.txt``, trains with ``fit`` (checkpoint, metrics, plots each epoch) and records the
outcome. ``load_run_model`` and ``eval_arrays`` serve ``cnnlab eval`` and ``cnnlab predict``.

Three parts of the data, three roles: the training part updates the weights; the validation
part (``val_split`` of the training split, stratified by class and drawn with the run's seed;
``run.json`` lists its indices) picks ``best.safetensors`` and drives ``ReduceLROnPlateau``;
the test split is scored after each epoch and at the end for the record, never for a decision.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .augment import SetEpoch
from .callbacks import CHECKPOINT, StopAfter
from .loop import TrainingDiverged, evaluate, fit
from .recipe import (OPTIMIZERS, SCHEDULERS, _choice, build_optimizer, build_scheduler,
                     check_model_fits, dataset_arrays, dataset_task, fit_preprocess)
from .run_dir import check_run_dir, create_run_dir, set_latest, write_json


@dataclass
class TrainConfig:
    """Everything that defines a run (stored in ``run.json``; ``--resume`` reuses it)."""

    model: str
    data: str
    epochs: int = 1
    batch_size: int = 64
    lr: float = 0.01
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0
    scheduler: str = "none"
    seed: int = 0
    limit_train: int | None = None
    limit_test: int | None = None
    data_root: str | None = None
    model_config: dict = field(default_factory=dict)
    fold: int | None = None  # k-fold cross-validation of a tabular set: test on this fold
    folds: int = 5  # (partition shuffled with ``seed``)
    val_split: float | None = None  # fraction held out for validation; None: the dataset's default
    augment: str | None = None  # training-time challenges, e.g. "viewpoint,scale,translation,deformation"

    def split(self) -> dict | None:
        """The dataset arguments that select a cross-validation fold, or None (fixed split)."""
        return None if self.fold is None else {"fold": self.fold, "folds": self.folds, "split_seed": self.seed}


def check_names(cfg: TrainConfig) -> None:
    """Unknown model/dataset/optimizer/scheduler → ValueError listing the valid names."""
    from .. import datasets, models

    models.spec(cfg.model)
    valid = list(datasets.available())
    if cfg.data not in valid:
        raise ValueError(f"unknown dataset {cfg.data!r}; valid datasets: {', '.join(valid)}")
    _choice("optimizer", cfg.optimizer, OPTIMIZERS)
    _choice("scheduler", cfg.scheduler, SCHEDULERS)
    for name in ("epochs", "batch_size"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(cfg, name)}")
    if not cfg.lr > 0:
        raise ValueError(f"--lr must be positive, got {cfg.lr}")
    if cfg.val_split is not None and not 0 <= cfg.val_split < 1:
        raise ValueError(f"--val-split must be a fraction in [0, 1), got {cfg.val_split}")
    if cfg.augment is not None:
        from ..transforms.augment import parse_challenges

        parse_challenges(cfg.augment)
    if cfg.fold is not None:
        from ..datasets.tabular import check_fold

        _check_cv_dataset(cfg.data)
        check_fold(cfg.fold, cfg.folds)


def build_model(cfg: TrainConfig, num_classes: int | None, task: str):
    """The registry model, seeded, with its output width matched to the dataset's classes."""
    import cnnlab
    from .. import models

    spec = models.spec(cfg.model)
    config = dict(cfg.model_config)
    if task == "classification" and num_classes and spec.num_outputs != num_classes and "num_classes" not in config:
        config["num_classes"] = num_classes
    cnnlab.manual_seed(cfg.seed)
    try:
        model = models.create(cfg.model, **config)
    except ValueError as e:
        raise ValueError(
            f"model {cfg.model!r} has {spec.num_outputs} outputs and cannot be built for {num_classes} "
            f"classes ({e}); choose a model made for dataset {cfg.data!r}"
        ) from None
    return model, config


def model_summary_text(model, input_shape) -> str:
    """The per-layer table from ``cnnlab.summary`` (falls back to the module tree)."""
    try:
        import cnnlab

        return str(cnnlab.summary(model, tuple(input_shape)))
    except Exception as e:  # the summary is a report, never a reason to stop training
        n = sum(p.numel() for p in model.parameters())
        return f"{model!r}\n\nparameters: {n:,}\n(cnnlab.summary unavailable: {e})"


def _load_split(name: str, train: bool, root, split: dict | None = None):
    """A dataset split; ``split`` (fold, folds, split_seed) selects a cross-validation fold."""
    from .. import datasets

    if split is None:
        return datasets.create(name, root=root, train=train)
    _check_cv_dataset(name)
    return datasets.create(name, root=root, train=train, **split)


def _check_cv_dataset(name: str) -> None:
    from .. import datasets
    from ..datasets.tabular import TabularDataset

    if not issubclass(datasets.info(name).cls, TabularDataset):
        tabular = [n for n in datasets.available() if issubclass(datasets.info(n).cls, TabularDataset)]
        raise ValueError(f"dataset {name!r} has a fixed train/test split; cross-validation folds exist for "
                         f"{', '.join(tabular)}")


IMAGE_VAL_SPLIT = 0.1  # default validation fraction of the image sets (tabular sets: none)


def default_val_split(name: str) -> float:
    """0.1 for the image sets; 0 for the small tabular sets (they have cross-validation folds)."""
    from .. import datasets
    from ..datasets.tabular import TabularDataset

    return 0.0 if issubclass(datasets.info(name).cls, TabularDataset) else IMAGE_VAL_SPLIT


def validation_indices(targets: np.ndarray, fraction: float, seed: int, task: str) -> np.ndarray:
    """Sorted indices of the samples held out for validation: ``fraction`` of each class
    (rounded; of all samples for regression), drawn with ``seed``."""
    from ..datasets.tabular import split_indices

    if fraction == 0:
        return np.zeros(0, np.int64)
    strata = np.asarray(targets) if task == "classification" else None
    return split_indices(len(targets), strata, test_fraction=fraction, seed=seed)[1]


def _validation_part(train_set, cfg, task: str, val_split: float):
    """``(val_indices, preprocess)``: the indices (into the training split) held out for
    validation, and the input statistics of the training split without them."""
    data, targets = np.asarray(train_set.data), np.asarray(train_set.targets)
    limit = cfg.limit_train
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be a positive number of samples, got {limit}")
    used = len(data) if limit is None else min(limit, len(data))
    val = validation_indices(targets[:used], val_split, cfg.seed, task)
    if val_split and (len(val) == 0 or len(val) == used):
        raise ValueError(f"--val-split {val_split} of {used} training samples leaves "
                         f"{'no validation' if len(val) == 0 else 'no training'} sample; use --val-split 0 "
                         "or more training samples")
    return val, fit_preprocess(np.delete(data, val, axis=0) if len(val) else data)


def _training_arrays(train_set, cfg, pre: dict, task: str, val: np.ndarray):
    """The (inputs, targets) of the training part and of the validation part (None, None if empty).

    With ``cfg.augment`` the training part's inputs stay the raw uint8 images (augmented per
    epoch by the loader's dataset, then preprocessed)."""
    from types import SimpleNamespace

    data, targets = np.asarray(train_set.data), np.asarray(train_set.targets)
    used = len(data) if cfg.limit_train is None else min(cfg.limit_train, len(data))
    part = lambda idx: SimpleNamespace(data=data[idx], targets=targets[idx])  # noqa: E731
    train_idx = slice(0, used) if not len(val) else np.setdiff1d(np.arange(used), val)
    if cfg.augment:
        if pre["kind"] != "image":
            raise ValueError(f"--train-augment: dataset {cfg.data!r} is not a set of images")
        y = targets[train_idx]
        train = (data[train_idx], y.astype(np.int64) if task == "classification" else y.astype(np.float32))
    else:
        train = dataset_arrays(part(train_idx), pre, task)
    return train, (dataset_arrays(part(val), pre, task) if len(val) else (None, None))


def _train_dataset(x, y, pre: dict, cfg):
    """The training samples: arrays as they are, or uint8 images augmented each epoch."""
    from ..utils.data import TensorDataset

    if not cfg.augment:
        return TensorDataset(x, y)
    from ..transforms import RandomChallenges
    from .augment import AugmentedImages

    return AugmentedImages(x, y, pre, RandomChallenges(cfg.augment, seed=cfg.seed))


def _loaders(train_set, xv, yv, xt, yt, cfg):
    from ..utils.data import DataLoader, TensorDataset

    # The loader's own generator (seeded from the run's seed) makes the order reproducible and
    # is saved in each checkpoint, so a resumed run draws the same permutations.
    train = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True,
                       generator=np.random.default_rng(cfg.seed))
    val = DataLoader(TensorDataset(xv, yv), batch_size=256, shuffle=False) if xv is not None else None
    test = DataLoader(TensorDataset(xt, yt), batch_size=256, shuffle=False)
    return train, val, test


def train_run(cfg: TrainConfig, *, out=None, root="runs", resume=False, force=False, progress=None,
              log=print, stop_after: int | None = None, callbacks=(), distributed=None):
    """Train ``cfg`` into a run directory; returns ``(history, run_dir, test_metrics)``.

    ``test_metrics`` are the test split's metrics after the last epoch (the model of
    ``checkpoint.safetensors``); ``history.last_val`` holds the validation part's.

    ``distributed`` (a ``cnnlab.cluster.mpi.DataParallel``) trains data-parallel over MPI
    ranks: every rank runs this function; rank 0 alone writes the run directory (the others
    return ``run_dir=None``).

    Raises:
        ValueError: an unknown name or a model/data mismatch (before anything is loaded).
        RunExistsError: ``out`` holds a run and neither ``resume`` nor ``force`` was given.
        TrainingDiverged: the loss became NaN/inf (``run.json`` records it).
    """
    dp = distributed
    writer = dp is None or dp.is_root
    error = None
    try:
        prepared = _prepare_run(cfg, out=out, root=root, resume=resume, force=force, dp=dp)
    except Exception as e:  # under MPI every rank must learn that one failed, or they would wait forever
        if dp is None:
            raise
        error = e
    if dp is not None:
        dp.agree(error)
    p = prepared
    run, info, cfg = p["run"], p["info"], p["cfg"]
    if writer:
        write_json(run / "run.json", info)
        set_latest(run, root)
    extra_callbacks = [dp.averager(cfg.seed)] if dp is not None else []
    t0 = time.perf_counter()
    try:
        history = fit(p["model"], p["train_loader"], epochs=cfg.epochs, optimizer=p["optimizer"],
                      scheduler=p["scheduler"], val_loader=p["val_loader"], test_loader=p["test_loader"],
                      task=p["task"], num_classes=len(p["classes"]) if p["classes"] else None,
                      out_dir=run if writer else None,
                      resume=(resume if writer else Path(out) / CHECKPOINT) if resume else False,
                      model_name=cfg.model, model_config=p["model_config"], seed=cfg.seed, classes=p["classes"],
                      progress=progress if writer else False, log=log if writer else None,
                      callbacks=[*extra_callbacks, *callbacks,
                                 *([] if stop_after is None else [StopAfter(stop_after)]),
                                 *([SetEpoch(p["train_data"])] if cfg.augment else [])],
                      extra_meta=p["extra_meta"])
    except (TrainingDiverged, OSError) as e:
        info.update(status="diverged" if isinstance(e, TrainingDiverged) else "failed", error=str(e))
        try:
            if writer:
                write_json(run / "run.json", info)
        except OSError:  # a full disk: the checkpoint is still the record of what was done
            pass
        raise
    test = history.last_test or {}
    if not writer:
        return history, None, test
    done = history.last.get("epoch", 0) if history.records else 0
    info.update(status="finished" if done >= cfg.epochs else "stopped", finished=_dt.datetime.now().isoformat(timespec="seconds"),
                train_seconds=time.perf_counter() - t0, epochs_done=history.last.get("epoch"),
                best_epoch=history.best_epoch,
                val_metrics={k: v for k, v in (history.last_val or {}).items() if k != "confusion_matrix"} or None,
                test_metrics={k: v for k, v in test.items() if k != "confusion_matrix"})
    write_json(run / "run.json", info)
    return history, run, test


def _prepare_run(cfg: TrainConfig, *, out, root, resume, force, dp) -> dict:
    """Everything before the first step: names checked, run directory (rank 0), data, model,
    loaders, optimizer, scheduler, ``summary.txt`` and the ``run.json`` record."""
    from .. import __version__, models
    from ..checkpoint import atomic_write_bytes

    writer = dp is None or dp.is_root
    check_names(cfg)
    if writer:  # refused now, created once the data and the model are ready (no empty directory on failure)
        check_run_dir(out, resume=resume, force=force)
    train_set = _load_split(cfg.data, True, cfg.data_root, cfg.split())
    test_set = _load_split(cfg.data, False, cfg.data_root, cfg.split())
    task = dataset_task(train_set)
    classes = [str(c) for c in getattr(train_set, "classes", [])] or None
    val_split = default_val_split(cfg.data) if cfg.val_split is None else float(cfg.val_split)
    cfg = replace(cfg, val_split=val_split)  # run.json records the fraction used
    val_idx, pre = _validation_part(train_set, cfg, task, val_split)
    check_model_fits(cfg.model, models.spec(cfg.model), pre, cfg.data, len(classes or []), task)
    model, model_config = build_model(cfg, len(classes) if classes else None, task)
    (x, y), (xv, yv) = _training_arrays(train_set, cfg, pre, task, val_idx)
    xt, yt = dataset_arrays(test_set, pre, task, cfg.limit_test)
    train_data = _train_dataset(x, y, pre, cfg)
    train_loader, val_loader, test_loader = _loaders(train_data, xv, yv, xt, yt, cfg)
    if dp is not None:
        if cfg.augment:
            raise ValueError("--train-augment: not available with --distributed yet (train without one of them)")
        dp.prepare(model)
        train_loader = dp.loader(x, y, cfg.batch_size, cfg.seed)
    optimizer = build_optimizer(cfg.optimizer, model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                weight_decay=cfg.weight_decay)
    scheduler = build_scheduler(cfg.scheduler, optimizer, epochs=cfg.epochs,
                                steps_per_epoch=len(train_loader), lr=cfg.lr)
    input_shape = models.spec(cfg.model).input_shape
    run = create_run_dir(out, model=cfg.model, dataset=cfg.data, root=root, resume=resume, force=force) \
        if writer else None
    if writer:
        atomic_write_bytes(run / "summary.txt", (model_summary_text(model, input_shape) + "\n").encode())
    info = {"config": asdict(cfg), "model_config": model_config, "task": task, "classes": classes,
            "cnnlab_version": __version__, "status": "running",
            "started": _dt.datetime.now().isoformat(timespec="seconds"),
            "train_samples": int(len(x)), "val_samples": int(len(val_idx)), "test_samples": int(len(xt)),
            "validation": {"fraction": val_split, "seed": cfg.seed, "stratified": task == "classification",
                           "indices": val_idx.tolist(),
                           "about": "indices into the training split held out for validation; they pick "
                                    "best.safetensors and drive the plateau schedule; the test split "
                                    "is never used for a decision"}}
    if dp is not None:
        info["distributed"] = {"ranks": dp.size, "global_batch_size": cfg.batch_size,
                               "sync_batchnorm": dp.sync_batchnorm, "backend": "MPI"}
    extra_meta = {"dataset": cfg.data, "preprocess": pre, "input_shape": list(input_shape),
                  "split": cfg.split(), "val_split": val_split}
    return {"run": run, "info": info, "cfg": cfg, "model": model, "model_config": model_config, "task": task,
            "classes": classes, "train_loader": train_loader, "val_loader": val_loader, "test_loader": test_loader,
            "optimizer": optimizer, "scheduler": scheduler, "extra_meta": extra_meta,
            "train_data": train_data}


def read_run_config(run: Path) -> dict:
    path = Path(run) / "run.json"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} not found: is {str(run)!r} a cnnlab run directory?")
    return json.loads(path.read_text())["config"]


def resolve_checkpoint(path) -> Path:
    """A checkpoint file, a run directory (its ``checkpoint.safetensors``), or the ``latest``
    marker of a runs folder (``runs/latest``: the run it names)."""
    from .run_dir import LATEST, latest_run

    p = Path(path)
    if p.name == LATEST and p.is_file() and p.stat().st_size < 4096:
        run = latest_run(p.parent)
        if run is None:
            raise FileNotFoundError(f"{str(p)!r} names no run with a checkpoint under {str(p.parent)!r}")
        p = run
    if p.is_dir():
        p = p / CHECKPOINT
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint {str(p)!r} does not exist")
    return p


def load_run_model(path):
    """``(model, meta, extra)`` from a checkpoint file or run directory."""
    from ..checkpoint import load_checkpoint

    model, meta = load_checkpoint(resolve_checkpoint(path))
    return model, meta, meta.get("extra") or {}


def eval_checkpoint(path, data: str | None = None, *, data_root=None, limit=None, batch_size=256,
                    progress=None):
    """Evaluate a checkpoint on a dataset's test split; returns ``(metrics, extra, dataset)``
    (``extra``: the checkpoint's extra metadata as saved; ``cnnlab.inspect.RunInfo`` reads it)."""
    from ..checkpoint import load_checkpoint
    from ..inspect import RunInfo
    from ..utils.data import DataLoader, TensorDataset

    ckpt = resolve_checkpoint(path)
    model, meta = load_checkpoint(ckpt)
    info = RunInfo.from_metadata(meta, ckpt)
    name = data or info.dataset
    if not name:
        raise ValueError(f"checkpoint {str(path)!r} does not record its dataset; pass --data")
    from .. import datasets

    valid = list(datasets.available())
    if name not in valid:
        raise ValueError(f"unknown dataset {name!r}; valid datasets: {', '.join(valid)}")
    split = info.split_for(name)
    test_set = _load_split(name, False, data_root, split)
    task = info.task or dataset_task(test_set)
    pre = info.preprocess_dict or fit_preprocess(_load_split(name, True, data_root, split).data)
    _check_geometry(pre, test_set, name, path)
    x, y = dataset_arrays(test_set, pre, task, limit)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    classes = info.classes or getattr(test_set, "classes", None)
    n = len(classes) if classes and task == "classification" else None
    return evaluate(model, loader, task=task, num_classes=n, progress=progress), meta.get("extra") or {}, name


def run_split(extra: dict, dataset: str) -> dict | None:
    """The cross-validation fold a run was trained against, when it is evaluated on that same
    dataset: a CV run is scored on its own held-out fold, not on the fixed split."""
    from ..inspect import RunInfo

    return RunInfo.from_metadata({"extra": extra}).split_for(dataset)


def _check_geometry(pre: dict, dataset, name: str, path) -> None:
    """The evaluation data must have the shape the checkpoint was trained on."""
    got = fit_preprocess(np.asarray(dataset.data)[:2])
    want = pre.get("image_shape") or [pre.get("features")]
    have = got.get("image_shape") or [got.get("features")]
    if list(want) != list(have):
        raise ValueError(
            f"checkpoint {str(path)!r} was trained on inputs of shape {'x'.join(map(str, want))} but "
            f"dataset {name!r} has {'x'.join(map(str, have))}")


def predict_images(path, images, *, k=5, invert=False):
    """Top-k predictions for image files: a list of ``(file, [(class_name, probability), ...])``."""
    from ..inspect import forward, load_run, probabilities, to_model_input, top_k

    model, info = load_run(path)
    if info.preprocess != "image":
        raise ValueError(
            f"checkpoint {str(path)!r} is a model of tabular data ({info.model}); it cannot "
            "classify image files")
    if (info.task or "classification") != "classification":
        raise ValueError(f"checkpoint {str(path)!r} is a regression model; predict shows class probabilities")
    out = []
    for img_path in images:
        x = to_model_input(img_path, info, invert=invert)
        logits = forward(model, x.array[None])[0]
        names = info.class_names(logits.size)
        out.append((str(img_path), [(names[i], p) for i, p in top_k(probabilities(logits), k)]))
    return out
