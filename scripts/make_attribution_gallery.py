#!/usr/bin/env python3
"""Regenerate the README's "Why did the model decide?" figures with the CLI.

    python scripts/make_attribution_gallery.py       # writes docs/gallery/attribution-*.png, errors*.png

Trains the lecture's mnist-cnn on Fashion-MNIST for one epoch (``cnnlab train``, ≈ 25 s on two
idle cores), then draws one figure per attribution method, one with all of them, and the
error-analysis galleries of ``cnnlab errors``. ``--run DIR`` reuses a trained run instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

METHODS = ("saliency", "input-x-gradient", "integrated-gradients", "smoothgrad", "grad-cam", "occlusion")


def run(*argv: str) -> None:
    from cnnlab.cli import main

    t = time.perf_counter()
    code = main([str(a) for a in argv])
    print(f"  [{argv[0]}: {time.perf_counter() - t:.2f} s]")
    if code:
        raise SystemExit(f"cnnlab {' '.join(map(str, argv))} failed with exit code {code}")


def draw(run_dir: Path, out: Path, image: str) -> None:
    for method in METHODS:
        run("attribute", run_dir, image, "--method", method, "--out", out / f"attribution-{method}.png")
    run("attribute", run_dir, image, "--out", out / "attribution-all.png")
    with tempfile.TemporaryDirectory() as tmp:
        run("errors", run_dir, "--out", tmp)
        (out / "errors.png").write_bytes((Path(tmp) / "errors.png").read_bytes())
        # conv2's Grad-CAM of "T-shirt/top" is 0 everywhere on most of these shirts (no channel's
        # evidence survives the ReLU); conv1's, at 24x24, shows where the evidence sits
        run("errors", run_dir, "--pair", "Shirt,T-shirt/top", "--top", "8", "--layer", "conv1", "--out", tmp)
        (out / "errors-shirt-tshirt.png").write_bytes((Path(tmp) / "errors.png").read_bytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "gallery"))
    ap.add_argument("--run", default=None, help="a trained Fashion-MNIST run to use instead of training one")
    ap.add_argument("--image", default="test:0", help="the input of the per-method figures (default test:0)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.run:
        draw(Path(args.run), out, args.image)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "mnist-cnn-fashion"
        run("train", "mnist-cnn", "--data", "fashion-mnist", "--epochs", "1", "--out", run_dir, "--no-progress")
        draw(run_dir, out, args.image)
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
