"""nn.Module, containers, state_dict and init, checked against torch."""

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn


class OurNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 3)])
        self.extra = nn.ModuleDict({"proj": nn.Linear(8, 1, bias=False)})
        self.register_buffer("scale", cnnlab.ones(1))

    def forward(self, x):
        h = self.body(x)
        return self.heads[0](h).sum() + self.heads[1](h).sum() + self.extra["proj"](h).sum() * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8))
        self.heads = torch.nn.ModuleList([torch.nn.Linear(8, 2), torch.nn.Linear(8, 3)])
        self.extra = torch.nn.ModuleDict({"proj": torch.nn.Linear(8, 1, bias=False)})
        self.register_buffer("scale", torch.ones(1))

    def forward(self, x):
        h = self.body(x)
        return self.heads[0](h).sum() + self.heads[1](h).sum() + self.extra["proj"](h).sum() * self.scale


def test_state_dict_keys_and_shapes_equal_torch():
    ours, theirs = OurNet().state_dict(), TorchNet().state_dict()
    assert list(ours) == list(theirs)
    assert all(tuple(ours[k].shape) == tuple(theirs[k].shape) for k in ours)


def test_state_dict_loads_both_ways_and_gives_same_numbers():
    ours, theirs = OurNet(), TorchNet()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out_ours = ours(cnnlab.tensor(x))
    out_theirs = theirs(torch.tensor(x))
    np.testing.assert_allclose(out_ours.item(), out_theirs.item(), rtol=1e-5)
    out_ours.backward()
    out_theirs.backward()
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)
    fresh = TorchNet()
    fresh.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(fresh(torch.tensor(x)).item(), out_ours.item(), rtol=1e-5)


def test_load_state_dict_strict_names_missing_unexpected_and_mismatched():
    net = OurNet()
    sd = net.state_dict()
    sd.pop("body.0.bias")
    sd["bogus.weight"] = cnnlab.zeros(1)
    sd["body.2.weight"] = cnnlab.zeros(3, 3)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert '"body.0.bias"' in msg and '"bogus.weight"' in msg
    assert "size mismatch for body.2.weight" in msg and "(3, 3)" in msg and "(8, 8)" in msg
    sd["body.2.weight"] = net.body[2].weight.detach()
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["body.0.bias"] and result.unexpected_keys == ["bogus.weight"]


def test_module_traversal_modes_and_zero_grad():
    net = OurNet()
    assert len(list(net.parameters())) == 2 + 2 + 4 + 1
    assert [n for n, _ in net.named_buffers()] == ["scale"]
    assert [n for n, _ in net.named_children()] == ["body", "heads", "extra"]
    assert len(list(net.modules())) == 1 + 4 + 3 + 2
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(cnnlab.randn(2, 4)).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_repr_matches_torch():
    ours = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2, bias=False))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2, bias=False))
    assert repr(ours) == repr(theirs)


def test_sequential_ordered_dict_and_slicing():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert isinstance(seq[1], nn.Tanh) and len(seq[:1]) == 1


def test_assigning_before_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super"):
        Bad()


def _empirical(init_fn, shape, **kw):
    w = cnnlab.zeros(*shape)
    init_fn(w, **kw)
    return w.numpy()


@pytest.mark.parametrize("shape", [(256, 128), (64, 16, 5, 5)])
def test_init_formulas(shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    w = _empirical(nn.init.kaiming_uniform_, shape, a=math.sqrt(5))
    bound = math.sqrt(6 / ((1 + 5) * fan_in))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    w = _empirical(nn.init.kaiming_normal_, shape, nonlinearity="relu")
    assert abs(w.std() - math.sqrt(2 / fan_in)) < 0.03 * math.sqrt(2 / fan_in)
    w = _empirical(nn.init.xavier_uniform_, shape)
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert np.all(_empirical(nn.init.constant_, shape, val=0.3) == np.float32(0.3))
    assert np.all(_empirical(nn.init.ones_, shape) == 1) and np.all(_empirical(nn.init.zeros_, shape) == 0)
    w = _empirical(nn.init.normal_, shape, mean=1.0, std=0.5)
    assert abs(w.mean() - 1) < 0.02 and abs(w.std() - 0.5) < 0.02
    w = _empirical(nn.init.uniform_, shape, a=-2, b=3)
    assert w.min() >= -2 and w.max() < 3


def test_gains_equal_torch():
    for name, param in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("leaky_relu", None), ("sigmoid", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_linear_default_init_matches_torch_bounds():
    ours, theirs = nn.Linear(300, 200), torch.nn.Linear(300, 200)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        a, b = np.abs(p.detach().numpy()).max(), tp.detach().abs().max().item()
        assert a == pytest.approx(b, rel=0.02)
        assert p.detach().numpy().std() == pytest.approx(tp.detach().std().item(), rel=0.05)


def test_linear_shape_error_names_layer():
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=2, bias=True\): expected input of shape \(\*, 4\), got \(3, 5\)"):
        nn.Linear(4, 2)(cnnlab.zeros(3, 5))
