"""Learned filters and feature maps of a model: the lecture's edges → parts → objects hierarchy.

Functions take a ``Module`` (freshly built, briefly trained, or loaded from a checkpoint by
the CLI) and read feature maps from ``cnnlab.inspect.trace``, so they work with any model.

Example:
    >>> net = cnnlab.models.create("mnist-cnn")
    >>> maps = capture_feature_maps(net, np.zeros((1, 28, 28), np.float32))
    >>> [(m.label, m.array.shape) for m in maps][:2]
    [('conv1', (16, 24, 24)), ('relu #1', (16, 24, 24))]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Leaf modules whose 4-D output is not worth a row of pictures: they repeat their input.
_SKIP = ("Dropout", "Dropout2d", "Identity", "Flatten")


def layer_names(model) -> list[str]:
    """Names of every submodule, as ``named_modules()`` gives them (the model itself excluded)."""
    return [name for name, _ in model.named_modules() if name]


def get_layer(model, name: str):
    """The submodule called ``name``; an unknown name gets an error listing the valid ones."""
    modules = dict(model.named_modules())
    if not name or name not in modules:
        raise ValueError(
            f"{type(model).__name__} has no layer {name!r}; valid layer names: {', '.join(layer_names(model))}"
        )
    return modules[name]


def conv_layers(model) -> list[str]:
    """Names of the layers holding 4-D (out, in, kh, kw) kernels, in definition order."""
    return [n for n, m in model.named_modules()
            if n and getattr(m, "weight", None) is not None and m.weight.ndim == 4]


def layer_kernels(model, layer: str | None = None) -> tuple[str, np.ndarray]:
    """``(name, weight)`` of a conv layer (default the first), weight shaped (out, in, kh, kw)."""
    convs = conv_layers(model)
    if layer is None:
        if not convs:
            raise ValueError(f"{type(model).__name__} has no convolution layer (layers: "
                             f"{', '.join(layer_names(model))}); show-filters needs one")
        layer = convs[0]
    module = get_layer(model, layer)
    if layer not in convs:
        raise ValueError(f"layer {layer!r} ({type(module).__name__}) has no convolution kernels; "
                         f"conv layers: {', '.join(convs) or 'none'}")
    return layer, np.asarray(module.weight.detach().numpy(), dtype=np.float32)


def _grid(tiles: np.ndarray, rows: int, cols: int, gap: int = 1, fill=np.nan) -> np.ndarray:
    """Lay out (n, h, w[, 3]) tiles row by row on a (rows, cols) grid separated by ``gap`` pixels.

    One image with one ``imshow`` draws hundreds of kernels in milliseconds, where one axes
    per kernel takes seconds.
    """
    n, h, w = tiles.shape[:3]
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap) + tiles.shape[3:], fill, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tiles[k]
    return out


def plot_filters(model, path: str, layer: str | None = None, max_out: int = 32, max_in: int = 16,
                 title: str | None = None) -> np.ndarray:
    """Write :func:`filters_figure` to ``path``; returns the layer's weight array (out, in, kh, kw)."""
    from ._plot import save_figure

    save_figure(filters_figure(model, layer, max_out=max_out, max_in=max_in, title=title), path)
    return layer_kernels(model, layer)[1]


