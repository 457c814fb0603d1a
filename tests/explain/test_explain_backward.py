"""The Backward view's API (/api/backward, /api/backward/kernel, /api/backward/step) against torch.

The gradients are compared with the torch twin of mnist-cnn (``tests/torch_zoo.py``) carrying
the same weights, and with cnnlab's own autograd run directly (``loss.backward()``, not through
``cnnlab.inspect``). ∂L/∂W as the sum over positions of window × output gradient is checked
against torch's weight gradient, also with stride, padding, dilation and groups; one SGD step
against ``torch.optim.SGD`` on the twin; bad arguments get a 4xx with a message, never a 500.
"""

from __future__ import annotations

import base64
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from fastapi.testclient import TestClient

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import models, nn
from cnnlab.explain import create_app
from torch_zoo import MnistCNN


def _decode(enc):
    return np.frombuffer(base64.b64decode(enc["b64"]), "<f4").reshape(enc["shape"])


def _twin(model):
    twin = MnistCNN().eval()
    twin.load_state_dict({k: torch.tensor(np.asarray(v.numpy())) for k, v in model.state_dict().items()})
    return twin


@pytest.fixture(scope="module")
def mnist():
    cnnlab.manual_seed(3)
    model = models.create("mnist-cnn")
    rng = np.random.default_rng(3)
    data = np.zeros((6, 28, 28), np.uint8)
    for i in range(6):
        y, x = rng.integers(7, 21, 2)
        data[i, y - 6:y + 6, x - 3:x + 3] = rng.integers(100, 256, (12, 6))
    ds = types.SimpleNamespace(data=data, targets=np.array([3, 1, 4, 1, 5, 9]), classes=[str(i) for i in range(10)])
    app = create_app(model, {"model": "mnist-cnn"}, ds, input_shape=(1, 28, 28))
    client = TestClient(app, raise_server_exceptions=True)
    return types.SimpleNamespace(model=model, ds=ds, client=client, twin=_twin(model))


def _input(m, i):
    return (np.asarray(m.ds.data[i], np.float32) / 255)[None, None]


def _infer(m, i):
    r = m.client.post("/api/infer", json={"sample": i})
    assert r.status_code == 200, r.text
    return r.json()["input_id"]


def _torch_backward(twin, x, target):
    """Every module call's output with its gradient, in call order, and the loss."""
    outs = []

    def keep(module, inputs, out):
        out.retain_grad()
        outs.append(out)

    handles = [m.register_forward_hook(keep) for m in twin.modules() if not list(m.children())]
    xt = torch.tensor(x, requires_grad=True)
    twin.zero_grad()
    loss = TF.cross_entropy(twin(xt), torch.tensor([target]))
    loss.backward()
    for h in handles:
        h.remove()
    return loss.item(), xt.grad[0].numpy(), [o.grad[0].numpy() for o in outs]


@pytest.mark.parametrize("sample,target", [(0, 3), (2, 7)])
def test_every_layers_gradient_equals_torch(mnist, sample, target):
    iid = _infer(mnist, sample)
    b = mnist.client.get(f"/api/backward?input_id={iid}&target={target}").json()
    loss, input_grad, grads = _torch_backward(mnist.twin, _input(mnist, sample), target)
    assert b["target"] == target and b["objective"] == "cross-entropy"
    assert b["loss"] == pytest.approx(loss, rel=1e-5)
    assert [layer["name"] for layer in b["layers"]] == ["conv1", "relu", "pool", "conv2", "relu#2", "pool#2",
                                                        "flatten", "fc1", "relu#3", "dropout", "fc2"]
    assert len(grads) == len(b["layers"])
    np.testing.assert_allclose(_decode(b["input_grad"]), input_grad, rtol=1e-4, atol=1e-7)
    for layer, want in zip(b["layers"], grads):
        got = _decode(layer["grad"])
        assert got.shape == want.shape, layer["name"]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7, err_msg=layer["name"])
        assert np.abs(got).max() > 0, layer["name"]


