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

import numpy as np

from ..inspect import ImageRefused, RunInfo, to_model_input
from . import details, images
from .errors import ExplainError
from .inference import Engine

MAX_SHIFT = 16


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
    """

    def __init__(self, model, meta=None, dataset=None, input_shape=None, classes=None,
                 normalize=None, run=None):
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
        self.dataset = DatasetView(dataset, self.info) if dataset is not None else None
        blank = self.engine.run(np.zeros(self.input_shape, np.float32))
        n_out = blank.logits.size
        self.classes = [str(c) for c in (classes or (self.dataset and self.dataset.classes)
                                         or self.info.classes or range(n_out))]
        if len(self.classes) != n_out:
            self.classes = [str(i) for i in range(n_out)]
        self.run_info = run
        self.layers = [rec.describe() for rec in blank.layers]

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
    def input_from_request(self, body: dict) -> tuple[np.ndarray, dict]:
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
            x = self.engine.get(body["input_id"]).input
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
            arr = np.asarray(pixels, dtype=np.float32)
        except (TypeError, ValueError):
            raise ExplainError("`pixels` must be a rectangular array of numbers") from None
        if arr.ndim == 2 and C == 1:
            arr = arr[None]
        if arr.shape != (C, H, W):
            raise ExplainError(f"`pixels` must have shape {[H, W] if C == 1 else [C, H, W]}, got {list(arr.shape)}")
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise ExplainError("`pixels` values must be finite numbers in [0, 1]")
        return to_model_input(arr, self.info, name="`pixels`").array

    def infer(self, body: dict) -> dict:
        x, info = self.input_from_request(body)
        return self.trace_json(x, info)

    def trace_json(self, x: np.ndarray, info: dict | None = None) -> dict:
        trace = self.engine.run(x)
        probs = trace.probabilities
        return {
            "input_id": trace.input_id, "input": encode_array(trace.input), **(info or {}),
            "layers": [{**rec.describe(), "data": encode_array(rec.output)} for rec in trace.layers],
            "logits": trace.logits.astype(float).tolist(), "probabilities": probs.tolist(),
            "output_kind": trace.output_kind, "classes": self.classes,
            "predicted": int(np.argmax(probs)), "predicted_name": self.classes[int(np.argmax(probs))],
        }

    def upload(self, data: bytes, max_bytes: int = images.MAX_UPLOAD_BYTES) -> dict:
        """Decode (with the size and bomb checks), fit to the input shape, and run an upload."""
        img = images.decode_upload(data, max_bytes=max_bytes)
        try:
            mi = to_model_input(img, self.info, invert="auto" if self._dark_background() else False,
                                transparency="flatten", fit="crop", exif=True, name="the upload")
        except ImageRefused as e:  # e.g. 16-bit pixels: refused as `cnnlab predict` refuses them
            raise ExplainError(str(e), 415) from None
        except ValueError as e:
            raise ExplainError(str(e), 422) from None
        return self.trace_json(mi.array, {"source": "upload", "steps": mi.steps})

    # ---------------------------------------------------------------- details
    def detail(self, input_id, layer, channel=0, y=0, x=0) -> dict:
        return details.detail(self.engine.get(input_id), layer, channel, y, x)

    def softmax(self, input_id) -> dict:
        return details.softmax_detail(self.engine.get(input_id), self.classes)

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

    def shift_sweep(self, input_id, max_shift=6) -> dict:
        """Class probabilities for the input shifted by −k..k pixels horizontally and vertically."""
        k = details._int_arg(max_shift, "max_shift")
        if not 1 <= k <= MAX_SHIFT:
            raise ExplainError(f"`max_shift` must be in 1..{MAX_SHIFT}, got {k}")
        x = self.engine.get(input_id).input
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
