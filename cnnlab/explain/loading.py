"""From a checkpoint (or run directory) on the command line to ``create_app``'s arguments.

The checkpoint's :class:`~cnnlab.inspect.RunInfo` says which dataset the model was trained on
and with which input normalisation (per-channel mean and std); the run directory next to
it holds ``metrics.jsonl`` (one record per epoch, the last with the validation confusion
matrix). Only the command line names a checkpoint; the web app never loads files by request.

Example:
    >>> kwargs, notes = app_kwargs_from_checkpoint("runs/mnist-cnn-fashion-mnist-2025.../")
    >>> app = create_app(**kwargs)
"""

from __future__ import annotations

import json
import math
from pathlib import Path


def load_run_info(run_dir) -> dict | None:
    """Training curves and the last confusion matrix from ``run_dir/metrics.jsonl``, or None.

    Returns:
        ``{"curves": {"epoch": [...], "train_loss": [...], ...}, "confusion": [[...]] | None}``;
        every numeric key of the records becomes a curve (missing values are None).
    """
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return None
    records = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a killed run: show the rest
    if not records:
        return None
    keys = []
    for r in records:
        for k, v in r.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in keys:
                keys.append(k)

    def num(v):
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None

    curves = {k: [num(r.get(k)) for r in records] for k in keys}
    if "epoch" not in curves:
        curves["epoch"] = list(range(1, len(records) + 1))
    confusion = None
    for r in reversed(records):
        key = next((k for k in r if "confusion" in k and isinstance(r[k], list)), None)
        if key:
            confusion = r[key]
            break
    return {"curves": curves, "confusion": confusion, "run_dir": str(Path(run_dir))}


def app_kwargs_from_checkpoint(path, data_root=None) -> tuple[dict, list[str]]:
    """``create_app`` keyword arguments for a checkpoint file or run directory, plus notes.

    The dataset is optional: if it cannot be loaded the app still runs (draw and upload work)
    and a note says why the gallery is empty.
    """
    from ..inspect import load_run

    model, info = load_run(path)
    ckpt = info.path
    notes = [f"checkpoint: {ckpt}"]
    dataset = None
    name = info.dataset
    if name:
        try:
            from .. import datasets

            dataset = datasets.create(name, root=data_root, train=False)
        except Exception as e:  # missing data must not stop the explainer
            notes.append(f"dataset {name!r} could not be loaded ({e}); the sample gallery is empty")
    run = load_run_info(ckpt.parent)
    if run is None:
        notes.append(f"no metrics.jsonl next to the checkpoint; the Training tab is empty")
    filter_history = None
    try:
        from ..train.snapshots import load_filter_history

        filter_history = load_filter_history(ckpt.parent)
    except (FileNotFoundError, ValueError) as e:
        notes.append(f"the Filters tab has no epoch slider: {e}")
    classes = None if info.classes is None else list(info.classes)
    input_shape = None if info.input_shape is None else list(info.input_shape)
    return {"model": model, "meta": info.describe(), "dataset": dataset, "input_shape": input_shape,
            "classes": classes, "normalize": info.normalize, "run": run, "filter_history": filter_history}, notes