def filters_figure(model, layer: str | None = None, max_out: int = 32, max_in: int = 16, title: str | None = None):
    """Grid of a conv layer's kernels (default: the first conv layer), as a matplotlib figure.

    With 3 input channels the kernels are drawn in colour, each min-max normalised to [0, 1]
    on its own as in the lecture's AlexNet figure. Otherwise each (output, input) kernel is a
    cell of a grid on one shared, symmetric scale, with a colour bar in weight units.
    """
    from ._plot import new_figure

    name, w = layer_kernels(model, layer)
    O, I, kh, kw = w.shape
    shown = w[:max_out]
    if I == 3 or I == 1:
        # Kernels of one output channel each: a square-ish grid, numbered.
        n = len(shown)
        cols = int(np.ceil(np.sqrt(n)))
        rows = -(-n // cols)
    else:
        shown = shown[:, :max_in]
        rows, cols = shown.shape[:2]
    cell = min(0.9, 9.0 / max(rows, cols)) if max(rows, cols) > 8 else 0.9
    fig = new_figure(max(5.0, cell * cols + 2.0), max(4.0, cell * rows + 1.2))
    ax = fig.subplots()
    if I == 3:
        f = shown.transpose(0, 2, 3, 1)
        lo = f.min(axis=(1, 2, 3), keepdims=True)
        span = f.max(axis=(1, 2, 3), keepdims=True) - lo
        norm = (f - lo) / np.where(span > 0, span, 1.0)
        ax.imshow(_grid(norm, rows, cols, fill=1.0), interpolation="nearest")
        note = "RGB, each filter min-max normalised"
    else:
        m = float(np.abs(shown).max()) or 1.0
        tiles = shown[:, 0] if I == 1 else shown.reshape(-1, kh, kw)
        import matplotlib

        # Gaps are NaN, drawn gray: white already means a zero weight.
        cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.6")
        im = ax.imshow(_grid(tiles, rows, cols), cmap=cmap, vmin=-m, vmax=m, interpolation="nearest")
        fig.colorbar(im, ax=ax, shrink=0.8, label="weight")
        note = "blue < 0 < red, one shared scale"
    centres_x = [c * (kw + 1) + (kw - 1) / 2 for c in range(cols)]
    centres_y = [r * (kh + 1) + (kh - 1) / 2 for r in range(rows)]
    step = max(1, cols // 16)
    if I in (1, 3):
        ax.set_xticks(centres_x[::step], [str(c) for c in range(cols)][::step], fontsize=8)
        ax.set_yticks(centres_y, [str(r * cols) for r in range(rows)], fontsize=8)
        ax.set_xlabel("filter index (column offset)")
        ax.set_ylabel("filter index (row start)")
    else:
        ax.set_xticks(centres_x[::step], [str(c) for c in range(cols)][::step], fontsize=8)
        ax.set_yticks(centres_y[::max(1, rows // 16)], [str(r) for r in range(rows)][::max(1, rows // 16)], fontsize=8)
        ax.set_xlabel("input channel")
        ax.set_ylabel("output channel (filter)")
    cut = "" if shown.shape[0] == O else f"; first {shown.shape[0]} of {O} shown"
    if shown.shape[1] < I:
        cut += f"; first {shown.shape[1]} of {I} input channels"
    fig.suptitle(title or f"Filters of {name}: {O} filters of {I}×{kh}×{kw} ({note}{cut})", fontsize=11)
    return fig


@dataclass
class FeatureMap:
    """The output of one layer call for one input: ``array`` is (C, H, W)."""

    label: str
    kind: str
    array: np.ndarray


def capture_feature_maps(model, x: np.ndarray) -> list[FeatureMap]:
    """Run ``model`` on one input (C, H, W) and keep every 4-D layer output, in call order.

    A module used twice (the lecture's CNN applies one ``relu`` and one ``pool`` after both
    convolutions) gives one map per call, labelled ``relu #1``, ``relu #2``.
    """
    from ..inspect import trace

    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"show-features: expected one input of shape (C, H, W), got {x.shape}")
    calls = [(layer.name, layer.kind, layer.output[0]) for layer in trace(model, x[None].copy())
             if layer.leaf and layer.module is not model and layer.kind not in _SKIP and layer.output.ndim == 4]
    uses = {}
    for name, _, _ in calls:
        uses[name] = uses.get(name, 0) + 1
    seen: dict[str, int] = {}
    maps = []
    for name, kind, arr in calls:
        seen[name] = seen.get(name, 0) + 1
        label = f"{name} #{seen[name]}" if uses[name] > 1 else name
        maps.append(FeatureMap(label, kind, arr))
    return maps


def plot_features(model, x: np.ndarray, path: str, max_maps: int = 32, cols: int = 16,
                  title: str | None = None, input_image: np.ndarray | None = None) -> list[FeatureMap]:
    """Write :func:`features_figure` to ``path``.

    Returns:
        the captured maps (all channels, also those beyond ``max_maps`` not drawn).
    """
    from ._plot import save_figure

    maps = capture_feature_maps(model, x)
    fig = features_figure(model, x, max_maps=max_maps, cols=cols, title=title, input_image=input_image, maps=maps)
    save_figure(fig, path)
    return maps


def features_figure(model, x: np.ndarray, max_maps: int = 32, cols: int = 16, title: str | None = None,
                    input_image: np.ndarray | None = None, maps: list[FeatureMap] | None = None):
    """One row per conv / activation / pool call: its feature maps for input ``x`` (C, H, W).

    Each row is labelled with the layer's name, type and output shape and has its own colour
    bar (the layers' value ranges differ by orders of magnitude). Channels are laid out
    ``cols`` to a line, at most ``max_maps`` per layer. ``input_image`` (uint8, as the user
    sees it) is drawn in the first row; default: ``x`` itself. ``maps``: what
    :func:`capture_feature_maps` gave for ``x`` (default: traced now).

    Returns:
        a matplotlib figure.
    """
    from ._plot import new_figure

    maps = capture_feature_maps(model, x) if maps is None else maps
    if not maps:
        raise ValueError(f"{type(model).__name__} produced no (N, C, H, W) feature maps: "
                         "show-features needs a convolutional model")
    cols = min(max(m.array.shape[0] for m in maps), cols)
    lines = [1] + [-(-min(m.array.shape[0], max_maps) // cols) for m in maps]
    width = 13.0
    tile_in = (width - 3.2) / cols  # inches per map; the rest is labels and colour bars
    height = sum(n * tile_in + 0.3 for n in lines) + 0.6
    fig = new_figure(width, height, layout=None)
    # fixed margins in inches: layer labels on the left, channel numbers and title top/bottom
    fig.subplots_adjust(left=1.35 / width, right=1 - 0.4 / width, top=1 - 0.45 / height,
                        bottom=0.45 / height, hspace=0.3 * len(lines) / sum(lines))
    axes = fig.subplots(len(lines), 1, squeeze=False, gridspec_kw={"height_ratios": lines})[:, 0]
    shown = input_image if input_image is not None else (x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0))
    rgb = shown.ndim == 3
    pic = shown.astype(np.float32) / (255.0 if shown.dtype == np.uint8 else 1.0)
    if rgb:
        pic = (pic - pic.min()) / (float(pic.max() - pic.min()) or 1.0)
    row = _grid(pic[None], 1, cols, fill=1.0 if rgb else np.nan)
    im = axes[0].imshow(row, cmap=None if rgb else "gray", interpolation="nearest")
    if not rgb:
        fig.colorbar(im, ax=axes[0], pad=0.01, fraction=0.04, label="input value")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    axes[0].set_ylabel(f"input\n{'×'.join(map(str, x.shape))}", rotation=0, ha="right", va="center", fontsize=9)
    for ax, fm, n_lines in zip(axes[1:], maps, lines[1:]):
        C, H, W = fm.array.shape
        n = min(C, max_maps)
        im = ax.imshow(_grid(fm.array[:n], n_lines, cols), cmap="viridis", interpolation="nearest")
        fig.colorbar(im, ax=ax, pad=0.01, fraction=0.04, label="activation")
        ax.set_xticks([c * (W + 1) + (W - 1) / 2 for c in range(min(n, cols))],
                      [str(c) for c in range(min(n, cols))], fontsize=7)
        ax.set_yticks([r * (H + 1) + (H - 1) / 2 for r in range(n_lines)],
                      [f"{r * cols}+" for r in range(n_lines)], fontsize=7)
        more = f"\n(first {n})" if C > n else ""
        ax.set_ylabel(f"{fm.label}\n{fm.kind}\n{C}×{H}×{W}{more}", rotation=0, ha="right", va="center", fontsize=9)
    axes[-1].set_xlabel("channel")
    fig.suptitle(title or f"Feature maps of {type(model).__name__}, layer by layer", fontsize=12)
    return fig
