"""``cnnlab.Size``: a tensor's shape, a tuple that prints as ``cnnlab.Size([2, 3])``."""

from __future__ import annotations


class Size(tuple):
    """The shape of a tensor (``x.shape``, ``x.size()``): a tuple of ints, equal to plain tuples.

    Example:
        >>> x = cnnlab.zeros(2, 3)
        >>> x.size(), x.size() == (2, 3), x.size().numel()
        (cnnlab.Size([2, 3]), True, 6)
    """

    def __new__(cls, dims=()):
        return super().__new__(cls, (int(d) for d in dims))

    def __repr__(self) -> str:
        return f"cnnlab.Size([{', '.join(str(d) for d in self)}])"

    __str__ = __repr__

    def __getitem__(self, index):
        if type(index) is int:  # the common case (shape[-1] on every layer call): kept short
            return tuple.__getitem__(self, index)
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    def __reduce__(self):
        return (Size, (tuple(self),))
