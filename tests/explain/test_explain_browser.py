"""End-to-end: the explainer's page in Debian's Chromium, driven by Playwright (Python).

The server runs in a thread on 127.0.0.1 (a free port); the numbers the page shows are
compared with the model run here, in the test process. Set ``CNNLAB_SCREENSHOTS=docs`` to
write one screenshot per view into ``docs/`` (as ``explainer-<view>.png``), and
``CNNLAB_EXPLAIN_CHECKPOINT=<run dir>`` to explain a trained checkpoint instead of a freshly
seeded ``mnist-cnn`` on synthetic digits.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(app):
    """Serve the FastAPI ``app`` on a free 127.0.0.1 port in a thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not srv.started and time.time() < deadline:
        time.sleep(0.02)
    assert srv.started, "the explainer's server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


def _synthetic_kwargs():
    import cnnlab
    from cnnlab import models

    cnnlab.manual_seed(0)
    model = models.create("mnist-cnn")
    rng = np.random.default_rng(0)
    data = np.zeros((24, 28, 28), np.uint8)
    for i in range(24):
        y, x = rng.integers(8, 20, 2)
        data[i, y - 5:y + 5, x - 2 - i % 3:x + 2] = 255
    ds = types.SimpleNamespace(data=data, targets=np.arange(24) % 10, classes=[str(i) for i in range(10)])
    cm = (np.eye(10) * 80 + rng.integers(0, 8, (10, 10))).astype(int).tolist()
    run = {"curves": {"epoch": [1, 2, 3], "train_loss": [1.2, 0.7, 0.5], "val_loss": [0.9, 0.6, 0.55],
                      "train_accuracy": [0.6, 0.78, 0.83], "val_accuracy": [0.7, 0.8, 0.82]}, "confusion": cm}
    return {"model": model, "meta": {"model": "mnist-cnn", "dataset": "synthetic digits"}, "dataset": ds,
            "input_shape": (1, 28, 28), "run": run}


@pytest.fixture(scope="module")
def server():
    from cnnlab.explain import create_app

    ckpt = os.environ.get("CNNLAB_EXPLAIN_CHECKPOINT")
    if ckpt:
        from cnnlab.explain.loading import app_kwargs_from_checkpoint

        kwargs, _ = app_kwargs_from_checkpoint(ckpt)
    else:
        kwargs = _synthetic_kwargs()
    app = create_app(**kwargs)
    with serving(app) as url:
        yield types.SimpleNamespace(url=url, ex=app.state.explainer, kwargs=kwargs)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1440, "height": 960})
    pg = ctx.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    t0 = time.perf_counter()
    pg.goto(server.url + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=15000)
    pg.ready_s = time.perf_counter() - t0
    yield pg
    ctx.close()


