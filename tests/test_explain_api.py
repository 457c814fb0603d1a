"""The explainer's JSON API through FastAPI's TestClient, checked against torch.

Every number the page shows comes from these endpoints, so they are compared with an
independent torch computation on the same weights: activations of every layer, the class
probabilities, and the recomputed arithmetic of conv, pooling, ReLU, linear and softmax
details (including stride, padding, dilation, groups, ceil_mode and count_include_pad).
Robustness: malformed requests get a 4xx JSON error, never a 500 (the client re-raises server
exceptions), and a live server on loopback answers 50 concurrent requests.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import struct
import threading
import time
import types
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from fastapi.testclient import TestClient
from PIL import Image

import cnnlab
from cnnlab import models, nn
from cnnlab.explain import create_app
from cnnlab.explain.loading import app_kwargs_from_checkpoint, load_run_info


def _dataset(n=20, shape=(28, 28), seed=0):
    rng = np.random.default_rng(seed)
    data = np.zeros((n, *shape), np.uint8)
    for i in range(n):  # a bright blob on a dark background, like a digit
        y, x = rng.integers(6, shape[0] - 6, 2)
        data[i, y - 4:y + 4, x - 3:x + 3] = rng.integers(120, 256, (8, 6))
    return types.SimpleNamespace(data=data, targets=np.arange(n) % 10, classes=[f"class{i}" for i in range(10)])


def _decode(enc):
    return np.frombuffer(base64.b64decode(enc["b64"]), "<f4").reshape(enc["shape"])


def _torch_params(model):
    return {k: torch.tensor(np.asarray(v.numpy())) for k, v in model.state_dict().items()}


def _torch_mnist_cnn(p, x):
    """The lecture's network in torch, layer by layer (the same order as the explainer's columns)."""
    outs = []
    h = TF.conv2d(x, p["conv1.weight"], p["conv1.bias"]); outs.append(h)
    h = TF.relu(h); outs.append(h)
    h = TF.max_pool2d(h, 2, 2); outs.append(h)
    h = TF.conv2d(h, p["conv2.weight"], p["conv2.bias"]); outs.append(h)
    h = TF.relu(h); outs.append(h)
    h = TF.max_pool2d(h, 2, 2); outs.append(h)
    h = h.flatten(1); outs.append(h)
    h = TF.linear(h, p["fc1.weight"], p["fc1.bias"]); outs.append(h)
    h = TF.relu(h); outs.append(h)
    outs.append(h)  # dropout: identity in eval mode
    h = TF.linear(h, p["fc2.weight"], p["fc2.bias"]); outs.append(h)
    return outs


@pytest.fixture(scope="module")
def mnist():
    cnnlab.manual_seed(0)
    model = models.create("mnist-cnn")
    ds = _dataset()
    app = create_app(model, {"model": "mnist-cnn", "dataset": "synthetic"}, ds, input_shape=(1, 28, 28))
    client = TestClient(app, raise_server_exceptions=True)
    return types.SimpleNamespace(model=model, ds=ds, app=app, client=client, p=_torch_params(model))


def _infer(client, body):
    r = client.post("/api/infer", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_page_and_static_files_are_served(mnist):
    r = mnist.client.get("/")
    assert r.status_code == 200 and "<script type=\"module\" src=\"/static/app.js\">" in r.text
    for name, ctype in (("app.js", "javascript"), ("style.css", "text/css")):
        r = mnist.client.get(f"/static/{name}")
        assert r.status_code == 200 and ctype in r.headers["content-type"]
    assert "http://" not in mnist.client.get("/").text.replace("http://www.w3.org", "")  # nothing from the internet


def test_model_info_lists_the_lecture_dimension_flow(mnist):
    info = mnist.client.get("/api/model").json()
    assert info["input_shape"] == [1, 28, 28] and info["grayscale"] and info["n_samples"] == 20
    flow = [(layer["kind"], layer["shape"]) for layer in info["layers"]]
    assert flow == [("Conv2d", [16, 24, 24]), ("ReLU", [16, 24, 24]), ("MaxPool2d", [16, 12, 12]),
                    ("Conv2d", [24, 8, 8]), ("ReLU", [24, 8, 8]), ("MaxPool2d", [24, 4, 4]),
                    ("Flatten", [384]), ("Linear", [64]), ("ReLU", [64]), ("Dropout", [64]), ("Linear", [10])]
    assert info["classes"] == mnist.ds.classes


def test_sample_activations_and_probabilities_equal_torch(mnist):
    out = _infer(mnist.client, {"sample": 7})
    assert out["label"] == 7 and out["label_name"] == "class7"
    x = mnist.ds.data[7].astype(np.float32)[None, None] / 255
    np.testing.assert_allclose(_decode(out["input"]), x[0], rtol=0, atol=0)
    ref = _torch_mnist_cnn(mnist.p, torch.tensor(x))
    assert len(out["layers"]) == len(ref)
    for layer, t in zip(out["layers"], ref):
        np.testing.assert_allclose(_decode(layer["data"]), t[0].numpy(), rtol=1e-5, atol=1e-5, err_msg=layer["name"])
    probs = torch.softmax(ref[-1][0].double(), 0).numpy()
    np.testing.assert_allclose(out["probabilities"], probs, rtol=1e-5, atol=1e-6)
    assert out["predicted"] == int(np.argmax(probs))


def test_gallery_pages_have_labels_and_images(mnist):
    r = mnist.client.get("/api/samples?offset=16&count=10").json()
    assert r["total"] == 20 and [s["index"] for s in r["samples"]] == [16, 17, 18, 19]
    assert r["samples"][0]["label_name"] == "class6" and r["samples"][0]["image"].startswith("data:image/png;base64,")


def test_conv_detail_recomputes_the_models_value(mnist):
    out = _infer(mnist.client, {"sample": 3})
    x = torch.tensor(mnist.ds.data[3].astype(np.float32)[None, None] / 255)
    ref = _torch_mnist_cnn(mnist.p, x)
    for layer, (c, y, xx) in ((0, (5, 0, 23)), (0, (15, 11, 7)), (3, (23, 7, 0)), (3, (2, 4, 4))):
        d = mnist.client.get(f"/api/detail?input_id={out['input_id']}&layer={layer}&channel={c}&y={y}&x={xx}").json()
        assert d["kind"] == "conv"
        expected = float(ref[layer][0, c, y, xx])
        assert d["activation"] == pytest.approx(expected, rel=1e-5, abs=1e-6)
        assert d["result"] == pytest.approx(expected, rel=1e-4, abs=1e-5) and d["match"]
        src = (x if layer == 0 else ref[layer - 1])[0].numpy()
        w = mnist.p["conv1.weight" if layer == 0 else "conv2.weight"][c].numpy()
        np.testing.assert_allclose(d["windows"], src[:, y:y + 5, xx:xx + 5], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(d["kernel"], w, rtol=1e-7)
        np.testing.assert_allclose(d["products"], src[:, y:y + 5, xx:xx + 5] * w, rtol=1e-5, atol=1e-7)
        assert sum(d["channel_sums"]) == pytest.approx(d["sum"]) and d["sum"] + d["bias"] == pytest.approx(d["result"])


def test_pool_relu_linear_flatten_softmax_details(mnist):
    out = _infer(mnist.client, {"sample": 5})
    x = torch.tensor(mnist.ds.data[5].astype(np.float32)[None, None] / 255)
    ref = _torch_mnist_cnn(mnist.p, x)
    iid = out["input_id"]
    pool = mnist.client.get(f"/api/detail?input_id={iid}&layer=2&channel=4&y=6&x=9").json()
    np.testing.assert_allclose(pool["window"], ref[1][0, 4, 12:14, 18:20].numpy(), rtol=1e-6)
    assert pool["op"] == "max" and pool["result"] == pytest.approx(float(ref[2][0, 4, 6, 9]), rel=1e-6)
    relu = mnist.client.get(f"/api/detail?input_id={iid}&layer=1&channel=2&y=0&x=0").json()
    assert relu["kind"] == "elementwise" and relu["value_in"] == pytest.approx(float(ref[0][0, 2, 0, 0]), rel=1e-5)
    assert relu["activation"] == pytest.approx(max(0.0, float(ref[0][0, 2, 0, 0])), rel=1e-5, abs=1e-7)
    np.testing.assert_allclose(relu["outputs"], np.maximum(relu["inputs"], 0), rtol=1e-6)
    lin = mnist.client.get(f"/api/detail?input_id={iid}&layer=10&channel=3").json()
    assert lin["kind"] == "linear" and lin["result"] == pytest.approx(float(ref[10][0, 3]), rel=1e-4, abs=1e-5)
    flat = mnist.client.get(f"/api/detail?input_id={iid}&layer=6&channel=100").json()
    assert flat["source"] == [6, 1, 0]  # 100 = 6·16 + 1·4 + 0
    sm = mnist.client.get(f"/api/softmax?input_id={iid}").json()
    logits = ref[-1][0].double()
    np.testing.assert_allclose(sm["logits"], logits.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sm["exps"], torch.exp(logits - logits.max()).numpy(), rtol=1e-5)
    np.testing.assert_allclose(sm["probabilities"], torch.softmax(logits, 0).numpy(), rtol=1e-5, atol=1e-7)


class _Odd(nn.Module):
    """Stride, padding, dilation, groups, 'same' padding, ceil_mode and padded average pooling."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.b = nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2)
        self.c = nn.Conv2d(6, 4, (2, 3), padding="same", bias=False)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.mx = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.fc = nn.Linear(4 * 3 * 3, 5)

    def forward(self, x):
        h = self.mx(self.avg(self.c(cnnlab.tanh(self.b(self.a(x))))))
        return self.fc(h.flatten(1))


