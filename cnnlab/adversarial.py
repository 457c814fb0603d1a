"""Adversarial images: the fast gradient sign method (FGSM) and projected gradient descent (PGD).

Both are L∞ attacks on a classifier's cross-entropy loss: every input value moves by at most
``eps`` (in the model's input units, i.e. after preprocessing), and the result is clipped to
the values a real image can have after that preprocessing (:func:`valid_range`).

Notes:
    FGSM (Goodfellow et al. 2015): ``x' = clip(x + ε · sign(∇ₓ L(f(x), y)))``.

    PGD (Madry et al. 2018): from ``x₀ = x`` (or, with a ``generator``, a uniform random point
    of the ε-ball), repeat ``xₜ₊₁ = clip(Π_ε(xₜ + α · sign(∇ₓ L(f(xₜ), y))))``, where ``Π_ε``
    clips to ``[x - ε, x + ε]`` and ``clip`` to the valid range.

The gradients come from :func:`cnnlab.inspect.trace` (``grads=True``), which runs the model in
eval mode and leaves it, its flags and its parameters' ``.grad`` as they were.

Example:
    >>> model, info = inspect.load_run("runs/latest")
    >>> x_adv = fgsm(model, x, y, eps=0.1, clip=valid_range(info))
"""

from __future__ import annotations

import numpy as np

from . import inspect


def valid_range(info) -> tuple[np.ndarray, np.ndarray]:
    """The values pixels in [0, 1] take after a run's preprocessing ``(p - mean) / std``.

    Args:
        info: a :class:`cnnlab.inspect.RunInfo` of an image model with a recorded mapping.

    Returns:
        ``(lo, hi)``, float32 arrays of shape (C, 1, 1), broadcastable against (N, C, H, W).
    """
    norm = info.normalize
    if norm is None:
        raise ValueError(f"valid_range: the run {str(info.path)!r} records no image preprocessing "
                         f"(preprocess={info.preprocess!r}); pass `clip=(lo, hi)` yourself")
    mean, std = (np.asarray(v, np.float32).reshape(-1, 1, 1) for v in norm)
    # The same float32 operations as the training mapping, so a real pixel never falls outside.
    lo = (np.float32(0) - mean) / std
    hi = (np.float32(255) * np.float32(1 / 255) - mean) / std
    return lo, hi


def pixel_eps(eps: float, info) -> np.ndarray:
    """A budget of ``eps`` in pixel units ([0, 1] intensities) as input units: ``eps / std``.

    Returns a float32 array of shape (C, 1, 1), usable as ``eps`` for :func:`fgsm` / :func:`pgd`.
    """
    if info.normalize is None:
        raise ValueError(f"pixel_eps: the run {str(info.path)!r} records no image preprocessing")
    return (np.float32(eps) / np.asarray(info.normalize[1], np.float32)).reshape(-1, 1, 1)


def input_gradient(model, x, target) -> tuple[np.ndarray, np.ndarray]:
    """``∇ₓ`` of the summed cross-entropy of ``model(x)`` against ``target``, and the output.

    The sum (not the mean) keeps each sample's gradient independent of the batch.
    """
    import cnnlab
    import cnnlab.functional as F

    labels = cnnlab.from_numpy(np.asarray(target, dtype=np.int64).reshape(-1))
    t = inspect.trace(model, x, grads=True, target=lambda out: F.cross_entropy(out, labels, reduction="sum"))
    return t.input_grad, t.output


def _check(x, target, eps, clip, what: str):
    x = np.asarray(x)
    if x.dtype.kind != "f" or x.ndim < 2:
        raise ValueError(f"{what}: `x` must be a float batch of shape (N, ...), got {x.dtype} {x.shape}")
    target = np.asarray(target)
    if target.shape != (x.shape[0],) or target.dtype.kind not in "iu":
        raise ValueError(f"{what}: `target` must be {x.shape[0]} class indices, got {target.dtype} {target.shape}")
    eps_arr = np.asarray(eps, dtype=np.float64)
    if eps_arr.dtype.kind not in "fiu" or not np.all(np.isfinite(eps_arr)) or np.any(eps_arr < 0):
        raise ValueError(f"{what}: `eps` must be a finite number >= 0 (or an array of them), got {eps!r}")
    lo, hi = (None, None) if clip is None else (np.asarray(c, x.dtype) for c in clip)
    return x, target, lo, hi


