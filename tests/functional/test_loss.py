"""Losses against torch 2.13 (float32, forward + input gradients) and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.functional as F
from cnnlab import nn
from helpers import check_against_torch, gradcheck, rand

REDUCTIONS = ["mean", "sum", "none"]


def _targets(shape, classes, seed=0, ignore=None, ignore_frac=0.3):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, shape).astype(np.int64)
    if ignore is not None:
        t[rng.random(shape) < ignore_frac] = ignore
        t.reshape(-1)[0] = 1 if ignore == 0 else 0  # one counted target keeps 'mean' finite
    return t


# ------------------------------------------------------------------ cross_entropy
@pytest.mark.parametrize("shape", [(1, 5), (7, 4), (3, 4, 5), (2, 3, 4, 3)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch(shape, reduction, weighted, ignore_index, label_smoothing):
    x = rand(*shape, seed=1, low=-3, high=3)
    t = _targets(shape[:1] + shape[2:], shape[1], seed=2, ignore=ignore_index)
    w = rand(shape[1], seed=3, low=0.1, high=2.0) if weighted else None
    kwargs = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    check_against_torch(
        lambda a, y: F.cross_entropy(a, y, None if w is None else cnnlab.tensor(w), **kwargs),
        lambda a, y: TF.cross_entropy(a, y, None if w is None else torch.tensor(w), **kwargs),
        x, t,
    )


def test_cross_entropy_module_and_legacy_args():
    x, t = rand(6, 4, seed=4), _targets((6,), 4, seed=5)
    w = rand(4, seed=6, low=0.5, high=1.5)
    check_against_torch(
        lambda a, y: nn.CrossEntropyLoss(cnnlab.tensor(w), ignore_index=2, label_smoothing=0.1)(a, y),
        lambda a, y: torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=2, label_smoothing=0.1)(a, y),
        x, t,
    )
    # deprecated size_average/reduce map to a reduction exactly as torch does
    for sa, red in [(False, None), (None, False), (True, True)]:
        ours = nn.CrossEntropyLoss(size_average=sa, reduce=red)
        with pytest.warns(UserWarning):
            theirs = torch.nn.CrossEntropyLoss(size_average=sa, reduce=red)
        assert ours.reduction == theirs.reduction


def test_cross_entropy_unbatched():
    x, t = rand(5, seed=7), np.array(3, dtype=np.int64)
    for reduction in REDUCTIONS:
        check_against_torch(lambda a, y: F.cross_entropy(a, y, reduction=reduction),
                            lambda a, y: TF.cross_entropy(a, y, reduction=reduction), x, t)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (3,)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(shape, label_smoothing, weighted):
    x = rand(*shape, seed=8, low=-2, high=2)
    p = np.random.default_rng(9).random(shape).astype(np.float32)
    p /= p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    c = shape[0] if len(shape) == 1 else shape[1]
    w = rand(c, seed=10, low=0.5, high=2) if weighted else None
    for reduction in REDUCTIONS:
        kw = dict(reduction=reduction, label_smoothing=label_smoothing)
        check_against_torch(
            lambda a, y: F.cross_entropy(a, y, None if w is None else cnnlab.tensor(w), **kw),
            lambda a, y: TF.cross_entropy(a, y, None if w is None else torch.tensor(w), **kw),
            x, p,
        )


def test_cross_entropy_large_logits_stable():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [1e4, 1e4, -1e4]], np.float32)
    t = np.array([1, 2, 0], np.int64)
    for ls in (0.0, 0.1):
        ours, _ = check_against_torch(lambda a, y: F.cross_entropy(a, y, label_smoothing=ls),
                                      lambda a, y: TF.cross_entropy(a, y, label_smoothing=ls), x, t)
        assert np.isfinite(ours.item())


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, t = rand(3, 4, seed=11), np.full(3, -100, np.int64)
    ours = F.cross_entropy(cnnlab.tensor(x), cnnlab.tensor(t)).item()
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
    assert np.isnan(ours) and np.isnan(theirs)
    assert F.cross_entropy(cnnlab.tensor(x), cnnlab.tensor(t), reduction="sum").item() == 0.0


@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_gradcheck(label_smoothing):
    t = np.array([[0, 2, -100], [1, 1, 3]], np.int64)
    w = cnnlab.tensor(rand(4, seed=12, low=0.5, high=2.0), dtype=np.float64)
    for reduction in REDUCTIONS:
        gradcheck(lambda a: F.cross_entropy(a, cnnlab.tensor(t), w, reduction=reduction,
                                            label_smoothing=label_smoothing), rand(2, 4, 3, seed=13))


def test_cross_entropy_errors():
    x = cnnlab.tensor(rand(4, 3))
    with pytest.raises(ValueError, match=r"target 7 is out of range for 3 classes"):
        F.cross_entropy(x, cnnlab.tensor([0, 1, 7, 2]))
    with pytest.raises(IndexError, match=r"target -1 .*3 classes"):  # also an IndexError, as torch
        F.cross_entropy(x, cnnlab.tensor([0, -1, 1, 2]))
    with pytest.raises(ValueError, match=r"expected class-index target of shape \(N,\) = \(4,\).*got \(4, 1\)"):
        F.cross_entropy(x, cnnlab.tensor([[0], [1], [2], [0]]))
    with pytest.raises(ValueError, match=r"unknown reduction 'avg'; valid: 'none', 'mean', 'sum'"):
        F.cross_entropy(x, cnnlab.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match=r"unknown reduction"):
        nn.CrossEntropyLoss(reduction="average")
    with pytest.raises(ValueError, match=r"`weight` of shape \(3,\)"):
        F.cross_entropy(x, cnnlab.tensor([0, 1, 2, 0]), cnnlab.ones(4))
    with pytest.raises(ValueError, match=r"probability targets must have the input's shape"):
        F.cross_entropy(x, cnnlab.ones(4, 2))


# ---------------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("shape", [(1, 3), (5, 4), (2, 4, 3, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 0])
def test_nll_loss_matches_torch(shape, reduction, weighted, ignore_index):
    x = rand(*shape, seed=14, low=-4, high=0)
    t = _targets(shape[:1] + shape[2:], shape[1], seed=15, ignore=ignore_index)
    w = rand(shape[1], seed=16, low=0.1, high=2.0) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    check_against_torch(
        lambda a, y: F.nll_loss(a, y, None if w is None else cnnlab.tensor(w), **kw),
        lambda a, y: TF.nll_loss(a, y, None if w is None else torch.tensor(w), **kw),
        x, t,
    )
    check_against_torch(
        lambda a, y: nn.NLLLoss(None if w is None else cnnlab.tensor(w), **kw)(a, y),
        lambda a, y: torch.nn.NLLLoss(None if w is None else torch.tensor(w), **kw)(a, y),
        x, t,
    )


def test_nll_loss_gradcheck_and_errors():
    t = np.array([2, -100, 0], np.int64)
    gradcheck(lambda a: F.nll_loss(a, cnnlab.tensor(t)), rand(3, 3, seed=17))
    with pytest.raises(ValueError, match=r"nll_loss: target 3 is out of range for 3 classes"):
        F.nll_loss(cnnlab.tensor(rand(2, 3)), cnnlab.tensor([3, 0]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.nll_loss(cnnlab.tensor(rand(2, 3)), cnnlab.tensor([1.0, 0.0]))
    with pytest.raises(RuntimeError):  # torch refuses float targets too
        torch.nn.functional.nll_loss(torch.tensor(rand(2, 3)), torch.tensor([1.0, 0.0]))


# ------------------------------------------------------------------- mse / l1
@pytest.mark.parametrize("fn_ours,fn_torch,mod_ours,mod_torch", [
    (F.mse_loss, TF.mse_loss, nn.MSELoss, torch.nn.MSELoss),
    (F.l1_loss, TF.l1_loss, nn.L1Loss, torch.nn.L1Loss),
])
@pytest.mark.parametrize("shape", [(1,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses_match_torch(fn_ours, fn_torch, mod_ours, mod_torch, shape, reduction):
    x, y = rand(*shape, seed=18), rand(*shape, seed=19)
    y.reshape(-1)[0] = x.reshape(-1)[0]  # a tie: l1's derivative there is 0 in torch
    check_against_torch(lambda a, b: fn_ours(a, b, reduction=reduction),
                        lambda a, b: fn_torch(a, b, reduction=reduction), x, y)
    check_against_torch(lambda a, b: mod_ours(reduction=reduction)(a, b),
                        lambda a, b: mod_torch(reduction=reduction)(a, b), x, y)
    w = rand(*shape, seed=20, low=0.1, high=1)
    check_against_torch(lambda a, b, c: fn_ours(a, b, reduction=reduction, weight=c),
                        lambda a, b, c: fn_torch(a, b, reduction=reduction, weight=c), x, y, w,
                        grad=[True, True, False])


def test_pointwise_losses_gradcheck():
    x, y = rand(3, 4, seed=21), rand(3, 4, seed=22)
    gradcheck(lambda a, b: F.mse_loss(a, b), x, y)
    gradcheck(lambda a, b: F.l1_loss(a, b, reduction="sum"), x, y)


# --------------------------------------------------------------------- BCE with logits
@pytest.mark.parametrize("shape", [(1,), (5, 3), (2, 3, 4)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_matches_torch(shape, reduction, weighted, pos_weighted):
    x = rand(*shape, seed=23, low=-5, high=5)
    y = np.random.default_rng(24).random(shape).astype(np.float32)
    w = rand(*shape[1:] or (1,), seed=25, low=0.2, high=2) if weighted else None
    pw = rand(shape[-1], seed=26, low=0.5, high=3) if pos_weighted else None

    def ours(a, b):
        return F.binary_cross_entropy_with_logits(
            a, b, None if w is None else cnnlab.tensor(w), reduction=reduction,
            pos_weight=None if pw is None else cnnlab.tensor(pw))

    def theirs(a, b):
        return TF.binary_cross_entropy_with_logits(
            a, b, None if w is None else torch.tensor(w), reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw))

    check_against_torch(ours, theirs, x, y)
    mod = nn.BCEWithLogitsLoss(None if w is None else cnnlab.tensor(w), reduction=reduction,
                               pos_weight=None if pw is None else cnnlab.tensor(pw))
    tmod = torch.nn.BCEWithLogitsLoss(None if w is None else torch.tensor(w), reduction=reduction,
                                      pos_weight=None if pw is None else torch.tensor(pw))
    check_against_torch(mod, tmod, x, y)


def test_bce_with_logits_extreme_logits_and_gradcheck():
    x = np.array([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4], np.float32)
    y = np.array([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0], np.float32)
    ours, _ = check_against_torch(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                                  lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"),
                                  x, y, rtol=1e-5, atol=1e-5)
    assert np.isfinite(ours.detach().numpy()).all()
    pw = cnnlab.tensor([2.0, 0.5, 1.5], dtype=np.float64)
    gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw),
              rand(2, 3, seed=27, low=-3, high=3), rand(2, 3, seed=28, low=0, high=1))
    with pytest.raises(ValueError, match=r"target size \(2, 1\) must be the same as input size \(2,\)"):
        F.binary_cross_entropy_with_logits(cnnlab.zeros(2), cnnlab.zeros(2, 1))


# ------------------------------------------------------------------- hypothesis
@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 6), c=st.integers(2, 6), extra=st.integers(0, 3),
    ls=st.sampled_from([0.0, 0.05, 0.5, 1.0]), weighted=st.booleans(),
    reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 1000),
)
def test_cross_entropy_hypothesis(n, c, extra, ls, weighted, reduction, seed):
    shape = (n, c) + ((extra,) if extra else ())
    x = rand(*shape, seed=seed, low=-5, high=5)
    t = _targets(shape[:1] + shape[2:], c, seed=seed + 1, ignore=-100, ignore_frac=0.2)
    w = rand(c, seed=seed + 2, low=0.1, high=3) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=ls)
    check_against_torch(
        lambda a, y: F.cross_entropy(a, y, None if w is None else cnnlab.tensor(w), **kw),
        lambda a, y: TF.cross_entropy(a, y, None if w is None else torch.tensor(w), **kw),
        x, t,
    )
