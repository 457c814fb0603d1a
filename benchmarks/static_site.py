"""How fast the static site (``cnnlab explain RUN --export DIR``) becomes interactive in Chromium.

It exports ``mnist-cnn`` (fresh weights, seed 0) with 64 synthetic samples into a temporary
folder, serves it with Python's plain ``http.server`` on 127.0.0.1 (as anyone would try it),
and times in Debian's Chromium, from navigation to the page's ready mark (the model loaded in
onnxruntime-web and the first sample shown with every activation):

- cold: a new browser context each round, so nothing is cached (the 14 MB runtime is fetched
  and compiled every time);
- reload: the same page reloaded (the browser's HTTP cache may answer).

It also times, inside the page, one inference with every activation (``POST /api/infer`` as
the in-browser answerer serves it: onnxruntime-web, then the JSON-ready trace) on new random
inputs, and prints the folder's size. The target is interactive in < 2 s on localhost. The
machine's load average is printed with the numbers: on a shared machine they vary with it.

Usage:
    python benchmarks/static_site.py [--rounds 5] [--infers 30]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import argparse  # noqa: E402
import functools  # noqa: E402
import http.server  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def export(out: Path):
    import cnnlab
    from cnnlab import models
    from cnnlab.explain import Explainer
    from cnnlab.explain.site import export_site

    cnnlab.manual_seed(0)
    rng = np.random.default_rng(0)
    data = np.zeros((64, 28, 28), np.uint8)
    for i in range(64):   # a bar per image, in varying places
        y, x = rng.integers(8, 20, 2)
        data[i, y - 5:y + 5, x - 2 - i % 3:x + 2] = 255
    ds = types.SimpleNamespace(data=data, targets=np.arange(64) % 10, classes=[str(i) for i in range(10)])
    ex = Explainer(models.create("mnist-cnn"), {"model": "mnist-cnn", "dataset": "synthetic bars"}, ds,
                   input_shape=(1, 28, 28), normalize=([0.1307], [0.3081]))
    return export_site(ex, out, samples=64)


INFER_JS = """async (n) => {
  const { postJSON } = await import("./static/lib/api.js");
  const times = [];
  for (let k = 0; k < n + 3; k++) {
    const pixels = Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => Math.random()));
    const t0 = performance.now();
    const t = await postJSON("/api/infer", { pixels });
    if (k >= 3 && t.layers.length) times.push(performance.now() - t0);
  }
  return times;
}"""


def measure(url: str, rounds: int, infers: int) -> dict:
    from playwright.sync_api import sync_playwright

    cold, reload = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(rounds):
            ctx = b.new_context(viewport={"width": 1440, "height": 960})
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=60000)
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            page.reload()
            page.wait_for_selector("body[data-ready='1']", timeout=60000)
            reload.append(time.perf_counter() - t0)
            if _ == rounds - 1:
                infer_ms = page.evaluate(INFER_JS, infers)
            ctx.close()
        b.close()
    return {"cold": cold, "reload": reload, "infer": infer_ms}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--infers", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        summary = export(Path(tmp) / "site")
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(summary.path)))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        load_before = os.getloadavg()
        try:
            r = measure(f"http://127.0.0.1:{srv.server_address[1]}/", args.rounds, args.infers)
        finally:
            srv.shutdown()
        load_after = os.getloadavg()
    print(f"static site of mnist-cnn (64 samples): {len(summary.files)} files, {summary.bytes / 1e6:.1f} MB; "
          f"served by http.server on 127.0.0.1, Chromium headless, {args.rounds} rounds\n")
    print("| measure | median | min | max |")
    print("|---|---:|---:|---:|")
    for key, label in (("cold", "interactive, cold (new context) s"), ("reload", "interactive, reload s")):
        v = r[key]
        print(f"| {label} | {statistics.median(v):.2f} | {min(v):.2f} | {max(v):.2f} |")
    v = r["infer"]
    print(f"| one inference, every activation, in the page ms | {statistics.median(v):.1f} | {min(v):.1f} | {max(v):.1f} |")
    ok = statistics.median(r["cold"]) < 2
    print(f"\ntarget interactive < 2 s (cold, median): {'met' if ok else 'NOT met'}")
    print(f"load average (1 min) before/after: {load_before[0]:.1f} / {load_after[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
