"""The lecture's models: a registry of named constructors (``cnnlab.models``).

Example:
    >>> from cnnlab import models
    >>> net = models.create("mnist-cnn")
    >>> models.spec("alexnet").input_shape
    (3, 227, 227)
    >>> "tinyvgg" in models.available()
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from .alexnet import AlexNet, AlexNetTorchvision, alexnet, alexnet_torchvision
from .cifar_cnn import CifarCNN, cifar_cnn
from .lenet import LeNet5, lenet5
from .mlp import MLP, boston_mlp, iris_mlp, mlp, mnist_mlp
from .mnist_cnn import MNISTCNN, mnist_cnn
from .tinyvgg import TinyVGG, tinyvgg

__all__ = [
    "ModelSpec", "available", "create", "spec", "register",
    "MLP", "MNISTCNN", "AlexNet", "AlexNetTorchvision", "LeNet5", "TinyVGG", "CifarCNN",
    "mlp", "boston_mlp", "iris_mlp", "mnist_mlp", "mnist_cnn", "alexnet", "alexnet_torchvision",
    "lenet5", "tinyvgg", "cifar_cnn",
]


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about a model.

    Attributes:
        name: registry name (``"mnist-cnn"``).
        constructor: callable building the model from keyword arguments.
        input_shape: one sample's shape, (C, H, W) for images or (features,) for tables.
        num_outputs: outputs of the default model (classes, or 1 for a regressor).
        task: ``"classification"`` or ``"regression"``.
        description: one line for listings.
    """

    name: str
    constructor: Callable
    input_shape: tuple
    num_outputs: int
    task: str
    description: str


_REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, constructor: Callable, input_shape: tuple, num_outputs: int,
             task: str = "classification", description: str = "") -> ModelSpec:
    """Add a model to the registry (used for the built-ins; others may add theirs)."""
    if task not in ("classification", "regression"):
        raise ValueError(f"models.register: `task` must be 'classification' or 'regression', got {task!r}")
    entry = ModelSpec(name, constructor, tuple(input_shape), int(num_outputs), task, description)
    _REGISTRY[name] = entry
    return entry


def available() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_REGISTRY)


def spec(name: str) -> ModelSpec:
    """The ``ModelSpec`` of a registered model; unknown names raise ValueError listing the valid ones."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(available())}") from None


def create(name: str, **kwargs):
    """Build a registered model: ``create("alexnet", groups=2)``.

    Raises:
        ValueError: for an unknown name (listing the valid names) or an unknown keyword.
    """
    entry = spec(name)
    try:
        return entry.constructor(**kwargs)
    except TypeError as e:
        if "unexpected keyword" in str(e) or "positional argument" in str(e):
            raise ValueError(f"model {name!r}: {e}") from None
        raise


register("mlp", mlp, (784,), 10, description="generic MLP, mlp(sizes=[in, hidden..., out]); default 784-128-64-10")
register("boston-mlp", boston_mlp, (13,), 1, "regression", "Boston housing regressor 13-8-6-1 (lecture)")
register("iris-mlp", iris_mlp, (4,), 3, description="Iris classifier 4-25-15-3 (lecture)")
register("mnist-mlp", mnist_mlp, (1, 28, 28), 10,
         description="MNIST MLP 784-128-64-10, flattens 1x28x28 input (lecture, 109,386 params)")
register("mnist-cnn", mnist_cnn, (1, 28, 28), 10, description="the lecture's MNIST CNN (35,330 params)")
register("alexnet", alexnet, (3, 227, 227), 1000,
         description="AlexNet as in the lecture's table, LRN, 62,378,344 params; groups=2 for two GPUs")
register("alexnet-2gpu", partial(alexnet, groups=2), (3, 227, 227), 1000,
         description="AlexNet with the original two-GPU grouped conv2/4/5 (60,965,224 params)")
register("alexnet-torchvision", alexnet_torchvision, (3, 224, 224), 1000,
         description="torchvision's AlexNet (64-192-384-256-256), same state_dict keys")
register("lenet5", lenet5, (1, 28, 28), 10, description="LeNet-5 (tanh, average pooling), 61,706 params")
register("tinyvgg", tinyvgg, (3, 64, 64), 10, description="CNN Explainer's TinyVGG, 64x64x3 input (19,920 params)")
register("cifar-cnn", cifar_cnn, (3, 32, 32), 10,
         description="small VGG-style CNN with BatchNorm for CIFAR-10 (288,746 params)")
