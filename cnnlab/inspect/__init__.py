"""``cnnlab.inspect``: the one way to look inside a model, which every viewer stands on.

- :func:`trace` runs a model once (forward, and backward when asked) and returns every layer
  call in execution order: name, module, kind, input and output arrays, parameters, and with
  ``grads=True`` the gradients of a target with respect to each of them.
  :func:`forward` gives only the output of a batch (eval mode, the model left as it was).
- :func:`probabilities`, :func:`top_k`, :func:`softmax_steps`: from outputs to class
  probabilities, with the engine's own softmax (the only softmax outside the engine).
- :class:`RunInfo`: what a checkpoint or run directory says about its model (the only reader
  of the checkpoint's metadata keys); :func:`load_run` gives the model with it.
- :func:`to_model_input`: the only converter from a file, PIL image, array or dataset sample to
  the model's input, with today's safety checks and a record of each step.

The summary (``cnnlab.summarize``), the figures (``cnnlab.viz``), the explainer
(``cnnlab.explain``) and ``cnnlab predict`` render what these return; none of them attaches
hooks, computes a softmax or reads checkpoint keys of its own.

Example:
    >>> from cnnlab import inspect
    >>> model, info = inspect.load_run("runs/latest")
    >>> x = inspect.to_model_input("boot.png", info)
    >>> t = inspect.trace(model, x.array[None], grads=True, target=9)
    >>> inspect.top_k(inspect.probabilities(t.output)[0], 3)
"""

from .images import (HIGH_DEPTH_MODES, MAX_ASPECT_CHANGE, ImageRefused, ModelInput, check_bit_depth, open_image,
                     to_model_input)
from .outputs import OUTPUT_KINDS, SoftmaxSteps, output_kind_of, probabilities, softmax_steps, top_k
from .run_info import RunInfo, load_run, resolve_checkpoint
from .trace import LayerTrace, Trace, forward, trace, evaluating

__all__ = [
    "trace", "forward", "Trace", "LayerTrace", "evaluating",
    "probabilities", "top_k", "softmax_steps", "SoftmaxSteps", "output_kind_of", "OUTPUT_KINDS",
    "RunInfo", "load_run", "resolve_checkpoint",
    "to_model_input", "ModelInput", "ImageRefused", "open_image", "check_bit_depth", "MAX_ASPECT_CHANGE", "HIGH_DEPTH_MODES",
]
