"""`cnnlab reproduce --only robustness`: the MLP and the CNN, each trained with and without
augmentation on one budget, swept over the lecture's challenges; strength 0 is each run's clean
test accuracy as its training reported it."""

import json

import pytest

from cnnlab.cli import main
from cnnlab.reproduce.recipes import load_recipes


def test_recipe_compares_mlp_and_cnn_with_and_without_augmentation():
    (r,) = load_recipes(only=["robustness"])
    assert r.kind == "robustness" and r.models == ("mnist-mlp", "mnist-cnn")
    assert set(r.augment.split(",")) == {"viewpoint", "scale", "translation", "deformation", "occlusion", "clutter"}
    assert r.challenges == ("viewpoint", "scale", "deformation", "occlusion", "brightness", "contrast", "gamma",
                            "clutter", "noise", "translation")
    quick = r.budget(True)
    assert quick["epochs"] == 1 and quick["limit_train"] <= 1000 and quick["limit_test"] <= 100


def test_bad_robustness_recipe_names_the_field(tmp_path):
    from cnnlab.reproduce.recipes import _parse

    bad = tmp_path / "r.toml"
    bad.write_text('name = "r"\nkind = "robustness"\nexperiment = "x"\ndataset = "fashion-mnist"\nprotocol = "p"\n'
                   'seeds = [0]\nmodels = ["mnist-cnn"]\naugment = "viewpoint,blur"\nchallenges = ["scale"]\n[train]\n')
    with pytest.raises(ValueError, match=r"r.toml: augmentation challenges must be names from .*blur"):
        _parse(bad)
    bad.write_text(bad.read_text().replace("viewpoint,blur", "viewpoint").replace('["scale"]', '["zoom"]'))
    with pytest.raises(ValueError, match=r"r.toml: robustness: challenge must be one of .*got 'zoom'"):
        _parse(bad)


@pytest.mark.slow  # four one-epoch trainings on 1,000 images and ten sweeps on 100: ~25 s of CPU
def test_quick_robustness_recipe_runs_and_starts_at_the_clean_accuracy(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--only", "robustness", "--out", str(tmp_path),
                 "--runs", str(tmp_path / "runs")]) == 0
    res = json.loads((tmp_path / "robustness.json").read_text())
    assert list(res["curves"]) == ["MLP", "MLP + augmentation", "CNN", "CNN + augmentation"]
    for label, by_challenge in res["curves"].items():
        assert list(by_challenge) == list(res["strengths"])
        for ch, accs in by_challenge.items():
            assert len(accs) == len(res["strengths"][ch])
            assert accs[0] == pytest.approx(res["clean"][label], abs=1e-9)  # strength 0 = the clean test accuracy
    # each run's training reported that accuracy in its own run.json
    run = json.loads((tmp_path / "runs" / "robustness-quick-mnist-cnn-augment-seed0" / "run.json").read_text())
    assert run["config"]["augment"] == res["augment"]
    assert 100 * run["test_metrics"]["accuracy"] == pytest.approx(res["clean"]["CNN + augmentation"])
    md = (tmp_path / "reproduce.md").read_text()
    assert "| challenge (strengths) | MLP | MLP + augmentation | CNN | CNN + augmentation |" in md
    assert "| deformation (0, 10, 20, 34, 50, 70) |" in md
    assert (tmp_path / "robustness.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "reproduce.json").read_text()) == []