def _cnnlab_param_grads(model, x, target):
    """cnnlab's autograd run directly on a copy of the model: loss.backward(), no inspect."""
    import copy

    m = copy.deepcopy(model).eval()
    loss = F.cross_entropy(m(cnnlab.from_numpy(x)), cnnlab.from_numpy(np.array([target], np.int64)))
    loss.backward()
    return float(loss.detach().numpy()), {n: p.grad.numpy().copy() for n, p in m.named_parameters()}


@pytest.mark.parametrize("layer,name,channel", [(0, "conv1", 5), (3, "conv2", 17)])
def test_kernel_gradient_is_the_sum_of_window_times_output_gradient(mnist, layer, name, channel):
    sample, target = 1, 4
    iid = _infer(mnist, sample)
    x = _input(mnist, sample)
    _, cn_grads = _cnnlab_param_grads(mnist.model, x, target)
    _torch_backward(mnist.twin, x, target)
    torch_w = getattr(mnist.twin, name).weight.grad[channel].numpy()
    d = mnist.client.get(f"/api/backward/kernel?input_id={iid}&target={target}&layer={layer}&channel={channel}").json()
    total, auto = np.array(d["total"]), np.array(d["autograd"])
    np.testing.assert_allclose(total, torch_w, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(auto, torch_w, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(total, cn_grads[f"{name}.weight"][channel], rtol=1e-4, atol=1e-7)
    assert d["bias_total"] == pytest.approx(float(getattr(mnist.twin, name).bias.grad[channel]), rel=1e-4, abs=1e-8)
    assert d["match"] and d["positions"] == (24 * 24 if layer == 0 else 8 * 8)
    # the shown position is the largest |G|, and its term is its window times G there
    G = np.array(d["out_grad"])
    assert abs(G[d["y"], d["x"]]) == np.abs(G).max() and d["g"] == G[d["y"], d["x"]]
    np.testing.assert_allclose(np.array(d["term"]), np.array(d["window"]) * d["g"], rtol=1e-12)
    # the terms of every position (conv2: 8×8 of them) add up to the total
    if layer == 3:
        terms = [np.array(mnist.client.get(f"/api/backward/kernel?input_id={iid}&target={target}&layer={layer}"
                                           f"&channel={channel}&y={y}&x={xx}").json()["term"])
                 for y in range(G.shape[0]) for xx in range(G.shape[1])]
        np.testing.assert_allclose(sum(terms), total, rtol=1e-6, atol=1e-10)


def test_a_chosen_positions_window_is_the_input_torch_unfolds_there(mnist):
    iid = _infer(mnist, 0)
    d = mnist.client.get(f"/api/backward/kernel?input_id={iid}&target=3&layer=0&channel=2&y=10&x=4").json()
    x = torch.tensor(_input(mnist, 0))
    cols = TF.unfold(x, 5)                         # (1, 25, 24*24)
    np.testing.assert_allclose(np.array(d["window"]).reshape(-1), cols[0, :, 10 * 24 + 4].numpy(), rtol=1e-6)


class _Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.b = nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2)
        self.c = nn.Conv2d(6, 4, (2, 3), padding="same", bias=False)
        self.fc = nn.Linear(4 * 7 * 7, 5)

    def forward(self, x):
        return self.fc(self.c(cnnlab.tanh(self.b(self.a(x)))).flatten(1))


def test_kernel_gradients_with_stride_padding_dilation_groups_equal_torch():
    cnnlab.manual_seed(1)
    model = _Odd()
    client = TestClient(create_app(model, {}, None, input_shape=(3, 13, 13)), raise_server_exceptions=True)
    pixels = np.random.default_rng(1).random((3, 13, 13)).astype(np.float32)
    iid = client.post("/api/infer", json={"pixels": pixels.tolist()}).json()["input_id"]
    p = {k: torch.tensor(np.asarray(v.numpy()), requires_grad=True) for k, v in model.state_dict().items()}
    a = TF.conv2d(torch.tensor(pixels[None]), p["a.weight"], p["a.bias"], stride=2, padding=1)
    b = TF.conv2d(a, p["b.weight"], p["b.bias"], padding=2, dilation=2, groups=2)
    c = TF.conv2d(torch.tanh(b), p["c.weight"], None, padding="same")
    loss = TF.cross_entropy(TF.linear(c.flatten(1), p["fc.weight"], p["fc.bias"]), torch.tensor([2]))
    loss.backward()
    for layer, key, channels in [(0, "a", (0, 3)), (1, "b", (1, 5)), (2, "c", (0, 3))]:
        for ch in channels:
            d = client.get(f"/api/backward/kernel?input_id={iid}&target=2&layer={layer}&channel={ch}").json()
            np.testing.assert_allclose(d["total"], p[f"{key}.weight"].grad[ch].numpy(), rtol=1e-4, atol=1e-7,
                                       err_msg=f"{key}[{ch}]")
            assert d["match"]
            if key == "c":
                assert d["bias_autograd"] is None
            else:
                assert d["bias_total"] == pytest.approx(float(p[f"{key}.bias"].grad[ch]), rel=1e-4, abs=1e-8)
    d = client.get(f"/api/backward/kernel?input_id={iid}&target=2&layer=1&channel=5").json()
    assert d["input_channels"] == [2, 3]


@pytest.mark.parametrize("lr", [0.05, 1.0])
def test_one_sgd_step_equals_torch_and_leaves_the_served_model_unchanged(mnist, lr):
    sample, target = 4, 5
    iid = _infer(mnist, sample)
    before = {k: v.numpy().copy() for k, v in mnist.model.state_dict().items()}
    probs = mnist.client.post("/api/infer", json={"sample": sample}).json()["probabilities"]
    s = mnist.client.get(f"/api/backward/step?input_id={iid}&target={target}&layer=3&channel=7&lr={lr}").json()
    twin = _twin(mnist.model)
    xt = torch.tensor(_input(mnist, sample))
    loss = TF.cross_entropy(twin(xt), torch.tensor([target]))
    loss.backward()
    w0, g0 = twin.conv2.weight[7].detach().numpy().copy(), twin.conv2.weight.grad[7].numpy().copy()
    torch.optim.SGD(twin.parameters(), lr=lr).step()
    with torch.no_grad():
        after = TF.cross_entropy(twin(xt), torch.tensor([target])).item()
    assert s["lr"] == lr
    np.testing.assert_allclose(s["w"], w0, rtol=1e-6)
    np.testing.assert_allclose(s["grad"], g0, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(s["new_w"], twin.conv2.weight[7].detach().numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.array(s["new_w"]), np.array(s["w"]) - lr * np.array(s["grad"]), rtol=1e-5, atol=1e-6)
    assert s["loss_before"] == pytest.approx(loss.item(), rel=1e-5)
    assert s["loss_after"] == pytest.approx(after, rel=1e-4, abs=1e-6)
    assert s["parameters_stepped"] == sum(p.numel() for p in twin.parameters())
    for k, v in mnist.model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    assert mnist.client.post("/api/infer", json={"sample": sample}).json()["probabilities"] == probs


def test_a_log_softmax_output_takes_the_negative_log_likelihood():
    cnnlab.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3), nn.LogSoftmax(dim=1))
    client = TestClient(create_app(model, {}, None, input_shape=(1, 6, 6)), raise_server_exceptions=True)
    pixels = np.random.default_rng(2).random((6, 6)).astype(np.float32)
    iid = client.post("/api/infer", json={"pixels": pixels.tolist()}).json()["input_id"]
    b = client.get(f"/api/backward?input_id={iid}&target=1").json()
    p = {k: torch.tensor(np.asarray(v.numpy())) for k, v in model.state_dict().items()}
    h = TF.conv2d(torch.tensor(pixels[None, None]), p["0.weight"], p["0.bias"])
    logp = TF.log_softmax(TF.linear(h.flatten(1), p["2.weight"], p["2.bias"]), 1)
    assert b["loss"] == pytest.approx(-logp[0, 1].item(), rel=1e-5)


