"""cnnlab.errors against scikit-learn (confusion matrix, precision/recall/F1/support) and
against plain counting (cells, most-confused pairs, top losses)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from cnnlab.errors import ErrorAnalysis


def _random_analysis(seed, n=300, k=6):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    logits = rng.standard_normal((n, k)) + 2.0 * np.eye(k)[labels]
    if seed % 2:
        logits[:, k - 1] -= 50  # a class never predicted: precision 0/0
        labels[labels == 2] = 3  # and a class that never occurs: recall 0/0
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    losses = -np.log(p[np.arange(n), labels])
    return ErrorAnalysis(p, labels, losses, classes=[f"c{i}" for i in range(k)]), labels, p.argmax(1), losses


@pytest.mark.parametrize("seed", range(4))
def test_confusion_and_per_class_scores_match_scikit_learn(seed):
    a, y, pred, _ = _random_analysis(seed)
    k = len(a.classes)
    np.testing.assert_array_equal(a.confusion_matrix(), confusion_matrix(y, pred, labels=range(k)))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(k), zero_division=0)
    stats = a.per_class()
    np.testing.assert_allclose(stats["precision"], p, rtol=1e-12)
    np.testing.assert_allclose(stats["recall"], r, rtol=1e-12)
    np.testing.assert_allclose(stats["f1"], f, rtol=1e-12)
    np.testing.assert_array_equal(stats["support"], s)
    assert a.accuracy() == pytest.approx(np.mean(y == pred))


@pytest.mark.parametrize("seed", range(4))
def test_cells_most_confused_and_losses_count_the_same_images(seed):
    a, y, pred, losses = _random_analysis(seed)
    cells = a.cells()
    for t in range(len(a.classes)):
        for p in range(len(a.classes)):
            assert cells[t][p] == [i for i in range(len(y)) if y[i] == t and pred[i] == p]
            assert a.cell(a.classes[t], p) == cells[t][p]
    counts = Counter((a.classes[t], a.classes[p]) for t, p in zip(y, pred) if t != p)
    confused = a.most_confused()
    assert sorted(confused) == sorted((t, p, c) for (t, p), c in counts.items())
    assert [c for _, _, c in confused] == sorted(counts.values(), reverse=True)
    assert all(c >= 3 for _, _, c in a.most_confused(min_count=3))
    wrong = a.misclassified()
    assert sorted(w.index for w in wrong) == [i for i in range(len(y)) if y[i] != pred[i]]
    assert [w.loss for w in wrong] == sorted((w.loss for w in wrong), reverse=True)
    top = a.top_losses(5)
    assert [t.index for t in top] == list(np.argsort(-losses, kind="stable")[:5])
    first = top[0]
    assert first.probability == pytest.approx(a.probabilities[first.index].max())
    assert first.true_probability == pytest.approx(np.exp(-first.loss))


def test_report_is_json_and_names_classes():
    import json

    a, *_ = _random_analysis(1, n=40, k=4)
    report = json.loads(json.dumps(a.report(top=3)))
    assert report["images"] == 40 and len(report["top_losses"]) == 3
    assert report["confusion_matrix"] == a.confusion_matrix().tolist()
    assert [len(c) for row in report["confusion_cells"] for c in row] == a.confusion_matrix().ravel().tolist()
    assert {row["class"] for row in report["per_class"]} == set(a.classes)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="expected 3 labels and losses"):
        ErrorAnalysis(np.ones((3, 2)) / 2, [0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"labels must be class indices in 0\.\.1"):
        ErrorAnalysis(np.ones((2, 2)) / 2, [0, 2], [0.1, 0.2])
    a = ErrorAnalysis(np.ones((2, 2)) / 2, [0, 1], [0.1, 0.2], classes=["cat", "dog"])
    with pytest.raises(ValueError, match="unknown class 'cow'; classes: cat, dog"):
        a.cell("cow", "dog")
