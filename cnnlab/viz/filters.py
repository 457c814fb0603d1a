"""Classic image filters (blur, sharpen, edges...) applied with cnnlab's own ``conv2d``.

Example:
    >>> from cnnlab.viz import load_image, apply_kernel, KERNELS
    >>> edges = apply_kernel(load_image("camera"), KERNELS["vertical-edge"])
    >>> edges.shape
    (510, 510)
"""

from __future__ import annotations

import ast

import numpy as np

_SOBEL_X = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]

# conv2d computes a cross-correlation (no kernel flip), as PyTorch does and as the lecture
# draws it: the vertical edge kernel [[1,0,-1]]*3 turns a bright-to-dark step into +30.
KERNELS: dict[str, np.ndarray] = {
    "box-blur": np.ones((3, 3)) / 9,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "vertical-edge": np.array([[1, 0, -1]] * 3, dtype=float),
    "horizontal-edge": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float),
    "sobel-x": np.array(_SOBEL_X, dtype=float),
    "sobel-y": np.array(_SOBEL_X, dtype=float).T.copy(),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    # 5×5 binomial approximation of a Gaussian with σ ≈ 1.
    "gaussian-blur": np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0,
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
}


def parse_kernel(spec, allow_names: bool = True, what: str = "--kernel") -> np.ndarray:
    """A kernel from a name in :data:`KERNELS`, a literal like ``"[[0,-1,0],[-1,5,-1],[0,-1,0]]"``,
    or an array.

    Raises:
        ValueError: unknown name (the message lists the valid ones), or a literal that is not
            a non-empty rectangular 2-D matrix of numbers (the message shows what was parsed).
    """
    if not isinstance(spec, str):
        arr = np.asarray(spec, dtype=np.float64)
        if arr.ndim != 2 or arr.size == 0:
            raise ValueError(f"{what}: expected a non-empty 2-D kernel, got shape {arr.shape}")
        return arr
    text = spec.strip()
    if allow_names and text in KERNELS:
        return KERNELS[text].copy()
    if not text.startswith("["):
        names = ", ".join(KERNELS)
        if allow_names:
            raise ValueError(f"{what}: unknown kernel {text!r}; valid names: {names} "
                             f"(or a matrix like '[[0,-1,0],[-1,5,-1],[0,-1,0]]')")
        raise ValueError(f"{what}: expected a matrix like '[[1,0],[0,1]]', got {text!r}")
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"{what}: cannot parse {text!r} as a matrix like '[[1,0,-1],[1,0,-1]]'") from None
    rows = parsed if isinstance(parsed, (list, tuple)) else None
    ok = (rows and all(isinstance(r, (list, tuple)) and r for r in rows)
          and len({len(r) for r in rows}) == 1
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for r in rows for v in r))
    if not ok:
        raise ValueError(f"{what}: expected a non-empty rectangular matrix of numbers "
                         f"(rows of equal length), parsed {parsed!r}")
    arr = np.array(parsed, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: expected finite numbers, parsed {parsed!r}")
    return arr


def apply_kernel(image: np.ndarray, kernel: np.ndarray, padding: int = 0) -> np.ndarray:
    """Filter an image with ``cnnlab.functional.conv2d``; colour channels are filtered separately.

    A colour image is one depthwise convolution: ``groups=3`` with the same kernel in each group.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` array (any numeric dtype).
        kernel: ``(kh, kw)`` matrix.
        padding: zeros added on every border (default 0: only windows inside the image).

    Shape:
        ``(H + 2P - kh + 1, W + 2P - kw + 1)`` (with the trailing ``C`` for colour), float32.
    """
    import cnnlab
    import cnnlab.functional as F

    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 2:
        raise ValueError(f"filter: expected a 2-D kernel, got shape {kernel.shape}")
    if image.ndim not in (2, 3):
        raise ValueError(f"filter: expected an image of shape (H, W) or (H, W, C), got {image.shape}")
    H, W = image.shape[:2]
    kh, kw = kernel.shape
    if kh > H + 2 * padding or kw > W + 2 * padding:
        raise ValueError(f"filter: the {kh}x{kw} kernel is larger than the {H}x{W} image "
                         f"(padding {padding})")
    chw = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
    C = chw.shape[0]
    x = cnnlab.from_numpy(np.ascontiguousarray(chw, dtype=np.float32)[None])
    w = cnnlab.from_numpy(np.ascontiguousarray(np.broadcast_to(kernel, (C, 1, kh, kw))))
    with cnnlab.no_grad():
        out = F.conv2d(x, w, padding=padding, groups=C).numpy()[0]
    return out[0] if image.ndim == 2 else np.moveaxis(out, 0, -1)


def _kernel_label(name: str, kernel: np.ndarray) -> str:
    from .stepper import fmt

    if kernel.size > 9:
        return f"{name} ({kernel.shape[0]}x{kernel.shape[1]})"
    # Show normalised kernels as 1/d × integers (the box blur is 1/9 × ones).
    d = next((d for d in range(1, 257) if np.allclose(kernel * d, np.round(kernel * d))), None)
    scale, k = (f"1/{d} × ", np.round(kernel * d)) if d and d > 1 else ("", kernel)
    rows = "  ".join("[" + " ".join(fmt(round(float(v), 3)) for v in r) + "]" for r in k)
    return f"{name}\n{scale}{rows}"


def plot_filtered(image: np.ndarray, kernels: dict[str, np.ndarray], path: str,
                  title: str = "Filters", padding: int = 0) -> dict[str, np.ndarray]:
    """Write :func:`filtered_figure` to ``path``.

    Returns:
        ``{name: filtered array}`` exactly as computed by ``conv2d`` (not clipped).
    """
    from ._plot import save_figure

    outputs = {name: apply_kernel(image, k, padding) for name, k in kernels.items()}
    save_figure(filtered_figure(image, kernels, title=title, outputs=outputs), path)
    return outputs


def filtered_figure(image: np.ndarray, kernels: dict[str, np.ndarray], title: str = "Filters", padding: int = 0,
                    outputs: dict[str, np.ndarray] | None = None):
    """The input and its filtered versions side by side (a grid for several kernels), as a figure.

    Kernels whose weights sum to 1 (blur, sharpen, emboss) keep the brightness scale, so the
    output is shown clipped to 0-255 like a photo; the others (edges, Laplacian) give signed
    responses, drawn on a symmetric scale with a colour bar. For a colour image those are
    shown as the mean of the three channel responses. ``outputs`` (what :func:`apply_kernel`
    gave for each kernel) saves computing them again.

    Example:
        >>> filtered_figure(sample_image("camera"), {"sobel-x": KERNELS["sobel-x"]})  # doctest: +SKIP
    """
    from ._plot import new_figure

    if outputs is None:
        outputs = {name: apply_kernel(image, k, padding) for name, k in kernels.items()}
    n = len(outputs) + 1
    ncols = min(n, 4)
    nrows = -(-n // ncols)
    fig = new_figure(4.2 * ncols, 4.3 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    panels = [("input", image, None)] + [(name, outputs[name], kernels[name]) for name in outputs]
    for ax, (name, arr, kernel) in zip(axes, panels):
        preserving = kernel is None or abs(float(np.sum(kernel)) - 1.0) < 1e-6
        if arr.ndim == 3 and preserving:
            ax.imshow(np.clip(arr, 0, 255).astype(np.uint8))
        elif preserving:
            im = ax.imshow(np.clip(arr, 0, 255), cmap="gray", vmin=0, vmax=255)
            fig.colorbar(im, ax=ax, shrink=0.75, label="pixel value")
        else:
            a = arr.mean(axis=-1) if arr.ndim == 3 else arr
            # A few extreme pixels would wash out the picture: clip the scale at the
            # 0.5/99.5 percentiles (the colour bar's arrows say so), centred on 0 for
            # zero-sum kernels (edges), whose sign tells the edge's direction.
            lo, hi = (float(v) for v in np.percentile(a, [0.5, 99.5]))
            if abs(float(np.sum(kernel))) < 1e-6:
                hi = max(abs(lo), abs(hi)) or 1.0
                lo = -hi
            im = ax.imshow(a, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1)
            fig.colorbar(im, ax=ax, shrink=0.75, extend="both",
                         label="response" + (" (mean of R, G, B)" if arr.ndim == 3 else ""))
        ax.set_title(f"input {arr.shape[1]}x{arr.shape[0]}" if kernel is None else _kernel_label(name, kernel),
                     fontsize=10)
        ax.set_xlabel("x (pixel)")
        ax.set_ylabel("y (pixel)")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig
