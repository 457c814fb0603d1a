"""``cnnlab show-features CHECKPOINT IMAGE``: every conv / activation / pool layer's feature maps."""

from __future__ import annotations

from .args import checkpoint_path, image_source, output_file, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "show-features", help="draw the feature maps of every conv, activation and pool layer for one image",
    )
    p.add_argument("checkpoint", type=checkpoint_path, metavar="CHECKPOINT", help="a .safetensors checkpoint or a run directory")
    p.add_argument("image", metavar="IMAGE", nargs="?", default="test:0", type=image_source,
                   help="image file, a sample photo (camera, coffee...), or test:N for image N of the "
                        "checkpoint's test set (default test:0)")
    p.add_argument("--invert", action="store_true", help="invert intensities (dark on light → light on dark)")
    p.add_argument("--max-maps", type=positive_int, default=32, help="feature maps per layer at most (default 32)")
    p.add_argument("--out", type=output_file, default="features.png", help="figure to write (default features.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import numpy as np

    from ..viz.features import plot_features
    from ..viz.model_input import load_input, load_model
    from .cmd_eval import recorded_data_root

    try:
        loaded = load_model(args.checkpoint)
        image, label = load_input(args.image, loaded, invert=args.invert,
                                  data_root=recorded_data_root(args.checkpoint) if args.checkpoint else None)
        x = loaded.normalize(image)
        maps = plot_features(loaded.model, x, args.out, max_maps=args.max_maps, input_image=image,
                             title=None)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    import cnnlab

    with cnnlab.no_grad():
        logits = loaded.model(cnnlab.from_numpy(x[None])).numpy()[0]
    pred = int(np.argmax(logits))
    truth = "" if label is None else f" (label: {loaded.class_name(label)})"
    print(f"{loaded.name} on {args.image}: predicted {loaded.class_name(pred)}{truth}")
    for m in maps:
        c, h, w = m.array.shape
        print(f"  {m.label:12s} {m.kind:12s} {c}x{h}x{w}  range [{m.array.min():.3f}, {m.array.max():.3f}]")
    print(f"wrote {args.out}")
    return 0
