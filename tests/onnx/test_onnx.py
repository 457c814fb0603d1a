"""ONNX out and in (``cnnlab.onnx``, ``cnnlab export``).

Oracles: onnxruntime runs every exported file and every file cnnlab loads, and torch
produces the reference outputs of the models that ``torch.onnx.export`` writes. The AlexNet
variants (227×227 / 224×224 inputs, ~61M weights) run at batch 1 and 2 instead of 1 and 7, to
keep this file near a minute on two cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
import zlib

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import cnnlab
import cnnlab.onnx as connx
from cnnlab import models, nn
from cnnlab.checkpoint import save_checkpoint

HEAVY = {"alexnet", "alexnet-2gpu", "alexnet-torchvision"}


# ----------------------------------------------------------------- helpers
def session(proto_or_path) -> ort.InferenceSession:
    data = proto_or_path.SerializeToString() if isinstance(proto_or_path, onnx.ModelProto) else proto_or_path
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def assert_close(ours, ref, what: str) -> None:
    """Equal within float32 rounding: a few ulps of the largest magnitude involved."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, f"{what}: cnnlab shape {ours.shape} vs reference {ref.shape}"
    scale = max(1.0, float(np.abs(ref).max()) if ref.size else 1.0)
    diff = float(np.abs(ours - ref).max()) if ref.size else 0.0
    assert diff <= 2e-5 * scale, f"{what}: max |cnnlab − reference| = {diff:.3g} (scale {scale:.3g})"


def run_cnnlab(model, x: np.ndarray):
    with cnnlab.no_grad():
        out = model(cnnlab.from_numpy(x))
    return tuple(o.numpy() for o in out) if isinstance(out, tuple) else out.numpy()


