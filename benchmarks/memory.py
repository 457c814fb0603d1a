"""Memory benchmark: peak resident memory of large models, cnnlab vs torch.

Two workloads, each library in its own fresh subprocess (so neither library's memory, nor
cnnlab's allocator settings, count for the other):

* ``vgg16``: build VGG-16 (torchvision's layer list, 138 million parameters) with default
  initialisation. Both models are written here from the same layer list.
* ``alexnet``: one SGD training step (forward, cross-entropy loss, backward, step) of the
  AlexNet of *Dive into Deep Learning* on 1×224×224 inputs, batch ``--batch`` (d2l uses 128;
  the default 32 keeps the step short on a small machine), the same random data for both.

Peak RSS is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end of the child process; the
baseline is the same reading right after importing the library (and, for ``alexnet``, after
building the model and the batch, so the ``step`` column is what the step itself added).

Usage:
    python benchmarks/memory.py [--batch 128] [--only vgg16|alexnet]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("cnnlab", "torch")
WORKLOADS = ("vgg16", "alexnet")
# torchvision's VGG-16 ("D"): output channels of each 3×3 convolution, "M" a 2×2 max pool
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _library(name: str):
    if name == "torch":
        import torch
        import torch.nn as nn

        torch.set_num_threads(2)
        return torch, nn
    sys.path.insert(0, str(ROOT))
    import cnnlab
    import cnnlab.nn as nn

    return cnnlab, nn


def vgg16(nn):
    layers, channels = [], 3
    for v in VGG16:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = v
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
        nn.Linear(4096, 1000),
    )


def alexnet(nn):
    """d2l's AlexNet for 1-channel 224×224 images and 10 classes."""
    return nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 10),
    )


def child(workload: str, library: str, batch: int) -> dict:
    """Run one measurement in this (fresh) process and return its numbers."""
    import numpy as np

    lib, nn = _library(library)
    lib.manual_seed(0)
    imported = _peak_mb()
    if workload == "vgg16":
        model = vgg16(nn)
        params = sum(p.numel() for p in model.parameters())
        return dict(imported=imported, before=imported, peak=_peak_mb(), params=params)
    model = alexnet(nn)
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((batch, 1, 224, 224), dtype=np.float32))
    y = lib.from_numpy(rng.integers(0, 10, batch).astype(np.int64))
    optimizer = __import__(f"{library}.optim", fromlist=["SGD"]).SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    before = _peak_mb()
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return dict(imported=imported, before=before, peak=_peak_mb(), loss=float(loss.item()))


def measure(workload: str, library: str, batch: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    cmd = [sys.executable, __file__, "--child", workload, library, "--batch", str(batch)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"{workload} on {library} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128, help="AlexNet batch size (default 128, as d2l trains it)")
    parser.add_argument("--only", choices=WORKLOADS, help="run one workload")
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "LIBRARY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.batch)))
        return
    workloads = (args.only,) if args.only else WORKLOADS
    print(f"Peak RSS in MB, a fresh process per library; AlexNet batch {args.batch} at 1x224x224.")
    print(f"{'workload':<22}{'library':<8}{'after import':>13}{'before':>9}{'peak':>9}{'added':>9}")
    rows = {}
    for workload in workloads:
        for library in LIBRARIES:
            r = rows[workload, library] = measure(workload, library, args.batch)
            label = "build VGG-16" if workload == "vgg16" else f"AlexNet step (b={args.batch})"
            print(f"{label:<22}{library:<8}{r['imported']:>13.0f}{r['before']:>9.0f}{r['peak']:>9.0f}"
                  f"{r['peak'] - r['before']:>9.0f}")
    print("\ncnnlab / torch (target: at most 1.1)")
    for workload in workloads:
        ours, theirs = rows[workload, "cnnlab"], rows[workload, "torch"]
        added = (ours["peak"] - ours["before"]) / max(theirs["peak"] - theirs["before"], 1e-9)
        peak = ours["peak"] / theirs["peak"]
        print(f"{workload:<10} peak {peak:.2f}x   added by the workload {added:.2f}x")


if __name__ == "__main__":
    main()
