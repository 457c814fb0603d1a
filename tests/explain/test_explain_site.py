"""The explainer as a static site (``cnnlab explain RUN --export DIR``; ``cnnlab/explain/site/``).

A tiny mnist-cnn run is trained once (64 images, one epoch) and exported with the default 64
samples. The folder is checked as files (what it holds, its size, the arrays it carries against
the data set and against onnxruntime), then served by Python's plain ``http.server`` in a
thread and driven in Debian's Chromium: the numbers the page shows, computed in the browser by
onnxruntime-web, are compared with cnnlab's engine run in this process, and every request the
page makes must stay on localhost. Probabilities are held to the live explainer's tolerance
(rtol 1e-5, atol 1e-7): onnxruntime-web and cnnlab differ by float32 rounding only (over the 64
samples of a 95%-accurate mnist-cnn: at most 4e-6 relative, 5e-7 absolute).
"""

from __future__ import annotations

import functools
import http.server
import io
import base64
import json
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

from cnnlab.cli import main

from test_explain_browser import browser  # noqa: F401  (the live page's browser fixture and launch settings)

MB = 1_000_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("site_run")
    out = root / "run"
    rc = main(["train", "mnist-cnn", "--data", "mnist10k", "--limit-train", "64", "--limit-test", "32",
               "--epochs", "1", "--out", str(out), "--runs-root", str(root / "runs"), "--no-progress"])
    assert rc == 0, "training the tiny run failed (is mnist10k installed? run scripts/setup.sh)"
    return out


@pytest.fixture(scope="module")
def site(run_dir, tmp_path_factory):
    from cnnlab.explain import Explainer
    from cnnlab.explain.loading import app_kwargs_from_checkpoint

    out = tmp_path_factory.mktemp("site") / "site"
    rc = main(["explain", str(run_dir), "--export", str(out)])
    assert rc == 0
    kwargs, _ = app_kwargs_from_checkpoint(str(run_dir))
    ex = Explainer(kwargs["model"], kwargs["meta"], kwargs["dataset"], input_shape=kwargs["input_shape"],
                   classes=kwargs["classes"], normalize=kwargs["normalize"], run=kwargs["run"])
    return types.SimpleNamespace(path=out, ex=ex, kwargs=kwargs, meta=json.loads((out / "site.json").read_text()))


def _sample_input(site, i):
    """Test image i as the model's input, computed here from the raw uint8 data set."""
    ds = site.kwargs["dataset"]
    x = np.asarray(ds.data[i], np.float32)[None] * np.float32(1 / 255)
    mean, std = site.kwargs["normalize"]
    return (x - np.float32(mean[0])) / np.float32(std[0])


def _engine_probs(site, x):
    return site.ex.engine.run(x.astype(np.float32)).probabilities


# ------------------------------------------------------------------------------ the folder
def test_the_folder_holds_the_page_the_model_the_samples_and_one_runtime_build(site):
    files = {p.relative_to(site.path).as_posix(): p.stat().st_size for p in site.path.rglob("*") if p.is_file()}
    assert {"index.html", "model.onnx", "site.json", "samples.bin", "params.bin", "run.json",
            "static/app.js", "static/lib/api.js", "static/site/backend.js", "static/site/main.js"} <= set(files)
    assert sorted(f for f in files if f.startswith("ort/")) == [
        "ort/README.txt", "ort/ort-wasm-simd-threaded.wasm", "ort/ort.wasm.bundle.min.mjs"]
    assert 13 * MB < files["ort/ort-wasm-simd-threaded.wasm"] < 16 * MB
    assert sum(files.values()) < 20 * MB
    assert files["samples.bin"] == 64 * 1 * 28 * 28 * 4
    html = (site.path / "index.html").read_text()
    assert 'src="static/site/main.js"' in html and '"/static/' not in html and "http" not in html.replace("http-equiv", "")
    import re

    from cnnlab.explain.site._export import STATIC_TABS

    live = re.findall(r'data-tab="([^"]+)"', (Path(__file__).parents[2] / "cnnlab/explain/static/index.html").read_text())
    assert re.findall(r'data-tab="([^"]+)"', html) == [t for t in live if t in STATIC_TABS]  # server-only tabs left out


def test_the_samples_are_the_test_sets_first_images_as_model_inputs(site):
    x = np.frombuffer((site.path / "samples.bin").read_bytes(), "<f4").reshape(64, 1, 28, 28)
    for i in (0, 5, 63):
        np.testing.assert_array_equal(x[i], _sample_input(site, i))
    labels = [s["label"] for s in site.meta["samples"]]
    assert labels == [int(v) for v in np.asarray(site.kwargs["dataset"].targets)[:64]]
    assert all(s["image"].startswith("data:image/png;base64,") for s in site.meta["samples"])


