"""``cnnlab robustness``: test accuracy under the lecture's challenges, one curve per challenge."""

from __future__ import annotations

from .args import checkpoint_path, nonneg_int, output_file, positive_int
from .errors import CLIError


def _challenges(text: str) -> list[str]:
    import argparse

    from ..robustness import SWEEPS

    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in SWEEPS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected names from {','.join(SWEEPS)}, got {text!r}")
    return names


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "robustness", help="test accuracy under rotation, scale, shift, occlusion, illumination, clutter",
        description="For each challenge a sweep of strengths (seeded), test accuracy at each; with --compare "
                    "two runs on the same curves (MLP against CNN), plus a strip of example images.",
    )
    p.add_argument("checkpoint", metavar="RUN", type=checkpoint_path, help="a run directory or .safetensors checkpoint")
    p.add_argument("--compare", metavar="RUN2", type=checkpoint_path, help="a second run on the same plots")
    p.add_argument("--challenges", type=_challenges, default=None,
                   help="comma-separated (default all: rotation,scale,translation,occlusion,brightness,contrast,gamma,clutter)")
    p.add_argument("--limit", type=positive_int, default=500, help="first N test images (default 500)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the random challenges (default 0)")
    p.add_argument("--out", type=output_file, default="robustness.png", help="PNG to write (default robustness.png)")
    p.set_defaults(handler=run)


def run(args) -> int:
    import numpy as np

    from .. import datasets, inspect, robustness
    from ..viz._plot import new_figure, save_figure

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
    results = {}
    for path, model, info in runs:
        name = info.model or info.model_class or str(path)
        name = name if name not in results else f"{name} ({path})"
        results[name] = {}
        print(f"{name} ({path}), {n} test images of {info.dataset}")
        for ch in challenges:
            accs = robustness.sweep(model, info, images, labels, ch, seed=args.seed)
            results[name][ch] = accs
            cells = "  ".join(f"{s:g}: {100 * a:5.1f}%" for s, a in zip(robustness.SWEEPS[ch], accs))
            print(f"  {ch:<12} {cells}")
    cols = min(len(challenges), 4)
    rows = -(-len(challenges) // cols)
    fig = new_figure(3.2 * cols, 3.6 * rows)
    grid = fig.add_gridspec(rows * 4, cols)
    for k, ch in enumerate(challenges):
        r, c = divmod(k, cols)
        ax = fig.add_subplot(grid[r * 4:r * 4 + 3, c])
        for name, res in results.items():
            ax.plot(robustness.SWEEPS[ch], [100 * a for a in res[ch]], marker="o", label=name)
        ax.set_title(ch, fontsize=10)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if c == 0:
            ax.set_ylabel("test accuracy (%)", fontsize=8)
        if k == 0:
            ax.legend(fontsize=7)
        strip = np.concatenate([robustness.transform(images[:1], ch, s, args.seed)[0]
                                for s in robustness.SWEEPS[ch]], axis=1)
        sx = fig.add_subplot(grid[r * 4 + 3, c])
        sx.imshow(strip, cmap="gray" if strip.ndim == 2 else None, vmin=0, vmax=255)
        sx.set_xticks([])
        sx.set_yticks([])
    save_figure(fig, args.out)
    print(f"wrote {args.out}")
    return 0
