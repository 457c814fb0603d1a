"""What the explainer's API answers, as plain functions of (model, meta, dataset): no HTTP here.

:class:`Explainer` owns the :class:`~cnnlab.explain.inference.Engine` and turns requests (a
sample index, drawn pixels, an uploaded image, a layer and position) into JSON-ready dicts.
``app.py`` only maps routes onto these methods, so tests can call either.

Example:
    >>> ex = Explainer(model, {"model": "mnist-cnn"}, dataset, input_shape=(1, 28, 28))
    >>> out = ex.infer({"sample": 0})
    >>> out["probabilities"][:3]
"""

from __future__ import annotations

import base64
import threading
from collections import Counter, OrderedDict

import numpy as np

from ..inspect import ImageRefused, RunInfo, to_model_input
from . import backward, details, images
from .errors import ExplainError
from .inference import Engine
from .mistakes import MAX_ERROR_IMAGES, TestSetErrors

MAX_SHIFT = 16
ANONYMOUS = "anonymous"


def encode_array(a: np.ndarray) -> dict:
    """An array as base64 float32 (little-endian) plus shape and range: compact and fast to parse."""
    a = np.ascontiguousarray(a, dtype="<f4")
    return {"shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode("ascii"),
            "min": float(a.min()) if a.size else 0.0, "max": float(a.max()) if a.size else 0.0}


def _np(v):
    return np.asarray(v.detach().numpy() if hasattr(v, "detach") else v)


class DatasetView:
    """Uniform access to a dataset's test images: uint8 or float, (N,H,W), (N,H,W,C) or (N,C,H,W).

    ``info`` (a :class:`~cnnlab.inspect.RunInfo`) gives the model's input geometry and
    normalisation; samples become model inputs through :func:`~cnnlab.inspect.to_model_input`.
    """

    def __init__(self, dataset, info: RunInfo):
        self.data = _np(dataset.data)
        self.targets = _np(dataset.targets).reshape(-1).astype(np.int64)
        self.classes = [str(c) for c in getattr(dataset, "classes", [])] or None
        self.info = info
        self.input_shape = info.input_shape
        if len(self.data) != len(self.targets):
            raise ValueError(f"dataset has {len(self.data)} images but {len(self.targets)} targets")

    def __len__(self):
        return len(self.data)

    def _hwc(self, i: int) -> np.ndarray:
        a = self.data[i]
        if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
            a = a.transpose(1, 2, 0)
        return a

    def image_hwc(self, i: int) -> np.ndarray:
        """Image ``i`` as float32 (H, W, C) in [0, 1]."""
        a = self._hwc(i)
        a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
        return a[:, :, None] if a.ndim == 2 else a

    def model_input(self, i: int) -> np.ndarray:
        a = self._hwc(i)
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[:, :, 0]
        if a.dtype != np.uint8:  # float pixels in [0, 1], in the model's (C, H, W) layout
            a = a.astype(np.float32)
            a = a if a.ndim == 2 else a.transpose(2, 0, 1)
        try:
            return to_model_input(a, self.info, name=f"sample {i}").array
        except ValueError as e:
            raise ExplainError(str(e), 422) from None

    def thumbnail(self, i: int) -> str:
        a = np.clip(self.image_hwc(i) * 255.0, 0, 255).astype(np.uint8)
        return images.png_data_url(a[:, :, 0] if a.shape[2] == 1 else a[:, :, :3])


