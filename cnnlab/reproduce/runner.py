"""Run recipes over their seeds and write the lecture-vs-cnnlab table.

Each (recipe, seed) is an ordinary training run (``cnnlab.train.session.train_run``), so
every number in the table can be inspected in its run directory under ``runs/reproduce``.

The rows keep the lecture's protocol: no validation part is held out (``val_split=0``, the whole
training split trains), and each figure is the test split's (or, with cross-validation, the
held-out folds') after the final epoch; no figure comes from a selected "best" epoch.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .recipes import Recipe, load_recipes


@dataclass
class RowResult:
    name: str
    experiment: str
    dataset: str
    model: str
    parameters: int
    metric: str
    lecture: float | None
    values: list[float]
    mean: float
    std: float
    seeds: list[int]
    train_seconds: float
    protocol: str
    quick: bool
    same_data: bool
    verdict: str
    cv_folds: int | None = None
    fold_values: list[list[float]] | None = None  # per seed, the figure of each held-out fold

    def figure(self) -> str:
        unit = "%" if self.metric == "accuracy" else ""
        return f"{self.mean:.2f} ± {self.std:.2f}{unit}"

    def lecture_figure(self) -> str:
        if self.lecture is None:
            return "—"
        return f"{self.lecture:.2f}%" if self.metric == "accuracy" else f"{self.lecture:.2f}"


def _resolve_dataset(recipe: Recipe, data_root: str | None) -> tuple[str, str | None]:
    """Use the full data set (e.g. MNIST) when ``data_root`` holds it, else the recipe's."""
    if recipe.full_dataset and data_root:
        from .. import datasets

        try:
            datasets.locate(recipe.full_dataset, data_root)
            return recipe.full_dataset, data_root
        except (FileNotFoundError, ValueError, RuntimeError):
            pass
    return recipe.dataset, data_root if recipe.dataset == recipe.full_dataset else None


def _verdict(recipe: Recipe, mean: float, same_data: bool, quick: bool) -> str:
    if quick:
        return "quick run (reduced budget): pipeline check only"
    if recipe.lecture is None:
        if recipe.target is not None:
            return "meets target" if mean >= recipe.target else f"misses target {recipe.target}"
        return "no lecture figure"
    better = mean >= recipe.lecture if recipe.metric == "accuracy" else mean <= recipe.lecture
    if not same_data:
        return ("beats" if better else "below") + " the lecture's figure, on different data"
    return "meets or beats the lecture" if better else "misses the lecture's figure"


def run_recipe(recipe: Recipe, *, quick: bool = False, data_root: str | None = None,
               runs_root: str = "runs/reproduce", progress: bool | None = False, log=print) -> RowResult:
    from ..train.session import TrainConfig, train_run

    dataset, root = _resolve_dataset(recipe, data_root)
    budget = recipe.budget(quick)
    seeds = list(recipe.seeds)
    values, fold_values, seconds, params = [], [], 0.0, 0
    for seed in seeds:
        t0 = time.perf_counter()
        folds = [None] if recipe.cv_folds is None else list(range(recipe.cv_folds))
        figures, sizes = [], []
        for fold in folds:  # with CV, the partition into folds is shuffled with the seed
            cfg = TrainConfig(model=recipe.model, data=dataset, seed=seed, data_root=root, fold=fold,
                              folds=recipe.cv_folds or 5, **{"val_split": 0.0, **budget})
            name = f"{recipe.name}{'-quick' if quick else ''}-seed{seed}" + ("" if fold is None else f"-fold{fold}")
            history, run, test = train_run(cfg, out=Path(runs_root) / name, root=runs_root, force=True,
                                           progress=progress, log=None)
            figures.append(float(test["accuracy"] * 100 if recipe.metric == "accuracy" else test["rmse"]))
            sizes.append(int(test["count"]))
        seconds += time.perf_counter() - t0
        value = _pool_folds(figures, sizes, recipe.metric)
        values.append(value)
        fold_values.append(figures)
        params = _count_parameters(run)
        log(f"  {recipe.name} seed {seed}: {'' if recipe.cv_folds else 'test '}{recipe.metric} {value:.3f}"
            f"{f' (pooled over {len(folds)} folds)' if recipe.cv_folds else ''} ({time.perf_counter() - t0:.1f} s)")
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    same_data = dataset != "mnist10k"
    return RowResult(
        name=recipe.name, experiment=recipe.experiment, dataset=dataset, model=recipe.model,
        parameters=params, metric=recipe.metric, lecture=recipe.lecture, values=values, mean=mean,
        std=std, seeds=seeds, train_seconds=seconds, protocol=recipe.protocol, quick=quick,
        same_data=same_data, verdict=_verdict(recipe, mean, same_data, quick),
        cv_folds=recipe.cv_folds, fold_values=fold_values if recipe.cv_folds else None,
    )


