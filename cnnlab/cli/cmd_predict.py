"""``cnnlab predict CHECKPOINT IMAGE...``: the top-k classes of each image, with probabilities."""

from __future__ import annotations

from .args import checkpoint_path, image_file, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="classify image files with a checkpoint (top-k classes and probabilities)",
        description="Print the top-k classes of each image, like the lecture's 'Lincoln 0.80'. Images are "
                    "converted to the model's input (grayscale/RGB, resized) when that is safe.")
    p.add_argument("checkpoint", type=checkpoint_path, metavar="CHECKPOINT", help="a .safetensors checkpoint or a run directory")
    p.add_argument("images", type=image_file, metavar="IMAGE", nargs="+", help="PNG/JPEG files")
    p.add_argument("--topk", type=positive_int, default=5, help="classes to show per image (default 5)")
    p.add_argument("--invert", action="store_true",
                   help="invert intensities (dark objects on light background → the datasets' light on dark)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..train.session import predict_images

    try:
        results = predict_images(args.checkpoint, args.images, k=args.topk, invert=args.invert)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        raise CLIError(str(e)) from None
    for path, top in results:
        print(path)
        width = max(len(name) for name, _ in top)
        for name, p in top:
            print(f"  {name:<{width}}  {p:.2f}")
    return 0
