"""cnnlab.inspect: trace (activations and every gradient) against torch, the model left as it was,
RunInfo from checkpoints and run directories, to_model_input's steps and refusals, and a check
that the viewers (summarize/, viz/, explain/, train/images.py) re-implement none of it."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from PIL import Image
from torch_zoo import TORCH_ZOO

import cnnlab
import cnnlab.functional as F
from cnnlab import inspect, models
from cnnlab.checkpoint import save_checkpoint

ROOT = Path(__file__).resolve().parents[1] / "cnnlab"


# ------------------------------------------------------------------ trace vs torch
def _twins(name):
    build, shape = TORCH_ZOO[name]
    tmodel, ours = build().eval(), models.create(name)
    ours.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    return tmodel, ours, shape


def _torch_trace(tmodel, x, target):
    """Every leaf call's (name, input, output) with retained gradients, and the parameter grads."""
    calls, handles = [], []
    for name, m in tmodel.named_modules():
        if name and not list(m.children()):
            def hook(mod, inputs, out, name=name):
                inp = inputs[0]
                for t in (inp, out):
                    if t.requires_grad and not t.is_leaf:
                        t.retain_grad()
                calls.append((name, inp, out))
            handles.append(m.register_forward_hook(hook))
    xt = torch.tensor(x, requires_grad=True)
    out = tmodel(xt)
    if callable(target):
        scalar = target(out)
    else:
        idx = np.full(len(x), target) if isinstance(target, int) else np.asarray(target)
        scalar = out[torch.arange(len(x)), torch.as_tensor(idx)].sum()
    scalar.backward()
    for h in handles:
        h.remove()
    return calls, xt, out, {k: p.grad.numpy() for k, p in tmodel.named_parameters()}


def _close(ours, theirs, what):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=2e-5 * scale, err_msg=f"{what}: ours vs torch")


LABELS = np.array([3, 0, 7])
TARGETS = {
    "int": (4, 4),
    "per-sample": ([1, 9, 2], [1, 9, 2]),
    "callable": (lambda out: F.cross_entropy(out, cnnlab.from_numpy(LABELS)),
                 lambda out: TF.cross_entropy(out, torch.from_numpy(LABELS))),
}


