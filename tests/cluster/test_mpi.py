"""`mpirun -n 2 cnnlab train ... --distributed`: two ranks train what one process trains with
the same global batch (within float32 rounding over a few hundred steps), resume exactly,
and fail in one line naming the rank. Open MPI over loopback (shared memory), as root in CI."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from cnnlab.checkpoint import read_checkpoint
from cnnlab.cli import main

pytest.importorskip("mpi4py")
MPIRUN = shutil.which("mpirun")
needs_mpirun = pytest.mark.skipif(MPIRUN is None, reason="Open MPI's mpirun is not installed (apt openmpi-bin)")

# What Open MPI needs in a root CI container on 2 cores: run as root, more ranks than cores,
# the shared-memory and self transports only (nothing leaves the machine).
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_btl": "self,vader",
           "OMPI_MCA_rmaps_base_oversubscribe": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# iris: 120 training samples in batches of 7 = 17 full batches (shards of 4 and 3) and one of
# 1 sample (rank 1's shard is empty); 15 epochs = 270 steps.
IRIS = ["iris-mlp", "--data", "iris", "--batch-size", "7", "--lr", "0.05",
        "--optimizer", "sgd", "--momentum", "0.9", "--seed", "4", "--no-progress"]


def mpirun(n, *args, timeout=240, mpmd=None):
    env = {**os.environ, **MPI_ENV, "PYTHONPATH": os.getcwd()}
    ranks = mpmd or [[*map(str, args)]]
    cmd = [MPIRUN, "-q", "--oversubscribe"]  # -q: no banners of mpirun's own around our one line
    for i, argv in enumerate(ranks):
        cmd += ([":"] if i else []) + ["-n", str(n if mpmd is None else 1), sys.executable, "-m", "cnnlab", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def weights(run):
    arrays, meta = read_checkpoint(os.path.join(run, "checkpoint.safetensors"))
    # the weights and optimizer state (the history is compared through metrics.jsonl)
    return {k: v for k, v in arrays.items() if not k.startswith("extra")}, meta


@needs_mpirun
@pytest.mark.slow  # 270 steps on 2 ranks and on 1 process, plus mpirun's start: ≈ 30 s
def test_two_ranks_train_what_one_process_trains_with_the_same_global_batch(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    r = mpirun(2, "train", *IRIS, "--epochs", "15", "--out", tmp_path / "two", "--distributed")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("run directory:") == 1  # rank 0 alone reports and writes
    assert main(["train", *IRIS, "--epochs", "15", "--out", str(tmp_path / "one")]) == 0
    two, meta2 = weights(tmp_path / "two")
    one, meta1 = weights(tmp_path / "one")
    assert meta2["extra"]["step"] == meta1["extra"]["step"] == 270
    assert two.keys() == one.keys()
    for k in one:
        if one[k].dtype.kind == "f":
            np.testing.assert_allclose(two[k], one[k], rtol=2e-4, atol=2e-5, err_msg=k)
    info = json.loads((tmp_path / "two" / "run.json").read_text())
    assert info["distributed"] == {"ranks": 2, "global_batch_size": 7, "sync_batchnorm": False, "backend": "MPI"}
    test1 = json.loads((tmp_path / "one" / "run.json").read_text())["test_metrics"]
    assert info["test_metrics"]["loss"] == pytest.approx(test1["loss"], rel=1e-4)
    # the training curves are those of the global batches, not of rank 0's shards
    for name in ("metrics.jsonl", "steps.jsonl"):
        two, one = ([json.loads(x) for x in (tmp_path / d / name).read_text().splitlines()] for d in ("two", "one"))
        assert len(two) == len(one) == (15 if name == "metrics.jsonl" else 270)
        for key in ("train_loss", "train_accuracy") if name == "metrics.jsonl" else ("loss", "accuracy"):
            assert [r[key] for r in two] == pytest.approx([r[key] for r in one], rel=1e-3, abs=1e-5), key


@needs_mpirun
@pytest.mark.slow  # three short 2-rank runs: ≈ 30 s
def test_a_resumed_distributed_run_equals_the_uninterrupted_one(tmp_path):
    args = ["train", *IRIS, "--epochs", "3", "--distributed"]
    assert mpirun(2, *args, "--out", tmp_path / "whole").returncode == 0
    r = mpirun(2, *args, "--out", tmp_path / "cut", "--stop-after", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    assert weights(tmp_path / "cut")[1]["epoch"] == 1
    r = mpirun(2, *args, "--out", tmp_path / "cut", "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    whole, cut = weights(tmp_path / "whole")[0], weights(tmp_path / "cut")[0]
    assert all(np.array_equal(whole[k], cut[k]) for k in whole)
    lines = lambda d: [json.loads(x) for x in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]  # noqa: E731
    keep = ("epoch", "step", "train_loss", "test_loss", "test_accuracy")
    assert [{k: r[k] for k in keep} for r in lines("whole")] == [{k: r[k] for k in keep} for r in lines("cut")]


@needs_mpirun
def test_a_rank_that_fails_mid_run_ends_the_job_in_one_line_naming_it(tmp_path):
    # MPMD: rank 1 gets a learning rate that makes its own weights, and then its loss, blow up.
    base = ["train", *IRIS, "--epochs", "2", "--distributed", "--out", str(tmp_path / "r")]
    r = mpirun(2, mpmd=[base, [*base[:-2], "--lr", "1e30", "--out", str(tmp_path / "r")]], timeout=120)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("cnnlab train: error: rank 1 of 2: training stopped: the loss became"), r.stderr
    assert "Traceback" not in r.stderr


@needs_mpirun
def test_an_error_every_rank_meets_is_said_once(tmp_path):
    r = mpirun(2, "train", "nosuch", "--data", "iris", "--distributed", "--out", tmp_path / "x", timeout=120)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # said by rank 0 alone
    assert r.stderr.startswith("cnnlab train: error: unknown model 'nosuch'"), r.stderr


def test_distributed_outside_mpi_says_how_to_launch(tmp_path, capsys, monkeypatch):
    for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(k, raising=False)
    rc = main(["train", "iris-mlp", "--data", "iris", "--distributed", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and "mpirun -n 2 cnnlab train" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


@needs_mpirun
@pytest.mark.parametrize("mode", ["sync", "local"])
def test_batchnorm_statistics_per_rank_or_synchronised(mode):
    env = {**os.environ, **MPI_ENV, "PYTHONPATH": os.getcwd()}
    job = os.path.join(os.path.dirname(__file__), "mpi_batchnorm_job.py")
    r = subprocess.run([MPIRUN, "-q", "--oversubscribe", "-n", "2", sys.executable, job, mode],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["ranks_equal"]  # both ranks hold the same model (running statistics averaged)
    worst = max(result["max_abs_diff"].values())
    if mode == "sync":  # the global batch's statistics: what one process computes, to float32 rounding
        assert worst < 1e-5, result
    else:  # each rank's shard statistics (as DDP): a different training, visibly
        assert worst > 1e-2, result


def test_gradients_are_averaged_in_place_whatever_their_layout():
    """One Allreduce over a flat buffer, written back into every gradient (a transposed view
    included); a fake 2-rank communicator whose peer holds the same gradients."""
    import cnnlab
    from cnnlab import nn
    from cnnlab.cluster.mpi import DataParallel, GradientAverager
    from cnnlab.train.callbacks import TrainState

    class Peer:  # rank 0 of 2, the other rank's contribution equal to this one's
        calls = 0

        def Get_rank(self):
            return 0

        def Get_size(self):
            return 2

        def Allreduce(self, send, recv, op=None):
            Peer.calls += 1
            recv *= 2

    cnnlab.manual_seed(0)
    m = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    m(cnnlab.randn(6, 5)).sum().backward()
    before = [p.grad.detach().numpy().copy() for p in m.parameters()]
    loader = type("L", (), {"shard_size": 3, "global_size": 6})()  # half the global batch here
    avg = GradientAverager(DataParallel(comm=Peer()), seed=0)
    state = TrainState(model=m, optimizer=None, train_loader=loader, epochs=1)
    avg.on_train_begin(state)
    avg.on_before_step(state)
    assert Peer.calls == 1
    for b, p in zip(before, m.parameters()):
        np.testing.assert_allclose(p.grad.detach().numpy(), b, rtol=1e-6)  # (3/6)·g + (3/6)·g = g
    loader.shard_size = 1  # an uneven shard weighs by its size: 2 · (1/6) · g
    avg.on_before_step(state)
    for b, p in zip(before, m.parameters()):
        np.testing.assert_allclose(p.grad.detach().numpy(), b / 3, rtol=1e-6)


@needs_mpirun
@pytest.mark.slow  # mnist-cnn on 512 Fashion-MNIST images over 2 ranks, then eval/predict/explain: ≈ 25 s
def test_a_distributed_mnist_cnn_run_opens_in_eval_predict_and_explain(tmp_path, capsys):
    from PIL import Image

    from cnnlab import datasets

    run = tmp_path / "cnn"
    r = mpirun(2, "train", "mnist-cnn", "--data", "fashion-mnist", "--epochs", "1", "--limit-train", "512",
               "--limit-test", "200", "--no-progress", "--distributed", "--out", run)
    assert r.returncode == 0, r.stderr[-3000:]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["distributed"]["ranks"] == 2
    assert main(["eval", str(run), "--limit", "200", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"accuracy {100 * info['test_metrics']['accuracy']:.2f}%" in out  # the rank-0 checkpoint, re-scored
    image = tmp_path / "boot.png"
    Image.fromarray(datasets.create("fashion-mnist", train=False).data[0]).save(image)
    assert main(["predict", str(run), str(image), "--topk", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(image) and len(lines) == 4
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from cnnlab.explain import create_app
    from cnnlab.explain.loading import app_kwargs_from_checkpoint

    kwargs, _ = app_kwargs_from_checkpoint(str(run), None)
    client = TestClient(create_app(**kwargs))
    assert client.get("/").status_code == 200
    model = client.get("/api/model").json()
    assert model["model"] == "mnist-cnn" and model["dataset"] == "fashion-mnist" and model["has_run"]
