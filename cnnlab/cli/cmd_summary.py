"""``cnnlab summary MODEL``: the lecture's per-layer table for a model of the zoo."""

from __future__ import annotations

import ast

from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "summary",
        help="per-layer table of a model: shapes, parameters with formulas, MACs, receptive field",
        description="Print the lecture's per-layer table (activation shape and size, parameters and their "
                    "formula, MACs, receptive field and jump) with totals and the conv/FC shares.",
    )
    p.add_argument("model", nargs="?", help="registry name (see --list), e.g. alexnet, mnist-cnn")
    p.add_argument("--input", help="one sample's shape, e.g. 3x227x227 or 784 (default: the model's own)")
    p.add_argument("--format", default="text", choices=["text", "markdown", "csv", "json"],
                   help="output format (default text)")
    p.add_argument("--method", default="forward", choices=["forward", "shapes"],
                   help="forward: run the layers on one sample; shapes: shape inference only (default forward)")
    p.add_argument("--set", dest="kwargs", action="append", default=[], metavar="KEY=VALUE",
                   help="constructor argument, repeatable, e.g. --set groups=2 --set num_classes=10")
    p.add_argument("--list", action="store_true", help="list the registered models and exit")
    p.set_defaults(handler=run)


def _parse_kwargs(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise CLIError(f"--set expects KEY=VALUE (e.g. groups=2), got {item!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value  # a bare word such as activation=tanh
    return out


def run(args) -> int:
    from .. import models
    from ..summarize import summary

    if args.list or not args.model:
        if not args.list:
            raise CLIError(f"give a model name; valid names: {', '.join(models.available())}")
        for name in models.available():
            s = models.spec(name)
            print(f"{name:22s} {'x'.join(map(str, s.input_shape)):>10s}  {s.description}")
        return 0
    try:
        size = args.input or models.spec(args.model).input_shape
        _check_fits(args.model, _shape(size), args.input, args.method, _parse_kwargs(args.kwargs))
        title = f"{args.model} (input {'x'.join(map(str, _shape(size)))})"
        result = summary(args.model, size, method=args.method, name=title, **_parse_kwargs(args.kwargs))
    except ValueError as e:
        raise CLIError(str(e)) from None
    print(result.render(args.format))
    return 0


def _shape(size) -> tuple:
    from ..summarize import parse_input_size

    return parse_input_size(size)


def _check_fits(model: str, shape: tuple, text, method: str, kwargs: dict) -> None:
    """Refuse an input whose activations cannot fit in memory, before anything is allocated.

    The table keeps every layer's output. Their sizes are measured (shape inference) at the
    model's own input size and scaled by the ratio of spatial areas: what a convolutional stack
    does with a bigger picture. The input sample alone is the floor of that estimate.
    """
    import math

    from .. import models
    from ..summarize import summary
    from .args import available_memory

    need = 4 * math.prod(shape)
    base = tuple(models.spec(model).input_shape)
    if len(shape) == 3 and len(base) == 3 and shape[1] * shape[2] > base[1] * base[2]:
        rows = summary(model, base, method="shapes", **kwargs).rows
        scale = (shape[1] * shape[2]) / (base[1] * base[2])
        need = max(need, int(4 * sum(r.size * (scale if len(r.shape) == 3 else 1) for r in rows)))
    free = available_memory()
    if need > free:
        raise CLIError(f"--input {text}: the layers' outputs for one float32 sample of shape "
                       f"{'x'.join(map(str, shape))} need about {need / 2**30:,.1f} GiB but only "
                       f"{free / 2**30:,.1f} GiB of memory is available; choose a smaller --input")
