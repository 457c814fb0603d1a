"""The callback interface of ``fit``: a user's callback sees every hook in order, a stop signal
ends the run where documented, early stopping and schedulers follow the validation metrics."""

import numpy as np
import pytest

import cnnlab
from cnnlab import nn, optim
from cnnlab.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from cnnlab.train import BestModel, Callback, EarlyStopping, fit
from cnnlab.utils.data import DataLoader, TensorDataset


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).normal(0, 3, (4, 6))
    y = rng.integers(0, 4, n)
    return (centers[y] + rng.normal(0, 1, (n, 6))).astype(np.float32), y.astype(np.int64)


def loaders(batch=32):
    (x, y), (xv, yv), (xt, yt) = blobs(320, 1), blobs(96, 2), blobs(96, 3)
    train = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, generator=np.random.default_rng(0))
    return train, DataLoader(TensorDataset(xv, yv), batch_size=48), DataLoader(TensorDataset(xt, yt), batch_size=48)


def mlp():
    cnnlab.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))


class Recorder(Callback):
    def __init__(self, stop_at_step=None):
        self.events, self.stop_at_step = [], stop_at_step

    def on_train_begin(self, state):
        self.events.append(("train_begin", state.epoch))

    def on_epoch_begin(self, state):
        self.events.append(("epoch_begin", state.epoch))

    def on_batch_end(self, state, batch):
        self.events.append(("batch", batch["step"], batch["size"]))
        return batch["step"] == self.stop_at_step

    def on_epoch_end(self, state, record):
        assert state.history.records[-1] is record
        self.events.append(("epoch_end", record["epoch"], sorted(k for k in record if k.startswith("test_"))[:1]))

    def on_train_end(self, state):
        self.events.append(("train_end", len(state.history.records)))


def test_a_user_callback_sees_every_hook_in_order():
    train, val, test = loaders()
    rec = Recorder()
    hist = fit(mlp(), train, epochs=2, optimizer=optim.SGD(mlp().parameters(), lr=0.05), val_loader=val,
               test_loader=test, log=None, callbacks=[rec])
    per_epoch = [("batch", s, 32) for s in range(1, 11)]
    assert rec.events == ([("train_begin", 0), ("epoch_begin", 1)] + per_epoch
                          + [("epoch_end", 1, ["test_accuracy"]), ("epoch_begin", 2)]
                          + [("batch", s + 10, 32) for s in range(1, 11)]
                          + [("epoch_end", 2, ["test_accuracy"]), ("train_end", 2)])
    assert [r["epoch"] for r in hist.records] == [1, 2]


def test_a_stop_signal_from_a_batch_ends_the_epoch_and_the_run():
    train, val, _ = loaders()
    rec = Recorder(stop_at_step=4)
    model = mlp()
    hist = fit(model, train, epochs=3, optimizer=optim.SGD(model.parameters(), lr=0.05), val_loader=val,
               log=None, callbacks=[rec])
    assert len(hist.records) == 1 and hist.records[0]["step"] == 4 and "val_accuracy" in hist.records[0]
    assert rec.events[-1] == ("train_end", 1)


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    train, val, test = loaders()
    model = mlp()
    stopper = EarlyStopping(patience=2)
    # lr 0: the validation accuracy never moves, so epoch 1 stays the best.
    hist = fit(model, train, epochs=10, optimizer=optim.SGD(model.parameters(), lr=0.0), val_loader=val,
               test_loader=test, log=None, callbacks=[stopper])
    assert [r["epoch"] for r in hist.records] == [1, 2, 3] and stopper.stopped_epoch == 3
    assert hist.best_epoch == 1


def test_early_stopping_follows_the_validation_metric_not_the_test_one():
    train, val, test = loaders()
    model = mlp()
    stopper = EarlyStopping(monitor="val_loss", patience=1, min_delta=0.05)
    hist = fit(model, train, epochs=8, optimizer=optim.SGD(model.parameters(), lr=0.05), val_loader=val,
               test_loader=test, log=None, callbacks=[stopper])
    losses = [r["val_loss"] for r in hist.records]
    # the first epoch whose validation loss is not 0.05 below the best before it
    expected = next(i + 1 for i in range(1, len(losses)) if losses[i] > min(losses[:i]) - 0.05)
    assert 2 < expected < 8 and stopper.stopped_epoch == expected and len(hist.records) == expected
    with pytest.raises(ValueError, match="test set, which is never used for a decision"):
        EarlyStopping(monitor="test_accuracy")
    with pytest.raises(ValueError, match="never used for a decision"):
        BestModel(monitor="test_loss")
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        EarlyStopping(patience=0)


def test_early_stopping_after_resume_stops_where_the_whole_run_stops(tmp_path):
    def run(out, epochs, resume=False):
        train, val, _ = loaders()
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.0)
        return fit(model, train, epochs=epochs, optimizer=opt, val_loader=val, log=None, plots=False,
                   out_dir=out, resume=resume, callbacks=[EarlyStopping(patience=3)])

    whole = run(tmp_path / "a", 10)
    run(tmp_path / "b", 2)
    resumed = run(tmp_path / "b", 10, resume=True)
    assert [r["epoch"] for r in whole.records] == [r["epoch"] for r in resumed.records] == [1, 2, 3, 4]


def test_a_user_best_model_replaces_the_built_in_one():
    train, val, _ = loaders()
    model = mlp()
    hist = fit(model, train, epochs=3, optimizer=optim.SGD(model.parameters(), lr=0.05), val_loader=val,
               log=None, callbacks=[BestModel(monitor="val_loss")])
    losses = [r["val_loss"] for r in hist.records]
    assert hist.best_epoch == 1 + int(np.argmin(losses))


class EveryBatch(LRScheduler):
    """Not called OneCycleLR: only its attribute says it steps per batch."""

    step_per_batch = True

    def get_lr(self):
        return [base * 0.9 ** self.last_epoch for base in self.base_lrs]


class WatchesAMetric(ReduceLROnPlateau):
    seen: list

    def step(self, metrics, epoch=None):
        self.seen.append(metrics)
        super().step(metrics)


def test_schedulers_say_how_they_step_by_attribute():
    train, val, test = loaders()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = EveryBatch(opt)
    hist = fit(model, train, epochs=2, optimizer=opt, scheduler=sched, log=None)
    assert sched.last_epoch == 20 and opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9 ** 20)
    assert hist.records[0]["lr"] == pytest.approx(0.1 * 0.9 ** 10)

    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = WatchesAMetric(opt, patience=0)
    plateau.seen = []
    hist = fit(model, train, epochs=2, optimizer=opt, scheduler=plateau, val_loader=val, test_loader=test, log=None)
    assert plateau.seen == [r["val_loss"] for r in hist.records]
    assert all(r["val_loss"] != r["test_loss"] for r in hist.records)
