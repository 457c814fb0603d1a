"""``cnnlab demo``: the README's main job."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="the main job: a short training run with a report")
    p.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..demo import synthetic_regression_demo

    synthetic_regression_demo(steps=args.steps)
    return 0
