"""Training benchmark: the lecture's mnist-cnn and mnist-mlp on Fashion-MNIST, cnnlab vs torch.

Same recipe in both libraries: batch 64, SGD lr 0.01 momentum 0.9, the same preprocessed
arrays (ToTensor + Normalize with the training statistics), the same shuffling order, 2 threads.

Measured:
* steady-state training images/s and inference images/s at batch 256: both libraries in one
  process, interleaved round by round (median of rounds), pure compute on pre-sliced batches;
* one full epoch with each library's own DataLoader, the test accuracy after it, inference
  images/s at batch 256 and the peak RSS: every (library, model, seed) in its own subprocess,
  so one library's memory (and allocator settings) never counts for the other; mnist-cnn's
  figures are the mean over 3 seeds.

Writes the table into BENCHMARKS.md (section ``## Training``) unless ``--no-write``.

Usage:
    python benchmarks/train.py [--seeds 3] [--rounds 7] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
THREADS = "2"
BATCH, LR, MOMENTUM = 64, 0.01, 0.9
MODELS = ("mnist-cnn", "mnist-mlp")


# ------------------------------------------------------------------ models
def torch_model(name: str):
    import torch.nn as tnn

    if name == "mnist-cnn":
        class Net(tnn.Module):
            def __init__(self):
                super().__init__()
                self.conv1, self.conv2 = tnn.Conv2d(1, 16, 5), tnn.Conv2d(16, 24, 5)
                self.relu, self.pool, self.flatten = tnn.ReLU(), tnn.MaxPool2d(2, 2), tnn.Flatten()
                self.fc1, self.fc2, self.dropout = tnn.Linear(384, 64), tnn.Linear(64, 10), tnn.Dropout(0.5)

            def forward(self, x):
                x = self.pool(self.relu(self.conv1(x)))
                x = self.pool(self.relu(self.conv2(x)))
                return self.fc2(self.dropout(self.relu(self.fc1(self.flatten(x)))))

        return Net()
    return tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 128), tnn.ReLU(), tnn.Linear(128, 64), tnn.ReLU(),
                          tnn.Linear(64, 10))


class Lib:
    """The few calls the benchmark needs, for one library."""

    def __init__(self, name: str):
        self.name = name
        if name == "torch":
            import torch

            torch.set_num_threads(int(THREADS))
            self.m = torch
        else:
            import cnnlab

            self.m = cnnlab

    def seed(self, s):
        self.m.manual_seed(s)

    def model(self, name):
        return torch_model(name) if self.name == "torch" else self.m.models.create(name)

    def sgd(self, model):
        return self.m.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def tensor(self, a):
        return self.m.from_numpy(a)

    def cross_entropy(self, out, y):
        return self.m.nn.functional.cross_entropy(out, y)

    def no_grad(self):
        return self.m.no_grad()

    def loader(self, x, y, batch, shuffle_seed=None):
        """The library's own DataLoader; the order comes from one NumPy permutation per epoch."""
        import numpy as np

        order = np.random.default_rng(shuffle_seed).permutation(len(x)) if shuffle_seed is not None else None
        if order is not None:
            x, y = x[order], y[order]  # same order for both libraries (torch's RNG differs from ours)
        if self.name == "torch":
            from torch.utils.data import DataLoader, TensorDataset

            return DataLoader(TensorDataset(self.m.from_numpy(x), self.m.from_numpy(y)), batch_size=batch)
        from cnnlab.utils.data import DataLoader, TensorDataset

        return DataLoader(TensorDataset(x, y), batch_size=batch)


