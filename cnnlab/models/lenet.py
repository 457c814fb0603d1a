"""LeNet-5 (LeCun et al., 1998) for 28×28 digits."""

from __future__ import annotations

from .. import nn

_ACT = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


class LeNet5(nn.Module):
    """LeNet-5: conv 6@5×5, pool, conv 16@5×5, pool, fc 120, fc 84, fc 10 (61,706 parameters).

    The paper feeds 32×32 images (MNIST digits padded by 2). Here conv1 pads by 2 instead,
    which is the same computation on 28×28 inputs; pass ``padding=0`` for 32×32 inputs.
    The paper's sparse C3 connection table and RBF output layer are replaced by a full
    convolution and a linear layer, as in every modern re-implementation.

    Args:
        num_classes: outputs (default 10).
        in_channels: input channels (default 1).
        activation: tanh (the paper's), relu or sigmoid (default tanh).
        pool: "avg" (the paper's subsampling) or "max" (default avg).
        padding: conv1 padding, 2 for 28×28 inputs, 0 for 32×32 (default 2).

    Shape:
        - Input: (N, 1, 28, 28) → 6×28×28 → 6×14×14 → 16×10×10 → 16×5×5 → 400 → 120 → 84
        - Output: (N, num_classes)

    Example:
        >>> LeNet5()(cnnlab.randn(2, 1, 28, 28)).shape
        cnnlab.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "tanh",
                 pool: str = "avg", padding: int = 2):
        super().__init__()
        if activation not in _ACT:
            raise ValueError(f"LeNet5: unknown activation {activation!r}; valid: {', '.join(_ACT)}")
        if pool not in ("avg", "max"):
            raise ValueError(f"LeNet5: `pool` must be 'avg' or 'max', got {pool!r}")
        act, Pool = _ACT[activation], (nn.AvgPool2d if pool == "avg" else nn.MaxPool2d)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), act(), Pool(2, 2),
            nn.Conv2d(6, 16, kernel_size=5), act(), Pool(2, 2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        x = self.flatten(self.features(x))
        if x.shape[1] != 400:
            raise ValueError(
                f"LeNet5: expected 28×28 inputs with padding=2 or 32×32 with padding=0 (400 features), got {x.shape[1]}"
            )
        return self.classifier(x)


def lenet5(num_classes: int = 10, in_channels: int = 1, activation: str = "tanh", pool: str = "avg",
           padding: int = 2) -> LeNet5:
    """Build LeNet-5; see ``LeNet5``."""
    return LeNet5(num_classes, in_channels, activation, pool, padding)