def activations(model, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The output and every leaf layer's output, named as the exporter names nodes (``relu``, ``relu:2``)."""
    names = {id(m): n for n, m in model.named_modules() if not list(m.children())}
    seen: dict[str, int] = {}
    acts: dict[str, np.ndarray] = {}

    def hook(module, args, out):
        base = names[id(module)]
        seen[base] = seen.get(base, 0) + 1
        acts[base if seen[base] == 1 else f"{base}:{seen[base]}"] = out.numpy().copy()

    handles = [m.register_forward_hook(hook) for m in model.modules() if id(m) in names]
    try:
        out = run_cnnlab(model, x)
    finally:
        for h in handles:
            h.remove()
    return out, acts


def canonical(proto) -> tuple:
    """A graph up to value names: ops, node names, attributes, wiring and initializer data."""
    g = proto.graph
    inits = {t.name: t for t in g.initializer}
    token = {i.name: ("input", k) for k, i in enumerate(g.input)}
    nodes = []
    for k, node in enumerate(g.node):
        ins = []
        for name in node.input:
            if name in inits:
                t = inits[name]
                data = t.raw_data or onnx.numpy_helper.to_array(t).tobytes()
                ins.append(("init", t.data_type, tuple(t.dims), zlib.crc32(data), len(data)))
            else:
                ins.append(token.get(name, ("missing", name)))
        attrs = tuple(sorted((a.name, repr(onnx.helper.get_attribute_value(a))) for a in node.attribute))
        nodes.append((node.op_type, node.name, attrs, tuple(ins)))
        token.update({o: ("node", k, j) for j, o in enumerate(node.output)})
    return tuple(nodes), tuple(token[o.name] for o in g.output)


def assert_same_graph(again, first, name: str) -> None:
    (nodes_a, outs_a), (nodes_b, outs_b) = canonical(again), canonical(first)
    assert len(nodes_a) == len(nodes_b), f"{name}: {len(nodes_b)} nodes, {len(nodes_a)} after load and export"
    for a, b in zip(nodes_a, nodes_b):
        assert a == b, f"{name}: after load and export, node {b[:3]} became {a[:3]} (inputs {b[3]} → {a[3]})"
    assert outs_a == outs_b, f"{name}: outputs {outs_b} became {outs_a} after load and export"


def randomize_batch_norm(model, seed: int = 0) -> None:
    """Running statistics and affine parameters away from 0/1, so BatchNorm does something."""
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            for t, v in ((m.running_mean, rng.normal(0, 0.5, c)), (m.running_var, rng.uniform(0.5, 2.0, c)),
                         (m.weight, rng.normal(1, 0.3, c)), (m.bias, rng.normal(0, 0.3, c))):
                with cnnlab.no_grad():
                    t.copy_(cnnlab.from_numpy(v.astype(np.float32)))


def check_export(model, sample_shape, tmp_path, batches=(1, 7), seed=0, name="model", load=True):
    """Export with every intermediate, compare onnxruntime with cnnlab at each batch size, and
    (``load``) check the loaded model against onnxruntime and that export → load → export gives
    the same graph."""
    rng = np.random.default_rng(seed)
    model.eval()
    path = tmp_path / f"{name}.onnx"
    proto = connx.export(model, rng.standard_normal((batches[0], *sample_shape)).astype(np.float32), path,
                         intermediates=True)
    if name not in HEAVY:  # (export checked it too; for AlexNet's 250 MB once is enough)
        onnx.checker.check_model(str(path), full_check=True)
    sess = session(str(path))
    out_names = [o.name for o in sess.get_outputs()]
    assert out_names[0] == "output"
    loaded = connx.load(path) if load else None
    for n in batches:
        x = rng.standard_normal((n, *sample_shape)).astype(np.float32)
        results = dict(zip(out_names, sess.run(None, {"input": x})))
        out, acts = activations(model, x)
        assert_close(out, results["output"], f"{name} batch {n}: output")
        last = next(iter(reversed(acts)))
        for layer, act in acts.items():
            value = "output" if layer == last else layer
            assert value in results, f"{name}: layer {layer!r} has no intermediate output (outputs: {out_names})"
            assert_close(act, results[value], f"{name} batch {n}: layer {layer!r}")
        if loaded is None:
            continue
        got = run_cnnlab(loaded, x)
        assert isinstance(got, tuple) and len(got) == len(out_names)
        for value, ours in zip(out_names, got):
            assert_close(ours, results[value], f"{name} batch {n}: loaded model, value {value!r}")
    if loaded is None:
        return proto
    loaded.output_names = ["output"]  # its intermediates come back as every node's output
    again = connx.to_onnx(loaded, np.zeros((batches[0], *sample_shape), np.float32), intermediates=True)
    assert_same_graph(again, proto, name)
    return proto


# ----------------------------------------------------------------- the zoo
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n
                                  for n in models.available()])
def test_zoo_model_exports_and_matches_onnxruntime(name, tmp_path):
    cnnlab.manual_seed(0)
    model = models.create(name)
    randomize_batch_norm(model)
    spec = models.spec(name)
    # Loading is checked on one AlexNet (the others add no layer type to load) to keep the file short.
    proto = check_export(model, spec.input_shape, tmp_path, batches=(1, 2) if name in HEAVY else (1, 7), name=name,
                         load=name not in HEAVY - {"alexnet"})
    module_names = {n for n, _ in model.named_modules()}
    for node in proto.graph.node:
        base = node.name.split(":")[0].split("/")[0]
        assert base in module_names or "_before_" in base, f"{name}: node {node.name!r} is not named after a module"


def test_node_names_metadata_and_dynamic_batch(tmp_path):
    cnnlab.manual_seed(1)
    model = models.create("mnist-cnn")
    meta = {"classes": [f"digit {i}" for i in range(10)], "preprocess": {"kind": "image", "mean": [0.13], "std": [0.31]}}
    proto = connx.export(model, np.zeros((3, 1, 28, 28), np.float32), tmp_path / "m.onnx", metadata=meta)
    assert [n.name for n in proto.graph.node] == ["conv1", "relu", "pool", "conv2", "relu:2", "pool:2", "flatten",
                                                 "fc1", "relu:3", "dropout", "fc2"]
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert json.loads(props["classes"]) == meta["classes"] and json.loads(props["preprocess"]) == meta["preprocess"]
    loaded = connx.load(tmp_path / "m.onnx")
    assert loaded.metadata["classes"] == props["classes"]
    fresh = models.create("mnist-cnn")  # modules named after nodes named after modules: the same state_dict keys
    fresh.load_state_dict(loaded.state_dict())
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(fresh.state_dict().values(),
                                                                     model.state_dict().values()))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 28, 28]
    fixed = connx.to_onnx(model, np.zeros((3, 1, 28, 28), np.float32), dynamic_batch=False)
    assert fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 3


