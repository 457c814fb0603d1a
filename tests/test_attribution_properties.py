"""Properties of the attribution maps that hold without any reference library, and the
promise that an attribution leaves the model and the input as they were."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlab
from cnnlab import attribution, nn


def _blind_model(h=12, w=12, classes=4, seen_cols=5):
    """conv 3×3 (padding 1) → tanh → linear that reads only the conv outputs of columns
    < ``seen_cols``: the model cannot see input columns ≥ ``seen_cols + 1``."""
    cnnlab.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(3 * h * w, classes))
    weight = model[3].weight.detach().numpy().reshape(classes, 3, h, w)
    weight[..., seen_cols:] = 0
    return model.eval()


def _smooth_model(seed=0):
    cnnlab.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 5 * 5, 3)).eval()


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_integrated_gradients_completeness(seed):
    """Σ attributions = f(x) − f(baseline) up to the quadrature error, which shrinks with steps;
    the reported gap is exactly that difference, computed here from two plain forwards."""
    model, x = _smooth_model(seed), _x((3, 2, 12, 12), seed)
    base = _x(x.shape, seed + 10) * 0.1
    with cnnlab.no_grad():
        fx = model(cnnlab.from_numpy(x)).numpy()[:, 1]
        fb = model(cnnlab.from_numpy(base)).numpy()[:, 1]
    gaps = []
    for steps in (2, 64):
        attr, gap = attribution.integrated_gradients(model, x, 1, baseline=base, steps=steps, return_error=True)
        expected = attr.numpy().reshape(3, -1).astype(np.float64).sum(1) - (fx - fb)
        np.testing.assert_allclose(gap.numpy(), expected, atol=1e-5)
        gaps.append(np.abs(gap.numpy()).max())
    assert gaps[1] < 1e-4 * np.abs(fx - fb).max(), gaps
    assert gaps[0] > 10 * gaps[1], gaps  # the 2-point rule is visibly worse: the check can fail


def test_integrated_gradients_is_exact_for_a_linear_model():
    cnnlab.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 5 * 5, 3)).eval()
    x = _x((2, 2, 5, 5))
    attr = attribution.integrated_gradients(model, x, [2, 0], baseline=0.5, steps=3).numpy()
    w = model[1].weight.detach().numpy()
    expected = np.stack([w[2], w[0]]).reshape(x.shape) * (x - 0.5)
    np.testing.assert_allclose(attr, expected, rtol=1e-5, atol=1e-7)


def test_occluding_what_the_model_cannot_see_gives_zero():
    model, x = _blind_model(), _x((2, 1, 12, 12), 1)
    attr = attribution.occlusion(model, x, [1, 3], window=(1, 2, 2), stride=(1, 2, 2)).numpy()
    # columns ≥ 6 are invisible; windows (stride 2, size 2) there never touch a visible column
    assert np.all(attr[..., 6:] == 0)
    assert np.abs(attr[..., :6]).min(axis=(-1, -2)).max() > 0 and np.count_nonzero(attr[..., :6]) > 30


def test_gradients_of_what_the_model_cannot_see_are_zero():
    model, x = _blind_model(), _x((2, 1, 12, 12), 2)
    for name in ("saliency", "input_x_gradient", "integrated_gradients", "smoothgrad"):
        attr = getattr(attribution, name)(model, x, 2).numpy()
        assert np.all(attr[..., 6:] == 0), name
        assert np.count_nonzero(attr[..., :6]) > 30, name


def test_smoothgrad_without_noise_is_saliency_and_is_seeded():
    model, x = _smooth_model(), _x((2, 2, 12, 12))
    np.testing.assert_allclose(attribution.smoothgrad(model, x, 0, samples=3, noise=0.0).numpy(),
                               attribution.saliency(model, x, 0).numpy(), rtol=1e-5, atol=1e-9)
    a = attribution.smoothgrad(model, x, 0, samples=4, generator=7).numpy()
    b = attribution.smoothgrad(model, x, 0, samples=4, generator=np.random.default_rng(7)).numpy()
    c = attribution.smoothgrad(model, x, 0, samples=4, generator=8).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    cnnlab.manual_seed(5)
    d = attribution.smoothgrad(model, x, 0, samples=4).numpy()
    cnnlab.manual_seed(5)
    np.testing.assert_array_equal(d, attribution.smoothgrad(model, x, 0, samples=4).numpy())


class _Blindfold(nn.Module):
    """Zeroes the input's columns ≥ ``cols``: the rest of the model never sees them."""

    def __init__(self, cols):
        super().__init__()
        self.cols = cols

    def forward(self, x):
        mask = np.ones(x.shape[-1], np.float32)
        mask[self.cols:] = 0
        return x * cnnlab.from_numpy(mask)


def test_grad_cam_is_zero_where_the_model_does_not_look():
    cnnlab.manual_seed(1)
    model = nn.Sequential(_Blindfold(6), nn.Conv2d(1, 4, 3, bias=False), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 10 * 10, 3)).eval()
    x = np.abs(_x((3, 1, 12, 12), 4)) + 0.1
    for layer in ("1", "2"):
        cam = attribution.grad_cam(model, x, [0, 1, 2], layer).numpy()
        assert cam.shape == (3, 10, 10)
        assert np.all(cam[..., 6:] == 0), layer      # conv outputs ≥ 6 read only blindfolded columns
        assert np.count_nonzero(cam[..., :4]) > 10, layer


