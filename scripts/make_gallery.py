#!/usr/bin/env python3
"""Regenerate the README's gallery: every figure, made by the CLI commands from runs this script
trains itself with fixed seeds.

    python scripts/make_gallery.py                     # everything into docs/gallery (~15 min on 2 cores)
    python scripts/make_gallery.py --only units --only robustness
    python scripts/make_gallery.py --tiny --out /tmp/g  # tiny budgets: checks the script in a few minutes

Parts (``--only``, repeatable):

- ``basics``: pixels, classic filters, convolution / pooling / ReLU step by step, activations.
- ``mnist10k``: learned filters, feature maps and the shift test, from the lecture's MLP and CNN
  trained two quick epochs on MNIST10k (``quick_train``, seed 0).
- ``filters-over-training``: conv1's filters at every epoch (``show-filters --over-training``) of
  mnist-cnn trained 5 epochs on 6,000 Fashion-MNIST images (``cnnlab train``, seed 0).
- ``attribution``: the six attribution maps of test image 0 and the error galleries, from
  mnist-cnn trained one epoch on Fashion-MNIST (``cnnlab train``, seed 0).
- ``backward``: ``cnnlab explain-backward`` as a GIF.
- ``adversarial``, ``units``, ``robustness``: from that CNN and the lecture's MLP trained the same
  way (one epoch on Fashion-MNIST, seed 0).
- ``hierarchy``: conv1, conv2 and the last hidden layer side by side, for that CNN and for
  TinyVGG trained on Fashion-MNIST resized to 64x64 and tinted (an image folder the script
  writes: the first 2,000 training and 300 test images; 2 epochs of Adam, seed 0).
- ``augment``: the robustness recipe (``cnnlab reproduce --only robustness``) on a gallery
  budget: the MLP and the CNN trained with and without augmentation.

Trained runs go to a temporary folder, or to ``--runs DIR`` to keep (and reuse) them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARTS = ("basics", "mnist10k", "filters-over-training", "attribution", "backward", "adversarial", "units",
         "robustness", "hierarchy", "augment")
METHODS = ("saliency", "input-x-gradient", "integrated-gradients", "smoothgrad", "grad-cam", "occlusion")
SEED = "0"


def run(*argv) -> None:
    from cnnlab.cli import main

    argv = [str(a) for a in argv]
    t = time.perf_counter()
    code = main(argv)
    print(f"  [{argv[0]}: {time.perf_counter() - t:.2f} s]")
    if code:
        raise SystemExit(f"cnnlab {' '.join(argv)} failed with exit code {code}")


class Runs:
    """Training runs made on first use, each once, by ``cnnlab train`` with seed 0."""

    def __init__(self, folder: Path, tiny: bool):
        self.folder, self.tiny, self.made = folder, tiny, {}

    def _train(self, name: str, *argv) -> Path:
        out = self.folder / name
        if (out / "checkpoint.safetensors").is_file():
            return out
        run("train", *argv, "--seed", SEED, "--out", out, "--force", "--no-progress")
        return out

    def fashion(self, model: str) -> Path:
        """``model`` (mnist-cnn or mnist-mlp) after one epoch on Fashion-MNIST (all 60,000 images)."""
        limit = ["--limit-train", "1000", "--limit-test", "500"] if self.tiny else []
        return self._train(f"{model}-fashion", model, "--data", "fashion-mnist", "--epochs", "1", "--val-split", "0",
                           *limit)

    def tinyvgg(self) -> Path:
        root = self.folder / "fashion64"
        if not root.is_dir():
            write_fashion64(root, 300 if self.tiny else 2000, 100 if self.tiny else 300)
        return self._train("tinyvgg-fashion64", "tinyvgg", "--data", "imagefolder", "--data-root", root,
                           "--epochs", "1" if self.tiny else "2", "--optimizer", "adam", "--lr", "0.002",
                           "--val-split", "0")


def write_fashion64(root: Path, n_train: int, n_test: int) -> None:
    """Fashion-MNIST's first images, resized to 64x64 (Pillow, bilinear), each tinted with a random
    colour (seeded by split and index; the colour says nothing of the class) and saved as RGB PNGs
    in ``root/{train,test}/<class>/``: colour data of TinyVGG's input shape."""
    import numpy as np
    from PIL import Image

    from cnnlab import datasets

    for split, n in (("train", n_train), ("test", n_test)):
        ds = datasets.create("fashion-mnist", train=split == "train")
        names = [c.replace("/", "-") for c in ds.classes]
        for i in range(n):
            gray = np.asarray(Image.fromarray(np.asarray(ds.data[i])).resize((64, 64), Image.Resampling.BILINEAR))
            tint = np.random.default_rng([split == "train", i]).uniform(0.3, 1.0, 3)
            img = Image.fromarray(np.rint(gray[..., None] * tint).astype(np.uint8), mode="RGB")
            folder = root / split / f"{int(ds.targets[i])}-{names[int(ds.targets[i])]}"
            folder.mkdir(parents=True, exist_ok=True)
            img.save(folder / f"{i:05d}.png")
    print(f"wrote {n_train} + {n_test} 64x64 RGB images to {root}")


