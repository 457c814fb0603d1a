"""cnnlab.optim.lr_scheduler against torch.optim.lr_scheduler, learning rate by learning rate.

Each schedule runs 60 steps in both libraries on optimizers with two param groups; the
learning rates (and, for OneCycleLR, the momentum / beta1) must agree at every step, exactly:
both compute in Python floats with the same formulas in the same order.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn, optim
from cnnlab.optim import lr_scheduler as ls
from helpers import _assert_close

STEPS = 60


def _pair(opt_name="SGD", **kwargs):
    """Optimizers over two param groups (lr 0.1 and 0.02) in cnnlab and torch."""
    kwargs.setdefault("lr", 0.1)
    ours = [nn.Parameter(cnnlab.zeros(2)), nn.Parameter(cnnlab.zeros(3))]
    theirs = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    opt = getattr(optim, opt_name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.02}], **kwargs)
    topt = getattr(torch.optim, opt_name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.02}], **kwargs)
    return opt, topt


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _assert_same_lrs(sched, tsched, opt, topt, where):
    ours, theirs = sched.get_last_lr(), tsched.get_last_lr()
    assert ours == theirs, f"{where}: cnnlab {ours} vs torch {theirs}"
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert _momenta(opt) == _momenta(topt), f"{where}: momentum"


def _run(name, kwargs, opt_name="SGD", opt_kwargs=None, steps=STEPS):
    opt, topt = _pair(opt_name, **(opt_kwargs or {}))
    sched = getattr(ls, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    _assert_same_lrs(sched, tsched, opt, topt, f"{name} after construction")
    for t in range(steps):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.last_epoch == tsched.last_epoch
        _assert_same_lrs(sched, tsched, opt, topt, f"{name}({kwargs}) step {t + 1}")
    return opt, sched


CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),  # crosses the bottom several times
    ("CosineAnnealingLR", dict(T_max=STEPS)),
    ("CosineAnnealingLR", dict(T_max=7)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_schedule_matches_torch(name, kwargs):
    _run(name, kwargs)


ONECYCLE = [
    (dict(max_lr=1.0, total_steps=STEPS), "SGD", dict(momentum=0.9)),
    (dict(max_lr=[1.0, 0.3], total_steps=STEPS, anneal_strategy="linear", pct_start=0.25), "SGD", dict(momentum=0.9)),
    (dict(max_lr=0.5, epochs=6, steps_per_epoch=10, three_phase=True), "SGD", dict(momentum=0.9, nesterov=True)),
    (dict(max_lr=0.01, total_steps=STEPS, three_phase=True, anneal_strategy="linear"), "Adam", {}),
    (dict(max_lr=0.01, total_steps=STEPS, base_momentum=0.8, max_momentum=[0.9, 0.99]), "AdamW", {}),
    (dict(max_lr=0.1, total_steps=STEPS, cycle_momentum=False, div_factor=10.0, final_div_factor=100.0), "Adagrad", {}),
]


@pytest.mark.parametrize("kwargs,opt_name,opt_kwargs", ONECYCLE, ids=[f"{c[1]}-{i}" for i, c in enumerate(ONECYCLE)])
def test_onecycle_matches_torch(kwargs, opt_name, opt_kwargs):
    _run("OneCycleLR", kwargs, opt_name, opt_kwargs)


def test_onecycle_drives_the_optimizer_like_torch():
    """The scheduled lr and momentum reach the update: parameters match torch step by step."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    w = nn.Parameter(cnnlab.tensor(w0.copy()))
    tw = torch.nn.Parameter(torch.tensor(w0.copy()))
    opt = optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9, nesterov=True)
    sched = ls.OneCycleLR(opt, max_lr=0.5, total_steps=30)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.5, total_steps=30)
    for t in range(29):
        g = rng.standard_normal((3, 4)).astype(np.float32)
        w.grad, tw.grad = cnnlab.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        _assert_close(w.detach().numpy(), tw.detach().numpy(), f"OneCycleLR+SGD step {t + 1}", 1e-5, 1e-6)


