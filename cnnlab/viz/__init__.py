"""Seeing what a CNN sees: the lecture's pictures, computed from real data and real models.

Pixels as numbers (:mod:`.pixels`), classic filters on photos (:mod:`.filters`), convolution,
pooling and ReLU step by step (:mod:`.stepper`, drawn by :mod:`.stepper_render`), learned
filters and feature maps (:mod:`.features`), activation functions (:mod:`.activations_plot`)
and the shift test (:mod:`.shift`). Figures are drawn with matplotlib's Agg canvas and
animations with Pillow; both are imported only when a figure is drawn.
"""

from .filters import KERNELS, apply_kernel, parse_kernel, plot_filtered
from .images import SAMPLE_IMAGES, load_image, parse_crop, sample_image
from .pixels import format_matrix, pixel_channels, plot_pixels
from .stepper import Step, Walkthrough, conv_steps, pool_steps, relu_steps
from .stepper_render import play, render_frame, save_gif

__all__ = [
    "KERNELS", "SAMPLE_IMAGES", "Step", "Walkthrough", "apply_kernel", "conv_steps", "format_matrix",
    "load_image", "parse_crop", "parse_kernel", "pixel_channels", "play", "plot_filtered",
    "plot_pixels", "pool_steps", "relu_steps", "render_frame", "sample_image", "save_gif",
]
