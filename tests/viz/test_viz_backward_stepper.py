"""Backward frames of conv / max-pool / ReLU: every number shown vs cnnlab's autograd and torch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import cnnlab
import cnnlab.functional as F
from cnnlab.cli import main
from cnnlab.viz.backward_render import gif_frames, render_frame, save_gif
from cnnlab.viz.backward_stepper import (EXAMPLES, conv_backward_steps, example_walks, max_pool_backward_steps,
                                         relu_backward_steps)


def _grads_cnnlab(fn, upstream, *arrays):
    ts = [cnnlab.tensor(a[None, None], requires_grad=True) for a in arrays]
    (fn(*ts) * cnnlab.tensor(upstream[None, None])).sum().backward()
    return [t.grad.numpy()[0, 0] for t in ts]


def _grads_torch(fn, upstream, *arrays):
    ts = [torch.tensor(a[None, None], requires_grad=True) for a in arrays]
    (fn(*ts) * torch.tensor(upstream[None, None])).sum().backward()
    return [t.grad.numpy()[0, 0] for t in ts]


def _check_steps(walk, reference, reference_after=None):
    """Every frame: the cells reached so far equal the reference (``reference_after(k)`` when
    windows overlap and cells add up); each sum shown adds up."""
    seen = np.zeros(reference.shape, dtype=bool)
    for k, step in enumerate(walk.steps):
        for cell in step.written:
            seen[cell] = True
        done = ~np.isnan(step.result)
        ref = reference if reference_after is None else reference_after(k)
        np.testing.assert_allclose(step.result[done], ref[done])
        if walk.op.startswith("conv"):
            assert step.panels[-1].name == "Products"
            assert np.isclose(step.panels[-1].matrix.sum(), step.result[step.written[0]])
            assert step.expression.endswith(f"= {step.expression.split('= ')[-1]}")
    assert seen.any() and not np.isnan(walk.result).any()
    np.testing.assert_allclose(walk.result, reference)


def _conv_case(image, kernel, upstream):
    dw_walk, dx_walk = conv_backward_steps(image, kernel, upstream)
    for grads in (_grads_cnnlab(F.conv2d, upstream, image, kernel), _grads_torch(TF.conv2d, upstream, image, kernel)):
        dx, dw = grads
        _check_steps(dw_walk, dw)
        _check_steps(dx_walk, dx)
    assert len(dw_walk.steps) == kernel.size and len(dx_walk.steps) == image.size


@pytest.mark.parametrize("name", ["lecture", "edge"])
def test_conv_examples_equal_autograd(name):
    ex = EXAMPLES[name]
    _conv_case(ex["image"], ex["kernel"], ex["upstream"])


@pytest.mark.parametrize("seed", range(3))
def test_conv_random_equal_autograd(seed):
    rng = np.random.default_rng(seed)
    h, w, k = int(rng.integers(3, 7)), int(rng.integers(3, 7)), int(rng.integers(1, 4))
    image, kernel = rng.integers(-3, 4, (h, w)).astype(float), rng.integers(-2, 3, (k, k)).astype(float)
    _conv_case(image, kernel, rng.integers(-2, 3, (h - k + 1, w - k + 1)).astype(float))


def test_lecture_weight_gradient_first_cell_by_hand():
    dw_walk, _ = example_walks("lecture")
    # X[0:3, 0:3] * G summed: 1*1 + 1*0 + 1*(-1) + 0*2 + 1*1 + 1*0 + 0*0 + 0*(-1) + 1*1 = 2
    assert dw_walk.steps[0].result[0, 0] == 2
    assert dw_walk.steps[0].expression.endswith("= 2")


@pytest.mark.parametrize("seed,k,s", [(0, 2, 2), (1, 2, 1), (2, 3, 1), (3, 3, 2)])
def test_max_pool_routes_like_autograd_with_ties(seed, k, s):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 3, (6, 6)).astype(float)  # many ties
    oh = (6 - k) // s + 1
    upstream = rng.integers(1, 5, (oh, oh)).astype(float)
    walk = max_pool_backward_steps(image, upstream, k, s)

    def first(k_steps):  # the upstream gradient of the windows visited so far, zero elsewhere
        g = np.zeros_like(upstream)
        g.ravel()[:k_steps + 1] = upstream.ravel()[:k_steps + 1]
        return g

    for grads in (_grads_cnnlab, _grads_torch):
        pool = (lambda t: F.max_pool2d(t, k, s)) if grads is _grads_cnnlab else (lambda t: TF.max_pool2d(t, k, s))
        _check_steps(walk, grads(pool, upstream, image)[0], lambda j: grads(pool, first(j), image)[0])


def test_pool_and_relu_examples_equal_autograd():
    ex = EXAMPLES["pool"]
    (walk,) = example_walks("pool")
    ref = _grads_torch(lambda t: TF.max_pool2d(t, 2, 2), ex["upstream"], ex["image"])[0]
    _check_steps(walk, ref)
    _check_steps(walk, _grads_cnnlab(lambda t: F.max_pool2d(t, 2, 2), ex["upstream"], ex["image"])[0])
    ex = EXAMPLES["relu"]
    image = ex["image"].copy()
    image[0, 0] = 0.0  # x = 0 passes no gradient, as in torch
    walk = relu_backward_steps(image, ex["upstream"])
    _check_steps(walk, _grads_torch(TF.relu, ex["upstream"], image)[0])
    _check_steps(walk, _grads_cnnlab(F.relu, ex["upstream"], image)[0])
    assert walk.result[0, 0] == 0


def test_bad_upstream_shape_names_it():
    with pytest.raises(ValueError, match=r"upstream gradient must have the output's shape \(3, 3\), got \(2, 2\)"):
        conv_backward_steps(np.ones((5, 5)), np.ones((3, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="relu backward"):
        relu_backward_steps(np.ones((2, 2)), np.ones((3, 3)))


def test_terminal_and_gif_show_the_numbers(tmp_path):
    walks = example_walks("lecture")
    text = render_frame(walks[0], 0, color=False)
    assert "[2]" in text and "∂L/∂W[0, 0] = " in text
    frames = gif_frames(walks)
    assert len(frames) == 9 + 25 and len({f.size for f in frames}) == 1
    path = save_gif(walks, str(tmp_path / "b.gif"))
    from PIL import Image
    assert Image.open(path).n_frames == 34


def test_cli_prints_final_gradients(tmp_path, capsys):
    gif = tmp_path / "p.gif"
    assert main(["explain-backward", "--example", "pool", "--no-animate", "--gif", str(gif)]) == 0
    out = capsys.readouterr().out
    ex = EXAMPLES["pool"]
    ref = _grads_torch(lambda t: TF.max_pool2d(t, 2, 2), ex["upstream"], ex["image"])[0]
    block = out.split("∂L/∂X (4x4):\n")[1].strip().splitlines()
    shown = np.array([[float(v) for v in row.split()] for row in block[:4]])
    np.testing.assert_array_equal(shown, ref)
    assert gif.exists()
