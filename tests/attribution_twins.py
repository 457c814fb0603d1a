"""Random small CNN classifiers built twice, in cnnlab and in torch, with the same weights:
the models the attribution tests ask both libraries (and Captum) about."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as tnn

import cnnlab
from cnnlab import nn


@dataclass
class Twin:
    ours: object
    theirs: object
    input_shape: tuple[int, int, int]
    convs: list[str]            # qualified names of the conv layers (Grad-CAM candidates)
    classes: int
    max_pool: bool              # near-constant inputs make near-ties that rounding may break either way


def _out(size, k, s, p):
    return (size + 2 * p - k) // s + 1


def random_twin(seed: int) -> Twin:
    """conv → act → pool → conv → act → flatten → linear, with random sizes and activations."""
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 4)), int(rng.integers(12, 20)), int(rng.integers(12, 20))
    f1, f2, classes = int(rng.integers(3, 8)), int(rng.integers(3, 8)), int(rng.integers(3, 8))
    k1, s1, p1 = int(rng.integers(2, 5)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    k2, p2 = int(rng.integers(2, 4)), int(rng.integers(0, 2))
    act = ["relu", "tanh"][int(rng.integers(0, 2))]
    pool = ["max", "avg"][int(rng.integers(0, 2))]
    ho, wo = _out(h, k1, s1, p1) // 2, _out(w, k1, s1, p1) // 2
    ho, wo = _out(ho, k2, 1, p2), _out(wo, k2, 1, p2)

    def build(lib):
        act_cls = {"relu": lib.ReLU, "tanh": lib.Tanh}[act]
        pool_cls = {"max": lib.MaxPool2d, "avg": lib.AvgPool2d}[pool]
        return lib.Sequential(
            lib.Conv2d(c, f1, k1, stride=s1, padding=p1), act_cls(), pool_cls(2),
            lib.Conv2d(f1, f2, k2, padding=p2), act_cls(), lib.Flatten(), lib.Linear(f2 * ho * wo, classes))

    torch.manual_seed(seed)
    theirs = build(tnn).eval()
    ours = build(nn).eval()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return Twin(ours, theirs, (c, h, w), ["0", "3"], classes, pool == "max")


def mnist_cnn_twin(seed: int) -> Twin:
    """The lecture's mnist-cnn (tests/torch_zoo.py's torch twin), random weights."""
    from torch_zoo import MnistCNN

    torch.manual_seed(seed)
    theirs = MnistCNN().eval()
    ours = cnnlab.models.create("mnist-cnn").eval()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return Twin(ours, theirs, (1, 28, 28), ["conv1", "conv2"], 10, True)


def inputs(twin: Twin, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *twin.input_shape)).astype(np.float32)


def assert_equal_within_rounding(ours, theirs, what: str, rtol=2e-4, atol_frac=2e-5):
    """float32 rounding of two libraries' sums: relative, with an absolute floor scaled to the map."""
    ours = np.asarray(ours.numpy() if hasattr(ours, "numpy") else ours, dtype=np.float64)
    theirs = np.asarray(theirs.detach().numpy() if hasattr(theirs, "detach") else theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: cnnlab shape {ours.shape} vs Captum {theirs.shape}"
    atol = atol_frac * max(np.abs(theirs).max(), 1e-12)
    if not np.allclose(ours, theirs, rtol=rtol, atol=atol):
        i = np.unravel_index(np.argmax(np.abs(ours - theirs) - rtol * np.abs(theirs)), ours.shape)
        raise AssertionError(f"{what}: cnnlab vs Captum differ at {i}: {ours[i]!r} vs {theirs[i]!r} "
                             f"(max abs diff {np.abs(ours - theirs).max():.3g}, atol {atol:.3g})")
