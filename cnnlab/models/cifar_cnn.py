"""A small, strong CNN for 32×32×3 images (CIFAR-10)."""

from __future__ import annotations

from .. import nn


def _block(cin: int, cout: int, dropout: float) -> list:
    layers = []
    for c in (cin, cout):
        # bias=False: a BatchNorm right after the conv has its own shift, a conv bias would be redundant.
        layers += [nn.Conv2d(c, cout, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(2))
    if dropout:
        layers.append(nn.Dropout(dropout))
    return layers


class CifarCNN(nn.Module):
    """VGG-style CNN: 3 blocks of [conv 3×3 p1, BatchNorm, ReLU] ×2 + max pool, global average pool, linear.

    With ``width=32`` the widths are 32-64-128 and the model has 288,746 parameters: small
    enough to train on a CPU, with BatchNorm so that it trains fast at a high learning rate.

    Args:
        num_classes: outputs (default 10).
        width: channels of the first block, doubled per block (default 32).
        dropout: dropout after each block and before the classifier (default 0.1).

    Shape:
        - Input: (N, 3, 32, 32) → w×16×16 → 2w×8×8 → 4w×4×4 → 4w (global average) → num_classes
        - Output: (N, num_classes)

    Example:
        >>> CifarCNN()(cnnlab.randn(2, 3, 32, 32)).shape
        cnnlab.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, width: int = 32, dropout: float = 0.1, in_channels: int = 3):
        super().__init__()
        w = int(width)
        self.features = nn.Sequential(
            *_block(in_channels, w, dropout), *_block(w, 2 * w, dropout), *_block(2 * w, 4 * w, dropout)
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        return self.classifier(self.flatten(self.pool(self.features(x))))


def cifar_cnn(num_classes: int = 10, width: int = 32, dropout: float = 0.1, in_channels: int = 3) -> CifarCNN:
    """Build the CIFAR CNN; see ``CifarCNN``."""
    return CifarCNN(num_classes, width, dropout, in_channels)
