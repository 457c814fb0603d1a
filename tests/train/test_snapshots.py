"""``fit`` keeps the first conv layer per epoch (``filters.npz``): snapshot k equals the weights a
run stopped after k epochs saved in its checkpoint, and a resumed run (also one killed between
writing the snapshot and the checkpoint, or one whose file was lost) ends with the file of an
uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlab
from cnnlab import nn, optim
from cnnlab.checkpoint import read_checkpoint
from cnnlab.train import fit
from cnnlab.train.callbacks import StopAfter
from cnnlab.train.snapshots import FILTERS, FilterHistory, load_filter_history, save_filter_history
from cnnlab.utils.data import DataLoader, TensorDataset


def _model():
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4))


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((48, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 4, 48)
    return TensorDataset(cnnlab.from_numpy(x), cnnlab.from_numpy(y))


def _fit(out, epochs, stop=None, resume=False, model_fn=_model):
    cnnlab.manual_seed(0)
    model = model_fn()
    loader = DataLoader(_data(), batch_size=16, shuffle=True, generator=cnnlab.Generator().manual_seed(1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(model, loader, epochs=epochs, optimizer=opt, out_dir=out, resume=resume, plots=False, log=None,
        callbacks=[StopAfter(stop)] if stop else [])
    return model


def _conv_weight(path):
    arrays, meta = read_checkpoint(path)
    return arrays["0.weight"], meta


def test_one_snapshot_per_epoch_equal_to_the_checkpoints_weights(tmp_path):
    model = _fit(tmp_path / "full", 3)
    h = load_filter_history(tmp_path / "full")
    assert h.layer == "0" and h.epochs == [0, 1, 2, 3] and h.weights.shape == (4, 3, 1, 3, 3)
    np.testing.assert_array_equal(h.weights[-1], model[0].weight.detach().numpy())
    w, meta = _conv_weight(tmp_path / "full" / "checkpoint.safetensors")
    assert meta["epoch"] == 3
    np.testing.assert_array_equal(h.weights[-1], w)
    cnnlab.manual_seed(0)
    np.testing.assert_array_equal(h.weights[0], _model()[0].weight.detach().numpy())   # the initialisation
    for k in (1, 2):
        _fit(tmp_path / f"stop{k}", 3, stop=k)
        w, meta = _conv_weight(tmp_path / f"stop{k}" / "checkpoint.safetensors")
        assert meta["epoch"] == k
        np.testing.assert_array_equal(h.weights[k], w)
        assert load_filter_history(tmp_path / f"stop{k}").epochs == list(range(k + 1))
    assert len(set(h.weights[k].tobytes() for k in range(4))) == 4      # training moved them each epoch
    assert (tmp_path / "full" / FILTERS).stat().st_size < 4096
    assert not list((tmp_path / "full").glob(".*.tmp"))


def _same(a: FilterHistory, b: FilterHistory):
    assert a.layer == b.layer and a.epochs == b.epochs
    np.testing.assert_array_equal(a.weights, b.weights)


@pytest.mark.parametrize("damage", ["none", "snapshot-ahead-of-checkpoint", "file-lost"])
def test_a_resumed_run_ends_with_the_file_of_an_uninterrupted_one(tmp_path, damage):
    _fit(tmp_path / "full", 4)
    run = tmp_path / "run"
    _fit(run, 4, stop=2)
    if damage == "snapshot-ahead-of-checkpoint":   # killed after epoch 3's snapshot, before its checkpoint
        h = load_filter_history(run)
        save_filter_history(run, FilterHistory(h.layer, h.epochs + [3], np.concatenate([h.weights, h.weights[-1:] + 1])))
    elif damage == "file-lost":
        (run / FILTERS).unlink()
    _fit(run, 4, resume=True)
    _same(load_filter_history(run), load_filter_history(tmp_path / "full"))


def _drop_snapshots_from_checkpoint(path):
    """The checkpoint as one written before snapshots were kept: no ``extra.filter_history``."""
    import json

    from safetensors import safe_open
    from safetensors.numpy import save

    with safe_open(str(path), framework="numpy") as f:
        header = dict(f.metadata())
        arrays = {k: f.get_tensor(k) for k in f.keys() if not k.startswith("extra.filter_history")}
    key = next(k for k, v in header.items() if "filter_history" in v)
    meta = json.loads(header[key])
    meta["extra"]["__dict__"] = [kv for kv in meta["extra"]["__dict__"] if kv[0] != "filter_history"]
    header[key] = json.dumps(meta)
    path.write_bytes(save(arrays, metadata=header))
    assert "filter_history" not in read_checkpoint(path)[1]["extra"]


def test_a_checkpoint_without_snapshots_keeps_the_files_earlier_epochs(tmp_path):
    """The file's epochs before the resumed one stay; the resumed epoch's snapshot comes from the
    weights the checkpoint restored (here the file had lost it too)."""
    _fit(tmp_path / "full", 3)
    run = tmp_path / "run"
    _fit(run, 3, stop=2)
    _drop_snapshots_from_checkpoint(run / "checkpoint.safetensors")
    h = load_filter_history(run)
    save_filter_history(run, FilterHistory(h.layer, h.epochs[:2], h.weights[:2]))
    _fit(run, 3, resume=True)
    _same(load_filter_history(run), load_filter_history(tmp_path / "full"))


def test_a_model_without_conv_layers_keeps_no_snapshots(tmp_path):
    _fit(tmp_path / "mlp", 1, model_fn=lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 4)))
    assert not (tmp_path / "mlp" / FILTERS).exists()
    with pytest.raises(FileNotFoundError, match="no per-epoch filter snapshots"):
        load_filter_history(tmp_path / "mlp")


@pytest.mark.slow
def test_runs_killed_around_the_snapshot_write_resume_to_the_uninterrupted_file(tmp_path):
    """Real SIGKILLs (test_crash_resume.py's wrapper): just after epoch 2's snapshot was renamed
    into place (its checkpoint not yet written), then half-way through a snapshot's temporary file."""
    import signal
    import subprocess
    import sys

    from test_crash_resume import WRAPPER

    args = ["--epochs", "3", "--limit-train", "200", "--limit-test", "50", "--batch-size", "50",
            "--no-progress"]

    def train(out, crash, resume):
        env = {**__import__("os").environ, "CRASH": crash or "none:-:0"}
        extra = ["--resume", "--no-progress"] if resume else ["--force", *args]
        return subprocess.run([sys.executable, "-c", WRAPPER, "train", "mnist-cnn", "--data", "mnist10k", "--out", str(out),
                               "--runs-root", str(out.parent / "runs"), *extra],
                              env=env, capture_output=True, text=True, timeout=300)

    assert train(tmp_path / "ref", None, False).returncode == 0
    out = tmp_path / "run"
    r = train(out, "after:filters.npz:3", False)        # writes: epoch 0, epoch 1, epoch 2 → killed
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert load_filter_history(out).epochs == [0, 1, 2]
    assert read_checkpoint(out / "checkpoint.safetensors")[1]["epoch"] == 1
    r = train(out, "torn:filters.npz:2", True)          # the rewrite at start, then epoch 2's torn
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert list(out.glob(".filters.npz.*.tmp"))
    r = train(out, None, True)
    assert r.returncode == 0, r.stderr
    assert not list(out.glob(".*.tmp"))
    _same(load_filter_history(out), load_filter_history(tmp_path / "ref"))
    np.testing.assert_array_equal(load_filter_history(out).weights[-1],
                                  read_checkpoint(out / "checkpoint.safetensors")[0]["conv1.weight"])
