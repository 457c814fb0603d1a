"""The main job (``cnnlab demo``, ``make demo``): the lecture's CNN on the full Fashion-MNIST.

It trains ``mnist-cnn`` for one epoch (SGD, lr 0.01, momentum 0.9, batch 64, seed 0), then
prints the model summary, the test accuracy, top-k predictions for a few test images next to
their true labels, and where the checkpoint and the plots are.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

DEMO_MODEL = "mnist-cnn"
DEMO_DATA = "fashion-mnist"
EXAMPLE_INDICES = (0, 1, 2, 3, 4, 5)  # the first test images: several different classes


def save_examples(run_dir: Path, data: str, indices=EXAMPLE_INDICES, root=None) -> list[tuple[Path, str]]:
    """Write test images as PNGs into ``run_dir/examples``; returns ``(file, true label)`` pairs."""
    from PIL import Image

    from . import datasets

    test = datasets.create(data, root=root, train=False)
    out = run_dir / "examples"
    out.mkdir(exist_ok=True)
    files = []
    for i in indices:
        label = test.classes[int(test.targets[i])]
        path = out / f"test{i:05d}-{label.replace('/', '_').replace(' ', '_')}.png"
        Image.fromarray(np.asarray(test.data[i])).save(path)
        files.append((path, label))
    return files


def main_job(*, epochs: int = 1, limit_train: int | None = None, out=None, root: str = "runs",
             force: bool = False, progress: bool | None = None, topk: int = 3, log=print) -> dict:
    """Run the main job; returns the test metrics and paths (for tests and scripts)."""
    from .train.session import TrainConfig, build_model, model_summary_text, predict_images, train_run

    # Every training image trains (no validation part): the main job reports the last epoch's
    # test accuracy and picks no best epoch.
    cfg = TrainConfig(model=DEMO_MODEL, data=DEMO_DATA, epochs=epochs, batch_size=64, lr=0.01,
                      optimizer="sgd", momentum=0.9, seed=0, limit_train=limit_train, val_split=0.0)
    log(f"cnnlab main job: the lecture's {DEMO_MODEL} on Fashion-MNIST, {epochs} epoch(s), "
        f"SGD lr {cfg.lr} momentum {cfg.momentum}, batch {cfg.batch_size}, seed {cfg.seed}\n")
    from . import models

    model, _ = build_model(cfg, 10, "classification")
    log(model_summary_text(model, models.spec(DEMO_MODEL).input_shape))
    log("")
    t0 = time.perf_counter()
    history, run_dir, test = train_run(cfg, out=out, root=root, force=force, progress=progress, log=log)
    seconds = time.perf_counter() - t0
    log(f"\ntest accuracy {100 * test['accuracy']:.2f}% (top-5 {100 * test['top5_accuracy']:.2f}%) on "
        f"{test['count']:,} test images after {epochs} epoch(s); training took {seconds:.0f} s")

    examples = save_examples(run_dir, DEMO_DATA)
    log(f"\ntop-{topk} predictions for a few test images:")
    results = predict_images(run_dir, [p for p, _ in examples], k=topk)
    for (path, label), (_, top) in zip(examples, results):
        guess = ", ".join(f"{name} {p:.2f}" for name, p in top)
        mark = "ok " if top[0][0] == label else "MISS"
        log(f"  [{mark}] {path.name:<28} true: {label:<12} predicted: {guess}")

    log(f"\nrun directory: {run_dir}/")
    log("  checkpoint.safetensors        weights + optimizer state (best.safetensors: best epoch)")
    log("  loss.png, accuracy.png        training curves; confusion.png: test confusion matrix")
    log("  metrics.jsonl, steps.jsonl    numbers per epoch and per step; summary.txt: the table above")
    log("  examples/                     the test images predicted above")
    log(f"\ntry:  cnnlab eval {run_dir}\n      cnnlab predict {run_dir} {examples[0][0]}")
    return {"test": test, "run_dir": run_dir, "examples": results, "seconds": seconds}
