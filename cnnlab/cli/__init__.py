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
import warnings

from .errors import CLIError, UsageError, one_line, report


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``main`` prints them), not usage + exit."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _add_debug(parser: argparse.ArgumentParser, top: bool) -> None:
    """``--debug`` on every parser (before or after the command); only the top one sets a default."""
    parser.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="show the full traceback of an error")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_debug(sub, False)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cnnlab",
        description="Build, train and inspect convolutional neural networks (NumPy engine, PyTorch API).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(subparsers)
    _add_debug(parser, True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every expected failure prints one line on stderr.

    Exit status: 0 success, 2 usage error (bad argument, missing input), 1 failure at run time
    (disk full, read-only output, data not found...), 130 interrupted. ``--debug`` re-raises,
    so the traceback shows.
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # said by the sub-command, whose --help lists what it takes
            prog = f"cnnlab {args.command}"
            raise UsageError(f"{prog}: error: unrecognized arguments: {' '.join(unknown)} (see {prog} --help)")
    except UsageError as e:
        if "--debug" in argv:
            raise
        print(one_line(str(e)), file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            # Pillow only warns for images between 1x and 2x its pixel limit: refuse them too.
            warnings.filterwarnings("error", message=".*decompression bomb")
            result = args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `cnnlab summary alexnet | head`: the reader left, not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:
        if args.debug:
            raise
        code, message = report(e, args)
        print(f"cnnlab {args.command}: error: {message}", file=sys.stderr)
        return code
    return int(result or 0)
