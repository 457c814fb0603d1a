"""Local response norm and batch norm against torch 2.13, NumPy references and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.functional as F
from cnnlab import nn
from helpers import _assert_close, check_against_torch, gradcheck, rand


# ---------------------------------------------------------------------------- LRN
@pytest.mark.parametrize("shape", [(1, 3, 4, 4), (2, 7, 5, 3), (3, 6, 5), (2, 5, 2, 3, 2)])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_lrn_matches_torch(shape, size):
    x = rand(*shape, seed=1, low=-3, high=3)
    kw = dict(alpha=0.5, beta=0.75, k=2.0)  # a large alpha so the window's effect is visible
    check_against_torch(lambda a: F.local_response_norm(a, size, **kw),
                        lambda a: TF.local_response_norm(a, size, **kw), x)
    check_against_torch(lambda a: nn.LocalResponseNorm(size, **kw)(a),
                        lambda a: torch.nn.LocalResponseNorm(size, **kw)(a), x)


def test_lrn_defaults_match_torch():
    x = rand(2, 8, 3, 3, seed=2, low=-20, high=20)
    check_against_torch(lambda a: nn.LocalResponseNorm(5)(a), lambda a: torch.nn.LocalResponseNorm(5)(a), x)
    assert repr(nn.LocalResponseNorm(5)) == repr(torch.nn.LocalResponseNorm(5))


def _paper_lrn_numpy(a, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """Krizhevsky et al. 2012, §3.3, written as the paper states it (loops over channels)."""
    a = a.astype(np.float64)
    channels = a.shape[1]
    b = np.empty_like(a)
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        b[:, i] = a[:, i] / (k + alpha * (a[:, lo:hi + 1] ** 2).sum(axis=1)) ** beta
    return b


def test_lrn_alexnet_paper_variant():
    # values large enough that α·Σa² is comparable to k, so α vs α/n matters
    x = rand(2, 9, 4, 4, seed=3, low=-150, high=150)
    ours = nn.LocalResponseNorm.alexnet()(cnnlab.tensor(x)).numpy()
    _assert_close(ours, _paper_lrn_numpy(x), "paper LRN: cnnlab vs NumPy", 1e-5, 1e-6)
    functional = F.local_response_norm(cnnlab.tensor(x), 5, 1e-4, 0.75, 2.0, alpha_mode="paper").numpy()
    _assert_close(functional, ours, "paper LRN: functional vs module", 1e-6, 0)
    pytorch_default = F.local_response_norm(cnnlab.tensor(x), 5, 1e-4, 0.75, 2.0).numpy()
    assert not np.allclose(pytorch_default, ours, rtol=1e-3)  # the two formulas really differ
    assert "alpha_mode='paper'" in repr(nn.LocalResponseNorm.alexnet())


@pytest.mark.parametrize("size,alpha_mode", [(3, "pytorch"), (4, "pytorch"), (5, "paper")])
def test_lrn_gradcheck(size, alpha_mode):
    gradcheck(lambda a: F.local_response_norm(a, size, alpha=0.7, beta=0.6, k=1.5, alpha_mode=alpha_mode),
              rand(2, 6, 2, 2, seed=4, low=-2, high=2))


def test_lrn_errors():
    with pytest.raises(ValueError, match=r"local_response_norm: expected input of shape \(N, C, \*\).*got \(4, 3\)"):
        F.local_response_norm(cnnlab.ones(4, 3), 3)
    with pytest.raises(ValueError, match=r"unknown alpha_mode 'alexnet'; valid: 'pytorch', 'paper'"):
        nn.LocalResponseNorm(5, alpha_mode="alexnet")


# ---------------------------------------------------------------------- batch norm
def _pair(cls_ours, cls_torch, *args, **kwargs):
    ours, theirs = cls_ours(*args, **kwargs), cls_torch(*args, **kwargs)
    if theirs.weight is not None:  # non-trivial affine parameters
        theirs.weight.data = torch.tensor(rand(args[0], seed=5, low=0.5, high=1.5))
    if theirs.bias is not None:
        theirs.bias.data = torch.tensor(rand(args[0], seed=6))
    if theirs.weight is not None:
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _compare_modules(ours, theirs, x, seed=0):
    """Forward, input and parameter gradients, and every buffer: cnnlab vs torch."""
    xo, xt = cnnlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    _assert_close(yo.detach().numpy(), yt.detach().numpy(), "forward", 1e-5, 1e-6)
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(np.float32)
    yo.backward(cnnlab.tensor(g))
    yt.backward(torch.tensor(g))
    _assert_close(xo.grad.numpy(), xt.grad.numpy(), "input gradient", 1e-5, 1e-6)
    for (name, po), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        _assert_close(po.grad.numpy(), pt.grad.numpy(), f"gradient of {name}", 1e-5, 1e-6)
        po.grad, pt.grad = None, None
    so, st_ = ours.state_dict(), theirs.state_dict()
    assert list(so) == list(st_)
    for key in so:
        _assert_close(so[key].numpy(), st_[key].numpy(), f"buffer {key}", 1e-5, 1e-6)


BN_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (2, 2)),  # smallest legal (N, C) batch
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 5)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 6)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (1, 3, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 6)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (1, 4, 3, 3)),
]


@pytest.mark.parametrize("cls_ours,cls_torch,shape", BN_CASES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batch_norm_train_then_eval(cls_ours, cls_torch, shape, affine, momentum):
    ours, theirs = _pair(cls_ours, cls_torch, shape[1], momentum=momentum, affine=affine)
    for step in range(3):  # three training steps: running stats accumulate
        x = rand(*shape, seed=10 + step, low=-2, high=3)
        _compare_modules(ours.train(), theirs.train(), x, seed=step)
    _compare_modules(ours.eval(), theirs.eval(), rand(*shape, seed=20), seed=5)
    assert int(ours.num_batches_tracked.item()) == 3


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4, 4)])
def test_batch_norm_without_running_stats(shape):
    cls = (nn.BatchNorm1d, torch.nn.BatchNorm1d) if len(shape) == 2 else (nn.BatchNorm2d, torch.nn.BatchNorm2d)
    ours, theirs = _pair(*cls, shape[1], track_running_stats=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    _compare_modules(ours.train(), theirs.train(), rand(*shape, seed=30))
    _compare_modules(ours.eval(), theirs.eval(), rand(*shape, seed=31))  # batch stats in eval too


def test_batch_norm_functional_matches_torch():
    x = rand(5, 3, 2, 2, seed=40)
    w, b = rand(3, seed=41), rand(3, seed=42)
    for training in (True, False):
        rm_o, rv_o = cnnlab.tensor(rand(3, seed=43)), cnnlab.tensor(rand(3, seed=44, low=0.5, high=2))
        rm_t, rv_t = torch.tensor(rm_o.numpy().copy()), torch.tensor(rv_o.numpy().copy())
        check_against_torch(
            lambda a, ww, bb: F.batch_norm(a, rm_o, rv_o, ww, bb, training=training, momentum=0.3, eps=1e-3),
            lambda a, ww, bb: TF.batch_norm(a, rm_t, rv_t, ww, bb, training=training, momentum=0.3, eps=1e-3),
            x, w, b,
        )
        _assert_close(rm_o.numpy(), rm_t.numpy(), "running_mean", 1e-6, 1e-6)
        _assert_close(rv_o.numpy(), rv_t.numpy(), "running_var", 1e-6, 1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    rm, rv = cnnlab.tensor(rand(3, seed=50), dtype=np.float64), cnnlab.tensor(rand(3, seed=51, low=0.5, high=2), dtype=np.float64)
    gradcheck(lambda a, w, b: F.batch_norm(a, rm, rv, w, b, training=training, momentum=0.0),
              rand(4, 3, 2, seed=52), rand(3, seed=53), rand(3, seed=54))


def test_batch_norm_state_dict_round_trip_with_torch():
    theirs = torch.nn.BatchNorm2d(4)
    theirs.train()(torch.randn(6, 4, 3, 3) * 2 + 1)
    ours = nn.BatchNorm2d(4)
    ours.load_state_dict(theirs.state_dict())
    assert int(ours.num_batches_tracked.item()) == 1
    back = torch.nn.BatchNorm2d(4)
    back.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    for k, v in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    assert repr(ours) == repr(theirs)
    assert repr(nn.BatchNorm1d(3, momentum=None, affine=False)) == repr(torch.nn.BatchNorm1d(3, momentum=None, affine=False))


def test_batch_norm_without_bias():
    ours, theirs = _pair(nn.BatchNorm2d, torch.nn.BatchNorm2d, 3, bias=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _compare_modules(ours.train(), theirs.train(), rand(2, 3, 4, 4, seed=60))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3.*expected input of shape \(N, 3, H, W\), got \(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(cnnlab.ones(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3.*expected input of shape \(N, 3, H, W\), got \(2, 3, 5\)"):
        nn.BatchNorm2d(3)(cnnlab.ones(2, 3, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*\(N, 3\) or \(N, 3, L\)"):
        nn.BatchNorm1d(3)(cnnlab.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(cnnlab.ones(1, 3))
    nn.BatchNorm1d(3).eval()(cnnlab.ones(1, 3))  # fine in eval mode, as torch


@settings(max_examples=10, deadline=None)
@given(n=st.integers(2, 5), c=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 4),
       momentum=st.sampled_from([0.0, 0.1, 1.0, None]), seed=st.integers(0, 999))
def test_batch_norm2d_hypothesis(n, c, h, w, momentum, seed):
    ours, theirs = _pair(nn.BatchNorm2d, torch.nn.BatchNorm2d, c, momentum=momentum)
    _compare_modules(ours.train(), theirs.train(), rand(n, c, h, w, seed=seed, low=-3, high=3))
    _compare_modules(ours.eval(), theirs.eval(), rand(n, c, h, w, seed=seed + 1))


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 9), h=st.integers(1, 4), size=st.integers(1, 7),
       seed=st.integers(0, 999))
def test_lrn_hypothesis(n, c, h, size, seed):
    check_against_torch(lambda a: F.local_response_norm(a, size, alpha=0.3, k=1.0),
                        lambda a: TF.local_response_norm(a, size, alpha=0.3, k=1.0),
                        rand(n, c, h, h, seed=seed, low=-3, high=3))
