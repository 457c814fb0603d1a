"""``cnnlab train/eval/predict/demo`` end to end on real Fashion-MNIST (tiny runs via
``--limit-train``), plus one run of a few hundred steps that must learn well above chance."""

import json

import numpy as np
import pytest
from PIL import Image

from cnnlab import datasets
from cnnlab.checkpoint import read_checkpoint
from cnnlab.cli import main

TINY = ["--limit-train", "256", "--limit-test", "200", "--no-progress"]


def cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def fashion_test():
    return datasets.create("fashion-mnist", train=False)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny training run shared by the eval/predict tests."""
    out = tmp_path_factory.mktemp("tiny") / "run"
    assert main(["train", "mnist-cnn", "--data", "fashion-mnist", "--out", str(out), *TINY]) == 0
    return out


def test_train_writes_a_complete_run_directory(tiny_run):
    for name in ("checkpoint.safetensors", "best.safetensors", "metrics.jsonl", "steps.jsonl", "loss.png",
                 "accuracy.png", "confusion.png", "summary.txt", "run.json"):
        assert (tiny_run / name).is_file(), name
    info = json.loads((tiny_run / "run.json").read_text())
    assert info["status"] == "finished" and info["test_samples"] == 200
    # the default validation part: 10% of each class of the 256 training images, listed in run.json
    assert info["train_samples"] + info["val_samples"] == 256 and info["val_samples"] == 24
    assert len(info["validation"]["indices"]) == 24 and info["config"]["val_split"] == 0.1
    assert info["classes"][9] == "Ankle boot"
    assert "35,330" in (tiny_run / "summary.txt").read_text()
    _, meta = read_checkpoint(tiny_run / "checkpoint.safetensors")
    assert meta["model_name"] == "mnist-cnn" and meta["epoch"] == 1 and meta["seed"] == 0
    assert meta["extra"]["dataset"] == "fashion-mnist" and meta["optimizer"]["class"] == "SGD"


def test_eval_reproduces_the_runs_test_metrics(tiny_run, capsys):
    rc, out, _ = cli(capsys, "eval", tiny_run, "--limit", 200, "--no-progress")
    assert rc == 0
    acc = json.loads((tiny_run / "run.json").read_text())["test_metrics"]["accuracy"]
    assert f"accuracy {100 * acc:.2f}%" in out
    assert "samples 200" in out and "Ankle boot" in out and "top-5 accuracy" in out


def test_predict_prints_topk_with_class_names(tiny_run, fashion_test, tmp_path, capsys):
    gray = tmp_path / "boot.png"
    Image.fromarray(fashion_test.data[0]).save(gray)
    rgb_big = tmp_path / "boot_rgb_56.jpg"  # colour and twice the size: converted safely
    Image.fromarray(fashion_test.data[0]).convert("RGB").resize((56, 56)).save(rgb_big, quality=95)
    rc, out, _ = cli(capsys, "predict", tiny_run, gray, rgb_big, "--topk", 3)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == str(gray) and lines[4] == str(rgb_big) and len(lines) == 8
    probs = [float(line.split()[-1]) for line in lines[1:4]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-9
    names = datasets.create("fashion-mnist", train=False).classes
    assert all(any(line.strip().startswith(n) for n in names) for line in lines[1:4])


@pytest.mark.parametrize("kind, message", [
    ("16bit", "16/32-bit"), ("alpha", "transparent pixels"), ("wide", "stretch it by 3.00x"),
    ("text", "cannot read image file"), ("missing", "does not exist"),
])
def test_predict_refuses_unsafe_or_bad_images(tiny_run, tmp_path, capsys, kind, message):
    path = tmp_path / f"{kind}.png"
    if kind == "16bit":
        Image.fromarray(np.full((28, 28), 40000, np.uint16)).save(path)
    elif kind == "alpha":
        rgba = np.zeros((28, 28, 4), np.uint8)
        rgba[..., 3] = 128
        Image.fromarray(rgba, "RGBA").save(path)
    elif kind == "wide":
        Image.fromarray(np.zeros((28, 84), np.uint8)).save(path)
    elif kind == "text":
        path.write_text("not an image")
    rc, _, err = cli(capsys, "predict", tiny_run, path)
    assert rc == 2 and message in err and str(path) in err


def test_output_directory_is_not_overwritten(tiny_run, tmp_path, capsys):
    before = (tiny_run / "checkpoint.safetensors").read_bytes()
    rc, _, err = cli(capsys, "train", "mnist-cnn", "--data", "fashion-mnist", "--out", tiny_run, *TINY)
    assert rc == 2 and "already holds a run" in err and "--resume" in err and "--force" in err
    assert (tiny_run / "checkpoint.safetensors").read_bytes() == before


@pytest.mark.slow  # two short trainings on real data: ≈ 20 s
def test_resume_from_cli_equals_uninterrupted_run(tmp_path, capsys):
    common = ["mnist-cnn", "--data", "fashion-mnist", "--limit-train", 192, "--limit-test", 64,
              "--no-progress", "--batch-size", 32, "--optimizer", "adam", "--lr", 0.001,
              "--scheduler", "cosine", "--runs-root", tmp_path / "runs"]
    assert cli(capsys, "train", *common, "--epochs", 2, "--out", tmp_path / "full")[0] == 0
    # The same run interrupted after its first epoch (its cosine schedule still planned for 2).
    assert cli(capsys, "train", *common, "--epochs", 2, "--out", tmp_path / "part", "--stop-after", 1)[0] == 0
    assert json.loads((tmp_path / "part" / "run.json").read_text())["status"] == "stopped"
    rc, _, err = cli(capsys, "train", *common, "--out", tmp_path / "part", "--resume", "--lr", 0.1)
    assert rc == 2 and "cannot change lr" in err
    rc, _, err = cli(capsys, "train", *common, "--out", tmp_path / "part", "--resume", "--epochs", 3)
    assert rc == 2 and "cosine schedule was planned for 2 epochs" in err
    assert cli(capsys, "train", *common, "--out", tmp_path / "part", "--resume")[0] == 0
    full, _ = read_checkpoint(tmp_path / "full" / "checkpoint.safetensors")
    part, meta = read_checkpoint(tmp_path / "part" / "checkpoint.safetensors")
    assert meta["epoch"] == 2 and full.keys() == part.keys()
    for k in full:
        np.testing.assert_array_equal(full[k], part[k], err_msg=k)
    assert (tmp_path / "runs" / "latest").read_text().strip().endswith("part")


@pytest.mark.parametrize("args, listed", [
    (["resnet-9000", "--data", "fashion-mnist"], "mnist-cnn"),
    (["mnist-cnn", "--data", "imagenet"], "fashion-mnist"),
    (["mnist-cnn", "--data", "fashion-mnist", "--optimizer", "lbfgs"], "sgd, adam, adamw, rmsprop, adagrad, adadelta"),
    (["mnist-cnn", "--data", "fashion-mnist", "--scheduler", "warmup"], "none, step, multistep, cosine, onecycle, plateau"),
    (["alexnet", "--data", "fashion-mnist"], "expects inputs of shape 3x227x227"),
])
def test_unknown_names_list_the_valid_ones(tmp_path, capsys, args, listed):
    rc, _, err = cli(capsys, "train", *args, "--out", tmp_path / "r", *TINY)
    assert rc == 2 and listed in err


def test_diverging_run_stops_with_step_and_checkpoint(tmp_path, capsys):
    rc, _, err = cli(capsys, "train", "mnist-cnn", "--data", "fashion-mnist", "--lr", 1e6, "--epochs", 3,
                     "--out", tmp_path / "r", "--limit-train", 640, "--limit-test", 64, "--no-progress")
    assert rc == 1 and "the loss became" in err and "at step" in err and "last good checkpoint" in err
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "diverged"


def test_demo_runs_the_main_job_quickly(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, _ = cli(capsys, "demo", "--limit-train", 320, "--no-progress")
    assert rc == 0
    assert "Total parameters: 35,330" in out and "test accuracy" in out and "true: Ankle boot" in out
    assert "checkpoint.safetensors" in out and "confusion.png" in out
    from cnnlab.train import latest_run

    assert (latest_run(tmp_path / "runs") / "examples").is_dir()


@pytest.mark.slow  # a few hundred steps on real data: ≈ 20 s
def test_few_hundred_steps_on_real_fashion_mnist_learn(tmp_path, capsys):
    """250 steps of batch 64 (16,000 images): well above the 10% of chance."""
    rc, out, _ = cli(capsys, "train", "mnist-cnn", "--data", "fashion-mnist", "--limit-train", 16000,
                     "--limit-test", 2000, "--no-progress", "--out", tmp_path / "r")
    assert rc == 0
    acc = json.loads((tmp_path / "r" / "run.json").read_text())["test_metrics"]["accuracy"]
    assert acc > 0.70, out


def test_eval_refuses_corrupt_checkpoints_and_wrong_data(tiny_run, tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((tiny_run / "checkpoint.safetensors").read_bytes()[:300])
    rc, _, err = cli(capsys, "eval", bad)
    assert rc == 2 and "bad.safetensors" in err and "corrupt" in err
    rc, _, err = cli(capsys, "eval", tiny_run, "--data", "iris")
    assert rc == 2 and "trained on inputs of shape 1x28x28" in err and "iris" in err
    rc, _, err = cli(capsys, "predict", tmp_path / "nothing.safetensors", tmp_path / "x.png")
    assert rc == 2 and "nothing.safetensors" in err and "does not exist" in err


def test_a_run_that_fails_to_start_leaves_no_empty_directory(tmp_path, capsys):
    out, root = tmp_path / "new-run", tmp_path / "runs"
    # the model cannot take this data: refused after the data are loaded, before any training
    assert main(["train", "mnist-cnn", "--data", "iris", "--out", str(out), "--runs-root", str(root),
                 "--no-progress"]) == 2
    assert "expects inputs of shape 1x28x28" in capsys.readouterr().err
    assert not out.exists() and not root.exists()
    # an --out that holds a run is still refused before anything is loaded
    (out).mkdir()
    (out / "run.json").write_text("{}")
    assert main(["train", "mnist-cnn", "--data", "mnist10k", "--out", str(out), "--no-progress"]) == 2
    assert "already holds a run" in capsys.readouterr().err
