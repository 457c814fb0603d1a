"""Robustness sweeps: strength 0 is the clean image and the clean accuracy; transforms do what they say."""

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
    for ch in ("rotation", "occlusion"):
        accs = robustness.sweep(ours, INFO, data[0], data[1], ch, seed=0)
        assert accs[0] == clean


def test_transforms_match_their_definitions(data):
    img = data[0][:2]
    p = img.astype(np.float64) / 255
    np.testing.assert_array_equal(robustness.transform(img, "brightness", 0.2),
                                  np.rint(np.clip(p + 0.2, 0, 1) * 255).astype(np.uint8))
    rot = robustness.transform(img, "rotation", 90)
    # 90° about the centre of an even square is np.rot90 (up to the interpolation's rounding)
    assert np.abs(rot.astype(int) - np.rot90(img, 1, axes=(1, 2)).astype(int)).max() <= 1
    sh = robustness.transform(img, "translation", 3)
    np.testing.assert_array_equal(sh[:, 3:, 3:], img[:, :-3, :-3])
    occ = robustness.transform(img, "occlusion", 8, seed=4)
    assert ((occ == 0) & (img != 0)).sum() > 0 and np.all((occ == img) | (occ == 0))
    np.testing.assert_array_equal(robustness.transform(img, "clutter", 0.3, seed=5),
                                  robustness.transform(img, "clutter", 0.3, seed=5))
    small = robustness.transform(img, "scale", 0.5)
    assert (small[:, :7] == 0).all() and (small[:, -7:] == 0).all()  # shrunk to the middle half


def test_bad_challenge_names_the_choices(data):
    with pytest.raises(ValueError, match="challenge must be one of rotation, scale"):
        robustness.transform(data[0], "blur", 1)
