"""``cnnlab attribute`` and ``cnnlab errors`` end to end on a tiny trained Fashion-MNIST run,
and what their figures show (panels and labels), checked against the library's numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab import attribution, datasets
from cnnlab.cli import main
from cnnlab.viz.attribution import (METHODS, attribution_maps, attribution_mosaic, error_gallery_mosaic, heat_rgb,
                                    overlay_rgb)
from cnnlab.viz.model_input import load_model


def cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("attr") / "run"
    assert main(["train", "mnist-cnn", "--data", "fashion-mnist", "--out", str(out), "--limit-train", "512",
                 "--limit-test", "100", "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def fashion_test():
    return datasets.create("fashion-mnist", train=False)


def _forward(run, image):
    loaded = load_model(str(run))
    x = loaded.normalize(image)
    with cnnlab.no_grad():
        logits = loaded.model(cnnlab.from_numpy(x[None])).numpy()[0]
    return loaded, x, logits


def test_attribute_all_methods_on_a_test_image(run, fashion_test, tmp_path, capsys):
    out = tmp_path / "why.png"
    rc, stdout, err = cli(capsys, "attribute", run, "test:7", "--out", out)
    assert rc == 0, err
    loaded, x, logits = _forward(run, fashion_test.data[7])
    pred = int(np.argmax(logits))
    classes = fashion_test.classes
    assert stdout.startswith(f"mnist-cnn on test:7: predicted {classes[pred]}")
    assert f"true {classes[int(fashion_test.targets[7])]}" in stdout
    for m in METHODS:
        assert f"  {m} " in stdout
    _, gap = attribution.integrated_gradients(loaded.model, x[None], pred, return_error=True)
    assert f"completeness error {float(gap.numpy()[0]):+.2g}" in stdout
    with Image.open(out) as img:
        assert img.size[0] > 2.4 * img.size[1] > 1000  # 7 columns of 2 panels


def test_attribute_one_method_target_and_layer(run, tmp_path, capsys):
    out = tmp_path / "cam.png"
    rc, stdout, err = cli(capsys, "attribute", run, "test:3", "--method", "grad-cam", "--layer", "conv1",
                          "--target", "Sneaker", "--out", out)
    assert rc == 0, err
    assert "maps for Sneaker" in stdout and "layer conv1 (24x24)" in stdout
    assert "saliency" not in stdout and out.is_file()
    rc, stdout, err = cli(capsys, "attribute", run, "test:3", "--method", "occlusion", "--target", "2",
                          "--out", tmp_path / "occ.png")
    assert rc == 0 and "maps for Pullover" in stdout, err


def test_figure_shows_the_maps_and_labels(run, fashion_test):
    image = fashion_test.data[0]
    loaded, x, logits = _forward(run, image)
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    maps = attribution_maps(loaded.model, x, 9, METHODS, layer="conv2")
    direct = attribution.grad_cam(loaded.model, x[None], 9, "conv2")
    np.testing.assert_array_equal(maps[4].values, attribution.upsample(direct, (28, 28)).numpy()[0])
    np.testing.assert_array_equal(maps[0].values, attribution.saliency(loaded.model, x[None], 9).numpy()[0, 0])
    mosaic = attribution_mosaic(image, maps, probs, fashion_test.classes, target=9, label=9)
    np.testing.assert_allclose(mosaic.panel(0, 0)[..., 0], image / 255, atol=1e-6)
    for j, m in enumerate(maps, start=1):
        np.testing.assert_allclose(mosaic.panel(0, j), heat_rgb(m), atol=1e-6)
        np.testing.assert_allclose(mosaic.panel(1, j), overlay_rgb(image, m), atol=1e-6)
    labels = mosaic.labels()
    top = np.argsort(-probs)[:5]
    assert [f"{fashion_test.classes[k]}  {probs[k]:.2f}" for k in top] == [t for t in labels if "  " in t][:5]
    assert "input\ntrue: Ankle boot" in labels and any(t.startswith("Grad-CAM\nlayer conv2 (8x8)") for t in labels)
    assert f"predicted {fashion_test.classes[int(np.argmax(probs))]}" in mosaic.title


def test_errors_report_gallery_and_table(run, fashion_test, tmp_path, capsys):
    out = tmp_path / "err"
    rc, stdout, err = cli(capsys, "errors", run, "--limit", 300, "--top", 6, "--out", out)
    assert rc == 0, err
    report = json.loads((out / "errors.json").read_text())
    loaded = load_model(str(run))
    x = np.stack([loaded.normalize(im) for im in fashion_test.data[:300]])
    with cnnlab.no_grad():
        pred = loaded.model(cnnlab.from_numpy(x)).numpy().argmax(1)
    y = np.asarray(fashion_test.targets[:300])
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (y, pred), 1)
    assert report["images"] == 300 and report["confusion_matrix"] == cm.tolist()
    assert report["accuracy"] == pytest.approx(np.mean(pred == y), abs=1e-6)
    assert sorted(i for row in report["confusion_cells"] for c in row for i in c) == list(range(300))
    assert {m["index"] for m in report["misclassified"]} == set(np.flatnonzero(pred != y).tolist())
    gallery = report["gallery"]["images"]
    assert len(gallery) == 6 and [g["loss"] for g in gallery] == sorted((g["loss"] for g in gallery), reverse=True)
    worst = report["most_confused"][0]
    assert f"{worst['true']}" in stdout.splitlines()[3] and str(worst["count"]) in stdout.splitlines()[3]
    assert (out / "errors.png").is_file() and "accuracy" in stdout.splitlines()[0]


def test_errors_pair_lists_only_that_cell(run, tmp_path, capsys):
    out = tmp_path / "pair"
    rc, stdout, err = cli(capsys, "errors", run, "--limit", 300, "--pair", "Shirt,T-shirt/top", "--out", out)
    assert rc == 0, err
    report = json.loads((out / "errors.json").read_text())
    cell = report["confusion_cells"][6][0]
    assert report["gallery"]["pair"]["indices"] == cell
    shown = [g["index"] for g in report["gallery"]["images"]]
    assert set(shown) <= set(cell) and len(shown) == min(16, len(cell))
    assert f"{len(cell)} of 300 test images" in stdout
    assert all(g["true_name"] == "Shirt" and g["predicted_name"] == "T-shirt/top" for g in report["gallery"]["images"])


def test_gallery_shows_each_image_with_its_grad_cam(run, fashion_test):
    images = fashion_test.data[:3]
    cams = np.random.default_rng(0).random((3, 28, 28))
    rows = [{"index": i, "true": 0, "true_name": "T-shirt/top", "predicted": 6, "predicted_name": "Shirt",
             "probability": 0.5, "loss": 1.25} for i in range(3)]
    mosaic = error_gallery_mosaic(images, cams, rows, title="t", per_row=2)
    np.testing.assert_allclose(mosaic.panel(1, 0)[..., 0], images[2] / 255, atol=1e-6)
    assert "#2 true T-shirt/top\npred Shirt 0.50" in mosaic.labels() and "Grad-CAM\nloss 1.25" in mosaic.labels()


def test_validation_split_of_the_run(run, tmp_path, capsys):
    """The run holds out part of its training split (run.json "validation"); val:N and
    --split val read those images, numbered in their order there."""
    info = json.loads((run / "run.json").read_text())
    held_out = info["validation"]["indices"]
    assert len(held_out) > 2
    rc, stdout, err = cli(capsys, "errors", run, "--split", "val", "--top", 2, "--out", tmp_path / "v")
    assert rc == 0, err
    report = json.loads((tmp_path / "v" / "errors.json").read_text())
    assert report["split"] == "val" and report["images"] == len(held_out)
    train = datasets.create("fashion-mnist", train=True)
    labels = np.asarray(train.targets)[held_out]
    assert np.asarray(report["confusion_matrix"]).sum(1).tolist() == np.bincount(labels, minlength=10).tolist()
    rc, stdout, err = cli(capsys, "attribute", run, "val:1", "--method", "saliency", "--out", tmp_path / "v.png")
    assert rc == 0 and f"true {train.classes[int(train.targets[held_out[1]])]}" in stdout, err


def test_a_run_without_a_validation_split_says_so(run, tmp_path, capsys):
    text = (run / "run.json").read_text()
    info = json.loads(text)
    info["validation"]["indices"] = []
    (run / "run.json").write_text(json.dumps(info))
    try:
        rc, _, err = cli(capsys, "errors", run, "--split", "val", "--out", tmp_path / "v")
        assert rc == 2 and "records no validation split" in err and len(err.strip().splitlines()) == 1
        rc, _, err = cli(capsys, "attribute", run, "val:0", "--out", tmp_path / "v.png")
        assert rc == 2 and "records no validation split" in err
    finally:
        (run / "run.json").write_text(text)


@pytest.mark.parametrize("argv, message", [
    (["attribute", "{run}", "test:0", "--method", "lime"], "--method 'lime': expected one of saliency, "),
    (["attribute", "{run}", "test:0", "--layer", "conv9"], "--layer 'conv9': MNISTCNN has no layer 'conv9'; layers: conv1, conv2"),
    (["attribute", "{run}", "test:0", "--layer", "fc1", "--method", "grad-cam"], "'fc1' (Linear) gives (1, 64)"),
    (["attribute", "{run}", "test:0", "--layer", "conv1", "--method", "saliency"], "--layer is Grad-CAM's layer"),
    (["attribute", "{run}", "test:0", "--target", "Hat"], "--target 'Hat': expected a class name or an index in 0..9"),
    (["attribute", "{run}", "test:0", "--target", "10"], "--target '10'"),
    (["attribute", "{run}", "test:10000"], "test:10000: the fashion-mnist test split has images 0..9999"),
    (["attribute", "{run}", "test:x"], "expected test:N with a non-negative integer N"),
    (["attribute", "{run}", "nope.png"], "nope.png"),
    (["errors", "{run}", "--pair", "Shirt"], '--pair \'Shirt\': expected "TRUE,PREDICTED"'),
    (["errors", "{run}", "--pair", "Shirt,Hat"], "unknown class 'Hat'"),
    (["errors", "{run}", "--split", "train"], "`split`: expected one of test, val, got 'train'"),
    (["errors", "{run}", "--top", "0"], "argument --top: expected an integer >= 1, got '0'"),
])
def test_bad_arguments_give_one_line_and_exit_2(run, tmp_path, capsys, argv, message):
    rc, _, err = cli(capsys, *[a.replace("{run}", str(run)) for a in argv], "--out", tmp_path / "o.png")
    assert rc == 2
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("attr-mlp") / "run"
    assert main(["train", "mnist-mlp", "--data", "fashion-mnist", "--out", str(out), "--limit-train", "256",
                 "--limit-test", "60", "--no-progress"]) == 0
    return out


def test_an_mlp_gets_every_map_but_grad_cam_and_an_error_report(mlp_run, fashion_test, tmp_path, capsys):
    """Both commands stopped on an MLP because Grad-CAM needs a convolution; "all" now leaves it
    out (and says so) and the errors gallery shows the images without the overlay."""
    rc, stdout, err = cli(capsys, "attribute", mlp_run, "test:0", "--out", tmp_path / "why.png")
    assert rc == 0, err
    assert "grad-cam left out: the model has no convolution layer" in stdout
    assert all(f"  {m} " in stdout for m in METHODS if m != "grad-cam")
    rc, _, err = cli(capsys, "attribute", mlp_run, "test:0", "--method", "grad-cam", "--out", tmp_path / "c.png")
    assert rc == 2 and "no convolution layer" in err                      # asked for by name: refused
    rc, stdout, err = cli(capsys, "errors", mlp_run, "--limit", 60, "--top", 4, "--out", tmp_path / "err")
    assert rc == 0, err
    report = json.loads((tmp_path / "err" / "errors.json").read_text())
    assert report["images"] == 60 and report["gallery"]["grad_cam_layer"] is None
    with Image.open(tmp_path / "err" / "errors.png") as img:
        assert img.size[0] < 2.5 * img.size[1]        # one row of 4 images, one panel each (not 8 panels)


def test_gallery_without_grad_cam(fashion_test):
    rows = [{"index": i, "true": 0, "true_name": "T-shirt/top", "predicted": 6, "predicted_name": "Shirt",
             "probability": 0.5, "loss": 1.25} for i in range(3)]
    mosaic = error_gallery_mosaic(fashion_test.data[:3], None, rows, title="t", per_row=2)
    np.testing.assert_allclose(mosaic.panel(0, 1)[..., 0], fashion_test.data[1] / 255, atol=1e-6)
    assert "#1 true T-shirt/top\npred Shirt 0.50\nloss 1.25" in mosaic.labels()
    assert not any("Grad-CAM" in label for label in mosaic.labels())


def test_an_imagefolder_run_finds_its_own_folder(tmp_path, capsys):
    """attribute test:N and errors read the run's data set; for --data imagefolder that is the
    folder it was trained on (run.json), as eval, predict and explain already did."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(["red", "green", "blue"]):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(5):
            a = rng.integers(0, 60, (32, 32, 3)).astype(np.uint8)
            a[..., k] += 150
            Image.fromarray(a).save(tmp_path / "photos" / name / f"{i}.png")
    run = tmp_path / "run"
    assert main(["train", "cifar-cnn", "--data", "imagefolder", "--data-root", str(tmp_path / "photos"),
                 "--val-split", "0", "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    rc, stdout, err = cli(capsys, "attribute", run, "test:0", "--method", "saliency", "--out", tmp_path / "a.png")
    assert rc == 0, err
    assert "true blue" in stdout          # test:0 is the first held-out image of the first class by name
    loaded, x, logits = _forward(run, np.asarray(Image.open(tmp_path / "photos" / "blue" / "0.png")))
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    maps = attribution_maps(loaded.model, x, 0, ("saliency",))
    labels = attribution_mosaic(np.asarray(Image.open(tmp_path / "photos" / "blue" / "0.png")), maps, probs,
                                ["blue", "green", "red"], title="t", target=0).labels()
    assert "probabilities" in labels and "top-5 probabilities" not in labels   # 3 classes, not "top-5"
    rc, stdout, err = cli(capsys, "errors", run, "--out", tmp_path / "err")
    assert rc == 0, err
    report = json.loads((tmp_path / "err" / "errors.json").read_text())
    assert report["images"] == 3 and np.asarray(report["confusion_matrix"]).sum(1).tolist() == [1, 1, 1]


def test_a_grad_cam_that_is_0_everywhere_says_so():
    from cnnlab import nn

    cnnlab.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)).eval()
    x = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    with cnnlab.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(-1.0)                   # every activation cut by the ReLU: A = 0
    (cam,) = attribution_maps(model, x, 0, ("grad-cam",))
    assert not cam.values.any() and cam.note == "layer 0 (6x6), all 0"
