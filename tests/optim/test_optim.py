"""cnnlab.optim against torch.optim: 20 steps on the same parameters and gradients.

Every optimizer runs with several hyperparameter combinations; parameters are compared after
each step. Also: state_dict save/load resumes the exact trajectory (and loads torch's state),
argument validation, param groups, clip_grad_norm_/clip_grad_value_, and a small training run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn, optim
from helpers import _assert_close

SHAPES = [(4, 3), (3,), (2, 3, 2)]
STEPS = 20


def _problem(seed: int, shapes=SHAPES, steps=STEPS, dtype=np.float32):
    """Initial parameters and a seeded sequence of gradients, one list per step."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    return init, grads


def _params(init):
    ours = [nn.Parameter(cnnlab.tensor(a.copy(), dtype=a.dtype)) for a in init]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    return ours, theirs


def _grouped(params, groups):
    """``groups``: None (all in one list) or [(param indices, {overrides}), ...]."""
    if groups is None:
        return params
    return [dict(params=[params[i] for i in idx], **over) for idx, over in groups]


def _set_grads(ours, theirs, grads):
    for p, q, g in zip(ours, theirs, grads):
        p.grad = cnnlab.tensor(g.copy(), dtype=g.dtype)
        q.grad = torch.tensor(g.copy())


def _compare(ours, theirs, stage, rtol=1e-5, atol=1e-6):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        assert p.dtype == np.dtype(str(q.dtype).replace("torch.", "")), f"{stage}: dtype changed to {p.dtype}"
        _assert_close(p.detach().numpy(), q.detach().numpy(), f"{stage}, parameter {i}", rtol, atol)


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict()),  # torch 2.x default lr=1e-3
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.05, maximize=True, eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.01)),
    ("Adadelta", dict(eps=1e-4, maximize=True)),
]

GROUP_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9), [([0], {}), ([1, 2], dict(lr=0.01, momentum=0.5))]),
    ("Adam", dict(lr=0.01), [([0, 2], {}), ([1], dict(lr=0.001, betas=(0.5, 0.9), amsgrad=True))]),
    ("RMSprop", dict(lr=0.01), [([1], dict(centered=True)), ([0, 2], dict(lr=0.001))]),
    ("Adagrad", dict(lr=0.1), [([0], dict(lr_decay=0.1)), ([2, 1], {})]),
    ("Adadelta", dict(), [([0, 1], dict(lr=0.1)), ([2], {})]),
]


def _run(name, kwargs, groups=None, seed=0, dtype=np.float32):
    init, grads = _problem(seed, dtype=dtype)
    ours, theirs = _params(init)
    opt = getattr(optim, name)(_grouped(ours, groups), **kwargs)
    topt = getattr(torch.optim, name)(_grouped(theirs, groups), **kwargs)
    for t, g in enumerate(grads):
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
        _compare(ours, theirs, f"{name}({kwargs}) step {t + 1}")
    return opt, topt


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_matches_torch_for_20_steps(name, kwargs):
    opt, topt = _run(name, kwargs)
    # the state is torch's too: same keys, same values
    ours, theirs = opt.state_dict()["state"], topt.state_dict()["state"]
    assert set(ours) == set(theirs)
    for i in theirs:
        assert set(ours[i]) == set(theirs[i]), f"state keys of parameter {i}"
        for k, v in theirs[i].items():
            _assert_close(ours[i][k].numpy(), v.numpy(), f"state[{i}][{k!r}]", 1e-5, 1e-6)


@pytest.mark.parametrize("name,kwargs,groups", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_with_their_own_hyperparameters(name, kwargs, groups):
    opt, _ = _run(name, kwargs, groups)
    assert opt.param_groups[1]["lr"] == groups[1][1].get("lr", kwargs.get("lr", opt.defaults["lr"]))


def test_float64_parameters_stay_float64():
    opt, _ = _run("Adam", dict(lr=0.01, amsgrad=True), dtype=np.float64)
    for state in opt.state.values():
        assert state["exp_avg"].dtype == np.float64


def test_float32_is_preserved_in_params_and_state():
    opt, _ = _run("RMSprop", dict(lr=np.float64(0.01), centered=True, momentum=np.float64(0.9)))
    for group in opt.param_groups:
        for p in group["params"]:
            assert p.dtype == np.float32
            assert all(v.dtype == np.float32 for k, v in opt.state[p].items() if k != "step")


# ----------------------------------------------------------------------- state dict
RESUME_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adadelta", dict(lr=0.5)),
]


