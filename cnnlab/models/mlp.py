"""Multi-layer perceptrons: the generic ``MLP`` and the lecture's three named ones."""

from __future__ import annotations

from .. import nn

_ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "tanh": lambda: nn.Tanh(),
    "sigmoid": lambda: nn.Sigmoid(),
    "leaky_relu": lambda: nn.LeakyReLU(),
    "elu": lambda: nn.ELU(),
}


class MLP(nn.Sequential):
    """Fully connected network ``sizes[0] → sizes[1] → … → sizes[-1]``.

    The input is flattened first, so an (N, 1, 28, 28) image batch goes straight into a
    784-wide MLP. The activation follows every linear layer except the last (the logits).

    Args:
        sizes: layer widths, input first, at least two entries (default 784-128-64-10).
        activation: one of relu, tanh, sigmoid, leaky_relu, elu (default relu).
        dropout: dropout probability after each hidden activation (default 0: none).

    Shape:
        - Input: (N, *) with ∏ * = sizes[0]
        - Output: (N, sizes[-1])

    Parameters: Σᵢ sizes[i]·sizes[i+1] + sizes[i+1]; 784-128-64-10 has 109,386.

    Example:
        >>> net = MLP([4, 25, 15, 3])
        >>> net(cnnlab.randn(2, 4)).shape
        cnnlab.Size([2, 3])
    """

    def __init__(self, sizes=(784, 128, 64, 10), activation: str = "relu", dropout: float = 0.0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: `sizes` needs at least an input and an output width, all ≥ 1, got {sizes}")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; valid: {', '.join(sorted(_ACTIVATIONS))}"
            )
        layers = [nn.Flatten()]
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[activation]())
                if dropout:
                    layers.append(nn.Dropout(dropout))
        super().__init__(*layers)
        self.sizes = tuple(sizes)

    def forward(self, input):
        if input.ndim == 1:
            raise ValueError(f"MLP{self.sizes}: expected a batch (N, {self.sizes[0]}), got shape {tuple(input.shape)}")
        return super().forward(input)


def mlp(sizes=(784, 128, 64, 10), activation: str = "relu", dropout: float = 0.0) -> MLP:
    """Build any MLP; see ``MLP``."""
    return MLP(sizes, activation, dropout)


def boston_mlp(activation: str = "relu") -> MLP:
    """The lecture's Boston-housing regressor: 13-8-6-1 (173 parameters)."""
    return MLP((13, 8, 6, 1), activation)


def iris_mlp(activation: str = "relu") -> MLP:
    """The lecture's Iris classifier: 4-25-15-3 (563 parameters)."""
    return MLP((4, 25, 15, 3), activation)


def mnist_mlp(activation: str = "relu", num_classes: int = 10) -> MLP:
    """The lecture's MNIST/Fashion-MNIST MLP: 784-128-64-10 (109,386 parameters)."""
    return MLP((784, 128, 64, num_classes), activation)
