"""`cnnlab sweep`: the grid × seeds become runs, each row's figures are its runs' own validation
figures, rows are ranked by the metric with mean ± std over seeds, and a Dask sweep gives the
same table as a serial one."""

import json
import os
import statistics
import subprocess
import sys

import pytest

from cnnlab.cli import main
from cnnlab.cluster.sweep import parse_axis

RECIPE = """
name = "iris-tiny"
experiment = "Iris, a tiny sweep"
dataset = "iris"
model = "iris-mlp"
metric = "accuracy"
protocol = "test"
seeds = [0, 1, 2]

[train]
epochs = 3
batch_size = 16
optimizer = "adam"
lr = 0.01
val_split = 0.2
"""


@pytest.fixture
def recipe(tmp_path):
    path = tmp_path / "iris_tiny.toml"
    path.write_text(RECIPE)
    return path


def test_grid_axes_are_typed_by_their_key():
    assert parse_axis("lr=0.01,0.1") == ("lr", [0.01, 0.1])
    assert parse_axis("batch-size=32,64") == ("batch_size", [32, 64])
    assert parse_axis("optimizer=SGD,adam") == ("optimizer", ["sgd", "adam"])
    for bad, piece in [("lr", "KEY=V1"), ("lr=", "no empty"), ("lr=0.1,,0.2", "no empty"),
                       ("nosuch=1", "valid keys: batch_size"), ("batch_size=3.5", "integers"),
                       ("lr=abc", "numbers"), ("lr=0.1,0.1", "repeated")]:
        with pytest.raises(ValueError, match=piece):
            parse_axis(bad)


def _sweep(recipe, out, *extra):
    return main(["sweep", recipe, "--grid", "lr=0.003,0.05", "--grid", "batch_size=8,32", "--seeds", "2",
                 "--out", out, "--runs", out / "runs", *extra])


def test_sweep_ranks_the_grid_by_the_validation_figure_over_seeds(recipe, tmp_path, capsys):
    assert _sweep(recipe, tmp_path) == 0
    table = json.loads((tmp_path / "sweep.json").read_text())
    assert table["metric"] == "val_accuracy" and table["seeds"] == [0, 1]
    rows = table["rows"]
    assert sorted((r["point"]["lr"], r["point"]["batch_size"]) for r in rows) == [
        (0.003, 8), (0.003, 32), (0.05, 8), (0.05, 32)]
    for row in rows:
        tag = f"lr{row['point']['lr']}-batch_size{row['point']['batch_size']}"
        runs = [json.loads((tmp_path / "runs" / f"iris-tiny-{tag}-seed{s}" / "run.json").read_text()) for s in (0, 1)]
        assert [r["config"]["lr"] for r in runs] == [row["point"]["lr"]] * 2  # the point's settings trained
        assert [r["config"]["batch_size"] for r in runs] == [row["point"]["batch_size"]] * 2
        assert [r["config"]["seed"] for r in runs] == [0, 1] and all(r["config"]["epochs"] == 3 for r in runs)
        assert row["values"] == pytest.approx([100 * r["val_metrics"]["accuracy"] for r in runs], rel=1e-12)
        assert row["mean"] == statistics.fmean(row["values"]) and row["std"] == statistics.stdev(row["values"])
    means = [r["mean"] for r in rows]
    assert means == sorted(means, reverse=True)  # accuracy: best first
    md = (tmp_path / "sweep.md").read_text()
    assert "| rank | lr | batch_size | val_accuracy |" in md
    lines = [line for line in md.splitlines() if line.startswith("| 1 |") or line.startswith("| 4 |")]
    assert f"{rows[0]['mean']:.2f} ± {rows[0]['std']:.2f}%" in lines[0]
    assert f"{rows[-1]['mean']:.2f} ± {rows[-1]['std']:.2f}%" in lines[1]
    err = capsys.readouterr().err
    assert "runs: 8/8 finished, 0 running, 0 failed, 0 waiting" in err


def test_a_loss_metric_ranks_lowest_first(recipe, tmp_path, capsys):
    assert main(["sweep", recipe, "--grid", "lr=0.003,0.05", "--seeds", "1", "--metric", "val_loss",
                 "--out", tmp_path, "--runs", tmp_path / "runs"]) == 0
    rows = json.loads((tmp_path / "sweep.json").read_text())["rows"]
    assert rows[0]["mean"] <= rows[1]["mean"] and rows[0]["std"] == 0.0


@pytest.mark.slow  # a local cluster's start and eight short runs: ≈ 20 s
def test_a_sweep_on_dask_gives_the_serial_table(recipe, tmp_path, capsys):
    assert _sweep(recipe, tmp_path / "serial") == 0
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    cmd = [sys.executable, "-m", "cnnlab", "sweep", str(recipe), "--grid", "lr=0.003,0.05", "--grid",
           "batch_size=8,32", "--seeds", "2", "--out", str(tmp_path / "dask"), "--runs", str(tmp_path / "dask/runs"),
           "--cluster", "local:2"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    serial, dask = (json.loads((tmp_path / d / "sweep.json").read_text()) for d in ("serial", "dask"))
    for row in serial["rows"] + dask["rows"]:
        row.pop("train_seconds")
    assert serial == dask


def test_a_failing_point_is_counted_and_the_sweep_still_writes_its_table(recipe, tmp_path, capsys):
    rc = main(["sweep", recipe, "--grid", "lr=0.01,1e30", "--seeds", "1", "--out", tmp_path,
               "--runs", tmp_path / "runs"])
    err = capsys.readouterr().err
    assert rc == 1 and "1 run(s) of 2 failed" in err.strip().splitlines()[-1]
    rows = json.loads((tmp_path / "sweep.json").read_text())["rows"]
    assert [r["point"]["lr"] for r in rows] == [0.01, 1e30]  # the failed point last
    assert rows[1]["failed"] == 1 and rows[1]["mean"] is None and rows[0]["failed"] == 0
    assert "| 2 | 1e+30 | failed |" in (tmp_path / "sweep.md").read_text()
    assert "runs: 1/2 finished, 0 running, 1 failed, 0 waiting" in err
