"""TinyVGG: the network CNN Explainer (poloclub.github.io/cnn-explainer) visualises."""

from __future__ import annotations

from collections import OrderedDict

from .. import nn


class TinyVGG(nn.Module):
    """Two blocks of [conv 3×3 ×10, ReLU] ×2 + max pool 2, then a linear layer (19,920 parameters).

    Args:
        num_classes: outputs (default 10).
        in_channels: input channels (default 3).
        hidden: filters per conv (default 10).

    Shape:
        - Input: (N, 3, 64, 64) → 10×62×62 → 10×60×60 → 10×30×30 → 10×28×28 → 10×26×26
          → 10×13×13 = 1690
        - Output: (N, num_classes)

    Parameters: 3·3·3·10+10 = 280, three × (3·3·10·10+10 = 910), 1690·10+10 = 16,910.

    Example:
        >>> TinyVGG()(cnnlab.randn(1, 3, 64, 64)).shape
        cnnlab.Size([1, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, hidden: int = 10):
        super().__init__()
        self.block_1 = nn.Sequential(OrderedDict([
            ("conv_1_1", nn.Conv2d(in_channels, hidden, kernel_size=3)), ("relu_1_1", nn.ReLU()),
            ("conv_1_2", nn.Conv2d(hidden, hidden, kernel_size=3)), ("relu_1_2", nn.ReLU()),
            ("max_pool_1", nn.MaxPool2d(2)),
        ]))
        self.block_2 = nn.Sequential(OrderedDict([
            ("conv_2_1", nn.Conv2d(hidden, hidden, kernel_size=3)), ("relu_2_1", nn.ReLU()),
            ("conv_2_2", nn.Conv2d(hidden, hidden, kernel_size=3)), ("relu_2_2", nn.ReLU()),
            ("max_pool_2", nn.MaxPool2d(2)),
        ]))
        self.flatten = nn.Flatten()
        self.output = nn.Linear(hidden * 13 * 13, num_classes)

    def forward(self, x):
        x = self.flatten(self.block_2(self.block_1(x)))
        if x.shape[1] != self.output.in_features:
            raise ValueError(
                f"TinyVGG: expected 64×64 inputs ({self.output.in_features} features after block 2), got {x.shape[1]}"
            )
        return self.output(x)


def tinyvgg(num_classes: int = 10, in_channels: int = 3, hidden: int = 10) -> TinyVGG:
    """Build TinyVGG; see ``TinyVGG``."""
    return TinyVGG(num_classes, in_channels, hidden)
