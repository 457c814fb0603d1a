"""Convolution, pooling and ReLU, one output cell at a time: a pure data model of the frames.

The lecture animates a 3×3 kernel sliding over a 5×5 binary image; each frame shows the
window, the element-wise products, their sum, and the output filling in cell by cell. This
module computes those frames as plain data (:class:`Walkthrough` of :class:`Step`); the
terminal and GIF renderers in :mod:`cnnlab.viz.stepper_render` only draw them.

The arithmetic here is deliberately the slow, explicit one (one window, one dot product per
step): it is what the lecture explains. Tests check the final output against
``scipy.signal.correlate2d``, torch and cnnlab's own ``conv2d``/pooling.

Example:
    >>> w = conv_steps(LECTURE_IMAGE, LECTURE_KERNEL)
    >>> w.output.tolist()
    [[4.0, 3.0, 4.0], [2.0, 4.0, 3.0], [2.0, 3.0, 4.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The lecture's worked examples.
LECTURE_IMAGE = np.array([[1, 1, 1, 0, 0],
                          [0, 1, 1, 1, 0],
                          [0, 0, 1, 1, 1],
                          [0, 0, 1, 1, 0],
                          [0, 1, 1, 0, 0]], dtype=np.float64)
LECTURE_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
EDGE_IMAGE = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float64)
EDGE_KERNEL = np.array([[1, 0, -1]] * 3, dtype=np.float64)
# The lecture's padding figure (7×7 input, zero pad 1, 3×3 filter, stride 3) has no numbers;
# we fill it with the top-left 7×7 corner of its "what a computer sees" matrix.
PADDING_IMAGE = np.array([[8, 2, 22, 97, 38, 15, 0],
                          [49, 49, 99, 40, 17, 81, 18],
                          [81, 49, 31, 73, 55, 79, 14],
                          [52, 70, 95, 23, 4, 60, 11],
                          [22, 31, 16, 71, 51, 67, 63],
                          [24, 47, 32, 60, 99, 3, 45],
                          [32, 98, 81, 28, 64, 23, 67]], dtype=np.float64)
RELU_IMAGE = np.array([[1, 14, -9, 4], [-2, -20, 10, 6], [-3, 3, 11, 1], [2, 54, -2, 80]],
                      dtype=np.float64)
# The lecture shows 2×2 pooling with stride 2 without numbers; pooling the ReLU example's
# output continues its own conv → ReLU → pool pipeline.
POOL_IMAGE = np.maximum(RELU_IMAGE, 0)

EXAMPLES = {
    "lecture": dict(image=LECTURE_IMAGE, kernel=LECTURE_KERNEL, stride=1, padding=0),
    "edge": dict(image=EDGE_IMAGE, kernel=EDGE_KERNEL, stride=1, padding=0),
    "padding": dict(image=PADDING_IMAGE, kernel=LECTURE_KERNEL, stride=3, padding=1),
}


@dataclass(frozen=True)
class Step:
    """One output cell: where the window sits, what it multiplies or pools, and the result."""

    out_pos: tuple[int, int]          # (row, col) of the output cell
    window: tuple[int, int, int, int]  # (row, col, height, width) in the *padded* input
    terms: np.ndarray                  # products (conv) or window values (pool, ReLU)
    value: float
    expression: str


@dataclass
class Walkthrough:
    """All frames of one operation on one small 2-D input."""

    op: str                 # "conv", "max-pool", "avg-pool" or "relu"
    title: str
    input: np.ndarray       # (H, W) before padding
    padding: int
    stride: int
    window_shape: tuple[int, int]
    output_shape: tuple[int, int]
    kernel: np.ndarray | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def padded(self) -> np.ndarray:
        return np.pad(self.input, self.padding)

    def output_after(self, k: int) -> np.ndarray:
        """The output after steps ``0..k``; cells not computed yet are NaN."""
        out = np.full(self.output_shape, np.nan)
        for s in self.steps[:k + 1]:
            out[s.out_pos] = s.value
        return out

    @property
    def output(self) -> np.ndarray:
        return self.output_after(len(self.steps) - 1)


def fmt(v: float) -> str:
    """Integers without a decimal point, other numbers with at most 4 significant digits."""
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:.4g}"


def as_matrix(values, what: str) -> np.ndarray:
    """A 2-D float64 matrix from nested lists or an array; errors name ``what`` and the shape."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{what}: expected a non-empty 2-D matrix, got shape {arr.shape}")
    return arr


