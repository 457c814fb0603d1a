"""A training run killed at any point (in the middle of a batch, while writing the checkpoint or
best.safetensors, between the checkpoint's rename and the metrics line, in the middle of that
line) and resumed ends with the files of an uninterrupted run: same weights, same best model,
same metrics.jsonl and steps.jsonl, every file readable, no temporary file left.

Each kill is a SIGKILL the training process sends itself at a chosen event; the events are
injected by a small wrapper around ``cnnlab train`` (below), so the library carries no test hook.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.checkpoint import read_checkpoint

pytestmark = pytest.mark.slow

# Runs `cnnlab train ARGS`, killing itself (SIGKILL) at the event CRASH names:
#   torn:FILE:N    the N-th atomic write of FILE stops halfway through its temporary file
#   after:FILE:N   just after the N-th atomic write of FILE was renamed into place
#   append:FILE:N  halfway through the N-th line appended to FILE (metrics.jsonl)
#   batch:-:N      at the N-th training batch
WRAPPER = r'''
import json, os, signal, sys, tempfile
from pathlib import Path
kind, target, n = os.environ["CRASH"].split(":")
count = [0]

def hit(name):
    if name == target or kind == "batch":
        count[0] += 1
        return count[0] == int(n)
    return False

def die():
    os.kill(os.getpid(), signal.SIGKILL)

import cnnlab.checkpoint as ck
from cnnlab.train import loop, run_dir
real_write, real_append, real_split = ck.atomic_write_bytes, run_dir.MetricsLog.append, loop._split_batch

def write(path, data):
    path = Path(path)
    if kind in ("torn", "after") and hit(path.name):
        if kind == "torn":
            fd, _ = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.write(fd, data[: len(data) // 2])
            die()
        real_write(path, data)
        die()
    real_write(path, data)

def append(self, record):
    if kind == "append" and hit(self.path.name):
        with open(self.path, "a") as f:
            f.write(json.dumps(run_dir._clean(record))[:40])
        die()
    real_append(self, record)

def split(batch, where):
    if kind == "batch" and where == "fit" and hit("-"):
        die()
    return real_split(batch, where)

ck.atomic_write_bytes, run_dir.MetricsLog.append, loop._split_batch = write, append, split
from cnnlab.cli import main
sys.exit(main(sys.argv[1:]))
'''

ARGS = ["mnist-mlp", "--data", "mnist10k", "--epochs", "5", "--limit-train", "360", "--limit-test", "100",
        "--batch-size", "32", "--lr", "0.05", "--scheduler", "cosine", "--no-progress"]


def train(out: Path, crash: str | None, resume: bool):
    env = {**os.environ, "CRASH": crash or "none:-:0"}
    extra = ["--resume"] if resume else ["--force", *ARGS[1:]]
    cmd = [sys.executable, "-c", WRAPPER, "train", ARGS[0], "--data", "mnist10k", "--out", str(out),
           "--runs-root", str(out.parent / "runs"), *extra]
    if resume:
        cmd += ["--no-progress"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def strip(records):
    return [{k: v for k, v in r.items() if k not in ("time_s", "train_images_per_s")} for r in records]


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def arrays(path):
    data, meta = read_checkpoint(path)
    return data, meta


# The kills, in order: each run resumes what the one before left. The validation accuracy
# improves at epoch 3, so that epoch writes best.safetensors (checked on the reference run).
CRASHES = [
    "batch:-:4",                        # epoch 1, before any checkpoint: starts again from scratch
    "torn:best.safetensors:1",          # epoch 1 checkpointed, its best copy half written
    "torn:checkpoint.safetensors:1",    # epoch 2's checkpoint half written (after best was repaired)
    "append:metrics.jsonl:1",           # epoch 2 checkpointed, its metrics line half written
    "after:checkpoint.safetensors:1",   # epoch 3 checkpointed; its best copy and records never written
    "batch:-:7",                        # epoch 4, mid-way
]


def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    ref = tmp_path / "ref"
    done = train(ref, None, resume=False)
    assert done.returncode == 0, done.stderr
    # the epoch best.safetensors holds when epoch 3's copy was never written: the best of 1 and 2
    # by validation accuracy, the first of equals (as BestModel picks), read from the reference run
    val = {r["epoch"]: r["val_accuracy"] for r in lines(ref / "metrics.jsonl")}
    best_before_3 = 2 if val[2] > val[1] else 1
    assert val[3] > val[best_before_3], "the run must improve at epoch 3 for the repair case to arise"
    out = tmp_path / "run"
    for crash in CRASHES:
        resume = (out / "checkpoint.safetensors").is_file() and (out / "run.json").is_file()
        r = train(out, crash, resume)
        assert r.returncode == -signal.SIGKILL, f"{crash}: the kill never came ({r.returncode}): {r.stderr}"
        if (out / "checkpoint.safetensors").exists():
            _, meta = arrays(out / "checkpoint.safetensors")  # whatever the kill, the checkpoint loads
            if crash.startswith("after:checkpoint"):  # the case resume must repair: best one epoch behind
                assert meta["extra"]["best_epoch"] == meta["epoch"] == 3
                assert arrays(out / "best.safetensors")[1]["epoch"] == best_before_3
                assert [r["epoch"] for r in lines(out / "metrics.jsonl")] == [1, 2]
    r = train(out, None, resume=True)
    assert r.returncode == 0, r.stderr

    assert not list(out.glob(".*.tmp")), "temporary files left behind"
    assert strip(lines(out / "metrics.jsonl")) == strip(lines(ref / "metrics.jsonl"))
    assert (out / "steps.jsonl").read_text() == (ref / "steps.jsonl").read_text()
    for name in ("checkpoint.safetensors", "best.safetensors"):
        (got, got_meta), (want, want_meta) = arrays(out / name), arrays(ref / name)
        assert got_meta["epoch"] == want_meta["epoch"] and got.keys() == want.keys(), name
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=f"{name}: {key}")
    for png in ("loss.png", "accuracy.png", "confusion.png"):
        Image.open(out / png).load()
    info = json.loads((out / "run.json").read_text())
    want = json.loads((ref / "run.json").read_text())["test_metrics"]
    assert info["status"] == "finished"
    assert {k: v for k, v in info["test_metrics"].items() if k != "images_per_s"} == \
           {k: v for k, v in want.items() if k != "images_per_s"}
