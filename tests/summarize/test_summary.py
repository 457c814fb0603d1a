"""cnnlab.summary: the lecture's AlexNet table, shapes/counts/MACs/receptive fields vs torch, formats, CLI."""

from __future__ import annotations

import csv
import io
import json
import time

import numpy as np
import pytest
import torch
import torch.nn as tnn
from torch.utils.flop_counter import FlopCounterMode
from torch_zoo import TORCH_ZOO

import cnnlab
from cnnlab import models, nn
from cnnlab.cli import main

# The lecture's AlexNet table: (activation shape as printed, activation size, # parameters as printed).
LECTURE_ALEXNET = [
    ("227 x 227 x 3", 154587, 0),
    ("55 x 55 x 96", 290400, 34944),
    ("27 x 27 x 96", 69984, 0),
    ("27 x 27 x 256", 186624, 614_656),
    ("13 x 13 x 256", 43264, 0),
    ("13 x 13 x 384", 64896, 885_120),
    ("13 x 13 x 384", 64896, 1_327_488),
    ("13 x 13 x 256", 43264, 884_992),
    ("6 x 6 x 256", 9216, 0),
    ("4096 x 1", 4096, 37_748_737),
    ("4096 x 1", 4096, 16_777_217),
    ("1000 x 1", 1000, 4_096_001),
]
# The same rows with every FC bias counted (4096, 4096 and 1000 of them, not 1).
CORRECT_FC = [37_752_832, 16_781_312, 4_097_000]


@pytest.fixture(scope="module")
def alexnet_summary():
    return cnnlab.summary("alexnet")


def _table_rows(s):
    """The rows that the lecture's table has: input, conv, pool, FC."""
    return [r for r in s.rows if r.category in ("input", "conv", "pool", "fc")]


def test_alexnet_matches_lecture_table_with_corrected_fc(alexnet_summary):
    from cnnlab.summarize import lecture_shape

    rows = _table_rows(alexnet_summary)
    assert len(rows) == len(LECTURE_ALEXNET)
    got = [(lecture_shape(r.shape), r.size, r.params) for r in rows]
    for (shape, size, lecture_params), (g_shape, g_size, g_params) in zip(LECTURE_ALEXNET, got):
        assert (g_shape, g_size) == (shape, size)
    assert [g[2] for g in got[:9]] == [x[2] for x in LECTURE_ALEXNET[:9]]  # conv rows: the lecture is right
    assert [g[2] for g in got[9:]] == CORRECT_FC
    # each FC difference is exactly the bias the lecture counted as 1
    assert [c - x[2] for c, x in zip(CORRECT_FC, LECTURE_ALEXNET[9:])] == [4095, 4095, 999]
    assert alexnet_summary.total_params == 62_378_344
    conv1 = rows[1]
    assert conv1.formula == "11·11·3·96 + 96" and "f=11 s=4 p=0" in conv1.layer
    assert rows[3].formula == "5·5·96·256 + 256" and "f=5 s=1 p=2" in rows[3].layer
    assert rows[9].formula == "9216·4096 + 4096"
    for r in alexnet_summary.rows:  # every formula evaluates to its count
        if r.formula:
            assert eval(r.formula.replace("·", "*")) == r.params, r


def test_alexnet_conv_vs_fc_shares_check_the_lecture(alexnet_summary):
    sh = alexnet_summary.shares()
    assert sh["conv"]["params"] == 3_747_200 and sh["fc"]["params"] == 58_631_144
    assert sh["conv"]["params_pct"] == pytest.approx(100 * 3_747_200 / 62_378_344)
    assert 94.0 < sh["conv"]["macs_pct"] < 95.0
    claim = alexnet_summary.lecture_claim()
    assert "94.5%" in claim and "6.0%" in claim and "supports both parts" in claim
    mlp_claim = cnnlab.summary("mnist-mlp").lecture_claim()
    assert "not applicable" in mlp_claim
    assert "not the parameter part" in cnnlab.summary("mnist-cnn").lecture_claim()  # 28% of params in conv


def tmodel_device(tmodel):
    return next(tmodel.parameters()).device


