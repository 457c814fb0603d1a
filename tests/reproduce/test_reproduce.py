"""`cnnlab reproduce --quick` runs every lecture recipe end to end (reduced budgets) and
writes the comparison table; the recipes themselves are validated."""

import json
import subprocess
import sys

import numpy as np
import pytest

from cnnlab.reproduce.recipes import load_recipes


def test_recipes_cover_every_lecture_experiment():
    assert [r.name for r in load_recipes()][-1] == "robustness"  # tests/reproduce/test_robustness_recipe.py
    recipes = [r for r in load_recipes() if r.kind == "table"]
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


@pytest.mark.slow  # every recipe on its quick budget: ≈ 85 s
def test_reproduce_quick_runs_every_row(tmp_path):
    cmd = [sys.executable, "-m", "cnnlab", "reproduce", "--quick", "--out", str(tmp_path), "--runs", str(tmp_path / "runs")]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((tmp_path / "reproduce.json").read_text())
    assert [r["name"] for r in rows] == [r.name for r in load_recipes() if r.kind == "table"]
    assert (tmp_path / "robustness.png").is_file()  # the robustness recipe's own checks: test_robustness_recipe.py
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
    assert "Iris, MLP 4-25-15-3** (accuracy, cross-validation figure)" in table
    iris = next(r for r in rows if r["name"] == "iris-mlp")
    assert iris["cv_folds"] == 5 and [len(v) for v in iris["fold_values"]] == [5, 5, 5]


def test_pooled_fold_figures_equal_scoring_all_predictions_together():
    from cnnlab.reproduce.runner import _pool_folds

    rng = np.random.default_rng(0)
    residuals = [rng.standard_normal(n) * s for n, s in [(101, 1.0), (102, 3.0), (101, 0.5)]]
    rmse = [float(np.sqrt(np.mean(r ** 2))) for r in residuals]
    everything = float(np.sqrt(np.mean(np.concatenate(residuals) ** 2)))
    assert _pool_folds(rmse, [len(r) for r in residuals], "rmse") == pytest.approx(everything, rel=1e-12)
    correct = [rng.random(n) < p for n, p in [(30, 0.9), (30, 1.0), (29, 0.8)]]
    acc = [100 * c.mean() for c in correct]
    assert _pool_folds(acc, [len(c) for c in correct], "accuracy") == pytest.approx(100 * np.concatenate(correct).mean())


def test_cross_validated_run_records_and_evaluates_its_fold(tmp_path):
    from cnnlab.train.session import TrainConfig, eval_checkpoint, train_run

    cfg = TrainConfig(model="iris-mlp", data="iris", epochs=2, batch_size=16, optimizer="adam", lr=0.01,
                      seed=1, fold=2, folds=5)
    _, run, test = train_run(cfg, out=tmp_path / "cv", root=tmp_path, progress=False, log=None)
    metrics, extra, _ = eval_checkpoint(run)
    assert extra["split"] == {"fold": 2, "folds": 5, "split_seed": 1}
    assert metrics["count"] == 30 and metrics["accuracy"] == test["accuracy"]  # the same held-out fold
    result = subprocess.run([sys.executable, "-m", "cnnlab", "eval", str(run)], capture_output=True, text=True)
    assert "held-out fold 2 of 5, seed 1" in result.stdout, result.stderr
    with pytest.raises(ValueError, match="fixed train/test split; cross-validation folds exist for iris, .*boston"):
        train_run(TrainConfig(model="mnist-mlp", data="fashion-mnist", fold=0), out=tmp_path / "no", root=tmp_path,
                  progress=False, log=None)
    assert not (tmp_path / "no").exists()  # refused before a run directory was made
