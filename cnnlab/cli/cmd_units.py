"""``cnnlab units``: what a layer's units respond to, as a grid (maximising images, top patches, tuning)."""

from __future__ import annotations

from .args import checkpoint_path, nonneg_int, output_file, positive_int
from .errors import CLIError


def _layers(text: str) -> list[str]:
    import argparse

    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected layer names, comma-separated, got {text!r}")
    return names


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "units", help="what a layer's units respond to: maximising images, top dataset patches, orientation tuning",
        description="maximize: activation maximisation from a seeded start (several layers: side by side, "
                    "the hierarchy of features); patches: the test images' crops (each the unit's receptive "
                    "field) that excite each channel most; tuning: responses to oriented gratings, preferred "
                    "orientation and selectivity per channel; position: one unit per channel against a bar at "
                    "its preferred orientation shifted across its field (give a conv and the pool after it: "
                    "simple against complex cells).",
    )
    p.add_argument("checkpoint", metavar="RUN", type=checkpoint_path, help="a run directory or .safetensors checkpoint")
    p.add_argument("--layer", required=True, type=_layers,
                   help="layer name as in `cnnlab summary` (conv1, conv2, ...; a module's second call: pool#2); "
                        "maximize and position take several, comma-separated")
    p.add_argument("--method", choices=["maximize", "patches", "tuning", "position"], default="maximize")
    p.add_argument("--channels", type=positive_int, default=16, help="first N channels (default 16)")
    p.add_argument("--centre", action="store_true",
                   help="maximize: drive the unit at the centre of each map and show its receptive field "
                        "(default: the channel's mean over all positions, on the whole image)")
    p.add_argument("--steps", type=positive_int, default=64, help="maximize: gradient steps (default 64)")
    p.add_argument("--k", type=positive_int, default=8, help="patches: crops per channel (default 8)")
    p.add_argument("--limit", type=positive_int, default=500, help="patches: first N test images (default 500)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="maximize: seed of the start and jitter (default 0)")
    p.add_argument("--out", type=output_file, default="units.png", help="PNG to write (default units.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import numpy as np

    from .. import inspect, units

    try:
        model, info = inspect.load_run(args.checkpoint)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    if not info.is_image_model or info.normalize is None:
        raise CLIError(f"RUN: {args.checkpoint} is not a model of images with recorded preprocessing")
    shape = tuple(info.image_shape)
    mean, std = info.normalize
    probe = np.zeros((1, *shape), np.float32)
    counts = {}
    for layer in args.layer:
        try:
            out = units.layer_output(model, probe, layer)
            counts[layer], counts[f"{layer} ndim"] = out.shape[1], out.ndim
        except ValueError as e:
            raise CLIError(f"--layer: {e}") from None
    if len(args.layer) > 1 and args.method in ("patches", "tuning"):
        raise CLIError(f"--layer: --method {args.method} draws one layer, got {len(args.layer)} ({','.join(args.layer)})")
    title = f"{info.model or info.model_class} ({args.checkpoint})"
    try:
        if args.method == "maximize":
            _maximize(args, model, info, shape, counts, title)
        elif args.method == "position":
            _position(args, model, shape, counts, mean, std, title)
        elif args.method == "patches":
            _patches(args, model, info, counts, mean, std, title)
        else:
            _tuning(args, model, shape, counts, mean, std)
    except ValueError as e:
        raise CLIError(str(e)) from None
    print(f"wrote {args.out}")
    return 0


def _channels(args, count: int) -> list[int]:
    return list(range(min(args.channels, count)))


def _maximize(args, model, info, shape, counts, title) -> None:
    import numpy as np

    from .. import units
    from ..adversarial import valid_range
    from ..viz import units_plot

    columns = []
    for layer in args.layer:
        channels = _channels(args, counts[layer])
        unit, box = None, None
        if args.centre and counts.get(f"{layer} ndim") == 4:
            out_hw = units.layer_output(model, np.zeros((1, *shape), np.float32), layer).shape[2:]
            unit = units.centred_unit(model, layer, shape, out_hw)
            rf, jump, start = units.receptive_field(model, layer, shape)
            box = (start[0] + unit[0] * jump[0], start[1] + unit[1] * jump[1], *rf)
        results = [units.maximize(model, layer, c, steps=args.steps, generator=args.seed + c,
                                  input_shape=shape, clip=valid_range(info), unit=unit) for c in channels]
        for c, (_, a, hist) in zip(channels, results):
            print(f"{layer} channel {c:3d}: activation {hist[0]:8.3f} -> {a:8.3f}")
        images = [r[0] if box is None else units.crop(r[0], *box) for r in results]
        name = f"{layer}, unit {unit} ({box[2]}x{box[3]} field)" if box else layer + (", whole image" if args.centre else "")
        columns.append((name, images, [r[1] for r in results]))
    if len(columns) == 1:
        units_plot.maximize_grid(columns[0][1], columns[0][2], columns[0][0], f"Activation maximisation, {title}",
                                 args.out)
    else:
        units_plot.hierarchy_grid(columns, f"Activation maximisation, layer by layer: {title}", args.out)


def _position(args, model, shape, counts, mean, std, title) -> None:
    from .. import units
    from ..viz import units_plot

    first = units.position_tolerance(model, args.layer[0], input_shape=shape, mean=mean, std=std)
    tunings = [first] + [units.position_tolerance(model, layer, input_shape=shape, mean=mean, std=std,
                                                  angles=first.angles[:counts[layer]]
                                                  if counts[layer] == len(first.angles) else None)
                         for layer in args.layer[1:]]
    channels = _channels(args, min(counts[layer] for layer in args.layer))
    for c in channels:
        widths = ", ".join(f"{t.layer} {t.width[c]:g} px" for t in tunings)
        print(f"channel {c:3d}: bar at {first.angles[c]:5.0f}°  width at half rise: {widths}")
    units_plot.position_grid(tunings, f"Position tolerance (bar shifted across one unit), {title}", args.out,
                             channels)


def _patches(args, model, info, counts, mean, std, title) -> None:
    import numpy as np

    from .. import datasets, units
    from ..train.recipe import apply_preprocess
    from ..viz import units_plot

    if not info.dataset:
        raise CLIError(f"RUN: {args.checkpoint} does not record its dataset")
    layer = args.layer[0]
    ds = datasets.create(info.dataset, train=False)
    x = apply_preprocess(np.asarray(ds.data[:args.limit]), info.preprocess_dict)
    rows = {c: units.top_patches(model, x, layer, c, k=args.k) for c in _channels(args, counts[layer])}
    for c, ps in rows.items():
        print(f"channel {c:3d}: top activations " + ", ".join(f"{p.activation:.2f}" for p in ps))
    units_plot.patches_grid(rows, layer, f"Top {args.k} test crops, {title}", args.out, mean, std)


def _tuning(args, model, shape, counts, mean, std) -> None:
    from .. import units
    from ..viz import units_plot

    layer = args.layer[0]
    channels = _channels(args, counts[layer])
    t = units.orientation_tuning(model, layer, input_shape=shape, mean=mean, std=std)
    for c in channels:
        print(f"channel {c:3d}: preferred {t.preferred[c]:5.0f}°  OSI {t.selectivity[c]:.2f}")
    sub = units.Tuning(t.angles, t.frequencies, t.responses[channels], t.preferred[channels], t.selectivity[channels])
    units_plot.tuning_grid(sub, layer, args.out)
