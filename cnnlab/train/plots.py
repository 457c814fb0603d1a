"""PNG plots of a run: loss and accuracy curves per epoch, and the confusion matrix.

matplotlib is imported lazily with the non-interactive Agg backend, so plotting works on
machines without a display and costs nothing for code that never plots. Each PNG is written
whole or not at all (``atomic_write_bytes``), so a killed run never leaves half an image.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    import io

    from ..checkpoint import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def _series(records: list[dict], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for r in records:
        v = r.get(key)
        if isinstance(v, (int, float)) and v == v:  # skip missing and NaN
            xs.append(r.get("epoch", len(xs) + 1))
            ys.append(v)
    return xs, ys


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < window:
        return values
    c = np.cumsum(np.insert(values, 0, 0.0))
    head = c[1:window] / np.arange(1, window)  # shorter windows at the start, so the line starts at step 1
    return np.concatenate([head, (c[window:] - c[:-window]) / window])


def plot_curve(records: list[dict], metric: str, path: str | os.PathLike, title: str | None = None,
               steps: list[dict] | None = None) -> Path | None:
    """Plot ``train_<metric>``, ``val_<metric>`` and ``test_<metric>`` per epoch, over the per-step
    training values (``steps``: dicts with ``epoch`` as a fraction and ``metric``) when given;
    None if no data."""
    from matplotlib.ticker import MaxNLocator

    lines = {split: _series(records, f"{split}_{metric}") for split in ("train", "val", "test")}
    per_step = [(s["epoch"], s[metric]) for s in (steps or []) if isinstance(s.get(metric), (int, float))]
    if not any(xs for xs, _ in lines.values()) and not per_step:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    if per_step:
        xs, ys = np.array(per_step, dtype=np.float64).T
        ax.plot(xs, ys, color="tab:blue", alpha=0.2, linewidth=0.8, label="training (each step)")
        window = max(len(ys) // 40, 1)
        ax.plot(xs, _moving_average(ys, window), color="tab:blue", linewidth=1.5,
                label=f"training (mean of {window} steps)")
    for split, (xs, ys) in lines.items():
        if xs:
            ax.plot(xs, ys, marker="o", linestyle="--" if per_step else "-",
                    color={"train": "tab:green", "val": "tab:orange", "test": "tab:red"}[split],
                    label={"train": "training (epoch mean)", "val": "validation (end of epoch)",
                           "test": "test (end of epoch, for the record)"}[split])
    if not per_step:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title or f"{metric.replace('_', ' ')} per epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return Path(path)


def plot_confusion(cm, classes: list[str] | None, path: str | os.PathLike, title: str = "confusion matrix") -> Path:
    """A heat map of ``cm`` (rows: true class, columns: predicted) with counts and a colour bar."""
    cm = np.asarray(cm)
    n = cm.shape[0]
    classes = list(classes) if classes is not None and len(classes) == n else [str(i) for i in range(n)]
    plt = _pyplot()
    size = max(5.0, 0.55 * n + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=100)
    im = ax.imshow(cm, cmap="Blues", interpolation="nearest")
    fig.colorbar(im, ax=ax, label="samples")
    ax.set_xticks(range(n), labels=classes, rotation=45, ha="right")
    ax.set_yticks(range(n), labels=classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    if n <= 20:
        threshold = cm.max() / 2 if cm.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if cm[i, j] > threshold else "black")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return Path(path)


def plot_run(run_dir: str | os.PathLike, records: list[dict], task: str = "classification",
             confusion=None, classes=None, steps: list[dict] | None = None,
             confusion_title: str | None = None) -> list[Path]:
    """Write ``loss.png``, then ``accuracy.png`` and ``confusion.png`` (classification) or
    ``rmse.png`` (regression) into ``run_dir``; returns the files written."""
    run_dir = Path(run_dir)
    written = [plot_curve(records, "loss", run_dir / "loss.png", "loss", steps)]
    if task == "classification":
        written.append(plot_curve(records, "accuracy", run_dir / "accuracy.png", "accuracy", steps))
        if confusion is not None:
            written.append(plot_confusion(confusion, classes, run_dir / "confusion.png",
                                          confusion_title or "confusion matrix"))
    else:
        written.append(plot_curve(records, "rmse", run_dir / "rmse.png", "RMSE per epoch"))
    return [p for p in written if p is not None]
