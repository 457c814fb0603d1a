"""Trigonometric and hyperbolic element-wise ops: sin, cos, sinh, cosh.

d/dx sin = cos, d/dx cos = -sin, d/dx sinh = cosh, d/dx cosh = sinh.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Sin(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return np.sin(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad * np.cos(a)


class Cos(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return np.cos(a)

    def backward(self, grad):
        (a,) = self.saved
        return -grad * np.sin(a)


class Sinh(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return np.sinh(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad * np.cosh(a)


class Cosh(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return np.cosh(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad * np.sinh(a)
