"""``cnnlab adversarial``: an adversarial example for one image, or accuracy against ε (``--curve``)."""

from __future__ import annotations

from .args import checkpoint_path, nonneg_float, nonneg_int, output_file, positive_int
from .errors import CLIError


def _eps_list(text: str) -> list[float]:
    import argparse
    import math

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers >= 0, got {text!r}") from None
    if not values or any(not math.isfinite(v) or v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers >= 0, got {text!r}")
    return values


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "adversarial", help="fool a trained classifier with FGSM/PGD; or plot accuracy against ε (--curve)",
        description="ε is in pixel units (intensities in [0, 1]); the attack moves every pixel by at most "
                    "ε and keeps the image valid. INPUT: an image file or test:N / train:N.",
    )
    p.add_argument("checkpoint", metavar="RUN", type=checkpoint_path, help="a run directory or .safetensors checkpoint")
    p.add_argument("input", metavar="INPUT", nargs="?", help="an image file, or test:N / train:N (not with --curve)")
    p.add_argument("--eps", type=nonneg_float, default=0.05, help="L∞ budget in pixel units (default 0.05)")
    p.add_argument("--method", choices=["fgsm", "pgd"], default="fgsm", help="attack (default fgsm)")
    p.add_argument("--steps", type=positive_int, default=10, help="PGD iterations (default 10)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of PGD's random start (default 0)")
    p.add_argument("--label", type=nonneg_int, help="the class whose loss to raise (default: the sample's label, "
                                             "else the predicted class)")
    p.add_argument("--out", type=output_file, help="PNG to write (default adversarial.png, or adversarial-curve.png with --curve)")
    p.add_argument("--curve", action="store_true", help="test accuracy against ε instead of one example")
    p.add_argument("--compare", metavar="RUN2", type=checkpoint_path, help="with --curve: a second run on the same plot (MLP vs CNN)")
    p.add_argument("--eps-list", type=_eps_list, default=[0, 0.01, 0.02, 0.05, 0.1, 0.2],
                   help="with --curve: the ε values (default 0,0.01,0.02,0.05,0.1,0.2)")
    p.add_argument("--limit", type=positive_int, default=500, help="with --curve: first N test images (default 500)")
    p.set_defaults(handler=run)


def _load(path):
    from .. import inspect

    try:
        model, info = inspect.load_run(path)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
    if info.normalize is None or info.task not in (None, "classification"):
        raise CLIError(f"RUN: {path} is not an image classifier with recorded preprocessing "
                       f"(preprocess={info.preprocess!r}, task={info.task!r})")
    return model, info


def run(args) -> int:
    return _curve(args) if args.curve else _example(args)


def _example(args) -> int:
    import numpy as np

    from .. import adversarial, inspect
    from ..viz.adversarial_plot import example_figure

    if args.input is None:
        raise CLIError("INPUT: expected an image file or test:N (or use --curve)")
    if args.compare:
        raise CLIError("--compare: only with --curve")
    model, info = _load(args.checkpoint)
    try:
        mi = inspect.to_model_input(args.input, info)
    except (ValueError, FileNotFoundError, OSError) as e:
        raise CLIError(f"INPUT: {e}") from None
    x = mi.array[None]
    classes = info.class_names(inspect.forward(model, x).shape[1])
    probs = inspect.probabilities(inspect.forward(model, x))[0]
    label = args.label if args.label is not None else (mi.label if mi.label is not None else int(probs.argmax()))
    if not 0 <= label < len(classes):
        raise CLIError(f"--label: expected a class from 0 to {len(classes) - 1}, got {label}")
    eps, clip = adversarial.pixel_eps(args.eps, info), adversarial.valid_range(info)
    y = np.array([label])
    if args.method == "fgsm":
        adv = adversarial.fgsm(model, x, y, eps, clip=clip)
    else:
        adv = adversarial.pgd(model, x, y, eps, 2.5 * eps / args.steps, args.steps,
                              generator=np.random.default_rng(args.seed), clip=clip)
    probs_adv = inspect.probabilities(inspect.forward(model, adv))[0]

    def said(p):
        k = int(p.argmax())
        return f"{classes[k]} ({100 * p[k]:.1f}%)"

    print(f"attack: {args.method.upper()}, ε = {args.eps:g} (pixel units), loss of class {classes[label]}")
    print(f"before: {said(probs)}")
    print(f"after:  {said(probs_adv)}; p({classes[label]}) {100 * probs[label]:.1f}% -> {100 * probs_adv[label]:.1f}%")
    out = args.out or "adversarial.png"
    mean, std = info.normalize
    example_figure(x[0], adv[0], mean, std, args.eps, said(probs), said(probs_adv), out)
    print(f"wrote {out}")
    return 0


def _curve(args) -> int:
    import numpy as np

    from .. import adversarial, datasets
    from ..train.recipe import apply_preprocess
    from ..viz.adversarial_plot import curve_figure

    if args.input is not None:
        raise CLIError(f"INPUT: --curve uses the test split, got {args.input!r}")
    curves = {}
    for path in [args.checkpoint] + ([args.compare] if args.compare else []):
        model, info = _load(path)
        if not info.dataset:
            raise CLIError(f"RUN: {path} does not record its dataset")
        ds = datasets.create(info.dataset, train=False)
        n = min(args.limit, len(ds))
        x = apply_preprocess(np.asarray(ds.data[:n]), info.preprocess_dict)
        y = np.asarray(ds.targets[:n], dtype=np.int64)
        eps = [adversarial.pixel_eps(e, info) for e in args.eps_list]
        accs = adversarial.accuracy_under_attack(model, x, y, eps, method=args.method, steps=args.steps,
                                                 clip=adversarial.valid_range(info),
                                                 generator=None if args.method == "fgsm" else args.seed)
        name = info.model or info.model_class or str(path)
        name = name if name not in curves else f"{name} ({path})"
        curves[name] = accs
        print(f"{name} ({path})" if str(path) not in name else name)
        for e, a in zip(args.eps_list, accs):
            print(f"  ε = {e:<6g} accuracy {100 * a:6.2f}%  ({n} test images)")
    out = args.out or "adversarial-curve.png"
    curve_figure(args.eps_list, curves, args.method, n, out)
    print(f"wrote {out}")
    return 0
