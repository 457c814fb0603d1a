"""``cnnlab show-activations``: the lecture's non-linearities with their derivatives."""

from __future__ import annotations

from .args import output_file


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "show-activations",
        help="plot sigmoid, tanh, ReLU, Leaky ReLU, ELU and Maxout with their derivatives",
    )
    p.add_argument("--out", type=output_file, default="activations.png", help="figure to write (default activations.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import numpy as np

    from ..viz.activations_plot import plot_activations

    curves = plot_activations(args.out)
    print(f"{'activation':12s} {'f(-2)':>8s} {'f(2)':>8s} {'df(-2)':>8s} {'df(2)':>8s}")
    for name, (x, y, dy) in curves.items():
        i, j = int(np.argmin(abs(x + 2))), int(np.argmin(abs(x - 2)))
        print(f"{name:12s} {y[i]:8.4f} {y[j]:8.4f} {dy[i]:8.4f} {dy[j]:8.4f}")
    print(f"wrote {args.out}")
    return 0

