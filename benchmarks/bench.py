"""Model benchmark: cnnlab against torch (and onnxruntime for inference), model compute only.

What it measures, for mnist-cnn, mnist-mlp, tinyvgg and lenet5 (and AlexNet's convolution
stack at batch 8):

* training images/s at batch 16, 64 and 256 (forward, cross-entropy, backward, SGD with
  momentum), and inference images/s at batch 1, 64 and 256 (eval mode, no graph; batch 1 is
  also given as a latency in µs);
* on the same pre-loaded batches in both libraries (random inputs of the model's shape, the
  same arrays for every library), so only model compute is timed;
* each library in a fresh process with its own defaults (torch with glibc's malloc defaults,
  cnnlab with its allocator setting, ``cnnlab/_allocator.py``), 2 threads each; the rounds
  interleave the libraries (cnnlab, torch, onnxruntime, then the next round in the reverse
  order) and every cell is the median over the rounds, with the spread (min-max);
* as separate rows, one full epoch on the real Fashion-MNIST training set with each
  library's own DataLoader (cnnlab: its ``fashion-mnist`` dataset from the cache; torch: the
  same arrays in a ``TensorDataset``), batch 64, shuffled, and the process's peak RSS;
* NumPy's sgemm rate on the same 2 threads, measured in the same run: with the FLOPs per
  image from ``cnnlab.summary`` (training ≈ 3× the forward, less the first layer's input
  gradient), each result is also given as a percentage of that arithmetic limit;
* onnxruntime as the inference reference: the torch twin exported with
  ``torch.onnx.export(..., dynamo=False)``.

Prints the tables and writes them into BENCHMARKS.md (section ``## Models``) with the
machine, library versions and date, unless ``--no-write``. ``--quick`` runs one round with
less work per cell (for development; its numbers are rough).

Usage:
    python benchmarks/bench.py [--rounds 3] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
THREADS = 2
LR, MOMENTUM = 0.01, 0.9
MODELS = ("mnist-cnn", "mnist-mlp", "tinyvgg", "lenet5")
ALEXNET = "alexnet-conv"  # AlexNet's convolution stack (model.features), batch 8
TRAIN_BATCHES = (16, 64, 256)
INFER_BATCHES = (1, 64, 256)
EPOCH_MODELS = ("mnist-cnn", "mnist-mlp")
LIBS = ("cnnlab", "torch", "onnxruntime")


# ----------------------------------------------------------------------------- models
def input_shape(name: str) -> tuple:
    return (3, 227, 227) if name == ALEXNET else {"tinyvgg": (3, 64, 64)}.get(name, (1, 28, 28))


def build(lib: str, name: str):
    """The model in ``lib`` (torch: the independent twin of tests/torch_zoo.py)."""
    if lib == "cnnlab":
        import cnnlab

        return cnnlab.models.create("alexnet").features if name == ALEXNET else cnnlab.models.create(name)
    sys.path.insert(0, str(ROOT / "tests"))
    from torch_zoo import TORCH_ZOO

    return TORCH_ZOO["alexnet"][0]().features if name == ALEXNET else TORCH_ZOO[name][0]()


def flops_per_image(name: str) -> tuple[float, float]:
    """(training, inference) FLOPs per image from cnnlab.summary's MACs.

    Training: the forward, the weight gradients (as many MACs as the forward in conv and
    linear layers) and the input gradients, except the first layer's (its input needs none).
    """
    import cnnlab

    model = build("cnnlab", name)
    s = cnnlab.summary(model, input_size=input_shape(name))
    fwd = s.totals()["macs"]
    weighted = [r.macs for r in s.rows if r.category in ("conv", "fc")]
    train = fwd + 2 * sum(weighted) - (weighted[0] if weighted else 0)
    return 2.0 * train, 2.0 * fwd


# ----------------------------------------------------------------------------- workers
def _batches(name: str, batch: int, count: int, seed: int = 0):
    """``count`` distinct (x, y) batches, the same arrays in every library's process."""
    import numpy as np

    rng = np.random.default_rng(seed + batch)
    shape = input_shape(name)
    return [(rng.standard_normal((batch, *shape)).astype(np.float32), rng.integers(0, 10, batch).astype(np.int64))
            for _ in range(count)]


