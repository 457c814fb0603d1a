"""The pieces a training run is wired from: optimizer and scheduler by name, and data arrays
shaped for a model.

The CLI and the main job use these; Python users usually build their own optimizer and loader.
Data preparation is done once, on whole arrays: images become float32 ``(N, C, H, W)`` scaled
to [0, 1] and normalized with the training set's per-channel mean and std (as
``ToTensor`` + ``Normalize``); tabular features are standardized. The statistics are stored in
the checkpoint (``preprocess``) so ``eval`` and ``predict`` apply exactly the same mapping.
"""

from __future__ import annotations

import numpy as np

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
SCHEDULERS = ("none", "step", "multistep", "cosine", "onecycle", "plateau")


def _choice(kind: str, value: str, valid) -> str:
    v = str(value).lower()
    if v not in valid:
        raise ValueError(f"unknown {kind} {value!r}; valid {kind}s: {', '.join(valid)}")
    return v


def build_optimizer(name: str, params, *, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
    """``cnnlab.optim`` optimizer by name (one of ``OPTIMIZERS``).

    ``momentum`` applies to SGD and RMSprop; the others ignore it.
    """
    from .. import optim

    name = _choice("optimizer", name, OPTIMIZERS)
    params = list(params)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta}[name]
    return cls(params, lr=lr, weight_decay=weight_decay)


def build_scheduler(name: str, optimizer, *, epochs: int, steps_per_epoch: int, lr: float):
    """Learning-rate schedule by name (one of ``SCHEDULERS``); ``None`` for ``"none"``.

    step: ×0.1 every third of the run; multistep: ×0.1 at 50% and 75%; cosine: to 0 over the
    run; onecycle: per batch, peak ``lr``; plateau: ×0.1 after 2 epochs without improvement.
    """
    from ..optim import lr_scheduler as S

    name = _choice("scheduler", name, SCHEDULERS)
    epochs = max(int(epochs), 1)
    if name == "none":
        return None
    if name == "step":
        return S.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "multistep":
        return S.MultiStepLR(optimizer, milestones=sorted({max(epochs // 2, 1), max(3 * epochs // 4, 1)}), gamma=0.1)
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "onecycle":
        return S.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * max(int(steps_per_epoch), 1))
    return S.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=2)


# ------------------------------------------------------------------ data
def _is_image_array(data: np.ndarray) -> bool:
    return data.dtype == np.uint8 and data.ndim in (3, 4)


def _images_nchw(data: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, C) → (N, C, H, W) (a view where possible)."""
    return data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2)


def fit_preprocess(train_data: np.ndarray) -> dict:
    """Statistics of the training split that define the input mapping (JSON-able)."""
    data = np.asarray(train_data)
    if _is_image_array(data):
        x = _images_nchw(data)
        c = x.shape[1]
        # Channel statistics in float64 over a strided subsample: exact enough, and fast.
        sample = x[:: max(len(x) // 10000, 1)].astype(np.float64) / 255.0
        mean = sample.mean(axis=(0, 2, 3))
        std = sample.std(axis=(0, 2, 3))
        return {"kind": "image", "image_shape": [c, x.shape[2], x.shape[3]],
                "mean": [float(m) for m in mean], "std": [float(s) if s > 0 else 1.0 for s in std]}
    x = data.reshape(len(data), -1).astype(np.float64)
    std = x.std(axis=0)
    return {"kind": "tabular", "features": int(x.shape[1]), "mean": x.mean(axis=0).tolist(),
            "std": np.where(std > 0, std, 1.0).tolist()}


def apply_preprocess(data: np.ndarray, pre: dict) -> np.ndarray:
    """Map raw dataset arrays to float32 model inputs with the statistics of ``fit_preprocess``."""
    data = np.asarray(data)
    if pre["kind"] == "image":
        x = _images_nchw(data).astype(np.float32)
        x *= np.float32(1 / 255)
        mean = np.asarray(pre["mean"], np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(pre["std"], np.float32).reshape(1, -1, 1, 1)
        x -= mean
        x /= std
        return np.ascontiguousarray(x)
    x = data.reshape(len(data), -1).astype(np.float32)
    return ((x - np.asarray(pre["mean"], np.float32)) / np.asarray(pre["std"], np.float32)).astype(np.float32)


def check_model_fits(model_name: str, spec, pre: dict, dataset_name: str, num_classes: int | None, task: str) -> None:
    """Refuse a model/dataset pair whose shapes or tasks cannot work together, saying why."""
    if spec is None:
        return
    want = tuple(getattr(spec, "input_shape", ()) or ())
    have = tuple(pre["image_shape"]) if pre["kind"] == "image" else (pre["features"],)
    if want and int(np.prod(want)) != int(np.prod(have)):
        raise ValueError(
            f"model {model_name!r} expects inputs of shape {'x'.join(map(str, want))} but dataset "
            f"{dataset_name!r} gives {'x'.join(map(str, have))}; choose a model made for this data"
        )
    spec_task = getattr(spec, "task", task)
    if spec_task != task:
        raise ValueError(f"model {model_name!r} is a {spec_task} model but dataset {dataset_name!r} is a {task} task")


def dataset_task(dataset) -> str:
    task = getattr(dataset, "task", None)
    if task in ("classification", "regression"):
        return task
    targets = np.asarray(dataset.targets)
    return "classification" if targets.dtype.kind in "iub" else "regression"


def dataset_arrays(dataset, pre: dict, task: str, limit: int | None = None):
    """``(inputs, targets)`` arrays for a whole dataset (first ``limit`` samples if given)."""
    data = np.asarray(dataset.data)
    targets = np.asarray(dataset.targets)
    if limit is not None:
        if limit <= 0:
            raise ValueError(f"limit must be a positive number of samples, got {limit}")
        data, targets = data[:limit], targets[:limit]
    x = apply_preprocess(data, pre)
    y = targets.astype(np.int64) if task == "classification" else targets.astype(np.float32)
    return x, y
