"""``cnnlab pixels``: images are numbers (print and draw a region's pixel matrix)."""

from __future__ import annotations

from .args import output_file, photo_source
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pixels", help="print the pixel matrix of an image region and draw it with its values",
        description="Print the 0-255 values of an image region (each RGB channel, or grayscale) "
                    "and write a picture with each value drawn on its pixel.",
    )
    p.add_argument("image", nargs="?", default="camera", type=photo_source,
                   help="image file, or a sample photo: camera, astronaut, coffee, chelsea, coins, "
                        "rocket (default camera)")
    p.add_argument("--crop", metavar="x,y,w,h", help="region to show (default: 12x16 at the centre)")
    p.add_argument("--gray", action="store_true", help="convert a colour image to grayscale first")
    p.add_argument("--out", type=output_file, default="pixels.png", help="picture to write (default pixels.png)")
    p.add_argument("--no-color", action="store_true", help="plain numbers, no ANSI colours")
    p.set_defaults(handler=run)


def run(args) -> int:
    import sys

    from ..viz.images import load_image, parse_crop
    from ..viz.pixels import format_matrix, pixel_channels, plot_pixels

    try:
        image = load_image(args.image, gray=args.gray)
        box = parse_crop(args.crop) if args.crop else None
        channels = pixel_channels(image, box)
    except ValueError as e:
        raise CLIError(str(e)) from None
    h, w = next(iter(channels.values())).shape
    kind = "grayscale" if "gray" in channels else "RGB"
    print(f"{args.image}: {image.shape[1]}x{image.shape[0]} {kind}; region {w}x{h} "
          f"(values 0-255)")
    color = sys.stdout.isatty() and not args.no_color
    for name, m in channels.items():
        if name != "gray":
            print(f"\n{name} channel:")
        print(format_matrix(m, color=color))
    plot_pixels(channels, args.out, title=f"Pixel values of {args.image}, {w}x{h} region")
    print(f"\nwrote {args.out}")
    return 0
