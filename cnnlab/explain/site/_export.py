"""``export_site``: write the explainer of one model as a folder that needs no server.

What goes into the folder (every path relative to it):

====================================  ==========================================================
``index.html``                        the live explainer's page, with relative paths and the
                                      static entry module
``static/``                           the live page's CSS and ES modules, unchanged
``static/site/``                      the in-browser answerer of the page's API (``backend.js``),
                                      the runtime wrapper, the detail arithmetic, uploads
``ort/``                              onnxruntime-web's single-file WebAssembly build
``model.onnx``                        the model, every layer's activation an output
``site.json``                         model description, layers (ONNX value names, settings),
                                      samples (labels, thumbnails), normalisation
``samples.bin``                       the samples' model inputs, float32 (N, C, H, W)
``params.bin``                        conv and linear weights for the detail and filter views
``run.json``                          training curves and confusion matrix (``/api/run``)
====================================  ==========================================================

The export checks itself before it writes: onnxruntime (Python) runs the ONNX graph on a
random input, and every layer's input and output must equal the explainer engine's, so the
browser shows cnnlab's numbers within float32 rounding.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..._args import conv_padding, pair
from ..details import POOLS
from ._runtime import RUNTIME_FILES, RUNTIME_PACKAGE, find_runtime

STATIC = Path(__file__).parent.parent / "static"
# The live page's tabs that the in-browser answerer serves; the others (attribution, error
# analysis, ...) need the server's autograd or the whole test set, and their buttons are left out.
STATIC_TABS = ("overview", "playground", "training", "filters", "shift")
_TAB_BUTTON = re.compile(r'[ \t]*<button data-tab="([^"]+)"[^>]*>.*?</button>\n?')
PAGE = Path(__file__).parent / "page"
MAX_SAMPLES = 1000
SITE_FORMAT = 1


class SiteError(ValueError):
    """The site cannot be written for this model or folder (the message says why)."""


@dataclass
class SiteSummary:
    """What ``export_site`` wrote: the folder, its files with their sizes, and notes."""

    path: Path
    files: dict[str, int]
    samples: int
    notes: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(self.files.values())


class _Params:
    """Float32 arrays appended to one binary file, each named by offset and shape in the JSON."""

    def __init__(self):
        self.chunks, self.offset = [], 0

    def add(self, a) -> dict:
        a = np.ascontiguousarray(a, dtype="<f4")
        entry = {"offset": self.offset, "shape": list(a.shape)}
        self.chunks.append(a.tobytes())
        self.offset += a.nbytes
        return entry


def _bias(m, w: np.ndarray) -> np.ndarray:
    b = getattr(m, "bias", None)
    return b.detach().numpy() if b is not None else np.zeros(w.shape[0], np.float32)


def _layer_settings(rec, params: _Params) -> dict:
    """What the browser needs to recompute a value of this layer (as ``details.py`` does)."""
    m = rec.module
    if rec.kind == "Conv2d":
        w = m.weight.detach().numpy()
        kh, kw = w.shape[2:]
        stride, dilation = pair(m.stride), pair(getattr(m, "dilation", 1))
        top, bottom, left, right = conv_padding(m.padding, (kh, kw), stride, dilation, type(m).__name__)
        return {"weight": params.add(w), "bias": params.add(_bias(m, w)), "stride": list(stride),
                "dilation": list(dilation), "groups": int(getattr(m, "groups", 1)),
                "padding": [top, bottom, left, right], "padding_mode": getattr(m, "padding_mode", "zeros")}
    if rec.kind in POOLS:
        if rec.kind.startswith("Adaptive"):
            return {"adaptive": True}
        stride = m.stride if m.stride not in (None, ()) else m.kernel_size
        return {"adaptive": False, "kernel_size": list(pair(m.kernel_size)), "stride": list(pair(stride)),
                "padding": list(pair(getattr(m, "padding", 0))), "dilation": list(pair(getattr(m, "dilation", 1))),
                "count_include_pad": bool(getattr(m, "count_include_pad", True)),
                "divisor_override": getattr(m, "divisor_override", None) or None}
    if rec.kind == "Linear":
        w = m.weight.detach().numpy()
        return {"weight": params.add(w), "bias": params.add(_bias(m, w))}
    return {}


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(1.0, float(np.abs(b).max(initial=0)))
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-3, atol=1e-4 * scale))


def _find_value(values: dict, target: np.ndarray, preferred: list[str]) -> str | None:
    """The ONNX value (by name) equal to ``target``: a preferred name first, then any, in order."""
    for name in preferred + [n for n in values if n not in preferred]:
        if name in values and _close(values[name], target):
            return name
    return None


def _onnx_values(model_path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every output of the exported graph on ``x`` (a batch of one), batch dimension dropped."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError("the static site's export checks the model with onnxruntime, which is not installed: "
                          "pip install 'cnnlab[onnx]'") from None
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outs = session.run(names, {session.get_inputs()[0].name: x[None]})
    return {"input": x, **{n: np.asarray(v)[0] for n, v in zip(names, outs)}}


def _match_layers(ex, model_path: Path, params: _Params) -> tuple[list[dict], str]:
    """Each explainer layer with its ONNX input/output value names, checked on a random input."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(ex.input_shape).astype(np.float32)
    trace = ex.engine.run(x)
    values = _onnx_values(model_path, x)
    layers, previous = [], "input"
    for i, rec in enumerate(trace.layers):
        own = [rec.name.replace("#", ":")] + (["output"] if i == len(trace.layers) - 1 else [])
        out = _find_value(values, rec.output, own)
        inp = _find_value(values, rec.input, [previous])
        if out is None or inp is None:
            what, a = ("output", rec.output) if out is None else ("input", rec.input)
            raise SiteError(f"layer {rec.index} ({rec.name}, {rec.kind}): no output of the ONNX graph equals its "
                            f"{what} {list(a.shape)}; the static site cannot show it")
        layers.append({**rec.describe(), "value": out, "input_value": inp, **_layer_settings(rec, params)})
        previous = out
    if not _close(values["output"].reshape(-1), trace.logits.reshape(-1)):
        raise SiteError("onnxruntime's output of the exported model differs from cnnlab's; "
                        "the site would show wrong numbers")
    return layers, trace.output_kind


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SiteError(f"{str(out)!r} is a file; the site needs a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "site.json").is_file():
        raise SiteError(f"{str(out)!r} is not empty and holds no earlier export (no site.json); "
                        "choose a new or empty folder")


def _index_html(title: str) -> tuple[str, list[str]]:
    """The live page for the folder, and the tabs left out of it."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    left_out = [t for t in _TAB_BUTTON.findall(html) if t not in STATIC_TABS]
    html = _TAB_BUTTON.sub(lambda m: m.group(0) if m.group(1) in STATIC_TABS else "", html)
    html = html.replace('"/static/', '"static/')
    html = html.replace('<script type="module" src="static/app.js"></script>',
                        '<script type="module" src="static/site/main.js"></script>')
    html = html.replace("<title>cnnlab explain</title>", f"<title>{_escape(title)}</title>")
    preload = "".join(f'<link rel="modulepreload" href="{p}">\n' for p in
                      ["static/app.js", "static/site/backend.js", "static/site/details.js",
                       "static/site/images.js"])
    if 'src="static/site/main.js"' not in html or '<link rel="stylesheet"' not in html:
        raise SiteError("the explainer's index.html no longer has the lines the export rewrites; "
                        "update cnnlab/explain/site/_export.py")
    # First, before the page's own modules take the browser's few connections: the runtime and the
    # model start loading in their own async module script, and the .wasm download starts at once.
    early = (f'<link rel="preload" href="ort/{RUNTIME_FILES[1]}" as="fetch" type="application/wasm" crossorigin>\n'
             f'<link rel="modulepreload" href="ort/{RUNTIME_FILES[0]}">\n'
             '<script type="module" async src="static/site/model.js"></script>\n')
    # then, after the page's modules, the files the answerer fetches when it starts
    preload += "".join(f'<link rel="preload" href="{f}" as="fetch" crossorigin>\n'
                       for f in ("model.onnx", "site.json", "params.bin", "samples.bin", "run.json"))
    html = html.replace('<link rel="stylesheet"', early + '<link rel="stylesheet"', 1)
    return html.replace("</head>", preload + "</head>"), left_out


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _samples(ex, n: int) -> tuple[list[dict], np.ndarray]:
    if ex.dataset is None or n == 0:
        return [], np.zeros((0, *ex.input_shape), np.float32)
    n = min(n, len(ex.dataset))
    listed = [s for offset in range(0, n, 100) for s in ex.samples(offset, min(100, n - offset))["samples"]]
    inputs = np.stack([ex.dataset.model_input(i) for i in range(n)]).astype("<f4")
    return listed, inputs


def export_site(ex, out, samples: int = 64, runtime: str | Path | None = None) -> SiteSummary:
    """Write the static explainer of ``ex`` (an :class:`~cnnlab.explain.Explainer`) into ``out``.

    Args:
        ex: the explainer of the model (its engine, dataset, classes, normalisation and run).
        out: the folder to write; new, empty, or an earlier export (its files are replaced; files
            the export does not write, such as a CNAME for GitHub Pages, are kept).
        samples: how many test samples the gallery offers (the first ``samples`` of the test
            set, 1..1000; default 64).
        runtime: the npm prefix holding onnxruntime-web (default: where the set-up puts it).

    Returns:
        a :class:`SiteSummary` of the files written.

    Raises:
        RuntimeMissing: onnxruntime-web is not installed (checked before any work).
        SiteError: the folder is unusable, or the ONNX graph does not reproduce the engine.
    """
    import cnnlab
    from ... import onnx as cnnlab_onnx

    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise SiteError(f"`samples` must be an integer from 1 to {MAX_SAMPLES}, got {samples!r}")
    dist = find_runtime(runtime)
    out = Path(out).expanduser().resolve()
    _prepare(out)
    tmp = out.parent / f".{out.name}.part-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    notes, kept = [], []
    try:
        tmp.mkdir(parents=True)
        info = ex.model_info()
        meta = {"model": info["model"], "classes": ex.classes, "input_shape": list(ex.input_shape),
                "normalize": ex.normalize, "exported_by": f"cnnlab {cnnlab.__version__}"}
        cnnlab_onnx.export(ex.engine.model, np.zeros((1, *ex.input_shape), np.float32), tmp / "model.onnx",
                           dynamic_batch=True, intermediates=True, metadata=meta)
        params = _Params()
        layers, output_kind = _match_layers(ex, tmp / "model.onnx", params)
        listed, inputs = _samples(ex, samples)
        if ex.dataset is None:
            notes.append("no test set is attached: the gallery is empty (drawing and upload still work)")
        (tmp / "samples.bin").write_bytes(inputs.tobytes())
        (tmp / "params.bin").write_bytes(b"".join(params.chunks))
        # the run's curves and confusion matrix, and the first conv layer at every epoch if kept
        (tmp / "run.json").write_text(json.dumps({**ex.run(), "filters_history": ex.filters_over_training()}))
        site = {
            "format": SITE_FORMAT, "runtime": RUNTIME_PACKAGE,
            "model": {**info, "n_samples": len(listed)}, "classes": ex.classes, "layers": layers,
            "output_kind": output_kind, "samples": listed,
            # the drawing is scaled 0..1 and normalised (as `pixels`); an upload's bytes go through
            # the training mapping (as cnnlab.inspect.to_model_input does for an image)
            "pixels_normalize": ex.info.normalize,
            "image_normalize": None if ex.info.normalize is None else list(ex.info.normalize),
        }
        (tmp / "site.json").write_text(json.dumps(site, separators=(",", ":")))
        html, left_out = _index_html(f"cnnlab explain: {info['model']}")
        (tmp / "index.html").write_text(html, encoding="utf-8")
        if left_out:
            notes.append(f"the tabs {', '.join(left_out)} need the server and are left out of the site")
        shutil.copytree(STATIC, tmp / "static", ignore=shutil.ignore_patterns("__pycache__", ".*"))
        shutil.copytree(PAGE, tmp / "static" / "site", ignore=shutil.ignore_patterns("__pycache__", ".*"))
        (tmp / "ort").mkdir()
        for f in RUNTIME_FILES:
            shutil.copyfile(dist / f, tmp / "ort" / f)
        (tmp / "ort" / "README.txt").write_text(
            f"{RUNTIME_PACKAGE} (https://www.npmjs.com/package/onnxruntime-web), MIT License, "
            "Copyright (c) Microsoft Corporation.\nOnly its single-file WebAssembly build is copied here.\n")
        if out.exists():     # an earlier export: replace what the export writes, keep the rest
            kept = sorted(p.name for p in out.iterdir() if not (tmp / p.name).exists())   # e.g. CNAME, .nojekyll
            for entry in tmp.iterdir():
                old = out / entry.name
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old)
                elif old.exists() or old.is_symlink():
                    old.unlink()
                os.replace(entry, old)
            tmp.rmdir()
            if kept:
                notes.append(f"kept what the export does not write: {', '.join(kept)}")
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    files = {p.relative_to(out).as_posix(): p.stat().st_size for p in sorted(out.rglob("*"))
             if p.is_file() and p.relative_to(out).parts[0] not in kept}
    return SiteSummary(out, files, len(listed), notes)
