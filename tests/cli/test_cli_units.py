"""``cnnlab units`` on a tiny trained run: the three methods print what the library computes."""

import re

import numpy as np
import pytest

from cnnlab import datasets, inspect, units
from cnnlab.cli import main
from cnnlab.train.recipe import apply_preprocess


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("units") / "run"
    assert main(["train", "mnist-cnn", "--data", "fashion-mnist", "--out", str(out), "--limit-train", "128",
                 "--limit-test", "40", "--epochs", "1", "--no-progress"]) == 0
    return out


def test_patches_print_the_library_top_activations(tiny_run, tmp_path, capsys):
    png = tmp_path / "p.png"
    assert main(["units", str(tiny_run), "--layer", "conv2", "--method", "patches", "--channels", "2", "--k", "3",
                 "--limit", "50", "--out", str(png)]) == 0
    out = capsys.readouterr().out
    shown = [float(v) for v in re.search(r"channel   1: top activations (.*)", out).group(1).split(", ")]
    model, info = inspect.load_run(tiny_run)
    x = apply_preprocess(np.asarray(datasets.create("fashion-mnist", train=False).data[:50]), info.preprocess_dict)
    expect = [p.activation for p in units.top_patches(model, x, "conv2", 1, k=3)]
    np.testing.assert_allclose(shown, expect, atol=0.006)
    assert png.stat().st_size > 1000


def test_maximize_and_tuning_run(tiny_run, tmp_path, capsys):
    assert main(["units", str(tiny_run), "--layer", "conv1", "--channels", "2", "--steps", "8",
                 "--out", str(tmp_path / "m.png")]) == 0
    rows = re.findall(r"activation\s+(\S+) ->\s+(\S+)", capsys.readouterr().out)
    assert len(rows) == 2 and all(float(b) > float(a) for a, b in rows)
    assert main(["units", str(tiny_run), "--layer", "conv1", "--method", "tuning", "--channels", "3",
                 "--out", str(tmp_path / "t.png")]) == 0
    assert len(re.findall(r"preferred\s+\d+°  OSI \d\.\d\d", capsys.readouterr().out)) == 3


def test_bad_layer_is_one_line(tiny_run, capsys):
    assert main(["units", str(tiny_run), "--layer", "conv9"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--layer" in err and "conv9" in err and "conv1" in err


def test_position_prints_the_library_widths(tiny_run, tmp_path, capsys):
    png = tmp_path / "pos.png"
    assert main(["units", str(tiny_run), "--layer", "conv1,pool", "--method", "position", "--channels", "4",
                 "--out", str(png)]) == 0
    rows = re.findall(r"channel\s+(\d+): bar at\s+(\d+)°  width at half rise: conv1 (\S+) px, pool (\S+) px",
                      capsys.readouterr().out)
    model, info = inspect.load_run(tiny_run)
    mean, std = info.normalize
    simple = units.position_tolerance(model, "conv1", input_shape=(1, 28, 28), mean=mean, std=std)
    complex_ = units.position_tolerance(model, "pool", input_shape=(1, 28, 28), mean=mean, std=std,
                                        angles=simple.angles)
    assert [(int(c), float(a), float(w1), float(w2)) for c, a, w1, w2 in rows] == [
        (c, simple.angles[c], simple.width[c], complex_.width[c]) for c in range(4)]
    assert png.stat().st_size > 1000


def test_hierarchy_drives_the_centre_unit_of_each_layer(tiny_run, tmp_path, capsys):
    png = tmp_path / "h.png"
    assert main(["units", str(tiny_run), "--layer", "conv1,conv2,fc1", "--centre", "--channels", "2", "--steps", "6",
                 "--out", str(png)]) == 0
    out = capsys.readouterr().out
    model, info = inspect.load_run(tiny_run)
    from cnnlab.adversarial import valid_range

    img, act, _ = units.maximize(model, "conv2", 1, steps=6, generator=1, input_shape=(1, 28, 28),
                                 clip=valid_range(info), unit=(4, 4))  # conv2 is 8x8: its centre unit
    shown = float(re.search(r"conv2 channel   1: activation\s+\S+ ->\s+(\S+)", out).group(1))
    assert abs(shown - act) < 0.0006
    assert np.isclose(units.layer_output(model, img[None], "conv2")[0, 1, 4, 4], act, atol=1e-5)
    assert len(re.findall(r"fc1 channel", out)) == 2 and png.stat().st_size > 1000
