"""``nn.Module._repr_html_``: the layers and their parameter counts, as Jupyter shows a model.

Counts are checked against the same architecture written in torch (``tests/torch_zoo.py``) and
against ``cnnlab.summary``'s rows.
"""

from __future__ import annotations

import cnnlab
from cnnlab import nn
import torch_zoo
from html_helpers import parse, tables, text


def _rows(model):
    table = tables(model._repr_html_())[0]
    return table, {r[0]: r for r in table["body"]}


def test_mnist_cnn_rows_match_torch_and_the_summary():
    net = cnnlab.models.create("mnist-cnn")
    table, rows = _rows(net)
    ref = torch_zoo.MnistCNN()
    torch_leaves = [n for n, m in ref.named_modules() if n and not list(m.children())]
    assert list(rows) == torch_leaves
    for name, module in ref.named_modules():
        if name:
            assert rows[name][2] == f"{sum(p.numel() for p in module.parameters()):,}", name
    total = sum(p.numel() for p in ref.parameters())
    assert table["foot"][0][2] == f"{total:,}" == "35,330"
    summary = cnnlab.summary(net, (1, 28, 28))
    first_call = {}
    for r in summary.rows[1:]:
        first_call.setdefault(r.name, r.params)
    assert {n: int(r[2].replace(",", "")) for n, r in rows.items()} == first_call
    assert rows["conv1"][3] == "weight 16×1×5×5, bias 16"
    assert rows["conv1"][1] == "Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1))"


def test_text_repr_is_folded_under_the_table():
    net = cnnlab.models.create("mnist-cnn")
    details = parse(net._repr_html_()).find("details")
    assert text(details.find("pre")) == repr(net)
    assert repr(net).startswith("MNISTCNN(")  # the plain repr is unchanged


def test_shared_and_own_parameters_are_counted_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(cnnlab.ones(3))
            self.a = nn.Linear(4, 4)
            self.b = self.a  # the same layer twice
            self.head = nn.Sequential(nn.Linear(4, 2), nn.ReLU())

    net = Tied()
    table, rows = _rows(net)
    assert list(rows) == ["(model)", "a", "head.0", "head.1"]
    assert rows["(model)"][2] == "3" and rows["a"][2] == "20" and rows["head.0"][2] == "10"
    assert table["foot"][0][2] == f"{sum(p.numel() for p in net.parameters()):,}" == "33"


def test_frozen_parameters_and_modes():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Linear(8, 2))
    net[0].requires_grad_(False)
    table, _ = _rows(net.eval())
    assert table["caption"] == "Sequential (eval mode)"
    assert table["foot"][0][3] == f"trainable {16 + 18:,}"


def test_markup_is_escaped():
    class Odd(nn.Module):
        def extra_repr(self):
            return "a<b & \"c\""

    _, rows = _rows(nn.Sequential(Odd()))
    assert rows["0"][1] == 'Odd(a<b & "c")'


def test_lazy_layer_before_its_first_call():
    _, rows = _rows(nn.Sequential(nn.LazyConv2d(4, 3), nn.ReLU()))
    assert rows["0"][2] == "0"
