"""``cnnlab show-filters CHECKPOINT``: a grid of a conv layer's learned kernels, or with
``--over-training`` the first conv layer at every epoch of the run as an animated GIF."""

from __future__ import annotations

from pathlib import Path

from .args import checkpoint_path, output_file, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "show-filters", help="draw the kernels a checkpoint's conv layer learned (colour for RGB input)",
    )
    p.add_argument("checkpoint", type=checkpoint_path, metavar="CHECKPOINT", help="a .safetensors checkpoint or a run directory")
    p.add_argument("--layer", help="conv layer name (default: the first conv layer)")
    p.add_argument("--max-filters", type=positive_int, default=32, help="filters to draw at most (default 32)")
    p.add_argument("--over-training", action="store_true",
                   help="the first conv layer at every epoch of the run (kept by `cnnlab train` in "
                        "filters.npz) as an animated GIF; frame 0 is the initialisation")
    p.add_argument("--out", type=output_file, default=None,
                   help="figure to write (default filters.png; with --over-training filters-over-training.gif)")
    p.set_defaults(handler=run)


def run(args) -> int:
    if args.over_training:
        return over_training(args)
    from ..viz.features import plot_filters
    from ..viz.model_input import load_model

    out = args.out or "filters.png"
    try:
        loaded = load_model(args.checkpoint)
        w = plot_filters(loaded.model, out, layer=args.layer, max_out=args.max_filters,
                         title=None)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    print(f"{loaded.name}: {w.shape[0]} filters of {w.shape[1]}x{w.shape[2]}x{w.shape[3]}, "
          f"weights in [{w.min():.3f}, {w.max():.3f}]")
    print(f"wrote {out}")
    return 0


def over_training(args) -> int:
    from ..inspect import resolve_checkpoint
    from ..train.snapshots import load_filter_history
    from ..viz.filter_history import save_filter_gif

    out = args.out or "filters-over-training.gif"
    if Path(out).suffix.lower() != ".gif":
        raise CLIError(f"--out: --over-training writes an animated GIF; give a .gif file, got {out!r}")
    try:
        h = load_filter_history(resolve_checkpoint(args.checkpoint).parent)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    if args.layer is not None and args.layer != h.layer:
        raise CLIError(f"--layer: the run keeps snapshots of its first conv layer {h.layer!r} only, got {args.layer!r}")
    if len(h.weights[0]) > args.max_filters:
        h.weights = h.weights[:, :args.max_filters]
    save_filter_gif(h, out)
    E, O, I, kh, kw = h.weights.shape
    print(f"{h.layer}: {O} filters of {I}x{kh}x{kw} at {E} snapshots (epochs {h.epochs[0]}..{h.epochs[-1]}; "
          f"0 is the initialisation)")
    print(f"wrote {out}")
    return 0