BAD = [
    ("/api/backward?target=1", 400, "input_id"),
    ("/api/backward?input_id={iid}", 400, "target"),
    ("/api/backward?input_id=nosuch&target=1", 404, "unknown input_id"),
    ("/api/backward?input_id={iid}&target=10", 400, "0..9"),
    ("/api/backward?input_id={iid}&target=-1", 400, "0..9"),
    ("/api/backward?input_id={iid}&target=1.5", 400, "target"),
    ("/api/backward?input_id={iid}&target=cat", 400, "target"),
    ("/api/backward/kernel?input_id={iid}&target=1", 400, "layer"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=1", 404, "ReLU"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=7", 404, "Linear"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=11", 404, "0..10"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=x", 400, "layer"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=0&channel=16", 400, "0..15"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=0&channel=-1", 400, "0..15"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=0&channel=a", 400, "channel"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=0&channel=0&y=24&x=0", 400, "24×24"),
    ("/api/backward/kernel?input_id={iid}&target=1&layer=0&channel=0&y=0&x=-1", 400, "24×24"),
    ("/api/backward/step?input_id={iid}&target=1&layer=0&channel=0", 400, "lr"),
    ("/api/backward/step?input_id={iid}&target=1&layer=0&channel=0&lr=0", 400, "lr"),
    ("/api/backward/step?input_id={iid}&target=1&layer=0&channel=0&lr=-0.1", 400, "lr"),
    ("/api/backward/step?input_id={iid}&target=1&layer=0&channel=0&lr=nan", 400, "lr"),
    ("/api/backward/step?input_id={iid}&target=1&layer=0&channel=0&lr=inf", 400, "lr"),
    ("/api/backward/step?input_id={iid}&target=1&layer=0&channel=0&lr=1e9", 400, "lr"),
    ("/api/backward/step?input_id={iid}&target=1&layer=0&channel=0&lr=fast", 400, "lr"),
    ("/api/backward/step?input_id={iid}&target=1&layer=2&channel=0&lr=0.1", 404, "MaxPool2d"),
    ("/api/backward/step?input_id={iid}&target=1&layer=3&channel=24&lr=0.1", 400, "0..23"),
]


