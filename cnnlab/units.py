"""What a unit responds to: activation maximisation, top dataset patches and orientation tuning.

A *unit* is one channel of a layer's output (one feature map), or one feature of a flat layer.

- :func:`maximize`: gradient ascent on the input from a seeded random start, with the usual
  regularisers (an L2 penalty, random jitter, and a Gaussian blur now and then), until the
  image drives the unit high; returns the image and the activation it reaches.
- :func:`top_patches`: the ``k`` dataset crops that excite a channel most (at most one per
  image), each crop the unit's receptive field as :mod:`cnnlab.summarize` computes it.
- :func:`orientation_tuning`: each channel's response to oriented gratings, its preferred
  orientation and an orientation selectivity index: Hubel and Wiesel's simple-cell
  experiment run on a trained layer.
- :func:`position_tolerance`: one unit's response to a bar at its preferred orientation,
  shifted across its receptive field: the complex-cell half of the experiment. A conv unit
  (a simple cell) answers at one position; after max pooling the same channel answers
  anywhere within the pooling window.

Everything reads layers through :func:`cnnlab.inspect.trace` (names as ``named_modules()``
gives them, ``"conv2"``). The gradient of a unit with respect to the input needs the forward
pass up to the layer only: it is replayed from the trace's chain of recorded layer calls, so a
model whose layers are called one after another (every zoo model) works; another is refused.

Notes:
    Orientation selectivity index ``OSI = (R_pref − R_orth) / (R_pref + R_orth)``, with ``R``
    the rectified response averaged over positions and phases (best frequency), and ``R_orth``
    the response at the tested angle nearest to ``pref + 90°``. 1: responds to one orientation
    only; 0: to all alike.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from . import inspect


def _layer(t, layer: str):
    try:
        return t[layer]
    except KeyError as e:
        raise ValueError(f"units: {e.args[0]}") from None


def _check_channel(out: np.ndarray, layer: str, channel: int) -> None:
    c = out.shape[1]
    if not isinstance(channel, (int, np.integer)) or not 0 <= channel < c:
        raise ValueError(f"units: layer {layer!r} has channels 0..{c - 1}, got channel={channel!r}")


def layer_output(model, x, layer: str) -> np.ndarray:
    """The output of ``layer`` (its first call) for the batch ``x``."""
    return _layer(inspect.trace(model, x), layer).output


def _chain(model, x, layer: str):
    """The modules called from the input to ``layer``, when each received the previous one's output."""
    t = inspect.trace(model, x)
    target = _layer(t, layer)
    leaves = [lt for lt in t.layers if lt.leaf or lt.index == target.index]
    chain, want = [], -1
    for lt in leaves:
        if lt.input_from != want:
            raise ValueError(f"units: {lt.unique_name} ({lt.kind}) does not take the output of the layer before "
                             f"it; the gradient of {layer!r} needs a model whose layers run one after another")
        chain.append(lt.module)
        want = lt.index
        if lt.index == target.index:
            return chain, target.output
    raise ValueError(f"units: layer {layer!r} is not reached through leaf layers")


@contextmanager
def _quiet(model):
    """Eval mode and no parameter gradients for the duration; everything restored after."""
    params = list(model.parameters())
    flags = [(m, m.training) for m in model.modules()]
    need = [p.requires_grad for p in params]
    model.eval()
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, n in zip(params, need):
            p.requires_grad_(n)
        for m, f in flags:
            m.training = f


def _gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(x, sigma=[0] * (x.ndim - 2) + [sigma, sigma], mode="nearest").astype(x.dtype)


def unit_gradient(model, chain, x: np.ndarray, channel: int, unit=None) -> tuple[float, np.ndarray]:
    """``(a, ∂a/∂x)`` for ``a`` the mean over positions of ``channel`` after the modules ``chain``
    (or its value at the output position ``unit = (i, j)``)."""
    import cnnlab

    xt = cnnlab.from_numpy(np.array(x, copy=True)).requires_grad_(True)
    with _quiet(model), cnnlab.enable_grad():
        h = xt
        for m in chain:
            h = m(h)
        a = h[:, channel].mean() if unit is None else h[:, channel, unit[0], unit[1]].mean()
        a.backward()
    return float(a.detach().numpy()), xt.grad.numpy().copy()


