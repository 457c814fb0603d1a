"""``POST /api/attribution``, the Why view's route, through FastAPI's TestClient.

The maps the route sends are the library's (``cnnlab.attribution`` called here on the same input
and model), for every method and its options, and the Grad-CAM and saliency maps equal Captum's on
the torch twin of the same weights. Bad methods, layers, windows, strides, targets and inputs are
a 4xx with a message that names the argument; none is a 500.
"""

from __future__ import annotations

import base64
import types

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from attribution_twins import assert_equal_within_rounding, mnist_cnn_twin
from cnnlab import attribution
from cnnlab.explain import create_app


def _decode(enc):
    return np.frombuffer(base64.b64decode(enc["b64"]), "<f4").reshape(enc["shape"])


def _dataset(n=12, seed=0):
    rng = np.random.default_rng(seed)
    data = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        y, x = rng.integers(7, 21, 2)
        data[i, y - 5:y + 5, x - 3:x + 3] = rng.integers(100, 256, (10, 6))
    return types.SimpleNamespace(data=data, targets=np.arange(n) % 10, classes=[f"c{i}" for i in range(10)])


@pytest.fixture(scope="module")
def why():
    twin = mnist_cnn_twin(3)
    ds = _dataset()
    app = create_app(twin.ours, {"model": "mnist-cnn", "dataset": "synthetic"}, ds, input_shape=(1, 28, 28))
    return types.SimpleNamespace(twin=twin, model=twin.ours, ds=ds, client=TestClient(app, raise_server_exceptions=True))


def _x(why, i):
    return why.ds.data[i].astype(np.float32)[None] / 255      # no normalisation recorded: pixels in [0, 1]


def _post(why, body, status=200):
    r = why.client.post("/api/attribution", json=body)
    assert r.status_code == status, r.text
    return r.json()


CASES = [
    ("saliency", {}, lambda m, x, t: attribution.saliency(m, x, t)),
    ("input-x-gradient", {}, lambda m, x, t: attribution.input_x_gradient(m, x, t)),
    ("integrated-gradients", {}, lambda m, x, t: attribution.integrated_gradients(m, x, t, steps=50)),
    ("smoothgrad", {}, lambda m, x, t: attribution.smoothgrad(m, x, t, samples=25, noise=0.15, generator=0)),
    ("grad-cam", {}, lambda m, x, t: attribution.grad_cam(m, x, t, "conv2")),
    ("grad-cam", {"layer": 0}, lambda m, x, t: attribution.grad_cam(m, x, t, "conv1")),
    ("occlusion", {}, lambda m, x, t: attribution.occlusion(m, x, t, window=(1, 4, 4), stride=(1, 2, 2))),
    ("occlusion", {"window": 7, "stride": 3},
     lambda m, x, t: attribution.occlusion(m, x, t, window=(1, 7, 7), stride=(1, 3, 3))),
]


