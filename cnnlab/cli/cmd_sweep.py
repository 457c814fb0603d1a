"""``cnnlab sweep RECIPE --grid KEY=V1,V2 ...``: a grid of settings × seeds, ranked in one table."""

from __future__ import annotations

from pathlib import Path

from .args import (add_threads_argument, check_threads, cluster_spec, existing_dir, grid_axis, output_dir,
                   positive_int)
from .errors import CLIError, CLIRuntimeError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="train a grid of settings × seeds from a recipe and rank them (serially or on Dask)",
        description="Train every combination of the --grid values with every seed, starting from RECIPE's "
                    "[train] settings, and write sweep.md and sweep.json: one row per combination, sorted by "
                    "--metric, with the mean ± std over seeds.")
    p.add_argument("recipe", metavar="RECIPE", help="a recipe file (format of cnnlab/recipes/*.toml) or a "
                                                   "recipe's name, e.g. fashion-cnn")
    p.add_argument("--grid", type=grid_axis, action="append", required=True, metavar="KEY=V1,V2",
                   help="one axis of the grid, e.g. lr=0.01,0.03,0.1 (repeatable; keys: the recipe's [train] keys)")
    p.add_argument("--seeds", type=positive_int, metavar="N",
                   help="seeds 0..N-1 for every point (default: the recipe's)")
    p.add_argument("--metric", metavar="NAME", help="the ranking: val_accuracy, val_loss, val_rmse, test_... "
                                                   "(default: the validation figure; test_ with cross-validation)")
    p.add_argument("--quick", action="store_true", help="start from the recipe's [quick] budget")
    p.add_argument("--cluster", type=cluster_spec, metavar="WHERE",
                   help="run each training as a Dask task: local, local:WORKERS, local:WORKERSxTHREADS or "
                        "tcp://HOST:PORT (needs the 'cluster' extra)")
    p.add_argument("--data-root", type=existing_dir, help="folder holding full data sets")
    p.add_argument("--out", type=output_dir, default=".", help="where sweep.md and sweep.json go (default .)")
    p.add_argument("--runs", type=output_dir, default="runs/sweep", help="root of the per-run directories")
    add_threads_argument(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    check_threads(args)
    from ..cluster.sweep import find_recipe, sweep

    try:
        recipe = find_recipe(args.recipe)
        rows = sweep(recipe, args.grid, seeds=list(range(args.seeds)) if args.seeds else None, metric=args.metric,
                     quick=args.quick, data_root=args.data_root, cluster=args.cluster, out_dir=args.out,
                     runs_root=args.runs, threads=args.threads)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    except ConnectionError as e:
        raise CLIRuntimeError(str(e)) from None
    print(Path(args.out, "sweep.md").read_text())
    print(f"wrote {args.out.rstrip('/')}/sweep.md and sweep.json")
    failed = sum(r.failed for r in rows)
    if failed:
        raise CLIRuntimeError(f"{failed} run(s) of {sum(len(r.seeds) + r.failed for r in rows)} failed; "
                              "their rows count only the seeds that finished (see sweep.json)")
    return 0