# ----------------------------------------------------------------- random architectures
def random_cnn(rng: np.random.Generator, c: int, size: int):
    """A Sequential of random conv/BN/activation/pool/LRN/dropout layers, then a random head."""
    layers = []
    for _ in range(int(rng.integers(1, 4))):
        k, d = int(rng.integers(1, 5)), int(rng.integers(1, 3))
        g = int(rng.choice([g for g in (1, 2) if c % g == 0]))
        out = g * int(rng.integers(1, 4))
        if rng.random() < 0.25:  # 'same' (even kernels pad one more after)
            layers.append(nn.Conv2d(c, out, k, padding="same", dilation=d, groups=g))
        else:
            s, p = int(rng.integers(1, 3)), int(rng.integers(0, 2))
            mode = str(rng.choice(["zeros", "zeros", "reflect", "replicate"])) if p else "zeros"
            layers.append(nn.Conv2d(c, out, min(k, 3), stride=s, padding=p, dilation=1, groups=g,
                                    bias=bool(rng.integers(2)), padding_mode=mode))
        c = out
        if rng.random() < 0.5:
            layers.append(nn.BatchNorm2d(c))
        layers.append([nn.ReLU(), nn.LeakyReLU(0.1), nn.ELU(0.7), nn.Sigmoid(), nn.Tanh()][int(rng.integers(5))])
        if rng.random() < 0.3:
            layers.append(nn.LocalResponseNorm(int(rng.choice([1, 3, 5])), alpha=1e-2, beta=0.75, k=1.5))
        h = nn.Sequential(*layers)(cnnlab.zeros(1, layers[0].in_channels, size, size)).shape[-1]
        if h >= 3 and rng.random() < 0.6:
            kw = dict(kernel_size=int(rng.integers(2, 4)), stride=int(rng.integers(1, 3)), padding=int(rng.integers(0, 2)),
                      ceil_mode=bool(rng.integers(2)))
            if rng.random() < 0.5:
                layers.append(nn.MaxPool2d(**kw))
            else:
                layers.append(nn.AvgPool2d(**kw, count_include_pad=bool(rng.integers(2))))
        if rng.random() < 0.3:
            layers.append(nn.Dropout2d(0.2))
    if rng.random() < 0.5:
        layers += [[nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)][int(rng.integers(2))], nn.Flatten()]
    else:
        layers.append(nn.Flatten())
    feats = nn.Sequential(*layers)(cnnlab.zeros(1, layers[0].in_channels, size, size)).shape[-1]
    hidden = int(rng.integers(3, 9))
    layers += [nn.Linear(feats, hidden), nn.BatchNorm1d(hidden), nn.Dropout(0.5)]
    layers.append(nn.Maxout(hidden, 4, pieces=3) if rng.random() < 0.5 else nn.Linear(hidden, 4))
    layers.append([nn.Softmax(dim=1), nn.LogSoftmax(dim=1), nn.Identity()][int(rng.integers(3))])
    return nn.Sequential(*layers)


@pytest.mark.parametrize("seed", range(12))
def test_random_architectures_match_onnxruntime(seed, tmp_path):
    rng = np.random.default_rng(seed)
    cnnlab.manual_seed(seed)
    c, size = int(rng.choice([1, 2, 4])), int(rng.integers(6, 13))
    model = random_cnn(rng, c, size)
    randomize_batch_norm(model, seed)
    check_export(model, (c, size, size), tmp_path, seed=seed, name=f"random{seed}")


