"""A loaded run shows itself in Jupyter: ``RunInfo`` reads the checkpoint's history, and its
``_repr_html_`` lists the model, data and last metrics and draws the loss and accuracy curves."""

from __future__ import annotations

import numpy as np

import cnnlab
from cnnlab import _html, inspect, nn
from cnnlab.train import fit
from cnnlab.utils.data import DataLoader, TensorDataset
from html_helpers import parse, tables


def _tiny_run(tmp_path, epochs=2):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 1, 6, 6)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(cnnlab.from_numpy(x), cnnlab.from_numpy(y)), batch_size=8, shuffle=True,
                        generator=np.random.default_rng(0))
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 2))
    opt = cnnlab.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, loader, epochs=epochs, optimizer=opt, val_loader=loader, out_dir=tmp_path, plots=False,
                  classes=["low", "high"], progress=False, log=None,
                  extra_meta={"dataset": "noise<&>", "input_shape": [1, 6, 6]})
    return history, tmp_path


def test_run_info_reads_the_history(tmp_path):
    history, run = _tiny_run(tmp_path)
    info = inspect.RunInfo.from_checkpoint(run)
    assert [r["epoch"] for r in info.history] == [1, 2]
    assert [r["val_loss"] for r in info.history] == [r["val_loss"] for r in history.records]
    assert list(info.step_loss) == [s["loss"] for s in history.steps]
    assert len(info.step_loss) == 10  # 40 samples / batch 8, two epochs


def test_run_html_shows_model_data_metrics_and_curves(tmp_path):
    history, run = _tiny_run(tmp_path)
    info = inspect.RunInfo.from_checkpoint(run)
    page = info._repr_html_()
    root = parse(page)  # well-formed
    about, metrics = tables(page)[:2]
    fields = dict(about["body"])
    assert about["caption"] == "Run: Sequential on noise<&>"
    assert fields["classes"] == "2: low, high" and fields["input shape"] == "1 × 6 × 6"
    assert fields["epochs done"] == "2"
    values = dict(metrics["body"])
    last = history.records[-1]
    assert values["val_accuracy"] == f"{100 * last['val_accuracy']:.2f}%"
    assert values["train_loss"] == f"{last['train_loss']:.4g}"
    svgs = [el for el in root.iter() if el.tag.endswith("svg")]
    assert len(svgs) == 2
    lines = [el for el in svgs[0].iter() if el.tag.endswith("polyline")]
    steps = len(lines[0].get("points").split())
    assert steps == len(info.step_loss) == 10
    legend = [el.text for el in svgs[1].iter() if el.tag.endswith("text") and el.get("fill")]
    assert legend == ["train", "val"]


def test_run_without_history_still_shows():
    info = inspect.RunInfo.from_metadata({"model_name": "mnist-cnn", "epoch": 1,
                                          "metrics": {"test_accuracy": 0.5, "note": "x"}})
    page = info._repr_html_()
    parse(page)
    assert "svg" not in page
    assert dict(tables(page)[1]["body"]) == {"test_accuracy": "50.00%"}


def test_line_chart_places_points_on_the_axes():
    svg = _html.line_chart({"a": ([0, 1, 2], [1.0, 3.0, float("nan")]), "b": ([], [])}, title="t", xlabel="x",
                           width=200, height=100)
    el = parse(svg)[0]
    (line,) = [e for e in el.iter() if e.tag.endswith("polyline")]
    pts = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    # plot area: left 48, top 20, width 200 - 48 - 130 = 22, height 100 - 20 - 30 = 50
    assert pts == [(48.0, 70.0), (70.0, 20.0)]  # the NaN point is left out, so x ends at 1
    assert _html.line_chart({"a": ([1], [float("inf")])}, title="t", xlabel="x") == ""
