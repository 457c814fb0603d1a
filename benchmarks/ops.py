"""Convolution and pooling timings, cnnlab next to torch in the same process.

Both libraries run on 2 threads (OpenBLAS for NumPy, intra-op threads for torch). Rounds
alternate cnnlab and torch so that load from other processes hits both alike; each cell is
the median over the rounds. "fwd" is a training-mode forward (graph recorded, parameters
requiring grad); "fwd+bwd" adds the backward of a fixed random upstream gradient. A first
layer's input (images) needs no gradient, so both libraries skip it there.

Importing cnnlab raises glibc's mmap/trim thresholds (cnnlab/_allocator.py): both libraries in this
process reuse freed buffers instead of faulting fresh pages in each round.

Usage:
    python benchmarks/ops.py [--rounds 15] [--markdown]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Idle OpenMP threads of torch otherwise spin for a while after each op and steal the 2 cores
# from the next (interleaved) cnnlab op's BLAS threads: measured 10-80x slowdowns of a GEMM.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import cnnlab  # noqa: E402
import cnnlab.nn.functional as F  # noqa: E402

torch.set_num_threads(2)

# name, kind, input shape, (out channels, kernel, stride, padding) or (kernel, stride), input needs grad
ROWS = [
    ("conv 64×1×28², 16@5×5", "conv", (64, 1, 28, 28), (16, 5, 1, 0), False),
    ("conv 64×16×12², 24@5×5", "conv", (64, 16, 12, 12), (24, 5, 1, 0), True),
    ("conv 32×3×32², 64@3×3 p1", "conv", (32, 3, 32, 32), (64, 3, 1, 1), False),
    ("AlexNet conv1 8×3×227², 96@11×11 s4", "conv", (8, 3, 227, 227), (96, 11, 4, 0), False),
    ("max pool 2×2 on 64×16×24²", "pool", (64, 16, 24, 24), (2, 2), True),
    ("max pool 3×3 s2 on 8×96×55²", "pool", (8, 96, 55, 55), (3, 2), True),
]


def _make(lib, kind, shape, cfg, x_grad, seed=0):
    """Inputs and a closure running the op once (returns the output)."""
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal(shape).astype(np.float32)
    if kind == "conv":
        f, k, s, p = cfg
        w_np = (rng.standard_normal((f, shape[1], k, k)) / np.sqrt(shape[1] * k * k)).astype(np.float32)
        b_np = rng.standard_normal(f).astype(np.float32)
    if lib == "cnnlab":
        x = cnnlab.tensor(x_np, requires_grad=x_grad)
        if kind == "conv":
            w, b = cnnlab.tensor(w_np, requires_grad=True), cnnlab.tensor(b_np, requires_grad=True)
            return [x, w, b], lambda: F.conv2d(x, w, b, s, p)
        return [x], lambda: F.max_pool2d(x, cfg[0], cfg[1])
    x = torch.tensor(x_np, requires_grad=x_grad)
    if kind == "conv":
        w, b = torch.tensor(w_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
        return [x, w, b], lambda: torch.nn.functional.conv2d(x, w, b, s, p)
    return [x], lambda: torch.nn.functional.max_pool2d(x, cfg[0], cfg[1])


def _time_once(lib, leaves, run, upstream, backward: bool) -> float:
    for t in leaves:
        t.grad = None
    start = time.perf_counter()
    out = run()
    if backward:
        out.backward(upstream)
    return (time.perf_counter() - start) * 1e3


def bench_row(kind, shape, cfg, x_grad, rounds):
    libs = {}
    for lib in ("cnnlab", "torch"):
        leaves, run = _make(lib, kind, shape, cfg, x_grad)
        out_shape = run().shape
        g = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
        upstream = cnnlab.tensor(g) if lib == "cnnlab" else torch.tensor(g)
        libs[lib] = (leaves, run, upstream)
        for _ in range(2):  # warm-up: page faults, BLAS buffers
            _time_once(lib, leaves, run, upstream, True)
    times = {(lib, b): [] for lib in libs for b in (False, True)}
    for _ in range(rounds):
        for backward in (False, True):
            for lib, (leaves, run, upstream) in libs.items():
                times[(lib, backward)].append(_time_once(lib, leaves, run, upstream, backward))
    return {key: statistics.median(v) for key, v in times.items()}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    return (f"{cpu}, {os.cpu_count()} cores visible, 2 threads each; Python {platform.python_version()}, "
            f"NumPy {np.__version__} ({blas.get('name', '?')} {blas.get('version', '')}), torch {torch.__version__}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    header = ("op", "cnnlab fwd", "torch fwd", "ratio", "cnnlab fwd+bwd", "torch fwd+bwd", "ratio")
    rows = []
    for name, kind, shape, cfg, x_grad in ROWS:
        t = bench_row(kind, shape, cfg, x_grad, args.rounds)
        rows.append((name, f"{t[('cnnlab', False)]:.2f}", f"{t[('torch', False)]:.2f}",
                     f"{t[('cnnlab', False)] / t[('torch', False)]:.2f}×",
                     f"{t[('cnnlab', True)]:.2f}", f"{t[('torch', True)]:.2f}",
                     f"{t[('cnnlab', True)] / t[('torch', True)]:.2f}×"))
        if not args.markdown:
            print(("{:<38}" + "{:>15}" * 6).format(*rows[-1]), flush=True)
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    print(f"\nms, median of {args.rounds} interleaved rounds; ratio = cnnlab / torch (lower is better).")
    print(f"Machine: {machine()}")


if __name__ == "__main__":
    main()
