"""``kind = "robustness"`` recipes: what training augmentation buys against each challenge.

Each model of the recipe is trained twice per seed, as an ordinary run (``train_run``), with
the same budget: once on the clean images and once with ``--train-augment`` (the recipe's
``augment`` challenges, drawn anew per image and epoch). Then every challenge of the recipe is
swept on the run's test images (``cnnlab.robustness``, seeded), all four runs on the same
transformed images. Strength 0 is the clean test accuracy each run reports.

Written next to ``reproduce.md``: ``robustness.png`` (the curves), ``robustness.json``, and
a table in ``reproduce.md`` of each run's mean accuracy over each sweep.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .recipes import Recipe

SHORT = {"mnist-mlp": "MLP", "mnist-cnn": "CNN"}


def run_label(model: str, augmented: bool) -> str:
    return SHORT.get(model, model) + (" + augmentation" if augmented else "")


@dataclass
class RobustnessResult:
    name: str
    experiment: str
    dataset: str
    augment: str
    protocol: str
    quick: bool
    seeds: list[int]
    test_images: int
    strengths: dict        # challenge -> strengths
    curves: dict           # run label -> challenge -> accuracy (%) per strength, mean over seeds
    per_seed: dict         # run label -> challenge -> [[accuracy (%) per strength] per seed]
    clean: dict            # run label -> test accuracy (%) the training run reported, mean over seeds
    train_seconds: float

    def mean_over_sweep(self, label: str, challenge: str) -> float:
        """The run's accuracy averaged over the challenge's strengths (the area under its curve)."""
        return statistics.fmean(self.curves[label][challenge])


def run_robustness(recipe: Recipe, *, quick: bool = False, data_root: str | None = None,
                   runs_root: str = "runs/reproduce", progress: bool | None = False, log=print) -> RobustnessResult:
    """Train the recipe's runs (each model, plain and augmented, each seed), then :func:`sweep_runs`."""
    from ..train.session import TrainConfig, train_run

    budget = recipe.budget(quick)
    runs, seconds = {}, 0.0
    for model in recipe.models:
        for augmented in (False, True):
            label = run_label(model, augmented)
            for seed in recipe.seeds:
                t0 = time.perf_counter()
                cfg = TrainConfig(model=model, data=recipe.dataset, seed=seed, data_root=data_root,
                                  augment=recipe.augment if augmented else None, **{"val_split": 0.0, **budget})
                name = f"{recipe.name}{'-quick' if quick else ''}-{model}{'-augment' if augmented else ''}-seed{seed}"
                _, run, test = train_run(cfg, out=Path(runs_root) / name, root=runs_root, force=True,
                                         progress=progress, log=None)
                seconds += time.perf_counter() - t0
                runs.setdefault(label, []).append(run)
                log(f"  {label} seed {seed}: test accuracy {100 * float(test['accuracy']):.2f}% "
                    f"({time.perf_counter() - t0:.1f} s)")
    return sweep_runs(recipe, runs, quick=quick, data_root=data_root, train_seconds=seconds, log=log)


def sweep_runs(recipe: Recipe, runs: dict, *, quick: bool = False, data_root: str | None = None,
               train_seconds: float = 0.0, log=print) -> RobustnessResult:
    """Sweep the recipe's challenges over trained ``runs`` (``{label: [run directory per seed]}``)
    on the first ``limit_test`` test images; the clean accuracy is each run's recorded test accuracy."""
    import numpy as np

    from .. import datasets, inspect, robustness

    budget = recipe.budget(quick)
    loaded = {label: [inspect.load_run(r) for r in dirs] for label, dirs in runs.items()}
    clean = {label: [100 * json.loads((Path(r) / "run.json").read_text())["test_metrics"]["accuracy"] for r in dirs]
             for label, dirs in runs.items()}
    test_set = datasets.create(recipe.dataset, root=data_root, train=False)
    n = min(int(budget.get("limit_test") or len(test_set)), len(test_set))
    images, labels = np.asarray(test_set.data[:n]), np.asarray(test_set.targets[:n])
    per_seed = {label: {} for label in loaded}
    for ch in recipe.challenges:
        t0 = time.perf_counter()
        flat = {(label, k): r for label, rs in loaded.items() for k, r in enumerate(rs)}
        accs = robustness.sweep_runs(flat, images, labels, ch, seed=0)
        for (label, _), a in accs.items():
            per_seed[label].setdefault(ch, []).append([100 * v for v in a])
        log(f"  swept {ch} on {n} test images ({time.perf_counter() - t0:.1f} s)")
    curves = {label: {ch: [statistics.fmean(v) for v in zip(*seeds)] for ch, seeds in by_ch.items()}
              for label, by_ch in per_seed.items()}
    return RobustnessResult(
        name=recipe.name, experiment=recipe.experiment, dataset=recipe.dataset, augment=recipe.augment,
        protocol=recipe.protocol, quick=quick, seeds=list(recipe.seeds), test_images=n,
        strengths={ch: list(robustness.SWEEPS[ch]) for ch in recipe.challenges}, curves=curves,
        per_seed=per_seed, clean={k: statistics.fmean(v) for k, v in clean.items()}, train_seconds=train_seconds)


def render_markdown(result: RobustnessResult) -> str:
    labels = list(result.curves)
    head = "| challenge (strengths) | " + " | ".join(labels) + " |\n|---|" + "---|" * len(labels) + "\n"
    body = "".join(
        f"| {ch} ({', '.join(f'{s:g}' for s in result.strengths[ch])}) | "
        + " | ".join(f"{result.mean_over_sweep(lb, ch):.1f}%" for lb in labels) + " |\n"
        for ch in result.strengths)
    clean = "| clean test accuracy | " + " | ".join(f"{result.clean[lb]:.1f}%" for lb in labels) + " |\n"
    return (f"## {result.experiment}\n\n"
            f"Mean test accuracy over each challenge's sweep (the area under its curve in "
            f"`robustness.png`), {result.test_images} test images of {result.dataset}. Augmented with: "
            f"{result.augment.replace(',', ', ')}.{' Quick run (reduced budget): a pipeline check only.' if result.quick else ''}\n\n"
            + head + clean + body + f"\nProtocol: {result.protocol}.\n")


def write(result: RobustnessResult, out_dir: Path) -> None:
    """``robustness.json`` and ``robustness.png`` in ``out_dir``."""
    from .. import datasets
    from ..viz import robustness_plot

    (out_dir / "robustness.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    images = datasets.create(result.dataset, train=False).data[:1]
    results = {lb: {ch: [a / 100 for a in acc] for ch, acc in by_ch.items()} for lb, by_ch in result.curves.items()}
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    styles = {}
    for k, lb in enumerate(result.curves):
        styles[lb] = {"color": colours[(k // 2) % len(colours)], "ls": "-" if "augmentation" in lb else "--"}
    robustness_plot.curves(results, images, str(out_dir / "robustness.png"), seed=0, styles=styles,
                           title=f"{result.experiment} ({result.test_images} test images; dashed: trained on "
                                 f"clean images, solid: with augmentation)")