def _clip(x, lo, hi):
    return x if lo is None else np.minimum(np.maximum(x, lo), hi)


def fgsm(model, x, target, eps: float, clip=None) -> np.ndarray:
    """One step of size ``eps`` along the sign of the loss gradient.

    Args:
        model: a cnnlab classifier returning logits (left unchanged).
        x: float batch (N, ...) in the model's input units.
        target: (N,) class indices whose loss the attack raises (usually the true labels).
        eps: the L∞ budget, in input units: a number, or an array broadcastable to ``x`` (per
            channel, e.g. :func:`pixel_eps`).
        clip: ``(lo, hi)`` the valid input range (scalars or arrays broadcastable to ``x``, e.g.
            :func:`valid_range`); None: no clipping.

    Returns:
        the adversarial batch, same shape and dtype as ``x``.
    """
    x, target, lo, hi = _check(x, target, eps, clip, "fgsm")
    grad, _ = input_gradient(model, x, target)
    return _clip(x + np.asarray(eps, x.dtype) * np.sign(grad).astype(x.dtype), lo, hi)


def pgd(model, x, target, eps: float, alpha: float, steps: int, generator=None, clip=None) -> np.ndarray:
    """Projected gradient descent in the L∞ ball of radius ``eps`` around ``x``.

    Args:
        model, x, target, eps, clip: as for :func:`fgsm`.
        alpha: the step size of each iteration.
        steps: the number of iterations (>= 1).
        generator: a ``numpy.random.Generator`` (or an int seed) for a uniform random start in
            the ball; None starts at ``x`` itself.

    Returns:
        the adversarial batch, same shape and dtype as ``x``.
    """
    x, target, lo, hi = _check(x, target, eps, clip, "pgd")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"pgd: `steps` must be an integer >= 1, got {steps!r}")
    if not np.all(np.isfinite(alpha)) or np.any(np.asarray(alpha) <= 0):
        raise ValueError(f"pgd: `alpha` must be a finite number > 0, got {alpha!r}")
    eps_, alpha_ = np.asarray(eps, x.dtype), np.asarray(alpha, x.dtype)
    low, high = x - eps_, x + eps_
    adv = x.copy()
    if generator is not None:
        rng = np.random.default_rng(generator)
        start = rng.uniform(-1.0, 1.0, size=x.shape) * np.asarray(eps, np.float64)
        adv = _clip(x + start.astype(x.dtype), lo, hi)
    for _ in range(steps):
        grad, _ = input_gradient(model, adv, target)
        adv = adv + alpha_ * np.sign(grad).astype(x.dtype)
        adv = _clip(np.minimum(np.maximum(adv, low), high), lo, hi)
    return adv


def accuracy_under_attack(model, x, y, eps_values, *, method: str = "fgsm", clip=None, alpha=None, steps: int = 10,
                          batch_size: int = 200, generator=None) -> list[float]:
    """Accuracy on ``(x, y)`` after the attack at each ``eps`` (``eps = 0``: the clean accuracy).

    Args:
        eps_values: budgets in input units (numbers or per-channel arrays, as for :func:`fgsm`).
        method: "fgsm" or "pgd" (then ``alpha`` defaults to ``2.5 · eps / steps``).
    """
    if method not in ("fgsm", "pgd"):
        raise ValueError(f"accuracy_under_attack: `method` must be one of 'fgsm', 'pgd', got {method!r}")
    x, y = np.asarray(x), np.asarray(y)
    accs = []
    for eps in eps_values:
        correct = 0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            if method == "fgsm":
                adv = fgsm(model, xb, yb, eps, clip=clip)
            else:
                adv = pgd(model, xb, yb, eps, 2.5 * np.asarray(eps) / steps + 1e-12 if alpha is None else alpha, steps, generator, clip=clip)
            correct += int((inspect.forward(model, adv).argmax(axis=1) == yb).sum())
        accs.append(correct / max(len(x), 1))
    return accs