def test_the_run_record_is_the_runs_metrics(site, run_dir):
    run = json.loads((site.path / "run.json").read_text())
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    assert run["available"] and run["curves"]["epoch"] == [r["epoch"] for r in records]
    assert run["curves"]["train_loss"] == [r["train_loss"] for r in records]
    assert np.asarray(run["confusion"]).shape == (10, 10)


def test_the_filter_snapshots_travel_with_the_site(site, run_dir):
    from cnnlab.train.snapshots import load_filter_history

    h = load_filter_history(run_dir)  # the run's filters.npz: initialisation and epoch 1
    exported = json.loads((site.path / "run.json").read_text())["filters_history"]
    assert exported["available"] and exported["layer"] == h.layer == "conv1"
    assert exported["epochs"] == [int(e) for e in h.epochs] == [0, 1]
    w = exported["weights"]
    decoded = np.frombuffer(base64.b64decode(w["b64"]), "<f4").reshape(w["shape"])
    np.testing.assert_array_equal(decoded, np.asarray(h.weights, np.float32))


def test_onnxruntime_gives_every_layer_the_site_names(site):
    """Each layer's ONNX value, run by onnxruntime on a sample, equals the engine's activation."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(site.path / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    x = _sample_input(site, 3)
    values = dict(zip(names, session.run(names, {"input": x[None]})))
    trace = site.ex.engine.run(x)
    assert [L["name"] for L in site.meta["layers"]] == [r.name for r in trace.layers]
    for L, rec in zip(site.meta["layers"], trace.layers):
        np.testing.assert_allclose(values[L["value"]][0], rec.output, rtol=1e-4, atol=1e-5, err_msg=L["name"])
        got_in = x if L["input_value"] == "input" else values[L["input_value"]][0]
        np.testing.assert_allclose(got_in, rec.input, rtol=1e-4, atol=1e-5, err_msg=L["name"])


def test_exporting_again_replaces_the_site_and_a_foreign_folder_is_refused(site, tmp_path):
    from cnnlab.explain.site import SiteError, export_site

    out = tmp_path / "again"
    s1 = export_site(site.ex, out, samples=3)
    s2 = export_site(site.ex, out, samples=5)
    assert (s1.samples, s2.samples) == (3, 5) and (out / "samples.bin").stat().st_size == 5 * 784 * 4
    assert not list(tmp_path.glob(".again.part-*"))
    (out / "CNAME").write_text("example.org")               # a host's own files survive a new export
    (out / "notes").mkdir()
    (out / "notes" / "a.md").write_text("mine")
    s3 = export_site(site.ex, out, samples=2)
    assert (out / "CNAME").read_text() == "example.org" and (out / "notes" / "a.md").read_text() == "mine"
    assert "kept what the export does not write: CNAME, notes" in s3.notes
    assert "CNAME" not in s3.files and set(s3.files) == set(s2.files)   # "wrote N files" counts its own
    assert (out / "samples.bin").stat().st_size == 2 * 784 * 4 and (out / "ort").is_dir()
    assert not list(tmp_path.glob(".again.part-*"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SiteError, match="not empty"):
        export_site(site.ex, tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    with pytest.raises(SiteError, match="samples"):
        export_site(site.ex, tmp_path / "x", samples=0)


def test_a_missing_runtime_says_how_to_install_it(tmp_path):
    from cnnlab.explain.site import RuntimeMissing, find_runtime

    with pytest.raises(RuntimeMissing, match="npm install --prefix .* onnxruntime-web@1.30.0"):
        find_runtime(tmp_path)


# ------------------------------------------------------------------------------ in Chromium
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(site):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.path)))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def page(browser, served):
    """One page for the module (loading the 14 MB runtime once); the tests run in file order."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 960})
    pg = ctx.new_page()
    pg.errors, pg.requests = [], []

    def route(r):
        pg.requests.append(r.request.url)
        if r.request.url.startswith(served + "/"):
            r.continue_()
        else:
            r.abort()

    ctx.route("**/*", route)
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    t0 = time.perf_counter()
    pg.goto(served + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=30000)
    pg.ready_s = time.perf_counter() - t0
    yield pg
    ctx.close()


