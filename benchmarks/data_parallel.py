"""Data-parallel step time: one process against N MPI ranks, with the Allreduce share.

Trains a zoo model (default mnist-cnn) on random inputs of its shape for a few steps with a fixed global
batch and prints the median time per step, the median time of the step's Allreduce and the
global images/s. Run it once alone and once under mpirun, with the thread counts to compare:

    OPENBLAS_NUM_THREADS=2 python benchmarks/data_parallel.py              # 1 rank × 2 threads
    OMPI_MCA_btl=self,vader mpirun -n 2 -x OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/data_parallel.py                                  # 2 ranks × 1 thread

``--allreduce-mb M`` also times an Allreduce of M MiB alone (AlexNet's gradient is 238 MiB).
``--speedup-table STEP_MS:PARAMS ...`` prints the model of docs/design/scaling.md instead
(no training): for a step of STEP_MS on one machine and PARAMS parameters, the speed-up on N
machines joined at 10, 25 and 100 Gbit/s.
The numbers depend on the machine's load at the time: docs/design/scaling.md says when they
were taken.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout


LATENCY_S = 50e-6  # one message between two machines over TCP/Ethernet (RDMA: a few µs)


def allreduce_seconds(params: int, machines: int, gbit_s: float, latency_s: float = LATENCY_S) -> float:
    """Ring Allreduce of ``params`` float32 values: each machine sends (and receives)
    2 (N − 1) / N of the buffer in 2 (N − 1) messages."""
    if machines == 1:
        return 0.0
    n = machines
    return 2 * (n - 1) / n * 4 * params / (gbit_s * 1e9 / 8) + 2 * (n - 1) * latency_s


def speedup(step_s: float, params: int, machines: int, gbit_s: float) -> float:
    """One machine's step time over N machines' (compute split evenly, then the Allreduce)."""
    return step_s / (step_s / machines + allreduce_seconds(params, machines, gbit_s))


def speedup_table(specs: list[str], machines=(2, 4, 8, 16, 32, 64), links=(10, 25, 100)) -> str:
    lines = ["| model | one machine's step | machines | " + " | ".join(f"{g} Gbit/s" for g in links) + " |",
             "|---|---|---|" + "---|" * len(links)]
    for spec in specs:
        name, step_ms, params = spec.split(":")
        step, params = float(step_ms) / 1e3, int(params)
        for n in machines:
            cells = [f"{speedup(step, params, n, g):.1f}×" for g in links]
            lines.append(f"| {name} ({params:,} params) | {1e3 * step:.0f} ms | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mnist-cnn")
    p.add_argument("--batch", type=int, default=64, help="global batch size")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--allreduce-mb", type=float, default=0.0)
    p.add_argument("--speedup-table", nargs="+", metavar="NAME:STEP_MS:PARAMS")
    args = p.parse_args()
    if args.speedup_table:
        print(speedup_table(args.speedup_table))
        return

    import cnnlab
    from cnnlab import models, optim
    from cnnlab.cluster.mpi import DataParallel, under_mpi
    from cnnlab.functional import cross_entropy

    dp = DataParallel() if under_mpi() else None
    rank, size = (dp.rank, dp.size) if dp else (0, 1)
    spec = models.spec(args.model)
    n = args.batch * (args.steps + args.warmup)
    rng = np.random.default_rng(0)  # random images of the model's input shape: the time is the same
    x = rng.standard_normal((n, *spec.input_shape)).astype(np.float32)
    y = rng.integers(0, spec.num_outputs, n).astype(np.int64)
    cnnlab.manual_seed(0)
    model = models.create(args.model)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    params = sum(p.numel() for p in model.parameters())
    if dp:
        dp.prepare(model)
        from mpi4py import MPI

        buf = np.empty(params, np.float32)
    steps, comms = [], []
    for s in range(args.steps + args.warmup):
        lo = s * args.batch
        shard = np.array_split(np.arange(lo, lo + args.batch), size)[rank]
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = cross_entropy(model(cnnlab.from_numpy(x[shard])), cnnlab.from_numpy(y[shard]))
        loss.backward()
        t1 = time.perf_counter()
        if dp:
            grads = [p.grad.detach().numpy() for p in model.parameters()]
            at = 0
            for g in grads:
                buf[at:at + g.size].reshape(g.shape)[...] = g * np.float32(len(shard) / args.batch)
                at += g.size
            dp.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            at = 0
            for g in grads:
                g[...] = buf[at:at + g.size].reshape(g.shape)
                at += g.size
        t2 = time.perf_counter()
        opt.step()
        if s >= args.warmup:
            steps.append(time.perf_counter() - t0)
            comms.append(t2 - t1)
    if dp:  # the slowest rank sets the pace
        steps = list(np.max(dp.comm.allgather(steps), axis=0))
    extra = ""
    if dp and args.allreduce_mb:
        big = np.ones(int(args.allreduce_mb * 2**20 / 4), np.float32)
        dp.comm.Barrier()
        t0 = time.perf_counter()
        dp.comm.Allreduce(MPI.IN_PLACE, big, op=MPI.SUM)
        extra = f"  allreduce {args.allreduce_mb:.0f} MiB: {1e3 * (time.perf_counter() - t0):.1f} ms"
    if rank == 0:
        threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
        step = statistics.median(steps)
        print(f"{args.model} ({params:,} params)  {size} rank(s) × {threads} BLAS thread(s)  "
              f"global batch {args.batch}: "
              f"step {1e3 * step:.1f} ms (median of {len(steps)}), allreduce + wait {1e3 * statistics.median(comms):.2f} ms, "
              f"{args.batch / step:,.0f} images/s{extra}")


if __name__ == "__main__":
    main()