def maximize(model, layer: str, channel: int, steps: int = 200, lr: float = 0.05, l2: float = 1e-3,
             jitter: int = 1, blur: float = 0.5, generator=None, *, input_shape=None, blur_every: int = 4,
             clip=None, unit=None) -> tuple[np.ndarray, float, list[float]]:
    """Activation maximisation: the input that drives one unit high.

    Args:
        model: a cnnlab model (left unchanged).
        layer: the layer's name (``"conv2"``).
        channel: the channel (or feature) index.
        steps: gradient-ascent steps (default 200). lr: step size on the normalised gradient (default 0.05).
        l2: weight of the ``l2 · ‖x‖²`` penalty (default 1e-3).
        jitter: random shift of up to ``jitter`` pixels before each step, undone after (default 1).
        blur: Gaussian blur σ applied every ``blur_every`` steps (default 0.5; 0: none).
        generator: seed or ``numpy.random.Generator`` of the random start and the jitter.
        input_shape: one sample's shape, e.g. (1, 28, 28) (required).
        clip: ``(lo, hi)`` valid input range to keep the image in (default none).
        unit: ``(i, j)``: drive the channel at that output position only (see
            :func:`centred_unit`); default the channel's mean over all positions.

    Returns:
        ``(image, activation, history)``: the (C, H, W) image, the unit's mean activation on it,
        and the activation before each step.
    """
    if input_shape is None:
        raise ValueError("maximize: `input_shape` is required, e.g. (1, 28, 28)")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"maximize: `steps` must be an integer >= 1, got {steps!r}")
    rng = np.random.default_rng(generator)
    x = (0.1 * rng.standard_normal((1, *input_shape))).astype(np.float32)
    chain, out = _chain(model, x, layer)
    _check_channel(out, layer, channel)
    if unit is not None and (out.ndim != 4 or not all(0 <= u < n for u, n in zip(unit, out.shape[2:]))):
        raise ValueError(f"units: layer {layer!r} has positions {'x'.join(map(str, out.shape[2:])) or 'none'}, "
                         f"got unit={unit!r}")
    history = []
    for step in range(steps):
        dy, dx = rng.integers(-jitter, jitter + 1, size=2) if jitter else (0, 0)
        shifted = np.roll(x, (dy, dx), axis=(-2, -1))
        a, g = unit_gradient(model, chain, shifted, channel, unit)
        history.append(a)
        g = np.roll(g, (-dy, -dx), axis=(-2, -1))
        g = g / (np.abs(g).mean() + 1e-8) - 2 * l2 * x
        x = (x + np.float32(lr) * g).astype(np.float32)
        if blur and (step + 1) % blur_every == 0:
            x = _gaussian_blur(x, blur)
        if clip is not None:
            x = np.clip(x, clip[0], clip[1]).astype(np.float32)
    a, _ = unit_gradient(model, chain, x, channel, unit)
    return x[0], a, history


@dataclass
class Patch:
    """One crop: which image, where the unit sat, the crop (its receptive field) and the activation."""

    index: int
    position: tuple[int, int]
    box: tuple[int, int, int, int]  # (top, left, height, width) in the input, may reach past the border
    crop: np.ndarray
    activation: float


