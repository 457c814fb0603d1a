"""From a checkpoint and an image name to the model and one input, for the CLI's figures.

``show-features`` and ``shift-test`` take a Module and an array; this module is the glue
that loads a checkpoint (file or run directory), finds the input geometry and normalisation
the model was trained with, and turns a file, a sample photo or ``test:N`` into that input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LoadedModel:
    """A model with what is needed to feed it: geometry, normalisation and class names."""

    model: object
    name: str
    image_shape: tuple[int, int, int]      # (C, H, W)
    mean: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))
    std: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))
    classes: list[str] | None = None
    dataset: str | None = None

    def normalize(self, image: np.ndarray) -> np.ndarray:
        """uint8 (H, W) or (H, W, 3) → float32 (C, H, W), as the training data was prepared."""
        x = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
        x = x.astype(np.float32) / np.float32(255)
        return ((x - self.mean.reshape(-1, 1, 1)) / self.std.reshape(-1, 1, 1)).astype(np.float32)

    @property
    def fill(self) -> np.ndarray:
        """The normalised value of a black pixel, per channel (what a shift brings in)."""
        return (-self.mean / self.std).astype(np.float32)

    def class_name(self, k: int) -> str:
        return self.classes[k] if self.classes and k < len(self.classes) else str(k)


def load_model(path: str) -> LoadedModel:
    """Load a checkpoint file or run directory with its preprocessing metadata."""
    from ..models import spec
    from ..train.session import load_run_model

    model, meta, extra = load_run_model(path)
    name = meta.get("model_name") or meta.get("model_class") or type(model).__name__
    pre = extra.get("preprocess") or {}
    shape = pre.get("image_shape") or extra.get("input_shape") or list(spec(name).input_shape)
    if len(shape) != 3:
        raise ValueError(f"checkpoint {path!r} holds {name}, a model of tabular data (input {shape}); "
                         "the image figures need an image model")
    c = int(shape[0])
    mean = np.asarray(pre.get("mean", [0.0] * c), np.float32)
    std = np.asarray(pre.get("std", [1.0] * c), np.float32)
    return LoadedModel(model, name, tuple(int(v) for v in shape), mean, std,
                       extra.get("classes"), extra.get("dataset"))


def _fit(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """A photo as the model's channels and size: centre-crop to its aspect ratio, then resize."""
    from PIL import Image

    c, h, w = shape
    img = Image.fromarray(image).convert("L" if c == 1 else "RGB")
    W, H = img.size
    if W * h > H * w:  # too wide
        cw = H * w // h
        img = img.crop(((W - cw) // 2, 0, (W - cw) // 2 + cw, H))
    elif W * h < H * w:
        ch = W * h // w
        img = img.crop((0, (H - ch) // 2, W, (H - ch) // 2 + ch))
    return np.asarray(img.resize((w, h), Image.Resampling.LANCZOS), dtype=np.uint8)


def load_input(source: str, loaded: LoadedModel, invert: bool = False,
               data_root=None) -> tuple[np.ndarray, int | None]:
    """``(uint8 image, label or None)`` for the model from ``source``.

    ``source`` is ``test:N`` (image N of the checkpoint's dataset, test split), a sample photo
    name (``camera``...) or an image file (converted with ``cnnlab.train.images.load_image``).
    ``data_root`` is where the test split's files are (a run's ``--data-root``; needed for
    ``imagefolder``).
    """
    from .images import SAMPLE_IMAGES, sample_image

    if source.startswith("test:"):
        from .. import datasets

        if not loaded.dataset:
            raise ValueError(f"{source!r}: the checkpoint does not record its dataset; give an image file")
        try:
            index = int(source[5:])
        except ValueError:
            raise ValueError(f"expected test:N with an integer N, got {source!r}") from None
        ds = datasets.create(loaded.dataset, root=data_root, train=False)
        if not 0 <= index < len(ds):
            raise ValueError(f"{source!r}: the {loaded.dataset} test split has images 0..{len(ds) - 1}")
        img = np.asarray(ds.data[index], dtype=np.uint8)
        return (255 - img if invert else img), int(ds.targets[index])
    name = source[7:] if source.startswith("sample:") else source
    import os

    if not os.path.exists(source) and name in SAMPLE_IMAGES:
        img = _fit(sample_image(name), loaded.image_shape)
        return (255 - img if invert else img), None
    from ..train.images import load_image

    return load_image(source, loaded.image_shape, invert=invert), None
