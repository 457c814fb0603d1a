"""The backward pass of convolution, max pooling and ReLU, one gradient cell at a time.

The companion of :mod:`cnnlab.viz.stepper` (the forward pass). Given the upstream gradient
``G = ∂L/∂Y`` of a layer's output, each frame computes one cell of a gradient:

- ``∂L/∂W[a, b] = Σ_ij X[i + a, j + b] · G[i, j]``: the correlation of the input with the
  upstream gradient, the gradient sliding over the input like a kernel (:func:`conv_weight_steps`);
- ``∂L/∂X = G`` zero-padded by ``k - 1`` and correlated with the kernel rotated by 180°: the
  "full" convolution with the flipped kernel (:func:`conv_input_steps`);
- max pooling routes each window's gradient to its winner; on a tie, to the first maximum in
  row-major order, as torch does; overlapping windows add up (:func:`max_pool_backward_steps`);
- ReLU lets the gradient through where the input was positive: ``G · [x > 0]``
  (:func:`relu_backward_steps`).

Stride 1 and no padding for the convolution (the lecture's setting). The frames are plain data
(:class:`BackwardWalk`); :mod:`cnnlab.viz.backward_render` draws them. Tests compare every
number with the gradients of cnnlab's autograd and torch's.

Example:
    >>> w = conv_weight_steps(LECTURE_IMAGE, LECTURE_UPSTREAM)
    >>> w.result.shape
    (3, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .stepper import (EDGE_IMAGE, EDGE_KERNEL, LECTURE_IMAGE, LECTURE_KERNEL, POOL_IMAGE, RELU_IMAGE, as_matrix,
                      conv_steps, fmt)

# Upstream gradients ∂L/∂Y for the examples: small integers, so each sum reads at a glance.
LECTURE_UPSTREAM = np.array([[1, 0, -1], [2, 1, 0], [0, -1, 1]], dtype=np.float64)
EDGE_UPSTREAM = np.array([[1, -1, 0, 0], [0, 1, 0, -1], [0, 0, 1, 0], [-1, 0, 0, 1]], dtype=np.float64)
POOL_UPSTREAM = np.array([[1, -2], [3, 4]], dtype=np.float64)
RELU_UPSTREAM = np.array([[1, 2, 3, 4], [-1, -2, -3, -4], [5, 6, 7, 8], [-5, -6, -7, -8]], dtype=np.float64)

EXAMPLES = {
    "lecture": dict(op="conv", image=LECTURE_IMAGE, kernel=LECTURE_KERNEL, upstream=LECTURE_UPSTREAM),
    "edge": dict(op="conv", image=EDGE_IMAGE, kernel=EDGE_KERNEL, upstream=EDGE_UPSTREAM),
    "pool": dict(op="max-pool", image=POOL_IMAGE, kernel_size=2, stride=2, upstream=POOL_UPSTREAM),
    "relu": dict(op="relu", image=RELU_IMAGE, upstream=RELU_UPSTREAM),
}

Box = tuple[int, int, int, int]  # (row, col, height, width)


@dataclass(frozen=True)
class Panel:
    """One matrix of a frame, with the cells it highlights (a box, or None)."""

    name: str
    matrix: np.ndarray
    box: Box | None = None


@dataclass(frozen=True)
class BackwardStep:
    """One frame: the panels it shows, the result so far and the cells it just wrote."""

    panels: tuple[Panel, ...]
    result: np.ndarray            # the gradient after this step; cells not reached yet are NaN
    written: tuple[tuple[int, int], ...]
    expression: str


@dataclass
class BackwardWalk:
    """All frames computing one gradient (``result_name``) of one operation."""

    op: str
    title: str
    result_name: str
    steps: list[BackwardStep] = field(default_factory=list)

    @property
    def result(self) -> np.ndarray:
        return self.steps[-1].result


def _correlation_walk(op, title, result_name, source, source_name, sliding, sliding_name, padding):
    """A walk over ``conv_steps(source, sliding, padding=padding)``: one result cell per frame."""
    forward = conv_steps(source, sliding, stride=1, padding=padding)
    walk = BackwardWalk(op, title, result_name)
    for k, s in enumerate(forward.steps):
        walk.steps.append(BackwardStep(
            panels=(Panel(source_name, forward.padded, s.window), Panel(sliding_name, forward.kernel),
                    Panel("Products", s.terms)),
            result=forward.output_after(k), written=(s.out_pos,),
            expression=f"{result_name}[{s.out_pos[0]}, {s.out_pos[1]}] = {s.expression}"))
    return walk


def _check_upstream(image, kernel_shape, upstream, op):
    oh, ow = image.shape[0] - kernel_shape[0] + 1, image.shape[1] - kernel_shape[1] + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{op}: the {kernel_shape[0]}x{kernel_shape[1]} kernel is larger than the "
                         f"{image.shape[0]}x{image.shape[1]} image")
    if upstream.shape != (oh, ow):
        raise ValueError(f"{op}: upstream gradient must have the output's shape ({oh}, {ow}), "
                         f"got {upstream.shape}")


def conv_weight_steps(image, upstream) -> BackwardWalk:
    """``∂L/∂W`` of a stride-1, unpadded convolution: the input correlated with ``∂L/∂Y``.

    Args:
        image: the layer's input X, shape (H, W).
        upstream: ∂L/∂Y, shape (H - kh + 1, W - kw + 1); the kernel shape follows from it.

    Shape:
        result ``(H - oh + 1, W - ow + 1)`` = the kernel's shape.
    """
    image, upstream = as_matrix(image, "conv backward: image"), as_matrix(upstream, "conv backward: upstream")
    kernel_shape = (image.shape[0] - upstream.shape[0] + 1, image.shape[1] - upstream.shape[1] + 1)
    if min(kernel_shape) < 1:
        raise ValueError(f"conv backward: upstream gradient {upstream.shape} is larger than the image {image.shape}")
    return _correlation_walk("conv-weight", "∂L/∂W: the input X correlated with the upstream gradient ∂L/∂Y",
                             "∂L/∂W", image, "Input X", upstream, "∂L/∂Y (slides)", 0)


def conv_input_steps(kernel, upstream) -> BackwardWalk:
    """``∂L/∂X`` of a stride-1, unpadded convolution: the "full" convolution of ``∂L/∂Y`` with ``W``.

    ``∂L/∂Y`` is zero-padded by ``k - 1`` on each side and correlated with the kernel rotated by
    180°, so every input pixel collects ``W[a, b] · G[i, j]`` from each output it fed.

    Shape:
        result ``(oh + kh - 1, ow + kw - 1)`` = the input's shape.
    """
    kernel, upstream = as_matrix(kernel, "conv backward: kernel"), as_matrix(upstream, "conv backward: upstream")
    if kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"conv backward: a square kernel is needed for the full convolution frames, got {kernel.shape}")
    flipped = kernel[::-1, ::-1].copy()
    walk = _correlation_walk("conv-input", "∂L/∂X: the 'full' convolution of ∂L/∂Y with the flipped kernel",
                             "∂L/∂X", upstream, f"∂L/∂Y (zero padding {kernel.shape[0] - 1})",
                             flipped, "W flipped 180°", kernel.shape[0] - 1)
    return walk


def conv_backward_steps(image, kernel, upstream) -> list[BackwardWalk]:
    """Both walks of a convolution's backward pass: ``∂L/∂W`` then ``∂L/∂X`` (``∂L/∂b = ΣG``)."""
    image, kernel = as_matrix(image, "conv backward: image"), as_matrix(kernel, "conv backward: kernel")
    upstream = as_matrix(upstream, "conv backward: upstream")
    _check_upstream(image, kernel.shape, upstream, "conv backward")
    return [conv_weight_steps(image, upstream), conv_input_steps(kernel, upstream)]