def receptive_field(model, layer: str, input_shape) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """``(rf, jump, start)`` of ``layer``: output (i, j) sees input rows ``start + i·jump ... + rf``.

    ``rf`` and ``jump`` come from :mod:`cnnlab.summarize`'s rows; ``start`` is minus the padding
    each layer before it adds, in input pixels.
    """
    from .summarize.table import build_rows

    rows, seen = {}, {}
    for r in build_rows(model, tuple(input_shape)):  # a module called twice: "pool", then "pool#2" (as trace names it)
        seen[r.name] = seen.get(r.name, 0) + 1
        rows[r.name if seen[r.name] == 1 else f"{r.name}#{seen[r.name]}"] = r
    if layer not in rows:
        raise ValueError(f"units: no layer {layer!r}; layers: {', '.join(n for n in rows if n != 'input')}")
    if rows[layer].rf is None:
        raise ValueError(f"units: layer {layer!r} sees the whole input (flat); it has no receptive field to crop")
    start, jump = [0, 0], (1, 1)
    for name, r in rows.items():
        if name == "input":
            continue
        m = dict(model.named_modules()).get(name.split("#")[0])
        pad = getattr(m, "padding", 0)
        if isinstance(pad, str):
            pad = 0 if pad == "valid" else (np.asarray(getattr(m, "kernel_size", 1)) - 1) // 2
        pad = np.broadcast_to(np.asarray(pad), (2,))
        start = [s - int(p) * j for s, p, j in zip(start, pad, jump)]
        jump = r.jump if r.jump is not None else jump
        if name == layer:
            return tuple(r.rf), tuple(r.jump), tuple(start)
    raise ValueError(f"units: layer {layer!r} not found")


def crop(image: np.ndarray, top: int, left: int, h: int, w: int) -> np.ndarray:
    """``image[..., top:top+h, left:left+w]``, zeros where the box leaves the image."""
    out = np.zeros((*image.shape[:-2], h, w), image.dtype)
    H, W = image.shape[-2:]
    r0, c0, r1, c1 = max(top, 0), max(left, 0), min(top + h, H), min(left + w, W)
    if r0 < r1 and c0 < c1:
        out[..., r0 - top:r1 - top, c0 - left:c1 - left] = image[..., r0:r1, c0:c1]
    return out


def top_patches(model, dataset, layer: str, channel: int, k: int = 9, batch_size: int = 256) -> list[Patch]:
    """The ``k`` crops of ``dataset`` that excite ``channel`` of ``layer`` most, at most one per image.

    Args:
        dataset: a float array (N, C, H, W) of model inputs.
        layer, channel: the unit; the layer must keep a spatial map (conv, pool, activation).
        k: how many (default 9).

    Returns:
        :class:`Patch` es, strongest first (ties: the lower image index first).
    """
    x = np.asarray(dataset)
    best_val, best_pos = [], []
    for i in range(0, len(x), batch_size):
        out = layer_output(model, x[i:i + batch_size], layer)
        if out.ndim != 4:
            raise ValueError(f"units: layer {layer!r} gives {out.shape[1:]} per sample; top patches need a map (C, H, W)")
        _check_channel(out, layer, channel)
        maps = out[:, channel].reshape(len(out), -1)
        arg = maps.argmax(axis=1)
        best_val.append(maps[np.arange(len(maps)), arg])
        best_pos += [divmod(int(a), out.shape[3]) for a in arg]
    vals = np.concatenate(best_val)
    order = np.argsort(-vals, kind="stable")[:k]
    rf, jump, start = receptive_field(model, layer, x.shape[1:])
    patches = []
    for n in order:
        i, j = best_pos[n]
        top, left = start[0] + i * jump[0], start[1] + j * jump[1]
        patches.append(Patch(int(n), (i, j), (top, left, rf[0], rf[1]), crop(x[n], top, left, *rf), float(vals[n])))
    return patches


def grating(shape, angle_deg: float, frequency: float, phase: float) -> np.ndarray:
    """A sine grating in [0, 1], (H, W): bars at ``angle_deg`` (0 = vertical bars, 90 = horizontal),
    ``frequency`` cycles per pixel, ``phase`` radians."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    t = np.deg2rad(angle_deg)
    return 0.5 + 0.5 * np.sin(2 * np.pi * frequency * (xx * np.cos(t) + yy * np.sin(t)) + phase)


@dataclass
class Tuning:
    """Responses to gratings: ``responses[c, a, f]`` for channel c, angle a, frequency f."""

    angles: np.ndarray
    frequencies: np.ndarray
    responses: np.ndarray
    preferred: np.ndarray      # preferred angle per channel (degrees)
    selectivity: np.ndarray    # OSI per channel

    @property
    def curves(self) -> np.ndarray:
        """(C, angles): each channel's tuning curve at its best frequency."""
        best = self.responses.max(axis=1).argmax(axis=1)
        return self.responses[np.arange(len(best)), :, best]