@pytest.mark.parametrize("name,kwargs", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_state_dict_resumes_the_same_trajectory(name, kwargs):
    init, grads = _problem(1)
    params = [nn.Parameter(cnnlab.tensor(a.copy())) for a in init]
    groups = [dict(params=params[:1], lr=0.02), dict(params=params[1:])]
    opt = getattr(optim, name)(groups, **kwargs)
    for g in grads[:10]:
        for p, gi in zip(params, g):
            p.grad = cnnlab.tensor(gi)
        opt.step()
    saved = opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0] and saved["param_groups"][1]["params"] == [1, 2]
    resumed = [nn.Parameter(cnnlab.tensor(p.detach().numpy().copy())) for p in params]
    for g in grads[10:]:  # the original keeps going: the saved dict must be a copy
        for p, gi in zip(params, g):
            p.grad = cnnlab.tensor(gi)
        opt.step()
    opt2 = getattr(optim, name)([dict(params=resumed[:1]), dict(params=resumed[1:])], **kwargs)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.02 and opt2.param_groups[0]["params"][0] is resumed[0]
    for g in grads[10:]:
        for p, gi in zip(resumed, g):
            p.grad = cnnlab.tensor(gi)
        opt2.step()
    for p, q in zip(params, resumed):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy()), "resumed run differs from uninterrupted run"


def test_state_dict_survives_json_like_values_and_torch_state():
    """A state saved as plain arrays/numbers (JSON metadata) or by torch itself loads and resumes."""
    init, grads = _problem(2)
    ours, theirs = _params(init)
    opt = optim.Adam(ours, lr=0.01)
    topt = torch.optim.Adam(theirs, lr=0.01)
    for g in grads[:5]:
        _set_grads(ours, theirs, g)
        opt.step()
        topt.step()
    # load torch's own state_dict into a fresh cnnlab optimizer, then keep matching torch
    fresh = [nn.Parameter(cnnlab.tensor(p.detach().numpy().copy())) for p in ours]
    opt2 = optim.Adam(fresh, lr=0.5)
    opt2.load_state_dict(topt.state_dict())
    assert opt2.param_groups[0]["lr"] == 0.01
    # and a JSON-style copy of ours: string keys, lists, plain numbers
    sd = opt.state_dict()
    plain = {
        "state": {str(k): {n: (float(v.numpy()) if n == "step" else v.numpy().tolist()) for n, v in s.items()}
                  for k, s in sd["state"].items()},
        "param_groups": [dict(g, betas=list(g["betas"])) for g in sd["param_groups"]],
    }
    fresh3 = [nn.Parameter(cnnlab.tensor(p.detach().numpy().copy())) for p in ours]
    opt3 = optim.Adam(fresh3, lr=0.5)
    opt3.load_state_dict(plain)
    assert isinstance(opt3.param_groups[0]["betas"], tuple)
    for t, g in enumerate(grads[5:]):
        _set_grads(ours, theirs, g)
        for p, gi in zip(fresh + fresh3, g + g):
            p.grad = cnnlab.tensor(gi)
        opt2.step()
        opt3.step()
        topt.step()
        _compare(fresh, theirs, f"after loading torch's state, step {t + 6}")
        _compare(fresh3, theirs, f"after loading a JSON-style state, step {t + 6}")
    assert opt3.state[fresh3[0]]["exp_avg"].dtype == np.float32


def test_load_state_dict_rejects_a_different_layout():
    a, b, c = (nn.Parameter(cnnlab.randn(2)) for _ in range(3))
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([dict(params=[a]), dict(params=[b])], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a, b, c], lr=0.1).load_state_dict(sd)


