"""End-to-end: the explainer's Backward tab and the Filters tab's epoch slider in Chromium
(the browser and page fixtures of test_explain_browser.py).

The numbers the page shows (the loss, ∂L/∂W of a clicked kernel, one SGD step) are compared
with torch's twin of the served model, run here with the same weights. ``CNNLAB_SCREENSHOTS``
and ``CNNLAB_EXPLAIN_CHECKPOINT`` work as in test_explain_browser.py (the screenshots are
``explainer-backward.png`` and ``explainer-filters-over-training.png``).
"""

from __future__ import annotations

import os
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from test_explain_browser import _sample_input, _shot, _synthetic_kwargs, browser, page, serving  # noqa: F401
from torch_zoo import MnistCNN

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    """test_explain_browser's server, with per-epoch filter snapshots: a trained run's own, or for
    the synthetic model three made-up epochs that end at its conv1 weights."""
    from cnnlab.explain import create_app
    from cnnlab.train.snapshots import FilterHistory

    ckpt = os.environ.get("CNNLAB_EXPLAIN_CHECKPOINT")
    if ckpt:
        from cnnlab.explain.loading import app_kwargs_from_checkpoint

        kwargs, _ = app_kwargs_from_checkpoint(ckpt)
    else:
        kwargs = _synthetic_kwargs()
        w = kwargs["model"].conv1.weight.detach().numpy()
        kwargs["filter_history"] = FilterHistory("conv1", [0, 1, 2], np.stack([w * 0.2, w * 0.6, w]))
    app = create_app(**kwargs)
    with serving(app) as url:
        yield types.SimpleNamespace(url=url, ex=app.state.explainer, kwargs=kwargs)


def _twin(server):
    twin = MnistCNN().eval()
    twin.load_state_dict({k: torch.tensor(np.asarray(v.numpy())) for k, v in server.kwargs["model"].state_dict().items()})
    return twin


def _values(page, selector):
    return np.array(page.eval_on_selector_all(selector, "cells => cells.map(c => +c.dataset.value)"))


