"""From a checkpoint and an image name to the model and one input, for the CLI's figures.

``show-features`` and ``shift-test`` take a Module and an array; this module is the glue
that loads a checkpoint (file or run directory) with its :class:`~cnnlab.inspect.RunInfo`
(input geometry, normalisation, classes) and turns a file, a sample photo or ``test:N`` into
that input with :func:`~cnnlab.inspect.to_model_input`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..inspect import RunInfo, load_run, to_model_input


@dataclass
class LoadedModel:
    """A model with what is needed to feed it: its :class:`~cnnlab.inspect.RunInfo`."""

    model: object
    info: RunInfo

    @property
    def name(self) -> str:
        return self.info.model or self.info.model_class or type(self.model).__name__

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the model's input images."""
        return self.info.image_shape

    @property
    def classes(self) -> list[str] | None:
        return None if self.info.classes is None else list(self.info.classes)

    @property
    def dataset(self) -> str | None:
        return self.info.dataset

    def normalize(self, image: np.ndarray) -> np.ndarray:
        """uint8 (H, W) or (H, W, 3) → float32 (C, H, W), as the training data was prepared."""
        return to_model_input(image, self.info).array

    @property
    def fill(self) -> np.ndarray:
        """The model-input value of a black pixel, per channel (what a shift brings in)."""
        c, h, w = self.image_shape
        black = np.zeros((h, w) if c == 1 else (h, w, 3), np.uint8)
        return self.normalize(black)[:, 0, 0].copy()

    def class_name(self, k: int) -> str:
        classes = self.classes
        return classes[k] if classes and k < len(classes) else str(k)


def load_model(path: str) -> LoadedModel:
    """Load a checkpoint file or run directory with its preprocessing metadata."""
    model, info = load_run(path)
    loaded = LoadedModel(model, info)
    if info.image_shape is None:
        raise ValueError(f"checkpoint {path!r} holds {loaded.name}, a model of tabular data (input "
                         f"{list(info.input_shape or ())}); the image figures need an image model")
    return loaded


def load_input(source: str, loaded: LoadedModel, invert: bool = False,
               data_root=None) -> tuple[np.ndarray, int | None]:
    """``(uint8 image, label or None)`` for the model from ``source``.

    ``source`` is ``test:N`` (image N of the checkpoint's dataset, test split), a sample photo
    name (``camera``...; centre-cropped to the model's aspect ratio) or an image file (converted
    only when that is safe; see :func:`~cnnlab.inspect.to_model_input`). ``data_root`` is where the
    test split's files are (a run's ``--data-root``; needed for ``imagefolder``).
    """
    from .images import SAMPLE_IMAGES, sample_image

    name = source[7:] if source.startswith("sample:") else source
    image = source
    fit = "refuse"
    if not os.path.exists(source) and name in SAMPLE_IMAGES:
        image, fit = sample_image(name), "crop"
    mi = to_model_input(image, loaded.info, invert=invert, fit=fit, name=source, data_root=data_root)
    return mi.image, mi.label