@pytest.mark.parametrize("name", ["mnist-cnn", "lenet5", "cifar-cnn", "mnist-mlp"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_trace_activations_and_gradients_equal_torch(name, target):
    tmodel, ours, shape = _twins(name)
    x = np.random.default_rng(1).standard_normal((3, *shape)).astype(np.float32)
    ours_target, torch_target = TARGETS[target]
    t = inspect.trace(ours, x, grads=True, target=ours_target)
    calls, xt, out, pgrads = _torch_trace(tmodel, x, torch_target)
    assert [layer.name for layer in t] == [c[0] for c in calls]
    assert all(layer.leaf for layer in t)
    _close(t.output, out, f"{name} output")
    for layer, (tname, tin, tout) in zip(t, calls):
        where = f"{name} {layer.unique_name} ({layer.kind}), target {target}"
        _close(layer.input, tin, f"{where} input")
        _close(layer.output, tout, f"{where} output")
        _close(layer.output_grad, tout.grad, f"{where} d/d output")
        tin_grad = xt.grad if tin is xt else tin.grad
        _close(layer.input_grad, tin_grad, f"{where} d/d input")
        for pname, g in layer.param_grads.items():
            _close(g, pgrads[f"{tname}.{pname}"], f"{where} d/d {pname}")
        assert set(layer.param_grads) == set(layer.params) == {k for k, _ in layer.module.named_parameters(recurse=False)}
    _close(t.input_grad, xt.grad, f"{name} d/d x")
    n_param_grads = sum(len(layer.param_grads) for layer in t if layer.call == 1)
    assert n_param_grads == len(pgrads)  # every parameter's gradient is in some layer's record


def test_trace_records_calls_in_order_with_their_sources():
    net = models.create("mnist-cnn")
    t = inspect.trace(net, np.zeros((2, 1, 28, 28), np.float32))
    assert [layer.unique_name for layer in t] == ["conv1", "relu", "pool", "conv2", "relu#2", "pool#2", "flatten",
                                                  "fc1", "relu#3", "dropout", "fc2"]
    assert [layer.input_from for layer in t] == [-1] + list(range(10))
    assert t["relu#2"].call == 2 and t["relu"].index == 1 and t[3].name == "conv2"
    assert t.output.shape == (2, 10) and t.input_grad is None and t["fc2"].output_grad is None
    np.testing.assert_array_equal(t["fc2"].params["weight"], net.fc2.weight.detach().numpy())
    with pytest.raises(KeyError, match="no layer 'conv9'.*conv1, relu, pool"):
        t["conv9"]


def _state(model):
    return ([(m, m.training) for m in model.modules()], [len(m._forward_hooks) for m in model.modules()],
            [(p, p.grad, None if p.grad is None else p.grad.numpy().copy(), p.requires_grad) for p in model.parameters()])


def test_trace_leaves_the_model_exactly_as_it_was():
    tmodel, net, shape = _twins("mnist-cnn")
    net.train()
    net.conv2.eval()  # a mixed mode must come back as it was
    net.fc1.register_forward_hook(lambda m, i, o: None)
    net.conv1.weight.grad = cnnlab.from_numpy(np.full(net.conv1.weight.shape, 0.5, np.float32))
    net.fc2.bias.requires_grad_(False)
    before = _state(net)
    x = np.random.default_rng(2).standard_normal((2, *shape)).astype(np.float32)
    x_copy = x.copy()
    t = inspect.trace(net, x, grads=True, target=[0, 5])
    after = _state(net)
    assert [(m is m2, a == b) for (m, a), (m2, b) in zip(before[0], after[0])] == [(True, True)] * len(before[0])
    assert before[1] == after[1]
    for (p, g, gv, rg), (p2, g2, gv2, rg2) in zip(before[2], after[2]):
        assert p is p2 and g is g2 and rg == rg2  # the same .grad object, untouched
        if gv is not None:
            np.testing.assert_array_equal(gv, gv2)
    np.testing.assert_array_equal(x, x_copy)
    # it ran in eval mode (dropout off), and the frozen bias still got its gradient: torch agrees
    calls, xt, out, pgrads = _torch_trace(tmodel, x, [0, 5])
    _close(t.output, out, "output in eval mode")
    _close(t["fc2"].param_grads["bias"], pgrads["fc2.bias"], "frozen bias")
    _close(t["conv1"].param_grads["weight"], pgrads["conv1.weight"], "conv1 weight (not accumulated onto .grad)")
    # an error inside the pass restores everything too
    with pytest.raises(ValueError, match="class indices must be in 0..9"):
        inspect.trace(net, x, grads=True, target=[0, 10])
    assert _state(net)[1] == before[1] and net.training and not net.conv2.training
    assert net.conv1.weight.grad is before[2][0][1]


def test_trace_target_errors_are_clear():
    net = models.create("mnist-mlp")
    x = np.zeros((2, 1, 28, 28), np.float32)
    with pytest.raises(ValueError, match="only used with grads=True"):
        inspect.trace(net, x, target=1)
    with pytest.raises(ValueError, match="2 class indices"):
        inspect.trace(net, x, grads=True, target=[1, 2, 3])
    with pytest.raises(ValueError, match="one-element Tensor"):
        inspect.trace(net, x, grads=True, target=lambda out: out * 2)


# ------------------------------------------------------------------ probabilities
def test_probabilities_and_top_k_equal_torch():
    logits = np.random.default_rng(3).standard_normal((4, 7)).astype(np.float32) * 20
    p = inspect.probabilities(logits)
    np.testing.assert_allclose(p, torch.softmax(torch.tensor(logits, dtype=torch.float64), 1).numpy(), rtol=1e-12)
    assert p.dtype == np.float64
    logp = torch.log_softmax(torch.tensor(logits, dtype=torch.float64), 1).numpy()
    np.testing.assert_allclose(inspect.probabilities(logp, "log-probabilities"), np.exp(logp), rtol=1e-12)
    np.testing.assert_array_equal(inspect.probabilities(p, "probabilities"), p)
    values, order = torch.topk(torch.tensor(p[0]), 3)
    assert inspect.top_k(p[0], 3) == [(int(i), float(v)) for i, v in zip(order, values)]
    assert inspect.top_k([0.2, 0.5, 0.3], 99) == [(1, 0.5), (2, 0.3), (0, 0.2)]
    steps = inspect.softmax_steps(logits[0])
    np.testing.assert_allclose(steps.probabilities, p[0], rtol=1e-12)
    assert steps.max == pytest.approx(float(logits[0].max())) and steps.sum == pytest.approx(np.exp(steps.shifted).sum())
    with pytest.raises(ValueError, match="`kind` must be one of"):
        inspect.probabilities(logits, "odds")


# ------------------------------------------------------------------ RunInfo
IMAGE_EXTRA = {"dataset": "fashion-mnist", "input_shape": [1, 28, 28], "classes": list("abcdefghij"),
               "task": "classification",
               "preprocess": {"kind": "image", "image_shape": [1, 28, 28], "mean": [0.25], "std": [0.5]}}


@pytest.fixture
def image_ckpt(tmp_path):
    cnnlab.manual_seed(0)
    model = models.create("mnist-cnn")
    path = tmp_path / "run" / "checkpoint.safetensors"
    path.parent.mkdir()
    save_checkpoint(path, model, model_name="mnist-cnn", model_config={}, epoch=3, metrics={"val_accuracy": 0.5},
                    extra=IMAGE_EXTRA)
    return path


def test_run_info_from_a_checkpoint_file_and_its_run_directory(image_ckpt):
    for source in (image_ckpt, image_ckpt.parent, str(image_ckpt.parent)):
        info = inspect.RunInfo.from_checkpoint(source)
        assert info.path == image_ckpt and info.model == "mnist-cnn" and info.model_class == "MNISTCNN"
        assert info.classes == tuple("abcdefghij") and info.dataset == "fashion-mnist" and info.task == "classification"
        assert info.input_shape == info.image_shape == (1, 28, 28) and info.preprocess == "image"
        assert info.normalize == ([0.25], [0.5]) and info.epoch == 3 and info.metrics == {"val_accuracy": 0.5}
        assert info.split is None and info.split_for("fashion-mnist") is None
    model, info = inspect.load_run(image_ckpt.parent)
    assert type(model).__name__ == "MNISTCNN" and info == inspect.RunInfo.from_checkpoint(image_ckpt)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        inspect.RunInfo.from_checkpoint(image_ckpt.parent / "nothing")


def test_run_info_of_a_trained_cross_validation_run(tmp_path):
    from cnnlab.train.session import TrainConfig, train_run

    cfg = TrainConfig(model="iris-mlp", data="iris", epochs=1, batch_size=16, seed=2, fold=1, folds=5)
    _, run, _ = train_run(cfg, out=tmp_path / "cv", root=tmp_path, progress=False, log=None)
    info = inspect.RunInfo.from_checkpoint(run)
    assert info.model == "iris-mlp" and info.dataset == "iris" and info.task == "classification"
    assert info.preprocess == "tabular" and info.features == 4 and len(info.mean) == len(info.std) == 4
    assert info.input_shape == (4,) and info.image_shape is None and info.normalize is None
    assert info.classes == ("setosa", "versicolor", "virginica")
    assert info.split_for("iris") == {"fold": 1, "folds": 5, "split_seed": 2} and info.split_for("boston") is None
    with pytest.raises(ValueError, match="not images"):
        inspect.to_model_input(np.zeros((4, 4), np.uint8), info)


# ------------------------------------------------------------------ to_model_input
@pytest.fixture
def info(image_ckpt):
    return inspect.RunInfo.from_checkpoint(image_ckpt)


def _save(tmp_path, name, arr, **kw):
    path = tmp_path / name
    Image.fromarray(arr).save(path, **kw)
    return path


def test_to_model_input_normalises_as_in_training(tmp_path, info):
    arr = np.random.default_rng(4).integers(0, 256, (28, 28), dtype=np.uint8)
    mi = inspect.to_model_input(_save(tmp_path, "a.png", arr), info)
    assert mi.array.dtype == np.float32 and mi.array.shape == (1, 28, 28) and mi.label is None
    np.testing.assert_allclose(mi.array[0], (arr / 255.0 - 0.25) / 0.5, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(mi.image, arr)
    assert mi.steps[0].startswith("read ") and "28 × 28 pixels, mode L" in mi.steps[0]
    assert mi.steps[1:] == ["scaled pixel values from 0–255 to 0–1", "normalised with mean [0.25] and std [0.5], as in training"]
    assert tuple(mi.tensor.shape) == (1, 1, 28, 28)
    inv = inspect.to_model_input(arr, info, invert=True)
    np.testing.assert_array_equal(inv.image, 255 - arr)
    assert "inverted intensities (255 − v)" in inv.steps
    # no recorded mapping: pixel values / 255 only
    bare = inspect.RunInfo(image_shape=(1, 28, 28))
    np.testing.assert_array_equal(inspect.to_model_input(arr, bare).array[0], arr.astype(np.float32) / np.float32(255))


def test_to_model_input_converts_colour_and_size_safely(tmp_path, info):
    rgb = np.random.default_rng(5).integers(0, 256, (32, 30, 3), dtype=np.uint8)
    mi = inspect.to_model_input(_save(tmp_path, "c.png", rgb), info)
    expected = np.asarray(Image.fromarray(rgb).convert("L").resize((28, 28), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(mi.image, expected)
    assert "converted to grayscale" in mi.steps and "resized to 28 × 28 pixels" in mi.steps


@pytest.mark.parametrize("kind, message", [
    ("16bit", "I;16 pixels \\(16/32-bit\\)"), ("32bit", "I pixels \\(16/32-bit\\)"),
    ("alpha", "transparent pixels"), ("wide", "stretch it by 3.00x"),
])
def test_to_model_input_refuses_what_it_cannot_convert_safely(tmp_path, info, kind, message):
    arrays = {"16bit": np.full((28, 28), 40000, np.uint16), "32bit": np.full((28, 28), 7, np.int32),
              "alpha": np.zeros((28, 28, 4), np.uint8), "wide": np.zeros((20, 60), np.uint8)}
    path = _save(tmp_path, f"{kind}.tiff" if kind == "32bit" else f"{kind}.png", arrays[kind])  # PNG has no 32-bit gray
    with pytest.raises(inspect.ImageRefused, match=message):
        inspect.to_model_input(path, info)


def test_to_model_input_can_flatten_crop_and_invert_for_uploads(tmp_path, info):
    rgba = np.zeros((28, 28, 4), np.uint8)  # fully transparent: white once flattened
    mi = inspect.to_model_input(Image.open(io.BytesIO(_png_bytes(rgba))), info, transparency="flatten", invert="auto")
    assert "flattened the transparency onto white" in mi.steps and any(s.startswith("inverted") for s in mi.steps)
    np.testing.assert_array_equal(mi.image, 0)
    wide = np.full((20, 60), 200, np.uint8)
    wide[:, 20:40] = 10
    mi = inspect.to_model_input(wide, info, fit="crop")
    assert "cropped the centre square 20 × 20 (the model's input is square)" in mi.steps
    expected = np.asarray(Image.fromarray(wide[:, 20:40]).resize((28, 28), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(mi.image, expected)
    floats = np.full((28, 28), 0.75, np.float32)
    np.testing.assert_allclose(inspect.to_model_input(floats, info).array, 1.0)  # (0.75 − 0.25) / 0.5
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        inspect.to_model_input(floats * 2, info)
    with pytest.raises(ValueError, match="`fit` must be"):
        inspect.to_model_input(wide, info, fit="stretch")


def _png_bytes(arr):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_to_model_input_reads_a_dataset_sample(info):
    from cnnlab import datasets

    ds = datasets.create("fashion-mnist", train=False)
    mi = inspect.to_model_input("test:7", info)
    assert mi.label == int(ds.targets[7]) and mi.steps[0] == "image 7 of the fashion-mnist test split"
    np.testing.assert_array_equal(mi.image, ds.data[7])
    with pytest.raises(ValueError, match="test split has images 0..9999"):
        inspect.to_model_input("test:10000", info)


def test_explainer_refuses_a_16bit_upload_as_predict_does():
    from fastapi.testclient import TestClient

    from cnnlab.explain import create_app

    client = TestClient(create_app(models.create("mnist-cnn"), {}, None, input_shape=(1, 28, 28)))
    r = client.post("/api/upload", files={"file": ("d.png", _png_bytes(np.full((28, 28), 40000, np.uint16)), "image/png")})
    assert r.status_code == 415 and "16/32-bit" in r.json()["error"]
    r = client.post("/api/upload", files={"file": ("d.png", _png_bytes(np.zeros((28, 28), np.uint8)), "image/png")})
    assert r.status_code == 200


# ------------------------------------------------------------------ the viewers re-implement nothing
# (not "extra": the explainer's layer descriptions have an "extra" field, their extra_repr)
CHECKPOINT_KEYS = {"preprocess", "image_shape", "input_shape", "mean", "std", "model_name", "model_class",
                   "model_config", "split", "task", "classes", "dataset"}
MATH_MODULES = {"np", "numpy", "math", "F", "functional", "cnnlab", "torch", "scipy", "special"}


def violations(source: str) -> list[str]:
    """Forward hooks, softmax/exp normalisation and checkpoint-key reads in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and node.attr.startswith("register_forward"):
            found.append(f"line {line}: {node.attr}")
        if isinstance(node, ast.Call):
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            owner = getattr(f.value, "id", None) if isinstance(f, ast.Attribute) else None
            if fname in ("exp", "expm1", "exp2", "logsumexp") or (
                    fname in ("softmax", "log_softmax") and (owner in MATH_MODULES or isinstance(f, ast.Name))):
                found.append(f"line {line}: call of {fname}")
            if fname == "get" and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value in CHECKPOINT_KEYS:
                found.append(f"line {line}: .get({node.args[0].value!r})")
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and node.slice.value in CHECKPOINT_KEYS:
            found.append(f"line {line}: [{node.slice.value!r}]")
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and node.left.value in CHECKPOINT_KEYS \
                and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            found.append(f"line {line}: {node.left.value!r} in ...")
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and "softmax" in node.name and not node.name.endswith("_detail"):
            found.append(f"line {node.lineno}: def {node.name}")
    return found


def test_the_checker_finds_what_it_looks_for():
    bad = ("h = m.register_forward_hook(f)\ne = np.exp(z)\np = F.softmax(z, 1)\nq = softmax(z)\n"
           "pre = extra.get('preprocess')\ns = pre['image_shape']\nif 'mean' in pre: pass\n"
           "def softmax64(z): return z\n")
    assert len(violations(bad)) == 8
    assert violations("r = ex.softmax(input_id)\nd = {'classes': c}\nx = body['sample']\n") == []


def test_viewers_have_no_hooks_softmax_or_checkpoint_keys_of_their_own():
    files = [p for d in ("summarize", "viz", "explain") for p in sorted((ROOT / d).rglob("*.py"))]
    files.append(ROOT / "train" / "images.py")
    assert len(files) > 15
    found = {str(p.relative_to(ROOT)): v for p in files if (v := violations(p.read_text()))}
    assert found == {}
