"""The Backward, Why and Filters tabs in Chromium on models unlike mnist-cnn: an MLP (no conv
layer at all) and a CNN whose conv has ``bias=False`` and all-zero weights (so its Grad-CAM is 0
everywhere). Each view must say what it cannot show instead of drawing something misleading or
asking the server for what does not exist (the browser fixture of test_explain_browser.py).
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from test_explain_browser import browser, serving  # noqa: F401

pytestmark = pytest.mark.browser


def _dataset():
    rng = np.random.default_rng(0)
    data = (rng.random((12, 28, 28)) * 255).astype(np.uint8)
    return types.SimpleNamespace(data=data, targets=np.arange(12) % 10, classes=[str(i) for i in range(10)])


def _app(model):
    from cnnlab.explain import create_app

    return create_app(model, {"model": "edge case", "dataset": "noise"}, _dataset(), input_shape=(1, 28, 28))


@pytest.fixture(scope="module")
def servers():
    import cnnlab
    from cnnlab import nn

    cnnlab.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    with cnnlab.no_grad():
        cnn[0].weight.zero_()
    with serving(_app(mlp)) as mlp_url, serving(_app(cnn)) as cnn_url:
        yield {"mlp": mlp_url, "cnn": cnn_url}


def _open(browser, url):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1440, "height": 960})
    pg = ctx.new_page()
    pg.bad = []
    pg.on("console", lambda m: pg.bad.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.bad.append(str(e)))
    pg.on("response", lambda r: pg.bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    pg.goto(url + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=15000)
    return ctx, pg


def test_an_mlp_gets_notes_instead_of_failed_requests(browser, servers):  # noqa: F811
    ctx, pg = _open(browser, servers["mlp"])
    try:
        pg.click("#tabs button[data-tab='filters']")
        pg.wait_for_function("() => document.querySelector('#filters').textContent.includes('no conv layer')")
        assert not pg.is_visible("#filters-layer")       # no empty layer select
        pg.click("#tabs button[data-tab='backward']")
        pg.wait_for_selector("#backward-no-conv")
        assert "SGD step" in pg.inner_text("#backward-no-conv")
        pg.click("#tabs button[data-tab='why']")         # a map that is not zero keeps its scale
        pg.select_option("#why-method", "saliency")
        pg.wait_for_function("() => document.querySelector('#why-heat').dataset.method === 'saliency'")
        assert pg.get_attribute("#why-heat", "data-zero") == "0"
        assert "0 everywhere" not in pg.inner_text("#why-heat-cap") and float(pg.inner_text("#why-hi")) > 0
        assert pg.bad == []          # before the fix: a 404 from /api/filters, logged as a console error
    finally:
        ctx.close()


def test_a_bias_free_conv_and_a_zero_grad_cam_are_said_so(browser, servers):  # noqa: F811
    ctx, pg = _open(browser, servers["cnn"])
    try:
        pg.click("#tabs button[data-tab='why']")
        pg.select_option("#why-method", "grad-cam")
        pg.wait_for_function("() => document.querySelector('#why-heat').dataset.method === 'grad-cam'")
        assert pg.get_attribute("#why-heat", "data-zero") == "1"
        assert "0 everywhere" in pg.inner_text("#why-heat-cap")
        assert pg.inner_text("#why-hi") == "0"          # not a made-up scale of 1

        pg.click("#tabs button[data-tab='backward']")
        pg.click("#backward-maps canvas.map[data-layer='0'][data-channel='1']")
        pg.wait_for_selector("#backward-bias")
        assert pg.inner_text("#backward-bias").startswith("bias: none")   # not "∂L/∂b = Σ G" of a missing bias

        pg.click("#tabs button[data-tab='overview']")
        pg.click("#input-panel button[data-input='draw']")
        box = pg.locator("#draw-canvas").bounding_box()
        pg.mouse.move(box["x"] + 100, box["y"] + 60)
        pg.mouse.down()
        pg.mouse.move(box["x"] + 140, box["y"] + 220, steps=8)
        pg.mouse.up()
        pg.wait_for_function("() => !S.drawBusy && S.trace.source === 'pixels'")
        pg.click("#tabs button[data-tab='backward']")
        pg.wait_for_function("() => document.querySelector('#backward-caption').textContent.startsWith('your drawing')")
        assert pg.bad == []
    finally:
        ctx.close()