def test_onecycle_errors():
    opt, _ = _pair()
    sched = ls.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()
    with pytest.raises(ValueError, match="total_steps OR"):
        ls.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="'cos' or 'linear'"):
        ls.OneCycleLR(opt, max_lr=0.1, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        ls.OneCycleLR(opt, max_lr=[0.1], total_steps=5)
    with pytest.raises(ValueError, match="momentum or beta1"):
        ls.OneCycleLR(optim.Adagrad([nn.Parameter(cnnlab.zeros(1))]), max_lr=0.1, total_steps=5)


PLATEAU = [
    dict(),
    dict(mode="min", factor=0.5, patience=2, cooldown=2),
    dict(mode="max", factor=0.3, patience=1, threshold=0.05),
    dict(mode="min", factor=0.5, patience=0, threshold=0.1, threshold_mode="abs", min_lr=[0.01, 0.001]),
    dict(mode="max", factor=0.5, patience=3, threshold_mode="abs", cooldown=1, min_lr=0.004),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    # a noisy curve that improves, plateaus, improves a little, then plateaus for good
    rng = np.random.default_rng(1)
    metric = np.concatenate([np.linspace(2.0, 1.0, 15), np.full(15, 1.0), np.linspace(1.0, 0.9, 10), np.full(40, 0.9)])
    metric = metric + 0.02 * rng.standard_normal(metric.size)
    opt, topt = _pair()
    sched = ls.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    reductions = 0
    for t, m in enumerate(metric):
        before = opt.param_groups[0]["lr"]
        sched.step(cnnlab.tensor(float(m)) if t % 2 else float(m))  # a 0-d Tensor works too
        tsched.step(torch.tensor(float(m)) if t % 2 else float(m))
        reductions += opt.param_groups[0]["lr"] < before
        _assert_same_lrs(sched, tsched, opt, topt, f"ReduceLROnPlateau({kwargs}) step {t + 1}")
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == (
            tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter)
    assert reductions >= 1  # the sequence does exercise a reduction


def test_reduce_lr_on_plateau_errors():
    opt, _ = _pair()
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ls.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="'min', 'max'.*'minimum'"):
        ls.ReduceLROnPlateau(opt, mode="minimum")
    with pytest.raises(ValueError, match="'rel', 'abs'"):
        ls.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        ls.ReduceLROnPlateau(opt, min_lr=[0.1])


@pytest.mark.parametrize("name,kwargs", [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 9, 20])),
    ("CosineAnnealingLR", dict(T_max=8, eta_min=0.01)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=50, three_phase=True)),
])
def test_state_dict_resumes_the_schedule(name, kwargs):
    """Save optimizer + scheduler mid-way, rebuild both, load: the rest equals an unbroken run."""
    full_opt, _ = _pair()
    full = getattr(ls, name)(full_opt, **kwargs)
    first = [full.step() or full.get_last_lr() for _ in range(20)]
    saved_opt, saved_sched = full_opt.state_dict(), full.state_dict()
    rest = [full.step() or full.get_last_lr() for _ in range(25)]

    opt, _ = _pair()
    sched = getattr(ls, name)(opt, **kwargs)  # as torch advises: build the scheduler, then load
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    assert sched.last_epoch == 20 and sched.get_last_lr() == first[-1]
    assert [sched.step() or sched.get_last_lr() for _ in range(25)] == rest
    assert [g["lr"] for g in opt.param_groups] == rest[-1]


def test_plateau_state_dict_resumes():
    opt, _ = _pair()
    sched = ls.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.9, 0.91, 0.92, 0.93]
    for m in metrics[:4]:
        sched.step(m)
    saved, saved_opt = sched.state_dict(), opt.state_dict()
    for m in metrics[4:]:
        sched.step(m)
    opt2, _ = _pair()
    sched2 = ls.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    for m in metrics[4:]:
        sched2.step(m)
    assert sched2.get_last_lr() == sched.get_last_lr() and sched2.last_epoch == sched.last_epoch == len(metrics)


def test_scheduler_arguments_are_checked():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ls.StepLR(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))]), step_size=2)
    opt, _ = _pair()
    with pytest.raises(KeyError, match="initial_lr"):
        ls.StepLR(opt, step_size=2, last_epoch=5)
    with pytest.raises(ValueError, match="step_size"):
        ls.StepLR(opt, step_size=0)
    assert math.isclose(ls.CosineAnnealingLR(opt, T_max=4).get_last_lr()[0], 0.1)
