"""``ImageFolder`` (one sub-folder per class, PNG or JPEG) and safe image loading.

``load_image`` converts an image's mode when that is safe (palette, grey+alpha, 16-bit grey,
CMYK...) and refuses what has no faithful 8-bit meaning (float or 32-bit integer images);
``prepare_image`` also fits the size a model expects, for ``cnnlab predict``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..transforms import CenterCrop, Compose, Normalize, Resize, ToTensor
from ..utils.data import Dataset

IMG_EXTENSIONS = (".png", ".jpg", ".jpeg")
MODES = ("RGB", "L")


class ImageLoadError(ValueError):
    """An image file that cannot be read or converted; the message names the file."""


def _to_mode(img, mode: str, path):
    """Convert ``img`` to ``mode`` ("RGB" or "L") where the conversion keeps its meaning."""
    if img.mode == mode:
        return img
    if img.mode in ("I;16", "I;16B", "I;16L"):
        # PIL's own I;16 → L conversion clips at 255; scale the 16-bit range down instead.
        arr = (np.asarray(img, dtype=np.uint16) >> 8).astype(np.uint8)
        from PIL import Image

        img = Image.fromarray(arr, mode="L")
        return img if mode == "L" else img.convert(mode)
    if img.mode in ("I", "F"):
        raise ImageLoadError(
            f"{path}: cannot convert a {'32-bit integer' if img.mode == 'I' else 'floating-point'} image "
            f"(mode {img.mode!r}) to {mode!r} safely: its value range is unknown; save it as 8-bit PNG/JPEG"
        )
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent pixels have arbitrary colours: composite on black, the datasets' background.
        from PIL import Image

        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        img = Image.alpha_composite(base, rgba)
    return img.convert(mode)


def load_image(path, mode: str = "RGB"):
    """Open an image file as a PIL image in ``mode`` ("RGB" or "L").

    Raises:
        ImageLoadError: the file is missing, not an image, truncated, or its mode has no safe conversion.
    """
    if mode not in MODES:
        raise ValueError(f"load_image: mode must be one of {MODES}, got {mode!r}")
    from PIL import Image, UnidentifiedImageError

    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()  # decode now, so a truncated file fails here with its name
                return _to_mode(img, mode, path)
    except FileNotFoundError as e:
        raise ImageLoadError(f"{path}: no such image file") from e
    except UnidentifiedImageError as e:
        raise ImageLoadError(f"{path}: not a readable image (PNG or JPEG expected)") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageLoadError(f"{path}: too large to decode safely, a decompression bomb? ({e})") from e
    except (OSError, SyntaxError, ValueError) as e:
        if isinstance(e, ImageLoadError):
            raise
        raise ImageLoadError(f"{path}: corrupt or truncated image ({e})") from e


def prepare_image(path, input_shape, mean=None, std=None, max_aspect: float = 4.0):
    """Load ``path`` as a ``(C, H, W)`` float32 Tensor ready for a model expecting ``input_shape``.

    The mode becomes L (C=1) or RGB (C=3); a different size is resized (shorter side) and
    centre-cropped. An aspect ratio beyond ``max_aspect`` is refused: cropping would drop
    most of the picture.

    Args:
        path: image file.
        input_shape: (C, H, W) the model expects.
        mean, std: per-channel normalisation (skipped if None).
    """
    c, h, w = input_shape
    if c not in (1, 3):
        raise ValueError(f"prepare_image: models with {c} input channels are not images (expected 1 or 3)")
    img = load_image(path, "L" if c == 1 else "RGB")
    iw, ih = img.size
    ratio = max(iw / ih, ih / iw) / max(w / h, h / w)
    if ratio > max_aspect:
        raise ImageLoadError(
            f"{path}: image of size {iw}×{ih} is too elongated for a {w}×{h} input (aspect ratio beyond {max_aspect}:1)"
        )
    steps = [] if (ih, iw) == (h, w) else [Resize(min(h, w)), CenterCrop((h, w))]
    steps.append(ToTensor())
    if mean is not None:
        steps.append(Normalize(mean, std))
    return Compose(steps)(img)


def find_classes(directory) -> tuple[list[str], dict[str, int]]:
    """Class names are the sub-folder names, sorted; indices follow that order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"ImageFolder: {directory} is not a folder")
    classes = sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))
    if not classes:
        raise FileNotFoundError(f"ImageFolder: couldn't find any class folder in {directory}")
    return classes, {c: i for i, c in enumerate(classes)}


