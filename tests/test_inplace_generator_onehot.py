"""F.relu(x, inplace=True), nn.ReLU(inplace=True), cnnlab.Generator and F.one_hot, against torch."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn
from cnnlab.utils.data import DataLoader, TensorDataset, random_split
from helpers import check_against_torch, gradcheck, rand


@pytest.mark.parametrize("name,kwargs", [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7})])
def test_inplace_activation_modifies_its_input_and_keeps_gradients(name, kwargs):
    def run(lib, F, x):
        h = x * 3 - 1
        view = h.reshape(-1)
        out = getattr(F, name)(h, inplace=True, **kwargs)
        assert out is h
        return (out * out).sum() + view.sum() * 0  # the view sees the new values too

    check_against_torch(lambda x: run(cnnlab, nn.functional, x), lambda x: run(torch, torch.nn.functional, x), rand(3, 4))
    gradcheck(lambda x: run(cnnlab, nn.functional, x), rand(2, 3))
    x = cnnlab.tensor([-1.0, 2.0])
    nn.functional.relu(x, inplace=True)
    assert x.tolist() == [0.0, 2.0]


def test_inplace_on_a_leaf_that_requires_grad_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="leaf"):
        torch.nn.functional.relu(torch.ones(2, requires_grad=True), inplace=True)
    with pytest.raises(RuntimeError, match="leaf"):
        nn.functional.relu(cnnlab.ones(2, requires_grad=True), inplace=True)
    with cnnlab.no_grad():
        p = cnnlab.tensor([-1.0, 1.0], requires_grad=True)
        nn.functional.relu(p, inplace=True)
    assert p.tolist() == [0.0, 1.0]


def test_relu_module_inplace_in_a_model():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(inplace=True), torch.nn.Linear(5, 2))
    ours = nn.Sequential(nn.Linear(4, 5), nn.ReLU(inplace=True), nn.Linear(5, 2))
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = rand(3, 4)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), x)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_generator_makes_splits_and_loaders_reproducible():
    ds = TensorDataset(cnnlab.arange(20.0).reshape(20, 1), cnnlab.arange(20))
    a = random_split(ds, [0.75, 0.25], generator=cnnlab.Generator().manual_seed(42))
    cnnlab.randn(5)  # draws on the global generator change nothing
    b = random_split(ds, [0.75, 0.25], generator=cnnlab.Generator().manual_seed(42))
    assert [s.indices for s in a] == [s.indices for s in b] and [len(s) for s in a] == [15, 5]
    assert sorted(a[0].indices + a[1].indices) == list(range(20))
    g = cnnlab.Generator()
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=g)
    g.manual_seed(1)
    first = [y.tolist() for _, y in loader]
    g.manual_seed(1)
    assert [y.tolist() for _, y in loader] == first
    assert g.initial_seed() == 1 and torch.Generator().initial_seed() == cnnlab.Generator().initial_seed()
    state = g.get_state()
    x = cnnlab.randn(3, generator=g)
    g.set_state(state)
    assert cnnlab.randn(3, generator=g).equal(x)
    with pytest.raises(ValueError, match="CPU only"):
        cnnlab.Generator(device="cuda")


@pytest.mark.parametrize("labels,num_classes", [([0, 2, 1], -1), ([[1, 0], [3, 3]], 5), ([], 4), (4, 6)])
def test_one_hot_matches_torch(labels, num_classes):
    ours = nn.functional.one_hot(cnnlab.tensor(labels, dtype=cnnlab.int64), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels, dtype=torch.int64), num_classes)
    assert ours.dtype == cnnlab.int64 and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_errors():
    with pytest.raises(TypeError, match="integer"):
        nn.functional.one_hot(cnnlab.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="num_classes=2"):
        nn.functional.one_hot(cnnlab.tensor([0, 2]), 2)
    with pytest.raises(ValueError, match="non-negative"):
        nn.functional.one_hot(cnnlab.tensor([-1, 0]), 3)
