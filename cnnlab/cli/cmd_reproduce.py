"""``cnnlab reproduce``: the lecture's reported results, by one command."""

from __future__ import annotations

from .args import add_threads_argument, check_threads, cluster_spec, existing_dir, output_dir
from .errors import CLIError, CLIRuntimeError


def register(subparsers) -> None:
    p = subparsers.add_parser("reproduce", help="re-run the lecture's experiments and compare with its figures")
    p.add_argument("--quick", action="store_true", help="reduced budgets (a pipeline check, a few minutes)")
    p.add_argument("--only", action="append", metavar="NAME", help="run only this recipe (repeatable)")
    p.add_argument("--data-root", type=existing_dir, help="folder holding full data sets (e.g. MNIST IDX files)")
    p.add_argument("--out", type=output_dir, default=".", help="where reproduce.md and reproduce.json go (default .)")
    p.add_argument("--runs", type=output_dir, default="runs/reproduce", help="root of the per-seed run directories")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.add_argument("--cluster", type=cluster_spec, metavar="WHERE",
                   help="run every seed as a Dask task: local (one worker per core), local:WORKERS, "
                        "local:WORKERSxTHREADS or tcp://HOST:PORT (a running scheduler); the table equals "
                        "the serial one run with the workers' --threads (needs the 'cluster' extra)")
    add_threads_argument(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    check_threads(args)
    from ..reproduce import reproduce

    try:
        reproduce(quick=args.quick, only=args.only, data_root=args.data_root, out_dir=args.out,
                  runs_root=args.runs, progress=bool(args.progress), cluster=args.cluster,
                  threads=args.threads)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    except ConnectionError as e:
        raise CLIRuntimeError(str(e)) from None
    print(f"\nwrote {args.out.rstrip('/')}/reproduce.md and reproduce.json")
    return 0
