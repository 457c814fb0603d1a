"""``to_model_input``: the one way from an image to a model's input, with a record of each step.

Sources: an image file, a PIL image, a ``uint8`` array ((H, W) or (H, W, 3)), a float array of
values in [0, 1] laid out as the model's input ((C, H, W), or (H, W) for one channel), or a
dataset sample named ``test:N`` / ``train:N`` (image N of the run's dataset).

Safe conversions are made and recorded: colour ↔ grayscale (Pillow's ITU-R 601 luma, or gray
copied to three channels), palette images, a resize with Pillow's Lanczos filter. Refused with a
message saying what to do (:class:`ImageRefused`, a ``ValueError``):

- 16/32-bit images: converting them to the model's 8-bit range would clip or rescale them;
- transparent pixels, unless ``transparency="flatten"`` (onto white): the background they
  would get is a guess;
- an aspect-ratio change over 25%, unless ``fit="crop"`` (the centre is cut to the model's
  aspect ratio first): the resize would distort the picture.

The pixel values then become the model's input as the training data was prepared: with the
run's recorded mapping (``cnnlab.train.recipe.apply_preprocess``: scaled to [0, 1], then
(x − mean) / std per channel), or, when none is recorded, scaled by 1/255 only.

Example:
    >>> info = RunInfo.from_checkpoint("runs/latest")
    >>> mi = to_model_input("boot.png", info)
    >>> mi.array.shape, mi.steps[-1]
    ((1, 28, 28), 'normalised with the training set's mean [0.286] and std [0.353]')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

MAX_ASPECT_CHANGE = 1.25
HIGH_DEPTH_MODES = ("I", "F", "I;16", "I;16B", "I;16L", "I;16N")


class ImageRefused(ValueError):
    """An image that cannot be turned into the model's input safely (the message says why)."""


@dataclass
class ModelInput:
    """The model's input for one image, and how it was made.

    Attributes:
        array: float32, one sample in the model's layout ((C, H, W)).
        steps: one sentence per step applied, in order (what the explainer shows).
        image: the uint8 picture the model sees ((H, W) or (H, W, 3), after conversion, resize
            and inversion), or None for a float source.
        label: the class of a dataset sample, else None.
    """

    array: np.ndarray
    steps: list[str] = field(default_factory=list)
    image: np.ndarray | None = None
    label: int | None = None

    @property
    def tensor(self):
        """A batch of one: Tensor of shape (1, *array.shape)."""
        import cnnlab

        return cnnlab.from_numpy(np.ascontiguousarray(self.array[None]))


def _image_geometry(info) -> tuple[int, int, int]:
    shape = info.image_shape
    if shape is None or len(shape) != 3 or shape[0] not in (1, 3):
        got = info.input_shape if shape is None else shape
        raise ValueError(f"{info.model or 'the model'} takes inputs of shape {got}, not images of 1 or 3 channels "
                         "(C, H, W); to_model_input needs an image model")
    return tuple(int(s) for s in shape)


def open_image(path, name: str | None = None):
    """Open an image file fully (so the file is closed again); clear errors for bad files."""
    from PIL import Image, UnidentifiedImageError

    name = str(path) if name is None else name
    try:
        with Image.open(path) as im:
            im.load()
            img = im.copy()
            img.format = im.format  # copy() forgets it; the steps name it
            return img
    except FileNotFoundError:
        raise FileNotFoundError(f"image file {name!r} does not exist") from None
    except Image.DecompressionBombError as e:
        raise ImageRefused(f"image {name!r} refused: {e}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"cannot read image file {name!r}: {e}") from None


def check_bit_depth(img, name: str, into: str = "the model's 8-bit range") -> None:
    """Refuse 16/32-bit pixels (a PIL image's mode): 8 bits would clip or rescale them."""
    if img.mode in HIGH_DEPTH_MODES:
        raise ImageRefused(
            f"image {name!r} has {img.mode} pixels (16/32-bit); converting them to {into} "
            "would clip or rescale them unpredictably. Save it as an 8-bit PNG or JPEG first."
        )


def _dataset_sample(source: str, info, steps: list[str], data_root=None):
    from .. import datasets

    split, _, number = source.partition(":")
    if not info.dataset:
        raise ValueError(f"{source!r}: the checkpoint does not record its dataset; give an image file")
    try:
        index = int(number)
    except ValueError:
        raise ValueError(f"expected {split}:N with an integer N, got {source!r}") from None
    ds = datasets.create(info.dataset, root=data_root, train=split == "train")
    if not 0 <= index < len(ds):
        raise ValueError(f"{source!r}: the {info.dataset} {split} split has images 0..{len(ds) - 1}")
    steps.append(f"image {index} of the {info.dataset} {split} split")
    return np.asarray(ds.data[index]), int(ds.targets[index])


def _flatten_alpha(img, name: str, transparency: str, steps: list[str]):
    from PIL import Image

    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode not in ("RGBA", "LA", "PA"):
        return img
    if np.asarray(img.getchannel("A")).min() == 255:
        return img  # every pixel opaque: the alpha channel says nothing
    if transparency != "flatten":
        raise ImageRefused(
            f"image {name!r} has transparent pixels; the background they would get is a guess. "
            "Flatten it onto the background you mean (e.g. black for Fashion-MNIST) first."
        )
    rgba = img.convert("RGBA")
    steps.append("flattened the transparency onto white")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)


