"""``cnnlab shift-test``: probabilities vs translation, for an MLP and a CNN side by side."""

from __future__ import annotations

from .args import checkpoint_path, image_source, nonneg_int, output_file, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "shift-test", help="shift an image 0..k pixels each way and plot the class probabilities",
        description="Plot predicted probabilities against the shift. With CHECKPOINT and --compare "
                    "CHECKPOINT2 (e.g. an MLP and a CNN) the models are drawn side by side; with no "
                    "checkpoint an MLP and the lecture's CNN are trained briefly on --data first.",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", nargs="?", type=checkpoint_path,
                   help="a .safetensors checkpoint or run directory (default: train an MLP and a CNN)")
    p.add_argument("image", metavar="IMAGE", nargs="?", default="test:0", type=image_source,
                   help="image file, sample photo, or test:N from the test set (default test:0)")
    p.add_argument("--compare", type=checkpoint_path, metavar="CHECKPOINT2", help="a second checkpoint drawn beside the first")
    p.add_argument("--max-shift", type=nonneg_int, default=6, help="largest shift k in pixels (default 6)")
    p.add_argument("--invert", action="store_true", help="invert intensities of the image")
    p.add_argument("--data", default="mnist10k",
                   help="dataset for the quick training when no checkpoint is given (default mnist10k)")
    p.add_argument("--train-limit", type=positive_int, default=3000,
                   help="training images for the quick training (default 3000)")
    p.add_argument("--epochs", type=positive_int, default=2, help="epochs of the quick training (default 2)")
    p.add_argument("--out", type=output_file, default="shift-test.png", help="figure to write (default shift-test.png)")
    p.set_defaults(handler=run)


def _quick_models(args):
    """An MLP and the lecture's CNN trained for a moment on ``args.data``, as LoadedModels."""
    import time

    import numpy as np

    import cnnlab
    from .. import datasets, models
    from ..inspect import RunInfo
    from ..train.recipe import apply_preprocess, fit_preprocess
    from ..viz.model_input import LoadedModel
    from ..viz.shift import quick_train

    if args.data not in datasets.available():
        raise CLIError(f"unknown dataset {args.data!r}; valid datasets: {', '.join(datasets.available())}")
    train = datasets.create(args.data, train=True)
    pre = fit_preprocess(train.data)
    info = RunInfo.from_preprocess(pre, classes=list(train.classes), dataset=args.data)
    if info.image_shape != (1, 28, 28):
        raise CLIError(f"--data {args.data!r}: the quick training needs 1x28x28 images (mnist, mnist10k, fashion-mnist)")
    n = min(args.train_limit, len(train))
    x = apply_preprocess(train.data[:n], pre)
    y = np.asarray(train.targets[:n], dtype=np.int64)
    out = {}
    for label, name in (("MLP", "mnist-mlp"), ("CNN", "mnist-cnn")):
        cnnlab.manual_seed(0)
        t = time.perf_counter()
        model = quick_train(models.create(name), x, y, epochs=args.epochs)
        print(f"trained {name} on {n} {args.data} images for {args.epochs} epoch(s) in {time.perf_counter() - t:.1f} s")
        out[label] = LoadedModel(model, RunInfo.from_preprocess(pre, model=name, classes=list(train.classes),
                                                                dataset=args.data))
    return out


def run(args) -> int:
    from ..viz.model_input import load_input, load_model
    from .cmd_eval import recorded_data_root
    from ..viz.shift import plot_shift_test, shift_curves

    try:
        if args.checkpoint is None:
            if args.compare:
                raise CLIError("--compare needs a first CHECKPOINT")
            loaded = _quick_models(args)
        else:
            loaded = {}
            for path in [args.checkpoint] + ([args.compare] if args.compare else []):
                m = load_model(path)
                loaded[f"{m.name} ({path})" if len(path) < 30 else m.name] = m
        first = next(iter(loaded.values()))
        image, label = load_input(args.image, first, invert=args.invert,
                                  data_root=recorded_data_root(args.checkpoint) if args.checkpoint else None)
        results = {}
        for name, m in loaded.items():
            if m.image_shape != first.image_shape:
                raise CLIError(f"the models take different inputs: {first.image_shape} and {m.image_shape}")
            if (m.classes or None) != (first.classes or None):
                raise CLIError(f"--compare: the models predict different classes ({len(first.classes or [])} and "
                               f"{len(m.classes or [])}); compare models trained on the same data")
            results[name] = shift_curves(m.model, m.normalize(image), args.max_shift, m.fill)
        plot_shift_test(results, args.out, first.classes, label=label, image=image,
                        title=f"Shift test on {args.image}: which model keeps its answer?")
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    k = args.max_shift
    for name, r in results.items():
        ref = label if label is not None else int(r["horizontal"][k].argmax())
        kept = [(r[key].argmax(axis=1) == ref).mean() for key in ("horizontal", "vertical")]
        print(f"{name:30s} P({first.class_name(ref)}) mean over shifts: horizontal "
              f"{r['horizontal'][:, ref].mean():.2f}, vertical {r['vertical'][:, ref].mean():.2f}; "
              f"answer kept at {kept[0]:.0%} / {kept[1]:.0%} of shifts")
    print(f"wrote {args.out}")
    return 0
