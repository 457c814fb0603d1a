"""The Why and Errors tabs in Chromium (the fixtures and options of ``test_explain_browser.py``).

The Why tab must draw the map the API computes (and the library computes, called here), for the
predicted class and for a class clicked in its bars, and follow the current input; clicking a
cell of the Errors tab's matrix must list exactly the images ``cnnlab.errors`` counts there, and
clicking one of them must make it the current input with its Grad-CAM. ``CNNLAB_SCREENSHOTS=docs``
writes ``explainer-why.png`` and ``explainer-errors.png``.
"""

from __future__ import annotations

import numpy as np
import pytest

from test_explain_browser import _sample_input, _shot, browser, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def _shown_map(page):
    return np.asarray(page.evaluate("() => Array.from(S.why.map)"), np.float32).reshape(page.evaluate("() => S.why.shape"))


def _api_map(server, body):
    import base64

    enc = server.ex.attribution(body)["map"]
    return np.frombuffer(base64.b64decode(enc["b64"]), "<f4").reshape(enc["shape"])


def _wait_why(page, method, target=None):
    cond = f"S.why && S.trace && S.why.input_id === S.trace.input_id && S.why.method === '{method}'"
    if target is not None:
        cond += f" && S.why.target === {target}"
    page.wait_for_function(f"() => {cond}", timeout=20000)


def test_the_why_tab_draws_the_apis_map_and_follows_the_input(page, server, tmp_path):
    from cnnlab import attribution

    page.click("#gallery .sample[data-index='3']")
    page.wait_for_function("() => S.trace && S.trace.sample === 3")
    page.click("#tabs button[data-tab='why']")
    _wait_why(page, "grad-cam")                       # the tab opens on Grad-CAM of the last conv
    predicted = page.evaluate("() => S.trace.predicted")
    shown = _shown_map(page)
    np.testing.assert_array_equal(shown, _api_map(server, {"sample": 3, "method": "grad-cam"}))
    x = _sample_input(server, 3)[None]
    model = server.ex.engine.model
    last_conv = [c["name"] for c in server.ex.layers if c["kind"] == "Conv2d"][-1]
    cam = attribution.grad_cam(model, x, predicted, last_conv)
    np.testing.assert_allclose(shown, attribution.upsample(cam, x.shape[2:]).numpy()[0], rtol=1e-5, atol=1e-6)
    # the heat canvas is the map itself: its brightest pixel is the largest value, in the top colour
    rgba = np.asarray(page.evaluate("""() => { const c = document.getElementById('why-heat');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""))
    top = np.unravel_index(np.argmax(shown), shown.shape)
    assert tuple(rgba.reshape(*shown.shape, 4)[top][:3]) == (252, 255, 164)
    # a click on another class's bar explains that class
    other = (predicted + 1) % len(server.ex.classes)
    page.click(f"#why-prob-bars .bar-row[data-class='{other}']")
    _wait_why(page, "grad-cam", other)
    np.testing.assert_array_equal(_shown_map(page), _api_map(server, {"sample": 3, "method": "grad-cam", "target": other}))
    # integrated gradients, with its completeness error
    page.select_option("#why-method", "integrated-gradients")
    _wait_why(page, "integrated-gradients")
    ig = server.ex.attribution({"sample": 3, "method": "integrated-gradients", "target": other})
    np.testing.assert_array_equal(_shown_map(page), _api_map(server, {"sample": 3, "method": "integrated-gradients",
                                                                      "target": other}))
    assert float(page.get_attribute("#why-error", "data-value")) == ig["error"]
    assert "Completeness" in page.inner_text("#why-check")
    # occlusion with a 6x6 window
    page.select_option("#why-method", "occlusion")
    page.fill("#why-window", "6")
    page.wait_for_function("() => S.why && S.why.method === 'occlusion' && S.why.window === 6", timeout=20000)
    np.testing.assert_array_equal(_shown_map(page), _api_map(server, {"sample": 3, "method": "occlusion", "window": 6,
                                                                      "target": other}))
    # a new input (here from the gallery) gets its own map, for its own prediction
    page.select_option("#why-method", "saliency")
    page.click("#tabs button[data-tab='overview']")
    page.click("#gallery .sample[data-index='1']")
    page.wait_for_function("() => S.trace && S.trace.sample === 1")
    page.click("#tabs button[data-tab='why']")
    _wait_why(page, "saliency", page.evaluate("() => S.trace.predicted"))
    np.testing.assert_array_equal(_shown_map(page), _api_map(server, {"sample": 1, "method": "saliency"}))
    page.select_option("#why-method", "integrated-gradients")
    _wait_why(page, "integrated-gradients")
    page.mouse.move(0, 0)
    _shot(page, "why", tmp_path)
    assert page.errors == []


def _listed(page, t, p):
    """Every image index the cell lists, page by page."""
    page.click(f"#errors-table td[data-true='{t}'][data-pred='{p}']")
    page.wait_for_selector(f"#errors-images[data-true='{t}'][data-pred='{p}'][data-offset='0']")
    total = int(page.get_attribute("#errors-images", "data-total"))
    seen = []
    while True:
        seen += [int(i) for i in page.eval_on_selector_all("#errors-images .err-img", "b => b.map(e => e.dataset.index)")]
        if len(seen) >= total:
            return seen, total
        offset = len(seen)
        page.click("#errors-next")
        page.wait_for_selector(f"#errors-images[data-offset='{offset}']")


def test_a_confusion_cell_lists_exactly_the_engines_images(page, server, tmp_path):
    from cnnlab import errors

    page.click("#tabs button[data-tab='errors']")
    page.wait_for_selector("#errors-table td[data-count]", timeout=60000)
    ds = server.ex.dataset
    n = len(ds)
    split = errors.SplitData("test", ds.data, np.stack([_sample_input(server, i) for i in range(n)]), ds.targets)
    analysis = errors.analyze(server.ex.engine.model, split, server.ex.classes)
    cm = analysis.confusion_matrix()
    shown = np.asarray(page.eval_on_selector_all("#errors-table td[data-count]", "c => c.map(e => +e.textContent)"))
    np.testing.assert_array_equal(shown.reshape(cm.shape), cm)
    off = [(t, p) for t in range(len(cm)) for p in range(len(cm)) if t != p and cm[t, p]]
    t, p = max(off, key=lambda tp: cm[tp]) if off else (0, 0)
    listed, total = _listed(page, t, p)
    assert total == cm[t, p] and sorted(listed) == analysis.cells()[t][p]
    page.click(f"#errors-table td[data-true='{t}'][data-pred='{p}']")     # back to the cell's first page
    page.wait_for_selector(f"#errors-images[data-offset='0'] .err-img[data-index='{listed[0]}']")
    page.mouse.move(0, 0)
    _shot(page, "errors", tmp_path)
    first = listed[0]
    page.click(f"#errors-images .err-img[data-index='{first}']")
    _wait_why(page, "grad-cam")
    assert page.evaluate("() => S.trace.sample") == first
    assert "active" in page.get_attribute("#tab-why", "class")
    np.testing.assert_array_equal(_shown_map(page), _api_map(server, {"sample": first, "method": "grad-cam"}))
    assert page.evaluate("() => S.why.target") == p       # the prediction the cell is about
    assert page.errors == []
