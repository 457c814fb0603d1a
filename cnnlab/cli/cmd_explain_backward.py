"""``cnnlab explain-backward``: the backward pass of convolution, max pooling and ReLU, step by step.

The companion of ``explain-conv``: coloured terminal frames (one replacing the other, or all
of them with ``--no-animate``) and an animated GIF, every number the gradient autograd computes.
"""

from __future__ import annotations

from .args import nonneg_float, optional_output_file
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explain-backward", help="the backward pass of conv / max-pool / ReLU, step by step (terminal + GIF)",
        description="With a given upstream gradient dL/dY: dL/dW as the input correlated with dL/dY, "
                    "window by window; dL/dX as the 'full' convolution with the flipped kernel; max "
                    "pooling routing each window's gradient to its maximum; ReLU's mask. Default: the "
                    "lecture's 5x5 image and 'X' kernel.",
    )
    p.add_argument("--example", choices=["lecture", "edge", "pool", "relu"], default="lecture",
                   help="lecture: 5x5 image, X kernel; edge: 6x6 vertical edge; pool: 2x2 max pooling; relu: 4x4 ReLU")
    p.add_argument("--gif", type=optional_output_file, default="explain-backward.gif",
                   help="animated GIF to write (default explain-backward.gif); '' for none")
    p.add_argument("--no-animate", action="store_true", help="print all frames one after the other")
    p.add_argument("--delay", type=nonneg_float, default=0.6, help="seconds between terminal frames (default 0.6)")
    p.add_argument("--no-color", action="store_true", help="no ANSI colours (brackets mark the cells)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import sys

    from ..viz.backward_render import play, save_gif
    from ..viz.backward_stepper import example_walks

    try:
        walks = example_walks(args.example)
    except ValueError as e:
        raise CLIError(str(e)) from None
    tty = sys.stdout.isatty()
    play(walks, animate=not args.no_animate and tty, delay=args.delay, color=not args.no_color and tty)
    if args.gif:
        try:
            save_gif(walks, args.gif)
        except OSError as e:
            raise CLIError(f"--gif: cannot write {args.gif}: {e.strerror or e}") from None
        print(f"wrote {args.gif}")
    return 0
