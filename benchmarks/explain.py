"""How fast the explainer serves one inference with all of its activations.

For ``mnist-cnn`` and ``tinyvgg`` (fresh weights, seed 0) it times, per request, a new input
(so no cache hit) sent to ``POST /api/infer`` of a live uvicorn server on 127.0.0.1, through
HTTP: the forward pass with every layer's activation recorded by hooks, their base64 encoding,
the JSON response and the transfer. It also times a conv detail request (``GET /api/detail``)
and, for reference in the same run, torch's bare forward of the same weights (no activations
kept, no HTTP). The target is < 100 ms per inference. With ``--browser`` it also measures the
time from navigation to an interactive page in Chromium (target < 1 s).

Usage:
    python benchmarks/explain.py [--requests 30] [--browser]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import argparse  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def _torch_forward(explainer):
    """torch's forward of the same weights, replaying the layers in the order the explainer recorded."""
    import torch
    import torch.nn.functional as F

    steps = []
    for rec in explainer.engine.run(np.zeros(explainer.input_shape, np.float32)).layers:
        m, kind = rec.module, rec.kind
        if kind == "Conv2d":
            w, b = torch.tensor(m.weight._data), torch.tensor(m.bias._data)
            steps.append(lambda x, w=w, b=b, m=m: F.conv2d(x, w, b, m.stride, m.padding))
        elif kind == "Linear":
            w, b = torch.tensor(m.weight._data), torch.tensor(m.bias._data)
            steps.append(lambda x, w=w, b=b: F.linear(x, w, b))
        elif kind == "ReLU":
            steps.append(F.relu)
        elif kind == "MaxPool2d":
            steps.append(lambda x, m=m: F.max_pool2d(x, m.kernel_size, m.stride))
        elif kind == "Flatten":
            steps.append(lambda x: x.flatten(1))
        elif kind != "Dropout":
            raise ValueError(f"no torch replay for layer kind {kind}")

    def run(x):
        with torch.no_grad():
            for f in steps:
                x = f(x)
            return x

    return run


def bench(name, requests, rng):
    import httpx
    import torch

    import cnnlab
    from cnnlab import models
    from cnnlab.explain import create_app

    cnnlab.manual_seed(0)
    model = models.create(name)
    shape = tuple(models.spec(name).input_shape)
    app = create_app(model, {"model": name}, None, input_shape=shape)
    server, base = _serve(app)
    tforward = _torch_forward(app.state.explainer)
    infer_ms, detail_ms, torch_ms, sizes = [], [], [], []
    try:
        with httpx.Client(timeout=30) as c:
            for i in range(requests + 3):
                x = rng.random(shape).astype(np.float32)
                body = {"pixels": (x[0] if shape[0] == 1 else x).tolist()}
                t0 = time.perf_counter()
                r = c.post(f"{base}/api/infer", json=body)
                t1 = time.perf_counter()
                r.raise_for_status()
                out = r.json()
                t2 = time.perf_counter()
                d = c.get(f"{base}/api/detail", params={"input_id": out["input_id"], "layer": 0, "channel": 1, "y": 5, "x": 5})
                t3 = time.perf_counter()
                assert d.json()["match"]
                xt = torch.tensor(x[None])
                t4 = time.perf_counter()
                ref = tforward(xt)
                t5 = time.perf_counter()
                np.testing.assert_allclose(np.asarray(out["logits"]), ref[0].numpy(), rtol=1e-4, atol=1e-5)
                if i >= 3:  # warm-up requests are not counted
                    infer_ms.append(1e3 * (t1 - t0))
                    detail_ms.append(1e3 * (t3 - t2))
                    torch_ms.append(1e3 * (t5 - t4))
                    sizes.append(len(r.content))
    finally:
        server.should_exit = True
    n_act = sum(int(np.prod(layer["shape"])) for layer in out["layers"])
    return {"model": name, "activations": n_act, "kb": statistics.median(sizes) / 1024,
            "infer_med": statistics.median(infer_ms), "infer_p90": sorted(infer_ms)[int(0.9 * len(infer_ms))],
            "detail_med": statistics.median(detail_ms), "torch_med": statistics.median(torch_ms)}


def page_ready_seconds(rounds=3):
    """Seconds from navigation to an interactive page (first sample run), in Chromium."""
    from playwright.sync_api import sync_playwright

    import cnnlab
    from cnnlab import models
    from cnnlab.explain import create_app

    cnnlab.manual_seed(0)
    rng = np.random.default_rng(0)
    import types

    ds = types.SimpleNamespace(data=(rng.random((100, 28, 28)) * 255).astype(np.uint8), targets=np.arange(100) % 10,
                               classes=[str(i) for i in range(10)])
    server, base = _serve(create_app(models.create("mnist-cnn"), {"model": "mnist-cnn"}, ds))
    times = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium",
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                        "--disable-component-update", "--disable-sync"])
            for _ in range(rounds):
                page = b.new_page(viewport={"width": 1440, "height": 960})
                t0 = time.perf_counter()
                page.goto(base + "/")
                page.wait_for_selector("body[data-ready='1']")
                times.append(time.perf_counter() - t0)
                page.close()
            b.close()
    finally:
        server.should_exit = True
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--browser", action="store_true", help="also time the page load in Chromium")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = [bench(name, args.requests, rng) for name in ("mnist-cnn", "tinyvgg")]
    print(f"explainer: one inference with all activations over HTTP on 127.0.0.1 ({args.requests} new inputs each)\n")
    print("| model | activations | response KB | infer median ms | infer p90 ms | conv detail ms | torch bare forward ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['activations']:,} | {r['kb']:.0f} | {r['infer_med']:.1f} | {r['infer_p90']:.1f} | "
              f"{r['detail_med']:.1f} | {r['torch_med']:.2f} |")
    ok = all(r["infer_p90"] < 100 for r in rows)
    print(f"\ntarget < 100 ms per inference: {'met' if ok else 'NOT met'} (p90)")
    if args.browser:
        s = page_ready_seconds()
        print(f"page interactive (navigation → first sample shown) in Chromium: {s:.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
