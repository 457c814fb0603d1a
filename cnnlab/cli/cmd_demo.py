"""``cnnlab demo``: the README's main job (the lecture's CNN, one epoch of Fashion-MNIST)."""

from __future__ import annotations

import sys

from .args import output_dir, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="the main job: train the lecture's mnist-cnn on Fashion-MNIST for one epoch and report",
        description="Train mnist-cnn on the full Fashion-MNIST (1 epoch, SGD lr 0.01 momentum 0.9, batch 64, "
                    "seed 0); print the model summary, test accuracy and top-k predictions; say where the "
                    "checkpoint and plots are.")
    p.add_argument("--epochs", type=positive_int, default=1, help="epochs (default 1)")
    p.add_argument("--limit-train", type=positive_int, metavar="N", help="use only the first N training images (quick check)")
    p.add_argument("--out", type=output_dir, metavar="DIR", help="run directory (default runs/mnist-cnn-fashion-mnist-<timestamp>)")
    p.add_argument("--force", action="store_true", help="replace a run already in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..demo import main_job
    from ..train.loop import TrainingDiverged
    from ..train.run_dir import RunExistsError

    try:
        main_job(epochs=args.epochs, limit_train=args.limit_train, out=args.out, force=args.force,
                 progress=False if args.no_progress else None)
    except TrainingDiverged as e:
        print(f"cnnlab demo: {e}", file=sys.stderr)
        return 1
    except (ValueError, RunExistsError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    return 0
