"""Robustness sweeps: strength 0 is the clean image and the clean accuracy; transforms do what they say
(elastic deformation against Simard et al.'s formula computed here with scipy directly)."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import datasets, inspect, models, robustness
from cnnlab.train.recipe import apply_preprocess
from torch_zoo import MnistCNN

PRE = {"kind": "image", "image_shape": [1, 28, 28], "mean": [0.286], "std": [0.353]}
INFO = inspect.RunInfo(preprocess="image", image_shape=(1, 28, 28), mean=(0.286,), std=(0.353,))


@pytest.fixture(scope="module")
def data():
    ds = datasets.create("fashion-mnist", train=False)
    return np.asarray(ds.data[:30]), np.asarray(ds.targets[:30])


@pytest.mark.parametrize("challenge", list(robustness.SWEEPS))
def test_identity_strength_returns_the_images(data, challenge):
    s0 = robustness.SWEEPS[challenge][0]
    np.testing.assert_array_equal(robustness.transform(data[0], challenge, s0), data[0])
    changed = robustness.transform(data[0], challenge, robustness.SWEEPS[challenge][-1], seed=1)
    assert changed.dtype == np.uint8 and changed.shape == data[0].shape and np.any(changed != data[0])


def test_strength_0_accuracy_is_clean_accuracy_by_torch(data):
    cnnlab.manual_seed(2)
    ours = models.create("mnist-cnn")
    theirs = MnistCNN().eval()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    with torch.no_grad():
        clean = (theirs(torch.tensor(apply_preprocess(data[0], PRE))).argmax(1).numpy() == data[1]).mean()
    for ch in ("viewpoint", "occlusion", "deformation", "clutter"):
        accs = robustness.sweep(ours, INFO, data[0], data[1], ch, seed=0)
        assert accs[0] == clean


def test_transforms_match_their_definitions(data):
    img = data[0][:2]
    p = img.astype(np.float64) / 255
    np.testing.assert_array_equal(robustness.transform(img, "brightness", 0.2),
                                  np.rint(np.clip(p + 0.2, 0, 1) * 255).astype(np.uint8))
    rot = robustness.transform(img, "viewpoint", 90)
    # 90° about the centre of an even square is np.rot90 (up to the interpolation's rounding)
    assert np.abs(rot.astype(int) - np.rot90(img, 1, axes=(1, 2)).astype(int)).max() <= 1
    sh = robustness.transform(img, "translation", 3)
    np.testing.assert_array_equal(sh[:, 3:, 3:], img[:, :-3, :-3])
    occ = robustness.transform(img, "occlusion", 8, seed=4)
    assert ((occ == 0) & (img != 0)).sum() > 0 and np.all((occ == img) | (occ == 0))
    np.testing.assert_array_equal(robustness.transform(img, "noise", 0.3, seed=5),
                                  robustness.transform(img, "noise", 0.3, seed=5))
    small = robustness.transform(img, "scale", 0.5)
    assert (small[:, :7] == 0).all() and (small[:, -7:] == 0).all()  # shrunk to the middle half


def test_bad_challenge_names_the_choices(data):
    with pytest.raises(ValueError, match="challenge must be one of viewpoint, scale, deformation"):
        robustness.transform(data[0], "blur", 1)


def test_elastic_deformation_is_simards_field(data):
    from scipy.ndimage import gaussian_filter, map_coordinates

    img = data[0][3]
    out = robustness.transform(data[0][3:4], "deformation", 34, seed=7)[0]
    # the same draws, by hand: image 0 of the batch uses the generator seeded (7, 0)
    u = np.random.default_rng([7, 0]).uniform(-1, 1, (2, 28, 28))
    dy, dx = 34 * gaussian_filter(u[0], 4, mode="constant"), 34 * gaussian_filter(u[1], 4, mode="constant")
    yy, xx = np.mgrid[0:28, 0:28]
    expect = map_coordinates(img / 255.0, [yy + dy, xx + dx], order=1, mode="constant", cval=0.0)
    np.testing.assert_array_equal(out, np.rint(np.clip(expect, 0, 1) * 255).astype(np.uint8))
    assert 0.5 < np.hypot(dy, dx).mean() < 3  # a deformation of a pixel or two, as in the paper
    # reproducible with the seed, different with another
    np.testing.assert_array_equal(out, robustness.transform(data[0][3:4], "deformation", 34, seed=7)[0])
    assert np.any(out != robustness.transform(data[0][3:4], "deformation", 34, seed=8)[0])


def test_clutter_fills_the_dark_background_only(data):
    img = data[0][:4]
    out = robustness.transform(img, "clutter", 0.6, seed=2)
    dark, bright = img == 0, img == 255
    assert out[dark].max() > 100 and out[dark].mean() > 40          # texture shows on black
    assert out[dark].max() <= round(0.6 * 255)                     # at the contrast asked for
    np.testing.assert_array_equal(out[bright], 255)                 # white stays white
    assert np.all(out.astype(int) >= img)                           # never darker


def test_groups_expand_to_the_lecture_names():
    assert robustness.expand(["rotation", "illumination", "viewpoint"]) == ["viewpoint", "brightness", "contrast", "gamma"]
    with pytest.raises(ValueError, match="got 'blur'"):
        robustness.expand(["blur"])