def _torch_leaf_records(tmodel, shape):
    """(output shape, own params, input shape) per leaf call, via torch forward hooks."""
    recs = []

    def hook(m, inp, out):
        recs.append((tuple(out.shape[1:]), sum(p.numel() for p in m.parameters(recurse=False)),
                     tuple(inp[0].shape[1:]), m))

    handles = [m.register_forward_hook(hook) for m in tmodel.modules() if not list(m.children())]
    with torch.no_grad():
        tmodel.eval()(torch.zeros(1, *shape, device=tmodel_device(tmodel)))
    for h in handles:
        h.remove()
    return recs


@pytest.mark.parametrize("name", sorted(TORCH_ZOO))
def test_summary_shapes_params_macs_equal_torch(name):
    build, shape = TORCH_ZOO[name]
    with torch.device("meta"):  # shapes and counts only: skip torch's weight init
        tmodel = build()
    s = cnnlab.summary(name)
    recs = _torch_leaf_records(tmodel, shape)
    rows = s.rows[1:]
    assert [r.shape for r in rows] == [r[0] for r in recs]
    assert [r.params for r in rows] == [r[1] for r in recs]
    assert s.total_params == sum(p.numel() for p in tmodel.parameters())
    # conv + linear MACs = torch's FLOP counter / 2 (it counts 2 FLOPs per multiply-add)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        tmodel.eval()(torch.zeros(1, *shape, device="meta"))
    assert sum(r.macs for r in rows if r.category in ("conv", "fc")) * 2 == counter.get_total_flops()
    # activation memory: every output plus the input, 4 bytes each, twice for backward
    elements = int(np.prod(shape)) + sum(int(np.prod(r[0])) for r in recs)
    assert s.totals()["activation_bytes_forward"] == 4 * elements
    assert s.totals()["activation_bytes_forward_backward"] == 8 * elements
    assert s.totals()["param_bytes"] == 4 * s.total_params


def test_shape_inference_gives_the_same_table():
    with cnnlab.summarize.skip_init():
        net = models.create("alexnet-torchvision")
    a = cnnlab.summary(net, (3, 224, 224))
    b = cnnlab.summary(net, (3, 224, 224), method="shapes")
    assert [r.as_dict() for r in a.rows] == [r.as_dict() for r in b.rows]