def test_upsample_keeps_constants_and_corners():
    m = np.random.default_rng(0).standard_normal((2, 4, 4)).astype(np.float32)
    up = attribution.upsample(m, (16, 16)).numpy()
    np.testing.assert_allclose(attribution.upsample(np.full((1, 3, 5), 2.5), (7, 9)).numpy(), 2.5)
    np.testing.assert_allclose(up[:, :2, :2], m[:, :1, :1].repeat(2, 1).repeat(2, 2), rtol=1e-6)
    with pytest.raises(ValueError, match=r"upsample: expected maps of shape \(N, h, w\) or \(h, w\)"):
        attribution.upsample(np.zeros((1, 1, 2, 2)), (4, 4))


METHODS = {
    "saliency": lambda m, x: attribution.saliency(m, x, 1),
    "input_x_gradient": lambda m, x: attribution.input_x_gradient(m, x, 1),
    "integrated_gradients": lambda m, x: attribution.integrated_gradients(m, x, 1, steps=4, return_error=True)[0],
    "smoothgrad": lambda m, x: attribution.smoothgrad(m, x, 1, samples=2, generator=0),
    "occlusion": lambda m, x: attribution.occlusion(m, x, 1, window=(1, 3, 3), stride=(1, 3, 3)),
    "grad_cam": lambda m, x: attribution.grad_cam(m, x, 1, "1"),
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_the_model_and_input_are_left_as_they_were(method):
    cnnlab.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 10 * 10, 3))
    model.train()
    model[0].eval()
    grad = cnnlab.ones(4, 2, 3, 3)
    model[0].weight.grad = grad
    model[4].bias.requires_grad_(False)
    handle = model[1].register_forward_hook(lambda *a: None)
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    x = _x((2, 2, 12, 12))
    x_before = x.copy()
    out = METHODS[method](model, x)
    assert isinstance(out, cnnlab.Tensor) and not out.requires_grad and out.grad_fn is None
    assert out.shape == ((2, 10, 10) if method == "grad_cam" else x.shape)
    assert [m.training for m in model.modules()] == [True, False, True, True, True, True]
    assert model[0].weight.grad is grad and np.all(grad.numpy() == 1)
    assert model[0].bias.grad is None and model[4].weight.grad is None
    assert [p.requires_grad for p in model.parameters()] == [True, True, True, False]
    assert len(model[1]._forward_hooks) == 1 and all(len(m._forward_hooks) == 0 for i, m in enumerate(model) if i != 1)
    handle.remove()
    assert all(np.array_equal(v.numpy(), state[k]) for k, v in model.state_dict().items())
    np.testing.assert_array_equal(x, x_before)
    # eval mode inside: dropout off, so two calls agree exactly
    np.testing.assert_array_equal(out.numpy(), METHODS[method](model, x).numpy())


@pytest.mark.parametrize("call, message", [
    (lambda m, x: attribution.saliency(m, x, 3), "`target`: expected class indices in 0..2, got 3"),
    (lambda m, x: attribution.saliency(m, x, [0]), "`target`: expected 2 class indices (one per sample), got 1"),
    (lambda m, x: attribution.saliency(m, x, 0.5), "`target`: expected an int or one class index per sample"),
    (lambda m, x: attribution.saliency(m, x[0], 0), "`x`: expected a batch of images of shape (N, C, H, W), got shape (2, 12, 12)"),
    (lambda m, x: attribution.integrated_gradients(m, x, 0, steps=0), "`steps`: expected a positive integer, got 0"),
    (lambda m, x: attribution.integrated_gradients(m, x, 0, baseline=np.zeros((3, 3), np.float32)),
     "`baseline`: expected a number or an array broadcastable to the input's shape (2, 2, 12, 12), got shape (3, 3)"),
    (lambda m, x: attribution.smoothgrad(m, x, 0, noise=-1), "`noise`: expected a fraction ≥ 0"),
    (lambda m, x: attribution.occlusion(m, x, 0, window=(1, 13, 2)), "`window`: (1, 13, 2) does not fit the input's (C, H, W) = (2, 12, 12)"),
    (lambda m, x: attribution.occlusion(m, x, 0, window=(1, 2, 2), stride=(1, 3, 1)), "`stride`: each must be at most the window's (1, 2, 2), got (1, 3, 1)"),
    (lambda m, x: attribution.occlusion(m, x, 0, window=(1, 0, 2)), "`window`: expected three positive integers (C, h, w), got (1, 0, 2)"),
    (lambda m, x: attribution.grad_cam(m, x, 0, "fc"), "`layer`: Sequential has no layer 'fc'; layers: 0, 1, 2, 3, 4"),
    (lambda m, x: attribution.grad_cam(m, x, 0, nn.ReLU()), "`layer`: expected a layer name or a submodule of Sequential, got ReLU"),
    (lambda m, x: attribution.grad_cam(m, x, 0, "4"), "`layer`: Grad-CAM needs a layer with outputs of shape (N, C, h, w); '4' (Linear) gives (2, 3); layers with such outputs: 0, 1, 2"),
    (lambda m, x: attribution.grad_cam(m, x, 5, "0"), "`target`: expected class indices in 0..2, got 5"),
])
def test_bad_arguments_say_what_was_expected(call, message):
    with pytest.raises(ValueError) as err:
        call(_smooth_model(), _x((2, 2, 12, 12)))
    assert message in str(err.value)
