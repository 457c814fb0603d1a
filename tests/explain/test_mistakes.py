"""``GET /api/errors`` and ``GET /api/errors/cell``, the Errors view's routes.

The matrix and each cell's images are those ``cnnlab.errors`` counts on the same test images, and
the counts equal a confusion matrix computed here from the torch twin's predictions; per-class
scores equal scikit-learn's. The analysis runs once per app, over at most ``errors_limit`` images.
Bad classes and pages are a 4xx; an app without a test set says so.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from sklearn import metrics as skm

from attribution_twins import mnist_cnn_twin
from cnnlab import errors
from cnnlab.explain import create_app


def _dataset(n=60, seed=1):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
    return types.SimpleNamespace(data=data, targets=rng.integers(0, 4, n), classes=["a", "b", "c", "d"])


def _four_class_twin():
    """mnist-cnn's torch twin with a 4-way head, so that a small set fills the matrix."""
    from cnnlab import nn

    twin = mnist_cnn_twin(5)
    twin.theirs.fc2 = torch.nn.Linear(64, 4)
    twin.ours.fc2 = nn.Linear(64, 4)
    twin.ours.load_state_dict({k: v.detach().numpy() for k, v in twin.theirs.state_dict().items()})
    return twin


@pytest.fixture(scope="module")
def errs():
    twin = _four_class_twin()
    ds = _dataset()
    app = create_app(twin.ours, {"model": "mnist-cnn", "dataset": "synthetic"}, ds, input_shape=(1, 28, 28))
    x = torch.from_numpy(ds.data.astype(np.float32)[:, None] / 255)
    with torch.no_grad():
        probs = torch.softmax(twin.theirs(x).double(), 1).numpy()
    return types.SimpleNamespace(twin=twin, ds=ds, app=app, client=TestClient(app, raise_server_exceptions=True),
                                 probs=probs, predicted=probs.argmax(1))


def _direct(errs, n=None):
    """cnnlab.errors on the same images, preprocessed here (pixels / 255, as the app has no normalisation)."""
    n = len(errs.ds.data) if n is None else n
    split = errors.SplitData("test", errs.ds.data[:n], errs.ds.data[:n].astype(np.float32)[:, None] / 255,
                             np.asarray(errs.ds.targets[:n]))
    return errors.analyze(errs.twin.ours, split, errs.ds.classes)


def test_the_matrix_and_its_cells_are_what_the_engine_and_torch_count(errs):
    r = errs.client.get("/api/errors")
    assert r.status_code == 200
    s = r.json()
    assert s["available"] and s["images"] == s["total"] == 60 and s["note"] == "" and s["classes"] == list("abcd")
    direct = _direct(errs)
    labels = np.asarray(errs.ds.targets)
    expected = skm.confusion_matrix(labels, errs.predicted, labels=range(4))
    assert s["confusion_matrix"] == expected.tolist() == direct.confusion_matrix().tolist()
    assert s["cells"] == direct.cells()
    for t in range(4):
        for p in range(4):
            assert s["cells"][t][p] == np.flatnonzero((labels == t) & (errs.predicted == p)).tolist()
    assert s["accuracy"] == pytest.approx(np.mean(labels == errs.predicted))
    precision, recall, f1, support = skm.precision_recall_fscore_support(labels, errs.predicted, labels=range(4),
                                                                         zero_division=0)
    for k, row in enumerate(s["per_class"]):
        assert row["class"] == "abcd"[k] and row["support"] == support[k]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((precision[k], recall[k], f1[k]))
    assert [(m["true_name"], m["predicted_name"], m["count"]) for m in s["most_confused"]] == direct.most_confused()
    assert all(s["confusion_matrix"][m["true"]][m["predicted"]] == m["count"] for m in s["most_confused"])


