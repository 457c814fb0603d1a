"""`cnnlab reproduce --quick` runs every lecture recipe end to end (reduced budgets) and
writes the comparison table; the recipes themselves are validated."""

import json
import subprocess
import sys

import pytest

from cnnlab.reproduce.recipes import load_recipes


def test_recipes_cover_every_lecture_experiment():
    recipes = load_recipes()
    assert [r.name for r in recipes] == ["boston-mlp", "iris-mlp", "fashion-mlp", "mnist-mlp", "mnist-cnn", "fashion-cnn"]
    lecture = {r.name: r.lecture for r in recipes}
    assert lecture == {"boston-mlp": 3.97, "iris-mlp": 98.7, "fashion-mlp": 84.18, "mnist-mlp": 98.36, "mnist-cnn": None, "fashion-cnn": None}
    assert all(len(r.seeds) >= 3 and r.protocol for r in recipes)
    by_name = {r.name: r for r in recipes}
    # The lecture's comparison: MLP and CNN get the same data and the same budget.
    for mlp, cnn in [("fashion-mlp", "fashion-cnn"), ("mnist-mlp", "mnist-cnn")]:
        assert by_name[mlp].dataset == by_name[cnn].dataset and by_name[mlp].train == by_name[cnn].train


def test_unknown_recipe_lists_valid_names():
    with pytest.raises(ValueError, match="valid recipes: boston-mlp, iris-mlp"):
        load_recipes(only=["nope"])


def test_reproduce_quick_runs_every_row(tmp_path):
    cmd = [sys.executable, "-m", "cnnlab", "reproduce", "--quick", "--out", str(tmp_path), "--runs", str(tmp_path / "runs")]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((tmp_path / "reproduce.json").read_text())
    assert [r["name"] for r in rows] == [r.name for r in load_recipes()]
    for row in rows:
        assert len(row["values"]) == 3 and row["quick"]
        if row["metric"] == "accuracy":
            chance = 100 / 3 if row["name"] == "iris-mlp" else 10
            assert row["mean"] > 2 * chance, row  # even one short epoch learns far above chance
        else:
            assert row["mean"] < 6.0, row  # Boston: a constant predictor scores ≈ 9.2 RMSE
    table = (tmp_path / "reproduce.md").read_text()
    assert "| Fashion-MNIST, the lecture's CNN | fashion-mnist | mnist-cnn (35,330)" in table
    assert "84.18%" in table and "MNIST10k" in table
