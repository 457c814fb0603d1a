"""``cnnlab attribute RUN_OR_CKPT INPUT``: why did the model decide? Attribution maps of one image."""

from __future__ import annotations

from .args import checkpoint_path, output_file
from .errors import CLIError

METHOD_CHOICES = ("saliency", "input-x-gradient", "integrated-gradients", "smoothgrad", "grad-cam",
                  "occlusion", "all")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "attribute", help="attribution maps (saliency, integrated gradients, Grad-CAM, occlusion...) of one image",
        description="Draw which pixels and regions pushed the model to a class: each method's map as a "
                    "heatmap and over the input, with the class probabilities.")
    p.add_argument("checkpoint", type=checkpoint_path, metavar="RUN_OR_CKPT", help="a run directory or a .safetensors checkpoint")
    p.add_argument("image", metavar="INPUT",
                   help="an image file, a sample photo (camera, coffee...), test:N or val:N (image N of the "
                        "run's test split or validation part)")
    p.add_argument("--method", default="all", metavar="METHOD",
                   help=f"one of {', '.join(METHOD_CHOICES)} (default all)")
    p.add_argument("--target", default=None, metavar="CLASS",
                   help="class to explain, by name or index (default: the predicted class)")
    p.add_argument("--layer", default=None, metavar="NAME",
                   help="Grad-CAM's layer, as in `cnnlab summary` (default: the last convolution)")
    p.add_argument("--invert", action="store_true", help="invert intensities (dark on light → light on dark)")
    p.add_argument("--out", type=output_file, default="attribution.png", help="figure to write (default attribution.png)")
    p.set_defaults(handler=run)


def _target(text, classes: list[str]) -> int:
    if text in classes:
        return classes.index(text)
    if text.lstrip("-").isdigit() and 0 <= int(text) < len(classes):
        return int(text)
    raise CLIError(f"--target {text!r}: expected a class name or an index in 0..{len(classes) - 1}; classes: "
                   f"{', '.join(classes)}")


def run(args) -> int:
    if args.method not in METHOD_CHOICES:
        raise CLIError(f"--method {args.method!r}: expected one of {', '.join(METHOD_CHOICES)}")
    try:
        return _run(args)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None


def _run(args) -> int:
    import numpy as np

    from ..attribution.cam import layer_name
    from ..inspect import forward, probabilities
    from ..viz.attribution import METHODS, attribution_maps, plot_attributions
    from ..viz.model_input import load_input, load_model

    loaded = load_model(args.checkpoint)
    if args.image.startswith("val:") or args.image.startswith("test:"):
        from ..errors import split_image

        split, _, number = args.image.partition(":")
        if not number.isdigit():
            raise CLIError(f"INPUT {args.image!r}: expected {split}:N with a non-negative integer N")
        image, label = split_image(loaded.info, args.checkpoint, split, int(number))
        image = 255 - image if args.invert else image
    else:
        image, label = load_input(args.image, loaded, invert=args.invert)
    x = loaded.normalize(image)
    probs = probabilities(forward(loaded.model, x[None]))[0]
    classes = [loaded.class_name(k) for k in range(len(probs))]
    target = int(np.argmax(probs)) if args.target is None else _target(args.target, classes)
    methods = METHODS if args.method == "all" else (args.method,)
    skipped = ""
    if args.method == "all" and args.layer is None:
        from ..viz.attribution import default_layer

        try:
            default_layer(loaded.model, x)
        except ValueError:   # an MLP: the five other maps still apply
            methods, skipped = tuple(m for m in METHODS if m != "grad-cam"), "grad-cam left out: the model has no convolution layer"
    if args.layer is not None:
        if "grad-cam" not in methods:
            raise CLIError(f"--layer is Grad-CAM's layer; --method {args.method} does not use it")
        try:
            layer_name(loaded.model, args.layer)
        except ValueError as e:
            raise CLIError(f"--layer {args.layer!r}: {str(e).split(': ', 1)[1]}") from None
    maps = attribution_maps(loaded.model, x, target, methods, layer=args.layer)
    plot_attributions(image, maps, probs, classes, args.out, target=target, label=label,
                      title=f"{loaded.name} on {args.image}")
    pred = int(np.argmax(probs))
    truth = "" if label is None else f", true {classes[label]}"
    print(f"{loaded.name} on {args.image}: predicted {classes[pred]} ({probs[pred]:.2f}){truth}; "
          f"maps for {classes[target]} ({probs[target]:.2f})")
    for m in maps:
        print(f"  {m.method:22s} range [{m.values.min():+.3g}, {m.values.max():+.3g}]  {m.note}")
    if skipped:
        print(f"  {skipped}")
    print(f"wrote {args.out}")
    return 0
