"""``RunInfo``: what a checkpoint or run directory says about its model, read in one place.

A checkpoint written by ``cnnlab train`` stores, besides the weights, the registry name and
config of the model, and under ``extra`` the task, class names, dataset, cross-validation split,
the model's input shape and the input mapping fitted on the training set (``preprocess``: the
image geometry and per-channel mean and std, or the features' mean and std). Every command and
viewer that needs one of these asks a :class:`RunInfo`; no other module reads the keys.

Example:
    >>> info = RunInfo.from_checkpoint("runs/latest")
    >>> info.model, info.image_shape, info.classes[:2]
    ('mnist-cnn', (1, 28, 28), ['T-shirt/top', 'Trouser'])
    >>> model, info = load_run("runs/latest")          # the model too, reading the file once
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class RunInfo:
    """A checkpoint's description of its model (every field may be missing: None).

    Attributes:
        path: the checkpoint file.
        model: registry name (``mnist-cnn``); None for a custom model.
        model_class: the class name of the saved model.
        model_config: keyword arguments for ``cnnlab.models.create``.
        task: "classification" or "regression".
        classes: class names, index order.
        input_shape: one sample as the model takes it (``(1, 28, 28)``, ``(784,)``).
        image_shape: (C, H, W) of the training images, for a model of images.
        preprocess: "image" (scaled to [0, 1], then per-channel (x − mean) / std), "tabular"
            (per-feature standardisation) or None (no mapping recorded).
        mean, std: the statistics of that mapping (per channel or per feature).
        dataset: the dataset's registry name. split: the cross-validation fold, if any.
        epoch, metrics: epochs completed and the last recorded metrics.
        history: every finished epoch's record (``train_loss``, ``val_accuracy``...), oldest first.
        step_loss: the training loss of every optimizer step, oldest first.

    In Jupyter a ``RunInfo`` shows itself as a table of these with its loss and accuracy curves.
    """

    path: Path | None = None
    model: str | None = None
    model_class: str | None = None
    model_config: dict = field(default_factory=dict)
    task: str | None = None
    classes: tuple[str, ...] | None = None
    input_shape: tuple[int, ...] | None = None
    image_shape: tuple[int, int, int] | None = None
    preprocess: str | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    features: int | None = None
    dataset: str | None = None
    split: dict | None = None
    epoch: int | None = None
    metrics: dict = field(default_factory=dict)
    history: tuple[dict, ...] = ()
    step_loss: tuple[float, ...] = ()

    # ------------------------------------------------------------ reading
    @classmethod
    def from_checkpoint(cls, path_or_run_dir) -> "RunInfo":
        """Read a checkpoint file, a run directory or a ``runs/latest`` marker.

        Raises:
            FileNotFoundError: nothing there. ValueError: not a cnnlab checkpoint.
        """
        from ..checkpoint import read_checkpoint

        path = resolve_checkpoint(path_or_run_dir)
        _, meta = read_checkpoint(path)
        return cls.from_metadata(meta, path)

    @classmethod
    def from_metadata(cls, meta: dict, path=None) -> "RunInfo":
        """From the metadata dictionary ``cnnlab.checkpoint.read_checkpoint`` returns."""
        extra = meta.get("extra") or {}
        pre = extra.get("preprocess") or {}
        kind = pre.get("kind")
        name = meta.get("model_name")
        spec_shape = _spec_input_shape(name)
        image_shape = pre.get("image_shape") if kind == "image" else None
        # The model's input as recorded, else the images' geometry, else the registry's default.
        input_shape = extra.get("input_shape") or image_shape or spec_shape
        if image_shape is None and kind is None:
            candidate = extra.get("input_shape") or spec_shape
            image_shape = candidate if candidate is not None and len(candidate) == 3 else None
        classes = extra.get("classes")
        stored = extra.get("history") or {}
        return cls(
            path=None if path is None else Path(path),
            model=name, model_class=meta.get("model_class"), model_config=dict(meta.get("model_config") or {}),
            task=extra.get("task"),
            classes=None if classes is None else tuple(str(c) for c in classes),
            input_shape=_shape(input_shape), image_shape=_shape(image_shape),
            preprocess=kind, mean=_floats(pre.get("mean")), std=_floats(pre.get("std")),
            features=pre.get("features"), dataset=extra.get("dataset"), split=extra.get("split"),
            epoch=meta.get("epoch"), metrics=dict(meta.get("metrics") or {}),
            history=tuple(dict(r) for r in stored.get("records") or ()),
            step_loss=tuple(float(v) for v in stored.get("step_loss", ())),
        )

    @classmethod
    def from_dict(cls, d: dict) -> "RunInfo":
        """From the flat description :meth:`describe` writes (the explainer's ``meta``): ``model``
        (or ``model_name``), ``dataset`` (or ``data``), ``classes``, ``input_shape``,
        ``normalize`` (``(mean, std)``), ``epoch``, ``metrics``; other keys are ignored."""
        d = dict(d or {})
        shape = _shape(d.get("input_shape"))
        norm = d.get("normalize")
        classes = d.get("classes")
        return cls(
            model=d.get("model") or d.get("model_name"), dataset=d.get("dataset") or d.get("data"),
            classes=None if classes is None else tuple(str(c) for c in classes),
            input_shape=shape, image_shape=shape if shape is not None and len(shape) == 3 else None,
            preprocess=None if norm is None else "image",
            mean=None if norm is None else _floats(norm[0]), std=None if norm is None else _floats(norm[1]),
            epoch=d.get("epoch"), metrics=dict(d.get("metrics") or {}),
        )

    def for_input(self, input_shape, normalize=None) -> "RunInfo":
        """This description with the input geometry (and, when given, the image normalisation
        ``(mean, std)``) replaced: what :func:`~cnnlab.inspect.to_model_input` will produce."""
        shape = _shape(input_shape)
        fields = {"input_shape": shape, "image_shape": shape if len(shape) == 3 else None}
        if normalize is not None:
            fields.update(preprocess="image", mean=_floats(normalize[0]), std=_floats(normalize[1]))
        return replace(self, **fields)

    @classmethod
    def from_preprocess(cls, pre: dict, **fields) -> "RunInfo":
        """For a model trained here and now: the mapping ``cnnlab.train.recipe.fit_preprocess``
        returned, plus any other fields (``model=``, ``classes=``, ``dataset=``...)."""
        meta = {"model_name": fields.pop("model", None), "extra": {"preprocess": pre}}
        info = cls.from_metadata(meta)
        classes = fields.pop("classes", None)
        if classes is not None:
            fields["classes"] = tuple(str(c) for c in classes)
        return replace(info, **fields)

    # ------------------------------------------------------------ derived
    @property
    def preprocess_dict(self) -> dict | None:
        """The mapping in the form ``cnnlab.train.recipe.apply_preprocess`` takes, or None."""
        if self.preprocess == "image":
            return {"kind": "image", "image_shape": list(self.image_shape), "mean": list(self.mean),
                    "std": list(self.std)}
        if self.preprocess == "tabular":
            return {"kind": "tabular", "features": self.features, "mean": list(self.mean), "std": list(self.std)}
        return None

    @property
    def normalize(self) -> tuple[list[float], list[float]] | None:
        """``(mean, std)`` per channel for an image model with a recorded mapping, else None."""
        if self.preprocess == "image" and self.mean is not None:
            return list(self.mean), list(self.std)
        return None

    @property
    def is_image_model(self) -> bool:
        return self.image_shape is not None

    def split_for(self, dataset: str) -> dict | None:
        """The cross-validation fold to evaluate on when scoring on ``dataset``: a CV run is
        scored on its own held-out fold, and only on the dataset it was trained on."""
        return self.split if dataset == self.dataset else None

    def class_names(self, n: int) -> list[str]:
        """The recorded class names when there are ``n`` of them, else "0".."n-1"."""
        if self.classes and len(self.classes) == n:
            return list(self.classes)
        return [str(i) for i in range(n)]

    def _repr_html_(self) -> str:
        """Jupyter's view of a run: what it is, its last metrics and its curves."""
        from .display import run_info_html

        return run_info_html(self)

    def describe(self) -> dict:
        """A JSON-able summary (what the explainer shows about the run)."""
        return {"model": self.model, "dataset": self.dataset, "metrics": self.metrics, "epoch": self.epoch,
                "classes": None if self.classes is None else list(self.classes)}


def _shape(v) -> tuple[int, ...] | None:
    return None if v is None else tuple(int(s) for s in v)


def _floats(v) -> tuple[float, ...] | None:
    return None if v is None else tuple(float(s) for s in v)


def _spec_input_shape(name):
    if not name:
        return None
    from .. import models

    try:
        return tuple(models.spec(name).input_shape)
    except ValueError:
        return None


def resolve_checkpoint(path) -> Path:
    """A checkpoint file, a run directory (its ``checkpoint.safetensors``), or the ``latest``
    marker of a runs folder (the run it names)."""
    from ..train.session import resolve_checkpoint as resolve

    return resolve(path)


def load_run(path_or_run_dir):
    """``(model, info)``: the checkpoint's model (eval mode) and its :class:`RunInfo`."""
    from ..checkpoint import load_checkpoint

    path = resolve_checkpoint(path_or_run_dir)
    model, meta = load_checkpoint(path)
    return model, RunInfo.from_metadata(meta, path)
