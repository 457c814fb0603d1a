"""Seeing what a CNN sees: the lecture's pictures, computed from real data and real models.

Pixels as numbers (:mod:`.pixels`), classic filters on photos (:mod:`.filters`), convolution,
pooling and ReLU step by step (:mod:`.stepper`, drawn by :mod:`.stepper_render`), learned
filters and feature maps (:mod:`.features`), activation functions (:mod:`.activations_plot`),
attribution maps (:mod:`.attribution`) and the shift test (:mod:`.shift`). Figures are drawn
with matplotlib's Agg canvas and animations with Pillow; both are imported only when a figure
is drawn.

Each ``*_figure`` function returns the matplotlib figure (it shows itself when a Jupyter cell
returns it; ``fig.savefig(path)`` writes it); the ``plot_*`` functions the CLI calls write the
same figure to a file.
"""

from .activations_plot import activation_curves, activations_figure
from .attribution import attribution_maps, attribution_mosaic
from .features import capture_feature_maps, features_figure, filters_figure
from .filters import KERNELS, apply_kernel, filtered_figure, parse_kernel, plot_filtered
from .images import SAMPLE_IMAGES, load_image, parse_crop, sample_image
from .pixels import format_matrix, pixel_channels, pixels_figure, plot_pixels
from .stepper import Step, Walkthrough, conv_steps, pool_steps, relu_steps
from .stepper_render import play, render_frame, save_gif

__all__ = [
    "KERNELS", "SAMPLE_IMAGES", "Step", "Walkthrough", "activation_curves", "activations_figure", "apply_kernel",
    "attribution_maps", "attribution_mosaic", "capture_feature_maps", "conv_steps", "features_figure",
    "filtered_figure", "filters_figure", "format_matrix", "load_image", "parse_crop", "parse_kernel",
    "pixel_channels", "pixels_figure", "play", "plot_filtered", "plot_pixels", "pool_steps", "relu_steps",
    "render_frame", "sample_image", "save_gif",
]
