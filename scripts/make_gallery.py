#!/usr/bin/env python3
"""Regenerate the README's gallery: every ``cnnlab.viz`` figure, made by the CLI commands.

    python scripts/make_gallery.py            # writes docs/gallery/*.png and *.gif

The learned-filter, feature-map and shift-test figures need trained models: the script
trains the lecture's MLP and CNN for two quick epochs on MNIST10k (a few minutes on two
cores), saves them as checkpoints in a temporary folder, then runs the commands on them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(*argv: str) -> None:
    from cnnlab.cli import main

    t = time.perf_counter()
    code = main(list(argv))
    print(f"  [{argv[0]}: {time.perf_counter() - t:.2f} s]")
    if code:
        raise SystemExit(f"cnnlab {' '.join(argv)} failed with exit code {code}")


def train_checkpoints(folder: Path, limit: int, epochs: int) -> dict[str, Path]:
    """Train mnist-mlp and mnist-cnn briefly on MNIST10k and save both as checkpoints."""
    import numpy as np

    import cnnlab
    from cnnlab import datasets, models
    from cnnlab.checkpoint import save_checkpoint
    from cnnlab.train.recipe import apply_preprocess, fit_preprocess
    from cnnlab.viz.shift import quick_train

    train = datasets.create("mnist10k", train=True)
    pre = fit_preprocess(train.data)
    x, y = apply_preprocess(train.data[:limit], pre), np.asarray(train.targets[:limit], np.int64)
    paths = {}
    for name in ("mnist-mlp", "mnist-cnn"):
        cnnlab.manual_seed(0)
        t = time.perf_counter()
        model = quick_train(models.create(name), x, y, epochs=epochs)
        print(f"trained {name} on {limit} images x {epochs} epochs in {time.perf_counter() - t:.0f} s")
        paths[name] = save_checkpoint(folder / f"{name}.safetensors", model, model_name=name, epoch=epochs,
                                      extra={"dataset": "mnist10k", "preprocess": pre,
                                             "classes": list(train.classes), "task": "classification"})
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "gallery"))
    ap.add_argument("--limit", type=int, default=4000, help="training images for the quick models")
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    o = lambda name: str(out / name)  # noqa: E731

    run("pixels", "camera", "--crop", "230,80,12,10", "--out", o("pixels-gray.png"))
    run("pixels", "astronaut", "--crop", "200,120,8,6", "--out", o("pixels-rgb.png"))
    run("filter", "camera", "--kernel", "all", "--out", o("filters-camera.png"))
    run("filter", "coffee", "--kernel", "box-blur", "--kernel", "sharpen", "--kernel", "sobel-x",
        "--out", o("filters-coffee.png"))
    for example in ("lecture", "edge", "padding"):
        run("explain-conv", "--example", example, "--no-animate", "--gif", o(f"explain-conv-{example}.gif"))
    run("explain-pool", "--op", "max", "--no-animate", "--gif", o("explain-pool-max.gif"))
    run("explain-pool", "--op", "avg", "--no-animate", "--gif", o("explain-pool-avg.gif"))
    run("explain-relu", "--no-animate", "--gif", o("explain-relu.gif"))
    run("show-activations", "--out", o("activations.png"))
    with tempfile.TemporaryDirectory() as tmp:
        ck = train_checkpoints(Path(tmp), args.limit, args.epochs)
        run("show-filters", str(ck["mnist-cnn"]), "--out", o("learned-filters-conv1.png"))
        run("show-filters", str(ck["mnist-cnn"]), "--layer", "conv2", "--out", o("learned-filters-conv2.png"))
        run("show-features", str(ck["mnist-cnn"]), "test:0", "--out", o("features.png"))
        run("shift-test", str(ck["mnist-mlp"]), "test:0", "--compare", str(ck["mnist-cnn"]),
            "--out", o("shift-test.png"))
        run("train", "mnist-cnn", "--data", "fashion-mnist", "--epochs", "5", "--limit-train", "6000",
            "--limit-test", "1000", "--lr", "0.05", "--no-progress", "--out", str(Path(tmp) / "fm5"))
        run("show-filters", str(Path(tmp) / "fm5"), "--over-training", "--out", o("filters-over-training.gif"))
    print(f"gallery written to {out}")


if __name__ == "__main__":
    main()
