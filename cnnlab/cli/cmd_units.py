"""``cnnlab units``: what a layer's units respond to, as a grid (maximising images, top patches, tuning)."""

from __future__ import annotations

from .args import checkpoint_path, nonneg_int, output_file, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "units", help="what a layer's units respond to: maximising images, top dataset patches, orientation tuning",
        description="maximize: activation maximisation from a seeded start; patches: the test images' crops "
                    "(each the unit's receptive field) that excite each channel most; tuning: responses "
                    "to oriented gratings, preferred orientation and selectivity per channel.",
    )
    p.add_argument("checkpoint", metavar="RUN", type=checkpoint_path, help="a run directory or .safetensors checkpoint")
    p.add_argument("--layer", required=True, help="layer name as in `cnnlab summary` (conv1, conv2, ...)")
    p.add_argument("--method", choices=["maximize", "patches", "tuning"], default="maximize")
    p.add_argument("--channels", type=positive_int, default=16, help="first N channels (default 16)")
    p.add_argument("--steps", type=positive_int, default=64, help="maximize: gradient steps (default 64)")
    p.add_argument("--k", type=positive_int, default=8, help="patches: crops per channel (default 8)")
    p.add_argument("--limit", type=positive_int, default=500, help="patches: first N test images (default 500)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="maximize: seed of the start and jitter (default 0)")
    p.add_argument("--out", type=output_file, default="units.png", help="PNG to write (default units.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import numpy as np

    from .. import inspect, units
    from ..viz import units_plot

    try:
        model, info = inspect.load_run(args.checkpoint)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    if not info.is_image_model or info.normalize is None:
        raise CLIError(f"RUN: {args.checkpoint} is not a model of images with recorded preprocessing")
    shape = tuple(info.image_shape)
    mean, std = info.normalize
    probe = np.zeros((1, *shape), np.float32)
    try:
        out = units.layer_output(model, probe, args.layer)
    except ValueError as e:
        raise CLIError(f"--layer: {e}") from None
    channels = list(range(min(args.channels, out.shape[1])))
    title = f"{info.model or info.model_class} ({args.checkpoint})"
    try:
        if args.method == "maximize":
            from ..adversarial import valid_range

            results = [units.maximize(model, args.layer, c, steps=args.steps, generator=args.seed + c,
                                      input_shape=shape, clip=valid_range(info)) for c in channels]
            for c, (_, a, hist) in zip(channels, results):
                print(f"channel {c:3d}: activation {hist[0]:8.3f} -> {a:8.3f}")
            units_plot.maximize_grid([r[0] for r in results], [r[1] for r in results], args.layer,
                                     f"Activation maximisation, {title}", args.out)
        elif args.method == "patches":
            from .. import datasets
            from ..train.recipe import apply_preprocess

            if not info.dataset:
                raise CLIError(f"RUN: {args.checkpoint} does not record its dataset")
            ds = datasets.create(info.dataset, train=False)
            x = apply_preprocess(np.asarray(ds.data[:args.limit]), info.preprocess_dict)
            rows = {c: units.top_patches(model, x, args.layer, c, k=args.k) for c in channels}
            for c, ps in rows.items():
                print(f"channel {c:3d}: top activations " + ", ".join(f"{p.activation:.2f}" for p in ps))
            units_plot.patches_grid(rows, args.layer, f"Top {args.k} test crops, {title}", args.out,
                                     mean, std)
        else:
            t = units.orientation_tuning(model, args.layer, input_shape=shape, mean=mean, std=std)
            for c in channels:
                print(f"channel {c:3d}: preferred {t.preferred[c]:5.0f}°  OSI {t.selectivity[c]:.2f}")
            sub = units.Tuning(t.angles, t.frequencies, t.responses[channels], t.preferred[channels],
                               t.selectivity[channels])
            units_plot.tuning_grid(sub, args.layer, args.out)
    except ValueError as e:
        raise CLIError(str(e)) from None
    print(f"wrote {args.out}")
    return 0
