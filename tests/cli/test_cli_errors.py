"""Every CLI failure is one line on stderr with a non-zero exit, never a traceback.

Two kinds of test, both in-process through ``cnnlab.cli.main``:

* a parser fuzz: every option and positional of every sub-command that has a checking type
  (``cnnlab/cli/args.py``) gets the values that type must refuse (negative, zero, huge,
  non-number, missing, directory, empty, corrupt, read-only...), found by walking the parsers;
* a table of run-time cases per sub-command (unknown names, corrupt checkpoints, absent data,
  a full disk, decompression bombs, --resume with flags it would ignore...), with the exit
  status and a piece of the message each must give.

Read-only and full file systems are small tmpfs mounts (root only; skipped with the reason
elsewhere: chmod does not stop root).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import urllib.error
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import args as A
from cnnlab.cli import build_parser, main

HUGE = str(10**30)


# ----------------------------------------------------------------------------- helpers
def run_cli(capsys, argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(rc, err, *, code=None, contains=()):
    lines = err.strip().splitlines()
    assert rc != 0, f"exit 0, stderr {err!r}"
    assert "Traceback" not in err, err
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert "internal error" not in err, f"an expected failure reached the catch-all: {err}"
    if code is not None:
        assert rc == code, f"exit {rc}, expected {code}: {err}"
    for piece in contains:
        assert piece.lower() in err.lower(), f"{piece!r} not in {err!r}"


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width × height`` pixels (no pixel data): a decompression bomb."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
                     + chunk(b"IEND", b""))
    return path


def _mount_tmpfs(path: Path, options: str) -> str | None:
    """Mount a tmpfs at ``path``; the reason it could not be, or None."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (chmod does not stop root, so nothing else tests this)"
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    return None if r.returncode == 0 else f"mount -t tmpfs failed: {r.stderr.strip()}"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Inputs good and bad, and a tiny trained run."""
    d = tmp_path_factory.mktemp("cli_errors")
    f = {"dir": d / "a_dir", "missing": d / "missing" / "nothing.png", "empty": d / "empty.safetensors",
         "file": d / "plain.txt", "corrupt_ckpt": d / "corrupt.safetensors", "corrupt_png": d / "corrupt.png",
         "png": d / "digit.png", "img16": d / "deep.png", "bomb": png_header(d / "bomb.png", 100000, 100000),
         "bomb_warn": png_header(d / "bomb_warn.png", 10000, 10000), "empty_data": d / "no_data",
         "run": d / "run"}
    f["dir"].mkdir()
    f["empty_data"].mkdir()
    f["empty"].write_bytes(b"")
    f["file"].write_text("not a directory\n")
    f["corrupt_ckpt"].write_bytes(np.random.default_rng(0).bytes(3000))
    f["corrupt_png"].write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(1).bytes(500))
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(f["png"])
    Image.fromarray(np.arange(0, 65536, 16, dtype=np.uint16).reshape(64, 64)).save(f["img16"])
    rc = main(["train", "mnist-cnn", "--data", "mnist10k", "--limit-train", "64", "--limit-test", "32",
               "--out", str(f["run"]), "--runs-root", str(d / "runs"), "--no-progress"])
    assert rc == 0  # --runs-root: the `latest` marker goes to the temporary folder, not the checkout
    for name, snapshots in (("nosnap", None), ("badsnap", b"PK not a zip")):   # runs without usable filters.npz
        f[name] = d / name
        f[name].mkdir()
        (f[name] / "checkpoint.safetensors").write_bytes((f["run"] / "checkpoint.safetensors").read_bytes())
        if snapshots:
            (f[name] / "filters.npz").write_bytes(snapshots)
    return f


@pytest.fixture(scope="module")
def ro_mount(tmp_path_factory):
    """A read-only file system (a tmpfs mounted ro), or the reason there is none."""
    path = tmp_path_factory.mktemp("ro") / "mnt"
    reason = _mount_tmpfs(path, "size=300k,ro")
    yield reason or path
    if not reason:
        subprocess.run(["umount", str(path)], check=False)


@pytest.fixture
def ro(ro_mount):
    if isinstance(ro_mount, str):
        pytest.skip(ro_mount)
    return ro_mount


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A file system with 64 KiB: a checkpoint or a figure fills it."""
    path = tmp_path_factory.mktemp("full") / "mnt"
    reason = _mount_tmpfs(path, "size=64k")
    if reason:
        pytest.skip(reason)
    yield path
    subprocess.run(["umount", str(path)], check=False)


