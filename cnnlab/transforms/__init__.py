"""Image transforms with torchvision's names and semantics: ``cnnlab.transforms``.

Example:
    >>> from cnnlab import transforms as T
    >>> tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
    ...                 T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))])

``ToTensor``, ``Normalize``, ``RandomCrop`` and ``RandomHorizontalFlip`` also have a batch
form used by the array-backed datasets, so a DataLoader transforms a whole batch at once.
``challenges`` holds the lecture's challenges (rotation, elastic deformation, clutter, ...) as
functions on one image, and ``RandomChallenges`` draws them for training-time augmentation.
"""

from . import challenges
from .augment import RandomChallenges
from .compose import Compose, Lambda, is_batchable
from .geometric import CenterCrop, RandomCrop, RandomHorizontalFlip, Resize
from .tensor import Normalize, ToTensor

__all__ = [
    "CenterCrop", "Compose", "Lambda", "Normalize", "RandomChallenges", "RandomCrop", "RandomHorizontalFlip",
    "Resize", "ToTensor", "challenges", "is_batchable",
]
