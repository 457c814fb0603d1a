"""The Why view's answers: attribution maps of one input, computed by :mod:`cnnlab.attribution`.

A request names its input as ``/api/infer`` does (``sample``, ``pixels`` or ``input_id``), a
``method``, and optionally ``target`` (a class index; default the predicted class), Grad-CAM's
``layer`` (the index of a Conv2d in ``/api/model``'s layers; default the last one) and
occlusion's ``window`` and ``stride`` (pixels; default about 1/7 of the image and half of it).

The answer carries the method's own array (``attribution``: (C, H, W) as the library returns it,
or Grad-CAM's (h, w) map at the layer's resolution) and ``map``, the (H, W) picture the page
draws, reduced as ``cnnlab attribute`` draws it (``cnnlab.viz.attribution``): signed maps summed
over the channels, the others their channel maximum, Grad-CAM upsampled bilinearly to the input.

Example:
    >>> attribution(ex, {"sample": 3, "method": "grad-cam"})["layer"]
    {'index': 3, 'name': 'conv2'}
"""

from __future__ import annotations

import numpy as np

from .. import attribution as at
from ..viz.attribution import METHODS, SIGNED, occlusion_window
from .details import _int_arg
from .errors import ExplainError

IG_STEPS = 50            # Gauss-Legendre points, Captum's default
SMOOTHGRAD_SAMPLES = 25
SMOOTHGRAD_NOISE = 0.15  # of the input's range
SMOOTHGRAD_SEED = 0      # the same input always gets the same map
SOURCES = ("sample", "pixels", "input_id", "shift")
OPTIONS = {"method": METHODS, "target": METHODS, "layer": ("grad-cam",), "window": ("occlusion",),
           "stride": ("occlusion",)}


def _options(body) -> dict:
    """The request's attribution options, each checked to belong to its method."""
    if not isinstance(body, dict):
        raise ExplainError("the request body must be a JSON object")
    unknown = [k for k in body if k not in SOURCES and k not in OPTIONS]
    if unknown:
        raise ExplainError(f"unknown field `{str(unknown[0])[:40]}`; an attribution request has "
                           f"{', '.join(SOURCES + tuple(OPTIONS))}")
    method = body.get("method")
    if method not in METHODS:
        raise ExplainError(f"`method` must be one of {', '.join(METHODS)}, got {method!r:.60}")
    for k, used_by in OPTIONS.items():
        if k in body and body[k] is not None and method not in used_by:
            raise ExplainError(f"`{k}` is an option of {' and '.join(used_by)}; "
                               f"method {method} does not use it")
    return {k: body.get(k) for k in OPTIONS}


def _target(value, classes, predicted: int) -> int:
    if value is None:
        return predicted
    k = _int_arg(value, "target")
    if not 0 <= k < len(classes):
        raise ExplainError(f"`target` must be a class index in 0..{len(classes) - 1}, got {k}")
    return k


def conv_layers(ex) -> list[dict]:
    """The explainer's Conv2d layers (``index``, ``name``) whose output is a stack of maps."""
    return [{"index": d["index"], "name": d["name"]} for d in ex.layers
            if d["kind"] == "Conv2d" and len(d["shape"]) == 3]


def _layer(ex, value) -> tuple[dict, object]:
    """Grad-CAM's layer: ``(its {index, name}, the module)``; default the last convolution."""
    convs = conv_layers(ex)
    if not convs:
        raise ExplainError("the model has no Conv2d layer; Grad-CAM needs one (choose another method)", 404)
    if value is None:
        chosen = convs[-1]
    else:
        i = _int_arg(value, "layer")
        match = [c for c in convs if c["index"] == i]
        if not match:
            names = ", ".join(f"{c['index']} ({c['name']})" for c in convs)
            raise ExplainError(f"`layer` {i} is not a Conv2d layer; Grad-CAM's layers are {names}", 404)
        chosen = match[0]
    blank = ex.engine.run(np.zeros(ex.input_shape, np.float32))   # cached: names the modules
    return chosen, blank.layers[chosen["index"]].module


