"""Run directories: where a training run keeps its checkpoint, metrics, plots and summary.

A run directory holds ``run.json`` (what was run, and which training images were held out for
validation), ``checkpoint.safetensors`` (the latest epoch), ``best.safetensors`` (the best
epoch by the validation metric), ``metrics.jsonl`` (one JSON record per epoch: ``train_*``,
``val_*`` and ``test_*`` metrics), ``steps.jsonl`` (one line per step),
``loss.png``/``accuracy.png``/``confusion.png`` and ``summary.txt``. The file ``<root>/latest``
names the most recent run so other tools can find it.

Every file is written whole or not at all (``atomic_write_bytes``) except the two JSONL logs,
which are appended; the checkpoint holds their records too, so ``--resume`` rewrites them.

Example:
    >>> run = create_run_dir(model="mnist-cnn", dataset="fashion-mnist")
    >>> latest_run()
    PosixPath('runs/mnist-cnn-fashion-mnist-20250101-120000')
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from pathlib import Path

RUN_MARKERS = ("run.json", "checkpoint.safetensors", "metrics.jsonl")
LATEST = "latest"


class RunExistsError(FileExistsError):
    """The output directory already holds a run and neither resume nor force was asked."""


def holds_run(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a directory that already contains a run's files."""
    path = Path(path)
    return path.is_dir() and any((path / m).exists() for m in RUN_MARKERS)


def default_run_name(model: str, dataset: str, now: _dt.datetime | None = None) -> str:
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe = lambda s: "".join(c if c.isalnum() or c in "-_." else "_" for c in str(s))  # noqa: E731
    return f"{safe(model)}-{safe(dataset)}-{stamp}"


def create_run_dir(
    out: str | os.PathLike | None = None,
    *,
    model: str = "model",
    dataset: str = "data",
    root: str | os.PathLike = "runs",
    resume: bool = False,
    force: bool = False,
) -> Path:
    """Create (or reopen) a run directory.

    Args:
        out: the directory; default ``<root>/<model>-<dataset>-<timestamp>``.
        resume: reopen a directory that holds a run (to continue it).
        force: start a new run in a directory that holds one, deleting the old run's files.

    Raises:
        RunExistsError: ``out`` already holds a run and neither ``resume`` nor ``force`` is set.
        FileNotFoundError: ``resume`` on a directory without a run.
    """
    check_run_dir(out, resume=resume, force=force)
    if out is None:
        base = Path(root) / default_run_name(model, dataset)
        out, i = base, 1
        while out.exists():  # two runs started in the same second
            out, i = Path(f"{base}-{i}"), i + 1
    out = Path(out)
    if resume:
        return out
    if holds_run(out):
        for name in (*RUN_MARKERS, "best.safetensors", "steps.jsonl", "loss.png", "accuracy.png",
                     "confusion.png", "rmse.png", "summary.txt"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return out


def check_run_dir(out: str | os.PathLike | None, *, resume: bool = False, force: bool = False) -> None:
    """Refuse a run directory as :func:`create_run_dir` would, without creating anything (so a
    run can check ``--out`` before loading its data, and create the directory only once the
    data and model are ready: a start that fails leaves no empty directory behind).

    Raises:
        RunExistsError: ``out`` already holds a run and neither ``resume`` nor ``force`` is set.
        FileNotFoundError: ``resume`` on a directory without a run.
    """
    if out is None:
        return
    out = Path(out)
    if resume:
        if not (out / "checkpoint.safetensors").is_file():
            raise FileNotFoundError(f"--resume: {str(out)!r} holds no checkpoint.safetensors to resume from")
        return
    if holds_run(out) and not force:
        raise RunExistsError(
            f"output directory {str(out)!r} already holds a run; pass --resume to continue it, "
            "--force to replace it, or choose another --out"
        )


def remove_stale_temp_files(run: str | os.PathLike) -> list[Path]:
    """Delete the temporary files (``.checkpoint.safetensors.*.tmp``...) a killed run left in ``run``."""
    ours = {*RUN_MARKERS, "best.safetensors", "steps.jsonl", "summary.txt", "filters.npz"}
    removed = []
    for path in Path(run).glob(".*.tmp"):
        name = path.name[1:].rsplit(".", 2)[0]  # .NAME.<random>.tmp, as atomic_write_bytes makes them
        if path.is_file() and (name in ours or name.endswith(".png")):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def set_latest(run: str | os.PathLike, root: str | os.PathLike = "runs") -> Path:
    """Record ``run`` as the latest run in ``<root>/latest`` (a one-line text file)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run = Path(run).resolve()
    try:  # relative inside root, so moving the whole runs/ folder keeps it valid
        text = str(run.relative_to(root.resolve()))
    except ValueError:
        text = str(run)
    from ..checkpoint import atomic_write_bytes

    atomic_write_bytes(root / LATEST, (text + "\n").encode())
    return root / LATEST


def latest_run(root: str | os.PathLike = "runs") -> Path | None:
    """The directory of the most recent run under ``root``, or ``None`` if there is none.

    Reads ``<root>/latest``; if it is missing or stale, falls back to the newest directory
    under ``root`` that holds a checkpoint.
    """
    root = Path(root)
    marker = root / LATEST
    if marker.is_file():
        target = Path(marker.read_text().strip())
        if not target.is_absolute():
            target = root / target
        if (target / "checkpoint.safetensors").is_file():
            return target
    if not root.is_dir():
        return None
    runs = [p for p in root.iterdir() if p.is_dir() and (p / "checkpoint.safetensors").is_file()]
    return max(runs, key=lambda p: (p / "checkpoint.safetensors").stat().st_mtime) if runs else None


def write_json(path: str | os.PathLike, data: dict) -> None:
    from ..checkpoint import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(_clean(data), indent=2) + "\n").encode())


def _clean(obj):
    """JSON without NaN (written as null) so every JSON reader accepts the files."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        return _clean(obj.item())
    return obj


class MetricsLog:
    """``metrics.jsonl``: one JSON object per line, appended and flushed after each epoch."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def append(self, record: dict) -> None:
        self._append(json.dumps(_clean(record)) + "\n")

    def _append(self, text: str) -> None:
        try:
            with open(self.path, "a") as f:
                f.write(text)
                f.flush()
        except OSError as e:
            if e.filename is not None or e.errno is None:
                raise
            raise OSError(e.errno, f"cannot append to {str(self.path)!r}: {e.strerror}; the checkpoint holds "
                                   "the record and --resume rewrites the file from it") from None

    def read(self) -> list[dict]:
        if not self.path.is_file():
            return []
        out = []
        for i, line in enumerate(self.path.read_text().splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{self.path}: line {i} is not valid JSON ({e})") from None
        return out

    def extend(self, records: list[dict]) -> None:
        if records:
            self._append("".join(json.dumps(_clean(r)) + "\n" for r in records))

    def rewrite(self, records: list[dict]) -> None:
        """Replace the file with ``records`` (atomically)."""
        from ..checkpoint import atomic_write_bytes

        atomic_write_bytes(self.path, "".join(json.dumps(_clean(r)) + "\n" for r in records).encode())

    def truncate_after(self, value: int, key: str = "epoch") -> None:
        """Keep only records with ``key`` up to ``value`` (a resumed run rewrites what came later)."""
        if not self.path.is_file():
            return
        kept = [r for r in self.read() if r.get(key, 0) <= value]
        from ..checkpoint import atomic_write_bytes

        atomic_write_bytes(self.path, "".join(json.dumps(r) + "\n" for r in kept).encode())
