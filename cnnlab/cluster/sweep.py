"""A hyperparameter sweep: a grid of training settings × seeds over one recipe, and its table.

``cnnlab sweep RECIPE --grid lr=0.01,0.03,0.1 --grid batch_size=32,64 --seeds 3`` trains
every point of the grid with every seed (each a ``cnnlab.reproduce.runner.Job``, serially or
as Dask tasks with ``--cluster``) and writes ``sweep.md`` and ``sweep.json``: one row per
point, sorted by the chosen metric, with its mean ± std over the seeds.

The metric that ranks the points is the validation figure by default (``val_accuracy`` or
``val_rmse``): a choice made on the test set would make the test figure optimistic. Recipes
with cross-validation folds (the tabular sets) have no validation part; their figure is the
pooled held-out folds' (``test_*`` there means the folds, as in ``reproduce``).
"""

from __future__ import annotations

import itertools
import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from ..reproduce.recipes import TRAIN_KEYS, Recipe, load_recipe
from ..reproduce.runner import Job, blas_threads, recipe_jobs, run_jobs, seed_values

INT_KEYS = {"epochs", "batch_size", "limit_train", "limit_test"}
FLOAT_KEYS = {"lr", "momentum", "weight_decay", "val_split"}
METRICS = ("accuracy", "loss", "rmse")


def parse_axis(text: str) -> tuple[str, list]:
    """``"lr=0.01,0.1"`` → ``("lr", [0.01, 0.1])``; values typed by the key.

    Raises:
        ValueError: no ``=``, an unknown key (the valid ones are listed), an empty or
            repeated value, or a value of the wrong type.
    """
    key, sep, values = str(text).partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise ValueError(f"expected KEY=V1,V2,... (e.g. lr=0.01,0.1), got {text!r}")
    if key not in TRAIN_KEYS:
        raise ValueError(f"unknown key {key!r} in {text!r}; valid keys: {', '.join(sorted(TRAIN_KEYS))}")
    items = [v.strip() for v in values.split(",")]
    if not values.strip() or any(not v for v in items):
        raise ValueError(f"expected KEY=V1,V2,... with no empty value, got {text!r}")
    try:
        typed = [int(v) if key in INT_KEYS else float(v) if key in FLOAT_KEYS else v.lower() for v in items]
    except ValueError:
        kind = "integers" if key in INT_KEYS else "numbers"
        raise ValueError(f"{key} takes {kind}, got {text!r}") from None
    if len(set(typed)) != len(typed):
        raise ValueError(f"repeated value in {text!r}")
    return key, typed


def find_recipe(text: str) -> Recipe:
    """A recipe file (``*.toml``) or the name of one of cnnlab's recipes."""
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"recipe {text!r} does not exist")
        return load_recipe(path)
    from ..reproduce.recipes import load_recipes

    return load_recipes(only=[text])[0]


@dataclass
class SweepRow:
    point: dict
    metric: str
    values: list
    mean: float | None
    std: float | None
    seeds: list
    failed: int
    train_seconds: float
    fold_values: list | None = None

    def figure(self) -> str:
        if self.mean is None:
            return "failed"
        unit = "%" if self.metric.endswith("accuracy") else ""
        return f"{self.mean:.2f} ± {self.std:.2f}{unit}"


def default_metric(recipe: Recipe, val_split: float) -> str:
    return f"{'val' if val_split > 0 else 'test'}_{recipe.metric}"


def check_metric(metric: str, recipe: Recipe, val_split: float) -> tuple[str, str]:
    """``(split, name)`` of ``--metric``, refused when the runs will not have it."""
    split, _, name = metric.partition("_")
    valid = [f"{s}_{m}" for s in (("val", "test") if val_split > 0 else ("test",))
             for m in METRICS if (m == "rmse") == (recipe.metric == "rmse") or m == "loss"]
    if metric not in valid:
        raise ValueError(f"--metric {metric!r} is not measured by these runs; valid: {', '.join(valid)}"
                         + ("" if val_split > 0 else " (no validation part: the recipe uses cross-validation "
                                                     "folds or --grid val_split is 0)"))
    return split, name


def plan(recipe: Recipe, grid: list[tuple[str, list]], *, seeds: list[int], quick: bool = False,
         data_root: str | None = None) -> tuple[list[dict], dict[int, list[Job]], float]:
    """The grid's points, the jobs of each point, and the validation fraction they use."""
    from ..train.session import check_names, default_val_split

    keys = [k for k, _ in grid]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"--grid {', '.join(twice)} given more than once; put all values in one --grid")
    points = [dict(zip(keys, values)) for values in itertools.product(*(v for _, v in grid))]
    base = recipe.budget(quick)
    jobs, val_splits = {}, set()
    for i, point in enumerate(points):
        budget = {**base, **point}
        if recipe.cv_folds:
            budget["val_split"] = 0.0
        val_split = budget.get("val_split", default_val_split(recipe.dataset))
        val_splits.add(val_split)
        budget["val_split"] = val_split
        tag = "-".join(f"{k}{v}" for k, v in point.items())
        jobs[i] = recipe_jobs(recipe, quick=quick, data_root=data_root, seeds=seeds, budget=budget,
                              group=tag, prefix=f"{recipe.name}-{tag}", val_split=None)
        check_names(jobs[i][0].cfg)
    if len(val_splits) > 1:
        raise ValueError("--grid val_split gives the points different validation parts; a ranking needs "
                         "one part for all (sweep val_split in separate sweeps)")
    return points, jobs, val_splits.pop()


