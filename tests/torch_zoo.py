"""The zoo's architectures written independently in torch, for tests/models/test_models.py and tests/summarize/test_summary.py."""

from __future__ import annotations

from collections import OrderedDict

import torch.nn as tnn


def mlp(sizes):
    layers = [tnn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(tnn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(tnn.ReLU())
    return tnn.Sequential(*layers)


class MnistCNN(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1))
        self.conv2 = tnn.Conv2d(16, 24, kernel_size=(5, 5), stride=(1, 1))
        self.relu, self.pool, self.flatten = tnn.ReLU(), tnn.MaxPool2d(2, 2), tnn.Flatten()
        self.fc1 = tnn.Linear(384, 64)
        self.fc2 = tnn.Linear(64, 10)
        self.dropout = tnn.Dropout(0.5)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.dropout(self.relu(self.fc1(self.flatten(x))))
        return self.fc2(x)


class AlexNet(tnn.Module):
    """Krizhevsky et al. 2012 as in the lecture's table; groups=2 for the two-GPU split."""

    def __init__(self, groups=1):
        super().__init__()
        lrn = lambda: tnn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)  # noqa: E731
        self.features = tnn.Sequential(
            tnn.Conv2d(3, 96, 11, 4), tnn.ReLU(), lrn(), tnn.MaxPool2d(3, 2),
            tnn.Conv2d(96, 256, 5, padding=2, groups=groups), tnn.ReLU(), lrn(), tnn.MaxPool2d(3, 2),
            tnn.Conv2d(256, 384, 3, padding=1), tnn.ReLU(),
            tnn.Conv2d(384, 384, 3, padding=1, groups=groups), tnn.ReLU(),
            tnn.Conv2d(384, 256, 3, padding=1, groups=groups), tnn.ReLU(), tnn.MaxPool2d(3, 2),
        )
        self.flatten = tnn.Flatten()
        self.classifier = tnn.Sequential(
            tnn.Dropout(0.5), tnn.Linear(9216, 4096), tnn.ReLU(), tnn.Dropout(0.5),
            tnn.Linear(4096, 4096), tnn.ReLU(), tnn.Linear(4096, 1000),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


class AlexNetTorchvision(tnn.Module):
    """torchvision.models.alexnet, copied from torchvision 0.x (torchvision is not installed here)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), tnn.ReLU(inplace=True),
            tnn.MaxPool2d(kernel_size=3, stride=2),
            tnn.Conv2d(64, 192, kernel_size=5, padding=2), tnn.ReLU(inplace=True),
            tnn.MaxPool2d(kernel_size=3, stride=2),
            tnn.Conv2d(192, 384, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
            tnn.Conv2d(384, 256, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
            tnn.Conv2d(256, 256, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
            tnn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = tnn.AdaptiveAvgPool2d((6, 6))
        self.classifier = tnn.Sequential(
            tnn.Dropout(p=0.5), tnn.Linear(256 * 6 * 6, 4096), tnn.ReLU(inplace=True),
            tnn.Dropout(p=0.5), tnn.Linear(4096, 4096), tnn.ReLU(inplace=True),
            tnn.Linear(4096, num_classes),
        )

    def forward(self, x):
        import torch

        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TinyVGG(tnn.Module):
    def __init__(self):
        super().__init__()
        c = lambda i: tnn.Conv2d(i, 10, 3)  # noqa: E731
        self.block_1 = tnn.Sequential(OrderedDict(conv_1_1=c(3), relu_1_1=tnn.ReLU(), conv_1_2=c(10),
                                                  relu_1_2=tnn.ReLU(), max_pool_1=tnn.MaxPool2d(2)))
        self.block_2 = tnn.Sequential(OrderedDict(conv_2_1=c(10), relu_2_1=tnn.ReLU(), conv_2_2=c(10),
                                                  relu_2_2=tnn.ReLU(), max_pool_2=tnn.MaxPool2d(2)))
        self.flatten = tnn.Flatten()
        self.output = tnn.Linear(1690, 10)

    def forward(self, x):
        return self.output(self.flatten(self.block_2(self.block_1(x))))


class LeNet5(tnn.Module):
    def __init__(self):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.Tanh(), tnn.AvgPool2d(2, 2),
                                       tnn.Conv2d(6, 16, 5), tnn.Tanh(), tnn.AvgPool2d(2, 2))
        self.flatten = tnn.Flatten()
        self.classifier = tnn.Sequential(tnn.Linear(400, 120), tnn.Tanh(), tnn.Linear(120, 84), tnn.Tanh(),
                                         tnn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


class CifarCNN(tnn.Module):
    def __init__(self, w=32):
        super().__init__()
        layers = []
        for cin, cout in ((3, w), (w, 2 * w), (2 * w, 4 * w)):
            for c in (cin, cout):
                layers += [tnn.Conv2d(c, cout, 3, padding=1, bias=False), tnn.BatchNorm2d(cout), tnn.ReLU()]
            layers += [tnn.MaxPool2d(2), tnn.Dropout(0.1)]
        self.features = tnn.Sequential(*layers)
        self.pool, self.flatten = tnn.AdaptiveAvgPool2d(1), tnn.Flatten()
        self.classifier = tnn.Linear(4 * w, 10)

    def forward(self, x):
        return self.classifier(self.flatten(self.pool(self.features(x))))


# registry name -> (torch constructor, one sample's input shape)
TORCH_ZOO = {
    "boston-mlp": (lambda: mlp([13, 8, 6, 1]), (13,)),
    "iris-mlp": (lambda: mlp([4, 25, 15, 3]), (4,)),
    "mnist-mlp": (lambda: mlp([784, 128, 64, 10]), (1, 28, 28)),
    "mnist-cnn": (MnistCNN, (1, 28, 28)),
    "alexnet": (AlexNet, (3, 227, 227)),
    "alexnet-2gpu": (lambda: AlexNet(groups=2), (3, 227, 227)),
    "alexnet-torchvision": (AlexNetTorchvision, (3, 224, 224)),
    "tinyvgg": (TinyVGG, (3, 64, 64)),
    "lenet5": (LeNet5, (1, 28, 28)),
    "cifar-cnn": (CifarCNN, (3, 32, 32)),
}
