"""``Summary._repr_html_``: the per-layer table as Jupyter shows it, with the same numbers as
the text table, and AlexNet's parameter counts checked against torch."""

from __future__ import annotations

import cnnlab
import torch_zoo
from html_helpers import parse, tables, text


def test_rows_and_totals_equal_the_summary():
    s = cnnlab.summary("mnist-cnn")
    t = tables(s._repr_html_())[0]
    assert t["caption"] == "mnist-cnn"
    assert t["head"][:4] == ["Layer", "Activation shape", "Activation size", "# parameters"]
    assert len(t["body"]) == len(s.rows)
    for row, r in zip(t["body"], s.rows):
        assert row[0] == (r.layer if r.name == "input" else f"{r.name}: {r.layer}")
        assert row[3] == f"{r.params:,}" and row[5] == f"{r.macs:,}"
    assert t["foot"][0][3] == f"{s.total_params:,}" == "35,330"
    assert t["foot"][0][5] == f"{s.total_macs:,}"
    notes = [text(li) for li in parse(s._repr_html_()).iter("li")]
    assert notes[0] == "Total parameters: 35,330 (trainable 35,330)"
    assert s.lecture_claim() in notes


def test_alexnet_counts_against_torch():
    s = cnnlab.summary("alexnet")
    t = tables(s._repr_html_())[0]
    ref = torch_zoo.AlexNet()
    counts = {row[0].split(":")[0]: int(row[3].replace(",", "")) for row in t["body"][1:]}
    for name, module in ref.named_modules():
        if name and not list(module.children()):
            assert counts[name] == sum(p.numel() for p in module.parameters()), name
    assert int(t["foot"][0][3].replace(",", "")) == sum(p.numel() for p in ref.parameters())
    assert t["body"][1][1] == "55 x 55 x 96" and t["body"][1][4] == "11·11·3·96 + 96"
