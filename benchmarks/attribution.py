"""How long an attribution takes: each method in cnnlab beside Captum 0.9 on torch, and the
whole ``cnnlab attribute RUN test:0 --method all`` figure from a checkpoint (target < 2 s).

Part 1 times each method on mnist-cnn (fresh weights, seed 0, the same weights in both
libraries, one 28×28 image, the CLI's settings: IG 50 steps, SmoothGrad 25 samples, occlusion
4×4 window stride 2, Grad-CAM of conv2), median of ``--rounds`` rounds alternating the libraries.
Part 2 runs the command in a fresh process ``--runs`` times and reports wall and CPU time
(user + sys), the interpreter's start and imports included. Without ``--run`` it saves the
fresh-weight model as a Fashion-MNIST checkpoint in a temporary folder and times that.

Usage:
    python benchmarks/attribution.py [--run runs/RUN] [--rounds 7] [--runs 5]
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)  # run from a checkout
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def _models():
    import torch

    import cnnlab
    from cnnlab import models

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from torch_zoo import MnistCNN

    torch.set_num_threads(2)
    torch.manual_seed(0)
    theirs = MnistCNN().eval()
    ours = models.create("mnist-cnn").eval()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return cnnlab, ours, torch, theirs


def _methods(ours, theirs, x, target):
    import torch
    from captum import attr as ca

    from cnnlab import attribution as at

    xt = torch.from_numpy(x)
    return {
        "saliency": (lambda: at.saliency(ours, x, target),
                     lambda: ca.Saliency(theirs).attribute(xt.clone().requires_grad_(), target=target)),
        "input x gradient": (lambda: at.input_x_gradient(ours, x, target),
                             lambda: ca.InputXGradient(theirs).attribute(xt.clone().requires_grad_(), target=target)),
        "integrated gradients": (lambda: at.integrated_gradients(ours, x, target, return_error=True),
                                 lambda: ca.IntegratedGradients(theirs).attribute(
                                     xt, target=target, return_convergence_delta=True)),
        "smoothgrad": (lambda: at.smoothgrad(ours, x, target, generator=0),
                       lambda: ca.NoiseTunnel(ca.Saliency(theirs)).attribute(
                           xt.clone().requires_grad_(), nt_type="smoothgrad", nt_samples=25, stdevs=0.3,
                           target=target)),
        "grad-cam": (lambda: at.grad_cam(ours, x, target, "conv2"),
                     lambda: ca.LayerGradCam(theirs, theirs.conv2).attribute(xt, target=target,
                                                                              relu_attributions=True)),
        "occlusion": (lambda: at.occlusion(ours, x, target, window=(1, 4, 4), stride=(1, 2, 2)),
                      lambda: ca.Occlusion(theirs).attribute(xt, sliding_window_shapes=(1, 4, 4),
                                                             strides=(1, 2, 2), target=target,
                                                             perturbations_per_eval=169)),
    }


def time_methods(rounds: int) -> None:
    _, ours, _, theirs = _models()
    x = np.random.default_rng(0).standard_normal((1, 1, 28, 28)).astype(np.float32)
    print(f"{'method':22s} {'cnnlab ms':>10s} {'captum ms':>10s} {'ratio':>6s}")
    for name, (mine, ref) in _methods(ours, theirs, x, 3).items():
        mine(), ref()  # warm up
        a, b = [], []
        for _ in range(rounds):
            t = time.perf_counter(); mine(); a.append(time.perf_counter() - t)  # noqa: E702
            t = time.perf_counter(); ref(); b.append(time.perf_counter() - t)  # noqa: E702
        ma, mb = statistics.median(a) * 1e3, statistics.median(b) * 1e3
        print(f"{name:22s} {ma:10.1f} {mb:10.1f} {ma / mb:6.2f}")


def _checkpoint(folder: str) -> str:
    from cnnlab import datasets
    from cnnlab.checkpoint import save_checkpoint
    from cnnlab.train.recipe import fit_preprocess

    _, ours, _, _ = _models()
    train = datasets.create("fashion-mnist", train=True)
    path = os.path.join(folder, "mnist-cnn.safetensors")
    save_checkpoint(path, ours, model_name="mnist-cnn", epoch=0,
                    extra={"dataset": "fashion-mnist", "preprocess": fit_preprocess(train.data),
                           "classes": list(train.classes), "task": "classification"})
    return path


def time_command(checkpoint: str, runs: int) -> None:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "cnnlab", "attribute", checkpoint, "test:0", "--method", "all",
                            "--out", os.path.join(tmp, "a.png")], env=env, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print(f"\ncnnlab attribute CKPT test:0 --method all (fresh process, {runs} runs; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"  wall  median {statistics.median(walls):.2f} s  (min {min(walls):.2f})")
    print(f"  CPU   median {statistics.median(cpus):.2f} s  (min {min(cpus):.2f})   target < 2 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=None, help="a run directory or checkpoint (default: fresh weights)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    time_methods(args.rounds)
    if args.run:
        time_command(args.run, args.runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        time_command(_checkpoint(tmp), args.runs)


if __name__ == "__main__":
    main()
