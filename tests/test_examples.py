"""The programs in examples/ run on cnnlab and on PyTorch with only their imports switched.

Each example marks its import block; the PyTorch run gets the same file with ``cnnlab``
replaced by ``torch`` in that block only. Outputs are compared line by line: text and integers
exactly (with ``torch`` printed where cnnlab prints ``cnnlab``); training metrics, which depend
on each library's random initialisation, within a stated spread.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
START, END = "# --- the only lines that differ between cnnlab and PyTorch ---", "# ---"
FLOAT = re.compile(r"-?\d+\.\d+(?:e[+-]\d+)?")


def _for_torch(source: str) -> str:
    head, rest = source.split(START + "\n", 1)
    block, tail = rest.split("\n" + END + "\n", 1)
    assert "cnnlab" in block and all(line.startswith(("import ", "from ")) for line in block.splitlines())
    return head + START + "\n" + block.replace("cnnlab", "torch") + "\n" + END + "\n" + tail


def _run(name: str, lib: str, tmp_path: Path) -> list[str]:
    source = (EXAMPLES / name).read_text()
    if lib == "torch":
        source = _for_torch(source)
    script = tmp_path / f"{lib}_{name}"
    script.write_text(source)
    workdir = tmp_path / f"{lib}_work"
    workdir.mkdir()
    out = subprocess.run([sys.executable, str(script), str(workdir)], capture_output=True, text=True,
                         env=os.environ.copy(), cwd=tmp_path, timeout=300)
    assert out.returncode == 0, f"{name} on {lib} failed:\n{out.stderr}"
    text = out.stdout if lib == "cnnlab" else out.stdout.replace("torch.", "cnnlab.")
    return text.splitlines()


def _floats(line: str) -> list[float]:
    return [float(v) for v in FLOAT.findall(line)]


def test_autograd_tour_prints_exactly_what_torch_prints(tmp_path):
    ours, theirs = _run("autograd_tour.py", "cnnlab", tmp_path), _run("autograd_tour.py", "torch", tmp_path)
    assert len(ours) > 40
    for a, b in zip(ours, theirs):
        assert a == b, f"cnnlab: {a!r}\ntorch:  {b!r}"
    assert len(ours) == len(theirs)


def _compare_training(ours: list[str], theirs: list[str], free_prefixes: tuple[str, ...]) -> None:
    assert len(ours) == len(theirs), "\n".join(ours) + "\n---\n" + "\n".join(theirs)
    for a, b in zip(ours, theirs):
        if a.startswith(free_prefixes):
            continue
        assert FLOAT.sub("#", a) == FLOAT.sub("#", b), f"cnnlab: {a!r}\ntorch:  {b!r}"


def test_blobs_checkpoint_trains_saves_and_resumes_on_both(tmp_path):
    ours, theirs = _run("blobs_checkpoint.py", "cnnlab", tmp_path), _run("blobs_checkpoint.py", "torch", tmp_path)
    _compare_training(ours, theirs, free_prefixes=())
    for lines in (ours, theirs):
        epochs = [line for line in lines if line.startswith("epoch ")]
        assert [_floats(line)[0] for line in epochs] == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025]  # the StepLR schedule
        final = _floats(lines[-1])[0]
        resumed = _floats(next(line for line in lines if line.startswith("resumed")))[0]
        assert final >= 90 and resumed >= 90, lines
    assert abs(_floats(ours[-1])[0] - _floats(theirs[-1])[0]) <= 5  # seed-to-seed spread of this task


def test_lazy_cnn_trains_on_both(tmp_path):
    ours, theirs = _run("lazy_cnn_bars.py", "cnnlab", tmp_path), _run("lazy_cnn_bars.py", "torch", tmp_path)
    _compare_training(ours, theirs, free_prefixes=("preds:",))
    final = [_floats(lines[-3])[1] for lines in (ours, theirs)]  # test accuracy after the last epoch
    assert min(final) >= 0.8 and abs(final[0] - final[1]) <= 0.15, final


def test_examples_import_no_torch_themselves():
    for path in EXAMPLES.glob("*.py"):
        source = path.read_text()
        assert START in source and "import torch" not in source, path.name
