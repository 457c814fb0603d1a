"""``cnnlab.return_types``: the (values, indices) pairs that max, min, sort and topk return.

Named tuples, so ``values, indices = x.max(1)`` and ``x.max(1).values`` both work; they print
as PyTorch's ``torch.return_types.max(values=..., indices=...)`` do.
"""

from __future__ import annotations

from collections import namedtuple


def _pair(name: str):
    base = namedtuple(name, ["values", "indices"])

    def __repr__(self) -> str:
        return f"cnnlab.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__repr__": __repr__, "__slots__": (), "__module__": __name__})


max = _pair("max")  # noqa: A001  (PyTorch's names)
min = _pair("min")  # noqa: A001
sort = _pair("sort")
topk = _pair("topk")
