"""The explainer's server under hostile input and load: never a 500 for what a client sends.

JSON bodies are refused (400) when they nest too deeply, carry NaN/Infinity or are not JSON,
before anything recurses; every route answers a bad argument (wrong type, missing, huge, NaN,
negative) with a 4xx JSON error; a bug is a logged 500 without a traceback in the answer. The
trace store keeps every client's recent inputs, so 50 concurrent clients never meet "unknown
input_id". The page's ES modules are served as JavaScript and shipped in the package.
"""

from __future__ import annotations

import glob
import json
import logging
import posixpath
import re
import socket
import threading
import time
import tomllib
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
from cnnlab import models
from cnnlab.explain import create_app
from cnnlab.explain.app import MAX_JSON_DEPTH, STATIC_DIR, json_depth, parse_json_body
from cnnlab.explain.errors import ExplainError
from cnnlab.explain.service import Explainer, TraceStore
from test_explain_browser import browser, server  # noqa: F401  (fixtures: the page in Chromium)

ROOT = Path(__file__).resolve().parents[1]


def _dataset(n=20):
    rng = np.random.default_rng(0)
    data = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        y, x = rng.integers(6, 22, 2)
        data[i, y - 4:y + 4, x - 3:x + 3] = rng.integers(120, 256, (8, 6))
    return types.SimpleNamespace(data=data, targets=np.arange(n) % 10, classes=[str(i) for i in range(10)])


@pytest.fixture(scope="module")
def model():
    cnnlab.manual_seed(0)
    return models.create("mnist-cnn")


@pytest.fixture(scope="module")
def client(model):
    # raise_server_exceptions: an exception escaping a route fails the test instead of becoming a 500
    return TestClient(create_app(model, {"model": "mnist-cnn"}, _dataset(), input_shape=(1, 28, 28)),
                      raise_server_exceptions=True)


def _drawing(seed):
    return np.random.default_rng(seed).random((28, 28)).round(3).tolist()


def _error(r, status):
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) == {"error"} and body["error"] and "Traceback" not in r.text
    return body["error"]


# ------------------------------------------------------------------ JSON bodies
@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000,
                                 b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                                 b'{"pixels": ' + b"[" * 100_000,          # deep and unterminated
                                 b'{"sample": 0, "x": ' + b"[" * 9 + b"]" * 9 + b"}"],
                         ids=["arrays", "objects", "unterminated", "just-over-the-limit"])
def test_a_deeply_nested_body_is_a_400_not_a_recursion(client, raw):
    message = _error(client.post("/api/infer", content=raw, headers={"content-type": "application/json"}), 400)
    assert "levels deep" in message and f"limit is {MAX_JSON_DEPTH}" in message


