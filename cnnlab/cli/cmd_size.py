"""``cnnlab size``: the output-size formula O = (W − K + 2P)/S + 1, for one layer or a stack."""

from __future__ import annotations

from .args import nonneg_int, positive_int
from .errors import CLIError

_EPILOG = """examples:
  cnnlab size --input 32 --kernel 5                       # 28
  cnnlab size --input 227 --kernel 11 --stride 4          # AlexNet conv1: 55
  cnnlab size --input 6 --kernel 3 --stride 2 --ceil-mode # pooling's round-up rule
  cnnlab size --input 1x28x28 --layers conv16k5,pool2,conv24k5,pool2,flatten,fc64,fc10

stack tokens: conv<C>k<K>[s<S>][p<P>][d<D>], pool<K>[s<S>][p<P>][c] (c = ceil mode; stride
defaults to K), adapt<N>, flatten, fc<N>, and shape-keeping relu/tanh/sigmoid/lrn/bn/dropout.
"""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "size", help="output size of a conv/pool layer, or the dimension flow through a stack",
        description="Output size O = (W − K + 2P)/S + 1 (with dilation: K_eff = d·(K − 1) + 1), rounded down "
                    "as PyTorch does, or up with --ceil-mode; says when the stride does not divide evenly.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--input", required=True, help="input size W (single layer) or CxHxW / features (with --layers)")
    p.add_argument("--kernel", type=positive_int, help="kernel size K")
    p.add_argument("--padding", type=nonneg_int, default=0, help="zero padding P per side (default 0)")
    p.add_argument("--stride", type=positive_int, default=1, help="stride S (default 1)")
    p.add_argument("--dilation", type=positive_int, default=1, help="dilation d (default 1)")
    p.add_argument("--ceil-mode", action="store_true", help="round up, as pooling with ceil_mode=True")
    p.add_argument("--layers", help="a layer stack, e.g. conv16k5,pool2,conv24k5,pool2,flatten,fc64,fc10")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..summarize import explain_output_size, format_shape, layer_flow, parse_input_size

    try:
        if args.layers:
            shape = parse_input_size(args.input)
            flow = layer_flow(shape, args.layers)
            print(" → ".join(format_shape(s) for _, s, _ in flow))
            width = max(len(k) for k, _, _ in flow)
            for kind, s, note in flow[1:]:
                print(f"  {kind:<{width}}  {format_shape(s):>12}   {note}")
            return 0
        if args.kernel is None:
            raise CLIError("give --kernel K for one layer, or --layers for a stack (see --help)")
        try:
            W = int(args.input)
        except ValueError:
            raise CLIError(f"--input is one size W for a single layer (e.g. 32), got {args.input!r}; "
                           f"use --layers for a CxHxW stack") from None
        result = explain_output_size(W, args.kernel, args.padding, args.stride, args.dilation, args.ceil_mode)
    except ValueError as e:
        raise CLIError(str(e).removeprefix("output size: ")) from None
    print(result.size)
    print(result.explanation)
    return 0
