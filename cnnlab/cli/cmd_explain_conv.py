"""``cnnlab explain-conv``, ``explain-pool`` and ``explain-relu``: the lecture's step-by-step animations.

Each prints coloured frames to the terminal (one replacing the other, or all of them with
``--no-animate``) and writes an animated GIF.
"""

from __future__ import annotations

from .args import float_range, int_range, nonneg_int, optional_output_file, positive_int
from .errors import CLIError


def _common(p, default_gif: str) -> None:
    p.add_argument("--gif", type=optional_output_file, default=default_gif, help=f"animated GIF to write (default {default_gif}); '' for none")
    p.add_argument("--no-animate", action="store_true", help="print all frames one after the other")
    p.add_argument("--delay", type=float_range(0.0, 10.0), default=0.6, help="seconds between terminal frames (default 0.6)")
    p.add_argument("--no-color", action="store_true", help="no ANSI colours (brackets mark the window)")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explain-conv", help="the lecture's convolution animation, step by step (terminal + GIF)",
        description="Slide a kernel over a small image: the window, the element-wise products, "
                    "their sum, and the output filling in cell by cell. Default: the lecture's "
                    "5x5 binary image with the 3x3 'X' kernel.",
    )
    p.add_argument("--example", choices=["lecture", "edge", "padding"], default="lecture",
                   help="lecture: 5x5 image, X kernel; edge: 6x6 vertical edge; padding: 7x7, pad 1, stride 3")
    p.add_argument("--image", help="matrix like '[[1,0],[0,1]]', or a size like 5x5 (random 0/1 image)")
    p.add_argument("--kernel", help="matrix like '[[1,0,-1]]', a named kernel (sharpen, ...), or a size like 3x3")
    p.add_argument("--stride", type=positive_int, help="stride (default: the example's)")
    p.add_argument("--padding", type=int_range(0, 12), help="zero padding (default: the example's)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed for random images/kernels given as sizes")
    _common(p, "explain-conv.gif")
    p.set_defaults(handler=run_conv)

    p = subparsers.add_parser(
        "explain-pool", help="max or average pooling, step by step (terminal + GIF)",
        description="2x2 pooling with stride 2 on the ReLU output of the lecture's example (default).",
    )
    p.add_argument("--op", choices=["max", "avg"], default="max", help="max or average pooling (default max)")
    p.add_argument("--image", help="matrix like '[[1,2],[3,4]]', or a size like 4x4 (random integers)")
    p.add_argument("--kernel-size", type=positive_int, default=2, help="window size (default 2)")
    p.add_argument("--stride", type=positive_int, help="stride (default: the window size)")
    p.add_argument("--seed", type=nonneg_int, default=0)
    _common(p, "explain-pool.gif")
    p.set_defaults(handler=run_pool)

    p = subparsers.add_parser(
        "explain-relu", help="ReLU pixel by pixel on the lecture's 4x4 example (terminal + GIF)",
    )
    p.add_argument("--image", help="matrix like '[[1,-2],[3,-4]]', or a size like 4x4 (random integers)")
    p.add_argument("--seed", type=nonneg_int, default=0)
    _common(p, "explain-relu.gif")
    p.set_defaults(handler=run_relu)


def _matrix_arg(text: str | None, what: str, rng, low: int, high: int, named: bool = False):
    """A matrix from a literal, a size ``HxW`` (random ints in [low, high]) or a kernel name."""
    import re

    from ..viz.filters import parse_kernel

    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if m:
        h, w = int(m.group(1)), int(m.group(2))
        if not (1 <= h <= 12 and 1 <= w <= 12):
            raise CLIError(f"--{what}: sizes from 1x1 to 12x12 fit a frame, got {h}x{w}")
        return rng.integers(low, high + 1, size=(h, w)).astype(float)
    try:
        return parse_kernel(text) if named else parse_kernel(text, allow_names=False, what=f"--{what}")
    except ValueError as e:
        raise CLIError(str(e)) from None


# Frames beyond this make a GIF nobody watches and take minutes to draw (12x12 outputs).
MAX_STEPS = 144


def _show(walk, args) -> int:
    import sys

    steps = len(walk.steps) if hasattr(walk, "steps") else len(walk)
    if steps > MAX_STEPS:
        raise CLIError(f"this walk-through has {steps} steps; at most {MAX_STEPS} make an animation "
                       "(use a smaller --image or --padding, or a larger --stride)")

    from ..viz.stepper_render import play, save_gif

    play(walk, animate=not args.no_animate and sys.stdout.isatty(), delay=args.delay,
         color=not args.no_color and sys.stdout.isatty())
    if args.gif:
        save_gif(walk, args.gif)
        print(f"wrote {args.gif}")
    return 0


def run_conv(args) -> int:
    import numpy as np

    from ..viz.stepper import EXAMPLES, conv_steps

    rng = np.random.default_rng(args.seed)
    ex = EXAMPLES[args.example]
    image = _matrix_arg(args.image, "image", rng, 0, 1)
    kernel = _matrix_arg(args.kernel, "kernel", rng, -1, 1, named=True)
    try:
        walk = conv_steps(ex["image"] if image is None else image,
                          ex["kernel"] if kernel is None else kernel,
                          stride=ex["stride"] if args.stride is None else args.stride,
                          padding=ex["padding"] if args.padding is None else args.padding)
    except ValueError as e:
        raise CLIError(str(e)) from None
    return _show(walk, args)


def run_pool(args) -> int:
    import numpy as np

    from ..viz.stepper import POOL_IMAGE, pool_steps

    image = _matrix_arg(args.image, "image", np.random.default_rng(args.seed), 0, 20)
    try:
        walk = pool_steps(POOL_IMAGE if image is None else image, args.op, args.kernel_size, args.stride)
    except ValueError as e:
        raise CLIError(str(e)) from None
    return _show(walk, args)


def run_relu(args) -> int:
    import numpy as np

    from ..viz.stepper import RELU_IMAGE, relu_steps

    image = _matrix_arg(args.image, "image", np.random.default_rng(args.seed), -20, 20)
    try:
        walk = relu_steps(RELU_IMAGE if image is None else image)
    except ValueError as e:
        raise CLIError(str(e)) from None
    return _show(walk, args)
