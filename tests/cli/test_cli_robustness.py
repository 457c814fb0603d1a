"""``cnnlab robustness`` on a tiny run: strength 0 prints the accuracy ``cnnlab eval`` prints."""

import re

import pytest

from cnnlab.cli import main


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rob") / "run"
    assert main(["train", "mnist-cnn", "--data", "fashion-mnist", "--out", str(out), "--limit-train", "128",
                 "--limit-test", "40", "--epochs", "1", "--no-progress"]) == 0
    return out


def test_strength_0_is_eval_accuracy(tiny_run, tmp_path, capsys):
    assert main(["eval", str(tiny_run), "--limit", "40", "--no-progress"]) == 0
    clean = float(re.search(r"accuracy ([\d.]+)%", capsys.readouterr().out).group(1))
    png = tmp_path / "r.png"
    assert main(["robustness", str(tiny_run), "--challenges", "viewpoint,deformation,clutter", "--limit", "40",
                 "--out", str(png)]) == 0
    out = capsys.readouterr().out
    for ch in ("viewpoint", "deformation", "clutter"):
        first = float(re.search(rf"{ch}\s+0:\s+([\d.]+)%", out).group(1))
        assert abs(first - clean) < 0.06  # both printed with their own rounding
    assert png.stat().st_size > 1000


def test_bad_challenge_is_one_line(tiny_run, capsys):
    assert main(["robustness", str(tiny_run), "--challenges", "viewpoint,blur"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--challenges" in err[0] and "blur" in err[0]
