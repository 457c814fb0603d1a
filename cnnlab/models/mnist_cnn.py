"""The lecture's MNIST CNN (35,330 parameters), with the lecture's layer names."""

from __future__ import annotations

from .. import nn


class MNISTCNN(nn.Module):
    """conv 1→16 k5, ReLU, max pool 2, conv 16→24 k5, ReLU, max pool 2, fc 384→64, ReLU,
    dropout 0.5, fc 64→10 — the lecture's network, attribute for attribute.

    Dimension flow: 1×28×28 → 16×24×24 → 16×12×12 → 24×8×8 → 24×4×4 → 384 → 64 → 10.

    Args:
        num_classes: outputs of the last layer (default 10).
        in_channels: input channels (default 1).
        dropout: dropout probability before fc2 (default 0.5).

    Shape:
        - Input: (N, 1, 28, 28)
        - Output: (N, 10)

    Parameters: conv1 5·5·1·16+16 = 416, conv2 5·5·16·24+24 = 9,624, fc1 384·64+64 = 24,640,
    fc2 64·10+10 = 650; total 35,330.

    Example:
        >>> net = MNISTCNN()
        >>> net(cnnlab.randn(2, 1, 28, 28)).shape
        cnnlab.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=(5, 5), stride=(1, 1))
        self.conv2 = nn.Conv2d(16, 24, kernel_size=(5, 5), stride=(1, 1))
        # Parameter-free layers are modules (not functional calls) so summaries and hooks see them.
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features=384, out_features=64, bias=True)
        self.fc2 = nn.Linear(in_features=64, out_features=num_classes, bias=True)
        self.dropout = nn.Dropout(p=dropout, inplace=False)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.flatten(x)
        if x.shape[1] != 384:
            raise ValueError(
                f"MNISTCNN: expected 1×28×28 images (384 features after conv2/pool), got {x.shape[1]} features"
            )
        x = self.dropout(self.relu(self.fc1(x)))
        return self.fc2(x)


def mnist_cnn(num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5) -> MNISTCNN:
    """Build the lecture's MNIST CNN; see ``MNISTCNN``."""
    return MNISTCNN(num_classes, in_channels, dropout)
