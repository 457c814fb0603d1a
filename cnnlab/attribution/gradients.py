"""Attributions from the gradient of the target's logit with respect to the input pixels.

Each function takes a classifier, a batch ``x`` of shape (N, C, H, W) and ``target`` (an
int, or one class index per sample) and returns a Tensor of ``x``'s shape, without grad.
The model is evaluated in eval mode and left exactly as it was (see ``_common.frozen``).
The definitions are Captum 0.9's ``Saliency``, ``InputXGradient``, ``IntegratedGradients``
(Gauss–Legendre, its default) and ``NoiseTunnel(Saliency)`` with SmoothGrad.
"""

from __future__ import annotations

import numpy as np

from ._common import frozen, input_gradients, prepare, result, target_scores
from .._tensor import Tensor


def saliency(model, x, target) -> Tensor:
    """|∂ logit_target / ∂ x| per input element (Simonyan et al. 2014).

    Example:
        >>> s = saliency(model, x, target=3)        # x: (N, C, H, W) → s: (N, C, H, W)
    """
    with frozen(model):
        a, t, _ = prepare(model, x, target)
        return result(np.abs(input_gradients(model, a, t)))


def input_x_gradient(model, x, target) -> Tensor:
    """x · ∂ logit_target / ∂ x per input element (Shrikumar et al. 2016)."""
    with frozen(model):
        a, t, _ = prepare(model, x, target)
        return result(a * input_gradients(model, a, t))


def gauss_legendre(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``(alphas, weights)`` of the ``steps``-point Gauss–Legendre rule on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    return 0.5 * (1 + nodes), 0.5 * weights


def _baseline_like(baseline, a: np.ndarray) -> np.ndarray:
    b = baseline.detach().numpy() if isinstance(baseline, Tensor) else np.asarray(baseline, dtype=a.dtype)
    try:
        return np.broadcast_to(b.astype(a.dtype, copy=False), a.shape)
    except ValueError:
        raise ValueError(f"`baseline`: expected a number or an array broadcastable to the input's shape "
                         f"{a.shape}, got shape {b.shape}") from None


def integrated_gradients(model, x, target, baseline=0.0, steps: int = 50, return_error: bool = False):
    """Integrated gradients along the straight path from ``baseline`` to ``x`` (Sundararajan et al. 2017).

    Args:
        baseline: a number, or an array/Tensor broadcastable to ``x`` (default 0.0).
        steps: points of the Gauss–Legendre quadrature (default 50, as Captum).
        return_error: also return the completeness gap per sample.

    Returns:
        attributions of ``x``'s shape; with ``return_error=True``, ``(attributions, error)``
        where ``error[n] = Σ attributions[n] − (f(x_n) − f(baseline_n))`` for the target's
        logit ``f``: Captum's convergence delta, zero for an exact integral.

    Notes:
        IG_i(x) = (x_i − b_i) ∫₀¹ ∂f/∂x_i (b + α(x − b)) dα ≈ (x_i − b_i) Σ_s w_s ∂f/∂x_i (b + α_s(x − b)).
        All ``steps × N`` scaled inputs go through the model as batches, step-major as Captum.
    """
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"`steps`: expected a positive integer, got {steps!r}")
    with frozen(model):
        a, t, _ = prepare(model, x, target)
        b = _baseline_like(baseline, a)
        alphas, weights = gauss_legendre(int(steps))
        alphas = alphas.astype(a.dtype).reshape(-1, 1, 1, 1, 1)
        scaled = (b + alphas * (a - b)).reshape(-1, *a.shape[1:])
        grads = input_gradients(model, scaled, np.tile(t, steps)).reshape(steps, *a.shape)
        w = weights.astype(a.dtype).reshape(-1, 1, 1, 1, 1)
        attr = (grads * w).sum(axis=0) * (a - b)
        if not return_error:
            return result(attr)
        gap = attr.reshape(len(a), -1).sum(axis=1) - (target_scores(model, a, t) -
                                                       target_scores(model, np.ascontiguousarray(b), t))
        return result(attr), result(gap)


def smoothgrad(model, x, target, samples: int = 25, noise: float = 0.15, generator=None) -> Tensor:
    """The mean saliency over ``samples`` noisy copies of each input (Smilkov et al. 2017).

    Args:
        samples: noisy copies per input (default 25).
        noise: the Gaussian noise's standard deviation as a fraction of each input's range
            ``x.max() − x.min()`` (default 0.15, the paper's 10–20%).
        generator: a ``numpy.random.Generator`` or an int seed; default cnnlab's generator
            (seeded by ``cnnlab.manual_seed``). Noise is drawn as one
            ``standard_normal((samples, N, C, H, W))`` array.
    """
    if not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"`samples`: expected a positive integer, got {samples!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"`noise`: expected a fraction ≥ 0 of the input's range, got {noise!r}")
    if generator is None:
        from ..random import default_generator

        generator = default_generator()
    elif not isinstance(generator, np.random.Generator):
        generator = np.random.default_rng(generator)
    with frozen(model):
        a, t, _ = prepare(model, x, target)
        flat = a.reshape(len(a), -1)
        sigma = (noise * (flat.max(axis=1) - flat.min(axis=1))).astype(a.dtype).reshape(-1, 1, 1, 1)
        eps = generator.standard_normal((samples, *a.shape), dtype=np.float32).astype(a.dtype, copy=False)
        noisy = (a + sigma * eps).reshape(-1, *a.shape[1:])
        grads = input_gradients(model, noisy, np.tile(t, samples)).reshape(samples, *a.shape)
        return result(np.abs(grads).mean(axis=0))