def _images(batch: int, budget: int) -> int:
    """Steps to time for ``budget`` images (at least 3)."""
    return max(3, budget // batch)


def worker_compute(lib: str, plan: dict) -> dict:
    """Every training/inference cell of ``plan`` for one library, in this fresh process."""
    if lib == "onnxruntime":
        return worker_onnx(plan)
    if lib == "torch":
        import torch

        torch.set_num_threads(THREADS)
        m = torch
        from_numpy, no_grad = torch.from_numpy, torch.no_grad
        ce = torch.nn.functional.cross_entropy
    else:
        import cnnlab

        m = cnnlab
        from_numpy, no_grad = cnnlab.from_numpy, cnnlab.no_grad
        ce = cnnlab.nn.functional.cross_entropy
    results = {}
    for name, cells in plan.items():
        m.manual_seed(0)
        model = build(lib, name)
        opt = m.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        for kind, batch, budget in cells:
            data = [(from_numpy(x), from_numpy(y)) for x, y in _batches(name, batch, 4)]
            steps = _images(batch, budget)
            if kind == "train":
                model.train()

                def step(x, y):
                    out = model(x)
                    loss = out.sum() if name == ALEXNET else ce(out, y)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            else:
                model.eval()

                def step(x, y):
                    with no_grad():
                        model(x)
            for i in range(2 if batch > 1 else 20):  # warm-up: first-touch pages, BLAS threads
                step(*data[i % len(data)])
            t0 = time.perf_counter()
            for i in range(steps):
                step(*data[i % len(data)])
            results[f"{name}|{kind}|{batch}"] = (time.perf_counter() - t0) / steps
    return results


def worker_onnx(plan: dict) -> dict:
    """onnxruntime on the torch twins (exported here, with a dynamic batch axis)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    torch.set_num_threads(THREADS)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = THREADS, 1
    results = {}
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-onnx-") as tmp:
        for name, cells in plan.items():
            cells = [c for c in cells if c[0] == "infer"]
            if not cells:
                continue
            torch.manual_seed(0)
            model = build("torch", name).eval()
            path = os.path.join(tmp, f"{name}.onnx")
            torch.onnx.export(model, (torch.zeros(1, *input_shape(name)),), path, dynamo=False,
                              input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            for _, batch, budget in cells:
                data = [np.ascontiguousarray(x) for x, _ in _batches(name, batch, 4)]
                steps = _images(batch, budget)
                for i in range(2 if batch > 1 else 20):
                    sess.run(None, {"x": data[i % len(data)]})
                t0 = time.perf_counter()
                for i in range(steps):
                    sess.run(None, {"x": data[i % len(data)]})
                results[f"{name}|infer|{batch}"] = (time.perf_counter() - t0) / steps
    return results


def worker_sgemm(size: int = 1024, repeats: int = 20) -> dict:
    """NumPy's float32 GEMM rate on this process's threads (best of ``repeats``)."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    b = a.T.copy()
    c = np.empty_like(a)
    np.matmul(a, b, out=c)
    best = min(_timed(lambda: np.matmul(a, b, out=c)) for _ in range(repeats))
    return {"gflops": 2 * size**3 / best / 1e9}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def worker_epoch(lib: str, model_name: str, data_dir: str, limit: int) -> dict:
    """One full epoch on Fashion-MNIST with the library's own DataLoader (the first ``limit``
    images if ``limit`` > 0); peak RSS."""
    import numpy as np

    if lib == "cnnlab":
        import cnnlab
        from cnnlab import datasets
        from cnnlab.train.recipe import dataset_arrays, fit_preprocess
        from cnnlab.utils.data import DataLoader, TensorDataset

        train = datasets.create("fashion-mnist", train=True)
        pre = fit_preprocess(train.data)
        x, y = dataset_arrays(train, pre, "classification", limit=limit or None)
        xt, yt = dataset_arrays(datasets.create("fashion-mnist", train=False), pre, "classification")
        m, ce = cnnlab, cnnlab.nn.functional.cross_entropy
        loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=0)
        test = DataLoader(TensorDataset(xt, yt), batch_size=256)
    else:
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        torch.set_num_threads(THREADS)
        x, y, xt, yt = (np.load(Path(data_dir) / f"{k}.npy") for k in ("x", "y", "xt", "yt"))
        if limit:
            x, y = x[:limit].copy(), y[:limit].copy()
        m, ce = torch, torch.nn.functional.cross_entropy
        loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=64, shuffle=True)
        test = DataLoader(TensorDataset(torch.from_numpy(xt), torch.from_numpy(yt)), batch_size=256)
    m.manual_seed(0)
    model = build(lib, model_name)
    opt = m.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()
    images = len(x)
    t0 = time.perf_counter()
    for xb, yb in loader:
        loss = ce(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    correct = 0
    with m.no_grad():
        for xb, yb in test:
            correct += int((model(xb).argmax(1) == yb).sum().item())
    return {"img_s": images / seconds, "peak_rss_mb": peak_rss_mb(), "accuracy": correct / len(xt)}


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    from the forking parent across execve, so a worker would report the parent's peak."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def run_worker(args: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), OPENBLAS_NUM_THREADS=str(THREADS),
               MKL_NUM_THREADS=str(THREADS), PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"worker {args[:2]} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- parent
def make_plan(quick: bool) -> dict:
    """Per model: (kind, batch, images to time) cells; the work per cell scales with 1/FLOPs."""
    flops = {name: flops_per_image(name) for name in (*MODELS, ALEXNET)}
    seconds = 0.04 if quick else 0.15  # per cell, at ~15 GFLOP/s effective
    plan = {}
    for name in MODELS:
        train, infer = flops[name]
        plan[name] = ([("train", b, int(seconds * 15e9 / train)) for b in TRAIN_BATCHES]
                      + [("infer", b, int(seconds * 15e9 / infer) // (8 if b == 1 else 1)) for b in INFER_BATCHES])
    plan[ALEXNET] = [("train", 8, 8 if quick else 24), ("infer", 8, 8 if quick else 24)]
    return plan, flops


def prepare_epoch_data(out: Path) -> None:
    """cnnlab's preprocessed Fashion-MNIST arrays, for torch's TensorDatasets."""
    import numpy as np

    from cnnlab import datasets
    from cnnlab.train.recipe import dataset_arrays, fit_preprocess

    train = datasets.create("fashion-mnist", train=True)
    pre = fit_preprocess(train.data)
    x, y = dataset_arrays(train, pre, "classification")
    xt, yt = dataset_arrays(datasets.create("fashion-mnist", train=False), pre, "classification")
    for key, value in {"x": x, "y": y, "xt": xt, "yt": yt}.items():
        np.save(out / f"{key}.npy", value)


def med(values):
    return statistics.median(values)


def build_tables(rounds: list[dict], epochs: dict, gemm: list[float], flops: dict, plan: dict) -> str:
    limit = med(gemm) * 1e9
    cells: dict[str, dict[str, list[float]]] = {}
    for r in rounds:
        for lib, res in r.items():
            for key, sec in res.items():
                cells.setdefault(key, {}).setdefault(lib, []).append(sec)
    head = ("| model | measure | cnnlab | torch | cnnlab / torch | onnxruntime | cnnlab / ort | cnnlab % of limit "
            "| spread cnnlab / torch |\n|---|---|---:|---:|---:|---:|---:|---:|---|")
    rows = []
    for name, todo in plan.items():
        train_f, infer_f = flops[name]
        for kind, batch, _ in todo:
            c = cells[f"{name}|{kind}|{batch}"]
            rate = {lib: batch / med(v) for lib, v in c.items()}
            spread = " / ".join(f"{batch / max(c[lib]):,.0f}–{batch / min(c[lib]):,.0f}" for lib in ("cnnlab", "torch"))
            ratio = rate["cnnlab"] / rate["torch"]
            if kind == "infer" and batch == 1:
                lat = {lib: 1e6 * med(v) for lib, v in c.items()}
                what = "inference latency µs, batch 1"
                vals = f"{lat['cnnlab']:,.0f} | {lat['torch']:,.0f} | {ratio:.2f}×"
                ort = (f"{lat['onnxruntime']:,.0f} | {rate['cnnlab'] / rate['onnxruntime']:.2f}×"
                       if "onnxruntime" in lat else " | ")
                spread = " / ".join(f"{1e6 * min(c[lib]):,.0f}–{1e6 * max(c[lib]):,.0f}" for lib in ("cnnlab", "torch"))
            else:
                what = f"{'training' if kind == 'train' else 'inference'} img/s, batch {batch}"
                vals = f"{rate['cnnlab']:,.0f} | {rate['torch']:,.0f} | {ratio:.2f}×"
                ort = (f"{rate['onnxruntime']:,.0f} | {rate['cnnlab'] / rate['onnxruntime']:.2f}×"
                       if "onnxruntime" in rate else " | ")
            pct = 100 * rate["cnnlab"] * (train_f if kind == "train" else infer_f) / limit
            rows.append(f"| {name} | {what} | {vals} | {ort} | {pct:.1f}% | {spread} |")
    for name, res in epochs.items():
        e = {lib: [r["img_s"] for r in v] for lib, v in res.items()}
        rss = {lib: max(r["peak_rss_mb"] for r in v) for lib, v in res.items()}
        rows.append(f"| {name} | one Fashion-MNIST epoch with the library's DataLoader, img/s | {med(e['cnnlab']):,.0f} | "
                    f"{med(e['torch']):,.0f} | {med(e['cnnlab']) / med(e['torch']):.2f}× | | | | "
                    f"{min(e['cnnlab']):,.0f}–{max(e['cnnlab']):,.0f} / {min(e['torch']):,.0f}–{max(e['torch']):,.0f} |")
        rows.append(f"| {name} | peak RSS of that epoch's process, MB | {rss['cnnlab']:,.0f} | {rss['torch']:,.0f} | "
                    f"{rss['cnnlab'] / rss['torch']:.2f}× | | | | |")
        acc = {lib: statistics.mean(r["accuracy"] for r in v) for lib, v in res.items()}
        rows.append(f"| {name} | test accuracy after that epoch (mean over rounds) | {100 * acc['cnnlab']:.2f}% | "
                    f"{100 * acc['torch']:.2f}% | {100 * (acc['cnnlab'] - acc['torch']):+.2f} pt | | | | |")
    flop_lines = ", ".join(f"{n} {t / 1e6:.2f} / {i / 1e6:.2f}" for n, (t, i) in flops.items())
    notes = (f"NumPy sgemm limit (1024², 2 threads, median of {len(gemm)} measurements in this run): "
             f"{med(gemm):.0f} GFLOP/s. FLOPs per image, training / inference, in MFLOP: {flop_lines}.")
    return head + "\n" + "\n".join(rows) + "\n\n" + notes


def write_section(text_block: str, path: Path) -> None:
    section = "## Models\n\n" + text_block + "\n"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find("## Models")
    if start == -1:
        head_end = text.find("\n## ")
        text = (text[:head_end + 1] + section + text[head_end:]) if head_end != -1 else text.rstrip() + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[nxt:] if nxt != -1 else "")
    path.write_text(text)


def describe(args, seconds: float) -> str:
    import numpy as np
    import onnxruntime
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        "`python benchmarks/bench.py` (`make bench`). Model compute only: the same pre-loaded random "
        "batches in every library; training is forward, cross-entropy (AlexNet's stack: the output's "
        "sum), backward and SGD with momentum; inference is eval mode without a graph. Each library "
        f"runs in a fresh process with its own defaults on {THREADS} threads, {args.rounds} interleaved "
        "round(s); every cell is the median over the rounds, the spread is min–max (img/s, or µs for "
        "latency). cnnlab / torch above 1 means cnnlab is faster. onnxruntime runs the torch twin "
        "exported with `torch.onnx.export(dynamo=False)`. \"% of limit\": cnnlab's rate times the FLOPs "
        "per image (from `cnnlab.summary`) over NumPy's sgemm rate measured in the same run. The epoch "
        "rows train one epoch of the real Fashion-MNIST training set (batch 64, shuffled) with each "
        "library's own DataLoader, one fresh process per library and round; RSS covers the whole "
        "process, data included.\n\n"
        f"Machine: {cpu}, {os.cpu_count()} cores visible (shared with other jobs). Python "
        f"{platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}, onnxruntime "
        f"{onnxruntime.__version__}. Run of {time.strftime('%Y-%m-%d %H:%M')}"
        f"{' (--quick: one round, 10,000 images in the epoch rows; rough numbers)' if args.quick else ''}; the benchmark took {seconds:.0f} s."
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3; --quick: 1)")
    p.add_argument("--quick", action="store_true", help="one round, less work per cell, one epoch row")
    p.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "compute":
            res = worker_compute(rest[0], json.loads(rest[1]))
        elif kind == "epoch":
            res = worker_epoch(rest[0], rest[1], rest[2], int(rest[3]))
        else:
            res = worker_sgemm()
        print(json.dumps(res))
        return 0
    if args.quick and "--rounds" not in (argv or sys.argv):
        args.rounds = 1
    t_start = time.perf_counter()
    plan, flops = make_plan(args.quick)
    spec = json.dumps(plan)
    rounds, gemm = [], []
    for r in range(args.rounds):
        order = LIBS if r % 2 == 0 else LIBS[::-1]
        res = {}
        gemm.append(run_worker(["sgemm"])["gflops"])
        for lib in order:
            res[lib] = run_worker(["compute", lib, spec])
            print(f"round {r + 1} {lib}: done ({time.perf_counter() - t_start:.0f} s)", flush=True)
        rounds.append(res)
    epochs: dict = {}
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as tmp:
        prepare_epoch_data(Path(tmp))
        for r in range(1 if args.quick else args.rounds):
            for name in EPOCH_MODELS[:1] if args.quick else EPOCH_MODELS:
                for lib in ("cnnlab", "torch") if r % 2 == 0 else ("torch", "cnnlab"):
                    out = run_worker(["epoch", lib, name, tmp, "10000" if args.quick else "0"])
                    epochs.setdefault(name, {}).setdefault(lib, []).append(out)
                    print(f"epoch {name} {lib}: {out['img_s']:,.0f} img/s, {out['peak_rss_mb']:,.0f} MB", flush=True)
    gemm.append(run_worker(["sgemm"])["gflops"])
    tables = build_tables(rounds, epochs, gemm, flops, plan)
    block = describe(args, time.perf_counter() - t_start) + "\n\n" + tables
    print("\n" + block)
    if not args.no_write:
        write_section(block, ROOT / "BENCHMARKS.md")
        print(f"\nwrote the tables into {ROOT / 'BENCHMARKS.md'} (## Models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
