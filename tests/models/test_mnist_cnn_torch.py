"""The lecture's MNIST CNN built in cnnlab and in torch: weights move both ways, and the
outputs, the loss and every parameter gradient agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn

RTOL, ATOL = 1e-5, 1e-5


def _define(lib):
    """The same class in both libraries, with the same attribute (state_dict) names."""

    class MnistCNN(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = lib.nn.Conv2d(1, 16, kernel_size=5)
            self.relu1 = lib.nn.ReLU()
            self.pool1 = lib.nn.MaxPool2d(2)
            self.conv2 = lib.nn.Conv2d(16, 24, kernel_size=5)
            self.relu2 = lib.nn.ReLU()
            self.pool2 = lib.nn.MaxPool2d(2)
            self.flatten = lib.nn.Flatten()
            self.fc1 = lib.nn.Linear(384, 64)
            self.relu3 = lib.nn.ReLU()
            self.dropout = lib.nn.Dropout(0.5)
            self.fc2 = lib.nn.Linear(64, 10)

        def forward(self, x):
            x = self.pool1(self.relu1(self.conv1(x)))
            x = self.pool2(self.relu2(self.conv2(x)))
            return self.fc2(self.dropout(self.relu3(self.fc1(self.flatten(x)))))

    return MnistCNN()


def _cross_entropy(logits, labels, lib):
    """Mean −log softmax(logits)[label], computed by hand so the test needs no loss module."""
    logp = logits.log_softmax(1)
    onehot = np.eye(10, dtype=np.float32)[labels]
    onehot = cnnlab.tensor(onehot) if lib is cnnlab else torch.tensor(onehot)
    return -(logp * onehot).sum() / len(labels)


def _batch(seed=0):
    """MNIST-like images: mostly blank background (ties in every pooling window) plus strokes."""
    rng = np.random.default_rng(seed)
    x = np.zeros((16, 1, 28, 28), dtype=np.float32)
    x[:, :, 6:22, 8:20] = rng.uniform(0, 1, (16, 1, 16, 12)) * (rng.uniform(0, 1, (16, 1, 16, 12)) > 0.5)
    return x, rng.integers(0, 10, 16)


def _compare(ours, theirs, x, labels):
    ours.eval(), theirs.eval()  # dropout off in both: the comparison does not depend on p
    out_ours, out_theirs = ours(cnnlab.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), RTOL, ATOL, err_msg="logits: cnnlab vs torch")
    loss_ours, loss_theirs = _cross_entropy(out_ours, labels, cnnlab), _cross_entropy(out_theirs, labels, torch)
    np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), RTOL, ATOL, err_msg="loss: cnnlab vs torch")
    loss_ours.backward()
    loss_theirs.backward()
    names = [n for n, _ in theirs.named_parameters()]
    assert names == [n for n, _ in ours.named_parameters()]
    assert len(names) == 8
    for name, p in theirs.named_parameters():
        g_ours = dict(ours.named_parameters())[name].grad
        assert g_ours is not None, f"{name}: cnnlab has no gradient"
        np.testing.assert_allclose(g_ours.numpy(), p.grad.numpy(), RTOL, ATOL, err_msg=f"grad of {name}: cnnlab vs torch")


@pytest.mark.parametrize("seed", [0, 1])
def test_torch_weights_into_cnnlab(seed):
    torch.manual_seed(seed)
    theirs, ours = _define(torch), _define(cnnlab)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    _compare(ours, theirs, *_batch(seed))


@pytest.mark.parametrize("seed", [0, 1])
def test_cnnlab_weights_into_torch(seed):
    cnnlab.manual_seed(seed)
    ours, theirs = _define(cnnlab), _define(torch)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    _compare(ours, theirs, *_batch(seed))


def test_parameter_count_matches_lecture():
    assert sum(p.numel() for p in _define(cnnlab).parameters()) == 35_330
    assert isinstance(_define(cnnlab).conv1, nn.Conv2d)
