"""The first conv layer's weights at every epoch of a run, for ``show-filters --over-training``.

``fit`` keeps one snapshot of the first convolution layer's kernels before the first epoch
(epoch 0, the initialisation) and after each finished epoch, in ``filters.npz`` in the run
directory: for ``mnist-cnn`` (16 kernels of 1×5×5) 1.6 KB per epoch. The file is written
atomically like the other run files, and the checkpoint holds the same snapshots, so a resumed
run rewrites the file from the checkpoint: snapshots of epochs a killed run finished after its
last checkpoint are dropped, and the file equals that of an uninterrupted run.

Example:
    >>> h = load_filter_history("runs/latest")
    >>> h.layer, h.epochs, h.weights.shape
    ('conv1', [0, 1, 2, 3], (4, 16, 1, 5, 5))
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .callbacks import Callback

FILTERS = "filters.npz"


@dataclass
class FilterHistory:
    """``weights[k]`` is the layer's (out, in, kh, kw) weight after epoch ``epochs[k]``."""

    layer: str
    epochs: list
    weights: np.ndarray

    def to_store(self) -> dict:
        """The form the checkpoint keeps (JSON plus one array)."""
        return {"layer": self.layer, "epochs": [int(e) for e in self.epochs],
                "weights": np.asarray(self.weights, np.float32)}

    @classmethod
    def from_store(cls, stored: dict) -> "FilterHistory":
        return cls(str(stored["layer"]), [int(e) for e in stored["epochs"]],
                   np.asarray(stored["weights"], np.float32))


def first_conv(model) -> tuple[str, object] | None:
    """``(name, module)`` of the model's first module with a 4-D ``weight``, or None."""
    for name, m in model.named_modules():
        w = getattr(m, "weight", None)
        if name and w is not None and getattr(w, "ndim", 0) == 4:
            return name, m
    return None


def save_filter_history(run_dir, history: FilterHistory) -> Path:
    """Write ``run_dir/filters.npz`` atomically (readers see the old file or the new one)."""
    from ..checkpoint import atomic_write_bytes

    buf = io.BytesIO()
    np.savez(buf, layer=np.array(history.layer), epochs=np.asarray(history.epochs, np.int64),
             weights=np.asarray(history.weights, np.float32))
    path = Path(run_dir) / FILTERS
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_filter_history(run: str | os.PathLike) -> FilterHistory:
    """The snapshots of a run directory (or of the run a checkpoint file sits in).

    Raises:
        FileNotFoundError: the run has no ``filters.npz`` (trained before snapshots were kept).
        ValueError: the file is not a snapshot file.
    """
    run = Path(run)
    path = run / FILTERS if run.is_dir() else run.parent / FILTERS
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent} has no per-epoch filter snapshots ({FILTERS}); runs trained "
                                "by `cnnlab train` since snapshots were added keep them")
    try:
        with np.load(path, allow_pickle=False) as z:
            layer, epochs, weights = str(z["layer"]), z["epochs"].astype(int).tolist(), z["weights"]
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"{path} is not a filter snapshot file: {e}") from None
    if weights.ndim != 5 or len(weights) != len(epochs):
        raise ValueError(f"{path} is not a filter snapshot file: weights of shape {weights.shape} "
                         f"for {len(epochs)} epochs")
    return FilterHistory(layer, epochs, weights.astype(np.float32))


class FilterSnapshots(Callback):
    """Keeps the first conv layer's weights before training and after every epoch.

    It runs before ``Checkpoint`` at each epoch's end, so the checkpoint of epoch k holds the
    snapshots up to k (``state.history.filters``). On resume it starts from the checkpoint's
    snapshots (for a checkpoint written before they were kept: the file's, up to the resumed
    epoch, with that epoch's taken from the restored weights) and rewrites the file.

    Args:
        out_dir: the run directory.
    """

    def __init__(self, out_dir):
        self.out = Path(out_dir)

    def on_train_begin(self, state):
        found = first_conv(state.model)
        if found is None:
            state.history.filters = None
            return
        self.layer, self.module = found
        h = state.history.filters
        if state.resumed is None or h is None:
            h = self._from_file(state.start_epoch) if state.resumed is not None else None
            h = h or FilterHistory(self.layer, [], np.zeros((0, *self._weight().shape), np.float32))
            state.history.filters = h
            self._add(state, state.start_epoch)
        save_filter_history(self.out, state.history.filters)

    def _from_file(self, start_epoch: int) -> FilterHistory | None:
        try:
            h = load_filter_history(self.out)
        except (FileNotFoundError, ValueError):
            return None
        if h.layer != self.layer or h.weights.shape[1:] != self._weight().shape:
            return None
        keep = [k for k, e in enumerate(h.epochs) if e < start_epoch]
        return FilterHistory(h.layer, [h.epochs[k] for k in keep], h.weights[keep])

    def _weight(self) -> np.ndarray:
        return np.array(self.module.weight.detach().numpy(), dtype=np.float32, copy=True)

    def _add(self, state, epoch: int) -> None:
        h = state.history.filters
        keep = [k for k, e in enumerate(h.epochs) if e != epoch]
        h.epochs = [h.epochs[k] for k in keep] + [epoch]
        h.weights = np.concatenate([h.weights[keep], self._weight()[None]])

    def on_epoch_end(self, state, record):
        if state.history.filters is None:
            return None
        self._add(state, record["epoch"])
        save_filter_history(self.out, state.history.filters)
        return None