def basics(o) -> None:
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


def mnist10k(o, folder: Path, tiny: bool) -> None:
    """Train mnist-mlp and mnist-cnn briefly on MNIST10k, then the filter, feature and shift figures."""
    import numpy as np

    import cnnlab
    from cnnlab import datasets, models
    from cnnlab.checkpoint import save_checkpoint
    from cnnlab.train.recipe import apply_preprocess, fit_preprocess
    from cnnlab.viz.shift import quick_train

    limit, epochs = (500, 1) if tiny else (4000, 2)
    train = datasets.create("mnist10k", train=True)
    pre = fit_preprocess(train.data)
    x, y = apply_preprocess(train.data[:limit], pre), np.asarray(train.targets[:limit], np.int64)
    ck = {}
    for name in ("mnist-mlp", "mnist-cnn"):
        cnnlab.manual_seed(0)
        t = time.perf_counter()
        model = quick_train(models.create(name), x, y, epochs=epochs)
        print(f"trained {name} on {limit} MNIST10k images x {epochs} epochs in {time.perf_counter() - t:.0f} s")
        ck[name] = save_checkpoint(folder / f"{name}-mnist10k.safetensors", model, model_name=name, epoch=epochs,
                                   extra={"dataset": "mnist10k", "preprocess": pre,
                                          "classes": list(train.classes), "task": "classification"})
    run("show-filters", ck["mnist-cnn"], "--out", o("learned-filters-conv1.png"))
    run("show-filters", ck["mnist-cnn"], "--layer", "conv2", "--out", o("learned-filters-conv2.png"))
    run("show-features", ck["mnist-cnn"], "test:0", "--out", o("features.png"))
    run("shift-test", ck["mnist-mlp"], "test:0", "--compare", ck["mnist-cnn"], "--out", o("shift-test.png"))


def attribution(o, cnn: Path, out: Path) -> None:
    for method in METHODS:
        run("attribute", cnn, "test:0", "--method", method, "--out", o(f"attribution-{method}.png"))
    run("attribute", cnn, "test:0", "--out", o("attribution-all.png"))
    with tempfile.TemporaryDirectory() as tmp:
        run("errors", cnn, "--out", tmp)
        shutil.copyfile(Path(tmp) / "errors.png", out / "errors.png")
        # conv2's Grad-CAM of "T-shirt/top" is 0 everywhere on most of these shirts (no channel's
        # evidence survives the ReLU); conv1's, at 24x24, shows where the evidence sits
        run("errors", cnn, "--pair", "Shirt,T-shirt/top", "--top", "8", "--layer", "conv1", "--out", tmp)
        shutil.copyfile(Path(tmp) / "errors.png", out / "errors-shirt-tshirt.png")


def units(o, cnn: Path, tiny: bool) -> None:
    steps = "16" if tiny else "64"
    # the centre unit: a channel's mean over all positions is driven by a flat image (a 5x5 filter
    # summed over the map sees mostly its own sum), so conv1's mean gives grey squares
    run("units", cnn, "--layer", "conv1", "--method", "maximize", "--centre", "--steps", steps,
        "--out", o("units-conv1-maximize.png"))
    run("units", cnn, "--layer", "conv2", "--method", "patches", "--channels", "8", "--out", o("units-conv2-patches.png"))
    run("units", cnn, "--layer", "conv1", "--method", "tuning", "--out", o("units-conv1-tuning.png"))
    run("units", cnn, "--layer", "conv1,pool", "--method", "position", "--channels", "8", "--out", o("units-position.png"))


