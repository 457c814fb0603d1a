"""Step-by-step conv / pool / ReLU frames vs torch and scipy, and their renderers."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from scipy.signal import correlate2d

from cnnlab.cli import main
from cnnlab.viz.stepper import (EDGE_IMAGE, EDGE_KERNEL, LECTURE_IMAGE, LECTURE_KERNEL, PADDING_IMAGE,
                                POOL_IMAGE, RELU_IMAGE, conv_steps, pool_steps, relu_steps)
from cnnlab.viz.stepper_render import gif_frames, render_frame, save_gif


def test_lecture_example_ends_in_lecture_output():
    walk = conv_steps(LECTURE_IMAGE, LECTURE_KERNEL)
    assert len(walk.steps) == 9
    np.testing.assert_array_equal(walk.output, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    # The output fills in cell by cell, row-major, as on the slides.
    assert [s.out_pos for s in walk.steps] == [(i, j) for i in range(3) for j in range(3)]
    assert np.isnan(walk.output_after(0)).sum() == 8
    assert walk.steps[0].expression.endswith("= 4")


def test_edge_example_rows():
    out = conv_steps(EDGE_IMAGE, EDGE_KERNEL).output
    np.testing.assert_array_equal(out, [[0, 30, 30, 0]] * 4)


@pytest.mark.parametrize("seed", range(6))
def test_conv_steps_match_torch_and_scipy(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(3, 9, size=2)
    kh, kw = rng.integers(1, 4, size=2)
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    img, ker = rng.integers(-5, 6, (h, w)).astype(float), rng.integers(-3, 4, (kh, kw)).astype(float)
    ours = conv_steps(img, ker, stride, padding).output
    ref = TF.conv2d(torch.tensor(img)[None, None], torch.tensor(ker)[None, None], stride=stride,
                    padding=padding)[0, 0].numpy()
    np.testing.assert_allclose(ours, ref, err_msg="cnnlab vs torch")
    full = correlate2d(np.pad(img, padding), ker, mode="valid")[::stride, ::stride]
    np.testing.assert_allclose(ours, full, err_msg="cnnlab vs scipy")


def test_padding_example_is_lecture_geometry():
    walk = conv_steps(PADDING_IMAGE, LECTURE_KERNEL, stride=3, padding=1)
    assert walk.padded.shape == (9, 9) and walk.output.shape == (3, 3)
    ref = TF.conv2d(torch.tensor(PADDING_IMAGE)[None, None], torch.tensor(LECTURE_KERNEL)[None, None],
                    stride=3, padding=1)[0, 0].numpy()
    np.testing.assert_allclose(walk.output, ref)


@pytest.mark.parametrize("kind,k,s", [("max", 2, 2), ("avg", 2, 2), ("max", 3, 1), ("avg", 3, 2)])
def test_pool_steps_match_torch(kind, k, s):
    rng = np.random.default_rng(k * 10 + s)
    img = rng.integers(0, 20, (7, 6)).astype(float)
    ours = pool_steps(img, kind, k, s).output
    fn = TF.max_pool2d if kind == "max" else TF.avg_pool2d
    ref = fn(torch.tensor(img)[None, None], k, s)[0, 0].numpy()
    np.testing.assert_allclose(ours, ref)


def test_lecture_pool_and_relu_examples():
    np.testing.assert_array_equal(relu_steps(RELU_IMAGE).output,
                                  [[1, 14, 0, 4], [0, 0, 10, 6], [0, 3, 11, 1], [2, 54, 0, 80]])
    np.testing.assert_array_equal(pool_steps(POOL_IMAGE, "max").output, [[14, 10], [54, 80]])
    np.testing.assert_allclose(pool_steps(POOL_IMAGE, "avg").output, [[3.75, 5], [14.75, 23]])
    np.testing.assert_allclose(relu_steps(RELU_IMAGE).output, torch.relu(torch.tensor(RELU_IMAGE)).numpy())


def test_kernel_larger_than_image_is_refused():
    with pytest.raises(ValueError, match="3x3 kernel is larger than the 2x2 image"):
        conv_steps(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="kind must be one of"):
        pool_steps(np.ones((4, 4)), "median")


def test_terminal_frames_plain_and_coloured():
    walk = conv_steps(LECTURE_IMAGE, LECTURE_KERNEL)
    plain = render_frame(walk, 0, color=False)
    assert "step 1/9" in plain and "[1]" in plain and "\x1b[" not in plain
    coloured = render_frame(walk, 4, color=True)
    assert "\x1b[" in coloured and "output[1, 1]" in coloured


def test_gif_frames_show_every_step(tmp_path):
    walk = conv_steps(PADDING_IMAGE, LECTURE_KERNEL, 3, 1)
    path = save_gif(walk, str(tmp_path / "c.gif"))
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 9
    # The frames differ (the window moves), so the animation is not one repeated picture.
    frames = [np.asarray(f) for f in gif_frames(walk)]
    assert all((a != b).any() for a, b in zip(frames, frames[1:]))


def _result_matrix(text):
    block = text.split("Result")[1].splitlines()[1:]
    return np.array([[float(v) for v in line.split()] for line in block
                     if line.strip() and not line.startswith("wrote")])


def test_explain_conv_cli_default_is_lecture(tmp_path, capsys):
    gif = tmp_path / "conv.gif"
    assert main(["explain-conv", "--no-animate", "--gif", str(gif)]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"step \d/9", out)) == 9
    np.testing.assert_array_equal(_result_matrix(out), [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert gif.stat().st_size > 0


def test_explain_conv_cli_custom_and_pool_relu(tmp_path, capsys):
    assert main(["explain-conv", "--no-animate", "--gif", "", "--image", "[[1,2,3],[4,5,6],[7,8,9]]",
                 "--kernel", "[[1,0],[0,-1]]", "--padding", "1", "--stride", "2"]) == 0
    img = np.arange(1, 10, dtype=float).reshape(3, 3)
    ref = TF.conv2d(torch.tensor(img)[None, None], torch.tensor([[[[1.0, 0], [0, -1]]]], dtype=torch.float64),
                    stride=2, padding=1)[0, 0].numpy()
    np.testing.assert_allclose(_result_matrix(capsys.readouterr().out), ref)
    assert main(["explain-pool", "--op", "avg", "--no-animate", "--gif", str(tmp_path / "p.gif")]) == 0
    np.testing.assert_allclose(_result_matrix(capsys.readouterr().out), [[3.75, 5], [14.75, 23]])
    assert main(["explain-relu", "--no-animate", "--gif", str(tmp_path / "r.gif")]) == 0
    np.testing.assert_array_equal(_result_matrix(capsys.readouterr().out), np.maximum(RELU_IMAGE, 0))


@pytest.mark.parametrize("argv,message", [
    (["explain-conv", "--image", "2x2"], "larger than the 2x2 image"),
    (["explain-conv", "--kernel", "blurr"], "valid names: box-blur, sharpen"),
    (["explain-conv", "--kernel", "[[1,2],[3]]"], "parsed [[1, 2], [3]]"),
    (["explain-conv", "--image", "[[1,2],[3,'a']]"], "parsed"),
    (["explain-pool", "--image", "[[1]]"], "2x2 kernel is larger"),
])
def test_explain_bad_input(argv, message, capsys):
    assert main(argv + ["--gif", "", "--no-animate"]) == 2
    assert message in capsys.readouterr().err
