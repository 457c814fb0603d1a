import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

try:
    import torch  # noqa: E402

    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    torch = None


@pytest.fixture(autouse=True)
def _seed():
    import cnnlab

    cnnlab.manual_seed(0)
    if torch is not None:
        torch.manual_seed(0)