def test_the_deepest_valid_body_is_accepted_and_a_large_one_is_a_413(client):
    assert client.post("/api/infer", json={"pixels": [_drawing(0)]}).status_code == 200  # [C][H][W]: 4 levels
    huge = b'{"pixels": [' + b"0," * (1024 * 1024 // 2) + b"0]}"
    assert "limit" in _error(client.post("/api/infer", content=huge), 413)


@pytest.mark.parametrize("raw, says", [
    (b'{"sample": NaN}', "NaN"), (b'{"sample": Infinity}', "Infinity"), (b'{"pixels": [[-Infinity]]}', "-Infinity"),
    (b'{"sample": 1' + b"0" * 5000 + b"}", "not valid JSON"),   # beyond Python's int-string limit
    (b"\xff\xfe{}", "UTF-8"), (b'{"input_id": "\xe9"}', "UTF-8"), (b'{"sample": 0', "not valid JSON"), (b"", "JSON object"),
], ids=["nan", "infinity", "-infinity", "5000-digit-int", "utf16-bom", "latin1", "truncated", "empty"])
def test_non_json_constants_and_broken_bodies_are_a_400_that_says_why(client, raw, says):
    assert says in _error(client.post("/api/infer", content=raw), 400)


def _reference_depth(v):
    if isinstance(v, list):
        return 1 + max((_reference_depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((_reference_depth(x) for x in v.values()), default=0)
    return 0


_tricky = st.text(alphabet='[]{}"\\ab\u00e9', max_size=8)
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _tricky,
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_tricky, kids, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_json, st.booleans())
def test_json_depth_counts_nesting_as_the_parser_sees_it(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert json_depth(raw) == _reference_depth(value)
    if json_depth(raw) <= MAX_JSON_DEPTH:
        assert parse_json_body(raw) == value
    else:
        with pytest.raises(ExplainError, match="levels deep"):
            parse_json_body(raw)


# ------------------------------------------------------------------ bad arguments, every route
def _pixels_body(value: bytes) -> bytes:
    """{"pixels": 28 × 28 times `value`}, written by hand: json.dumps cannot write these values."""
    row = b"[" + b",".join([value] * 28) + b"]"
    return b'{"pixels": [' + b",".join([row] * 28) + b"]}"


def _bad_requests(iid):
    huge = "9" * 40
    return [
        # wrong types
        ("post", "/api/infer", {"json": {"sample": "three"}}, 400),
        ("post", "/api/infer", {"json": {"sample": 1.5}}, 400),
        ("post", "/api/infer", {"json": {"sample": True}}, 400),
        ("post", "/api/infer", {"json": {"sample": [1]}}, 400),
        ("post", "/api/infer", {"json": {"pixels": "white"}}, 400),
        ("post", "/api/infer", {"json": {"pixels": {"a": 1}}}, 400),
        ("post", "/api/infer", {"json": {"pixels": [[0.5] * 28] * 27 + [[0.5] * 27]}}, 400),  # ragged
        ("post", "/api/infer", {"json": {"input_id": 5}}, 400),
        ("post", "/api/infer", {"json": {"input_id": ["x"]}}, 400),
        ("post", "/api/infer", {"json": {"sample": 0, "shift": "left"}}, 400),
        ("post", "/api/infer", {"json": {"sample": 0, "shift": [1, "up"]}}, 400),
        ("post", "/api/infer", {"json": "sample"}, 400),
        ("get", "/api/detail?input_id={iid}&layer=conv1", {}, 400),
        ("get", "/api/detail?input_id={iid}&layer=0&channel=[]", {}, 400),
        ("get", "/api/samples?count=ten", {}, 400),
        ("get", "/api/filters?layer=0x0", {}, 400),
        ("get", "/api/shift?input_id={iid}&max_shift=two", {}, 400),
        # missing fields
        ("post", "/api/infer", {"json": {"shift": [1, 1]}}, 400),
        ("get", "/api/detail?input_id={iid}", {}, 400),
        ("get", "/api/detail?layer=0", {}, 400),
        ("get", "/api/shift", {}, 400),
        ("post", "/api/upload", {"content": b"", "headers": {"content-type": "multipart/form-data; boundary=b"}}, 400),
        # huge numbers
        ("post", "/api/infer", {"json": {"sample": 10 ** 30}}, 404),
        ("post", "/api/infer", {"json": {"sample": 1e308}}, 404),   # an integer, out of range
        ("post", "/api/infer", {"content": b'{"sample": 1e999}'}, 400),   # parses as inf
        ("post", "/api/infer", {"content": _pixels_body(b"1" + b"0" * 400)}, 400),   # beyond any float
        ("post", "/api/infer", {"json": {"pixels": [[1e300] * 28] * 28}}, 400),
        ("post", "/api/infer", {"json": {"sample": 0, "shift": [10 ** 20, 0]}}, 400),
        ("get", f"/api/detail?input_id={{iid}}&layer={huge}", {}, 404),
        ("get", f"/api/detail?input_id={{iid}}&layer=0&channel=0&y={huge}", {}, 404),
        ("get", "/api/detail?input_id={iid}&layer=0&y=1e400", {}, 400),
        ("get", f"/api/samples?offset={huge}", {}, 200),    # past the end: an empty page
        ("get", f"/api/shift?input_id={{iid}}&max_shift={huge}", {}, 400),
        ("get", f"/api/filters?layer={huge}", {}, 404),
        # NaN
        ("post", "/api/infer", {"content": _pixels_body(b"NaN")}, 400),
        ("get", "/api/detail?input_id={iid}&layer=nan", {}, 400),
        ("get", "/api/detail?input_id={iid}&layer=0&x=NaN", {}, 400),
        ("get", "/api/samples?offset=nan", {}, 400),
        ("get", "/api/shift?input_id={iid}&max_shift=inf", {}, 400),
        # negative indices
        ("post", "/api/infer", {"json": {"sample": -1}}, 404),
        ("post", "/api/infer", {"json": {"pixels": [[-0.5] * 28] * 28}}, 400),
        ("get", "/api/detail?input_id={iid}&layer=-1", {}, 404),
        ("get", "/api/detail?input_id={iid}&layer=0&channel=-3", {}, 404),
        ("get", "/api/detail?input_id={iid}&layer=0&y=-1", {}, 404),
        ("get", "/api/filters?layer=-1", {}, 404),
        ("get", "/api/samples?count=-1", {}, 400),
        ("get", "/api/shift?input_id={iid}&max_shift=-2", {}, 400),
        # ids and headers
        ("get", "/api/softmax?input_id=" + "f" * 5000, {}, 404),
        ("get", "/api/softmax?input_id={iid}", {"headers": {"x-client-id": "no spaces allowed"}}, 400),
        ("post", "/api/infer", {"json": {"sample": 0}, "headers": {"x-client-id": "x" * 65}}, 400),
    ]


def test_no_route_answers_500_to_bad_arguments(client):
    iid = client.post("/api/infer", json={"sample": 0}).json()["input_id"]
    for method, url, kwargs, status in _bad_requests(iid):
        r = getattr(client, method)(url.format(iid=iid), **kwargs)
        if status == 200:
            assert r.status_code == 200 and r.json()["samples"] == [], url
        else:
            _error(r, status)
    assert client.post("/api/infer", json={"sample": 0}).json()["input_id"] == iid


def test_a_bug_is_a_logged_500_without_the_traceback(model, caplog):
    app = create_app(model, {"model": "mnist-cnn"}, None, input_shape=(1, 28, 28))
    app.state.explainer.model_info = lambda: {}["no such key"]    # a bug in the explainer
    with caplog.at_level(logging.ERROR, logger="cnnlab.explain"):
        r = TestClient(app, raise_server_exceptions=False).get("/api/model")
    assert "internal error (KeyError)" in _error(r, 500) and "no such key" not in r.text
    record = next(rec for rec in caplog.records if rec.name == "cnnlab.explain")
    assert "/api/model" in record.getMessage() and record.exc_info[0] is KeyError


# ------------------------------------------------------------------ the trace store
def _trace(key, nbytes):
    arr = np.zeros(nbytes // 4, np.float32)
    return types.SimpleNamespace(input_id=key, input=arr, layers=[])


def test_trace_store_holds_each_clients_recent_traces_and_drops_the_rest_by_size():
    store = TraceStore(max_bytes=3000, per_client=2, max_clients=3)
    for k in range(5):
        store.put(_trace(f"a{k}", 1000), "A")
    assert len(store) == 3    # a3, a4 held by A; a2 the newest of the unheld that fit in the budget
    assert [store.get(f"a{k}", "A").input_id for k in (2, 3, 4)] == ["a2", "a3", "a4"]
    with pytest.raises(ExplainError) as e:
        store.get("a0", "A")
    assert e.value.status == 404 and "POST /api/infer" in str(e.value) and "2 most recent" in str(e.value)
    # B's flood of inputs does not take the two A used last, though they are over the budget
    for k in range(50):
        store.put(_trace(f"b{k}", 1000), "B")
    assert store.get("a3", "A") and store.get("a4", "A") and store.get("b49", "B")
    store.put(_trace("a4", 1000), "A")          # the same id again: stored once, counted once
    assert store._bytes == sum(store._sizes.values()) == 1000 * len(store)
    # a fourth client makes the least recent (A) be forgotten; its traces are then only cached
    for c in "CDE":
        store.put(_trace(c, 1000), c)
    assert "A" not in {k for k in store._clients} and "a3" not in store._held


def test_50_concurrent_clients_never_lose_their_input(model):
    """Each client runs its own drawings and asks for details of its latest; with no budget for
    traces that no client holds (max_bytes=0), only the per-client hold can keep them."""
    import httpx
    import uvicorn

    app = create_app(model, {"model": "mnist-cnn"}, None, input_shape=(1, 28, 28))
    app.state.explainer.traces = TraceStore(max_bytes=0)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 10
        while not server.started and time.time() < deadline:
            time.sleep(0.02)
        assert server.started
        base = f"http://127.0.0.1:{port}"

        def one(k):
            codes = []
            with httpx.Client(base_url=base, timeout=60, headers={"X-Client-Id": f"client-{k}"}) as c:
                first, second = (c.post("/api/infer", json={"pixels": _drawing(2 * k + j)}).json()["input_id"]
                                 for j in range(2))
                for iid in (second, first):   # by now the other 49 clients have run their inputs too
                    codes.append(c.get(f"/api/detail?input_id={iid}&layer=0&channel=1&y=3&x=4").status_code)
                    codes.append(c.get(f"/api/softmax?input_id={iid}").status_code)
            return codes

        with ThreadPoolExecutor(50) as pool:
            codes = [c for cs in pool.map(one, range(50)) for c in cs]
        assert codes == [200] * (50 * 2 * 2), sorted(set(codes))
        assert len(app.state.explainer.traces) <= 50 * 4
    finally:
        server.should_exit = True
        thread.join(10)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_callers_without_an_id_share_a_budget_that_fits_the_documented_load(model):
    """50 inputs from one anonymous caller, then 50 more: the first 50 are still there (the old
    32-entry cache had dropped them)."""
    ex = Explainer(model, {"model": "mnist-cnn"}, None, input_shape=(1, 28, 28))
    ids = [ex.infer({"pixels": _drawing(k)})["input_id"] for k in range(50)]
    for k in range(50):
        ex.infer({"pixels": _drawing(100 + k)})
    assert len(ex.traces) == 100 and all(ex.softmax(i)["classes"] for i in ids)


# ------------------------------------------------------------------ the page's modules
def _modules():
    return sorted(p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js"))


def test_every_module_is_served_as_javascript_and_its_imports_resolve(client, monkeypatch):
    import starlette.responses

    # even where the system's tables call .js text/plain (Windows' registry can), the page gets JavaScript
    monkeypatch.setattr(starlette.responses, "guess_type", lambda *a, **k: ("text/plain", None))
    assert "app.js" in _modules() and len(_modules()) > 10
    for name in _modules():
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript"), name
        assert r.text.startswith("//"), f"{name}: starts with a comment saying what it owns"
        for spec in re.findall(r'^import [^;]*? from "([^"]+)";', r.text, flags=re.M):
            assert spec.startswith("./") or spec.startswith("../"), f"{name} imports {spec}: only the page's own files"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(f"/static/{name}"), spec))
            assert target.startswith("/static/") and client.get(target).status_code == 200, f"{name} imports {spec}"
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_the_page_preloads_every_module_it_imports(client):
    html = client.get("/").text
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', html))
    assert preloaded == set(_modules()) - {"app.js"}


def test_the_package_data_ships_every_static_file():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["cnnlab"]
    shipped = {Path(p).as_posix() for pat in patterns for p in glob.glob(pat, root_dir=ROOT / "cnnlab", recursive=True)}
    files = {p.relative_to(ROOT / "cnnlab").as_posix() for p in STATIC_DIR.rglob("*") if p.is_file()}
    assert files and files <= shipped, sorted(files - shipped)


@pytest.mark.browser
def test_each_page_sends_its_own_client_id(browser, server):
    """The page's requests carry one X-Client-Id per tab, so the store holds each tab's inputs."""
    seen = []
    for _ in range(2):
        ctx = browser.new_context()
        pg = ctx.new_page()
        ids = set()
        pg.on("request", lambda r, ids=ids: ids.add(r.headers.get("x-client-id")) if "/api/" in r.url else None)
        pg.goto(server.url + "/")
        pg.wait_for_selector("body[data-ready='1']", timeout=15000)
        ctx.close()
        assert len(ids) == 1 and re.fullmatch(r"[0-9a-f]{24}", next(iter(ids))), ids
        seen.append(next(iter(ids)))
    assert seen[0] != seen[1]
    assert {f"id:{i}" for i in seen} <= set(server.ex.traces._clients)
