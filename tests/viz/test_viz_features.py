"""Learned filters, feature maps, shift test and activation curves vs torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from PIL import Image

import cnnlab
import cnnlab.models
from cnnlab.checkpoint import save_checkpoint
from cnnlab.cli import main
from cnnlab.viz.activations_plot import activation_curves, plot_activations
from cnnlab.viz.features import capture_feature_maps, get_layer, plot_features, plot_filters
from cnnlab.viz.shift import plot_shift_test, shift_curves, shift_image

MEAN, STD = 0.13, 0.31


def _torch_weights(model):
    return {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def cnn():
    cnnlab.manual_seed(3)
    return cnnlab.models.create("mnist-cnn")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    pre = {"kind": "image", "image_shape": [1, 28, 28], "mean": [MEAN], "std": [STD]}
    out = {}
    for name in ("mnist-cnn", "mnist-mlp"):
        cnnlab.manual_seed(1)
        model = cnnlab.models.create(name)
        out[name] = save_checkpoint(d / f"{name}.safetensors", model, model_name=name,
                                    extra={"preprocess": pre, "classes": [f"c{i}" for i in range(10)],
                                           "dataset": "mnist10k"})
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255  # a "1"
    Image.fromarray(img).save(d / "one.png")
    out["image"] = d / "one.png"
    out["array"] = img
    return out


def test_feature_maps_match_torch(cnn):
    x = np.random.default_rng(0).standard_normal((1, 28, 28)).astype(np.float32)
    maps = capture_feature_maps(cnn, x)
    assert [m.label for m in maps] == ["conv1", "relu #1", "pool #1", "conv2", "relu #2", "pool #2"]
    w = _torch_weights(cnn)
    t = torch.tensor(x)[None]
    c1 = TF.conv2d(t, w["conv1.weight"], w["conv1.bias"])
    p1 = TF.max_pool2d(torch.relu(c1), 2)
    c2 = TF.conv2d(p1, w["conv2.weight"], w["conv2.bias"])
    refs = [c1, torch.relu(c1), p1, c2, torch.relu(c2), TF.max_pool2d(torch.relu(c2), 2)]
    for m, ref in zip(maps, refs):
        np.testing.assert_allclose(m.array, ref[0].numpy(), rtol=1e-4, atol=1e-5, err_msg=f"cnnlab vs torch: {m.label}")
    assert not cnn._forward_hooks if hasattr(cnn, "_forward_hooks") else True
    assert all(not mod._forward_hooks for mod in cnn.modules())  # hooks removed


def test_plot_features_and_filters(tmp_path, cnn):
    x = np.zeros((1, 28, 28), np.float32)
    maps = plot_features(cnn, x, str(tmp_path / "f.png"))
    assert len(maps) == 6 and (tmp_path / "f.png").stat().st_size > 10_000
    w = plot_filters(cnn, str(tmp_path / "k.png"), layer="conv2")
    np.testing.assert_array_equal(w, cnn.conv2.weight.detach().numpy())
    assert (tmp_path / "k.png").stat().st_size > 10_000
    tv = cnnlab.models.create("tinyvgg")
    w = plot_filters(tv, str(tmp_path / "rgb.png"))  # first conv, 3 input channels: colour
    assert w.shape[1] == 3


def test_unknown_layer_lists_valid_names(cnn):
    with pytest.raises(ValueError, match="valid layer names: conv1, conv2, relu, pool"):
        get_layer(cnn, "conv3")
    with pytest.raises(ValueError, match="no convolution kernels; conv layers: conv1, conv2"):
        plot_filters(cnn, "unused.png", layer="fc1")


def test_shift_image_and_curves(cnn):
    x = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6)
    s = shift_image(x, 2, -1, fill=[-1.0, -2.0])
    np.testing.assert_array_equal(s[:, :4, 2:], x[:, 1:, :4])
    assert (s[0, :, :2] == -1).all() and (s[1, 4] == -2).all()
    img = np.random.default_rng(1).standard_normal((1, 28, 28)).astype(np.float32)
    r = shift_curves(cnn, img, max_shift=3)
    w = _torch_weights(cnn)
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(16, 24, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(384, 64), torch.nn.ReLU(),
                               torch.nn.Linear(64, 10)).double()
    tnet.load_state_dict({"0.weight": w["conv1.weight"], "0.bias": w["conv1.bias"], "3.weight": w["conv2.weight"],
                          "3.bias": w["conv2.bias"], "7.weight": w["fc1.weight"], "7.bias": w["fc1.bias"],
                          "9.weight": w["fc2.weight"], "9.bias": w["fc2.bias"]})
    for k, dx in enumerate(range(-3, 4)):
        t = torch.tensor(shift_image(img, dx, 0), dtype=torch.float64)[None]
        np.testing.assert_allclose(r["horizontal"][k], torch.softmax(tnet(t), 1)[0].detach().numpy(), atol=1e-5)
        t = torch.tensor(shift_image(img, 0, dx), dtype=torch.float64)[None]
        np.testing.assert_allclose(r["vertical"][k], torch.softmax(tnet(t), 1)[0].detach().numpy(), atol=1e-5)


def test_plot_shift_test(tmp_path, cnn):
    img = np.zeros((1, 28, 28), np.float32)
    r = shift_curves(cnn, img, 2)
    plot_shift_test({"A": r, "B": r}, str(tmp_path / "s.png"), label=3, image=np.zeros((28, 28), np.uint8))
    assert (tmp_path / "s.png").stat().st_size > 10_000


def test_activation_curves_match_torch(tmp_path):
    curves = plot_activations(str(tmp_path / "a.png"))
    assert (tmp_path / "a.png").stat().st_size > 10_000
    assert list(curves) == ["Sigmoid", "tanh", "ReLU", "Leaky ReLU", "ELU", "Maxout"]
    fns = {"Sigmoid": torch.sigmoid, "tanh": torch.tanh, "ReLU": torch.relu,
           "Leaky ReLU": lambda x: TF.leaky_relu(x, 0.1), "ELU": TF.elu,
           "Maxout": lambda x: torch.maximum(x, -0.5 * x - 1)}
    for name, (x, y, dy) in curves.items():
        t = torch.tensor(x, requires_grad=True)
        out = fns[name](t)
        out.sum().backward()
        np.testing.assert_allclose(y, out.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=f"cnnlab vs torch: {name}")
        np.testing.assert_allclose(dy, t.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"cnnlab vs torch: {name}'")


def test_cli_show_filters_features_shift(tmp_path, capsys, checkpoints):
    ck, img = str(checkpoints["mnist-cnn"]), str(checkpoints["image"])
    assert main(["show-filters", ck, "--out", str(tmp_path / "k.png")]) == 0
    assert main(["show-filters", ck, "--layer", "conv2", "--out", str(tmp_path / "k2.png")]) == 0
    assert main(["show-features", ck, img, "--out", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    # The printed ranges are those of torch's feature maps for the same normalised input.
    model, _ = cnnlab.checkpoint.load_checkpoint(ck)
    w = _torch_weights(model)
    x = (torch.tensor(checkpoints["array"], dtype=torch.float32) / 255 - MEAN) / STD
    c1 = TF.conv2d(x[None, None], w["conv1.weight"], w["conv1.bias"])
    line = next(l for l in out.splitlines() if l.strip().startswith("conv1"))
    lo, hi = (float(v) for v in line.split("[")[1].rstrip("]").split(","))
    assert lo == pytest.approx(c1.min().item(), abs=2e-3) and hi == pytest.approx(c1.max().item(), abs=2e-3)
    assert main(["shift-test", ck, img, "--compare", str(checkpoints["mnist-mlp"]), "--max-shift", "4",
                 "--out", str(tmp_path / "s.png")]) == 0
    for f in ("k.png", "k2.png", "f.png", "s.png"):
        assert (tmp_path / f).stat().st_size > 10_000, f


@pytest.mark.parametrize("argv,message", [
    (["show-filters", "{ck}", "--layer", "conv9"], "valid layer names: conv1, conv2, relu, pool, flatten, fc1, fc2"),
    (["show-filters", "{mlp}"], "has no convolution layer"),
    (["show-features", "{ck}", "missing.png"], "missing.png"),
    (["show-features", "{ck}", "{bad}"], "cannot read image"),
    (["show-features", "nothing.safetensors"], "does not exist"),
    (["shift-test", "{ck}", "{img}", "--max-shift", "40"], "max_shift must be in 0..27"),
])
def test_cli_bad_input(argv, message, capsys, tmp_path, checkpoints):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    subs = {"ck": str(checkpoints["mnist-cnn"]), "mlp": str(checkpoints["mnist-mlp"]), "bad": str(bad),
            "img": str(checkpoints["image"])}
    argv = [a.format(**subs) for a in argv]
    assert main(argv + ["--out", str(tmp_path / "x.png")]) == 2
    assert message in capsys.readouterr().err
