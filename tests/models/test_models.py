"""The model zoo: registry API, the lecture's parameter counts, and every model against torch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch_zoo import TORCH_ZOO

import cnnlab
from cnnlab import models

# The figures the issue and the lecture state (and two well-known ones).
EXPECTED_PARAMS = {
    "mnist-mlp": 109_386,        # lecture: "109.386K"
    "mnist-cnn": 35_330,
    "alexnet": 62_378_344,       # the lecture's table, with correct FC biases
    "alexnet-2gpu": 60_965_224,  # Krizhevsky et al.'s two-GPU split
    "tinyvgg": 19_920,
    "lenet5": 61_706,
    "boston-mlp": 173,
    "iris-mlp": 563,
}
SMALL = ["boston-mlp", "iris-mlp", "mnist-mlp", "mnist-cnn", "tinyvgg", "lenet5", "cifar-cnn"]


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_registry_names_and_specs():
    names = set(models.available())
    assert names >= {"mlp", "boston-mlp", "iris-mlp", "mnist-mlp", "mnist-cnn", "alexnet", "alexnet-2gpu",
                     "alexnet-torchvision", "lenet5", "tinyvgg", "cifar-cnn"}
    assert models.available() == sorted(models.available())
    s = models.spec("alexnet")
    assert (s.name, s.input_shape, s.num_outputs, s.task) == ("alexnet", (3, 227, 227), 1000, "classification")
    assert models.spec("boston-mlp").task == "regression"
    assert models.spec("tinyvgg").input_shape == (3, 64, 64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "x"
    for name in names:
        assert callable(models.spec(name).constructor) and models.spec(name).description


def test_unknown_names_and_arguments_are_clear():
    with pytest.raises(ValueError, match="unknown model 'resnet'.*alexnet.*mnist-cnn"):
        models.create("resnet")
    with pytest.raises(ValueError, match="unknown model"):
        models.spec("nope")
    with pytest.raises(ValueError, match="model 'mnist-cnn'.*bogus"):
        models.create("mnist-cnn", bogus=1)
    with pytest.raises(ValueError, match="groups.*1.*2.*got 4"):
        models.create("alexnet", groups=4)
    with pytest.raises(ValueError, match="unknown activation 'swishy'; valid: .*relu"):
        models.create("mlp", sizes=[3, 2], activation="swishy")


@pytest.mark.parametrize("name,expected", sorted(EXPECTED_PARAMS.items()))
def test_lecture_parameter_counts(name, expected):
    with cnnlab.summarize.skip_init():
        assert n_params(models.create(name)) == expected


def test_groups_variant_and_generic_mlp():
    with cnnlab.summarize.skip_init():
        assert n_params(models.create("alexnet", groups=2)) == 60_965_224
    net = models.create("mlp", sizes=[10, 7, 3], activation="tanh")
    assert n_params(net) == 10 * 7 + 7 + 7 * 3 + 3
    assert net(cnnlab.randn(5, 10)).shape == (5, 3)
    # mnist-mlp flattens image batches itself
    assert models.create("mnist-mlp")(cnnlab.randn(2, 1, 28, 28)).shape == (2, 10)


def _torch_state_to_ours(tmodel, ours):
    ours.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})


@pytest.mark.parametrize("name", SMALL)
def test_small_models_match_torch(name):
    """Same state_dict keys and shapes; same outputs once torch's weights are loaded."""
    build, shape = TORCH_ZOO[name]
    tmodel, ours = build().eval(), models.create(name).eval()
    t_sd, o_sd = tmodel.state_dict(), ours.state_dict()
    assert list(o_sd) == list(t_sd)
    assert {k: tuple(v.shape) for k, v in o_sd.items()} == {k: tuple(v.shape) for k, v in t_sd.items()}
    assert n_params(ours) == sum(p.numel() for p in tmodel.parameters())
    _torch_state_to_ours(tmodel, ours)
    x = np.random.default_rng(0).standard_normal((3, *shape)).astype(np.float32)
    with cnnlab.no_grad():
        out = ours(cnnlab.from_numpy(x)).numpy()
    expected = tmodel(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5, err_msg=f"{name}: cnnlab vs torch")


def test_mnist_cnn_has_the_lecture_layers():
    net = models.create("mnist-cnn")
    assert (net.conv1.in_channels, net.conv1.out_channels, tuple(net.conv1.kernel_size)) == (1, 16, (5, 5))
    assert (net.conv2.in_channels, net.conv2.out_channels, tuple(net.conv2.kernel_size)) == (16, 24, (5, 5))
    assert (net.fc1.in_features, net.fc1.out_features, net.fc2.out_features) == (384, 64, 10)
    assert net.dropout.p == 0.5
    with pytest.raises(ValueError, match="expected 1×28×28"):
        net(cnnlab.zeros(1, 1, 32, 32))


@pytest.mark.parametrize("name", ["alexnet", "alexnet-2gpu", "alexnet-torchvision"])
def test_alexnets_match_torch(name):
    """Full-size AlexNets: keys, shapes and counts equal torch's; outputs equal with torch's weights."""
    build, shape = TORCH_ZOO[name]
    torch.manual_seed(0)
    tmodel = build().eval()
    with cnnlab.summarize.skip_init():
        ours = models.create(name).eval()
    t_sd = tmodel.state_dict()
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [(k, tuple(v.shape)) for k, v in t_sd.items()]
    assert n_params(ours) == sum(p.numel() for p in tmodel.parameters())
    _torch_state_to_ours(tmodel, ours)
    x = np.random.default_rng(1).standard_normal((1, *shape)).astype(np.float32)
    with cnnlab.no_grad():
        out = ours(cnnlab.from_numpy(x)).numpy()
    expected = tmodel(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-5, err_msg=f"{name}: cnnlab vs torch")


def test_alexnet_torchvision_keys_are_torchvisions():
    with cnnlab.summarize.skip_init():
        keys = list(models.create("alexnet-torchvision").state_dict())
        ten_classes = models.create("alexnet-torchvision", num_classes=10)
    # torchvision.models.alexnet().state_dict() keys (torchvision 0.15+)
    expected = [f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias")] + [
        f"classifier.{i}.{p}" for i in (1, 4, 6) for p in ("weight", "bias")]
    assert keys == expected
    assert n_params(ten_classes) == 61_100_840 - 4096 * 990 - 990


def test_models_train_one_step():
    """A backward pass reaches every parameter of the CNNs (the zoo is trainable, not just printable)."""
    for name in ("mnist-cnn", "tinyvgg", "cifar-cnn", "lenet5"):
        net = models.create(name)
        x = cnnlab.randn(2, *models.spec(name).input_shape)
        net(x).sum().backward()
        missing = [k for k, p in net.named_parameters() if p.grad is None]
        assert not missing, f"{name}: no gradient for {missing}"