def _sliding(op, title, image, window, stride, padding, reduce, kernel=None) -> Walkthrough:
    """Slide a ``window`` over the zero-padded image; ``reduce(patch) -> (terms, value, expr)``."""
    image = as_matrix(image, f"{op}: image")
    kh, kw = window
    if stride < 1 or padding < 0:
        raise ValueError(f"{op}: stride must be >= 1 and padding >= 0, got stride={stride}, padding={padding}")
    H, W = image.shape[0] + 2 * padding, image.shape[1] + 2 * padding
    if kh > H or kw > W:
        raise ValueError(
            f"{op}: the {kh}x{kw} kernel is larger than the {image.shape[0]}x{image.shape[1]} "
            f"image (with padding {padding}: {H}x{W})"
        )
    # O = (W - K + 2P) / S + 1, rounded down as in PyTorch: a window that would leave the
    # padded image is dropped ("valid" part only).
    oh, ow = (H - kh) // stride + 1, (W - kw) // stride + 1
    walk = Walkthrough(op, title, image, padding, stride, (kh, kw), (oh, ow), kernel)
    padded = walk.padded
    for i in range(oh):
        for j in range(ow):
            r, c = i * stride, j * stride
            terms, value, expr = reduce(padded[r:r + kh, c:c + kw])
            walk.steps.append(Step((i, j), (r, c, kh, kw), terms, float(value), expr))
    return walk


def conv_steps(image, kernel, stride: int = 1, padding: int = 0) -> Walkthrough:
    """Cross-correlation (what ``conv2d`` computes) of a 2-D image with a 2-D kernel, step by step.

    Args:
        image: (H, W) matrix.
        kernel: (kh, kw) matrix.
        stride: step of the window (default 1).
        padding: zeros added on every border (default 0).

    Shape:
        output ``(⌊(H + 2P - kh) / S⌋ + 1, ⌊(W + 2P - kw) / S⌋ + 1)``.
    """
    kernel = as_matrix(kernel, "conv: kernel")

    def reduce(patch):
        terms = patch * kernel
        expr = " + ".join(f"{fmt(a)}×{fmt(b)}" for a, b in zip(patch.ravel(), kernel.ravel()))
        return terms, terms.sum(), f"{expr} = {fmt(terms.sum())}"

    title = f"Convolution, {kernel.shape[0]}x{kernel.shape[1]} kernel, stride {stride}, padding {padding}"
    return _sliding("conv", title, image, kernel.shape, stride, padding, reduce, kernel)


def pool_steps(image, kind: str = "max", kernel_size: int = 2, stride: int | None = None,
               padding: int = 0) -> Walkthrough:
    """Max or average pooling step by step (``stride`` defaults to ``kernel_size``, as in torch).

    Padding adds zeros, which matches ``avg_pool2d(count_include_pad=True)``; for max pooling
    torch pads with -inf, so use ``padding=0`` there.
    """
    if kind not in ("max", "avg"):
        raise ValueError(f"pool: kind must be one of 'max', 'avg', got {kind!r}")
    stride = kernel_size if stride is None else stride

    def reduce(patch):
        vals = ", ".join(fmt(v) for v in patch.ravel())
        if kind == "max":
            return patch.copy(), patch.max(), f"max({vals}) = {fmt(patch.max())}"
        mean = patch.mean()
        plus = " + ".join(fmt(v) for v in patch.ravel())
        return patch.copy(), mean, f"({plus}) / {patch.size} = {fmt(mean)}"

    title = f"{'Max' if kind == 'max' else 'Average'} pooling, {kernel_size}x{kernel_size} window, stride {stride}"
    return _sliding(f"{kind}-pool", title, image, (kernel_size, kernel_size), stride, padding, reduce)


def relu_steps(image) -> Walkthrough:
    """ReLU, ``max(0, x)``, one pixel at a time."""

    def reduce(patch):
        v = patch[0, 0]
        return patch.copy(), max(0.0, v), f"max(0, {fmt(v)}) = {fmt(max(0.0, v))}"

    return _sliding("relu", "ReLU: max(0, x), pixel by pixel", image, (1, 1), 1, 0, reduce)
