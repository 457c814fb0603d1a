"""Runs as Dask tasks: the same numbers as the serial runs, bit for bit; a killed worker's task
is run again elsewhere with the same result; the local cluster's BLAS threads per worker.
Everything runs on a LocalCluster over loopback."""

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("distributed")

from cnnlab.checkpoint import read_checkpoint  # noqa: E402
from cnnlab.cluster.dask_runs import blas_environment, parse_cluster  # noqa: E402


def test_cluster_addresses_parse_or_say_what_is_expected():
    cores = os.cpu_count()
    assert parse_cluster("local") == {"kind": "local", "workers": cores, "threads": 1}
    assert parse_cluster("local:2") == {"kind": "local", "workers": 2, "threads": max(cores // 2, 1)}
    assert parse_cluster("local:3x2") == {"kind": "local", "workers": 3, "threads": 2}
    assert parse_cluster("tcp://10.0.0.5:8786") == {"kind": "remote", "address": "tcp://10.0.0.5:8786"}
    for bad in ("local:0", "local:x", "remote", "10.0.0.5:8786", "local:2x0", "http://h:1"):
        with pytest.raises(ValueError, match="local:WORKERS"):
            parse_cluster(bad)


def _cli(*args, timeout=600, env=None):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), **(env or {})}
    r = subprocess.run([sys.executable, "-m", "cnnlab", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def _without_time(markdown: str) -> str:
    """The table with its training-time column blanked (wall-clock time is the one thing that differs)."""
    return re.sub(r"\| \d+ s \|", "| - |", markdown)


@pytest.mark.slow  # two quick recipes, serially and on two local workers: ≈ 60 s on 2 cores
def test_reproduce_on_a_local_cluster_equals_the_serial_table_bit_for_bit(tmp_path):
    # OpenBLAS may round a matrix product differently with another thread count, so the serial
    # reference uses the workers' count (1): then every bit of every run must agree.
    only = ["--only", "iris-mlp", "--only", "fashion-mlp"]
    _cli("reproduce", "--quick", *only, "--out", tmp_path / "serial", "--runs", tmp_path / "serial/runs",
         "--threads", "1")
    r = _cli("reproduce", "--quick", *only, "--out", tmp_path / "dask", "--runs", tmp_path / "dask/runs",
             "--cluster", "local:2x1")
    assert "runs: 18/18 finished, 0 running, 0 failed, 0 waiting" in r.stderr
    serial = json.loads((tmp_path / "serial/reproduce.json").read_text())
    dask = json.loads((tmp_path / "dask/reproduce.json").read_text())
    for a, b in zip(serial, dask, strict=True):
        a.pop("train_seconds"), b.pop("train_seconds")
        assert a == b  # floats compared exactly: the same bits
    assert _without_time((tmp_path / "serial/reproduce.md").read_text()) == \
        _without_time((tmp_path / "dask/reproduce.md").read_text())
    # The run directories came back from the workers whole: the same weights, files and latest marker.
    runs = sorted(p.name for p in (tmp_path / "serial/runs").iterdir())
    assert runs == sorted(p.name for p in (tmp_path / "dask/runs").iterdir()) and len(runs) == 19
    for name in runs:
        if name == "latest":
            continue
        files = sorted(p.name for p in (tmp_path / "serial/runs" / name).iterdir())
        assert files == sorted(p.name for p in (tmp_path / "dask/runs" / name).iterdir())
        w1, _ = read_checkpoint(tmp_path / "serial/runs" / name / "checkpoint.safetensors")
        w2, _ = read_checkpoint(tmp_path / "dask/runs" / name / "checkpoint.safetensors")
        assert w1.keys() == w2.keys() and all(np.array_equal(w1[k], w2[k], equal_nan=True) for k in w1)


@pytest.mark.slow  # a local cluster's start and one short training: ≈ 15 s
def test_a_worker_killed_mid_run_has_its_task_rerun_with_the_same_result(tmp_path):
    from cnnlab.cluster.dask_runs import run_on_dask
    from cnnlab.cluster.progress import SweepDisplay
    from cnnlab.reproduce.runner import Job, run_job
    from cnnlab.train.session import TrainConfig

    cfg = TrainConfig(model="iris-mlp", data="iris", epochs=40, batch_size=8, optimizer="adam", lr=0.01,
                      seed=3, fold=1, folds=5, val_split=0.0)
    job = Job(key="iris-killed", cfg=cfg, group="iris", seed=3, fold=1)
    killed = []

    class KillOnce(SweepDisplay):
        def event(self, msg):
            super().event(msg)
            if msg.get("event") == "epoch" and msg["epoch"] == 3 and not killed:
                killed.append(self.runs[msg["key"]]["pid"])
                os.kill(killed[0], signal.SIGKILL)  # the worker process that runs the task

    display = KillOnce([job.key], tty=False)
    results = run_on_dask([job], str(tmp_path / "dask"), "local:2x1", log=None, display=display)
    assert killed and display.runs[job.key]["starts"] == 2  # started, killed, started again elsewhere
    assert display.runs[job.key]["pid"] != killed[0]
    here = run_job(job, str(tmp_path / "here"))
    assert results[job.key].test == here.test
    w1, _ = read_checkpoint(tmp_path / "dask" / job.key / "checkpoint.safetensors")
    w2, _ = read_checkpoint(tmp_path / "here" / job.key / "checkpoint.safetensors")
    assert all(np.array_equal(w1[k], w2[k]) for k in w1)


@pytest.mark.slow  # a local cluster's start: ≈ 10 s
def test_local_workers_get_cores_over_workers_blas_threads():
    from threadpoolctl import threadpool_info

    from cnnlab.cluster.dask_runs import connect

    def blas_threads():
        return sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})

    client, cluster = connect("local:2x1")
    try:
        assert list(client.run(blas_threads).values()) == [[1], [1]]
        pids = client.run(os.getpid)
        assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()  # processes, not threads
        assert all(w.nthreads == 1 for w in cluster.workers.values())
    finally:
        client.close()
        cluster.close()
    assert blas_environment(3)["OPENBLAS_NUM_THREADS"] == "3"