def hierarchy(o, runs: Runs) -> None:
    steps = "16" if runs.tiny else "96"
    run("units", runs.fashion("mnist-cnn"), "--layer", "conv1,conv2,fc1", "--centre", "--steps", steps,
        "--out", o("units-hierarchy-mnist-cnn.png"))
    # the last conv (its max pool after ReLU starts many units at 0, where the ascent has no gradient)
    run("units", runs.tinyvgg(), "--layer", "block_1.conv_1_1,block_1.conv_1_2,block_2.conv_2_2", "--centre",
        "--steps", steps, "--out", o("units-hierarchy-tinyvgg.png"))


def augment(out: Path, folder: Path, tiny: bool) -> None:
    """The robustness recipe's four runs on a gallery budget: 10,000 images, 3 epochs (tiny: 500, 1)."""
    from dataclasses import replace

    from cnnlab.reproduce import robustness
    from cnnlab.reproduce.recipes import load_recipes

    (recipe,) = load_recipes(only=["robustness"])
    budget = {"epochs": 1, "limit_train": 500, "limit_test": 100} if tiny else \
             {"epochs": 3, "limit_train": 10000, "limit_test": 500}
    recipe = replace(recipe, train={**recipe.train, **budget}, quick={},
                     experiment="What augmentation buys: MLP and CNN, with and without",
                     protocol=f"the robustness recipe on a gallery budget: the first {budget['limit_train']:,} "
                              f"training images, {budget['epochs']} epoch(s), swept on the first "
                              f"{budget['limit_test']} test images")
    root = folder / "augment"
    names = {robustness.run_label(m, a): root / f"robustness-{m}{'-augment' if a else ''}-seed0"
             for m in recipe.models for a in (False, True)}
    if all((d / "checkpoint.safetensors").is_file() for d in names.values()):  # kept with --runs: sweep again
        result = robustness.sweep_runs(recipe, {label: [d] for label, d in names.items()})
    else:
        result = robustness.run_robustness(recipe, runs_root=str(root))
    with tempfile.TemporaryDirectory() as tmp:
        robustness.write(result, Path(tmp))
        shutil.copyfile(Path(tmp) / "robustness.png", out / "robustness-augment.png")
    print(robustness.render_markdown(result))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "gallery"))
    ap.add_argument("--only", action="append", choices=PARTS, help="make only this part (repeatable)")
    ap.add_argument("--runs", default=None, help="keep the trained runs here (default: a temporary folder)")
    ap.add_argument("--tiny", action="store_true", help="tiny training budgets: check the script, not the figures")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    o = lambda name: str(out / name)  # noqa: E731
    parts = args.only or list(PARTS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.runs) if args.runs else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        runs = Runs(folder, args.tiny)
        t0 = time.perf_counter()
        if "basics" in parts:
            basics(o)
        if "mnist10k" in parts:
            mnist10k(o, folder, args.tiny)
        if "filters-over-training" in parts:
            limit = ["--limit-train", "600", "--limit-test", "200"] if args.tiny else \
                    ["--limit-train", "6000", "--limit-test", "1000"]
            fm5 = runs._train("mnist-cnn-fashion-5epochs", "mnist-cnn", "--data", "fashion-mnist", "--epochs",
                              "2" if args.tiny else "5", *limit, "--lr", "0.05")
            run("show-filters", fm5, "--over-training", "--out", o("filters-over-training.gif"))
        if "attribution" in parts:
            attribution(o, runs.fashion("mnist-cnn"), out)
        if "backward" in parts:
            run("explain-backward", "--no-animate", "--gif", o("explain-backward.gif"))
        if "adversarial" in parts:
            cnn, mlp = runs.fashion("mnist-cnn"), runs.fashion("mnist-mlp")
            run("adversarial", cnn, "test:0", "--eps", "0.1", "--out", o("adversarial.png"))
            run("adversarial", cnn, "--curve", "--compare", mlp, "--limit", "300", "--out", o("adversarial-curve.png"))
        if "units" in parts:
            units(o, runs.fashion("mnist-cnn"), args.tiny)
        if "robustness" in parts:
            run("robustness", runs.fashion("mnist-cnn"), "--compare", runs.fashion("mnist-mlp"), "--limit", "300",
                "--out", o("robustness.png"))
        if "hierarchy" in parts:
            hierarchy(o, runs)
        if "augment" in parts:
            augment(out, folder, args.tiny)
    print(f"gallery written to {out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
