"""The output-size calculator and `cnnlab size`: the lecture's figures, torch's shapes, clear refusals."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as TF

import cnnlab
from cnnlab.cli import main
from cnnlab.summarize import explain_output_size, format_shape, layer_flow

MNIST_FLOW = "1×28×28 → 16×24×24 → 16×12×12 → 24×8×8 → 24×4×4 → 384 → 64 → 10"
MNIST_STACK = "conv16k5,pool2,conv24k5,pool2,flatten,fc64,fc10"
ALEXNET_STACK = "conv96k11s4,relu,lrn,pool3s2,conv256k5p2,relu,lrn,pool3s2,conv384k3p1,conv384k3p1,conv256k3p1,pool3s2"


def test_lecture_examples():
    assert cnnlab.conv_output_size(32, 5, 0, 1) == 28           # (32 − 5 + 2·0)/1 + 1 = 28
    assert cnnlab.conv_output_size(7, 3, P=1, S=3) == 3         # 7×7, pad 1, 3×3, stride 3 → 3×3
    assert cnnlab.conv_output_size(5, 3) == 3                   # the 5×5 image, 3×3 kernel example
    assert cnnlab.conv_output_size(6, 3) == 4                   # vertical edge detection: 6×6 → 4×4
    assert cnnlab.conv_output_size(227, 11, 0, 4) == 55         # AlexNet conv1
    for k in (1, 3, 5, 7, 11):                                  # P = (K − 1)/2 keeps the size at stride 1
        assert cnnlab.conv_output_size(32, k, (k - 1) // 2, 1) == 32
    # the MNIST CNN's dimension flow, step by step as the lecture writes it
    assert cnnlab.conv_output_size(28, 5) == 24 and cnnlab.conv_output_size(24, 2, S=2) == 12
    assert cnnlab.conv_output_size(12, 5) == 8 and cnnlab.conv_output_size(8, 2, S=2) == 4


def test_matches_torch_conv_and_pool_shapes():
    """Every small setting: our size (or our refusal) equals torch's conv2d / max_pool2d shape (or error)."""
    checked = 0
    for W, K, S, P, d in itertools.product(range(1, 12), range(1, 5), range(1, 4), range(0, 3), (1, 2)):
        x = torch.zeros(1, 1, W, W)
        for ceil in (False, True):
            try:
                expected = TF.max_pool2d(x, K, S, P, d, ceil_mode=ceil).shape[-1]
            except RuntimeError:
                expected = None
            try:
                got = cnnlab.conv_output_size(W, K, P, S, d, ceil_mode=ceil, pool=True)
            except ValueError:
                got = None
            assert got == expected, f"pool W={W} K={K} S={S} P={P} d={d} ceil={ceil}: cnnlab {got} vs torch {expected}"
        try:
            expected = TF.conv2d(x, torch.zeros(1, 1, K, K), None, S, P, d).shape[-1]
        except RuntimeError:
            expected = None
        try:
            got = cnnlab.conv_output_size(W, K, P, S, d)
        except ValueError:
            got = None
        assert got == expected, f"conv W={W} K={K} S={S} P={P} d={d}: cnnlab {got} vs torch {expected}"
        checked += 1
    assert checked == 11 * 4 * 3 * 3 * 2


@pytest.mark.parametrize("W,K,P,S", [(224, 11, 2, 4), (10, 3, 0, 2), (9, 4, 0, 3), (28, 5, 1, 2)])
def test_non_divisible_stride_explains_what_torch_crops(W, K, P, S):
    r = explain_output_size(W, K, P, S)
    span = W + 2 * P - K
    assert span % S != 0 and not r.exact
    assert r.cropped == span % S
    assert "not divisible" in r.explanation and f"rounds down to O = {r.size}" in r.explanation
    # torch: r.size outputs, and exactly the last `cropped` rows of the padded input get no gradient
    padded = TF.pad(torch.ones(1, 1, W, W), (P, P, P, P)).requires_grad_()
    out = TF.conv2d(padded, torch.ones(1, 1, K, K), None, S)
    assert out.shape[-1] == r.size
    out.sum().backward()
    used = torch.nonzero(padded.grad[0, 0, :, 0]).flatten()
    assert int(used.min()) == 0 and (W + 2 * P) - (int(used.max()) + 1) == r.cropped


