"""Grad-CAM (Selvaraju et al. 2017): where in a convolutional layer's map the evidence for a
class sits, as Captum 0.9's ``LayerGradCam`` with ``relu_attributions=True``; and the bilinear
upsampling that lays it over the input, as ``torch.nn.functional.interpolate``."""

from __future__ import annotations

import numpy as np

from ._common import as_batch, as_targets, frozen, logits, result
from .._tensor import Tensor


def layer_name(model, layer) -> str:
    """The qualified name of ``layer`` (a name as in ``named_modules()``, or the module itself)."""
    names = {id(m): n for n, m in model.named_modules() if n}
    if isinstance(layer, str):
        if layer and layer in names.values():
            return layer
        raise ValueError(f"`layer`: {type(model).__name__} has no layer {layer!r}; layers: "
                         f"{', '.join(names.values())}")
    if id(layer) in names:
        return names[id(layer)]
    raise ValueError(f"`layer`: expected a layer name or a submodule of {type(model).__name__}, "
                     f"got {type(layer).__name__}")


def grad_cam(model, x, target, layer) -> Tensor:
    """The Grad-CAM map of ``layer`` for ``target``, at the layer's resolution.

    Args:
        layer: a qualified module name (``"conv2"``, ``"features.3"``) or the module; its output
            must be a batch of maps (N, C, h, w). A module called twice is read at its first call.

    Shape:
        x: (N, C, H, W) → (N, h, w), the layer output's spatial size.

    Notes:
        With A the layer's output and y the target's logit: w_k = mean_{i,j} ∂y/∂A_{k,i,j}
        and map = ReLU(Σ_k w_k A_k). Activations and gradients come from one
        ``cnnlab.inspect.trace`` pass (forward and backward).

    Example:
        >>> cam = grad_cam(model, x, target=3, layer="conv2")    # (N, 8, 8) for mnist-cnn
        >>> heat = upsample(cam, x.shape[-2:])                   # (N, 28, 28)
    """
    from ..inspect import trace

    name = layer_name(model, layer)
    a = as_batch(x)
    with frozen(model):
        t = as_targets(target, len(a), logits(model, a).shape[1])
    record = trace(model, a, grads=True, target=t)[name]
    acts, grads = record.output, record.output_grad
    if acts.ndim != 4:
        four_d = [r.name for r in trace(model, a[:1]) if r.output.ndim == 4 and r.leaf]
        raise ValueError(f"`layer`: Grad-CAM needs a layer with outputs of shape (N, C, h, w); {name!r} "
                         f"({record.kind}) gives {acts.shape}; layers with such outputs: "
                         f"{', '.join(dict.fromkeys(four_d)) or 'none'}")
    weights = grads.mean(axis=(2, 3), keepdims=True)
    return result(np.maximum((weights * acts).sum(axis=1), 0))


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) linear-interpolation weights with half-pixel centres (align_corners=False)."""
    src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = src - i0
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), i0), 1 - frac)
    np.add.at(m, (np.arange(n_out), i1), frac)
    return m


def upsample(maps, size) -> Tensor:
    """Resize maps (N, h, w) (or (h, w)) to ``size = (H, W)`` bilinearly, as torch's
    ``interpolate(mode="bilinear", align_corners=False)``; separable, two matrix products."""
    a = maps.detach().numpy() if isinstance(maps, Tensor) else np.asarray(maps)
    if a.ndim not in (2, 3):
        raise ValueError(f"upsample: expected maps of shape (N, h, w) or (h, w), got {a.shape}")
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"upsample: `size` must be (H, W) with positive sizes, got {size}")
    dtype = a.dtype if a.dtype.kind == "f" else np.float32
    ry = _resize_matrix(a.shape[-2], size[0]).astype(dtype)
    rx = _resize_matrix(a.shape[-1], size[1]).astype(dtype)
    return result(np.einsum("Hh,...hw,Ww->...HW", ry, a.astype(dtype, copy=False), rx, optimize=True))
