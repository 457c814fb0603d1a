"""Differentiable primitive ops of the Tensor engine, one ``Function`` subclass each.

Ops see NumPy arrays only; ``Function.apply`` (in ``cnnlab.autograd.function``) wraps them.
Layer ops (convolution, pooling, losses...) live in ``cnnlab.functional``.
"""
