"""cnnlab.attribution against Captum 0.9 on torch twins of the same weights: random models,
inputs, targets, baselines, windows and strides; values equal within float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

captum_attr = pytest.importorskip("captum.attr", reason="captum is a test dependency (pip install -e .[dev])")

from attribution_twins import assert_equal_within_rounding, inputs, mnist_cnn_twin, random_twin  # noqa: E402

from cnnlab import attribution  # noqa: E402

SEEDS = range(8)


def _case(seed):
    twin = mnist_cnn_twin(seed) if seed % 3 == 0 else random_twin(seed)
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 4))
    x = inputs(twin, n, seed)
    target = rng.integers(0, twin.classes, size=n) if seed % 2 else int(rng.integers(0, twin.classes))
    return twin, x, target


def _torch_target(target):
    return target.tolist() if isinstance(target, np.ndarray) else target


@pytest.mark.parametrize("seed", SEEDS)
def test_saliency_and_input_x_gradient(seed):
    twin, x, target = _case(seed)
    xt = torch.from_numpy(x).requires_grad_()
    expected = captum_attr.Saliency(twin.theirs).attribute(xt, target=_torch_target(target), abs=True)
    assert_equal_within_rounding(attribution.saliency(twin.ours, x, target), expected, "saliency")
    expected = captum_attr.InputXGradient(twin.theirs).attribute(xt, target=_torch_target(target))
    assert_equal_within_rounding(attribution.input_x_gradient(twin.ours, x, target), expected,
                                 "input x gradient")


@pytest.mark.parametrize("seed", SEEDS)
def test_integrated_gradients_and_convergence_delta(seed):
    twin, x, target = _case(seed)
    rng = np.random.default_rng(seed)
    steps = int(rng.integers(3, 60))
    # A constant baseline makes the first steps' images nearly constant, so a max pool sees
    # windows whose top two values differ by less than float32 rounding: two libraries (or two
    # batch sizes of one) may then route the gradient to different elements, which is not an
    # error. Max-pool models get a random baseline; the others a constant one.
    baseline = (rng.standard_normal(x.shape).astype(np.float32) if twin.max_pool else
                float(rng.normal()))
    tb = baseline if isinstance(baseline, float) else torch.from_numpy(baseline)
    ig = captum_attr.IntegratedGradients(twin.theirs)
    expected, delta = ig.attribute(torch.from_numpy(x), baselines=tb, target=_torch_target(target),
                                   n_steps=steps, return_convergence_delta=True)
    ours, error = attribution.integrated_gradients(twin.ours, x, target, baseline=baseline, steps=steps,
                                                   return_error=True)
    assert_equal_within_rounding(ours, expected, f"integrated gradients ({steps} steps)")
    # the delta is a difference of sums of O(1) numbers: compare at the logits' rounding scale
    scale = np.abs(twin.theirs(torch.from_numpy(x)).detach().numpy()).max()
    np.testing.assert_allclose(error.numpy(), delta.detach().numpy(), rtol=0, atol=2e-5 * max(scale, 1),
                               err_msg="completeness gap: cnnlab vs Captum's convergence delta")
    assert error.shape == (len(x),)


@pytest.mark.parametrize("seed", SEEDS)
def test_occlusion(seed):
    twin, x, target = _case(seed)
    rng = np.random.default_rng(seed)
    c, h, w = twin.input_shape
    window = (int(rng.integers(1, c + 1)), int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    stride = tuple(int(rng.integers(1, k + 1)) for k in window)
    baseline = [0.0, float(rng.normal()), rng.standard_normal(x.shape).astype(np.float32)][seed % 3]
    expected = captum_attr.Occlusion(twin.theirs).attribute(
        torch.from_numpy(x), sliding_window_shapes=window, strides=stride,
        baselines=baseline if isinstance(baseline, float) else torch.from_numpy(baseline),
        target=_torch_target(target))
    ours = attribution.occlusion(twin.ours, x, target, window=window, stride=stride, baseline=baseline)
    # a drop is a difference of two logits: rounding is relative to the logits, not to the drop
    scale = np.abs(twin.theirs(torch.from_numpy(x)).detach().numpy()).max()
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-4, atol=2e-5 * max(scale, 1),
                               err_msg=f"occlusion window {window} stride {stride}: cnnlab vs Captum")


@pytest.mark.parametrize("seed", SEEDS)
def test_smoothgrad_is_the_mean_saliency_over_the_documented_noise(seed):
    """Captum's NoiseTunnel draws its own torch noise; the same noise, drawn as documented
    (σ = noise × range per input, one standard_normal((samples, *x.shape)) array), must give
    the mean of Captum's saliency over the noisy copies."""
    twin, x, target = _case(seed)
    samples, noise = 5, 0.2
    ours = attribution.smoothgrad(twin.ours, x, target, samples=samples, noise=noise, generator=seed)
    eps = np.random.default_rng(seed).standard_normal((samples, *x.shape), dtype=np.float32)
    sigma = noise * (x.reshape(len(x), -1).max(1) - x.reshape(len(x), -1).min(1))
    noisy = x + sigma.reshape(-1, 1, 1, 1).astype(np.float32) * eps
    sal = captum_attr.Saliency(twin.theirs)
    expected = np.mean([sal.attribute(torch.from_numpy(v).requires_grad_(), target=_torch_target(target)).numpy()
                        for v in noisy], axis=0)
    assert_equal_within_rounding(ours, expected, "smoothgrad")


@pytest.mark.parametrize("seed", SEEDS)
def test_grad_cam(seed):
    twin, x, target = _case(seed)
    name = twin.convs[seed % len(twin.convs)]
    layer = dict(twin.theirs.named_modules())[name]
    expected = captum_attr.LayerGradCam(twin.theirs, layer).attribute(
        torch.from_numpy(x), target=_torch_target(target), relu_attributions=True)
    ours = attribution.grad_cam(twin.ours, x, target, name if seed % 2 else dict(twin.ours.named_modules())[name])
    assert_equal_within_rounding(ours, expected[:, 0], f"Grad-CAM of {name}")
    size = twin.input_shape[1:]
    assert_equal_within_rounding(attribution.upsample(ours, size),
                                 captum_attr.LayerAttribution.interpolate(expected, size, "bilinear")[:, 0],
                                 f"Grad-CAM of {name} upsampled")