def test_conv_and_pool_details_with_stride_padding_dilation_groups_against_torch():
    model = _Odd()
    app = create_app(model, {}, None, input_shape=(3, 13, 13))
    client = TestClient(app, raise_server_exceptions=True)
    rng = np.random.default_rng(1)
    pixels = rng.random((3, 13, 13)).astype(np.float32)
    out = _infer(client, {"pixels": pixels.tolist()})
    assert out["layers"][-1]["shape"] == [5]
    p = _torch_params(model)
    x = torch.tensor(pixels[None])
    a = TF.conv2d(x, p["a.weight"], p["a.bias"], stride=2, padding=1)
    b = TF.conv2d(a, p["b.weight"], p["b.bias"], padding=2, dilation=2, groups=2)
    c = TF.conv2d(torch.tanh(b), p["c.weight"], None, padding="same")
    avg = TF.avg_pool2d(c, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    mx = TF.max_pool2d(avg, 3, 2, 1, ceil_mode=True)
    refs = [a, b, c, avg, mx]
    iid = out["input_id"]
    for li, ref in enumerate(refs):
        C, H, W = ref.shape[1:]
        for ch, y, xx in {(0, 0, 0), (C - 1, H - 1, W - 1), (C // 2, H // 2, 0), (1, 0, W - 1)}:
            d = client.get(f"/api/detail?input_id={iid}&layer={li}&channel={ch}&y={y}&x={xx}").json()
            want = float(ref[0, ch, y, xx])
            assert d["result"] == pytest.approx(want, rel=1e-4, abs=1e-5), (li, ch, y, xx, d["kind"])
            assert d["activation"] == pytest.approx(want, rel=1e-5, abs=1e-6)
    d = client.get(f"/api/detail?input_id={iid}&layer=0&channel=0&y=0&x=0").json()
    assert d["padding_mask"][0] == [True, True, True] and d["padding_mask"][1] == [True, False, False]
    d = client.get(f"/api/detail?input_id={iid}&layer=1&channel=5&y=1&x=1").json()
    assert d["input_channels"] == [2, 3] and d["rows"] == [-1, 1, 3]  # group 1 of 2, dilation 2


def test_drawn_pixels_and_shift(mnist):
    pixels = np.zeros((28, 28))
    pixels[6:22, 13:16] = 1.0  # a vertical stroke, like a "1"
    out = _infer(mnist.client, {"pixels": pixels.tolist()})
    ref = _torch_mnist_cnn(mnist.p, torch.tensor(pixels[None, None], dtype=torch.float32))
    np.testing.assert_allclose(out["probabilities"], torch.softmax(ref[-1][0].double(), 0).numpy(), rtol=1e-5)
    moved = _infer(mnist.client, {"input_id": out["input_id"], "shift": [3, -2]})
    expected = np.zeros((28, 28))
    expected[4:20, 16:19] = 1.0
    np.testing.assert_array_equal(_decode(moved["input"])[0], expected)
    sweep = mnist.client.get(f"/api/shift?input_id={out['input_id']}&max_shift=4").json()
    assert sweep["shifts"] == list(range(-4, 5))
    np.testing.assert_allclose(sweep["horizontal"][4], out["probabilities"], rtol=1e-5)
    np.testing.assert_allclose(sweep["vertical"][2], _infer(mnist.client, {"input_id": out["input_id"], "shift": [0, -2]})["probabilities"], rtol=1e-5)


def _png(arr, mode=None, fmt="PNG"):
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, format=fmt)
    return buf.getvalue()


def test_upload_png_and_jpeg_are_converted_and_described(mnist):
    img = np.full((60, 90, 3), 255, np.uint8)
    img[15:45, 40:50] = 0  # a dark stroke on white paper, wider than tall
    r = mnist.client.post("/api/upload", files={"file": ("digit.png", _png(img), "image/png")})
    assert r.status_code == 200, r.text
    out = r.json()
    steps = " | ".join(out["steps"])
    assert "grayscale" in steps and "cropped the centre square 60 × 60" in steps and "resized to 28 × 28" in steps
    assert "inverted" in steps
    x = _decode(out["input"])[0]
    assert x.shape == (28, 28) and x[0, 0] < 0.05 and x[14, 14] > 0.9  # now light on dark
    ref = _torch_mnist_cnn(mnist.p, torch.tensor(x[None, None]))
    np.testing.assert_allclose(out["probabilities"], torch.softmax(ref[-1][0].double(), 0).numpy(), rtol=1e-5)
    r = mnist.client.post("/api/upload", files={"file": ("p.jpg", _png(img, fmt="JPEG"), "image/jpeg")})
    assert r.status_code == 200 and r.json()["layers"][0]["shape"] == [16, 24, 24]
    rgba = np.zeros((28, 28, 4), np.uint8)
    r = mnist.client.post("/api/upload", files={"file": ("t.png", _png(rgba), "image/png")})
    assert r.status_code == 200 and any("transparency" in s for s in r.json()["steps"])


def _png_header_only(width, height):
    """A tiny PNG that declares ``width × height`` pixels (a decompression-bomb header)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


BAD_REQUESTS = [
    ("post", "/api/infer", {"content": b"{not json"}, 400),
    ("post", "/api/infer", {"json": []}, 400),
    ("post", "/api/infer", {"json": {}}, 400),
    ("post", "/api/infer", {"json": {"sample": 1, "pixels": [[0]]}}, 400),
    ("post", "/api/infer", {"json": {"sample": "x"}}, 400),
    ("post", "/api/infer", {"json": {"sample": 1.5}}, 400),
    ("post", "/api/infer", {"json": {"sample": 20}}, 404),
    ("post", "/api/infer", {"json": {"sample": -1}}, 404),
    ("post", "/api/infer", {"json": {"pixels": [[0.5] * 27] * 28}}, 400),
    ("post", "/api/infer", {"json": {"pixels": [[0.5] * 28] * 27 + [[0.5]]}}, 400),
    ("post", "/api/infer", {"json": {"pixels": [["a"] * 28] * 28}}, 400),
    ("post", "/api/infer", {"json": {"pixels": [[2.0] * 28] * 28}}, 400),
    ("post", "/api/infer", {"json": {"pixels": "abc"}}, 400),
    ("post", "/api/infer", {"json": {"input_id": "nope"}}, 404),
    ("post", "/api/infer", {"json": {"sample": 1, "shift": [1]}}, 400),
    ("post", "/api/infer", {"json": {"sample": 1, "shift": [99, 0]}}, 400),
    ("post", "/api/infer", {"content": b"0" * (2 * 1024 * 1024)}, 413),
    ("get", "/api/detail?input_id=nope&layer=0", {}, 404),
    ("get", "/api/detail?layer=0", {}, 400),
    ("get", "/api/detail?input_id={iid}", {}, 400),
    ("get", "/api/detail?input_id={iid}&layer=11", {}, 404),
    ("get", "/api/detail?input_id={iid}&layer=-1", {}, 404),
    ("get", "/api/detail?input_id={iid}&layer=abc", {}, 400),
    ("get", "/api/detail?input_id={iid}&layer=0&channel=16", {}, 404),
    ("get", "/api/detail?input_id={iid}&layer=0&channel=0&y=24", {}, 404),
    ("get", "/api/detail?input_id={iid}&layer=0&channel=0&x=-1", {}, 404),
    ("get", "/api/detail?input_id={iid}&layer=0&channel=0&x=1e9", {}, 400),
    ("get", "/api/detail?input_id={iid}&layer=7&channel=64", {}, 404),
    ("get", "/api/softmax", {}, 400),
    ("get", "/api/shift?input_id={iid}&max_shift=0", {}, 400),
    ("get", "/api/filters?layer=1", {}, 404),
    ("get", "/api/samples?count=1000", {}, 400),
    ("get", "/api/samples?offset=-3", {}, 400),
    ("get", "/api/nothing", {}, 404),
    ("delete", "/api/infer", {}, 405),
    ("post", "/api/upload", {"files": {"file": ("a.txt", b"hello, not an image", "text/plain")}}, 415),
    ("post", "/api/upload", {"files": {"file": ("a.gif", None, "image/gif")}}, 415),
    ("post", "/api/upload", {"files": {"file": ("a.png", None, "image/png")}}, 415),
    ("post", "/api/upload", {"files": {"other": ("a.png", b"x", "image/png")}}, 400),
    ("post", "/api/upload", {"content": b"", "headers": {"content-type": "image/png"}}, 400),
    ("post", "/api/upload", {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}}, 400),
    ("post", "/api/upload", {"content": b"\x89PNG" + b"0" * (5 * 1024 * 1024), "headers": {"content-type": "image/png"}}, 413),
    ("post", "/api/upload", {"content": _png_header_only(50_000, 50_000), "headers": {"content-type": "image/png"}}, 413),
    ("post", "/api/upload", {"content": _png_header_only(4100, 4100), "headers": {"content-type": "image/png"}}, 413),
]


def _fill(kwargs):
    files = kwargs.get("files")
    if files:
        name, (fname, data, ctype) = next(iter(files.items()))
        if data is None and ctype == "image/gif":
            data = _png(np.zeros((4, 4), np.uint8), fmt="GIF")
        elif data is None:
            noise = np.random.default_rng(0).integers(0, 256, (40, 40), dtype=np.uint8)
            data = _png(noise)[:800]  # a truncated PNG
        kwargs = {**kwargs, "files": {name: (fname, data, ctype)}}
    return kwargs


def test_bad_requests_get_a_4xx_json_error_and_the_server_keeps_working(mnist):
    iid = _infer(mnist.client, {"sample": 0})["input_id"]
    for method, url, kwargs, status in BAD_REQUESTS:
        r = getattr(mnist.client, method if method != "delete" else "request")(
            *(("DELETE",) if method == "delete" else ()), url.format(iid=iid), **_fill(kwargs))
        assert r.status_code == status, (method, url, r.status_code, r.text[:200])
        body = r.json()
        assert set(body) == {"error"} and body["error"] and "Traceback" not in r.text, (url, body)
    assert _infer(mnist.client, {"sample": 0})["input_id"] == iid


def test_the_bomb_guard_refuses_before_decoding(monkeypatch):
    from PIL import Image as PILImage

    from cnnlab.explain import images
    from cnnlab.explain.errors import ExplainError

    loaded = []
    monkeypatch.setattr(PILImage.Image, "load", lambda self: loaded.append(1))
    with pytest.raises(ExplainError) as e:  # over Pillow's own 2× limit: refused while reading the header
        images.decode_upload(_png_header_only(5000, 5000), max_pixels=1000 * 1000)
    assert e.value.status == 413 and "decompression bomb" in str(e.value) and not loaded
    with pytest.raises(ExplainError) as e, pytest.warns(PILImage.DecompressionBombWarning):  # our own check
        images.decode_upload(_png_header_only(1200, 1200), max_pixels=1000 * 1000)
    assert e.value.status == 413 and "1200 × 1200" in str(e.value) and not loaded
    assert PILImage.MAX_IMAGE_PIXELS == 1000 * 1000


def test_static_files_cannot_escape_their_folder(mnist):
    for url in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/%2e%2e%2f__init__.py",
                "/static//etc/passwd", "/static/..%5capp.py", "/static/....//app.py"):
        r = mnist.client.get(url)
        assert r.status_code in (400, 404), url
        assert "create_app" not in r.text and "root:" not in r.text


def test_training_run_curves_and_confusion_from_a_checkpoint(tmp_path):
    from cnnlab.checkpoint import save_checkpoint

    cnnlab.manual_seed(0)
    model = models.create("mnist-cnn")
    save_checkpoint(tmp_path / "checkpoint.safetensors", model, model_name="mnist-cnn", model_config={}, epoch=2,
                    metrics={"val_accuracy": 0.5}, seed=0,
                    extra={"dataset": "no-such-dataset", "input_shape": [1, 28, 28], "classes": list("abcdefghij"),
                           "preprocess": {"kind": "image", "image_shape": [1, 28, 28], "mean": [0.5], "std": [0.25]}})
    cm = np.arange(100).reshape(10, 10).tolist()
    (tmp_path / "metrics.jsonl").write_text(
        json.dumps({"epoch": 1, "train_loss": 1.0, "val_accuracy": 0.4}) + "\n"
        + json.dumps({"epoch": 2, "train_loss": 0.5, "val_accuracy": 0.5, "val_confusion_matrix": cm}) + "\n")
    kwargs, notes = app_kwargs_from_checkpoint(tmp_path)
    assert kwargs["normalize"] == ([0.5], [0.25]) and kwargs["dataset"] is None
    assert any("no-such-dataset" in n for n in notes)
    client = TestClient(create_app(**kwargs), raise_server_exceptions=True)
    run = client.get("/api/run").json()
    assert run["available"] and run["curves"]["train_loss"] == [1.0, 0.5] and run["confusion"] == cm
    info = client.get("/api/model").json()
    assert info["classes"] == list("abcdefghij") and info["model"] == "mnist-cnn" and info["n_samples"] == 0
    # drawn pixels are normalised as in training: (x − 0.5) / 0.25
    out = _infer(client, {"pixels": np.ones((28, 28)).tolist()})
    np.testing.assert_allclose(_decode(out["input"]), 2.0)
    assert load_run_info(tmp_path / "missing") is None


def test_cli_binds_loopback_by_default_and_refuses_missing_checkpoints(capsys):
    from cnnlab.cli import build_parser, main

    args = build_parser().parse_args(["explain"])
    assert args.host == "127.0.0.1" and args.port == 8000 and args.checkpoint is None
    assert main(["explain", "/no/such/checkpoint.safetensors"]) == 2
    assert "does not exist" in capsys.readouterr().err


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_live_server_answers_50_concurrent_requests(mnist):
    import httpx
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(mnist.app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 10
        while not server.started and time.time() < deadline:
            time.sleep(0.02)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        iid = httpx.post(f"{base}/api/infer", json={"sample": 2}).json()["input_id"]

        def one(k):
            with httpx.Client(timeout=30) as c:
                if k % 5 == 0:
                    return c.get(f"{base}/api/detail?input_id={iid}&layer=99").status_code, None
                if k % 5 == 1:
                    return c.post(f"{base}/api/infer", content=b"{bad").status_code, None
                if k % 5 == 2:
                    r = c.get(f"{base}/api/detail?input_id={iid}&layer=3&channel={k % 24}&y=1&x=2")
                    return r.status_code, r.json()["match"]
                r = c.post(f"{base}/api/infer", json={"sample": k % 20})
                return r.status_code, r.json()["probabilities"]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(one, range(50)))
        elapsed = time.perf_counter() - t0
        codes = [c for c, _ in results]
        assert codes.count(404) == 10 and codes.count(400) == 10 and codes.count(200) == 30, codes
        for k, (code, value) in enumerate(results):
            if k % 5 == 2:
                assert value is True
            elif k % 5 in (3, 4):
                assert value == _infer(mnist.client, {"sample": k % 20})["probabilities"]
        assert elapsed < 20
        assert httpx.get(f"{base}/api/model").status_code == 200
    finally:
        server.should_exit = True
        thread.join(10)
