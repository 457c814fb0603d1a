"""Units: activation maximisation climbs and is seeded; top patches are the brute-force top k
(torch computes the maps); crops are the true receptive field; oriented filters tune where built."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import models, nn, units
from torch_zoo import MnistCNN


@pytest.fixture(scope="module")
def twins():
    cnnlab.manual_seed(1)
    ours = models.create("mnist-cnn")
    theirs = MnistCNN().eval()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(-1, 2, (24, 1, 28, 28)).astype(np.float32)


def test_maximize_climbs_and_is_reproducible(twins):
    model = twins[0]
    before = {k: np.array(v.numpy(), copy=True) for k, v in model.state_dict().items()}
    img, act, hist = units.maximize(model, "conv2", 5, steps=16, generator=3, input_shape=(1, 28, 28))
    q = len(hist) // 4
    assert np.mean(hist[-q:]) > np.mean(hist[:q]) and act > hist[0]
    img2, act2, _ = units.maximize(model, "conv2", 5, steps=16, generator=3, input_shape=(1, 28, 28))
    np.testing.assert_array_equal(img, img2)
    assert act == act2
    # The activation reported is the unit's, as torch computes it.
    tm = twins[1]
    with torch.no_grad():
        t = tm.conv2(tm.pool(tm.relu(tm.conv1(torch.tensor(img[None])))))
    assert np.isclose(act, t[0, 5].mean().item(), rtol=1e-4, atol=1e-5)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert all(p.grad is None for p in model.parameters())


def test_top_patches_are_the_brute_force_top_k(twins, images):
    ours, theirs = twins
    with torch.no_grad():
        maps = theirs.conv1(torch.tensor(images))[:, 7].numpy()
    best = maps.reshape(len(maps), -1).max(axis=1)
    expect = np.argsort(-best, kind="stable")[:5]
    patches = units.top_patches(ours, images, "conv1", 7, k=5)
    assert [p.index for p in patches] == expect.tolist()
    np.testing.assert_allclose([p.activation for p in patches], best[expect], rtol=1e-4, atol=1e-5)
    for p in patches:
        i, j = p.position
        assert np.isclose(maps[p.index, i, j], p.activation, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(p.crop, images[p.index][:, i:i + 5, j:j + 5])


def test_conv2_crop_is_its_receptive_field(twins, images):
    ours, _ = twins
    (p,) = units.top_patches(ours, images, "conv2", 2, k=1)
    top, left, h, w = p.box
    assert (h, w) == (14, 14)
    x = images[p.index:p.index + 1].copy()
    i, j = p.position
    base = units.layer_output(ours, x, "conv2")[0, 2, i, j]
    outside = x.copy()
    mask = np.ones(x.shape, bool)
    mask[..., max(top, 0):top + h, max(left, 0):left + w] = False
    outside[mask] += 5.0
    assert np.isclose(units.layer_output(ours, outside, "conv2")[0, 2, i, j], base, atol=1e-5)
    inside = x.copy()
    inside[..., top, left] += 5.0          # the box's corners are inside the field
    inside[..., top + h - 1, left + w - 1] += 5.0
    assert not np.isclose(units.layer_output(ours, inside, "conv2")[0, 2, i, j], base, atol=1e-5)


def test_hand_built_oriented_filters_tune_where_built():
    conv = nn.Conv2d(1, 3, 3, bias=False)
    vertical = np.array([[1, 0, -1]] * 3, np.float32)           # luminance changing along x: vertical bars
    diagonal = np.array([[j - i for j in range(3)] for i in range(3)], np.float32)  # changing along x - y
    w = np.stack([vertical, vertical.T, diagonal])[:, None]
    with cnnlab.no_grad():
        conv.weight.copy_(cnnlab.from_numpy(w))
    model = nn.Sequential(conv)
    t = units.orientation_tuning(model, "0", input_shape=(1, 20, 20))
    assert t.preferred.tolist() == [0.0, 90.0, 135.0]
    assert np.all(t.selectivity > 0.8)
    assert t.curves.shape == (3, 12)


def test_bad_layer_and_channel_name_themselves(twins, images):
    ours, _ = twins
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        units.top_patches(ours, images[:2], "conv9", 0)
    with pytest.raises(ValueError, match=r"layer 'conv1' has channels 0..15, got channel=16"):
        units.top_patches(ours, images[:2], "conv1", 16)
    with pytest.raises(ValueError, match="angles"):
        units.orientation_tuning(ours, "conv1", angles=[0, 200], input_shape=(1, 28, 28))


def test_pooling_makes_a_simple_cell_complex():
    # A vertical-edge filter [1, 0, -1] (each row) answers a one-pixel vertical bar only where
    # the bar meets its positive column: one position. Max pooling 2x2 after ReLU answers
    # wherever that happens inside its window: two positions, the same value (Hubel and Wiesel's
    # complex cell). 16x16 input: conv unit 7 (field columns 7..9) sees the centre column 8; the
    # pool unit 3 (field 6..9, centre 7.5) is the nearest pooled one.
    conv = nn.Conv2d(1, 1, 3, bias=False)
    with cnnlab.no_grad():
        conv.weight.copy_(cnnlab.from_numpy(np.array([[[[1, 0, -1]] * 3]], np.float32)))
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))
    offsets = np.arange(-4, 5)
    simple = units.position_tolerance(model, "0", input_shape=(1, 16, 16), offsets=offsets, angles=0)
    complex_ = units.position_tolerance(model, "2", input_shape=(1, 16, 16), offsets=offsets, angles=0)
    assert simple.unit == (7, 7) and complex_.unit == (3, 3)
    np.testing.assert_array_equal(simple.responses[0], [0, 0, 0, 3, 0, 0, 0, 0, 0])   # bar at column 7 only
    np.testing.assert_array_equal(complex_.responses[0], [0, 0, 3, 3, 0, 0, 0, 0, 0])  # columns 6 and 7
    assert simple.width.tolist() == [1.0] and complex_.width.tolist() == [2.0]
    # a bias lifts the floor, not the width
    with cnnlab.no_grad():
        conv.bias = nn.Parameter(cnnlab.from_numpy(np.array([0.5], np.float32)))
    lifted = units.position_tolerance(model, "2", input_shape=(1, 16, 16), offsets=offsets, angles=0)
    np.testing.assert_array_equal(lifted.responses[0], complex_.responses[0] + 0.5)
    assert lifted.width.tolist() == [2.0]
    conv.bias = None
    # at 90 degrees (a horizontal bar) the vertical-edge filter is silent everywhere
    assert units.position_tolerance(model, "2", input_shape=(1, 16, 16), angles=90).responses.max() == 0


def test_position_responses_are_torchs(twins):
    ours, theirs = twins
    t = units.position_tolerance(ours, "pool", input_shape=(1, 28, 28), angles=45, mean=(0.3,), std=(0.4,))
    # "pool" is the first pool (12x12, field 6, jump 2): unit 6 sees columns 12..17, centre 14.5
    assert t.unit == (6, 6) and t.offsets.tolist() == list(range(-7, 8))
    bars = np.stack([units.bar((28, 28), 45, o) for o in t.offsets])[:, None]
    with torch.no_grad():
        y = theirs.pool(theirs.relu(theirs.conv1(torch.tensor((bars - 0.3) / 0.4, dtype=torch.float32))))
    np.testing.assert_allclose(t.responses, np.maximum(y[:, :, 6, 6].numpy().T, 0), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="'fc1' gives \\(64,\\) per sample; it needs a map"):
        units.position_tolerance(ours, "fc1", input_shape=(1, 28, 28))


def test_receptive_field_of_a_module_called_twice_is_per_call(twins):
    ours, _ = twins
    assert units.receptive_field(ours, "pool", (1, 28, 28))[:2] == ((6, 6), (2, 2))
    assert units.receptive_field(ours, "pool#2", (1, 28, 28))[:2] == ((16, 16), (4, 4))
