"""FGSM / PGD vs the same formulas computed with torch on the twin model; ε = 0 is clean accuracy."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import cnnlab
from cnnlab import adversarial, datasets, inspect, models
from cnnlab.train.recipe import apply_preprocess
from torch_zoo import MnistCNN

MEAN, STD = 0.2860, 0.3530
PRE = {"kind": "image", "image_shape": [1, 28, 28], "mean": [MEAN], "std": [STD]}
INFO = inspect.RunInfo(preprocess="image", image_shape=(1, 28, 28), mean=(MEAN,), std=(STD,))


@pytest.fixture(scope="module")
def twins():
    cnnlab.manual_seed(3)
    ours = models.create("mnist-cnn")
    theirs = MnistCNN().eval()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.fixture(scope="module")
def batch():
    ds = datasets.create("fashion-mnist", train=False)
    x = apply_preprocess(np.asarray(ds.data[:40]), PRE)
    return x, np.asarray(ds.targets[:40], dtype=np.int64)


def _torch_grad_sign(model, x, y):
    xt = torch.tensor(x, requires_grad=True)
    TF.cross_entropy(model(xt), torch.tensor(y), reduction="sum").backward()
    return xt.grad.sign().numpy(), np.abs(xt.grad.numpy())


def _assert_same_where_decided(ours, theirs, grad_mag, max_diff):
    """Equal everywhere except (rarely) where torch's gradient is ~0 and the sign is a coin flip."""
    differ = ~np.isclose(ours, theirs, rtol=0, atol=1e-5)
    assert differ.mean() < 1e-3, f"{differ.sum()} values differ: ours vs torch"
    assert np.all(grad_mag[differ] < 1e-6 * grad_mag.max()) if grad_mag is not None else True
    assert np.abs(ours - theirs).max() <= max_diff + 1e-5


def test_valid_range_is_the_preprocessing_of_0_and_255():
    lo, hi = adversarial.valid_range(INFO)
    pix = apply_preprocess(np.array([[[0, 255]]], dtype=np.uint8), {**PRE, "image_shape": [1, 1, 2]})
    assert lo.shape == (1, 1, 1) and lo.ravel()[0] == pix.ravel()[0] and hi.ravel()[0] == pix.ravel()[1]
    with pytest.raises(ValueError, match="records no image preprocessing"):
        adversarial.valid_range(inspect.RunInfo(preprocess="tabular"))


def test_fgsm_equals_torch(twins, batch):
    ours, theirs = twins
    x, y = batch[0][:8], batch[1][:8]
    lo, hi = adversarial.valid_range(INFO)
    adv = adversarial.fgsm(ours, x, y, 0.3, clip=(lo, hi))
    sign, mag = _torch_grad_sign(theirs, x, y)
    ref = np.clip(x + np.float32(0.3) * sign, lo, hi)
    _assert_same_where_decided(adv, ref, mag, 0.6)
    assert adv.dtype == np.float32 and np.all(adv >= lo) and np.all(adv <= hi)
    assert np.abs(adv - x).max() <= 0.3 + 1e-6


def test_pgd_equals_torch_and_is_seeded(twins, batch):
    ours, theirs = twins
    x, y = batch[0][:6], batch[1][:6]
    lo, hi = adversarial.valid_range(INFO)
    eps, alpha, steps = 0.2, 0.08, 3
    adv = adversarial.pgd(ours, x, y, eps, alpha, steps, generator=np.random.default_rng(5), clip=(lo, hi))
    start = np.clip(x + (np.random.default_rng(5).uniform(-1, 1, size=x.shape) * eps).astype(np.float32), lo, hi)
    ref = start
    for _ in range(steps):
        sign, _ = _torch_grad_sign(theirs, ref, y)
        ref = np.clip(np.clip(ref + np.float32(alpha) * sign, x - np.float32(eps), x + np.float32(eps)), lo, hi)
    _assert_same_where_decided(adv, ref, None, 2 * alpha)
    assert np.abs(adv - x).max() <= eps + 1e-6
    again = adversarial.pgd(ours, x, y, eps, alpha, steps, generator=np.random.default_rng(5), clip=(lo, hi))
    np.testing.assert_array_equal(adv, again)
    # The attack raises the loss it climbs (torch measures it).
    loss = lambda a: TF.cross_entropy(theirs(torch.tensor(a)), torch.tensor(y)).item()  # noqa: E731
    assert loss(adv) > loss(x)


def test_pixel_eps_is_eps_over_std(twins, batch):
    e = adversarial.pixel_eps(0.05, INFO)
    assert e.shape == (1, 1, 1) and np.isclose(e.item(), 0.05 / STD)
    ours, _ = twins
    a = adversarial.fgsm(ours, batch[0][:2], batch[1][:2], e)
    b = adversarial.fgsm(ours, batch[0][:2], batch[1][:2], float(e.item()))
    np.testing.assert_array_equal(a, b)


def test_model_left_unchanged(twins, batch):
    ours, _ = twins
    ours.train()
    before = {k: np.array(v.numpy(), copy=True) for k, v in ours.state_dict().items()}
    adversarial.pgd(ours, batch[0][:2], batch[1][:2], 0.1, 0.05, 2)
    assert ours.training
    assert all(p.grad is None for p in ours.parameters())
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    ours.eval()


def test_accuracy_at_eps_0_is_clean_accuracy_and_falls(twins, batch):
    ours, theirs = twins
    x, y = batch
    clean = float((theirs(torch.tensor(x)).argmax(1).numpy() == y).mean())
    accs = adversarial.accuracy_under_attack(ours, x, y, [0.0, 0.5], clip=adversarial.valid_range(INFO),
                                             batch_size=16)
    assert accs[0] == clean
    assert accs[1] <= accs[0]


def test_bad_arguments_name_themselves(twins, batch):
    ours, _ = twins
    with pytest.raises(ValueError, match=r"fgsm: `eps` must be a finite number >= 0 \(or an array of them\), got -1"):
        adversarial.fgsm(ours, batch[0][:1], batch[1][:1], -1)
    with pytest.raises(ValueError, match="pgd: `steps`"):
        adversarial.pgd(ours, batch[0][:1], batch[1][:1], 0.1, 0.1, 0)
    with pytest.raises(ValueError, match="`target` must be 1 class indices"):
        adversarial.fgsm(ours, batch[0][:1], batch[1][:2], 0.1)
