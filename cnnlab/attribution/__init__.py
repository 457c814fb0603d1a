"""Why did the model decide? Attribution maps of a classifier's decision, exact to Captum 0.9.

Every function takes a cnnlab classifier, a batch ``x`` of shape (N, C, H, W) and ``target``
(an int, or one class index per sample), returns a Tensor without grad, and leaves the model
as it was (mode, parameter gradients, ``requires_grad``, hooks).

- ``saliency``, ``input_x_gradient``, ``integrated_gradients``, ``smoothgrad``: from the
  gradient of the target's logit with respect to the pixels (``gradients.py``);
- ``grad_cam``: a convolutional layer's evidence for the class, and ``upsample`` to lay it
  over the input (``cam.py``);
- ``occlusion``: from the logit's drop when a window of the input is hidden (``occlusion.py``).
"""

from .gradients import gauss_legendre, input_x_gradient, integrated_gradients, saliency, smoothgrad
from .cam import grad_cam, upsample
from .occlusion import occlusion

__all__ = ["saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "occlusion", "grad_cam",
           "upsample", "gauss_legendre"]
