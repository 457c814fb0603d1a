"""``cnnlab robustness``: test accuracy under the lecture's challenges, one curve per challenge."""

from __future__ import annotations

from .args import checkpoint_path, nonneg_int, output_file, positive_int
from .errors import CLIError


def _challenges(text: str) -> list[str]:
    import argparse

    from ..robustness import GROUPS, SWEEPS, expand

    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in SWEEPS and n not in GROUPS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected names from {','.join([*SWEEPS, *GROUPS])}, got {text!r}")
    return expand(names)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "robustness", help="test accuracy under viewpoint, scale, deformation, occlusion, illumination, clutter, translation",
        description="For each challenge a sweep of strengths (seeded), test accuracy at each; with --compare "
                    "two runs on the same curves (MLP against CNN), plus a strip of example images.",
    )
    p.add_argument("checkpoint", metavar="RUN", type=checkpoint_path, help="a run directory or .safetensors checkpoint")
    p.add_argument("--compare", metavar="RUN2", type=checkpoint_path, help="a second run on the same plots")
    p.add_argument("--challenges", type=_challenges, default=None,
                   help="comma-separated (default all: viewpoint,scale,deformation,occlusion,brightness,contrast,gamma,"
                        "clutter,noise,translation; illumination = brightness,contrast,gamma; rotation = viewpoint)")
    p.add_argument("--limit", type=positive_int, default=500, help="first N test images (default 500)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the random challenges (default 0)")
    p.add_argument("--out", type=output_file, default="robustness.png", help="PNG to write (default robustness.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import numpy as np

    from .. import datasets, inspect, robustness
    from ..viz import robustness_plot

    challenges = args.challenges or list(robustness.SWEEPS)
    runs = []
    for path in [args.checkpoint] + ([args.compare] if args.compare else []):
        try:
            model, info = inspect.load_run(path)
        except (FileNotFoundError, ValueError) as e:
            raise CLIError(str(e)) from None
        if info.preprocess != "image" or not info.dataset:
            raise CLIError(f"RUN: {path} is not a model of images with a recorded dataset")
        runs.append((path, model, info))
    if len(runs) == 2 and runs[0][2].dataset != runs[1][2].dataset:
        raise CLIError(f"--compare: the runs use different datasets ({runs[0][2].dataset}, {runs[1][2].dataset})")
    ds = datasets.create(runs[0][2].dataset, train=False)
    n = min(args.limit, len(ds))
    images, labels = np.asarray(ds.data[:n]), np.asarray(ds.targets[:n])
    named = {}
    for path, model, info in runs:
        name = info.model or info.model_class or str(path)
        named[name if name not in named else f"{name} ({path})"] = (path, model, info)
    results = {name: {} for name in named}
    for ch in challenges:
        accs = robustness.sweep_runs({k: v[1:] for k, v in named.items()}, images, labels, ch, seed=args.seed)
        for name, a in accs.items():
            results[name][ch] = a
    for name, (path, _, info) in named.items():
        print(f"{name} ({path}), {n} test images of {info.dataset}")
        for ch in challenges:
            cells = "  ".join(f"{s:g}: {100 * a:5.1f}%" for s, a in zip(robustness.SWEEPS[ch], results[name][ch]))
            print(f"  {ch:<12} {cells}")
    robustness_plot.curves(results, images, args.out, seed=args.seed)
    print(f"wrote {args.out}")
    return 0