def test_divisible_and_ceil_mode_sentences():
    r = cnnlab.conv_output_size(227, 11, 0, 4, explain=True)
    assert r.size == 55 and r.exact and "216/4 + 1 = 55" in r.explanation
    r = cnnlab.conv_output_size(6, 3, 0, 2, ceil_mode=True, explain=True)
    assert r.size == 3 and "ceil_mode rounds up" in r.explanation  # torch: max_pool2d(6, 3, 2, ceil) → 3
    assert TF.max_pool2d(torch.zeros(1, 1, 6, 6), 3, 2, ceil_mode=True).shape[-1] == 3
    r = cnnlab.conv_output_size(7, 3, 1, 3, dilation=2, explain=True)
    assert "K_eff = 2·(3 − 1) + 1 = 5" in r.explanation and r.size == 2


@pytest.mark.parametrize("args,message", [
    ((3, 5), "kernel covers 5 pixels but the padded input is only W \\+ 2P = 3 \\+ 2·0 = 3 wide"),
    ((3, 3, 0, 1, 2), "K_eff = 2·\\(3 − 1\\) \\+ 1 = 5"),
    ((32, 5, -1), "`P \\(padding\\)` must be ≥ 0 .*got -1"),
    ((-4, 3), "`W \\(input size\\)` must be ≥ 1"),
    ((32, 0), "`K \\(kernel size\\)` must be ≥ 1"),
    ((32, 5, 0, 0), "`S \\(stride\\)` must be ≥ 1 \\(the window must move forward"),
    ((32, 2.5), "must be an integer, got 2.5"),
])
def test_impossible_settings_are_refused_with_a_reason(args, message):
    with pytest.raises(ValueError, match=message):
        cnnlab.conv_output_size(*args)


def test_pool_padding_rule():
    with pytest.raises(ValueError, match="more than half the kernel"):
        cnnlab.conv_output_size(8, 2, 2, 2, pool=True)


def test_layer_flow_mnist_and_alexnet():
    flow = layer_flow((1, 28, 28), MNIST_STACK)
    assert " → ".join(format_shape(s) for _, s, _ in flow) == MNIST_FLOW
    shapes = [s for k, s, _ in layer_flow((3, 227, 227), ALEXNET_STACK) if k in ("conv", "pool")]
    assert [f"{h} x {w} x {c}" for c, h, w in shapes] == [
        "55 x 55 x 96", "27 x 27 x 96", "27 x 27 x 256", "13 x 13 x 256", "13 x 13 x 384", "13 x 13 x 384",
        "13 x 13 x 256", "6 x 6 x 256"]
    # the same flow, checked against torch layers
    x = torch.zeros(1, 3, 227, 227)
    torch_shapes = []
    for layer in (torch.nn.Conv2d(3, 96, 11, 4), torch.nn.MaxPool2d(3, 2), torch.nn.Conv2d(96, 256, 5, padding=2),
                  torch.nn.MaxPool2d(3, 2), torch.nn.Conv2d(256, 384, 3, padding=1),
                  torch.nn.Conv2d(384, 384, 3, padding=1), torch.nn.Conv2d(384, 256, 3, padding=1),
                  torch.nn.MaxPool2d(3, 2)):
        x = layer(x)
        torch_shapes.append(tuple(x.shape[1:]))
    assert shapes == torch_shapes


def test_layer_flow_errors():
    with pytest.raises(ValueError, match="unknown layer 'conv16'; valid forms: conv<C>k<K>"):
        layer_flow((1, 28, 28), "conv16,pool2")
    with pytest.raises(ValueError, match="layer 2 \\(fc\\) needs a flat input \\(add `flatten`\\)"):
        layer_flow((1, 28, 28), "conv16k5,fc10")
    with pytest.raises(ValueError, match="layer 3 \\(conv\\): the kernel covers 5 pixels"):
        layer_flow((1, 8, 8), "conv4k5,pool2,conv4k5")


def test_cli_size(capsys):
    assert main(["size", "--input", "32", "--kernel", "5", "--padding", "0", "--stride", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "28" and "(32 − 5 + 2·0)/1 + 1" in out[1]
    assert main(["size", "--input", "224", "--kernel", "11", "--padding", "2", "--stride", "4"]) == 0
    assert "not divisible" in capsys.readouterr().out
    assert main(["size", "--input", "9", "--kernel", "3", "--dilation", "2"]) == 0
    assert capsys.readouterr().out.startswith("5\n")
    assert main(["size", "--input", "1x28x28", "--layers", MNIST_STACK]) == 0
    assert capsys.readouterr().out.splitlines()[0] == MNIST_FLOW
    assert main(["size", "--input", "3", "--kernel", "5"]) == 2
    assert "not even one window fits" in capsys.readouterr().err
    assert main(["size", "--input", "32"]) == 2
    assert "give --kernel" in capsys.readouterr().err
