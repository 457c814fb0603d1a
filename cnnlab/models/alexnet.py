"""AlexNet: the lecture's table (96-256-384-384-256, LRN) and torchvision's variant.

Two networks share the name:

- ``AlexNet`` follows Krizhevsky et al. (2012) and the lecture's table: a 227×227×3
  input, conv1 96@11×11 stride 4, local response normalisation after conv1 and conv2,
  overlapping 3×3/2 max pooling, and three fully connected layers with dropout.
  ``groups=2`` reproduces the two-GPU split: conv2, conv4 and conv5 see only the half of
  the channels that lives on their GPU (conv3 and the FC layers cross over), which brings
  the count from 62,378,344 to 60,965,224 parameters.
- ``AlexNetTorchvision`` is the 64-192-384-256-256 "one weird trick" variant that
  torchvision ships, with adaptive average pooling to 6×6; its state_dict keys equal
  torchvision's (``features.0.weight`` … ``classifier.6.bias``), so its weights load.
"""

from __future__ import annotations

from .. import nn
from .._functions import flatten


class AlexNet(nn.Module):
    """The lecture's AlexNet (62,378,344 parameters; 60,965,224 with ``groups=2``).

    Args:
        num_classes: outputs of the last layer (default 1000).
        groups: 1 for one device, 2 for the original two-GPU split (default 1).
        dropout: dropout probability before fc6 and fc7 (default 0.5).
        lrn: local response normalisation after conv1 and conv2 (default True;
            size 5, α 1e-4, β 0.75, k 2 as in the paper).

    Shape:
        - Input: (N, 3, 227, 227)
        - Features: 96×55×55 → 96×27×27 → 256×27×27 → 256×13×13 → 384×13×13 → 384×13×13
          → 256×13×13 → 256×6×6 = 9216
        - Output: (N, num_classes)

    Example:
        >>> net = AlexNet()
        >>> sum(p.numel() for p in net.parameters())
        62378344
    """

    def __init__(self, num_classes: int = 1000, groups: int = 1, dropout: float = 0.5, lrn: bool = True):
        super().__init__()
        if groups not in (1, 2):
            raise ValueError(f"AlexNet: `groups` must be 1 (one GPU) or 2 (the paper's two GPUs), got {groups!r}")
        self.groups = groups

        def norm():
            return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0) if lrn else nn.Identity()

        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),                     # conv1: 55×55×96
            nn.ReLU(inplace=True),
            norm(),
            nn.MaxPool2d(kernel_size=3, stride=2),                          # pool1: 27×27×96
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=groups),    # conv2: 27×27×256
            nn.ReLU(inplace=True),
            norm(),
            nn.MaxPool2d(kernel_size=3, stride=2),                          # pool2: 13×13×256
            nn.Conv2d(256, 384, kernel_size=3, padding=1),                  # conv3 (crosses GPUs)
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=groups),   # conv4
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=groups),   # conv5: 13×13×256
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                          # pool5: 6×6×256
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),                                   # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),                                          # fc7
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),                                   # fc8 (softmax is in the loss)
        )

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2] < 63 or x.shape[3] < 63:
            raise ValueError(f"AlexNet: expected input of shape (N, 3, 227, 227), got {tuple(x.shape)}")
        x = self.flatten(self.features(x))
        if x.shape[1] != 9216:
            raise ValueError(
                f"AlexNet: expected 227×227 images (6×6×256 = 9216 features after pool5), got {x.shape[1]} features"
            )
        return self.classifier(x)


class AlexNetTorchvision(nn.Module):
    """torchvision's AlexNet (61,100,840 parameters), with torchvision's state_dict keys.

    Args:
        num_classes: outputs of the last layer (default 1000).
        dropout: dropout probability in the classifier (default 0.5).

    Shape:
        - Input: (N, 3, H, W), usually 224×224 (adaptive pooling accepts H, W ≥ 63)
        - Output: (N, num_classes)

    Example:
        >>> net = AlexNetTorchvision()
        >>> list(net.state_dict())[:2]
        ['features.0.weight', 'features.0.bias']
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"AlexNetTorchvision: expected input of shape (N, 3, 224, 224), got {tuple(x.shape)}")
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


def alexnet(num_classes: int = 1000, groups: int = 1, dropout: float = 0.5, lrn: bool = True) -> AlexNet:
    """Build the lecture's AlexNet; see ``AlexNet``."""
    return AlexNet(num_classes, groups, dropout, lrn)


def alexnet_torchvision(num_classes: int = 1000, dropout: float = 0.5) -> AlexNetTorchvision:
    """Build torchvision's AlexNet variant; see ``AlexNetTorchvision``."""
    return AlexNetTorchvision(num_classes, dropout)
