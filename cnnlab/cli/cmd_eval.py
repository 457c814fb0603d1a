"""``cnnlab eval CHECKPOINT``: test-set metrics of a trained model."""

from __future__ import annotations

from .args import checkpoint_path, existing_dir, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a checkpoint on a dataset's test split",
                              description="Evaluate a checkpoint on a dataset's test split (a run directory: its "
                                          "checkpoint.safetensors, the last epoch's model; pass its "
                                          "best.safetensors for the epoch the validation part chose).")
    p.add_argument("checkpoint", type=checkpoint_path, metavar="CHECKPOINT", help="a .safetensors checkpoint or a run directory")
    p.add_argument("--data", metavar="DATASET", help="dataset (default: the one it was trained on)")
    p.add_argument("--data-root", type=existing_dir, metavar="DIR", help="where the dataset files are (default: search)")
    p.add_argument("--batch-size", type=positive_int, default=256, help="batch size (default 256)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="evaluate only the first N test samples")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def format_metrics(metrics: dict, classes=None) -> str:
    """The report: headline numbers, then per-class accuracy for classification."""
    if "rmse" in metrics:
        return (f"samples {metrics['count']}\nloss {metrics['loss']:.4f}\nRMSE {metrics['rmse']:.4f}\n"
                f"MAE {metrics['mae']:.4f}")
    lines = [f"samples {metrics['count']}", f"loss {metrics['loss']:.4f}",
             f"accuracy {100 * metrics['accuracy']:.2f}%", f"top-5 accuracy {100 * metrics['top5_accuracy']:.2f}%",
             "", "per-class accuracy:"]
    per = metrics.get("per_class_accuracy", [])
    names = classes if classes and len(classes) == len(per) else [str(i) for i in range(len(per))]
    width = max((len(n) for n in names), default=5)
    for name, acc in zip(names, per):
        lines.append(f"  {name:<{width}}  " + ("  n/a (no samples)" if acc is None else f"{100 * acc:6.2f}%"))
    return "\n".join(lines)


def recorded_data_root(checkpoint: str, data: str | None = None) -> str | None:
    """The ``--data-root`` the run next to ``checkpoint`` was trained with (from its run.json),
    when ``data`` is that run's dataset and the folder still exists; else None."""
    import json
    from pathlib import Path

    from ..train.session import resolve_checkpoint

    try:
        config = json.loads((resolve_checkpoint(checkpoint).parent / "run.json").read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    root = config.get("data_root")
    if not root or (data is not None and data != config.get("data")) or not Path(root).is_dir():
        return None
    return str(root)


def run(args) -> int:
    from ..datasets import ChecksumError, DataNotFoundError
    from ..train.session import eval_checkpoint, run_split

    data_root = args.data_root or recorded_data_root(args.checkpoint, args.data)
    try:
        metrics, extra, name = eval_checkpoint(args.checkpoint, args.data, data_root=data_root,
                                               limit=args.limit, batch_size=args.batch_size,
                                               progress=False if args.no_progress else None)
    except (DataNotFoundError, ChecksumError):
        raise  # a failure at run time (exit 1), reported by the CLI's error boundary
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        raise CLIError(str(e)) from None
    split = run_split(extra, name)
    where = (f"held-out fold {split['fold']} of {split['folds']}, seed {split['split_seed']}" if split
             else "test split, never used for training or model selection")
    print(f"{args.checkpoint} on {name} ({where})")
    print(format_metrics(metrics, extra.get("classes")))
    return 0