def _torch_receptive_field(layers, size):
    """Receptive field of the centre output unit, from the support of its input gradient."""
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    with torch.no_grad():
        for m in layers:
            for p in m.parameters():
                p.fill_(1.0)
    out = torch.nn.Sequential(*layers)(x)
    h, w = out.shape[-2:]
    out[0, 0, h // 2, w // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    return int(rows.max() - rows.min() + 1)


def test_receptive_field_and_jump_equal_gradient_support():
    # Average pooling has max pooling's geometry and spreads the gradient over the whole window.
    spec = [("conv", 5, 1, 0, 1), ("pool", 2, 2, 0, 1), ("conv", 3, 1, 1, 2), ("pool", 3, 2, 0, 1), ("conv", 3, 2, 0, 1)]
    ours, theirs = [], []
    for kind, k, s, p, d in spec:
        if kind == "conv":
            ours.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
            theirs.append(tnn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
        else:
            ours.append(nn.AvgPool2d(k, s))
            theirs.append(tnn.AvgPool2d(k, s))
    summ = cnnlab.summary(nn.Sequential(*ours), (1, 96, 96))
    jump = 1
    for i, row in enumerate(summ.rows[1:], 1):
        expected = _torch_receptive_field([type(m)(**_ctor(m)) for m in theirs[:i]], 96)
        assert row.rf == (expected, expected), f"layer {i}: cnnlab rf {row.rf} vs torch gradient support {expected}"
        jump *= spec[i - 1][2]
        assert row.jump == (jump, jump)
    # The lecture's networks
    a = cnnlab.summary("alexnet")
    conv_pool = [r for r in a.rows if r.category in ("conv", "pool")]
    assert [r.rf[0] for r in conv_pool] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert [r.jump[0] for r in conv_pool] == [4, 8, 8, 16, 16, 16, 16, 32]
    m = cnnlab.summary("mnist-cnn")
    assert [(r.rf[0], r.jump[0]) for r in m.rows if r.category in ("conv", "pool")] == [(5, 1), (6, 2), (14, 2), (16, 4)]


def _ctor(m):
    if isinstance(m, tnn.Conv2d):
        return dict(in_channels=1, out_channels=1, kernel_size=m.kernel_size, stride=m.stride, padding=m.padding,
                    dilation=m.dilation)
    return dict(kernel_size=m.kernel_size, stride=m.stride)


def test_formats(alexnet_summary):
    s = alexnet_summary
    text = s.render()
    assert "55 x 55 x 96" in text and "11·11·3·96 + 96" in text and "37,752,832" in text
    assert "Total parameters: 62,378,344" in text and "1 MAC = 1 multiply + 1 add" in text
    md = s.render("markdown").splitlines()
    table = [ln for ln in md if ln.startswith("|")]
    assert len(table) == 2 + len(s.rows) and table[0].startswith("| Layer | Activation shape")
    rows = list(csv.DictReader(io.StringIO(s.render("csv"))))
    assert len(rows) == len(s.rows) + 1 and rows[-1]["name"] == "total"
    assert int(rows[-1]["params"]) == 62_378_344 and rows[1]["shape"] == "55 x 55 x 96"
    data = json.loads(s.render("json"))
    assert data["totals"]["params"] == 62_378_344 and data["rows"][1]["shape"] == [96, 55, 55]
    assert data["rows"][1]["shape_text"] == "55 x 55 x 96" and data["totals"]["macs"] == s.total_macs
    with pytest.raises(ValueError, match="unknown format 'html'; valid: text, markdown, csv, json"):
        s.render("html")


def test_summary_leaves_the_model_as_it_was():
    net = models.create("mnist-cnn").train()
    cnnlab.summary(net, "1x28x28")
    assert all(m.training for m in net.modules())
    assert all(not m._forward_hooks for m in net.modules())
    assert "forward" not in net.conv1.__dict__
    cnnlab.summary(net, (1, 28, 28), method="shapes")
    assert "forward" not in net.conv1.__dict__
    with pytest.raises(ValueError, match="expected input of shape \\(N, 1, H, W\\)|expected input"):
        cnnlab.summary(net, (3, 28, 28))
    with pytest.raises(ValueError, match="input size"):
        cnnlab.summary(net, "3xfoo")
    with pytest.raises(ValueError, match="give `input_size`"):
        cnnlab.summary(net)


def test_cli_summary(capsys):
    # CPU time, not wall time: eight engineers share two cores, so the wall clock mostly
    # measures waiting. (Measured alone: ≈ 1.2 s wall for `python -m cnnlab summary alexnet`.)
    wall, cpu = time.perf_counter(), time.process_time()
    assert main(["summary", "alexnet"]) == 0
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = capsys.readouterr().out
    assert "55 x 55 x 96" in out and "Total parameters: 62,378,344" in out
    assert cpu < 2.0, f"cnnlab summary alexnet took {cpu:.2f} s of CPU ({wall:.2f} s wall)"
    assert main(["summary", "alexnet", "--set", "groups=2", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["params"] == 60_965_224
    assert main(["summary", "mnist-cnn", "--input", "1x28x28", "--format", "markdown"]) == 0
    assert "| conv1: Conv2d 1→16 f=5 s=1 p=0 | 24 x 24 x 16 |" in capsys.readouterr().out
    assert main(["summary", "resnet"]) == 2
    assert "valid names: alexnet" in capsys.readouterr().err
    assert main(["summary", "--list"]) == 0
    assert "tinyvgg" in capsys.readouterr().out


def test_lecture_notes_figures():
    """The numbers docs/lecture-notes.md quotes, recomputed."""
    lecture_total = sum(p for _, _, p in LECTURE_ALEXNET)
    assert lecture_total == 62_369_155 and 62_378_344 - lecture_total == 9_189
    two_gpu = cnnlab.summary("alexnet-2gpu")
    assert two_gpu.total_params == 60_965_224
    convs = [r.params for r in two_gpu.rows if r.category == "conv"]
    assert convs == [34_944, 307_456, 885_120, 663_936, 442_624]
    sh = two_gpu.shares()
    assert (round(sh["conv"]["macs_pct"], 1), round(sh["conv"]["params_pct"], 1)) == (91.4, 3.8)
    assert (sh["conv"]["macs"], two_gpu.total_macs) == (665_784_864, 728_552_384)
    mlp = cnnlab.summary("mnist-mlp")
    assert mlp.total_params == 109_386 and [r.formula for r in mlp.rows if r.formula] == [
        "784·128 + 128", "128·64 + 64", "64·10 + 10"]
    tv = cnnlab.summary("tinyvgg")
    assert tv.total_params == 19_920 and tv.rows[-1].formula == "1690·10 + 10"
