"""``cnnlab data install NAME...``: fetch datasets into the cache from the offline sources."""

from __future__ import annotations

from .errors import CLIError, CLIRuntimeError


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="manage the dataset cache (install)")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True
    inst = sub.add_parser("install", help="install datasets into the cache ($CNNLAB_DATA, default ~/.cache/cnnlab)")
    inst.add_argument("names", nargs="+", metavar="NAME", help="dataset names (see `cnnlab datasets`), or 'all'")
    inst.set_defaults(handler=run_install)


def run_install(args) -> int:
    from ..datasets import DataNotFoundError, available
    from ..datasets.install import install

    valid = [n for n in available() if n != "imagefolder"]
    names = valid if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in available()]
    if unknown:
        raise CLIError(f"unknown dataset {', '.join(map(repr, unknown))}; valid names: {', '.join(valid)}")
    failed = []
    for name in names:
        try:
            print(install(name), flush=True)
        except (DataNotFoundError, ValueError, OSError) as e:
            print(f"{name}: FAILED: {e}", flush=True)
            failed.append(name)
    if failed:
        raise CLIRuntimeError(f"could not install {', '.join(failed)} (see above)")
    return 0