def _shown_probs(page, selector="#overview #prob-bars .bar-row"):
    return np.array([float(v) for v in page.eval_on_selector_all(selector, "rows => rows.map(r => r.dataset.prob)")])


def _click_map_position(page, selector, y, x, h, w, border=1):
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    cw, ch = box["width"] - 2 * border, box["height"] - 2 * border
    page.mouse.click(box["x"] + border + (x + 0.5) * cw / w, box["y"] + border + (y + 0.5) * ch / h)


def _input_of(page):
    return np.array(page.evaluate("() => Array.from(S.trace.input.data)"), np.float32).reshape(1, 28, 28)


@pytest.mark.browser
def test_the_page_is_ready_and_shows_a_samples_probabilities_from_the_browser(page, site):
    assert page.locator("#overview .column").count() == len(site.ex.layers) + 2
    assert page.locator("#gallery .sample").count() == 24 and "1 / 3" in page.inner_text("#page-info")
    page.click("#gallery .sample[data-index='5']")
    page.wait_for_function("() => S.trace && S.trace.sample === 5")
    np.testing.assert_allclose(_shown_probs(page), _engine_probs(site, _sample_input(site, 5)), rtol=1e-5, atol=1e-7)
    assert page.errors == []


@pytest.mark.browser
def test_a_convolution_and_a_pooling_detail_equal_the_engines(page, site):
    import cnnlab

    page.click("#gallery .sample[data-index='2']")
    page.wait_for_function("() => S.trace && S.trace.sample === 2")
    model = site.kwargs["model"]
    x = cnnlab.tensor(_sample_input(site, 2)[None])
    with cnnlab.no_grad():
        conv1 = model.conv1(x).numpy()[0]
        pool1 = model.pool(model.relu(model.conv1(x))).numpy()[0]
    _click_map_position(page, "canvas.map[data-layer='0'][data-channel='3']", 10, 12, 24, 24)
    page.wait_for_selector("#detail[data-kind='conv'] #detail-result")
    _click_map_position(page, "#detail canvas.big.pickable", 10, 12, 24, 24)
    page.wait_for_function("() => document.querySelector('#detail h2').textContent.includes('(y=10, x=12)')")
    assert float(page.get_attribute("#detail-result", "data-value")) == pytest.approx(float(conv1[3, 10, 12]), rel=1e-4, abs=1e-5)
    assert page.locator("#detail .card table.grid").count() == 3 and "equal" in page.inner_text("#detail .result-line")
    _click_map_position(page, "canvas.map[data-layer='2'][data-channel='3']", 5, 6, 12, 12)
    page.wait_for_selector("#detail[data-kind='pool']")
    page.wait_for_function("() => /\\(y=\\d+, x=\\d+\\)/.test(document.querySelector('#detail h2').textContent)")
    import re

    y, xx = map(int, re.search(r"\(y=(\d+), x=(\d+)\)", page.inner_text("#detail h2")).groups())
    assert float(page.get_attribute("#detail-result", "data-value")) == pytest.approx(float(pool1[3, y, xx]), rel=1e-5, abs=1e-6)
    page.click("text=how softmax got these →")
    page.wait_for_selector("#softmax-table")
    shown = [float(v) for v in page.eval_on_selector_all("#softmax-table td[data-value]", "c => c.map(e => e.dataset.value)")]
    np.testing.assert_allclose(shown, _engine_probs(site, _sample_input(site, 2)), rtol=1e-5, atol=1e-7)
    assert page.errors == []