def test_a_cells_images_come_highest_loss_first_with_their_probabilities(errs):
    s = errs.client.get("/api/errors").json()
    t, p = max(((t, p) for t in range(4) for p in range(4) if t != p), key=lambda tp: s["confusion_matrix"][tp[0]][tp[1]])
    members = s["cells"][t][p]
    assert len(members) >= 3
    r = errs.client.get(f"/api/errors/cell?true={t}&predicted={p}&count=100").json()
    assert r["total"] == len(members) and (r["true_name"], r["predicted_name"]) == ("abcd"[t], "abcd"[p])
    shown = [m["index"] for m in r["images"]]
    assert sorted(shown) == members
    probs = errs.probs
    losses = -np.log(probs[shown, t])
    assert np.all(np.diff(losses) <= 1e-9)                  # highest loss first, by torch's numbers
    for m in r["images"]:
        assert (m["true"], m["predicted"]) == (t, p) and m["image"].startswith("data:image/png;base64,")
        assert m["probability"] == pytest.approx(probs[m["index"], p], abs=2e-6)
        assert m["true_probability"] == pytest.approx(probs[m["index"], t], abs=2e-6)
    page = errs.client.get(f"/api/errors/cell?true={t}&predicted={p}&offset=1&count=2").json()
    assert [m["index"] for m in page["images"]] == shown[1:3] and page["offset"] == 1


def test_the_analysis_runs_once_and_over_at_most_the_limit(errs, monkeypatch):
    calls = []
    real = errors.analyze
    monkeypatch.setattr(errors, "analyze", lambda *a, **k: calls.append(1) or real(*a, **k))
    app = create_app(errs.twin.ours, {}, errs.ds, input_shape=(1, 28, 28), errors_limit=25)
    client = TestClient(app, raise_server_exceptions=True)
    s = client.get("/api/errors").json()
    client.get("/api/errors")
    client.get("/api/errors/cell?true=0&predicted=0")
    assert len(calls) == 1
    assert s["images"] == 25 and s["total"] == 60 and s["note"] == "the first 25 of the 60 test images"
    assert s["cells"] == _direct(errs, 25).cells()


@pytest.mark.parametrize("url, status, says", [
    ("/api/errors/cell?true=4&predicted=0", 404, "`true` must be a class index in 0..3, got 4"),
    ("/api/errors/cell?true=0&predicted=-1", 404, "`predicted` must be a class index in 0..3, got -1"),
    ("/api/errors/cell?true=a&predicted=0", 400, "`true` must be an integer, got 'a'"),
    ("/api/errors/cell?true=0&predicted=nan", 400, "`predicted` must be an integer"),
    ("/api/errors/cell?true=0", 400, "missing query parameter `predicted`"),
    ("/api/errors/cell?predicted=0", 400, "missing query parameter `true`"),
    ("/api/errors/cell?true=0&predicted=0&count=0", 400, "1 ≤ count ≤ 100"),
    ("/api/errors/cell?true=0&predicted=0&count=101", 400, "1 ≤ count ≤ 100"),
    ("/api/errors/cell?true=0&predicted=0&offset=-1", 400, "offset ≥ 0"),
    (f"/api/errors/cell?true={10 ** 30}&predicted=0", 404, "must be a class index"),
])
def test_bad_cells_and_pages_are_a_4xx_that_says_why(errs, url, status, says):
    r = errs.client.get(url)
    assert r.status_code == status and says in r.json()["error"], r.text


def test_a_page_past_the_end_is_empty(errs):
    r = errs.client.get("/api/errors/cell?true=0&predicted=0&offset=1000").json()
    assert r["images"] == [] and r["total"] == len(errs.client.get("/api/errors").json()["cells"][0][0])


def test_without_a_test_set_the_view_says_so(errs):
    client = TestClient(create_app(errs.twin.ours, {}, None, input_shape=(1, 28, 28)), raise_server_exceptions=True)
    s = client.get("/api/errors").json()
    assert s == {"available": False, "note": "no test set is attached to this model: there are no errors to show"}
    r = client.get("/api/errors/cell?true=0&predicted=0")
    assert r.status_code == 404 and "no test set" in r.json()["error"]