def sweep(recipe: Recipe, grid: list[tuple[str, list]], *, seeds: list[int] | None = None, metric: str | None = None,
          quick: bool = False, data_root: str | None = None, cluster: str | None = None, out_dir: str = ".",
          runs_root: str = "runs/sweep", threads: int | None = None, log=print,
          display: bool = True) -> list[SweepRow]:
    """Train every point × seed, write ``sweep.md`` and ``sweep.json``; returns the rows, best first."""
    from .progress import SweepDisplay

    seeds = list(recipe.seeds if seeds is None else seeds)
    points, jobs, val_split = plan(recipe, grid, seeds=seeds, quick=quick, data_root=data_root)
    metric = metric or default_metric(recipe, val_split)
    split, name = check_metric(metric, recipe, val_split)
    every = [j for js in jobs.values() for j in js]
    log(f"sweep of {recipe.name}: {len(points)} point(s) × {len(seeds)} seed(s) = {len(every)} runs"
        f"{f' on Dask cluster {cluster}' if cluster else ''}; ranked by {metric}")
    view = SweepDisplay([j.key for j in every]) if display else None
    if cluster:
        results = run_jobs(every, runs_root, cluster=cluster, log=None, display=view, stop_on_error=False)
    else:
        with blas_threads(threads):
            results = _run_serially(every, runs_root, view)
    rows = [_row(point, jobs[i], results, metric, split, name) for i, point in enumerate(points)]
    rows.sort(key=lambda r: (r.mean is None, -(r.mean or 0) if name == "accuracy" else (r.mean or 0)))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.md").write_text(render_markdown(recipe, rows, metric, quick))
    (out / "sweep.json").write_text(json.dumps({"recipe": recipe.name, "metric": metric, "quick": quick,
                                                "seeds": seeds, "grid": {k: v for k, v in grid},
                                                "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    return rows


def _run_serially(jobs: list[Job], runs_root: str, view) -> dict:
    from ..reproduce.runner import run_job

    results = {}
    for job in jobs:
        if view is not None:
            view.started(job.key)
        try:
            results[job.key] = run_job(job, runs_root, callbacks=[view.callback(job.key)] if view else ())
        except Exception as e:  # a diverged or failed run is a row's failure, not the sweep's
            results[job.key] = e
            if view is not None:
                view.failed(job.key)
            continue
        if view is not None:
            view.finished(job.key)
    if view is not None:
        view.close()
    return results


def _row(point: dict, jobs: list[Job], results: dict, metric: str, split: str, name: str) -> SweepRow:
    failed_seeds = {j.seed for j in jobs if isinstance(results[j.key], BaseException)}
    good = [j for j in jobs if j.seed not in failed_seeds]
    values, per_fold = seed_values(good, results, name, split) if good else ([], [])
    return SweepRow(point=point, metric=metric, values=values,
                    mean=statistics.fmean(values) if values else None,
                    std=(statistics.stdev(values) if len(values) > 1 else 0.0) if values else None,
                    seeds=sorted({j.seed for j in good}), failed=len(failed_seeds),
                    train_seconds=sum(results[j.key].seconds for j in good),
                    fold_values=per_fold if jobs[0].fold is not None else None)


def render_markdown(recipe: Recipe, rows: list[SweepRow], metric: str, quick: bool) -> str:
    keys = list(rows[0].point) if rows else []
    folds = f" over the {recipe.cv_folds} held-out cross-validation folds, pooled" if recipe.cv_folds else ""
    head = f"# Sweep of {recipe.name}{' (quick budget)' if quick else ''}\n\nRanked by {metric}{folds} " \
           f"(mean ± std over seeds; best first).\n\n"
    head += "| rank | " + " | ".join(keys) + f" | {metric} | per seed | seeds | failed | training time |\n"
    head += "|---" * (len(keys) + 6) + "|\n"
    body = "".join(
        f"| {i} | " + " | ".join(str(r.point[k]) for k in keys) + f" | {r.figure()} | "
        + ", ".join(f"{v:.2f}" for v in r.values) + f" | {', '.join(map(str, r.seeds)) or '—'} | {r.failed} | "
        f"{r.train_seconds:.0f} s |\n"
        for i, r in enumerate(rows, 1))
    return head + body
