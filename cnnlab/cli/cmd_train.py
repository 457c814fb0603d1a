"""``cnnlab train MODEL --data DATASET``: train a registry model into a run directory."""

from __future__ import annotations

import argparse
import sys

from .args import existing_dir, holdout_fraction, nonneg_float, nonneg_int, output_dir, positive_float, positive_int
from .errors import CLIError

# Defaults live here (not in argparse) so --resume can tell what was given on the command line.
_DEFAULTS = {"epochs": 1, "batch_size": 64, "lr": 0.01, "optimizer": "sgd", "momentum": 0.9,
             "weight_decay": 0.0, "scheduler": "none", "seed": 0, "val_split": None}


# Settings of the data a resumed run must keep (a different subset would be a different run).
_RESUME_FIXED = ("limit_train", "limit_test")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a model on a dataset (checkpoint, metrics, plots in a run directory)",
        description="Train MODEL on DATASET. The run directory (default runs/<model>-<dataset>-<time>) "
                    "gets checkpoint.safetensors, metrics.jsonl, loss/accuracy/confusion plots, "
                    "summary.txt, run.json and filters.npz (the first conv layer after every epoch, for "
                    "`show-filters --over-training`); runs/latest names the newest run.")
    p.add_argument("model", metavar="MODEL", help="registry name, e.g. mnist-cnn (list: `cnnlab summary --list`)")
    p.add_argument("--data", required=True, metavar="DATASET", help="dataset name, e.g. fashion-mnist")
    p.add_argument("--epochs", type=positive_int, help="epochs (default 1; with --resume: the new total)")
    p.add_argument("--batch-size", type=positive_int, help="batch size (default 64)")
    p.add_argument("--lr", type=positive_float, help="learning rate (default 0.01)")
    p.add_argument("--optimizer", help="sgd | adam | adamw | rmsprop | adagrad | adadelta (default sgd)")
    p.add_argument("--momentum", type=nonneg_float, help="momentum for sgd/rmsprop (default 0.9)")
    p.add_argument("--weight-decay", type=nonneg_float, help="weight decay (default 0)")
    p.add_argument("--scheduler", help="none | step | multistep | cosine | onecycle | plateau (default none)")
    p.add_argument("--seed", type=nonneg_int, help="random seed for init, dropout and shuffling (default 0)")
    p.add_argument("--val-split", type=holdout_fraction, metavar="FRACTION",
                   help="fraction of the training split held out for validation, stratified by class and "
                        "drawn with --seed; it picks best.safetensors and drives --scheduler plateau "
                        "(default 0.1 for image sets, 0 for tabular ones; 0: none). The test split is "
                        "scored each epoch for the record only")
    p.add_argument("--out", type=output_dir, metavar="DIR", help="run directory (default runs/<model>-<dataset>-<timestamp>)")
    p.add_argument("--runs-root", type=output_dir, default="runs", metavar="DIR", help="where default run directories go (default runs)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint, with the settings in its run.json")
    p.add_argument("--force", action="store_true", help="replace a run already in --out")
    p.add_argument("--limit-train", type=positive_int, metavar="N", help="use only the first N training samples")
    p.add_argument("--limit-test", type=positive_int, metavar="N", help="use only the first N test samples")
    p.add_argument("--data-root", type=existing_dir, metavar="DIR", help="where the dataset files are (default: search)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (they are off anyway without a TTY)")
    # Simulates an interrupted run (tests of --resume): stop after this many epochs.
    p.add_argument("--stop-after", type=positive_int, metavar="EPOCHS", help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def _config(args):
    from ..train.session import TrainConfig, read_run_config

    given = {k: getattr(args, k) for k in _DEFAULTS if getattr(args, k) is not None}
    if args.resume:
        if not args.out:
            raise CLIError("--resume needs --out DIR: the run directory to continue")
        if args.force:
            raise CLIError("--resume continues the run in --out and --force replaces it: give one of them")
        try:
            saved = read_run_config(args.out)
        except FileNotFoundError as e:
            raise CLIError(str(e)) from None
        if (saved["model"], saved["data"]) != (args.model, args.data):
            raise CLIError(f"--resume: {args.out} is a run of {saved['model']} on {saved['data']}, "
                           f"not {args.model} on {args.data}")
        saved.setdefault("val_split", 0.0)  # runs from before --val-split validated on the test set
        changed = sorted(k for k, v in given.items() if k != "epochs" and v != saved.get(k))
        changed += [f"--{k.replace('_', '-')} (the run used {saved.get(k) or 'all samples'})" for k in _RESUME_FIXED
                    if getattr(args, k) is not None and getattr(args, k) != saved.get(k)]
        if changed:
            raise CLIError(f"--resume continues the run exactly; it cannot change {', '.join(changed)} "
                           "(only --epochs may grow)")
        epochs = given.get("epochs", saved["epochs"])
        if epochs != saved["epochs"] and saved["scheduler"] not in ("none", "plateau"):
            raise CLIError(f"--resume: the {saved['scheduler']} schedule was planned for {saved['epochs']} "
                           f"epochs; changing --epochs to {epochs} would change the run (start a new one)")
        saved.update(given)
        if args.data_root is not None:  # the same data may have moved: honour the new place
            saved["data_root"] = args.data_root
        return TrainConfig(**saved)
    return TrainConfig(model=args.model, data=args.data, limit_train=args.limit_train,
                       limit_test=args.limit_test, data_root=args.data_root, **{**_DEFAULTS, **given})


def run(args) -> int:
    from ..train.loop import TrainingDiverged
    from ..train.run_dir import RunExistsError
    from ..train.session import train_run

    cfg = _config(args)
    try:
        history, run_dir, test = train_run(cfg, out=args.out, root=args.runs_root, resume=args.resume,
                                           force=args.force, progress=False if args.no_progress else None,
                                           stop_after=args.stop_after)
    except TrainingDiverged as e:
        print(f"cnnlab train: {e}", file=sys.stderr)
        return 1
    except (ValueError, RunExistsError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    except OSError as e:  # e.g. a full disk at run time; the last checkpoint and best stay whole
        print(f"cnnlab train: error: {e}", file=sys.stderr)
        return 1
    val = history.last_val or {}
    if val:
        what = f"accuracy {100 * val['accuracy']:.2f}%" if "accuracy" in val else f"RMSE {val['rmse']:.4f}"
        print(f"validation {what} (best epoch {history.best_epoch}: best.safetensors)")
    if "accuracy" in test:
        print(f"test accuracy {100 * test['accuracy']:.2f}%  top-5 {100 * test['top5_accuracy']:.2f}%  "
              f"loss {test['loss']:.4f}")
    elif "rmse" in test:
        print(f"test RMSE {test['rmse']:.4f}  MAE {test['mae']:.4f}  loss {test['loss']:.4f}")
    print(f"run directory: {run_dir}  (checkpoint.safetensors, metrics.jsonl, plots, summary.txt)")
    return 0
