"""``cnnlab adversarial`` on a tiny trained run: the example figure, the curve, bad input."""

import re

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import main


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("adv") / "run"
    assert main(["train", "mnist-cnn", "--data", "fashion-mnist", "--out", str(out), "--limit-train", "256",
                 "--limit-test", "60", "--epochs", "1", "--no-progress"]) == 0
    return out


def test_example_changes_probabilities_and_writes_figure(tiny_run, tmp_path, capsys):
    png = tmp_path / "a.png"
    assert main(["adversarial", str(tiny_run), "test:0", "--eps", "0.1", "--out", str(png)]) == 0
    out = capsys.readouterr().out
    before, after = re.search(r"p\(Ankle boot\) ([\d.]+)% -> ([\d.]+)%", out).groups()
    assert float(after) < float(before)  # the attack lowers the true class's probability
    img = np.asarray(Image.open(png).convert("L"))
    assert img.shape[1] > 600 and img.std() > 10


def test_curve_at_eps_0_is_eval_accuracy(tiny_run, tmp_path, capsys):
    assert main(["eval", str(tiny_run), "--limit", "60", "--no-progress"]) == 0
    clean = re.search(r"accuracy ([\d.]+)%", capsys.readouterr().out).group(1)
    png = tmp_path / "c.png"
    assert main(["adversarial", str(tiny_run), "--curve", "--limit", "60", "--eps-list", "0,0.2",
                 "--out", str(png)]) == 0
    lines = re.findall(r"ε = (\S+)\s+accuracy\s+([\d.]+)%", capsys.readouterr().out)
    assert lines[0] == ("0", clean)
    assert float(lines[1][1]) <= float(clean) and png.exists()


@pytest.mark.parametrize("argv,msg", [
    (["--eps", "-1", "test:0"], "argument --eps: expected a finite number >= 0, got '-1'"),
    (["test:99999999"], "INPUT: "),
    (["test:0", "--label", "12"], "--label: expected a class from 0 to 9, got 12"),
    ([], "INPUT: expected an image file or test:N"),
])
def test_bad_input_is_one_line(tiny_run, capsys, argv, msg):
    assert main(["adversarial", str(tiny_run), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1
