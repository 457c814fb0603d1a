"""Lazy layers infer their input size at the first call and initialise as the explicit layers do."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn


def _lenet(lib, lazy: bool):
    n = lib.nn
    if lazy:
        return n.Sequential(
            n.LazyConv2d(6, kernel_size=5, padding=2), n.LazyBatchNorm2d(), n.Sigmoid(), n.AvgPool2d(2, 2),
            n.LazyConv2d(16, kernel_size=5), n.Sigmoid(), n.AvgPool2d(2, 2), n.Flatten(),
            n.LazyLinear(120), n.Sigmoid(), n.LazyLinear(10, bias=False),
        )
    return n.Sequential(
        n.Conv2d(1, 6, kernel_size=5, padding=2), n.BatchNorm2d(6), n.Sigmoid(), n.AvgPool2d(2, 2),
        n.Conv2d(6, 16, kernel_size=5), n.Sigmoid(), n.AvgPool2d(2, 2), n.Flatten(),
        n.Linear(16 * 5 * 5, 120), n.Sigmoid(), n.Linear(120, 10, bias=False),
    )


@pytest.mark.parametrize("lib", [cnnlab, torch], ids=["cnnlab", "torch"])
def test_seeded_lazy_model_equals_the_explicit_one(lib):
    x = lib.zeros(2, 1, 28, 28)  # made before seeding: nothing draws between build and first call
    lib.manual_seed(0)
    explicit = _lenet(lib, lazy=False)
    lib.manual_seed(0)
    lazy = _lenet(lib, lazy=True)
    lazy(x)
    explicit(x)  # the same batch moves BatchNorm's running statistics the same way
    assert [type(m) for m in lazy] == [type(m) for m in explicit]
    assert repr(lazy) == repr(explicit)
    ours, theirs = lazy.state_dict(), explicit.state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert tuple(ours[key].shape) == tuple(theirs[key].shape)
        np.testing.assert_array_equal(np.asarray(ours[key].numpy()), np.asarray(theirs[key].numpy()))


def test_materialised_shapes_and_reprs_match_torch():
    ours, theirs = _lenet(cnnlab, lazy=True), _lenet(torch, lazy=True)
    ours(cnnlab.zeros(2, 1, 28, 28))
    theirs(torch.zeros(2, 1, 28, 28))
    assert repr(ours) == repr(theirs)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(cnnlab.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_optimizer_built_before_the_first_call_trains_the_weights():
    cnnlab.manual_seed(1)
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    opt = cnnlab.optim.SGD(model.parameters(), lr=0.1)
    x, y = cnnlab.randn(8, 3), cnnlab.randn(8, 1)
    loss = nn.functional.mse_loss(model(x), y)
    before = model[0].weight.detach().numpy().copy()
    loss.backward()
    opt.step()
    assert model[0].weight.shape == (4, 3) and not np.array_equal(before, model[0].weight.detach().numpy())
    assert all(type(p) is nn.Parameter for p in model.parameters())


def test_lazy_conv_on_unbatched_input_and_hooks_survive():
    conv = nn.LazyConv2d(4, 3, stride=2, bias=False)
    seen = []
    conv.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    assert conv.bias is None and repr(conv.weight) == "<UninitializedParameter>"
    out = conv(cnnlab.zeros(3, 9, 9))
    assert out.shape == (4, 4, 4) and conv.in_channels == 3 and seen == [(4, 4, 4)]
    assert type(conv) is nn.Conv2d and conv.bias is None


def test_lazy_errors():
    with pytest.raises(ValueError, match="LazyConv2d"):
        nn.LazyConv2d(4, 3)(cnnlab.zeros(9, 9))
    with pytest.raises(ValueError, match="LazyBatchNorm2d"):
        nn.LazyBatchNorm2d()(cnnlab.zeros(2, 3))
    with pytest.raises(ValueError, match="padding_mode"):
        nn.LazyConv2d(4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="out_features"):
        nn.LazyLinear(0)
    state = cnnlab.random.get_rng_state()
    nn.LazyConv2d(4, 3)
    assert cnnlab.random.get_rng_state() == state  # building a lazy layer draws nothing