def test_backward_view_shows_autograds_numbers(page, server, tmp_path):
    page.click("#gallery .sample[data-index='1']")
    page.wait_for_function("() => S.trace && S.trace.sample === 1")
    label = int(server.kwargs["dataset"].targets[1])
    page.click("#tabs button[data-tab='backward']")
    page.wait_for_selector("#backward-maps canvas.map[data-layer='0']")
    assert page.locator("#backward-maps .column").count() == len(server.ex.layers) + 1   # ∂L/∂input and each layer
    assert page.input_value("#backward-target") == str(label)                          # the true label by default
    twin = _twin(server)
    x = torch.tensor(_sample_input(server, 1)[None])
    loss = TF.cross_entropy(twin(x), torch.tensor([label]))
    assert float(page.get_attribute("#backward-loss", "data-value")) == pytest.approx(loss.item(), rel=1e-5)
    # the loss against another class: the runner-up (or, if the label is second, the best)
    order = [int(k) for k in np.argsort(-twin(x).detach().numpy()[0])]
    label = order[1] if order[1] != label else order[0]
    page.select_option("#backward-target", str(label))
    loss = TF.cross_entropy(twin(x), torch.tensor([label]))
    page.wait_for_function(f"() => Math.abs(+document.querySelector('#backward-loss').dataset.value - {loss.item()}) "
                           f"< 1e-5 * {abs(loss.item()) + 1e-6} + 1e-9")
    twin.zero_grad()
    loss.backward()

    # a kernel of conv1: the shown sum and autograd's value equal torch's weight gradient
    page.click("#backward-maps canvas.map[data-layer='0'][data-channel='3']")
    page.wait_for_selector("#backward-total td")
    want = twin.conv1.weight.grad[3, 0].numpy().reshape(-1)
    np.testing.assert_allclose(_values(page, "#backward-total td"), want, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(_values(page, "#backward-autograd td"), want, rtol=1e-4, atol=1e-7)
    shown = page.inner_text("#backward-total td >> nth=0")
    assert float(shown) == pytest.approx(float(want[0]), rel=6e-3, abs=1e-9)           # the printed number too
    iid = page.evaluate("S.trace.input_id")
    api = server.ex.kernel_gradient(iid, label, 0, 3)
    np.testing.assert_allclose(_values(page, "#backward-total td"), np.array(api["total"][0]).reshape(-1), rtol=1e-6)

    # one SGD step, as torch.optim.SGD takes it on the twin
    page.fill("#backward-lr", "0.05")
    page.click("#backward-step-go")
    page.wait_for_selector("#backward-loss-after")
    w0, g0 = twin.conv1.weight[3, 0].detach().numpy().copy(), twin.conv1.weight.grad[3, 0].numpy().copy()
    torch.optim.SGD(twin.parameters(), lr=0.05).step()
    with torch.no_grad():
        after = TF.cross_entropy(twin(x), torch.tensor([label])).item()
    np.testing.assert_allclose(_values(page, "#backward-w td"), w0.reshape(-1), rtol=1e-6)
    np.testing.assert_allclose(_values(page, "#backward-grad td"), g0.reshape(-1), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(_values(page, "#backward-new-w td"), twin.conv1.weight[3, 0].detach().numpy().reshape(-1),
                               rtol=1e-5, atol=1e-7)
    assert float(page.get_attribute("#backward-loss-before", "data-value")) == pytest.approx(loss.item(), rel=1e-5)
    assert float(page.get_attribute("#backward-loss-after", "data-value")) == pytest.approx(after, rel=1e-4, abs=1e-6)
    _shot(page, "backward", tmp_path, page.locator("#tab-backward"))

    # choosing a position on G shows that position's window × G
    page.locator("#backward-g").scroll_into_view_if_needed()
    box = page.locator("#backward-g").bounding_box()
    page.mouse.click(box["x"] + (6 + 0.5) * box["width"] / 24, box["y"] + (9 + 0.5) * box["height"] / 24)
    page.wait_for_function("() => document.querySelector('#backward-kernel h3') && "
                           "document.querySelector('#backward-window').closest('figure').textContent.includes('(y=9, x=6)')")
    window, g = _values(page, "#backward-window td"), float(page.get_attribute("#backward-gval", "data-value"))
    np.testing.assert_allclose(window, x[0, 0, 9:14, 6:11].numpy().reshape(-1), rtol=1e-6)
    np.testing.assert_allclose(_values(page, "#backward-term td"), window * g, rtol=1e-6, atol=1e-12)

    # a bad learning rate is one message on the page, not a broken view
    page.fill("#backward-lr", "-1")
    page.click("#backward-step-go")
    page.wait_for_selector("#backward-step-error")
    assert "lr" in page.inner_text("#backward-step-error")
    assert [e for e in page.errors if "400" not in e] == []   # the refused request logs a 400, nothing else


def _filter_pixels(page, o):
    """The RGBA pixels of filter o's canvas in the Filters tab."""
    return page.evaluate(f"""() => {{ const c = document.querySelectorAll('#filters .filter canvas')[{o}];
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }}""")


def test_filters_view_has_an_epoch_slider_over_the_runs_snapshots(page, server, tmp_path):
    h = server.kwargs["filter_history"]
    assert h is not None, "the explained run has no filter snapshots"
    page.click("#tabs button[data-tab='filters']")
    page.wait_for_selector("#filters-epoch")
    E = len(h.epochs)
    assert page.get_attribute("#filters-epoch", "max") == str(E - 1)
    assert page.get_attribute("#filters .filter-grid", "data-epoch") == str(h.epochs[-1])
    last = _filter_pixels(page, 0)
    page.fill("#filters-epoch", "0")
    page.wait_for_function("() => document.querySelector('#filters .filter-grid').dataset.epoch === '0'")
    assert "initialisation" in page.inner_text("#filters-epoch-v")
    first = _filter_pixels(page, 0)
    # one scale per filter over the run: the drawn colour of the first weight follows w / max|w| over epochs
    w = np.asarray(h.weights, np.float64)[:, 0, 0]
    m = np.abs(w).max()
    for pixels, k in ((first, 0), (last, E - 1)):
        t = np.clip(w[k, 0, 0] / m, -1, 1)
        c = np.array([178, 24, 43]) if t >= 0 else np.array([33, 102, 172])
        np.testing.assert_allclose(pixels[:3], 255 + (c - 255) * abs(t), atol=1.01)
    assert first != last
    page.click("#filters-play")
    page.wait_for_function(f"() => document.querySelector('#filters .filter-grid').dataset.epoch === '{h.epochs[-1]}'",
                           timeout=5000 + 1000 * E)
    _shot(page, "filters-over-training", tmp_path, page.locator("#tab-filters"))
    assert page.errors == []
