"""Validation is not the test set: a run holds out a stratified, seeded part of the training
split, records which samples, and takes every decision (best model, plateau schedule) on it; the
test split is only scored. Replacing the test set changes no decision, bit for bit."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from cnnlab import datasets
from cnnlab.checkpoint import read_checkpoint
from cnnlab.cli import main
from cnnlab.optim.lr_scheduler import ReduceLROnPlateau
from cnnlab.train import session
from cnnlab.train.session import TrainConfig, train_run

CFG = dict(model="mnist-mlp", data="mnist10k", epochs=4, lr=0.05, limit_train=600, limit_test=200,
           scheduler="plateau")


@pytest.fixture
def eager_plateau(monkeypatch):
    """A plateau schedule that halves the rate whenever the watched loss falls by less than 30%,
    so the learning-rate schedule depends on the validation numbers from the first epochs."""
    real = session.build_scheduler

    def build(name, optimizer, **kw):
        if name == "plateau":
            return ReduceLROnPlateau(optimizer, factor=0.5, patience=0, threshold=0.3)
        return real(name, optimizer, **kw)

    monkeypatch.setattr(session, "build_scheduler", build)


def run(tmp_path, name, replace_test=False, monkeypatch=None):
    if replace_test:
        real = session._load_split

        def load(dataset, train, root, split=None):
            ds = real(dataset, train, root, split)
            if train:
                return ds
            rng = np.random.default_rng(1)  # other images, other labels: a different test set
            return SimpleNamespace(data=255 - np.asarray(ds.data)[::-1], targets=rng.permutation(ds.targets),
                                   classes=ds.classes)

        monkeypatch.setattr(session, "_load_split", load)
    history, out, test = train_run(TrainConfig(**CFG), out=tmp_path / name, root=tmp_path / "runs", log=None,
                                   progress=False)
    if replace_test:
        monkeypatch.setattr(session, "_load_split", real)
    return history, out, test


def test_the_validation_part_is_recorded_stratified_and_seeded(tmp_path, eager_plateau):
    history, out, _ = run(tmp_path, "a")
    info = json.loads((out / "run.json").read_text())
    val = np.array(info["validation"]["indices"])
    targets = np.asarray(datasets.create("mnist10k", train=True).targets)[:600]
    assert info["config"]["val_split"] == 0.1 and info["validation"]["seed"] == 0
    # stratified: 10% of each class, rounded
    want = [round(n * 0.1) for n in np.bincount(targets, minlength=10)]
    np.testing.assert_array_equal(np.bincount(targets[val], minlength=10), want)
    n = sum(want)
    assert info["val_samples"] == len(val) == n and info["train_samples"] == 600 - n
    assert len(np.unique(val)) == n and val.min() >= 0 and val.max() < 600
    assert history.records[-1]["val_count"] == n and history.records[-1]["test_count"] == 200
    # Another seed draws another validation part; the same seed the same one.
    assert not np.array_equal(session.validation_indices(targets, 0.1, 1, "classification"), val)
    np.testing.assert_array_equal(session.validation_indices(targets, 0.1, 0, "classification"), val)


def test_replacing_the_test_set_changes_no_decision(tmp_path, eager_plateau, monkeypatch):
    h1, a, test1 = run(tmp_path, "a")
    h2, b, test2 = run(tmp_path, "b", replace_test=True, monkeypatch=monkeypatch)
    assert test1["accuracy"] != test2["accuracy"]  # the test set really was another one
    lrs = [r["lr"] for r in h1.records]
    assert len(set(lrs)) > 1, "the plateau schedule never reacted: the test would prove nothing"
    assert lrs == [r["lr"] for r in h2.records]
    assert h1.best_epoch == h2.best_epoch == 1 + int(np.argmax([r["val_accuracy"] for r in h1.records]))
    best1, meta1 = read_checkpoint(a / "best.safetensors")
    best2, meta2 = read_checkpoint(b / "best.safetensors")
    assert meta1["epoch"] == meta2["epoch"] == h1.best_epoch and best1.keys() == best2.keys()
    for key in meta1["model_keys"] + [k for k in best1 if k.startswith(("optimizer.", "scheduler."))]:
        np.testing.assert_array_equal(best1[key], best2[key], err_msg=key)
    for r1, r2 in zip(h1.records, h2.records):
        assert {k: v for k, v in r1.items() if k.startswith(("train_", "val_")) and "per_s" not in k} == \
               {k: v for k, v in r2.items() if k.startswith(("train_", "val_")) and "per_s" not in k}


def test_val_split_zero_trains_on_everything_and_bad_fractions_are_refused(tmp_path, capsys):
    args = ["train", "mnist-mlp", "--data", "fashion-mnist", "--limit-train", "128", "--limit-test", "64",
            "--no-progress", "--runs-root", str(tmp_path / "runs")]
    assert main([*args, "--val-split", "0", "--out", str(tmp_path / "z")]) == 0
    info = json.loads((tmp_path / "z" / "run.json").read_text())
    assert info["train_samples"] == 128 and info["val_samples"] == 0 and info["validation"]["indices"] == []
    record = json.loads((tmp_path / "z" / "metrics.jsonl").read_text().splitlines()[-1])
    assert "test_accuracy" in record and not any(k.startswith("val_") for k in record)
    out = capsys.readouterr().out
    assert "validation" not in out and "test accuracy" in out
    for bad in ("1", "-0.1", "1.5"):
        assert main([*args, "--val-split", bad, "--out", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err
        assert f"--val-split must be a fraction in [0, 1), got {float(bad)}" in err and len(err.splitlines()) == 1
    assert main([*args, "--val-split", "0.001", "--out", str(tmp_path / "tiny")]) == 2
    assert "leaves no validation sample" in capsys.readouterr().err