def orientation_tuning(model, layer: str, angles=None, frequencies=(0.1, 0.15, 0.2, 0.3), *, input_shape,
                       phases: int = 4, mean=None, std=None) -> Tuning:
    """Each channel's rectified response to gratings, averaged over positions and phases.

    Args:
        angles: bar orientations in degrees in [0, 180) (default every 15°).
        frequencies: cycles per pixel (default 0.1, 0.15, 0.2, 0.3).
        input_shape: (C, H, W) of one input.
        phases: phases per grating, evenly spaced (default 4).
        mean, std: the model's preprocessing of [0, 1] pixels (default none).
    """
    angles = np.arange(0, 180, 15, dtype=np.float64) if angles is None else np.asarray(angles, np.float64)
    frequencies = np.asarray(frequencies, np.float64)
    if angles.ndim != 1 or angles.size < 2 or np.any((angles < 0) | (angles >= 180)):
        raise ValueError(f"orientation_tuning: `angles` must be 2 or more degrees in [0, 180), got {angles.tolist()}")
    if frequencies.ndim != 1 or frequencies.size < 1 or np.any((frequencies <= 0) | (frequencies > 0.5)):
        raise ValueError(f"orientation_tuning: `frequencies` must be in (0, 0.5] cycles/pixel, got {frequencies.tolist()}")
    c, h, w = input_shape
    imgs = np.stack([grating((h, w), a, f, p) for a in angles for f in frequencies
                     for p in np.linspace(0, 2 * np.pi, phases, endpoint=False)])
    x = np.repeat(imgs[:, None], c, axis=1)
    if mean is not None:
        x = (x - np.asarray(mean).reshape(1, -1, 1, 1)) / np.asarray(std).reshape(1, -1, 1, 1)
    out = layer_output(model, x.astype(np.float32), layer)
    if out.ndim != 4:
        raise ValueError(f"orientation_tuning: layer {layer!r} gives {out.shape[1:]} per sample; it needs a map (C, H, W)")
    r = np.maximum(out, 0).mean(axis=(2, 3)).reshape(len(angles), len(frequencies), phases, -1).mean(axis=2)
    responses = r.transpose(2, 0, 1)  # (C, angles, frequencies)
    curves = responses.max(axis=2)
    pref = curves.argmax(axis=1)
    orth_angle = (angles[pref] + 90) % 180
    diff = np.abs(angles[None, :] - orth_angle[:, None])
    orth = np.minimum(diff, 180 - diff).argmin(axis=1)
    rp, ro = curves[np.arange(len(pref)), pref], curves[np.arange(len(pref)), orth]
    osi = np.where(rp + ro > 0, (rp - ro) / np.maximum(rp + ro, 1e-12), 0.0)
    return Tuning(angles, frequencies, responses, angles[pref], osi)


