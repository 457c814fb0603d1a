"""A disk that fills up during training: the run stops with one line and exit code 1, the
previous checkpoint and best.safetensors stay whole, no temporary file is left, and once there
is room again ``--resume`` finishes the run with every record an uninterrupted run has.

The disk is a 300 KiB tmpfs (mounting one needs root; elsewhere the test is skipped, saying so)."""

import json
import os
import subprocess

import pytest

from cnnlab.checkpoint import read_checkpoint
from cnnlab.cli import main

PAGE = 4096
ARGS = ["train", "iris-mlp", "--data", "iris", "--epochs", "4", "--val-split", "0.2", "--batch-size", "16",
        "--lr", "0.05", "--no-progress"]


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                           capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("no `mount` command here: cannot make a small tmpfs to fill")
    if r.returncode != 0:
        pytest.skip(f"cannot mount a 300 KiB tmpfs (needs root with CAP_SYS_ADMIN): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def fill(disk, leave_pages: int):
    """Fill ``disk`` but for ``leave_pages`` pages; returns the filler file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * PAGE)
        except OSError:
            pass
    os.truncate(filler, max(filler.stat().st_size - leave_pages * PAGE, 0) // PAGE * PAGE)
    return filler


def strip(path):
    return [{k: v for k, v in json.loads(line).items() if k not in ("time_s", "train_images_per_s")}
            for line in path.read_text().splitlines()]


def test_a_full_disk_keeps_the_last_checkpoint_and_best_and_says_so_in_one_line(small_disk, tmp_path, capsys):
    runs = ["--runs-root", str(tmp_path / "runs")]
    assert main([*ARGS, "--out", str(tmp_path / "ref"), *runs]) == 0
    out = small_disk / "run"
    assert main([*ARGS, "--out", str(out), *runs, "--stop-after", "2"]) == 0
    capsys.readouterr()
    checkpoint, best = (out / "checkpoint.safetensors").read_bytes(), (out / "best.safetensors").read_bytes()
    pages = -(-len(checkpoint) // PAGE)
    assert pages >= 3, "the checkpoint must need more room than the logs for this test to aim at it"

    # No room at all, then room for every file but the checkpoint.
    for leave, fails_on in ((0, None), (pages - 1, "checkpoint.safetensors")):
        filler = fill(small_disk, leave)
        rc = main(["train", "iris-mlp", "--data", "iris", "--out", str(out), "--resume", "--no-progress", *runs])
        err = capsys.readouterr().err
        assert rc == 1, err
        assert len(err.strip().splitlines()) == 1 and "No space left on device" in err and "Traceback" not in err
        if fails_on:
            assert fails_on in err and "previous version of the file is unchanged" in err
        assert (out / "checkpoint.safetensors").read_bytes() == checkpoint
        assert (out / "best.safetensors").read_bytes() == best
        assert read_checkpoint(out / "best.safetensors")[1]["epoch"] <= 2
        assert not list(out.glob(".*.tmp"))
        filler.unlink()

    assert main(["train", "iris-mlp", "--data", "iris", "--out", str(out), "--resume", "--no-progress", *runs]) == 0
    assert strip(out / "metrics.jsonl") == strip(tmp_path / "ref" / "metrics.jsonl")
    assert (out / "steps.jsonl").read_text() == (tmp_path / "ref" / "steps.jsonl").read_text()
