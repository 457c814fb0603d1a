"""``cnnlab.backends``: PyTorch's backend switches, answered as a CPU-only build answers them.

``cnnlab.backends.cudnn.benchmark = True`` and friends may be set (ported training scripts do);
they change nothing, as on a machine without cuDNN.
"""

from . import cudnn, mps  # noqa: F401