def _shift(x: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move the image content by (dx, dy) pixels, filling with the background (the minimum)."""
    out = np.full_like(x, x.min())
    H, W = x.shape[1:]
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[:, yd, xd] = x[:, ys, xs]
    return out


class TraceStore:
    """The traces the server remembers, so that later requests can name an input by its id.

    Each client (the page sends ``X-Client-Id``, one per tab; other callers are keyed by their
    address) keeps its ``per_client`` most recently used traces whatever the other clients do,
    for the ``max_clients`` clients seen most recently. Every other trace stays while the arrays
    of all traces fit in ``max_bytes``, least recently used dropped first. With the defaults, 64
    clients at once (the tests run 50) never lose their current input: a detail request for it
    cannot meet "unknown input_id", however many inputs the others run. Held traces are never
    dropped for the budget, so memory peaks at about ``max_bytes`` plus ``max_clients ×
    per_client`` traces (256 traces: 50 MB for mnist-cnn).

    Args:
        max_bytes: the arrays of all traces kept (a trace of mnist-cnn is ~0.2 MB); traces that no
            client holds are dropped, least recent first, to stay within it.
        per_client: traces each client holds (the page needs 2: the current and the shifted input).
        max_clients: clients whose traces are held; the least recent one is forgotten beyond it.
    """

    def __init__(self, max_bytes: int = 128 * 1024 * 1024, per_client: int = 4, max_clients: int = 64):
        self.max_bytes, self.per_client, self.max_clients = max_bytes, per_client, max_clients
        self._traces: OrderedDict[str, object] = OrderedDict()   # input_id → Trace, least recent first
        self._sizes: dict[str, int] = {}
        self._bytes = 0
        self._clients: OrderedDict[str, list[str]] = OrderedDict()  # client → its recent ids, newest last
        self._held: Counter = Counter()                             # input_id → clients holding it
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._traces)

    def put(self, trace, client: str = ANONYMOUS):
        """Remember ``trace`` (a :class:`~cnnlab.explain.inference.Trace`) as used by ``client``."""
        key = trace.input_id
        with self._lock:
            if key not in self._traces:
                size = trace.input.nbytes + sum(r.input.nbytes + r.output.nbytes for r in trace.layers)
                self._sizes[key] = size
                self._bytes += size
            self._traces[key] = trace
            self._traces.move_to_end(key)
            self._use(client, key)
            self._evict()
        return trace

    def get(self, input_id, client: str = ANONYMOUS):
        """The trace of ``input_id``; a 404 that says what to do when it is not (or no longer) here."""
        key = str(input_id)
        with self._lock:
            trace = self._traces.get(key)
            if trace is not None:
                self._traces.move_to_end(key)
                self._use(client, key)
        if trace is None:
            raise ExplainError(
                f"unknown input_id {key[:40]!r}: this server holds no trace with that id (it was never run here, "
                f"the server restarted, or it was dropped: a client keeps its {self.per_client} most recent inputs). "
                "Run the input again with POST /api/infer (or /api/upload) and use the input_id it returns", 404)
        return trace

    def _use(self, client, key):
        recent = self._clients.pop(client, [])
        if key in recent:
            recent.remove(key)
        else:
            self._held[key] += 1
        recent.append(key)
        while len(recent) > self.per_client:
            self._release(recent.pop(0))
        self._clients[client] = recent
        while len(self._clients) > self.max_clients:
            for old in self._clients.popitem(last=False)[1]:
                self._release(old)

    def _release(self, key):
        self._held[key] -= 1
        if self._held[key] <= 0:
            del self._held[key]

    def _evict(self):
        for key in [k for k in self._traces if k not in self._held]:   # least recent first
            if self._bytes <= self.max_bytes:
                break
            del self._traces[key]
            self._bytes -= self._sizes.pop(key)


class Explainer:
    """The explainer's answers for one model.

    Args:
        model: a cnnlab ``nn.Module``.
        meta: a :class:`~cnnlab.inspect.RunInfo`, or its flat description (``model`` name,
            ``dataset``, ``metrics``...; see ``RunInfo.from_dict``); may be empty.
        dataset: optional test set with ``.data``, ``.targets``, ``.classes``.
        input_shape: (C, H, W); taken from ``meta`` or the dataset when omitted.
        classes: class names; default the dataset's, then ``meta``'s, then "0".."K-1".
        normalize: optional ``(mean, std)`` the model was trained with.
        run: optional training record ``{"curves": {...}, "confusion": [[...]], "note": str}``.
        traces: where traces are kept between requests (default: a :class:`TraceStore`).
        filter_history: optional first-conv-layer snapshots of the run, one per epoch
            (:class:`~cnnlab.train.snapshots.FilterHistory`), for the Filters view's slider.
        errors_limit: the Errors view analyses at most this many test images (the first ones).

    Methods that run or name an input take ``client``, the key under which the trace store
    holds that client's recent inputs (``app.py`` passes the page's ``X-Client-Id``).
    """

    def __init__(self, model, meta=None, dataset=None, input_shape=None, classes=None,
                 normalize=None, run=None, traces: TraceStore | None = None,
                 errors_limit: int = MAX_ERROR_IMAGES, filter_history=None):
        info = meta if isinstance(meta, RunInfo) else RunInfo.from_dict(meta or {})
        if normalize is None:
            normalize = info.normalize
        self.normalize = normalize
        if input_shape is None:
            input_shape = info.input_shape
        if input_shape is None and dataset is not None:
            probe = _np(dataset.data)[0]
            input_shape = (1, *probe.shape) if probe.ndim == 2 else (probe.shape[2], *probe.shape[:2])
        if input_shape is None:
            raise ValueError("Explainer: give input_shape (C, H, W), a meta['input_shape'] or a dataset")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.info = info.for_input(self.input_shape, normalize)
        self.engine = Engine(model, self.input_shape)
        self.traces = traces if traces is not None else TraceStore()
        self.dataset = DatasetView(dataset, self.info) if dataset is not None else None
        blank = self.engine.run(np.zeros(self.input_shape, np.float32))
        n_out = blank.logits.size
        self.classes = [str(c) for c in (classes or (self.dataset and self.dataset.classes)
                                         or self.info.classes or range(n_out))]
        if len(self.classes) != n_out:
            self.classes = [str(i) for i in range(n_out)]
        self.run_info = run
        self.layers = [rec.describe() for rec in blank.layers]
        self.backward_cache = backward.BackwardCache(self.engine)
        self.filter_history = filter_history
        self.test_errors = TestSetErrors(self, errors_limit)

    # ------------------------------------------------------------------ model
    def model_info(self) -> dict:
        C = self.input_shape[0]
        return {
            "model": self.info.model or type(self.engine.model).__name__,
            "dataset": self.info.dataset,
            "input_shape": list(self.input_shape), "classes": self.classes, "layers": self.layers,
            "grayscale": C == 1, "n_samples": len(self.dataset) if self.dataset else 0,
            "has_run": self.run_info is not None, "max_shift": MAX_SHIFT,
            "normalize": self.normalize, "dark_background": self._dark_background(),
        }

    def _dark_background(self) -> bool:
        if self.dataset is None or len(self.dataset) == 0:
            return True
        a = self.dataset.image_hwc(0)
        return float(np.concatenate([a[0].ravel(), a[-1].ravel()]).mean()) < 0.5

    # ---------------------------------------------------------------- samples
    def samples(self, offset=0, count=24) -> dict:
        if self.dataset is None:
            return {"total": 0, "samples": []}
        offset, count = details._int_arg(offset, "offset"), details._int_arg(count, "count")
        if offset < 0 or count < 1 or count > 100:
            raise ExplainError(f"need offset ≥ 0 and 1 ≤ count ≤ 100, got offset={offset}, count={count}")
        idx = range(offset, min(offset + count, len(self.dataset)))
        return {"total": len(self.dataset), "samples": [
            {"index": i, "label": int(self.dataset.targets[i]),
             "label_name": self._class_name(self.dataset.targets[i]), "image": self.dataset.thumbnail(i)}
            for i in idx]}

    def _class_name(self, k) -> str:
        k = int(k)
        return self.classes[k] if 0 <= k < len(self.classes) else str(k)

    # ------------------------------------------------------------- inference
    def input_from_request(self, body: dict, client: str = ANONYMOUS) -> tuple[np.ndarray, dict]:
        """The model input a JSON request names: a sample, drawn pixels, or a known input_id."""
        if not isinstance(body, dict):
            raise ExplainError("the request body must be a JSON object")
        info: dict = {}
        sources = [k for k in ("sample", "pixels", "input_id") if k in body]
        if len(sources) != 1:
            raise ExplainError("give exactly one of `sample`, `pixels` or `input_id`")
        if "sample" in body:
            if self.dataset is None:
                raise ExplainError("this explainer has no dataset; draw or upload an input instead", 404)
            i = details._int_arg(body["sample"], "sample")
            if not 0 <= i < len(self.dataset):
                raise ExplainError(f"sample {i} is out of range: valid 0..{len(self.dataset) - 1}", 404)
            x = self.dataset.model_input(i)
            info = {"sample": i, "label": int(self.dataset.targets[i]),
                    "label_name": self._class_name(self.dataset.targets[i])}
        elif "pixels" in body:
            x = self._pixels(body["pixels"])
            info = {"source": "pixels"}
        else:
            if not isinstance(body["input_id"], str):
                raise ExplainError(f"`input_id` must be a string from an earlier answer, got {body['input_id']!r:.40}")
            x = self.traces.get(body["input_id"], client).input
            info = {"source": "input_id"}
        shift = body.get("shift")
        if shift is not None:
            if (not isinstance(shift, (list, tuple)) or len(shift) != 2):
                raise ExplainError(f"`shift` must be [dx, dy], got {shift!r}")
            dx, dy = (details._int_arg(s, "shift") for s in shift)
            if max(abs(dx), abs(dy)) > MAX_SHIFT:
                raise ExplainError(f"`shift` components must be within ±{MAX_SHIFT}, got {[dx, dy]}")
            x = _shift(x, dx, dy)
            info["shift"] = [dx, dy]
        return x, info

    def _pixels(self, pixels) -> np.ndarray:
        """Drawn pixels in [0, 1], (H, W) for grayscale or (C, H, W), at the model's size."""
        C, H, W = self.input_shape
        try:
            with np.errstate(over="ignore"):   # a value beyond float32 becomes inf, refused below
                arr = np.asarray(pixels, dtype=np.float32)
        except (TypeError, ValueError, OverflowError):   # OverflowError: an integer beyond float range
            raise ExplainError("`pixels` must be a rectangular array of numbers in [0, 1]") from None
        if arr.ndim == 2 and C == 1:
            arr = arr[None]
        if arr.shape != (C, H, W):
            raise ExplainError(f"`pixels` must have shape {[H, W] if C == 1 else [C, H, W]}, got {list(arr.shape)}")
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise ExplainError("`pixels` values must be finite numbers in [0, 1]")
        return to_model_input(arr, self.info, name="`pixels`").array

    def infer(self, body: dict, client: str = ANONYMOUS) -> dict:
        x, info = self.input_from_request(body, client)
        return self.trace_json(x, info, client)

    def trace_json(self, x: np.ndarray, info: dict | None = None, client: str = ANONYMOUS) -> dict:
        trace = self.traces.put(self.engine.run(x), client)
        probs = trace.probabilities
        return {
            "input_id": trace.input_id, "input": encode_array(trace.input), **(info or {}),
            "layers": [{**rec.describe(), "data": encode_array(rec.output)} for rec in trace.layers],
            "logits": trace.logits.astype(float).tolist(), "probabilities": probs.tolist(),
            "output_kind": trace.output_kind, "classes": self.classes,
            "predicted": int(np.argmax(probs)), "predicted_name": self.classes[int(np.argmax(probs))],
        }

    def upload(self, data: bytes, max_bytes: int = images.MAX_UPLOAD_BYTES, client: str = ANONYMOUS) -> dict:
        """Decode (with the size and bomb checks), fit to the input shape, and run an upload."""
        img = images.decode_upload(data, max_bytes=max_bytes)
        try:
            mi = to_model_input(img, self.info, invert="auto" if self._dark_background() else False,
                                transparency="flatten", fit="crop", exif=True, name="the upload")
        except ImageRefused as e:  # e.g. 16-bit pixels: refused as `cnnlab predict` refuses them
            raise ExplainError(str(e), 415) from None
        except ValueError as e:
            raise ExplainError(str(e), 422) from None
        return self.trace_json(mi.array, {"source": "upload", "steps": mi.steps}, client)

    # ---------------------------------------------------------------- details
    def detail(self, input_id, layer, channel=0, y=0, x=0, client: str = ANONYMOUS) -> dict:
        return details.detail(self.traces.get(input_id, client), layer, channel, y, x)

    def softmax(self, input_id, client: str = ANONYMOUS) -> dict:
        return details.softmax_detail(self.traces.get(input_id, client), self.classes)

    def filters(self, layer=None) -> dict:
        """The kernels of a conv layer (default: the first), as arrays per output channel."""
        convs = [d for d in self.layers if d["kind"] == "Conv2d"]
        if not convs:
            raise ExplainError("the model has no Conv2d layer", 404)
        if layer is None:
            d = convs[0]
        else:
            li = details._int_arg(layer, "layer")
            match = [c for c in convs if c["index"] == li]
            if not match:
                raise ExplainError(f"layer {li} is not a Conv2d; conv layers are {[c['index'] for c in convs]}", 404)
            d = match[0]
        module = self.engine.run(np.zeros(self.input_shape, np.float32)).layers[d["index"]].module
        w = module.weight.detach().numpy()
        return {"layer": d["index"], "name": d["name"], "extra": d["extra"], "weights": encode_array(w),
                "rgb": bool(w.shape[1] == 3), "conv_layers": [c["index"] for c in convs]}

    def filters_over_training(self) -> dict:
        """The first conv layer's kernels at every epoch of the run, when the run kept them."""
        h = self.filter_history
        if h is None:
            return {"available": False, "note": "this run has no per-epoch filter snapshots "
                    "(runs trained before they were kept, or a checkpoint without its run directory)"}
        return {"available": True, "layer": h.layer, "epochs": [int(e) for e in h.epochs],
                "weights": encode_array(np.asarray(h.weights, np.float32))}

    # --------------------------------------------------------------- backward
    def _gradients(self, input_id, target, client):
        trace = self.traces.get(input_id, client)
        k = backward.check_target(target, len(self.classes))
        return trace, self.backward_cache.get(trace, k)

    def backward(self, input_id, target, client: str = ANONYMOUS) -> dict:
        """Cross-entropy against class ``target``: the loss, ∂L/∂input and every layer's ∂L/∂output."""
        trace, g = self._gradients(input_id, target, client)
        return {"input_id": trace.input_id, "target_name": self._class_name(g.target),
                **backward.gradients_json(g, encode_array)}

    def kernel_gradient(self, input_id, target, layer, channel, y=None, x=None, client: str = ANONYMOUS) -> dict:
        """∂L/∂W of one conv kernel as the sum over positions of input window × output gradient."""
        _, g = self._gradients(input_id, target, client)
        return backward.kernel_gradient(g, layer, channel, y, x)

    def sgd_step(self, input_id, target, layer, channel, lr, client: str = ANONYMOUS) -> dict:
        """One SGD step on a copy of the model: the kernel and the loss before and after."""
        trace, g = self._gradients(input_id, target, client)
        return backward.sgd_step(self.engine, g, trace.input, trace.output_kind, layer, channel, lr)

    def shift_sweep(self, input_id, max_shift=6, client: str = ANONYMOUS) -> dict:
        """Class probabilities for the input shifted by −k..k pixels horizontally and vertically."""
        k = details._int_arg(max_shift, "max_shift")
        if not 1 <= k <= MAX_SHIFT:
            raise ExplainError(f"`max_shift` must be in 1..{MAX_SHIFT}, got {k}")
        x = self.traces.get(input_id, client).input
        shifts = list(range(-k, k + 1))
        xs = [_shift(x, s, 0) for s in shifts] + [_shift(x, 0, s) for s in shifts]
        probs = self.engine.predict_batch(np.stack(xs))
        n = len(shifts)
        return {"shifts": shifts, "horizontal": probs[:n].tolist(), "vertical": probs[n:].tolist(),
                "classes": self.classes}

    def run(self) -> dict:
        if self.run_info is None:
            return {"available": False, "note": "no training run is attached to this model"}
        return {"available": True, "classes": self.classes, **self.run_info}

    # ------------------------------------------------------------ why, errors
    def attribution(self, body: dict, client: str = ANONYMOUS) -> dict:
        """An attribution map of an input (see :mod:`cnnlab.explain.why`)."""
        from .why import attribution

        return attribution(self, body, client)

    def errors(self) -> dict:
        """The test set's confusion matrix, cells, per-class scores (see :mod:`cnnlab.explain.mistakes`)."""
        return self.test_errors.summary()

    def error_cell(self, true, predicted, offset=0, count=48) -> dict:
        return self.test_errors.cell(true, predicted, offset, count)