@pytest.mark.browser
def test_drawing_runs_the_model_in_the_browser(page, site):
    page.click("#input-panel button[data-input='draw']")
    before = _shown_probs(page)
    box = page.locator("#draw-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for t in np.linspace(0, 1, 12):  # a "7"
        px, py = (0.25 + 0.5 * t, 0.2) if t < 0.5 else (0.75 - 0.4 * (t - 0.5) * 2, 0.2 + 0.65 * (t - 0.5) * 2)
        page.mouse.move(box["x"] + box["width"] * px, box["y"] + box["height"] * py)
    page.mouse.up()
    page.wait_for_function("() => !S.drawBusy && S.trace.source === 'pixels' && S.trace.input.max > 0.5")
    time.sleep(0.3)
    page.wait_for_function("() => !S.drawBusy")
    shown = _shown_probs(page)
    assert not np.allclose(before, shown)
    np.testing.assert_allclose(shown, _engine_probs(site, _input_of(page)), rtol=1e-5, atol=1e-7)
    assert "your drawing" in page.inner_text("#input-caption") and page.errors == []


@pytest.mark.browser
def test_an_upload_runs_in_the_browser(page, site):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (120, 90), "white")
    ImageDraw.Draw(img).ellipse((40, 20, 80, 70), outline="black", width=7)  # a dark "0" on paper
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    page.click("#input-panel button[data-input='upload']")
    page.set_input_files("#upload-file", files=[{"name": "zero.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    page.wait_for_selector("#upload-steps li")
    steps = page.locator("#upload-steps li").all_inner_texts()
    assert any("resized to 28 × 28" in s for s in steps) and any("inverted" in s for s in steps), steps
    assert "upload: zero.png" in page.inner_text("#input-caption")
    x = _input_of(page)
    assert x.max() > 1 and x[0, 0, 0] < 0          # light ring on a dark (normalised) background
    np.testing.assert_allclose(_shown_probs(page), _engine_probs(site, x), rtol=1e-5, atol=1e-7)
    page.set_input_files("#upload-file", files=[{"name": "x.png", "mimeType": "image/png", "buffer": b"not a png"}])
    page.wait_for_function("() => document.querySelector('#upload-error').textContent.length > 0")
    assert "PNG or JPEG" in page.inner_text("#upload-error") and page.errors == []


@pytest.mark.browser
def test_training_filters_shift_and_playground_tabs(page, site):
    page.click("#tabs button[data-tab='training']")
    page.wait_for_selector("#training svg.chart")
    assert page.locator("table.confusion tr").count() == 11
    page.click("#tabs button[data-tab='filters']")
    page.wait_for_selector("#filters .filter canvas")
    assert page.locator("#filters .filter").count() == 16
    assert page.get_attribute("#filters-epoch", "max") == "1"   # the run's two snapshots
    page.click("#tabs button[data-tab='shift']")
    page.wait_for_selector("#shift-plot polyline")
    page.fill("#shift-x", "6")
    page.wait_for_function("() => document.querySelector('#shift-caption').textContent.includes('shift (6, 0)')")
    page.click("#tabs button[data-tab='playground']")
    page.fill("#pg-p", "0")
    assert "Stride 3 does not fit" in page.inner_text("#pg-flag")
    assert page.errors == []


@pytest.mark.browser
def test_no_request_leaves_localhost(page, served):
    assert page.requests and all(u.startswith(served + "/") for u in page.requests), \
        [u for u in page.requests if not u.startswith(served + "/")]
    assert any(u.endswith("/ort/ort-wasm-simd-threaded.wasm") for u in page.requests)
    assert page.ready_s < 15


# ------------------------------------------------------------------------------ the browser's arithmetic
NODE_RUNNER = """
import * as D from %s;
let text = "";
for await (const chunk of process.stdin) text += chunk;
const f32 = (a) => ({ shape: a.shape, data: Float32Array.from(a.data) });
const out = JSON.parse(text).map((c) => {
  for (const k of ["weight", "bias"]) if (c.L[k]) c.L[k] = f32(c.L[k]);
  const rec = { index: c.index, name: c.name, kind: c.kind, L: c.L, input: f32(c.input), output: f32(c.output) };
  return D.detail(rec, ...c.pos);
});
process.stdout.write(JSON.stringify(out));
"""


def _layer_cases():
    import cnnlab.nn as nn

    return [
        ("conv zeros", nn.Conv2d(3, 4, 3, stride=2, padding=1), (3, 9, 8), [(1, 0, 0), (3, 4, 3)]),
        ("conv reflect dilated", nn.Conv2d(2, 3, 3, padding=2, dilation=2, padding_mode="reflect"), (2, 7, 7), [(0, 0, 0), (2, 6, 1)]),
        ("conv replicate", nn.Conv2d(2, 2, (3, 2), padding=(1, 1), padding_mode="replicate"), (2, 6, 5), [(1, 0, 5)]),
        ("conv circular groups", nn.Conv2d(4, 4, 3, padding=1, groups=2, padding_mode="circular"), (4, 5, 5), [(3, 0, 4)]),
        ("conv same", nn.Conv2d(1, 2, 4, padding="same", bias=False), (1, 6, 6), [(1, 0, 0), (0, 5, 5)]),
        ("max pool padded", nn.MaxPool2d(3, stride=2, padding=1), (2, 7, 7), [(1, 0, 0), (0, 3, 3)]),
        ("avg pool padded", nn.AvgPool2d(3, stride=2, padding=1), (2, 7, 7), [(1, 0, 0), (0, 3, 3)]),
        ("avg pool no pad count", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (1, 6, 6), [(0, 0, 0)]),
        ("adaptive avg", nn.AdaptiveAvgPool2d((2, 3)), (2, 5, 7), [(1, 1, 2)]),
        ("linear", nn.Linear(20, 5), (20,), [(4, 0, 0)]),
        ("flatten", nn.Flatten(), (2, 3, 4), [(17, 0, 0)]),
        ("relu", nn.ReLU(), (2, 5, 5), [(1, 0, 4)]),
    ]


def _torch_value(module, x, pos):
    """The layer's output at ``pos`` computed by torch from the same weights (the reference)."""
    import torch
    import torch.nn.functional as TF

    t = torch.tensor(x[None])
    m, kind = module, type(module).__name__
    if kind == "Conv2d":
        w = torch.tensor(m.weight.detach().numpy())
        b = None if m.bias is None else torch.tensor(m.bias.detach().numpy())
        ref = torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, m.groups,
                              b is not None, m.padding_mode)
        with torch.no_grad():
            ref.weight.copy_(w)
            if b is not None:
                ref.bias.copy_(b)
            y = ref(t)
    elif kind == "MaxPool2d":
        y = TF.max_pool2d(t, m.kernel_size, m.stride, m.padding)
    elif kind == "AvgPool2d":
        y = TF.avg_pool2d(t, m.kernel_size, m.stride, m.padding, count_include_pad=m.count_include_pad)
    elif kind == "AdaptiveAvgPool2d":
        y = TF.adaptive_avg_pool2d(t, m.output_size)
    elif kind == "Linear":
        y = TF.linear(t, torch.tensor(m.weight.detach().numpy()), torch.tensor(m.bias.detach().numpy()))
    elif kind == "Flatten":
        y = t.flatten(1)
    else:
        y = TF.relu(t)
    y = y.detach().numpy()[0]
    return float(y[pos] if y.ndim == 3 else y[pos[0]])


def test_the_browser_detail_arithmetic_equals_torch_and_the_live_explainer(tmp_path):
    """details.js (run by Node) against torch's value and against details.py's fields, one case per layer setting."""
    import shutil
    import subprocess

    import cnnlab
    from cnnlab.explain import details
    from cnnlab.explain.inference import LayerRecord
    from cnnlab.explain.site import _export

    node = shutil.which("node")
    assert node, "Node.js is not installed (Debian's npm package brings it; run scripts/setup.sh)"
    cnnlab.manual_seed(0)
    rng = np.random.default_rng(0)
    cases, expected = [], []
    for i, (label, module, shape, positions) in enumerate(_layer_cases()):
        x = rng.standard_normal(shape).astype(np.float32)
        with cnnlab.no_grad():
            y = module(cnnlab.from_numpy(x[None])).numpy()[0]
        rec = LayerRecord(i, label, type(module).__name__, module, x, y)
        params = _export._Params()
        L = _export._layer_settings(rec, params)
        blob = np.frombuffer(b"".join(params.chunks), "<f4")
        for k in ("weight", "bias"):
            if k in L:
                e = L[k]
                L[k] = {"shape": e["shape"], "data": blob[e["offset"] // 4:e["offset"] // 4 + int(np.prod(e["shape"]))].tolist()}
        for pos in positions:
            cases.append({"index": i, "name": label, "kind": rec.kind, "L": L, "pos": list(pos),
                          "input": {"shape": list(x.shape), "data": x.ravel().tolist()},
                          "output": {"shape": list(y.shape), "data": y.ravel().tolist()}})
            expected.append((label, details.detail(types.SimpleNamespace(layer=lambda _: rec), 0, *pos),
                             _torch_value(module, x, pos)))
    script = tmp_path / "run.mjs"
    script.write_text(NODE_RUNNER % json.dumps((_export.PAGE / "details.js").as_uri()))
    r = subprocess.run([node, str(script)], input=json.dumps(cases), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    for g, (label, want, torch_value) in zip(got, expected):
        assert g["kind"] == want["kind"], label
        assert g["result"] == pytest.approx(torch_value, rel=1e-5, abs=1e-6), label
        assert set(g) == set(want), (label, set(g) ^ set(want))
        for k, v in want.items():
            if isinstance(v, (bool, str)) or v is None:
                assert g[k] == v, (label, k)
            else:
                np.testing.assert_allclose(np.asarray(g[k], float), np.asarray(v, float), rtol=1e-9, atol=1e-12,
                                           err_msg=f"{label}: {k}")