def _window(ex, window, stride) -> tuple[int, int]:
    """Occlusion's square window and stride in pixels, checked against the input's size."""
    _, H, W = ex.input_shape
    (_, dh, _), (_, dsh, _) = occlusion_window(ex.input_shape)
    k = dh if window is None else _int_arg(window, "window")
    if not 1 <= k <= min(H, W):
        raise ExplainError(f"`window` must be in 1..{min(H, W)} pixels (the input is {H}x{W}), got {k}")
    s = max(1, k // 2) if stride is None else _int_arg(stride, "stride")
    if not 1 <= s <= k:
        raise ExplainError(f"`stride` must be in 1..{k} (at most the window), got {s}")
    return k, s


def compute(model, x: np.ndarray, method: str, target: int, *, layer=None, window=None, stride=None):
    """``(attribution, map, extra)`` of one input ``x`` (C, H, W) with the library's functions.

    ``attribution`` is the library's answer without the batch axis; ``map`` the (H, W) picture;
    ``extra`` what the method adds (integrated gradients' completeness error).
    """
    batch, extra = x[None], {}
    if method == "saliency":
        a = at.saliency(model, batch, target)
    elif method == "input-x-gradient":
        a = at.input_x_gradient(model, batch, target)
    elif method == "integrated-gradients":
        a, gap = at.integrated_gradients(model, batch, target, steps=IG_STEPS, return_error=True)
        total = float(a.numpy().sum(dtype=np.float64))
        error = float(gap.numpy()[0])
        extra = {"steps": IG_STEPS, "baseline": 0.0, "error": error, "sum": total,
                 "difference": total - error}      # f(x) - f(baseline), closed by the error
    elif method == "smoothgrad":
        a = at.smoothgrad(model, batch, target, samples=SMOOTHGRAD_SAMPLES, noise=SMOOTHGRAD_NOISE,
                          generator=SMOOTHGRAD_SEED)
        extra = {"samples": SMOOTHGRAD_SAMPLES, "noise": SMOOTHGRAD_NOISE, "seed": SMOOTHGRAD_SEED}
    elif method == "grad-cam":
        cam = at.grad_cam(model, batch, target, layer)
        return cam.numpy()[0], at.upsample(cam, x.shape[1:]).numpy()[0], extra
    elif method == "occlusion":
        c = x.shape[0]
        a = at.occlusion(model, batch, target, window=(c, window, window), stride=(c, stride, stride))
    else:
        raise ExplainError(f"`method` must be one of {', '.join(METHODS)}, got {method!r:.60}")
    values = a.numpy()[0]
    return values, values.sum(axis=0) if method in SIGNED else values.max(axis=0), extra


def attribution(ex, body, client: str) -> dict:
    """The answer of ``POST /api/attribution`` for the explainer ``ex`` (see the module's doc)."""
    from .service import encode_array

    opts = _options(body)
    x, info = ex.input_from_request({k: v for k, v in body.items() if k in SOURCES}, client)
    trace = ex.traces.put(ex.engine.run(x), client)
    probs = trace.probabilities
    predicted = int(np.argmax(probs))
    target = _target(opts["target"], ex.classes, predicted)
    method, answer = opts["method"], {}
    kwargs = {}
    if method == "grad-cam":
        chosen, kwargs["layer"] = _layer(ex, opts["layer"])
        answer["layer"] = chosen
    elif method == "occlusion":
        kwargs["window"], kwargs["stride"] = _window(ex, opts["window"], opts["stride"])
        answer.update(window=kwargs["window"], stride=kwargs["stride"])
    with ex.engine.exclusive():   # hooks and requires_grad flags go on the shared model
        try:
            values, picture, extra = compute(ex.engine.model, trace.input, method, target, **kwargs)
        except ExplainError:
            raise
        except ValueError as e:      # the library refusing this model or input, in its own words
            raise ExplainError(f"{method}: {e}", 422) from None
    if not (np.isfinite(values).all() and np.isfinite(picture).all()):
        raise ExplainError(f"{method} gave non-finite values for this input (the model overflows on it)", 422)
    return {
        "input_id": trace.input_id, **info, "method": method, "signed": method in SIGNED,
        "target": target, "target_name": ex.classes[target], "predicted": predicted,
        "predicted_name": ex.classes[predicted], "probabilities": probs.tolist(), "classes": ex.classes,
        "attribution": encode_array(values), "map": encode_array(picture), **answer, **extra,
        "conv_layers": conv_layers(ex),
    }