# ----------------------------------------------------------------------- the API
@pytest.mark.parametrize("name,kwargs,message", [
    ("SGD", dict(lr=-1), "Invalid learning rate: -1"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Adam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("AdamW", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("RMSprop", dict(alpha=-1), "Invalid alpha value: -1"),
    ("RMSprop", dict(momentum=-1), "Invalid momentum value: -1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
])
def test_invalid_hyperparameters_use_torchs_messages(name, kwargs, message):
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)([nn.Parameter(cnnlab.randn(2))], **kwargs)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.randn(2))], **kwargs)
    assert str(ours.value) == message == str(theirs.value)


def test_bad_params_arguments():
    p = nn.Parameter(cnnlab.randn(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="sets"):
        optim.SGD([{"params": {p}}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    x = cnnlab.randn(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2], lr=0.1)


def test_zero_grad_step_closure_and_add_param_group():
    w = nn.Parameter(cnnlab.tensor([1.0, -2.0]))
    b = nn.Parameter(cnnlab.tensor([0.5]))
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5

    def closure():
        opt.zero_grad()
        assert cnnlab.is_grad_enabled()
        loss = (w * w).sum() + (b * 3).sum()
        loss.backward()
        return loss

    with cnnlab.no_grad():
        loss = opt.step(closure)
    assert float(loss) == pytest.approx(5.0 + 1.5)
    np.testing.assert_allclose(w.detach().numpy(), [1.0 - 0.2, -2.0 + 0.4], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [0.5 - 1.5], rtol=1e-6)
    opt.zero_grad(set_to_none=False)
    assert np.all(w.grad.numpy() == 0)
    opt.zero_grad()
    assert w.grad is None and b.grad is None
    opt.step()  # no gradients: nothing moves
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)
    assert "Parameter Group 1" in repr(opt) and "momentum: 0.9" in repr(opt)


def test_named_parameters_are_accepted():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


# ----------------------------------------------------------------------- clipping
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    init, grads = _problem(3, steps=1)
    ours, theirs = _params(init)
    _set_grads(ours, theirs, grads[0])
    ours.append(nn.Parameter(cnnlab.randn(2)))  # a parameter without a gradient is skipped
    theirs.append(torch.nn.Parameter(torch.randn(2)))
    total = nn.utils.clip_grad_norm_(iter(ours), max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(iter(theirs), max_norm, norm_type=norm_type)
    assert isinstance(total, cnnlab.Tensor) and total.dtype == np.float32 and total.shape == ()
    _assert_close(total.numpy(), ttotal.numpy(), "total norm", 1e-6, 1e-6)
    for i, (p, q) in enumerate(zip(ours[:-1], theirs[:-1])):
        _assert_close(p.grad.numpy(), q.grad.numpy(), f"clipped gradient {i}", 1e-6, 1e-7)
    assert ours[-1].grad is None


def test_clip_grad_norm_nonfinite_and_empty():
    p = nn.Parameter(cnnlab.randn(3))
    p.grad = cnnlab.tensor([1.0, float("nan"), 2.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isnan(float(nn.utils.clip_grad_norm_(p, 1.0)))
    assert float(nn.utils.clip_grad_norm_([nn.Parameter(cnnlab.randn(2))], 1.0)) == 0.0


def test_clip_grad_value_matches_torch():
    init, grads = _problem(4, steps=1)
    ours, theirs = _params(init)
    _set_grads(ours, theirs, grads[0])
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


# ----------------------------------------------------------------------- end to end
def test_linear_model_trained_with_sgd_momentum_reduces_its_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 2)) + 0.3).astype(np.float32)
    model = nn.Linear(5, 2)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    xs, ys = cnnlab.tensor(x), cnnlab.tensor(y)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((model(xs) - ys) ** 2).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.01 * losses[0], losses
    assert model.weight.dtype == np.float32


def test_add_scaled_matches_the_one_line_update_without_a_full_temporary():
    """Blocks of a small scratch buffer give exactly ``target += alpha * source``."""
    from cnnlab.optim import optimizer

    rng = np.random.default_rng(0)
    for size in (10, optimizer.CHUNK + 7, 3 * optimizer.CHUNK):
        target, source = rng.standard_normal((2, size), dtype=np.float32)
        expected = target - 0.01 * source
        optimizer.add_scaled(target, source, -0.01)
        np.testing.assert_array_equal(target, expected)