class Residual(nn.Module):
    """A custom forward with a residual add, a concatenation, a scale and a view between layers."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
        self.side = nn.Conv2d(4, 2, 1)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d((2, 2))
        self.head = nn.Linear(6 * 2 * 2, 5)

    def forward(self, x):
        y = self.stem(x)
        y = self.act(y + self.branch(y))
        y = cnnlab.cat([y, self.side(y) * 0.5], dim=1)
        y = self.pool(y)
        return self.head(y.reshape(y.shape[0], -1))


def test_custom_forward_with_tensor_ops_between_layers(tmp_path):
    cnnlab.manual_seed(3)
    proto = check_export(Residual(), (3, 8, 8), tmp_path, name="residual")
    ops = [n.op_type for n in proto.graph.node]
    assert {"Add", "Concat", "Mul", "Flatten"} <= set(ops), ops


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("layer, shape, needle", [
    (nn.MaxPool2d(2, return_indices=True), (1, 4, 4), "return_indices"),
    (nn.AdaptiveAvgPool2d(3), (1, 7, 7), "unequal size"),
    (nn.LocalResponseNorm(4), (4, 3, 3), "even size"),
])
def test_export_names_the_unsupported_layer(layer, shape, needle, tmp_path):
    model = nn.Sequential(nn.Identity(), layer)
    with pytest.raises(connx.ExportError) as e:
        connx.export(model, np.zeros((1, *shape), np.float32), tmp_path / "x.onnx")
    msg = str(e.value)
    assert "\n" not in msg and "'1'" in msg and needle in msg, msg
    assert not (tmp_path / "x.onnx").exists()


def test_export_names_an_unsupported_op_between_layers(tmp_path):
    class Permuting(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x.permute(0, 2, 1)[:, 0])

    with pytest.raises(connx.ExportError) as e:
        connx.export(Permuting(), np.zeros((2, 3, 3), np.float32), tmp_path / "x.onnx")
    assert "\n" not in str(e.value) and "before layer 'fc'" in str(e.value), str(e.value)


def _valid_bytes() -> bytes:
    cnnlab.manual_seed(0)
    return connx.to_onnx(models.create("iris-mlp"), np.zeros((1, 4), np.float32)).SerializeToString()


def _unsupported_model() -> bytes:
    h = onnx.helper
    x = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 4, 4])
    y = h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 2, 6, 6])
    w = onnx.numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "w")
    nodes = [h.make_node("ConvTranspose", ["x", "w"], ["t"], name="up"),
             h.make_node("Relu", ["t"], ["r"], name="act"),
             h.make_node("Erf", ["r"], ["y"], name="erf1")]
    graph = h.make_graph(nodes, "g", [x], [y], initializer=[w])
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]).SerializeToString()


@pytest.mark.parametrize("kind, needle", [
    ("empty", "is empty"),
    ("truncated", "ONNX model"),
    ("text", "not an ONNX model"),
    ("unsupported", "ConvTranspose 'up' (cnnlab has no transposed convolution); Erf 'erf1'"),
])
def test_bad_files_get_one_line(kind, needle, tmp_path):
    path = tmp_path / f"{kind}.onnx"
    data = {"empty": b"", "truncated": _valid_bytes()[:-40], "text": b"conv1.weight = [[1, 2], [3, 4]]\n" * 20,
            "unsupported": _unsupported_model() if kind == "unsupported" else b""}[kind]
    path.write_bytes(data)
    with pytest.raises(connx.LoadError) as e:
        connx.load(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and needle in msg, msg


def test_cnnlab_imports_and_the_cli_explains_without_onnx(tmp_path):
    cnnlab.manual_seed(0)
    ckpt = tmp_path / "c.safetensors"
    save_checkpoint(ckpt, models.create("iris-mlp"), model_name="iris-mlp", model_config={})
    code = ("import sys; sys.modules['onnx'] = sys.modules['onnxruntime'] = None\n"
            "import cnnlab, cnnlab.onnx\nfrom cnnlab.cli import main\n"
            f"sys.exit(main(['export', {str(ckpt)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "pip install 'cnnlab[onnx]'" in done.stderr, done.stderr


def test_missing_file_and_missing_package(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        connx.load(tmp_path / "nope.onnx")
    with pytest.raises(connx.LoadError, match="is a directory"):   # not "does not exist"
        connx.load(tmp_path)
    monkeypatch.setitem(sys.modules, "onnx", None)
    for call in (lambda: connx.load(tmp_path / "nope.onnx"),
                 lambda: connx.export(nn.ReLU(), np.zeros((1, 2), np.float32), tmp_path / "x.onnx")):
        with pytest.raises(ImportError) as e:
            call()
        assert "cnnlab[onnx]" in str(e.value) and "\n" not in str(e.value)


def test_hand_built_graph_of_many_operators_loads_and_equals_onnxruntime():
    """Operators torch does not write for our models (LRN, Gemm with transB=0 and α/β, Transpose...),
    built with onnx.helper, loaded in cnnlab and compared with onnxruntime."""
    h, rng = onnx.helper, np.random.default_rng(5)

    def init(name, *shape):
        return onnx.numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    nodes = [
        h.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[2, 2]),
        h.make_node("LRN", ["c"], ["l"], name="lrn", size=3, alpha=0.02, beta=0.6, bias=1.5),
        h.make_node("Elu", ["l"], ["e"], name="elu", alpha=0.5),
        h.make_node("MaxPool", ["e"], ["m"], name="pool", kernel_shape=[2, 2], strides=[1, 1], dilations=[1, 1]),
        h.make_node("AveragePool", ["m"], ["a"], name="avg", kernel_shape=[2, 2], pads=[1, 1, 1, 1]),
        h.make_node("Sigmoid", ["a"], ["s"], name="sig"),
        h.make_node("Tanh", ["a"], ["t"], name="tanh"),
        h.make_node("Concat", ["s", "t"], ["cat"], name="cat", axis=1),
        h.make_node("GlobalAveragePool", ["cat"], ["g"], name="gap"),
        h.make_node("Transpose", ["g"], ["gt"], name="transpose", perm=[0, 2, 3, 1]),
        h.make_node("Reshape", ["gt", "shape"], ["r"], name="reshape"),
        h.make_node("Gemm", ["r", "B", "C"], ["y1"], name="gemm", alpha=0.5, beta=2.0),
        h.make_node("MatMul", ["r", "M"], ["y2"], name="matmul"),
        h.make_node("Sub", ["y1", "y2"], ["d"], name="sub"),
        h.make_node("Mul", ["d", "k"], ["dk"], name="mul"),
        h.make_node("Div", ["dk", "y1"], ["q"], name="div"),
        h.make_node("Softmax", ["q"], ["y"], name="softmax", axis=1),
    ]
    inits = [init("w", 4, 3, 3, 3), init("B", 8, 5), init("C", 5), init("M", 8, 5), init("k", 1, 5),
             onnx.numpy_helper.from_array(np.array([0, -1], np.int64), "shape")]
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 3, 9, 9])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 5])], initializer=inits)
    proto = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    ours = connx.from_onnx(proto)
    assert isinstance(ours.lrn, nn.LocalResponseNorm) and isinstance(ours.gemm, nn.Linear)
    x = rng.standard_normal((3, 3, 9, 9)).astype(np.float32)
    assert_close(run_cnnlab(ours, x), session(proto).run(None, {"x": x})[0], "hand-built graph")


# ----------------------------------------------------------------- models from torch
class TorchCNN(torch.nn.Module):
    def __init__(self, view: bool):
        super().__init__()
        self.view = view
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 12, 3, stride=2, groups=4), torch.nn.BatchNorm2d(12), torch.nn.LeakyReLU(0.2),
            torch.nn.AvgPool2d(2), torch.nn.Dropout(0.3),
        )  # (no LocalResponseNorm: torch writes it as a dozen primitive ops, not as ONNX LRN)
        self.flatten = torch.nn.Flatten()
        self.fc = torch.nn.Sequential(torch.nn.Linear(12 * 2 * 2, 16), torch.nn.ELU(), torch.nn.Dropout(0.5),
                                      torch.nn.Linear(16, 5))

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1) if self.view else self.flatten(x)
        return torch.log_softmax(self.fc(x), dim=1)


class TorchBranches(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv2d(2, 3, 3, padding=1)
        self.b = torch.nn.Conv2d(2, 3, 1)
        self.fc = torch.nn.Linear(6, 4)

    def forward(self, x):
        y = torch.cat([torch.sigmoid(self.a(x)) + self.b(x), torch.tanh(self.b(x)) * 2.0], dim=1)
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return torch.softmax(self.fc(y), dim=-1)


def _torch_export(model, x, path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        # dynamo=False: the TorchScript-based exporter, which needs no onnxscript (the dynamo one does).
        torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"], opset_version=17, **kwargs)


@pytest.mark.parametrize("view", [False, True])
@pytest.mark.parametrize("dynamic, fold", [(True, True), (True, False), (False, True)])
def test_torch_exported_cnn_loads_and_equals_torch(view, dynamic, fold, tmp_path):
    torch.manual_seed(0)
    model = TorchCNN(view)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5), m.running_var.uniform_(0.5, 2), m.weight.normal_(1, 0.3), m.bias.normal_()
    model.eval()
    x = torch.randn(7, 3, 18, 18)
    path = tmp_path / "torch.onnx"
    _torch_export(model, x, path, dynamic_axes={"x": {0: "n"}} if dynamic else None, do_constant_folding=fold)
    ours = connx.load(path)
    types = {type(m).__name__ for m in ours.modules()}
    assert {"Conv2d", "Linear", "MaxPool2d", "AvgPool2d"} <= types, types
    if not fold:
        assert "BatchNorm2d" in types
    for n in ((1, 7) if dynamic else (7,)):
        xs = x[:n]
        with torch.no_grad():
            ref = model(xs).numpy()
        assert_close(run_cnnlab(ours, xs.numpy()), ref, f"torch CNN (view={view}, dynamic={dynamic}) batch {n}")


def test_torch_model_with_branches_loads(tmp_path):
    torch.manual_seed(1)
    model = TorchBranches().eval()
    x = torch.randn(3, 2, 5, 5)
    _torch_export(model, x, tmp_path / "b.onnx", dynamic_axes={"x": {0: "n"}})
    ours = connx.load(tmp_path / "b.onnx")
    with torch.no_grad():
        assert_close(run_cnnlab(ours, x.numpy()), model(x).numpy(), "torch branches")


# ----------------------------------------------------------------- the command line
def test_cli_export_writes_a_file_onnxruntime_runs(tmp_path):
    cnnlab.manual_seed(2)
    model = models.create("mnist-cnn")
    classes = [f"c{i}" for i in range(10)]
    pre = {"kind": "image", "image_shape": [1, 28, 28], "mean": [0.5], "std": [0.25]}
    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(run / "checkpoint.safetensors", model, model_name="mnist-cnn", model_config={},
                    extra={"classes": classes, "preprocess": pre, "input_shape": [1, 28, 28]})
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "cnnlab", "export", str(run), "--format", "onnx"]
    done = subprocess.run(cmd + ["--opset", "18"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    path = run / "model.onnx"
    assert str(path) in done.stdout
    proto = onnx.load(str(path))
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["classes"]) == classes and json.loads(props["preprocess"]) == pre
    assert props["model_name"] == "mnist-cnn"  # strings as they are, the rest as JSON
    assert proto.opset_import[0].version == 18
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28)).astype(np.float32)
    assert_close(run_cnnlab(model.eval(), x), session(str(path)).run(None, {"input": x})[0], "cli export")



def test_cli_export_errors_are_one_line(tmp_path, capsys):
    from cnnlab.cli import main

    assert main(["export", str(tmp_path / "missing"), "--format", "onnx"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err, err
    cnnlab.manual_seed(0)
    save_checkpoint(tmp_path / "c.safetensors", models.create("iris-mlp"), model_name="iris-mlp", model_config={})
    assert main(["export", str(tmp_path / "c.safetensors"), "--opset", "7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --opset: expected an integer >= 13, got '7'" in err, err
    assert main(["export", str(tmp_path / "c.safetensors")]) == 0
    assert (tmp_path / "c.onnx").is_file()