@pytest.fixture
def offline(monkeypatch, files):
    """No data installed and no network: every data set is absent and cannot be downloaded."""
    import cnnlab.datasets.sources as sources

    def no_network(url, timeout=30):
        raise urllib.error.URLError("network disabled by the test")

    monkeypatch.setenv("CNNLAB_DATA", str(files["empty_data"]))
    monkeypatch.setattr(sources, "_urlopen", no_network)


# ----------------------------------------------------------------------------- the parser fuzz
def _commands(parser, prefix=()):
    """``(argv prefix, sub-parser)`` for every (nested) sub-command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def _bad_values(kind, files, ro) -> list[tuple[str, str]]:
    """``(what, value)`` pairs that the argument type ``kind`` must refuse (read-only outputs
    only where ``ro`` is a mounted read-only file system)."""
    if hasattr(kind, "low") and not hasattr(kind, "low_open"):  # int_range
        bad = [("negative" if kind.low - 1 < 0 else "below", str(kind.low - 1)), ("non-number", "abc"),
               ("fraction", "1.5")]
        return bad + [("huge", HUGE if kind.high == A.HUGE else str(kind.high + 1))]
    if hasattr(kind, "low_open"):  # float_range
        bad = [("non-number", "abc"), ("nan", "nan"), ("infinite", "inf"), ("below", str(kind.low - 1))]
        if kind.low_open:
            bad.append(("zero" if kind.low == 0 else "low", str(kind.low)))
        if kind.high != float("inf"):
            bad.append(("huge", str(kind.high * 10 + 1)))
        return bad
    missing, directory, empty = str(files["missing"]), str(files["dir"]), str(files["empty"])
    corrupt, plain = str(files["corrupt_png"]), str(files["file"])
    table = {
        A.existing_file: [("missing", missing), ("directory", directory)],
        A.existing_dir: [("missing", missing), ("file", plain)],
        A.existing_path: [("missing", missing)],
        A.checkpoint_path: [("missing", missing), ("empty", empty)],
        A.image_file: [("missing", missing), ("directory", directory), ("empty", empty), ("corrupt", corrupt),
                       ("bomb", str(files["bomb"])), ("bomb-warning", str(files["bomb_warn"]))],
        A.image_source: [("missing", missing), ("corrupt", corrupt), ("bad test:N", "test:-1"),
                         ("bomb", str(files["bomb"]))],
        A.photo_source: [("missing", missing), ("corrupt", corrupt), ("bomb", str(files["bomb"]))],
        A.output_file: [("directory", directory), ("read-only", f"{ro}/out.png"),
                        ("missing parent", str(files["missing"]))],
        A.optional_output_file: [("directory", directory), ("read-only", f"{ro}/out.gif")],
        A.output_dir: [("file", plain), ("read-only", f"{ro}/run")],
        A.port: [("zero", "0"), ("huge", "70000")],
        A.not_a_file: [("file", plain)],
        A.holdout_fraction: [("non-number", "abc"), ("nan", "nan"), ("negative", "-0.1"), ("one", "1"),
                             ("huge", "1.5")],
    }
    # list-valued types local to one command (cmd_adversarial, cmd_robustness)
    by_name = {"_eps_list": [("non-number", "abc"), ("negative", "0,-1"), ("empty", ","), ("nan", "0,nan")],
               "_challenges": [("unknown", "rotation,blur"), ("empty", ",")]}
    if getattr(kind, "__name__", None) in by_name:
        return by_name[kind.__name__]
    if kind not in table:
        raise AssertionError(f"no bad values known for argument type {kind!r}: add them here")
    return [(what, v) for what, v in table[kind] if what != "read-only" or isinstance(ro, Path)]


def _argument_cases():
    parser = build_parser()
    cases = []
    for path, sub in _commands(parser):
        for action in sub._actions:
            if action.type is None or action.type in (int, float, str):
                continue
            flag = action.option_strings[-1] if action.option_strings else None
            cases.append((path, flag, action.metavar or action.dest, action.type, action.nargs))
    return cases


def test_every_numeric_and_path_argument_has_a_checking_type():
    """A plain ``type=int``/``float`` lets -1, 0 and 10**30 through; paths need a checking type."""
    plain = []
    for path, sub in _commands(build_parser()):
        for action in sub._actions:
            if action.type in (int, float):
                plain.append(f"{' '.join(path)} {action.option_strings or action.dest}")
    assert not plain, f"arguments parsed with plain int/float (use cnnlab/cli/args.py): {plain}"


_FUZZ = _argument_cases()


@pytest.mark.parametrize("path, flag, name, kind, nargs", _FUZZ,
                         ids=[f"{' '.join(c[0])} {c[1] or c[2]}" for c in _FUZZ])
def test_every_checked_argument_refuses_bad_values_in_one_line(path, flag, name, kind, nargs, files, ro_mount,
                                                              capsys):
    for what, value in _bad_values(kind, files, ro_mount):
        positional_before = []
        if flag is None:  # a positional: the ones before it get valid values
            positional_before = _valid_positionals_before(path, name, files)
            argv = [*path, *positional_before, value]
        else:
            argv = [*path, f"{flag}={value}"]
        rc, _, err = run_cli(capsys, argv)
        assert_one_line(rc, err, code=2, contains=(f"argument {flag or name}",))
        assert what != "read-only" or "read-only file system" in err, err


def _valid_positionals_before(path, name, files):
    """Arguments that come before positional ``name`` of command ``path``."""
    if name in ("IMAGE",) and path[-1] in ("predict", "show-features", "shift-test"):
        return [str(files["run"])]
    return []


# ----------------------------------------------------------------------------- run-time cases
# (argv with {placeholders}, exit status, pieces the message must contain)
CASES = {
    "attribute": [(["attribute", "{run}"], 2, ["INPUT"]), (["attribute", "{corrupt_ckpt}", "test:0"], 2, ["corrupt"]),
                  (["attribute", "{run}", "test:0", "--method", "nosuch", "--out", "{tmp}/a.png"], 2, ["--method"]),
                  (["attribute", "{run}", "{bomb}", "--out", "{tmp}/a.png"], 2, ["bomb.png"])],
    "errors": [(["errors", "{corrupt_ckpt}"], 2, ["corrupt"]), (["errors", "{run}", "--top", "0"], 2, ["--top"]),
               (["errors", "{run}", "--limit", "50", "--pair", "nosuch,x", "--out", "{tmp}/e"], 2, ["nosuch"])],
    "adversarial": [(["adversarial", "{run}"], 2, ["INPUT"]),
                    (["adversarial", "{corrupt_ckpt}", "test:0"], 2, ["corrupt"]),
                    (["adversarial", "{run}", "test:99999", "--out", "{tmp}/a.png"], 2, ["test:99999"]),
                    (["adversarial", "{run}", "test:0", "--label", "99", "--out", "{tmp}/a.png"], 2, ["--label"]),
                    (["adversarial", "{run}", "--curve", "--eps-list", "0,-1"], 2, ["--eps-list"])],
    "explain-backward": [(["explain-backward", "--example", "nosuch"], 2, ["invalid choice"]),
                         (["explain-backward", "--gif", "{dir}"], 2, ["--gif"])],
    "robustness": [(["robustness", "{run}", "--challenges", "blur"], 2, ["--challenges", "blur"]),
                   (["robustness", "{corrupt_ckpt}"], 2, ["corrupt"])],
    "units": [(["units", "{run}", "--layer", "nosuch", "--out", "{tmp}/u.png"], 2, ["--layer", "nosuch"]),
              (["units", "{run}"], 2, ["--layer"]), (["units", "{corrupt_ckpt}", "--layer", "conv1"], 2, ["corrupt"])],
    "data": [(["data"], 2, ["required"]), (["data", "install", "nosuch"], 2, ["unknown dataset 'nosuch'"])],
    "datasets": [(["datasets", "--root", "{file}"], 2, ["--root", "a file"])],
    "demo": [(["demo", "--epochs", "0"], 2, ["--epochs"]), (["demo", "--limit-train", "-5"], 2, ["--limit-train"]),
             (["demo", "--out", "{file}"], 2, ["--out"])],
    "eval": [(["eval"], 2, ["CHECKPOINT"]), (["eval", "{corrupt_ckpt}"], 2, ["corrupt.safetensors"]),
             (["eval", "{dir}"], 2, ["does not exist"]), (["eval", "{run}", "--data", "nosuch"], 2, ["nosuch"]),
             (["eval", "{run}", "--data-root", "{file}"], 2, ["--data-root"])],
    "explain": [(["explain", "{corrupt_ckpt}", "--port", "8765"], 2, ["corrupt.safetensors"]),
                (["explain", "{dir}"], 2, ["a_dir"]), (["explain", "--port", "abc"], 2, ["--port"]),
                (["explain", "{run}", "--export", "{file}"], 2, ["--export", "existing file"]),
                (["explain", "{run}", "--export", "{run}"], 2, ["--export", "not empty"]),
                (["explain", "{run}", "--export", "{tmp}/site", "--samples", "0"], 2, ["--samples"]),
                (["explain", "{run}", "--samples", "8"], 2, ["--samples needs --export"])],
    "explain-conv": [(["explain-conv", "--example", "nosuch"], 2, ["invalid choice"]),
                     (["explain-conv", "--kernel", "nosuch"], 2, ["nosuch"]),
                     (["explain-conv", "--image", "100x100"], 2, ["--image"]),
                     (["explain-conv", "--image", "[[1,2],[3"], 2, ["--image"]),
                     (["explain-conv", "--image", "3x3", "--kernel", "5x5"], 2, []),
                     (["explain-conv", "--stride", "0"], 2, ["--stride"]),
                     (["explain-conv", "--kernel", "[[1e309]]"], 2, ["finite"]),
                     (["explain-conv", "--image", "12x12", "--padding", "12", "--gif", "{tmp}/c.gif"], 2, ["steps"])],
    "explain-pool": [(["explain-pool", "--kernel-size", "9"], 2, []), (["explain-pool", "--op", "median"], 2, ["--op"])],
    "explain-relu": [(["explain-relu", "--image", "abc"], 2, ["--image"])],
    "export": [(["export"], 2, ["RUN_OR_CKPT"]), (["export", "{corrupt_ckpt}", "--out", "{tmp}/m.onnx"], 2, ["corrupt"]),
               (["export", "{run}", "--opset", "999", "--out", "{tmp}/m.onnx"], 2, ["opset"]),
               (["export", "{run}", "--format", "tflite"], 2, ["--format"])],
    "filter": [(["filter", "{img16}", "--out", "{tmp}/f.png"], 2, ["16/32-bit", "deep.png"]),
               (["filter", "nosuch-photo"], 2, ["nosuch-photo"]),
               (["filter", "--kernel", "nosuch", "--out", "{tmp}/f.png"], 2, ["nosuch"]),
               (["filter", "--kernel", "[[1,2],[3]]", "--out", "{tmp}/f.png"], 2, []),
               (["filter", "{bomb_warn}"], 2, ["bomb_warn.png"]),
               (["filter", "--kernel", "[[1, 1e309]]", "--out", "{tmp}/f.png"], 2, ["finite"])],
    "pixels": [(["pixels", "{img16}", "--out", "{tmp}/p.png"], 2, ["16/32-bit"]),
               (["pixels", "--crop", "a,b,c,d", "--out", "{tmp}/p.png"], 2, ["--crop"]),
               (["pixels", "--crop", "0,0,99999,2", "--out", "{tmp}/p.png"], 2, ["crop"])],
    "predict": [(["predict", "{run}"], 2, ["IMAGE"]), (["predict", "{corrupt_ckpt}", "{png}"], 2, ["corrupt"]),
                (["predict", "{run}", "{img16}"], 2, ["16/32-bit"]), (["predict", "{run}", "{bomb}"], 2, ["bomb.png"]),
                (["predict", "{run}", "{png}", "--topk", "0"], 2, ["--topk"])],
    "reproduce": [(["reproduce", "--only", "nosuch", "--out", "{tmp}"], 2, ["nosuch"]),
                  (["reproduce", "--data-root", "{tmp}/no-such-root", "--out", "{tmp}"], 2, ["--data-root"])],
    "shift-test": [(["shift-test", "--train-limit", "-1"], 2, ["--train-limit"]),
                   (["shift-test", "{run}", "--max-shift", "1000", "--out", "{tmp}/s.png"], 2, ["max_shift"]),
                   (["shift-test", "{corrupt_ckpt}"], 2, ["corrupt"]),
                   (["shift-test", "--data", "nosuch", "--out", "{tmp}/s.png"], 2, ["nosuch"]),
                   (["shift-test", "{run}", "test:99999", "--out", "{tmp}/s.png"], 2, ["test:99999"])],
    "show-activations": [(["show-activations", "--out", "{dir}"], 2, ["--out"])],
    "show-features": [(["show-features"], 2, ["CHECKPOINT"]), (["show-features", "{corrupt_ckpt}"], 2, ["corrupt"]),
                      (["show-features", "{run}", "{bomb}"], 2, ["bomb.png"]),
                      (["show-features", "{run}", "{bomb_warn}"], 2, ["bomb_warn.png"])],
    "show-filters": [(["show-filters", "{run}", "--max-filters", "0"], 2, ["--max-filters"]),
                     (["show-filters", "{run}", "--max-filters", "-1"], 2, ["--max-filters"]),
                     (["show-filters", "{run}", "--layer", "nosuch", "--out", "{tmp}/f.png"], 2, ["nosuch"]),
                     (["show-filters", "{corrupt_ckpt}"], 2, ["corrupt"]),
                     (["show-filters", "{nosnap}", "--over-training", "--out", "{tmp}/f.gif"], 2,
                      ["no per-epoch filter snapshots"]),
                     (["show-filters", "{badsnap}", "--over-training", "--out", "{tmp}/f.gif"], 2,
                      ["not a filter snapshot file"]),
                     (["show-filters", "{run}", "--over-training", "--out", "{tmp}/f.png"], 2, ["--out", ".gif"]),
                     (["show-filters", "{run}", "--over-training", "--layer", "conv2", "--out", "{tmp}/f.gif"], 2,
                      ["--layer", "conv1"])],
    "size": [(["size", "--input", "abc", "--kernel", "3"], 2, ["--input"]),
             (["size", "--input", "32", "--kernel", "3", "--stride", "0"], 2, ["--stride"]),
             (["size", "--input", "3", "--kernel", "5"], 2, []), (["size", "--input", "1x28x28", "--layers", "bogus"], 2, []),
             (["size", "--kernel", "3"], 2, ["--input"]),
             (["size", "--input", "1x28x28", "--layers", "conv0k5"], 2, ["at least 1"])],
    "summary": [(["summary", "mnist-cnn", "--input", "1x100000x100000"], 2, ["--input", "GiB"]),
                (["summary", "mnist-cnn", "--input", "1x-28x28"], 2, []), (["summary", "nosuch"], 2, ["nosuch"]),
                (["summary", "mnist-cnn", "--input", "0x28x28"], 2, []), (["summary", "mnist-cnn", "--set", "3=4"], 2, ["--set"]),
                (["summary", "mnist-cnn", "--format", "xml"], 2, ["--format"])],
    "train": [(["train", "mnist-cnn"], 2, ["--data"]), (["train", "nosuch", "--data", "mnist10k"], 2, ["nosuch"]),
              (["train", "mnist-cnn", "--data", "nosuch"], 2, ["nosuch"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--optimizer", "nosuch"], 2, ["nosuch"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--lr", "nan"], 2, ["--lr"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--epochs", "1.5"], 2, ["--epochs"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--out", "{file}"], 2, ["--out", "existing file"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--data-root", "{file}"], 2, ["--data-root"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--bogus"], 2, ["--bogus"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--out", "{run}", "--resume", "--limit-train", "100"], 2,
               ["cannot change --limit-train (the run used 64)"]),
              (["train", "mnist-cnn", "--data", "mnist10k", "--out", "{run}", "--resume", "--force"], 2, ["--force"])],
}


def _fill(argv, files, tmp):
    names = {k: str(v) for k, v in files.items()} | {"tmp": str(tmp)}
    return [a.format(**names) for a in argv]


def test_every_sub_command_has_run_time_cases():
    commands = {" ".join(p[:1]) for p, _ in _commands(build_parser())}
    assert commands <= set(CASES), f"sub-commands without cases in CASES: {sorted(commands - set(CASES))}"


_RUNTIME = [(cmd, i, *case) for cmd, cases in CASES.items() for i, case in enumerate(cases)]


@pytest.mark.parametrize("cmd, i, argv, code, contains", _RUNTIME, ids=[f"{c[0]}-{c[1]}" for c in _RUNTIME])
def test_bad_command_lines_fail_in_one_line(cmd, i, argv, code, contains, files, tmp_path, capsys):
    rc, _, err = run_cli(capsys, _fill(argv, files, tmp_path))
    assert_one_line(rc, err, code=code, contains=contains)
    assert err.startswith(f"cnnlab {cmd}"), err


def test_explain_export_without_the_runtime_says_how_to_install_it(files, tmp_path, monkeypatch, capsys):
    """The runtime lives in the cache ($CNNLAB_DATA/npm): an empty cache has none (exit 1, before any work)."""
    monkeypatch.setenv("CNNLAB_DATA", str(files["empty_data"]))
    rc, out, err = run_cli(capsys, ["explain", files["run"], "--export", tmp_path / "site"])
    assert_one_line(rc, err, code=1, contains=["onnxruntime-web@1.30.0", "npm install --prefix"])
    assert out == "" and not (tmp_path / "site").exists()


def test_reproduce_does_not_create_a_missing_data_root(files, tmp_path, capsys):
    root = tmp_path / "not-here"
    rc, _, err = run_cli(capsys, ["reproduce", "--quick", "--only", "iris-mlp", "--data-root", root, "--out", tmp_path])
    assert_one_line(rc, err, code=2, contains=["--data-root", "not-here", "does not exist"])
    assert not root.exists()


@pytest.mark.parametrize("argv", [
    ["train", "mnist-cnn", "--data", "mnist", "--out", "{tmp}/run"],
    ["train", "cifar-cnn", "--data", "cifar10", "--out", "{tmp}/run"],
    ["eval", "{run}", "--data", "mnist"],
    ["reproduce", "--quick", "--only", "mnist-mlp", "--data-root", "{empty_data}", "--out", "{tmp}"],
], ids=["train-mnist", "train-cifar10", "eval", "reproduce"])
def test_absent_data_that_cannot_be_downloaded_is_a_run_time_failure(argv, offline, files, tmp_path, capsys):
    rc, _, err = run_cli(capsys, _fill(argv, files, tmp_path))
    assert_one_line(rc, err, code=1, contains=["not found"])


@pytest.mark.parametrize("argv", [
    ["train", "mnist-cnn", "--data", "mnist10k", "--limit-train", "64", "--limit-test", "32", "--no-progress",
     "--out", "{ro}/run"],
    ["train", "mnist-cnn", "--data", "mnist10k", "--runs-root", "{ro}"],
    ["filter", "--out", "{ro}/f.png"], ["pixels", "--out", "{ro}/p.png"],
    ["show-filters", "{run}", "--out", "{ro}/f.png"], ["show-filters", "{run}", "--over-training", "--out", "{ro}/f.gif"],
    ["show-features", "{run}", "--out", "{ro}/f.png"],
    ["explain-conv", "--gif", "{ro}/c.gif"], ["reproduce", "--quick", "--out", "{ro}"],
    ["reproduce", "--quick", "--runs", "{ro}/runs"], ["show-activations", "--out", "{ro}/a.png"],
    ["shift-test", "{run}", "--out", "{ro}/s.png"], ["demo", "--out", "{ro}/run"],
    ["explain", "--runs", "{ro}/runs", "--port", "8765"],
])
def test_read_only_outputs_are_refused_before_any_work(argv, ro, files, tmp_path, capsys):
    rc, out, err = run_cli(capsys, [a.format(ro=ro, **{k: str(v) for k, v in files.items()}) for a in argv])
    assert_one_line(rc, err, code=2, contains=["read-only file system"])
    assert out == ""


def test_a_full_disk_is_one_line_and_exit_1(full, capsys):
    rc, _, err = run_cli(capsys, ["train", "mnist-cnn", "--data", "mnist10k", "--limit-train", "64",
                                  "--limit-test", "32", "--no-progress", "--out", full / "run"])
    assert_one_line(rc, err, code=1, contains=["no space left on device"])


def test_a_full_disk_while_writing_a_figure(full, capsys):
    rc, _, err = run_cli(capsys, ["filter", "--kernel", "all", "--out", full / "f.png"])
    assert_one_line(rc, err, code=1, contains=["no space left on device"])


def test_debug_keeps_the_traceback(files, capsys):
    assert main(["eval", str(files["corrupt_ckpt"])]) == 2
    with pytest.raises(Exception, match="corrupt"):
        main(["eval", str(files["corrupt_ckpt"]), "--debug"])
    with pytest.raises(Exception, match="corrupt"):
        main(["--debug", "eval", str(files["corrupt_ckpt"])])


def test_an_unexpected_error_is_one_line_naming_debug(monkeypatch, capsys):
    import cnnlab.cli.cmd_size as cmd_size

    def boom(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cmd_size, "run", boom)
    rc, _, err = run_cli(capsys, ["size", "--input", "32", "--kernel", "3"])
    assert rc == 1 and err.count("\n") == 1 and "internal error: ZeroDivisionError" in err and "--debug" in err


def test_the_installed_entry_point_exits_with_the_status(files):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-m", "cnnlab", "show-filters", str(files["run"]), "--max-filters", "0"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--max-filters" in r.stderr, r.stderr


def test_resume_honours_a_new_data_root(files, tmp_path, capsys):
    """--data-root on --resume is honoured (the data moved), and recorded."""
    out = tmp_path / "run"
    base = ["train", "mnist-cnn", "--data", "mnist10k", "--limit-train", "64", "--limit-test", "32",
            "--no-progress", "--out", str(out)]
    assert main([*base, "--epochs", "1"]) == 0
    from cnnlab.datasets import locate

    found = locate("mnist10k")
    if found is None:
        pytest.skip("mnist10k is not installed")
    root = str(found.where)
    assert main([*base, "--epochs", "2", "--resume", "--data-root", root]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["data_root"] == root and info["config"]["limit_train"] == 64


@pytest.mark.parametrize("exc, code, piece", [
    (OSError(28, "No space left on device"), 1, "no space left on device while writing --out 'x.png'"),
    (OSError(30, "Read-only file system", "/mnt/f.png"), 1, "cannot write '/mnt/f.png': read-only file system"),
    (MemoryError(), 1, "out of memory"),
    (FileNotFoundError("checkpoint 'a' does not exist"), 2, "checkpoint 'a' does not exist"),
    (ValueError("line one\nline two"), 2, "line one line two"),
])
def test_the_boundary_maps_each_failure_to_a_status_and_one_line(exc, code, piece):
    from cnnlab.cli.errors import report

    got_code, message = report(exc, argparse.Namespace(out="x.png"))
    assert got_code == code and piece in message and "\n" not in message
