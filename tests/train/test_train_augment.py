"""Training with --train-augment: the loader hands out augmented, preprocessed images drawn per
epoch, and a run stopped after one epoch and resumed ends with the uninterrupted run's weights."""

import json

import numpy as np
import pytest

from cnnlab import datasets
from cnnlab.checkpoint import read_checkpoint
from cnnlab.train.augment import AugmentedImages
from cnnlab.train.recipe import apply_preprocess, fit_preprocess
from cnnlab.train.session import TrainConfig, train_run
from cnnlab.transforms import RandomChallenges

CFG = dict(model="mnist-cnn", data="fashion-mnist", epochs=2, limit_train=96, limit_test=32, val_split=0.0,
           augment="viewpoint,deformation", seed=4)


def test_dataset_gives_the_augmented_preprocessed_batch():
    images = np.asarray(datasets.create("fashion-mnist", train=True).data[:16])
    labels = np.arange(16) % 10
    pre = fit_preprocess(images)
    ds = AugmentedImages(images, labels, pre, RandomChallenges("viewpoint", p=1.0, seed=2))
    ds.set_epoch(3)
    x, y = ds.__getitems__([5, 1])
    ref = RandomChallenges("viewpoint", p=1.0, seed=2)
    ref.set_epoch(3)
    np.testing.assert_array_equal(x, apply_preprocess(ref(images[[5, 1]], indices=[5, 1]), pre))
    np.testing.assert_array_equal(y, labels[[5, 1]])
    assert not np.array_equal(x, apply_preprocess(images[[5, 1]], pre))


def _weights(run):
    tensors, _ = read_checkpoint(run / "checkpoint.safetensors")
    return {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}


@pytest.mark.slow  # three tiny trainings: ~12 s on 2 busy cores
def test_resumed_augmented_run_equals_the_whole_run(tmp_path):
    train_run(TrainConfig(**CFG), out=tmp_path / "whole", root=tmp_path, progress=False, log=None)
    train_run(TrainConfig(**CFG), out=tmp_path / "part", root=tmp_path, progress=False, log=None, stop_after=1)
    cfg = TrainConfig(**json.loads((tmp_path / "part" / "run.json").read_text())["config"])
    assert cfg.augment == "viewpoint,deformation"  # run.json keeps the recipe for --resume
    train_run(cfg, out=tmp_path / "part", root=tmp_path, resume=True, progress=False, log=None)
    whole, part = _weights(tmp_path / "whole"), _weights(tmp_path / "part")
    for k in whole:
        np.testing.assert_array_equal(whole[k], part[k])
    plain = dict(CFG, augment=None)
    train_run(TrainConfig(**plain), out=tmp_path / "plain", root=tmp_path, progress=False, log=None)
    assert not np.array_equal(_weights(tmp_path / "plain")["conv1.weight"], whole["conv1.weight"])