def test_bad_arguments_get_a_4xx_that_says_what_is_wrong(mnist):
    iid = _infer(mnist, 0)
    for url, status, piece in BAD:
        r = mnist.client.get(url.format(iid=iid))
        assert r.status_code == status, (url, r.status_code, r.text[:200])
        body = r.json()
        assert set(body) == {"error"} and piece in body["error"], (url, body)
    assert mnist.client.get(f"/api/backward?input_id={iid}&target=1").status_code == 200


def test_filters_history_route_serves_the_runs_snapshots(tmp_path):
    """A run trained by fit: /api/filters/history gives its snapshots, the last one the weights
    /api/filters shows (the checkpoint's); a checkpoint without snapshots says so."""
    from cnnlab.explain.loading import app_kwargs_from_checkpoint
    from cnnlab.train import fit
    from cnnlab.train.snapshots import FILTERS, load_filter_history
    from cnnlab.utils.data import DataLoader, TensorDataset

    cnnlab.manual_seed(0)
    model = models.create("mnist-cnn")
    rng = np.random.default_rng(0)
    data = TensorDataset(cnnlab.from_numpy(rng.random((32, 1, 28, 28)).astype(np.float32)),
                         cnnlab.from_numpy(rng.integers(0, 10, 32)))
    loader = DataLoader(data, batch_size=16, shuffle=True, generator=cnnlab.Generator().manual_seed(0))
    fit(model, loader, epochs=2, optimizer=cnnlab.optim.SGD(model.parameters(), lr=0.1), out_dir=tmp_path,
        model_name="mnist-cnn", model_config={}, plots=False, log=None,
        extra_meta={"input_shape": [1, 28, 28]})
    kwargs, notes = app_kwargs_from_checkpoint(tmp_path)
    client = TestClient(create_app(**kwargs), raise_server_exceptions=True)
    h = client.get("/api/filters/history").json()
    want = load_filter_history(tmp_path)
    assert h["available"] and h["layer"] == "conv1" and h["epochs"] == [0, 1, 2]
    np.testing.assert_array_equal(_decode(h["weights"]), want.weights)
    np.testing.assert_array_equal(_decode(h["weights"])[-1], _decode(client.get("/api/filters").json()["weights"]))
    (tmp_path / FILTERS).unlink()
    kwargs, notes = app_kwargs_from_checkpoint(tmp_path)
    assert any("no per-epoch filter snapshots" in n for n in notes)
    h = TestClient(create_app(**kwargs), raise_server_exceptions=True).get("/api/filters/history")
    assert h.status_code == 200 and h.json()["available"] is False and "snapshots" in h.json()["note"]
