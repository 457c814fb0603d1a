"""Translation invariance: how a classifier's probabilities change when the input shifts.

The lecture says a CNN's output "should not be changed" by a translation. ``shift_curves``
measures it: the input moves 0…k pixels left, right, up and down (the border is filled with
the background value) and the model's softmax probabilities are recorded for each shift.
``plot_shift_test`` draws those curves for several models side by side (an MLP and a CNN).

Example:
    >>> curves = shift_curves(model, x, max_shift=6)
    >>> curves["horizontal"].shape   # (13 shifts, classes)
"""

from __future__ import annotations

import numpy as np


def shift_image(x: np.ndarray, dx: int, dy: int, fill=0.0) -> np.ndarray:
    """Move a (C, H, W) image ``dx`` pixels right and ``dy`` down; uncovered pixels get ``fill``.

    ``fill`` is a scalar or one value per channel.
    """
    C, H, W = x.shape
    out = np.empty_like(x)
    out[...] = np.asarray(fill, dtype=x.dtype).reshape(-1, 1, 1)
    if abs(dx) >= W or abs(dy) >= H:
        return out
    src = x[:, max(-dy, 0):H - max(dy, 0), max(-dx, 0):W - max(dx, 0)]
    out[:, max(dy, 0):max(dy, 0) + src.shape[1], max(dx, 0):max(dx, 0) + src.shape[2]] = src
    return out


def shift_curves(model, x: np.ndarray, max_shift: int = 6, fill=0.0) -> dict[str, np.ndarray]:
    """Softmax probabilities of ``model`` for every shift in ``-k..k``, horizontally and vertically.

    All shifted copies go through the model as one batch.

    Returns:
        ``{"shifts": (2k+1,), "horizontal": (2k+1, classes), "vertical": (2k+1, classes)}``;
        negative shifts move the image left / up.
    """
    from ..inspect import forward, probabilities

    if max_shift < 0 or max_shift >= min(x.shape[1:]):
        raise ValueError(f"shift-test: max_shift must be in 0..{min(x.shape[1:]) - 1}, got {max_shift}")
    shifts = np.arange(-max_shift, max_shift + 1)
    batch = np.stack([shift_image(x, int(s), 0, fill) for s in shifts]
                     + [shift_image(x, 0, int(s), fill) for s in shifts]).astype(np.float32)
    p = probabilities(forward(model, batch))
    n = len(shifts)
    return {"shifts": shifts, "horizontal": p[:n], "vertical": p[n:]}


def plot_shift_test(results: dict[str, dict], path: str, class_names=None, title: str | None = None,
                    label: int | None = None, image: np.ndarray | None = None) -> str:
    """Probability vs shift, one column per model (rows: horizontal, vertical shift).

    Args:
        results: ``{model label: shift_curves(...)}``, e.g. ``{"MLP": ..., "CNN": ...}``.
        class_names: names for the legend (default the class index).
        label: the true class, drawn with a thick line when given.
        image: the unshifted picture, shown in a first column.
    """
    from ._plot import new_figure, save_figure

    names = list(results)
    ncols = len(names) + (image is not None)
    fig = new_figure(4.6 * ncols, 7.4)
    axes = fig.subplots(2, ncols, squeeze=False)
    cname = (lambda k: class_names[k] if class_names and k < len(class_names) else str(k))
    # The same classes and colours in every panel: the unshifted prediction, the true label,
    # and any class that wins at some shift, for any model.
    keep: list[int] = [] if label is None else [label]
    for r in results.values():
        mid = len(r["shifts"]) // 2
        keep.append(int(np.argmax(r["horizontal"][mid])))
        for key in ("horizontal", "vertical"):
            keep.extend(int(k) for k in np.argmax(r[key], axis=1))
    keep = list(dict.fromkeys(keep))[:6]
    colors = {k: f"C{i}" for i, k in enumerate(keep)}
    col0 = 0
    if image is not None:
        axes[0, 0].imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        axes[0, 0].set_title("input (unshifted)" + ("" if label is None else f"\nlabel: {cname(label)}"))
        axes[0, 0].set_xlabel("x (pixel)")
        axes[0, 0].set_ylabel("y (pixel)")
        axes[1, 0].set_visible(False)
        col0 = 1
    for j, name in enumerate(names):
        r = results[name]
        for i, key in enumerate(("horizontal", "vertical")):
            ax = axes[i, col0 + j]
            for k in keep:
                ax.plot(r["shifts"], r[key][:, k], marker="o", ms=3, color=colors[k],
                        lw=2.6 if k == label else 1.5, label=cname(k))
            ax.axvline(0, color="0.7", lw=0.8)
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("shift (pixels, " + ("- left / + right)" if key == "horizontal" else "- up / + down)"))
            ax.set_ylabel("predicted probability")
            ref = label if label is not None else int(np.argmax(r[key][len(r["shifts"]) // 2]))
            ax.set_title(f"{name}: {key} shift\nmean P({cname(ref)}) = {r[key][:, ref].mean():.2f}", fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="best")
    fig.suptitle(title or "Shift test: predicted probabilities vs translation", fontsize=12)
    return save_figure(fig, path)


def quick_train(model, x: np.ndarray, y: np.ndarray, epochs: int = 1, batch_size: int = 64,
                lr: float = 0.05, seed: int = 0):
    """A few SGD-with-momentum epochs, for the shift test when no checkpoint is given."""
    import cnnlab
    import cnnlab.functional as F

    cnnlab.manual_seed(seed)
    opt = cnnlab.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(model(cnnlab.from_numpy(x[idx])), cnnlab.from_numpy(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model
