"""Reading the lecture's experiment recipes (small TOML files a user can read and edit)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

RECIPE_DIR = Path(__file__).resolve().parent.parent / "recipes"
TRAIN_KEYS = {"epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "scheduler", "limit_train", "limit_test",
              "val_split"}


@dataclass(frozen=True)
class Recipe:
    """One lecture experiment: what to train, on what, how, and the lecture's figure.

    ``kind = "robustness"`` recipes train each of ``models`` with and without the training-time
    augmentation ``augment`` and sweep the lecture's ``challenges`` on the test images
    (``cnnlab.reproduce.robustness``); ``model`` and ``metric`` do not apply to them.
    """

    name: str
    experiment: str
    dataset: str
    protocol: str
    seeds: tuple[int, ...]
    train: dict
    model: str = ""
    metric: str = "accuracy"
    kind: str = "table"
    models: tuple[str, ...] = ()
    augment: str = ""
    challenges: tuple[str, ...] = ()
    quick: dict = field(default_factory=dict)
    lecture: float | None = None
    lecture_data: str = ""
    full_dataset: str | None = None
    target: float | None = None
    cv_folds: int | None = None  # k-fold cross-validation (tabular sets) instead of the fixed split
    order: int = 0
    path: str = ""

    def budget(self, quick: bool) -> dict:
        """The training settings, with the ``[quick]`` overrides for ``--quick``."""
        return {**self.train, **(self.quick if quick else {})}


def _parse(path: Path) -> Recipe:
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"recipe {path}: not valid TOML ({e})") from None
    kind = raw.get("kind", "table")
    if kind not in ("table", "robustness"):
        raise ValueError(f"recipe {path}: kind must be 'table' or 'robustness', got {kind!r}")
    need = ("models", "augment", "challenges") if kind == "robustness" else ("model", "metric")
    missing = [k for k in ("name", "experiment", "dataset", "protocol", "seeds", "train", *need) if k not in raw]
    if missing:
        raise ValueError(f"recipe {path}: missing field(s) {', '.join(missing)}")
    if raw.get("metric", "accuracy") not in ("accuracy", "rmse"):
        raise ValueError(f"recipe {path}: metric must be 'accuracy' or 'rmse', got {raw['metric']!r}")
    if kind == "robustness":
        from ..robustness import expand
        from ..transforms.augment import parse_challenges

        try:
            raw["challenges"] = tuple(expand(raw["challenges"]))
            raw["augment"] = ",".join(parse_challenges(raw["augment"]))
        except ValueError as e:
            raise ValueError(f"recipe {path}: {e}") from None
        raw["models"] = tuple(raw["models"])
    for section in ("train", "quick"):
        unknown = set(raw.get(section, {})) - TRAIN_KEYS
        if unknown:
            raise ValueError(f"recipe {path}: unknown [{section}] key(s) {sorted(unknown)}; valid: {sorted(TRAIN_KEYS)}")
    raw["seeds"] = tuple(int(s) for s in raw["seeds"])
    return Recipe(**raw, path=str(path))


def load_recipe(path) -> Recipe:
    """One recipe file (a user's own, in the format of ``cnnlab/recipes/*.toml``)."""
    return _parse(Path(path))


def load_recipes(directory: Path = RECIPE_DIR, only: list[str] | None = None) -> list[Recipe]:
    """All recipes in lecture order; ``only`` selects by name (unknown names are listed)."""
    recipes = sorted((_parse(p) for p in directory.glob("*.toml")), key=lambda r: (r.order, r.name))
    if only:
        names = [r.name for r in recipes]
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(f"unknown recipe(s) {', '.join(unknown)}; valid recipes: {', '.join(names)}")
        recipes = [r for r in recipes if r.name in only]
    return recipes
