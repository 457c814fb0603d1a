"""fit/evaluate, metrics, progress, run directories and plots (synthetic data, seconds in all).

Metrics are checked against scikit-learn and torch; determinism and resume are checked bit for
bit against an uninterrupted run.
"""

import json
import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

import cnnlab
from cnnlab import nn, optim
from cnnlab.train import (ClassificationMeter, RegressionMeter, RunExistsError, TrainingDiverged,
                          confusion_matrix, create_run_dir, evaluate, fit, latest_run, set_latest)
from cnnlab.train.metrics import accuracy, mae, per_class_accuracy, rmse, topk_accuracy
from cnnlab.train.progress import Progress, progress_enabled
from cnnlab.utils.data import DataLoader, TensorDataset


# ------------------------------------------------------------------ data
def blobs(n=600, classes=4, dim=6, seed=0):
    """Gaussian clusters: separable enough that a small MLP exceeds 90%."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (classes, dim))
    y = rng.integers(0, classes, n)
    x = centers[y] + rng.normal(0, 1, (n, dim))
    return x.astype(np.float32), y.astype(np.int64)


def loaders(seed=0, n=600, batch=32):
    x, y = blobs(n)
    train = DataLoader(TensorDataset(x[:480], y[:480]), batch_size=batch, shuffle=True,
                       generator=np.random.default_rng(seed))
    val = DataLoader(TensorDataset(x[480:], y[480:]), batch_size=50)
    return train, val, (x[480:], y[480:])


def mlp(seed=0, dropout=0.3):
    cnnlab.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 4))


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


# --------------------------------------------------------------- metrics
def test_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 7))
    y = rng.integers(0, 7, 200)
    pred = logits.argmax(1)
    assert accuracy(logits, y) == pytest.approx(skm.accuracy_score(y, pred))
    for k in (2, 5):
        assert topk_accuracy(logits, y, k) == pytest.approx(skm.top_k_accuracy_score(y, logits, k=k, labels=range(7)))
    cm = confusion_matrix(y, pred, 7)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, pred, labels=range(7)))
    np.testing.assert_allclose(per_class_accuracy(cm), skm.recall_score(y, pred, average=None, labels=range(7)))
    p, t = rng.normal(size=50), rng.normal(size=50)
    assert rmse(p, t) == pytest.approx(math.sqrt(skm.mean_squared_error(t, p)))
    assert mae(p, t) == pytest.approx(skm.mean_absolute_error(t, p))


def test_meters_accumulate_batches_like_whole_arrays():
    rng = np.random.default_rng(2)
    logits, y = rng.normal(size=(130, 10)), rng.integers(0, 10, 130)
    m = ClassificationMeter(10)
    for s in range(0, 130, 32):
        m.update(logits[s:s + 32], y[s:s + 32], loss=1.0)
    r = m.compute()
    assert r["count"] == 130 and r["loss"] == pytest.approx(1.0)
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(y, logits.argmax(1)))
    assert r["top5_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y, logits, k=5, labels=range(10)))
    np.testing.assert_array_equal(r["confusion_matrix"], skm.confusion_matrix(y, logits.argmax(1), labels=range(10)))
    reg = RegressionMeter()
    p, t = rng.normal(size=(77, 1)), rng.normal(size=77)
    for s in range(0, 77, 20):
        reg.update(p[s:s + 20], t[s:s + 20])
    assert reg.compute()["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(t, p[:, 0])))
    assert reg.compute()["mae"] == pytest.approx(skm.mean_absolute_error(t, p[:, 0]))


def test_metric_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"expected logits of shape \(N, C\)"):
        accuracy(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="4 rows but targets have 3"):
        accuracy(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="outside the 3 classes"):
        confusion_matrix([0, 5], [0, 1], 3)


# ------------------------------------------------------------ fit/evaluate
def test_fit_learns_and_evaluate_matches_torch_loss():
    train, val, (xv, yv) = loaders()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    hist = fit(model, train, epochs=4, optimizer=opt, val_loader=val, log=None)
    assert len(hist.records) == 4 and hist.records[-1]["step"] == 4 * 15
    assert hist.records[-1]["val_accuracy"] > 0.9
    assert hist.records[-1]["train_loss"] < hist.records[0]["train_loss"]
    res = evaluate(model, val)
    model.eval()
    with cnnlab.no_grad():
        logits = model(cnnlab.from_numpy(xv)).numpy()
    ref = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(yv)).item()
    assert res["loss"] == pytest.approx(ref, rel=1e-5)
    assert res["accuracy"] == pytest.approx(skm.accuracy_score(yv, logits.argmax(1)))
    assert res["count"] == 120 and len(res["per_class_accuracy"]) == 4
    assert model.training is False  # evaluate restores the mode it found


def test_fit_regression_reports_rmse_and_mae():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.1).astype(np.float32)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=0)
    cnnlab.manual_seed(0)
    model = nn.Linear(3, 1)
    hist = fit(model, loader, epochs=5, optimizer=optim.SGD(model.parameters(), lr=0.05), task="regression",
               val_loader=DataLoader(TensorDataset(x, y), batch_size=64), log=None)
    last = hist.records[-1]
    assert last["val_rmse"] < 0.1 * hist.records[0]["train_rmse"] + 0.05
    with cnnlab.no_grad():
        p = model(cnnlab.from_numpy(x)).numpy()[:, 0]
    assert last["val_rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)), rel=1e-5)
    assert last["val_mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-5)


def test_same_seed_same_numbers_bit_for_bit():
    def run():
        train, val, _ = loaders(seed=3)
        model = mlp(seed=3)
        opt = optim.Adam(model.parameters(), lr=0.01)
        h = fit(model, train, epochs=2, optimizer=opt, val_loader=val, log=None)
        return h, weights(model)

    (h1, w1), (h2, w2) = run(), run()
    assert [r["train_loss"] for r in h1.records] == [r["train_loss"] for r in h2.records]
    assert [s["loss"] for s in h1.steps] == [s["loss"] for s in h2.steps]
    for k in w1:
        np.testing.assert_array_equal(w1[k], w2[k])


def _strip(records):
    return [{k: v for k, v in r.items() if k not in ("time_s", "train_images_per_s")} for r in records]


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_resume_equals_uninterrupted_run(tmp_path, opt_name):
    def setup(seed=5):
        train, val, _ = loaders(seed=seed)
        model = mlp(seed=seed)  # dropout draws from cnnlab's generator: its state must be restored too
        opt = (optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True) if opt_name == "sgd"
               else optim.Adam(model.parameters(), lr=0.01))
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        return model, train, val, opt, sched

    model, train, val, opt, sched = setup()
    full = fit(model, train, epochs=3, optimizer=opt, scheduler=sched, val_loader=val,
               out_dir=tmp_path / "full", log=None, plots=False)
    w_full = weights(model)

    model, train, val, opt, sched = setup()
    fit(model, train, epochs=1, optimizer=opt, scheduler=sched, val_loader=val, out_dir=tmp_path / "part",
        log=None, plots=False)
    cnnlab.manual_seed(999)  # a new process would start from arbitrary generator states
    model, train, val, opt, sched = setup(seed=7)
    train.sampler.generator.bit_generator.state = np.random.default_rng(123).bit_generator.state
    resumed = fit(model, train, epochs=3, optimizer=opt, scheduler=sched, val_loader=val,
                  out_dir=tmp_path / "part", resume=True, log=None, plots=False)
    for k, v in weights(model).items():
        np.testing.assert_array_equal(v, w_full[k], err_msg=k)
    assert _strip(resumed.records) == _strip(full.records)
    logged = [json.loads(line) for line in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in logged] == [1, 2, 3]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05 * 0.125 if opt_name == "sgd" else 0.01 * 0.125)


def test_nan_loss_stops_with_step_and_last_checkpoint(tmp_path):
    train, val, _ = loaders()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.05)
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("nan") if calls["n"] == 20 else loss  # step 20 is in epoch 2 (15 steps each)

    with pytest.raises(TrainingDiverged) as info:
        fit(model, train, epochs=3, optimizer=opt, loss_fn=loss_fn, out_dir=tmp_path, log=None, plots=False)
    msg = str(info.value)
    assert "step 20" in msg and "nan" in msg
    assert str(tmp_path / "checkpoint.safetensors") in msg
    assert info.value.step == 20
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())  # the bad step never updated


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_before_any_checkpoint_says_so():
    x = np.full((8, 6), np.inf, np.float32)
    loader = DataLoader(TensorDataset(x, np.zeros(8, np.int64)), batch_size=4)
    model = mlp()
    with pytest.raises(TrainingDiverged, match=r"step 1 .*no checkpoint was written yet"):
        fit(model, loader, epochs=1, optimizer=optim.SGD(model.parameters(), lr=0.1), log=None)


def test_callbacks_can_stop_and_fit_checks_epochs():
    train, _, _ = loaders()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.05)
    seen = []
    hist = fit(model, train, epochs=5, optimizer=opt, log=None,
               callbacks=[lambda rec, m: seen.append(rec["epoch"]) or rec["epoch"] < 2])
    assert seen == [1, 2] and len(hist.records) == 2
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        fit(model, train, epochs=-1, optimizer=opt)
    with pytest.raises(ValueError, match="task must be one of"):
        fit(model, train, epochs=1, optimizer=opt, task="segmentation")


# ------------------------------------------------------------- progress
def test_progress_is_quiet_without_a_tty(capsys, monkeypatch):
    monkeypatch.delenv("CNNLAB_NO_PROGRESS", raising=False)
    assert progress_enabled() is False  # pytest captures stderr: not a terminal
    assert progress_enabled(False) is False and progress_enabled(True) is True
    train, _, _ = loaders()
    model = mlp()
    fit(model, train, epochs=1, optimizer=optim.SGD(model.parameters(), lr=0.05), log=None)
    assert capsys.readouterr().err == ""
    with Progress(3, "demo", enabled=True) as bar:
        for _ in range(3):
            bar.update(64, loss=0.5, accuracy=0.9)
    err = capsys.readouterr().err
    assert "demo" in err and bar.images == 192


# ----------------------------------------------------------- run dirs/plots
def test_run_dir_is_never_overwritten_silently(tmp_path):
    out = create_run_dir(tmp_path / "r", model="m", dataset="d")
    (out / "metrics.jsonl").write_text("{}\n")
    with pytest.raises(RunExistsError, match="already holds a run.*--resume.*--force"):
        create_run_dir(out)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        create_run_dir(out, resume=True)
    create_run_dir(out, force=True)
    assert not (out / "metrics.jsonl").exists()
    auto = create_run_dir(model="mnist-cnn", dataset="fashion-mnist", root=tmp_path / "runs")
    assert auto.parent == tmp_path / "runs" and auto.name.startswith("mnist-cnn-fashion-mnist-")


def test_latest_run(tmp_path):
    root = tmp_path / "runs"
    assert latest_run(root) is None
    a, b = root / "a", root / "b"
    for d in (a, b):
        d.mkdir(parents=True)
        (d / "checkpoint.safetensors").write_bytes(b"x")
    set_latest(a, root)
    assert latest_run(root) == a.resolve() or latest_run(root).resolve() == a.resolve()
    (root / "latest").write_text("gone\n")  # stale marker: fall back to the newest checkpoint
    assert latest_run(root).name in ("a", "b")


def test_fit_writes_run_files_and_plots(tmp_path):
    train, val, _ = loaders()
    model = mlp()
    fit(model, train, epochs=2, optimizer=optim.SGD(model.parameters(), lr=0.05), val_loader=val,
        out_dir=tmp_path, log=None, classes=list("abcd"))
    for name in ("checkpoint.safetensors", "best.safetensors", "metrics.jsonl", "steps.jsonl",
                 "loss.png", "accuracy.png", "confusion.png"):
        assert (tmp_path / name).is_file(), name
        if name.endswith(".png"):
            assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rec = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(rec) == 2 and np.array(rec[-1]["val_confusion_matrix"]).sum() == 120
    assert len((tmp_path / "steps.jsonl").read_text().splitlines()) == 30
