"""``app_kwargs_from_checkpoint``: the Filters tab's snapshots belong to the checkpoint explained.

``best.safetensors`` can be older than the run's last epoch; its snapshots stop at its epoch, so
the slider's last frame is the model the page explains. A filters.npz that does not match the
checkpoint gives no slider and a note, not frames of another model."""

from __future__ import annotations

import numpy as np

import cnnlab
from cnnlab.checkpoint import read_checkpoint, save_checkpoint
from cnnlab.cli import main
from cnnlab.explain.loading import app_kwargs_from_checkpoint
from cnnlab.inspect import load_run
from cnnlab.train.snapshots import FilterHistory, load_filter_history, save_filter_history


def test_the_filter_history_stops_at_the_checkpoints_epoch(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "mnist-cnn", "--data", "mnist10k", "--limit-train", "64", "--limit-test", "16",
                 "--epochs", "2", "--out", str(run), "--runs-root", str(tmp_path / "runs"), "--no-progress"]) == 0
    h = load_filter_history(run)
    assert h.epochs == [0, 1, 2]
    _, meta = read_checkpoint(run / "checkpoint.safetensors")
    assert meta["epoch"] == 2
    kwargs, _ = app_kwargs_from_checkpoint(run)
    assert kwargs["filter_history"].epochs == [0, 1, 2]
    # best.safetensors as if epoch 1 had been the best: conv1 as the run's snapshot after epoch 1
    model, _ = load_run(run)
    with cnnlab.no_grad():
        model.conv1.weight.copy_(cnnlab.from_numpy(h.weights[1]))
    save_checkpoint(run / "best.safetensors", model, model_name="mnist-cnn", model_config={}, epoch=1,
                    extra=meta.get("extra"))
    kwargs, notes = app_kwargs_from_checkpoint(run / "best.safetensors")
    fh = kwargs["filter_history"]
    assert fh is not None and fh.epochs == [0, 1] and np.array_equal(fh.weights[-1], h.weights[1]), notes
    # a file from elsewhere: no slider, a note
    save_filter_history(run, FilterHistory("conv1", [0, 1, 2], h.weights + 1))
    kwargs, notes = app_kwargs_from_checkpoint(run)
    assert kwargs["filter_history"] is None
    assert any("no epoch slider" in n and "differs from this checkpoint's weights" in n for n in notes)
