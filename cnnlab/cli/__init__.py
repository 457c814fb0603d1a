"""The ``cnnlab`` command line.

Each sub-command lives in its own module ``cnnlab/cli/cmd_<name>.py`` that defines
``register(subparsers)``; modules are discovered here, so adding a command touches no
other file. Command modules import heavy libraries (matplotlib, the web app...) inside
their handlers, so ``cnnlab --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from .errors import CLIError, missing_module_message


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnlab",
        description="Build, train and inspect convolutional neural networks (NumPy engine, PyTorch API).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except CLIError as e:
        print(f"cnnlab {args.command}: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        message = missing_module_message(e)
        if message is None:
            raise
        print(f"cnnlab {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `cnnlab summary alexnet | head`: the reader left, not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return int(result or 0)
