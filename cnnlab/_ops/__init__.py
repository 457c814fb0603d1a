"""Every differentiable op of the engine, one ``Function`` subclass each, forward and backward
side by side.

Ops see NumPy arrays only; ``Function.apply`` (in ``cnnlab/autograd/function.py``) wraps
them into Tensors. Tensor primitives: ``arithmetic``, ``unary``, ``reduction``, ``shape``,
``indexing``, ``padding``. Layer ops: ``conv``, ``pooling``, ``activation``, ``loss``,
``normalization``, ``dropout``. ``cnnlab.functional`` checks arguments and calls these.

Layering: this package imports only ``cnnlab.autograd`` and NumPy (and its own modules), never
``cnnlab._tensor``, ``cnnlab.functional`` or ``cnnlab.nn`` (tests/test_architecture.py).
"""