@pytest.mark.parametrize("method, options, direct", CASES, ids=[f"{m}{o or ''}" for m, o, _ in CASES])
def test_the_routes_map_is_the_librarys_for_the_predicted_and_a_chosen_class(why, method, options, direct):
    x = _x(why, 4)
    out = _post(why, {"sample": 4, "method": method, **options})
    probs = np.asarray(out["probabilities"])
    assert out["target"] == out["predicted"] == int(np.argmax(probs)) and out["method"] == method
    other = (out["predicted"] + 3) % 10
    chosen = _post(why, {"input_id": out["input_id"], "method": method, "target": other, **options})
    assert chosen["target"] == other and chosen["target_name"] == f"c{other}"
    for answer, target in ((out, out["predicted"]), (chosen, other)):
        expected = direct(why.model, x[None], target).numpy()[0]
        np.testing.assert_allclose(_decode(answer["attribution"]), expected, rtol=1e-6, atol=1e-7)
        shown = _decode(answer["map"])
        assert shown.shape == (28, 28)
        if method == "grad-cam":
            np.testing.assert_allclose(shown, attribution.upsample(expected, (28, 28)).numpy(), rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_allclose(shown, expected[0], rtol=1e-6, atol=1e-7)   # one channel: the map itself
    assert not np.allclose(_decode(out["map"]), _decode(chosen["map"]))


def test_integrated_gradients_reports_the_librarys_completeness_error(why):
    x = _x(why, 6)
    out = _post(why, {"sample": 6, "method": "integrated-gradients", "target": 2})
    attr, gap = attribution.integrated_gradients(why.model, x[None], 2, steps=50, return_error=True)
    assert out["error"] == pytest.approx(float(gap.numpy()[0]), rel=1e-6, abs=1e-9)
    assert out["sum"] == pytest.approx(float(attr.numpy().sum(dtype=np.float64)), rel=1e-6)
    with torch.no_grad():   # z(x) - z(0) from the torch twin: the gap closes the sum to it
        z = why.twin.theirs(torch.from_numpy(np.stack([x, np.zeros_like(x)])))[:, 2].double().numpy()
    assert out["difference"] == pytest.approx(z[0] - z[1], rel=1e-4, abs=1e-4)
    assert abs(out["error"]) < 0.05 * max(1.0, abs(out["difference"]))


def test_grad_cam_and_saliency_equal_captum_on_the_torch_twin(why):
    captum_attr = pytest.importorskip("captum.attr", reason="captum is a test dependency (pip install -e .[dev])")
    x = torch.from_numpy(_x(why, 9)[None])
    layer = why.twin.theirs.conv1
    cam = captum_attr.LayerGradCam(why.twin.theirs, layer).attribute(x, target=5, relu_attributions=True)
    out = _post(why, {"sample": 9, "method": "grad-cam", "layer": 0, "target": 5})
    assert out["layer"] == {"index": 0, "name": "conv1"}
    assert_equal_within_rounding(_decode(out["attribution"]), cam[0, 0], "Grad-CAM of conv1 via the API")
    up = captum_attr.LayerAttribution.interpolate(cam, (28, 28), "bilinear")[0, 0]
    assert_equal_within_rounding(_decode(out["map"]), up, "Grad-CAM of conv1 upsampled via the API")
    sal = captum_attr.Saliency(why.twin.theirs).attribute(x.clone().requires_grad_(), target=5, abs=True)
    out = _post(why, {"sample": 9, "method": "saliency", "target": 5})
    assert_equal_within_rounding(_decode(out["attribution"]), sal[0], "saliency via the API")


def test_drawn_pixels_are_explained_and_named_by_their_input_id(why):
    pixels = np.zeros((28, 28))
    pixels[6:22, 12:16] = 1.0
    out = _post(why, {"pixels": pixels.tolist(), "method": "occlusion", "window": 5})
    assert out["window"] == 5 and out["stride"] == 2 and out["source"] == "pixels"
    expected = attribution.occlusion(why.model, pixels[None, None].astype(np.float32), out["predicted"],
                                     window=(1, 5, 5), stride=(1, 2, 2)).numpy()[0]
    np.testing.assert_allclose(_decode(out["attribution"]), expected, rtol=1e-6, atol=1e-7)
    again = _post(why, {"input_id": out["input_id"], "method": "occlusion", "window": 5})
    np.testing.assert_array_equal(_decode(again["map"]), _decode(out["map"]))
    assert [c["name"] for c in out["conv_layers"]] == ["conv1", "conv2"]


@pytest.mark.parametrize("body, status, says", [
    ({"sample": 0}, 400, "`method` must be one of saliency"),
    ({"sample": 0, "method": "lime"}, 400, "got 'lime'"),
    ({"sample": 0, "method": ["grad-cam"]}, 400, "`method` must be one of"),
    ({"sample": 0, "method": "grad-cam", "layer": 1}, 404, "`layer` 1 is not a Conv2d layer; Grad-CAM's layers are 0 (conv1), 3 (conv2)"),
    ({"sample": 0, "method": "grad-cam", "layer": 99}, 404, "`layer` 99 is not a Conv2d"),
    ({"sample": 0, "method": "grad-cam", "layer": -1}, 404, "`layer` -1 is not a Conv2d"),
    ({"sample": 0, "method": "grad-cam", "layer": "conv2"}, 400, "`layer` must be an integer"),
    ({"sample": 0, "method": "grad-cam", "layer": 10 ** 30}, 404, "is not a Conv2d"),
    ({"sample": 0, "method": "occlusion", "window": 0}, 400, "`window` must be in 1..28"),
    ({"sample": 0, "method": "occlusion", "window": 29}, 400, "`window` must be in 1..28"),
    ({"sample": 0, "method": "occlusion", "window": 2.5}, 400, "`window` must be an integer"),
    ({"sample": 0, "method": "occlusion", "window": 4, "stride": 5}, 400, "`stride` must be in 1..4"),
    ({"sample": 0, "method": "occlusion", "window": 4, "stride": 0}, 400, "`stride` must be in 1..4"),
    ({"sample": 0, "method": "saliency", "window": 3}, 400, "`window` is an option of occlusion"),
    ({"sample": 0, "method": "smoothgrad", "layer": 3}, 400, "`layer` is an option of grad-cam"),
    ({"sample": 0, "method": "saliency", "target": 10}, 400, "`target` must be a class index in 0..9, got 10"),
    ({"sample": 0, "method": "saliency", "target": -1}, 400, "`target` must be a class index in 0..9, got -1"),
    ({"sample": 0, "method": "saliency", "target": True}, 400, "`target` must be an integer"),
    ({"sample": 0, "method": "saliency", "target": "c3"}, 400, "`target` must be an integer"),
    ({"sample": 0, "method": "saliency", "targt": 3}, 400, "unknown field `targt`"),
    ({"sample": 12, "method": "saliency"}, 404, "sample 12 is out of range: valid 0..11"),
    ({"input_id": "0123456789abcdef", "method": "saliency"}, 404, "unknown input_id"),
    ({"method": "saliency"}, 400, "give exactly one of `sample`, `pixels` or `input_id`"),
    ({"pixels": [[2.0] * 28] * 28, "method": "saliency"}, 400, "`pixels` values must be finite numbers in [0, 1]"),
    ([1, 2], 400, "the request body must be a JSON object"),
])
def test_bad_requests_are_a_4xx_that_says_what_is_wrong(why, body, status, says):
    r = why.client.post("/api/attribution", json=body)
    assert r.status_code == status and says in r.json()["error"], r.text


def test_non_json_numbers_are_refused_before_any_work(why):
    for raw in (b'{"sample": 0, "method": "occlusion", "window": NaN}',
                b'{"sample": 0, "method": "occlusion", "window": 1e999}'):
        r = why.client.post("/api/attribution", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400 and "error" in r.json(), r.text


def test_a_model_without_convolutions_refuses_grad_cam_with_a_404():
    from cnnlab import nn

    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    client = TestClient(create_app(model, {}, None, input_shape=(1, 4, 4)), raise_server_exceptions=True)
    body = {"pixels": [[0.5] * 4] * 4, "method": "grad-cam"}
    r = client.post("/api/attribution", json=body)
    assert r.status_code == 404 and "no Conv2d layer; Grad-CAM needs one" in r.json()["error"]
    r = client.post("/api/attribution", json={**body, "method": "saliency"})
    assert r.status_code == 200 and r.json()["conv_layers"] == []


def test_concurrent_attributions_and_inferences_do_not_mix(why):
    """Grad-CAM hooks the shared model: requests in parallel threads must each get their own numbers."""
    from concurrent.futures import ThreadPoolExecutor

    ex = why.client.app.state.explainer
    jobs = [(i % 6, "grad-cam" if i % 3 else "infer") for i in range(18)]

    def run(job):
        i, kind = job
        if kind == "infer":
            return ex.infer({"sample": i}, f"c{i}")["probabilities"]
        return ex.attribution({"sample": i, "method": "grad-cam", "target": 1}, f"c{i}")["attribution"]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(run, jobs))
    for (i, kind), got in zip(jobs, results):
        if kind == "infer":
            np.testing.assert_allclose(got, ex.infer({"sample": i})["probabilities"], rtol=1e-12)
        else:
            expected = attribution.grad_cam(why.model, _x(why, i)[None], 1, "conv2").numpy()[0]
            np.testing.assert_allclose(_decode(got), expected, rtol=1e-6, atol=1e-7)


def test_a_colour_model_gets_maps_reduced_over_its_channels_as_the_cli_draws_them():
    import cnnlab
    from cnnlab import nn

    cnnlab.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3))
    client = TestClient(create_app(model, {}, None, input_shape=(3, 10, 10)), raise_server_exceptions=True)
    pixels = np.random.default_rng(0).random((3, 10, 10))
    x = pixels[None].astype(np.float32)
    for method, reduce in (("saliency", "max"), ("input-x-gradient", "sum"), ("occlusion", "sum")):
        r = client.post("/api/attribution", json={"pixels": pixels.tolist(), "method": method, "target": 2})
        assert r.status_code == 200, r.text
        out = r.json()
        full = _decode(out["attribution"])
        assert full.shape == (3, 10, 10) and _decode(out["map"]).shape == (10, 10)
        np.testing.assert_allclose(_decode(out["map"]), getattr(full, reduce)(axis=0), rtol=1e-6, atol=1e-7)
        if method == "occlusion":     # the window covers every channel: (3, 2, 2) on 10x10, stride 1
            assert (out["window"], out["stride"]) == (2, 1)
            expected = attribution.occlusion(model, x, 2, window=(3, 2, 2), stride=(3, 1, 1))
            np.testing.assert_allclose(full, expected.numpy()[0], rtol=1e-6, atol=1e-7)
        else:
            assert out["signed"] == (method == "input-x-gradient")