def _pool_folds(figures: list[float], sizes: list[int], metric: str) -> float:
    """One figure for all held-out folds, as if their predictions were scored together:
    accuracy weighted by fold size, RMSE as the root of the size-weighted mean squared error."""
    if metric == "rmse":
        return math.sqrt(sum(f * f * n for f, n in zip(figures, sizes)) / sum(sizes))
    return sum(f * n for f, n in zip(figures, sizes)) / sum(sizes)


def _count_parameters(run: Path) -> int:
    from ..train.session import load_run_model

    model = load_run_model(run)[0]
    return sum(p.numel() for p in model.parameters())


def render_markdown(rows: list[RowResult]) -> str:
    head = "| experiment | dataset | model (params) | lecture | cnnlab (mean ± std) | seeds | training time | verdict |\n"
    head += "|---|---|---|---|---|---|---|---|\n"
    body = "".join(
        f"| {r.experiment} | {r.dataset} | {r.model} ({r.parameters:,}) | {r.lecture_figure()} | {r.figure()} | "
        f"{len(r.seeds)} ({', '.join(map(str, r.seeds))}) | {r.train_seconds:.0f} s | {r.verdict} |\n"
        for r in rows
    )
    protocols = "\n".join(
        f"- **{r.experiment}** ({r.metric}, {'cross-validation' if r.cv_folds else 'test'} figure): {r.protocol}"
        for r in rows)
    return (head + body + "\nProtocols (every figure is the model after its final epoch; no validation part "
            "is held out and no epoch is selected, so the test set decides nothing):\n\n" + protocols + "\n")


def render_text(rows: list[RowResult]) -> str:
    cols = ["experiment", "dataset", "model", "lecture", "cnnlab", "seeds", "time"]
    data = [[r.experiment, r.dataset, r.model, r.lecture_figure(), r.figure(), str(len(r.seeds)), f"{r.train_seconds:.0f} s"] for r in rows]
    widths = [max(len(c), *(len(d[i]) for d in data)) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(d) for d in data])


def reproduce(*, quick: bool = False, only: list[str] | None = None, data_root: str | None = None,
              out_dir: str = ".", runs_root: str = "runs/reproduce", progress: bool | None = False,
              log=print) -> list[RowResult]:
    """Run every recipe (or ``only`` those) and write ``reproduce.md`` and ``reproduce.json``
    (and, for a robustness recipe, ``robustness.png`` and ``robustness.json``)."""
    from . import robustness

    recipes = load_recipes(only=only)
    rows, sections = [], []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for recipe in recipes:
        if recipe.kind == "robustness":
            log(f"{recipe.experiment}: {len(recipe.models)} models x (plain, augmented) x {len(recipe.seeds)} "
                f"seed(s){' (quick)' if quick else ''}")
            result = robustness.run_robustness(recipe, quick=quick, data_root=data_root, runs_root=runs_root,
                                               progress=progress, log=log)
            robustness.write(result, out)
            sections.append(robustness.render_markdown(result))
            continue
        log(f"{recipe.experiment}: {len(recipe.seeds)} seeds{' (quick)' if quick else ''}")
        rows.append(run_recipe(recipe, quick=quick, data_root=data_root, runs_root=runs_root, progress=progress, log=log))
    title = "# cnnlab reproduces the lecture" + (" (quick run: reduced budgets)" if quick else "") + "\n\n"
    table = render_markdown(rows) if rows else ""
    (out / "reproduce.md").write_text(title + "\n".join([table, *sections]))
    (out / "reproduce.json").write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    if rows:
        log("\n" + render_text(rows))
    for s in sections:
        log("\n" + s)
    return rows
