"""``cnnlab filter``: classic kernels (blur, sharpen, edges...) on a photo, with cnnlab's conv2d."""

from __future__ import annotations

from .args import int_range, output_file, photo_source
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "filter", help="apply a named or custom kernel to an image and show input and output",
        description="Apply classic kernels with cnnlab's own conv2d (colour images: one depthwise "
                    "conv, the kernel on each channel). Several --kernel options draw a grid.",
    )
    p.add_argument("image", nargs="?", default="camera", type=photo_source,
                   help="image file or a sample photo: camera, astronaut, coffee, chelsea, coins, rocket")
    p.add_argument("--kernel", action="append", metavar="NAME|MATRIX",
                   help="a name (box-blur, sharpen, vertical-edge, horizontal-edge, sobel-x, sobel-y, "
                        "laplacian, gaussian-blur, emboss, identity), 'all', or a matrix like "
                        "'[[0,-1,0],[-1,5,-1],[0,-1,0]]'; repeat for a grid (default: sharpen)")
    p.add_argument("--gray", action="store_true", help="convert a colour image to grayscale first")
    p.add_argument("--padding", type=int_range(0, 1024), default=0, help="zero padding (default 0: output shrinks by k-1)")
    p.add_argument("--out", type=output_file, default="filter.png", help="figure to write (default filter.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..viz.filters import KERNELS, parse_kernel, plot_filtered
    from ..viz.images import load_image

    specs = args.kernel or ["sharpen"]
    try:
        image = load_image(args.image, gray=args.gray)
        kernels = {}
        for spec in specs:
            if spec.strip() == "all":
                kernels.update({k: v for k, v in KERNELS.items() if k != "identity"})
            else:
                kernels[spec.strip() if spec.strip() in KERNELS else f"custom {len(kernels) + 1}"] = parse_kernel(spec)
        outputs = plot_filtered(image, kernels, args.out, title=f"Filters on {args.image}",
                                padding=args.padding)
    except ValueError as e:
        raise CLIError(str(e)) from None
    for name, out in outputs.items():
        print(f"{name:16s} output {'x'.join(map(str, out.shape))}  min {out.min():9.2f}  max {out.max():9.2f}")
    print(f"wrote {args.out}")
    return 0
