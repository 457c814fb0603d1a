"""RandomChallenges: seeded per (seed, epoch, sample), so batches, order and resumes do not change
what an image becomes; the draws stay in their ranges and apply the challenge functions."""

import numpy as np
import pytest

from cnnlab import datasets
from cnnlab.transforms import RandomChallenges, challenges
from cnnlab.transforms.augment import TRAIN_RANGES


@pytest.fixture(scope="module")
def images():
    return np.asarray(datasets.create("fashion-mnist", train=True).data[:24])


def test_same_seed_epoch_and_index_give_the_same_image_whatever_the_batch(images):
    aug = RandomChallenges("viewpoint,scale,translation,deformation", seed=3)
    aug.set_epoch(2)
    whole = aug(images, indices=range(24))
    again = RandomChallenges("viewpoint,scale,translation,deformation", seed=3)
    again.set_epoch(2)
    order = np.random.default_rng(0).permutation(24)
    parts = np.concatenate([again(images[order[:5]], indices=order[:5]), again(images[order[5:]], indices=order[5:])])
    np.testing.assert_array_equal(parts, whole[order])
    assert whole.dtype == np.uint8 and whole.shape == images.shape


def test_epochs_and_seeds_draw_anew(images):
    aug = RandomChallenges("viewpoint,deformation", seed=0)
    aug.set_epoch(1)
    e1 = aug(images)
    aug.set_epoch(2)
    e2 = aug(images)
    other = RandomChallenges("viewpoint,deformation", seed=1)
    other.set_epoch(1)
    assert np.mean(np.any(e1 != e2, axis=(1, 2))) > 0.5
    assert np.mean(np.any(e1 != other(images), axis=(1, 2))) > 0.5
    # p = 0.5 per challenge: about a quarter of the images are left as they were
    same = np.all(e1 == images, axis=(1, 2)).mean()
    assert 0.05 < same < 0.6


def test_draws_stay_in_range_and_are_what_is_applied(images):
    aug = RandomChallenges(list(TRAIN_RANGES), p=1.0, seed=5)
    aug.set_epoch(4)
    for i in range(10):
        draws = aug.draws(i)
        assert [n for n, _ in draws] == list(TRAIN_RANGES)  # p=1: all of them, in a fixed order
        for name, s in draws:
            lo, hi = TRAIN_RANGES[name]
            assert all(lo <= v <= hi for v in s) and len(s) == (2 if name == "translation" else 1)
    # one challenge at p=1: the result is that challenge's function at the drawn strength
    rot = RandomChallenges("viewpoint", p=1.0, seed=5)
    rot.set_epoch(4)
    (name, (deg,)), = rot.draws(7)
    expect = challenges.rotate(images[7] / 255.0, deg)
    np.testing.assert_array_equal(rot(images[7:8], indices=[7])[0],
                                  np.rint(np.clip(expect, 0, 1) * 255).astype(np.uint8))


def test_bad_arguments_name_themselves(images):
    with pytest.raises(ValueError, match="augmentation challenges must be names from .*got 'blur'"):
        RandomChallenges("blur")
    with pytest.raises(ValueError, match="p must lie in"):
        RandomChallenges("scale", p=2)
    with pytest.raises(ValueError, match="uint8"):
        RandomChallenges("scale")(images.astype(np.float32))