def _fit_size(img, name: str, h: int, w: int, fit: str, steps: list[str]):
    from PIL import Image

    W, H = img.size
    if (W, H) == (w, h):
        return img
    if fit == "crop":
        if W * h > H * w:  # too wide: keep the centre columns
            cw = H * w // h
            img = img.crop(((W - cw) // 2, 0, (W - cw) // 2 + cw, H))
        elif W * h < H * w:
            ch = W * h // w
            img = img.crop((0, (H - ch) // 2, W, (H - ch) // 2 + ch))
        if img.size != (W, H):
            cw, ch = img.size
            steps.append(f"cropped the centre square {cw} × {ch} (the model's input is square)" if w == h
                         else f"cropped the centre {cw} × {ch} (the model's {w}:{h} aspect ratio)")
    else:
        ratio = (W / H) / (w / h)
        change = max(ratio, 1 / ratio)
        if change > MAX_ASPECT_CHANGE:
            raise ImageRefused(
                f"image {name!r} is {W}x{H} but the model takes {w}x{h}; resizing "
                f"would stretch it by {change:.2f}x. Crop it to a {w}:{h} aspect ratio first."
            )
    if img.size != (w, h):
        img = img.resize((w, h), Image.Resampling.LANCZOS)
        steps.append(f"resized to {w} × {h} pixels")
    return img


def _a(fmt) -> str:
    return f"a {fmt}" if fmt else "an image"


def _to_pil(image, name: str, exif: bool, steps: list[str]):
    from PIL import Image, ImageOps

    if isinstance(image, (str, os.PathLike)):
        img = open_image(image, name)
        steps.append(f"read {name}: {_a(img.format)} of {img.size[0]} × {img.size[1]} pixels, mode {img.mode}")
    elif isinstance(image, Image.Image):
        img = image
        steps.append(f"decoded {_a(img.format)} of {img.size[0]} × {img.size[1]} pixels, mode {img.mode}")
    else:
        a = np.asarray(image)
        if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
            raise ValueError(f"{name}: expected a uint8 image of shape (H, W), (H, W, 3) or (H, W, 4), "
                             f"got {a.dtype} {a.shape}")
        img = Image.fromarray(np.ascontiguousarray(a))
    check_bit_depth(img, name)
    if exif:
        transposed = ImageOps.exif_transpose(img)
        if transposed.size != img.size:
            steps.append("rotated as the photo's EXIF orientation says")
        img = transposed
    return img


def _from_floats(a: np.ndarray, shape, info, name: str, steps: list[str]) -> np.ndarray:
    c, h, w = shape
    x = a[None] if a.ndim == 2 else a
    if x.shape != (c, h, w):
        raise ValueError(f"{name}: expected float values of shape {(c, h, w)} (or (H, W) for one channel), "
                         f"got {a.shape}")
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError(f"{name}: float pixel values must be finite numbers in [0, 1]")
    return _normalise(x.astype(np.float32), info, steps)


def _normalise(x: np.ndarray, info, steps: list[str]) -> np.ndarray:
    norm = info.normalize
    if norm is None:
        return x
    mean = np.asarray(norm[0], np.float32).reshape(-1, 1, 1)
    std = np.asarray(norm[1], np.float32).reshape(-1, 1, 1)
    steps.append(f"normalised with mean {norm[0]} and std {norm[1]}, as in training")
    return (x - mean) / std


def to_model_input(image, info, *, invert: bool | str = False, transparency: str = "refuse",
                   fit: str = "refuse", exif: bool = False, name: str | None = None,
                   data_root=None) -> ModelInput:
    """Convert ``image`` into the input of the model ``info`` describes.

    Args:
        image: a path, a PIL image, a uint8 array (H, W) / (H, W, 3), a float array in [0, 1]
            in the model's layout, or ``"test:N"`` / ``"train:N"`` (a sample of ``info.dataset``).
        info: a :class:`~cnnlab.inspect.RunInfo` (its ``image_shape``, ``preprocess``, mean,
            std and dataset are used).
        invert: flip intensities (255 − v; the datasets are light objects on black, most photos
            the opposite); ``"auto"`` inverts a grayscale image whose border is light.
        transparency: "refuse" (default) or "flatten" (onto white).
        fit: "refuse" an aspect-ratio change over 25% (default) or "crop" the centre to the
            model's aspect ratio first.
        exif: rotate a photo as its EXIF orientation says (default False).
        name: how messages name the image (default: the path, or "the image").
        data_root: where the data set's files are, for ``test:N`` (default: the usual search).

    Returns:
        a :class:`ModelInput` (``array``, ``steps``, ``image``, ``label``).

    Raises:
        ImageRefused: a 16/32-bit image, transparency or a large aspect change (see above).
        ValueError: an unreadable file or an array of the wrong kind. FileNotFoundError: no file.
    """
    if transparency not in ("refuse", "flatten"):
        raise ValueError(f"`transparency` must be 'refuse' or 'flatten', got {transparency!r}")
    if fit not in ("refuse", "crop"):
        raise ValueError(f"`fit` must be 'refuse' or 'crop', got {fit!r}")
    if invert not in (True, False, "auto"):
        raise ValueError(f"`invert` must be True, False or 'auto', got {invert!r}")
    c, h, w = _image_geometry(info)
    steps: list[str] = []
    label = None
    if isinstance(image, (str, os.PathLike)):
        source = str(image)
        name = name or source
        if source.split(":")[0] in ("test", "train") and ":" in source and not os.path.exists(source):
            image, label = _dataset_sample(source, info, steps, data_root)
    name = name or "the image"
    if isinstance(image, np.ndarray) and image.dtype.kind == "f":
        return ModelInput(_from_floats(image, (c, h, w), info, name, steps), steps)
    img = _to_pil(image, name, exif, steps)
    img = _flatten_alpha(img, name, transparency, steps)
    mode = "L" if c == 1 else "RGB"
    if img.mode != mode:
        img = img.convert(mode)
        steps.append("converted to grayscale" if mode == "L" else "converted to RGB")
    img = _fit_size(img, name, h, w, fit, steps)
    arr = np.asarray(img, dtype=np.uint8)
    if invert == "auto":
        border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]]).astype(np.float64)
        invert = c == 1 and border.mean() / 255.0 > 0.5
        if invert:
            steps.append("inverted (light background → dark), because the training images "
                         "are light strokes on a dark background")
    elif invert:
        steps.append("inverted intensities (255 − v)")
    if invert:
        arr = 255 - arr
    return ModelInput(_scale(arr, info, steps), steps, arr, label)


def _scale(arr: np.ndarray, info, steps: list[str]) -> np.ndarray:
    """uint8 (H, W[, 3]) → float32 (C, H, W) as the training data was prepared."""
    pre = info.preprocess_dict if info.preprocess == "image" else None
    if pre is not None:
        from ..train.recipe import apply_preprocess

        steps.append("scaled pixel values from 0–255 to 0–1")
        steps.append(f"normalised with mean {list(info.mean)} and std {list(info.std)}, as in training")
        return apply_preprocess(arr[None], pre)[0]
    x = arr.astype(np.float32) / np.float32(255)
    steps.append("scaled pixel values from 0–255 to 0–1")
    x = x[None] if x.ndim == 2 else x.transpose(2, 0, 1)
    return np.ascontiguousarray(x)
