"""A user's own folder of images trains, evaluates, predicts and opens in the explainer like a
built-in data set (``--data imagefolder --data-root DIR``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnnlab.datasets as D
from cnnlab.cli import build_parser, main

CLASSES = ["circle", "square", "stripe"]  # sorted: ImageFolder's class order


def write_folder(root: Path, per_class: int = 10, size=(28, 28), mode="L", seed=0) -> dict[str, list[Path]]:
    """``root/<class>/<nn>.png``: noise plus a bright band whose row depends on the class."""
    rng = np.random.default_rng(seed)
    files = {}
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        files[name] = []
        for i in range(per_class):
            a = rng.integers(0, 60, size, dtype=np.uint8)
            a[3 + 7 * c: 9 + 7 * c, 3:-3] = 250
            img = Image.fromarray(a)
            if mode == "RGB":
                img = img.convert("RGB")
            path = root / name / f"{i:02d}.png"
            img.save(path)
            files[name].append(path)
    return files


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("imagefolder")
    files = write_folder(d / "shapes")
    run = d / "run"
    rc = main(["train", "mnist-cnn", "--data", "imagefolder", "--data-root", str(d / "shapes"), "--out", str(run),
               "--epochs", "3", "--batch-size", "8", "--lr", "0.05", "--no-progress",
               "--val-split", "0"])  # every training image trains: the statistics below use them all
    assert rc == 0
    return d / "shapes", files, run


def test_the_split_holds_out_every_fifth_image_of_each_class(tmp_path):
    files = write_folder(tmp_path, per_class=7)
    train, test = (D.create("imagefolder", root=tmp_path, train=t) for t in (True, False))
    assert train.classes == test.classes == CLASSES
    held = sorted(str(files[c][4]) for c in CLASSES)  # index 4 of 0..6: the only 5th image
    assert sorted(p for p, _ in test.samples) == held
    assert len(train) == 18 and not set(p for p, _ in train.samples) & set(held)
    # Grayscale files become one channel, stacked as the built-in sets keep theirs.
    assert train.data.shape == (18, 28, 28) and train.data.dtype == np.uint8 and train.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(test.data[0], np.asarray(Image.open(held[0])))
    assert list(test.targets) == [0, 1, 2]


def test_train_and_test_folders_are_used_as_given(tmp_path):
    write_folder(tmp_path / "train", per_class=3, mode="RGB")
    write_folder(tmp_path / "test", per_class=2, mode="RGB", seed=1)
    train, test = (D.create("imagefolder", root=tmp_path, train=t) for t in (True, False))
    assert (len(train), len(test)) == (9, 6) and train.classes == CLASSES
    assert train.data.shape == (9, 28, 28, 3) and test.input_shape == (3, 28, 28)


def test_training_statistics_come_from_the_training_images(trained):
    root, files, run = trained
    info = json.loads((run / "run.json").read_text())
    assert info["classes"] == CLASSES and info["train_samples"] == 24 and info["test_samples"] == 6
    train_files = [p for c in CLASSES for i, p in enumerate(files[c]) if i % 5 != 4]
    pixels = np.stack([np.asarray(Image.open(p), np.float64) / 255 for p in train_files])
    from cnnlab.checkpoint import load_checkpoint

    _, meta = load_checkpoint(run / "checkpoint.safetensors")
    pre = meta["extra"]["preprocess"]
    assert pre["image_shape"] == [1, 28, 28]
    np.testing.assert_allclose(pre["mean"], [pixels.mean()], rtol=1e-9)
    np.testing.assert_allclose(pre["std"], [pixels.std()], rtol=1e-9)


def test_eval_and_predict_agree_image_by_image(trained, capsys):
    """eval (the dataset's arrays) and predict (each file read on its own) give the same answers."""
    root, files, run = trained
    capsys.readouterr()
    assert main(["eval", str(run)]) == 0  # the run's --data-root is remembered
    out = capsys.readouterr().out
    assert "on imagefolder (test split" in out and "samples 6" in out
    accuracy = float(out.split("accuracy ")[1].split("%")[0])
    held = [files[c][4] for c in CLASSES] + [files[c][9] for c in CLASSES]
    assert main(["predict", str(run), *map(str, held), "--topk", "3"]) == 0
    blocks = capsys.readouterr().out.strip().split("\n")
    tops = [blocks[i + 1].split() for i in range(0, len(blocks), 4)]
    assert all(b[0] in CLASSES for b in tops)
    truth = [p.parent.name for p in held]
    assert 100 * np.mean([t[0] == y for t, y in zip(tops, truth)]) == pytest.approx(accuracy, abs=0.01)
    run_json = json.loads((run / "run.json").read_text())
    assert 100 * run_json["test_metrics"]["accuracy"] == pytest.approx(accuracy, abs=0.01)


def test_the_explainer_loads_the_run_with_its_images(trained):
    """The path `cnnlab explain RUN` takes: the run's data root, then the app."""
    from fastapi.testclient import TestClient

    from cnnlab.cli.cmd_eval import recorded_data_root
    from cnnlab.explain import create_app
    from cnnlab.explain.loading import app_kwargs_from_checkpoint

    root, files, run = trained
    assert recorded_data_root(str(run)) == str(root)
    kwargs, notes = app_kwargs_from_checkpoint(str(run), recorded_data_root(str(run)))
    assert not any("could not be loaded" in n for n in notes), notes
    client = TestClient(create_app(**kwargs))
    info = client.get("/api/model").json()
    assert info["n_samples"] == 6 and info["classes"] == CLASSES and info["input_shape"] == [1, 28, 28]
    r = client.post("/api/infer", json={"sample": 2})  # circle/04, circle/09, square/04, ...
    assert r.status_code == 200 and r.json()["label_name"] == "square"


def test_an_empty_class_folder_is_an_error(tmp_path, capsys):
    write_folder(tmp_path / "data", per_class=6)
    (tmp_path / "data" / "empty-class").mkdir()
    with pytest.raises(FileNotFoundError, match="found no valid file for the class empty-class"):
        D.ImageFolder(tmp_path / "data")
    rc = main(["train", "mnist-cnn", "--data", "imagefolder", "--data-root", str(tmp_path / "data"), "--out",
               str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "empty-class" in err and "Traceback" not in err


def test_images_of_different_sizes_are_refused_naming_them(tmp_path, capsys):
    write_folder(tmp_path / "data", per_class=6)
    Image.fromarray(np.zeros((32, 30), np.uint8)).save(tmp_path / "data" / "square" / "99.png")
    rc = main(["train", "mnist-cnn", "--data", "imagefolder", "--data-root", str(tmp_path / "data"), "--out",
               str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "99.png is 30x32" in err


def test_too_few_images_to_hold_out_a_test_split(tmp_path, capsys):
    write_folder(tmp_path, per_class=2)
    with pytest.raises(ValueError, match="too few images"):
        D.create("imagefolder", root=tmp_path, train=False)


def test_datasets_names_the_flag_train_really_has(capsys):
    assert main(["datasets"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("imagefolder"))
    assert "--data imagefolder --data-root DIR" in line
    train = next(a for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions
                 if "--data-root" in a.option_strings)
    assert train.option_strings == ["--data-root"]


def test_figures_take_the_runs_own_test_images(trained, tmp_path, capsys):
    root, files, run = trained
    capsys.readouterr()
    assert main(["show-features", str(run), "test:2", "--out", str(tmp_path / "f.png")]) == 0
    assert "(label: square)" in capsys.readouterr().out  # test:2 is square/04