def max_pool_backward_steps(image, upstream, kernel_size: int = 2, stride: int | None = None) -> BackwardWalk:
    """Max pooling's backward pass: each window's gradient goes to its winner.

    The winner is the first maximum in row-major order (as torch picks it); where windows
    overlap, the gradients a pixel wins add up.

    Args:
        image: the pooling's input, (H, W).
        upstream: ∂L/∂Y, shape ``(⌊(H - k) / s⌋ + 1, ⌊(W - k) / s⌋ + 1)``.
        kernel_size, stride: the window and its step (stride defaults to ``kernel_size``).
    """
    image, upstream = as_matrix(image, "max-pool backward: image"), as_matrix(upstream, "max-pool backward: upstream")
    k, s = kernel_size, kernel_size if stride is None else stride
    if k < 1 or s < 1 or k > min(image.shape):
        raise ValueError(f"max-pool backward: need 1 <= kernel_size <= {min(image.shape)} and stride >= 1, "
                         f"got kernel_size={k}, stride={s}")
    shape = ((image.shape[0] - k) // s + 1, (image.shape[1] - k) // s + 1)
    if upstream.shape != shape:
        raise ValueError(f"max-pool backward: upstream gradient must have the output's shape {shape}, got {upstream.shape}")
    walk = BackwardWalk("max-pool", f"Max pooling backward, {k}x{k} window, stride {s}: the gradient goes to "
                                    "each window's maximum", "∂L/∂X")
    grad = np.zeros_like(image)
    reached = np.zeros(image.shape, dtype=bool)
    for i in range(shape[0]):
        for j in range(shape[1]):
            r, c = i * s, j * s
            window = image[r:r + k, c:c + k]
            a, b = np.unravel_index(np.argmax(window), window.shape)  # first max, row-major
            routed = np.zeros_like(window)
            routed[a, b] = upstream[i, j]
            grad[r + a, c + b] += upstream[i, j]
            reached[r:r + k, c:c + k] = True
            vals = ", ".join(fmt(v) for v in window.ravel())
            walk.steps.append(BackwardStep(
                panels=(Panel("Input X", image, (r, c, k, k)), Panel("∂L/∂Y", upstream, (i, j, 1, 1)),
                        Panel("Routed", routed)),
                # After the last window, pixels no window covered show their gradient, 0.
                result=grad.copy() if (i, j) == (shape[0] - 1, shape[1] - 1) else np.where(reached, grad, np.nan),
                written=((r + a, c + b),),
                expression=f"max({vals}) is X[{r + a}, {c + b}] = {fmt(window[a, b])}: "
                           f"∂L/∂X[{r + a}, {c + b}] += ∂L/∂Y[{i}, {j}] = {fmt(upstream[i, j])}, "
                           f"the other {window.size - 1} get 0"))
    return walk


def relu_backward_steps(image, upstream) -> BackwardWalk:
    """ReLU's backward pass, pixel by pixel: ``∂L/∂X = ∂L/∂Y · [x > 0]`` (0 at x = 0, as torch)."""
    image, upstream = as_matrix(image, "relu backward: image"), as_matrix(upstream, "relu backward: upstream")
    if upstream.shape != image.shape:
        raise ValueError(f"relu backward: upstream gradient must have the input's shape {image.shape}, got {upstream.shape}")
    mask = (image > 0).astype(np.float64)
    walk = BackwardWalk("relu", "ReLU backward: the gradient passes where x > 0 (the mask)", "∂L/∂X")
    grad = np.full(image.shape, np.nan)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            grad[i, j] = upstream[i, j] * mask[i, j]
            walk.steps.append(BackwardStep(
                panels=(Panel("Input X", image, (i, j, 1, 1)), Panel("Mask [x > 0]", mask, (i, j, 1, 1)),
                        Panel("∂L/∂Y", upstream, (i, j, 1, 1))),
                result=grad.copy(), written=((i, j),),
                expression=f"x = {fmt(image[i, j])} {'> 0: passes' if mask[i, j] else '<= 0: blocked'}; "
                           f"∂L/∂X[{i}, {j}] = {fmt(upstream[i, j])} × {fmt(mask[i, j])} = {fmt(grad[i, j])}"))
    return walk


def example_walks(name: str) -> list[BackwardWalk]:
    """The walks of one named example (``lecture``, ``edge``, ``pool`` or ``relu``)."""
    if name not in EXAMPLES:
        raise ValueError(f"explain-backward: example must be one of {', '.join(EXAMPLES)}, got {name!r}")
    ex = EXAMPLES[name]
    if ex["op"] == "conv":
        return conv_backward_steps(ex["image"], ex["kernel"], ex["upstream"])
    if ex["op"] == "max-pool":
        return [max_pool_backward_steps(ex["image"], ex["upstream"], ex["kernel_size"], ex["stride"])]
    return [relu_backward_steps(ex["image"], ex["upstream"])]