def bar(shape, angle_deg: float, offset: float, width: float = 1.0, centre=None) -> np.ndarray:
    """A bright bar on black, (H, W) in [0, 1], at ``angle_deg`` (0 = vertical, as :func:`grating`).

    Its centre line passes ``offset`` pixels from ``centre`` (default the pixel ``(H // 2, W // 2)``)
    along the bar's normal (positive: right for a vertical bar, down for a horizontal one); the
    edges are anti-aliased, so a vertical bar of width 1 at an integer offset is one full column.
    """
    h, w = shape
    cy, cx = (h // 2, w // 2) if centre is None else centre
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    t = np.deg2rad(angle_deg)
    cos, sin = np.round(np.cos(t), 12), np.round(np.sin(t), 12)  # axis-aligned bars exactly on the grid
    d = (xx - cx) * cos + (yy - cy) * sin - offset
    return np.clip(width / 2 + 0.5 - np.abs(d), 0.0, 1.0)


@dataclass
class PositionTuning:
    """Responses of one unit per channel to a bar shifted across it: ``responses[c, k]`` at ``offsets[k]``."""

    layer: str
    offsets: np.ndarray    # bar offsets from the image centre, pixels
    angles: np.ndarray     # the bar's orientation per channel (degrees)
    unit: tuple[int, int]  # the output position measured (the one whose field is centred best)
    responses: np.ndarray  # (C, offsets), rectified
    width: np.ndarray      # (C,) pixels over which the response is at least half way from its floor to its peak


def centred_unit(model, layer: str, input_shape, out_hw) -> tuple[int, int]:
    """The output position whose receptive field's centre is nearest the image's centre pixel
    (ties: the first)."""
    rf, jump, start = receptive_field(model, layer, input_shape)
    out = []
    for axis in (0, 1):
        size = input_shape[1 + axis]
        centres = start[axis] + np.arange(out_hw[axis]) * jump[axis] + (rf[axis] - 1) / 2
        out.append(int(np.argmin(np.abs(centres - size // 2))))
    return out[0], out[1]


def position_tolerance(model, layer: str, *, input_shape, offsets=None, angles=None, bar_width: float = 1.0,
                       mean=None, std=None) -> PositionTuning:
    """One unit per channel of ``layer`` against a bar shifted across its receptive field.

    Args:
        layer: a layer that keeps a map (conv, ReLU, pool).
        input_shape: (C, H, W) of one input.
        offsets: bar offsets from the image's centre pixel, pixels (default ``-H//4 .. H//4``).
        angles: the bar's orientation per channel, degrees, or one for all (default: each
            channel's preferred orientation from :func:`orientation_tuning` of ``layer``).
        bar_width: pixels (default 1).
        mean, std: the model's preprocessing of [0, 1] pixels (default none).

    Returns:
        :class:`PositionTuning`; ``width`` is the number of pixels of offset over which the
        response stays at least half way from its floor (the smallest response) to its peak
        (offsets 1 pixel apart by default); 0 for a unit that never changes.
    """
    c, h, w = input_shape
    offsets = np.arange(-(h // 4), h // 4 + 1, dtype=np.float64) if offsets is None else np.asarray(offsets, np.float64)
    if offsets.ndim != 1 or offsets.size < 2:
        raise ValueError(f"position_tolerance: `offsets` must be 2 or more pixel offsets, got {offsets.tolist()}")
    probe = layer_output(model, np.zeros((1, *input_shape), np.float32), layer)
    if probe.ndim != 4:
        raise ValueError(f"position_tolerance: layer {layer!r} gives {probe.shape[1:]} per sample; it needs a map (C, H, W)")
    channels = probe.shape[1]
    if angles is None:
        angles = orientation_tuning(model, layer, input_shape=input_shape, mean=mean, std=std).preferred
    angles = np.broadcast_to(np.asarray(angles, np.float64), (channels,)).copy()
    ui, uj = centred_unit(model, layer, input_shape, probe.shape[2:])
    unique = np.unique(angles)
    imgs = np.stack([bar((h, w), a, o, bar_width) for a in unique for o in offsets])
    x = np.repeat(imgs[:, None], c, axis=1)
    if mean is not None:
        x = (x - np.asarray(mean).reshape(1, -1, 1, 1)) / np.asarray(std).reshape(1, -1, 1, 1)
    out = np.maximum(layer_output(model, x.astype(np.float32), layer)[:, :, ui, uj], 0)
    out = out.reshape(len(unique), len(offsets), channels)
    responses = np.stack([out[np.searchsorted(unique, angles[k]), :, k] for k in range(channels)])
    # half way from the unit's floor (its response to the bar far away, bias included) to its peak
    floor = responses.min(axis=1, keepdims=True)
    rise = responses.max(axis=1, keepdims=True) - floor
    step = float(np.median(np.diff(offsets)))
    width = np.where(rise[:, 0] > 0, ((responses - floor >= 0.5 * rise) & (rise > 0)).sum(axis=1) * step, 0.0)
    return PositionTuning(layer, offsets, angles, (ui, uj), responses, width)