def _shot(page, name, tmp_path, locator=None):
    out = Path(os.environ.get("CNNLAB_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"explainer-{name}.png"
    (locator or page).screenshot(path=str(path))
    assert path.stat().st_size > 5000


def _expected_probs(server, x):
    """Run the model in this process on the (C, H, W) input x."""
    import cnnlab

    with cnnlab.no_grad():
        logits = server.kwargs["model"](cnnlab.tensor(x[None].astype(np.float32))).numpy()[0].astype(np.float64)
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _sample_input(server, i):
    ds = server.kwargs["dataset"]
    x = np.asarray(ds.data[i], np.float32)[None] / 255
    norm = server.kwargs.get("normalize")
    if norm:
        x = (x - np.float32(norm[0][0])) / np.float32(norm[1][0])
    return x


def _shown_probs(page, selector="#overview #prob-bars .bar-row"):
    return np.array([float(v) for v in page.eval_on_selector_all(selector, "rows => rows.map(r => r.dataset.prob)")])


def test_page_loads_without_console_errors(page, server, tmp_path):
    n_layers = len(server.ex.layers)
    assert page.locator("#overview .column").count() == n_layers + 2  # input, every layer, output
    heads = page.locator("#overview .col-head").all_inner_texts()
    assert "conv1" in heads[1] and "Conv2d" in heads[1] and "16×24×24" in heads[1]
    assert page.locator("#gallery .sample").count() > 0 and page.ready_s < 10
    page.hover("canvas.map[data-layer='3'][data-channel='2']")
    assert page.locator("#connections line").count() == 16  # conv2 reads all 16 channels of pool1
    _shot(page, "overview", tmp_path)
    assert page.errors == []


def test_choosing_a_sample_shows_the_engines_probabilities(page, server, tmp_path):
    before = _shown_probs(page)
    page.click("#gallery .sample[data-index='5']")
    page.wait_for_function("() => S.trace && S.trace.sample === 5")
    shown = _shown_probs(page)
    expected = _expected_probs(server, _sample_input(server, 5))
    np.testing.assert_allclose(shown, expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(before, shown)
    assert "✓" in page.locator("#overview .bar-row.true").inner_text()  # the true label is marked
    _shot(page, "input-gallery", tmp_path, page.locator("#input-panel"))
    assert page.errors == []


def _click_map_position(page, selector, y, x, h, w, border=1):
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    cw, ch = box["width"] - 2 * border, box["height"] - 2 * border
    page.mouse.click(box["x"] + border + (x + 0.5) * cw / w, box["y"] + border + (y + 0.5) * ch / h)


def _shown_position(page):
    import re

    y, x = re.search(r"\(y=(\d+), x=(\d+)\)", page.inner_text("#detail h2")).groups()
    return int(y), int(x)


def test_clicking_a_feature_map_position_shows_the_engines_numbers(page, server, tmp_path):
    import cnnlab

    page.click("#gallery .sample[data-index='2']")
    page.wait_for_function("() => S.trace && S.trace.sample === 2")
    model = server.kwargs["model"]
    x = cnnlab.tensor(_sample_input(server, 2)[None])
    with cnnlab.no_grad():
        conv1 = model.conv1(x).numpy()[0]
        pool1 = model.pool(model.relu(model.conv1(x))).numpy()[0]
    # The overview's maps are small (about a pixel per cell): a click opens the detail near there.
    _click_map_position(page, "canvas.map[data-layer='0'][data-channel='3']", 10, 12, 24, 24)
    page.wait_for_selector("#detail[data-kind='conv'] #detail-result")
    y, x = _shown_position(page)
    assert abs(y - 10) <= 1 and abs(x - 12) <= 1
    shown = float(page.get_attribute("#detail-result", "data-value"))
    assert shown == pytest.approx(float(conv1[3, y, x]), rel=1e-4, abs=1e-5)
    _click_map_position(page, "#detail canvas.big.pickable", 10, 12, 24, 24)
    page.wait_for_function("() => document.querySelector('#detail h2').textContent.includes('(y=10, x=12)')")
    shown = float(page.get_attribute("#detail-result", "data-value"))
    assert shown == pytest.approx(float(conv1[3, 10, 12]), rel=1e-4, abs=1e-5)
    assert page.locator("#detail .card").count() == 1 and page.locator("#detail .card table.grid").count() == 3
    assert "equal" in page.inner_text("#detail .result-line")
    # a position picked in the enlarged output map
    _click_map_position(page, "#detail canvas.big.pickable", 20, 3, 24, 24)
    page.wait_for_function("() => document.querySelector('#detail h2').textContent.includes('(y=20, x=3)')")
    assert float(page.get_attribute("#detail-result", "data-value")) == pytest.approx(float(conv1[3, 20, 3]), rel=1e-4, abs=1e-5)
    _shot(page, "conv-detail", tmp_path)
    page.click("#conv-play")   # the step animation moves the window along the row
    page.wait_for_function("() => document.querySelector('#detail h2').textContent.includes('(y=20, x=5)')", timeout=5000)
    page.click("#conv-play")
    # pooling and ReLU details
    _click_map_position(page, "canvas.map[data-layer='2'][data-channel='3']", 5, 6, 12, 12)
    page.wait_for_selector("#detail[data-kind='pool']")
    y, x = _shown_position(page)
    assert float(page.get_attribute("#detail-result", "data-value")) == pytest.approx(float(pool1[3, y, x]), rel=1e-6)
    _shot(page, "pool-detail", tmp_path, page.locator("#detail"))
    _click_map_position(page, "canvas.map[data-layer='1'][data-channel='3']", 10, 12, 24, 24)
    page.wait_for_selector("#detail[data-kind='elementwise']")
    y, x = _shown_position(page)
    assert float(page.get_attribute("#detail-result", "data-value")) == pytest.approx(max(0.0, float(conv1[3, y, x])), rel=1e-5, abs=1e-7)
    _shot(page, "relu-detail", tmp_path, page.locator("#detail"))
    page.click("text=how softmax got these →")
    page.wait_for_selector("#softmax-table")
    shown = [float(v) for v in page.eval_on_selector_all("#softmax-table td[data-value]", "c => c.map(e => e.dataset.value)")]
    np.testing.assert_allclose(shown, _expected_probs(server, _sample_input(server, 2)), rtol=1e-5, atol=1e-7)
    _shot(page, "softmax-detail", tmp_path, page.locator("#detail"))
    assert page.errors == []


def test_drawing_on_the_canvas_changes_the_prediction(page, server, tmp_path):
    page.click("#input-panel button[data-input='draw']")
    before = _shown_probs(page)
    box = page.locator("#draw-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for t in np.linspace(0, 1, 12):  # a "7": across the top, then down to the left
        px, py = (0.25 + 0.5 * t, 0.2) if t < 0.5 else (0.75 - 0.4 * (t - 0.5) * 2, 0.2 + 0.65 * (t - 0.5) * 2)
        page.mouse.move(box["x"] + box["width"] * px, box["y"] + box["height"] * py)
    page.mouse.up()
    page.wait_for_function("() => !S.drawBusy && S.trace.source === 'pixels' && S.trace.input.max > 0.5")
    time.sleep(0.3)
    page.wait_for_function("() => !S.drawBusy")
    shown = _shown_probs(page)
    assert not np.allclose(before, shown)
    enc = page.evaluate("() => S.trace.input")
    import base64

    x = np.frombuffer(base64.b64decode(enc["b64"]), "<f4").reshape(enc["shape"])
    np.testing.assert_allclose(shown, _expected_probs(server, x), rtol=1e-5, atol=1e-7)
    assert "your drawing" in page.inner_text("#input-caption")
    _shot(page, "draw", tmp_path)
    assert page.errors == []


def test_an_upload_works(page, server, tmp_path):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (120, 90), "white")
    ImageDraw.Draw(img).ellipse((40, 20, 80, 70), outline="black", width=7)  # a dark "0" on paper
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    page.click("#input-panel button[data-input='upload']")
    page.set_input_files("#upload-file", files=[{"name": "zero.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    page.wait_for_selector("#upload-steps li")
    steps = page.locator("#upload-steps li").all_inner_texts()
    assert any("resized to 28 × 28" in s for s in steps) and any("inverted" in s for s in steps)
    assert "upload: zero.png" in page.inner_text("#input-caption")
    _shot(page, "upload", tmp_path, page.locator("#input-panel"))
    page.set_input_files("#upload-file", files=[{"name": "x.png", "mimeType": "image/png", "buffer": b"not a png"}])
    page.wait_for_function("() => document.querySelector('#upload-error').textContent.length > 0")
    assert "PNG or JPEG" in page.inner_text("#upload-error")
    # the failed upload logs a 415 in the console; nothing else may
    assert all("415" in e for e in page.errors), page.errors


def test_the_playground_flags_a_stride_that_does_not_fit(page, tmp_path):
    page.click("#tabs button[data-tab='playground']")
    for sel, v in (("#pg-w", "7"), ("#pg-p", "1"), ("#pg-k", "3"), ("#pg-s", "3"), ("#pg-d", "1")):
        page.fill(sel, v)
    assert page.get_attribute("#pg-flag", "class") == "good" and "3 × 3" in page.inner_text("#pg-flag")
    page.fill("#pg-p", "0")       # (7 − 3 + 0) / 3 is not an integer
    assert page.get_attribute("#pg-flag", "class") == "bad"
    assert "Stride 3 does not fit" in page.inner_text("#pg-flag") and "4/3" in page.inner_text("#pg-flag")
    page.fill("#pg-s", "2")       # 4 / 2 = 2 → O = 3
    assert page.get_attribute("#pg-flag", "class") == "good"
    page.fill("#pg-s", "3")
    page.fill("#pg-w", "8")
    page.fill("#pg-d", "2")       # K_eff = 5: (8 − 5)/3 + 1 = 2
    assert "= 2" in page.inner_text("#pg-formula") and page.get_attribute("#pg-flag", "class") == "good"
    page.fill("#pg-d", "1")
    page.fill("#pg-w", "7")
    page.fill("#pg-p", "0")
    page.wait_for_timeout(700)
    assert page.locator("#pg-svg rect.pg-win").count() == 9
    _shot(page, "playground", tmp_path)
    assert page.errors == []


def test_training_filters_and_shift_views(page, server, tmp_path):
    page.click("#tabs button[data-tab='training']")
    page.wait_for_selector("#training svg.chart")
    if server.kwargs.get("run") and server.kwargs["run"].get("confusion"):
        assert page.locator("table.confusion tr").count() == 11
    _shot(page, "training", tmp_path)
    page.click("#tabs button[data-tab='filters']")
    page.wait_for_selector("#filters .filter canvas")
    assert page.locator("#filters .filter").count() == 16
    _shot(page, "filters", tmp_path)
    page.click("#tabs button[data-tab='shift']")
    page.wait_for_selector("#shift-plot polyline")
    before = _shown_probs(page, "#shift-prob-bars .bar-row")
    page.fill("#shift-x", "6")
    page.wait_for_function("() => document.querySelector('#shift-caption').textContent.includes('shift (6, 0)')")
    after = _shown_probs(page, "#shift-prob-bars .bar-row")
    assert not np.allclose(before, after)
    _shot(page, "shift", tmp_path)
    assert page.errors == []