class ImageFolder(Dataset):
    """Images arranged as ``root/<class>/<file>.png|jpg|jpeg``, as torchvision's ImageFolder.

    Args:
        root: the folder of class folders (required).
        transform: applied to each PIL image.
        target_transform: applied to each int label.
        mode: ``"RGB"`` (default) or ``"L"``: every image is converted to it, when safe.
        train, download: accepted for the registry's uniform signature; ignored.

    Attributes:
        classes, class_to_idx, samples (list of (path, label)), targets.

    Example:
        >>> ds = ImageFolder("photos", transform=T.Compose([T.Resize(64), T.CenterCrop(64), T.ToTensor()]))
    """

    name = "imagefolder"
    task = "classification"

    def __init__(self, root, transform=None, target_transform=None, mode: str = "RGB",
                 train: bool = True, download: bool = False):
        if root is None:
            raise ValueError("ImageFolder: `root` is required (a folder with one sub-folder per class)")
        if mode not in MODES + ("auto",):
            raise ValueError(f"ImageFolder: mode must be one of {MODES + ('auto',)}, got {mode!r}")
        self.root = Path(root).expanduser()
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = []
        empty = []
        for cls in self.classes:
            found = len(self.samples)
            for dirpath, _, files in sorted(os.walk(self.root / cls, followlinks=True)):
                for fname in sorted(files):
                    if fname.lower().endswith(IMG_EXTENSIONS):
                        self.samples.append((os.path.join(dirpath, fname), self.class_to_idx[cls]))
            if len(self.samples) == found:
                empty.append(cls)
        if empty:
            raise FileNotFoundError(
                f"ImageFolder: found no valid file for the class{'es' if len(empty) > 1 else ''} "
                f"{', '.join(empty)} in {self.root}; supported extensions are {', '.join(IMG_EXTENSIONS)}"
            )
        if mode == "auto":
            mode = detect_mode(p for p, _ in self.samples)
        self.targets = [s[1] for s in self.samples]
        self.imgs = self.samples
        self.mode = mode
        self.transform = transform
        self.target_transform = target_transform
        self.origin = f"explicit path {self.root}"
        self._stacked = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def data(self) -> np.ndarray:
        """Every image decoded into one uint8 array, ``(N, H, W)`` in mode L or ``(N, H, W, 3)``
        in RGB, as the built-in sets keep theirs (decoded once, on first use).

        Raises:
            ImageLoadError: an unreadable image, or images of different sizes (which cannot
                be stacked: resize them first); the message names the files.
        """
        if self._stacked is None:
            arrays, first = [], None
            for path, _ in self.samples:
                img = load_image(path, self.mode)
                if first is None:
                    first = (path, img.size)
                elif img.size != first[1]:
                    raise ImageLoadError(
                        f"ImageFolder: images must all have one size to be stacked; {first[0]} is "
                        f"{first[1][0]}x{first[1][1]} but {path} is {img.size[0]}x{img.size[1]} (resize them first)")
                arrays.append(np.asarray(img, dtype=np.uint8))
            self._stacked = np.stack(arrays)
        return self._stacked

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image after ``ToTensor``."""
        n, h, w = self.data.shape[:3]
        return (1 if self.data.ndim == 3 else self.data.shape[3], h, w)

    def default_transform(self) -> Compose:
        """``ToTensor()`` only: folder images have no known statistics (add Resize/Normalize as needed)."""
        return Compose([ToTensor()])

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        img = load_image(path, self.mode)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        return f"Dataset ImageFolder\n    Number of datapoints: {len(self)}\n    Root location: {self.root}"


_GRAY_MODES = ("1", "L", "LA", "I", "F", "I;16", "I;16B", "I;16L", "I;16N")


def detect_mode(paths) -> str:
    """``"L"`` when every image is grayscale (read from the headers only), else ``"RGB"``."""
    from PIL import Image, UnidentifiedImageError

    for path in paths:
        try:
            with Image.open(path) as img:
                gray = img.mode in _GRAY_MODES or (
                    img.mode == "P" and img.palette is not None and img.palette.mode == "L")
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
            raise ImageLoadError(f"{path}: not a readable image ({e})") from e
        if not gray:
            return "RGB"
    return "L"


# Without train/ and test/ folders, every HOLDOUT-th image of each class (in name order) is
# held out for testing: a fixed split, like the built-in sets, that needs no seed.
HOLDOUT = 5


def folder_split(root, train: bool = True, mode: str = "auto", **kwargs) -> ImageFolder:
    """The train or test split of a user's folder of images, for ``create("imagefolder")``.

    ``root/train/<class>/...`` and ``root/test/<class>/...`` are used as they are; otherwise
    ``root/<class>/...`` is split, every 5th image of each class (sorted by name) going to the
    test split. ``mode="auto"`` picks L when every image of both splits is grayscale, else RGB.

    Raises:
        FileNotFoundError: no class folders, or an empty one (as torchvision).
        ValueError: too few images to hold any out, or train/test with different classes.
    """
    root = Path(root).expanduser()
    if (root / "train").is_dir() and (root / "test").is_dir():
        both = [ImageFolder(root / part, mode="RGB" if mode == "auto" else mode, **kwargs) for part in ("train", "test")]
        if both[0].classes != both[1].classes:
            raise ValueError(f"ImageFolder: {root}/train has classes {both[0].classes} but {root}/test has "
                             f"{both[1].classes}; they must be the same")
        if mode == "auto":
            mode = detect_mode(p for ds in both for p, _ in ds.samples)
        ds = both[0] if train else both[1]
        ds.mode = mode
        return ds
    ds = ImageFolder(root, mode=mode, **kwargs)
    rank, seen = [], {}
    for _, target in ds.samples:
        rank.append(seen.get(target, 0))
        seen[target] = rank[-1] + 1
    keep = [i for i, r in enumerate(rank) if (r % HOLDOUT == HOLDOUT - 1) != train]
    if not keep:
        raise ValueError(
            f"ImageFolder: {root} has too few images to hold out a test split (every {HOLDOUT}th image of a "
            f"class is held out; the largest class has {max(seen.values())}); add images, or give "
            f"{root}/train and {root}/test folders")
    ds.samples = [ds.samples[i] for i in keep]
    ds.imgs = ds.samples
    ds.targets = [s[1] for s in ds.samples]
    ds.origin = f"explicit path {root} ({'train' if train else 'test'}: every {HOLDOUT}th image of a class is a test image)"
    return ds
