"""``cnnlab show-filters CHECKPOINT``: a grid of a conv layer's learned kernels."""

from __future__ import annotations

from .args import checkpoint_path, output_file, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "show-filters", help="draw the kernels a checkpoint's conv layer learned (colour for RGB input)",
    )
    p.add_argument("checkpoint", type=checkpoint_path, metavar="CHECKPOINT", help="a .safetensors checkpoint or a run directory")
    p.add_argument("--layer", help="conv layer name (default: the first conv layer)")
    p.add_argument("--max-filters", type=positive_int, default=32, help="filters to draw at most (default 32)")
    p.add_argument("--out", type=output_file, default="filters.png", help="figure to write (default filters.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..viz.features import plot_filters
    from ..viz.model_input import load_model

    try:
        loaded = load_model(args.checkpoint)
        w = plot_filters(loaded.model, args.out, layer=args.layer, max_out=args.max_filters,
                         title=None)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    print(f"{loaded.name}: {w.shape[0]} filters of {w.shape[1]}x{w.shape[2]}x{w.shape[3]}, "
          f"weights in [{w.min():.3f}, {w.max():.3f}]")
    print(f"wrote {args.out}")
    return 0
