"""Checkpoints: round trip, optimizer state, atomic writes, refusal of other architectures and
of corrupt files, and weights readable by torch."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import models, nn, optim
from cnnlab.checkpoint import load_checkpoint, load_into, read_checkpoint, save_checkpoint


def _step(model, opt, seed):
    rng = np.random.default_rng(seed)
    x = cnnlab.from_numpy(rng.normal(size=(8, 4)).astype(np.float32))
    y = cnnlab.from_numpy(rng.integers(0, 3, 8))
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def test_round_trip_rebuilds_model_and_continues_exactly(tmp_path):
    cnnlab.manual_seed(0)
    model = models.create("iris-mlp")
    opt = optim.Adam(model.parameters(), lr=0.01)
    for s in range(3):
        _step(model, opt, s)
    path = save_checkpoint(tmp_path / "c.safetensors", model, model_name="iris-mlp", model_config={},
                           optimizer=opt, epoch=3, metrics={"accuracy": np.float64(0.75)}, seed=0,
                           extra={"classes": ["setosa", "versicolor", "virginica"]})
    loaded, meta = load_checkpoint(path)
    assert meta["epoch"] == 3 and meta["metrics"] == {"accuracy": 0.75} and meta["seed"] == 0
    assert meta["model_name"] == "iris-mlp" and meta["cnnlab_version"] == cnnlab.__version__
    assert meta["extra"]["classes"][2] == "virginica" and "cnnlab" in meta["rng_state"]
    assert loaded.training is False
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k].numpy(), v.numpy())

    # The optimizer state survives: both copies take identical next steps.
    opt2 = optim.Adam(loaded.parameters(), lr=0.01)
    opt2.load_state_dict(meta["optimizer"]["state"])
    loaded.train()
    for s in range(3, 6):
        _step(model, opt, s)
        _step(loaded, opt2, s)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k].numpy(), v.numpy())


def test_weights_are_plain_safetensors_that_torch_loads(tmp_path):
    from safetensors.torch import load_file

    cnnlab.manual_seed(0)
    model = models.create("iris-mlp")
    path = save_checkpoint(tmp_path / "c.safetensors", model, model_name="iris-mlp",
                           optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    tensors = load_file(str(path))
    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 25), torch.nn.ReLU(),
                              torch.nn.Linear(25, 15), torch.nn.ReLU(), torch.nn.Linear(15, 3))
    ref.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optimizer.")})
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(ref(torch.from_numpy(x)).detach().numpy(),
                               model(cnnlab.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_other_architecture_is_refused_naming_keys(tmp_path):
    path = save_checkpoint(tmp_path / "iris.safetensors", models.create("iris-mlp"), model_name="iris-mlp")
    with pytest.raises(RuntimeError) as info:
        load_into(models.create("mnist-cnn"), path)
    msg = str(info.value)
    assert "iris.safetensors" in msg and "iris-mlp" in msg
    assert "conv1.weight" in msg and "1.weight" in msg  # missing and unexpected keys are both named
    other = models.create("mlp", sizes=[4, 30, 15, 3])
    with pytest.raises(RuntimeError, match=r"shape mismatches \[1.weight: checkpoint \(25, 4\) vs model \(30, 4\)"):
        load_into(other, path)


def test_corrupt_and_foreign_files_get_clear_errors(tmp_path):
    path = save_checkpoint(tmp_path / "good.safetensors", models.create("iris-mlp"), model_name="iris-mlp")
    data = path.read_bytes()
    for name, content in [("truncated.safetensors", data[:-7]), ("header.safetensors", data[:50]),
                          ("garbage.safetensors", b"\x00" * 3 + b"not a checkpoint")]:
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=rf"{name}.*corrupt or not a safetensors file"):
            load_checkpoint(bad)
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        load_checkpoint(tmp_path / "missing.safetensors")
    from safetensors.numpy import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({k: v.numpy() for k, v in models.create("iris-mlp").state_dict().items()}, str(plain))
    with pytest.raises(ValueError, match="plain.safetensors.*not a cnnlab checkpoint"):
        load_checkpoint(plain)
    load_into(models.create("iris-mlp"), plain)  # but its weights load into a matching model


def test_custom_model_needs_load_into(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2))
    path = save_checkpoint(tmp_path / "c.safetensors", model)
    with pytest.raises(ValueError, match="custom Sequential.*load_into"):
        load_checkpoint(path)
    load_into(nn.Sequential(nn.Linear(2, 2)), path)


def test_failed_write_leaves_previous_checkpoint(tmp_path, monkeypatch):
    model = models.create("iris-mlp")
    path = save_checkpoint(tmp_path / "c.safetensors", model, model_name="iris-mlp", epoch=1)
    before = path.read_bytes()

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, models.create("iris-mlp"), model_name="iris-mlp", epoch=2)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.safetensors"]  # no temp file left behind


def test_process_killed_mid_write_leaves_previous_checkpoint(tmp_path):
    """A real crash: the child process dies (os._exit) halfway through writing the bytes."""
    path = save_checkpoint(tmp_path / "c.safetensors", models.create("iris-mlp"), model_name="iris-mlp", epoch=1)
    before = path.read_bytes()
    child = textwrap.dedent(f"""
        import io, os, sys
        sys.path.insert(0, {os.getcwd()!r})
        import cnnlab.checkpoint as ck
        from cnnlab import models
        real_fdopen = os.fdopen
        class Dying(io.FileIO):
            def write(self, b):
                super().write(bytes(b)[: len(b) // 2])
                self.flush()
                os._exit(9)  # killed mid-write: no cleanup, no exception handlers
        os.fdopen = lambda fd, mode: Dying(fd, "wb")
        ck.save_checkpoint({str(path)!r}, models.create("iris-mlp"), model_name="iris-mlp", epoch=2)
    """)
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert r.returncode == 9, r.stderr
    assert path.read_bytes() == before
    _, meta = load_checkpoint(path)
    assert meta["epoch"] == 1


def test_runs_latest_marker_resolves_to_the_latest_run(tmp_path):
    """`cnnlab eval runs/latest` (and every command taking a checkpoint) follows the marker."""
    from cnnlab.train.session import TrainConfig, resolve_checkpoint, train_run

    cfg = TrainConfig(model="iris-mlp", data="iris", epochs=1, batch_size=16)
    _, run, _ = train_run(cfg, out=tmp_path / "runs" / "first", root=tmp_path / "runs", progress=False, log=None)
    assert resolve_checkpoint(tmp_path / "runs" / "latest") == run / "checkpoint.safetensors"
    (run / "checkpoint.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="names no run with a checkpoint"):
        resolve_checkpoint(tmp_path / "runs" / "latest")