def train_step(lib, model, opt, x, y):
    out = model(x)
    loss = lib.cross_entropy(out, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def accuracy(lib, model, loader) -> float:
    model.eval()
    correct = total = 0
    with lib.no_grad():
        for x, y in loader:
            pred = model(x).argmax(1)
            correct += int((pred == y).sum().item())
            total += len(y)
    model.train()
    return correct / total


# ------------------------------------------------------------------ workers
def load_arrays(data_dir: Path):
    import numpy as np

    return [np.load(data_dir / f"{k}.npy") for k in ("x_train", "y_train", "x_test", "y_test")]


def worker_epoch(lib_name: str, model_name: str, seed: int, data_dir: Path) -> dict:
    """One epoch + test accuracy + inference speed in a fresh process; reports its peak RSS."""
    lib = Lib(lib_name)
    x, y, xt, yt = load_arrays(data_dir)
    lib.seed(seed)
    model = lib.model(model_name)
    opt = lib.sgd(model)
    model.train()
    t0 = time.perf_counter()
    for xb, yb in lib.loader(x, y, BATCH, shuffle_seed=seed):
        train_step(lib, model, opt, xb, yb)
    epoch_s = time.perf_counter() - t0
    acc = accuracy(lib, model, lib.loader(xt, yt, 256))
    return {"lib": lib_name, "model": model_name, "seed": seed, "epoch_s": epoch_s,
            "epoch_img_s": len(x) / epoch_s, "test_accuracy": acc, "infer_img_s": inference_speed(lib, model, xt),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def inference_speed(lib, model, x, batch: int = 256, rounds: int = 5) -> float:
    """Images/s of eval-mode forwards without a graph: the best of ``rounds`` passes over 10 batches."""
    batches = [lib.tensor(x[i:i + batch]) for i in range(0, 10 * batch, batch)]
    model.eval()
    best = float("inf")
    with lib.no_grad():
        model(batches[0])  # warm-up
        for _ in range(rounds):
            t0 = time.perf_counter()
            for xb in batches:
                model(xb)
            best = min(best, time.perf_counter() - t0)
    return len(batches) * batch / best


def worker_steady(model_name: str, data_dir: Path, rounds: int) -> dict:
    """Both libraries in one process, interleaved: training steps and batch-256 inference."""
    import numpy as np

    x, y, _, _ = load_arrays(data_dir)
    libs = [Lib("cnnlab"), Lib("torch")]
    state = {}
    for lib in libs:
        lib.seed(0)
        model = lib.model(model_name)
        batches = [(lib.tensor(x[i:i + BATCH]), lib.tensor(y[i:i + BATCH])) for i in range(0, 40 * BATCH, BATCH)]
        infer = [lib.tensor(x[i:i + 256]) for i in range(0, 10 * 256, 256)]
        state[lib.name] = (lib, model, lib.sgd(model), batches, infer)
        for xb, yb in batches[:5]:  # warm-up: first-touch allocations, BLAS thread start
            train_step(lib, model, state[lib.name][2], xb, yb)
    train = {n: [] for n in state}
    infer = {n: [] for n in state}
    for _ in range(rounds):
        for name, (lib, model, opt, batches, inf) in state.items():
            model.train()
            t0 = time.perf_counter()
            for xb, yb in batches[5:25]:
                train_step(lib, model, opt, xb, yb)
            train[name].append(20 * BATCH / (time.perf_counter() - t0))
            model.eval()
            with lib.no_grad():
                t0 = time.perf_counter()
                for xb in inf:
                    model(xb)
                infer[name].append(len(inf) * 256 / (time.perf_counter() - t0))
    # Full epochs with each library's DataLoader, back to back so both see the same machine load.
    epoch = {}
    for name, (lib, _, _, _, _) in state.items():
        lib.seed(0)
        model = lib.model(model_name)
        opt = lib.sgd(model)
        t0 = time.perf_counter()
        for xb, yb in lib.loader(x, y, BATCH, shuffle_seed=0):
            train_step(lib, model, opt, xb, yb)
        epoch[name] = len(x) / (time.perf_counter() - t0)
    return {"model": model_name, "epoch_img_s": epoch,
            "train_img_s": {n: statistics.median(v) for n, v in train.items()},
            "infer_img_s": {n: statistics.median(v) for n, v in infer.items()},
            "rounds": rounds, "spread": {n: [round(min(v)), round(max(v))] for n, v in train.items()}}


def run_worker(args: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=THREADS, OPENBLAS_NUM_THREADS=THREADS, MKL_NUM_THREADS=THREADS,
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- parent
def prepare_data(out: Path) -> None:
    """Fashion-MNIST as float32 arrays, preprocessed once by cnnlab's recipe (shared by both)."""
    import numpy as np

    from cnnlab import datasets
    from cnnlab.train.recipe import dataset_arrays, fit_preprocess

    train, test = datasets.create("fashion-mnist", train=True), datasets.create("fashion-mnist", train=False)
    pre = fit_preprocess(train.data)
    x, y = dataset_arrays(train, pre, "classification")
    xt, yt = dataset_arrays(test, pre, "classification")
    for k, v in {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}.items():
        np.save(out / f"{k}.npy", v)


def mean(values):
    return sum(values) / len(values)


def build_table(steady: dict, epochs: list[dict], seeds: int) -> str:
    rows = []
    head = ("| model | measure | cnnlab | torch | cnnlab / torch | target |\n"
            "|---|---|---:|---:|---:|---|")
    for model in MODELS:
        s = steady[model]
        e = {lib: [r for r in epochs if r["model"] == model and r["lib"] == lib] for lib in ("cnnlab", "torch")}
        tr, inf = s["train_img_s"], s["infer_img_s"]
        ep = s["epoch_img_s"]
        rss = {lib: max(r["peak_rss_mb"] for r in e[lib]) for lib in e}
        own = {lib: mean([r["epoch_img_s"] for r in e[lib]]) for lib in e}
        own_inf = {lib: mean([r["infer_img_s"] for r in e[lib]]) for lib in e}
        acc = {lib: mean([r["test_accuracy"] for r in e[lib]]) for lib in e}
        n = len(e["cnnlab"])
        rows += [
            f"| {model} | training img/s, steady state (median of {s['rounds']} interleaved rounds) | "
            f"{tr['cnnlab']:,.0f} | {tr['torch']:,.0f} | {tr['cnnlab'] / tr['torch']:.2f}× | ≥ 0.5× |",
            f"| {model} | training img/s, one full epoch with each library's DataLoader, back to back | "
            f"{ep['cnnlab']:,.0f} | {ep['torch']:,.0f} | {ep['cnnlab'] / ep['torch']:.2f}× | ≥ 0.5× |",
            f"| {model} | training img/s, one full epoch in a fresh process per library (mean of {len(e['cnnlab'])}) | "
            f"{own['cnnlab']:,.0f} | {own['torch']:,.0f} | {own['cnnlab'] / own['torch']:.2f}× | ≥ 0.5× |",
            f"| {model} | inference img/s, batch 256, interleaved | {inf['cnnlab']:,.0f} | {inf['torch']:,.0f} | "
            f"{inf['cnnlab'] / inf['torch']:.2f}× | |",
            f"| {model} | inference img/s, batch 256, fresh process per library (best of 5, mean of {len(e['cnnlab'])}) | "
            f"{own_inf['cnnlab']:,.0f} | {own_inf['torch']:,.0f} | {own_inf['cnnlab'] / own_inf['torch']:.2f}× | |",
            f"| {model} | peak RSS of the whole process, MB | {rss['cnnlab']:,.0f} | {rss['torch']:,.0f} | "
            f"{rss['cnnlab'] / rss['torch']:.2f}× | ≤ 2× |",
            f"| {model} | test accuracy after 1 epoch (mean of {n} seed{'s' if n > 1 else ''}) | "
            f"{100 * acc['cnnlab']:.2f}% | {100 * acc['torch']:.2f}% | "
            f"{100 * (acc['cnnlab'] - acc['torch']):+.2f} pt | {'within 1 pt' if model == 'mnist-cnn' else ''} |",
        ]
    per_seed = ", ".join(f"{r['lib']} seed {r['seed']}: {100 * r['test_accuracy']:.2f}%"
                         for r in epochs if r["model"] == "mnist-cnn")
    return "\n".join([head, *rows]) + f"\n\nmnist-cnn accuracy per seed: {per_seed}."


def write_section(table: str, meta: str, path: Path) -> None:
    section = (
        "## Training\n\n"
        "`python benchmarks/train.py` — the lecture's mnist-cnn and mnist-mlp on Fashion-MNIST, cnnlab "
        "against torch 2.13 with the same recipe: batch 64, SGD lr 0.01 momentum 0.9, inputs scaled to "
        "[0, 1] and normalized with the training mean/std, the same shuffled order, 2 threads "
        "(torch.set_num_threads(2), OPENBLAS_NUM_THREADS=2). Importing cnnlab raises glibc's mmap/trim "
        "thresholds (`cnnlab/_allocator.py`), so a process with cnnlab in it keeps freed buffers; a torch-only "
        "worker runs with glibc's defaults. Steady-state "
        "and inference speeds come from one process that alternates the two libraries round by round "
        "(the machine is shared, so only these interleaved ratios are reliable), followed by one full "
        "epoch of each library back to back; accuracy and peak RSS come from one fresh subprocess per "
        "library, model and seed (RSS includes the "
        "Python interpreter, the imported library and the 220 MB of float32 data both load).\n\n"
        f"{table}\n\n{meta}\n"
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = text.find("## Training")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[nxt + 1:] if nxt != -1 else "")
    path.write_text(text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3, help="seeds for mnist-cnn's accuracy (default 3)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds for steady state (default 7)")
    p.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "epoch":
            res = worker_epoch(rest[0], rest[1], int(rest[2]), Path(rest[3]))
        else:
            res = worker_steady(rest[0], Path(rest[1]), int(rest[2]))
        print(json.dumps(res))
        return 0

    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as tmp:
        data = Path(tmp)
        prepare_data(data)
        steady = {}
        for model in MODELS:
            steady[model] = run_worker(["steady", model, str(data), str(args.rounds)])
            print(f"{model} steady state: {json.dumps(steady[model])}", flush=True)
        epochs = []
        for model in MODELS:
            for seed in range(args.seeds if model == "mnist-cnn" else 1):
                for lib in ("cnnlab", "torch"):  # alternate libraries so drifting load hits both
                    r = run_worker(["epoch", lib, model, str(seed), str(data)])
                    print(f"{model} {lib} seed {seed}: {json.dumps(r)}", flush=True)
                    epochs.append(r)
    table = build_table(steady, epochs, args.seeds)
    import numpy as np
    import torch

    meta = (f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({os.cpu_count()} cores shared with "
            f"other jobs), Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}; "
            f"the benchmark took {time.perf_counter() - t_start:.0f} s.")
    print("\n" + table + "\n\n" + meta)
    if not args.no_write:
        write_section(table, meta, ROOT / "BENCHMARKS.md")
        print(f"\nwrote the table into {ROOT / 'BENCHMARKS.md'} (## Training)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
