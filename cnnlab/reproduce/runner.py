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
from contextlib import contextmanager
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


@dataclass(frozen=True)
class Job:
    """One training run of a table: ``key`` names its run directory under the runs root."""

    key: str
    cfg: object  # cnnlab.train.session.TrainConfig
    group: str  # the row it belongs to (a recipe, or a point of a sweep)
    seed: int
    fold: int | None = None


@dataclass
class JobResult:
    """What a run hands back: its test (and validation) metrics, parameter count and time.
    ``files`` holds the run directory's files when it ran elsewhere (a Dask worker)."""

    key: str
    test: dict
    val: dict | None
    parameters: int
    seconds: float
    files: dict | None = None


def recipe_jobs(recipe: Recipe, *, quick: bool = False, data_root: str | None = None, seeds=None,
                budget: dict | None = None, group: str | None = None, prefix: str | None = None,
                val_split: float | None = 0.0) -> list[Job]:
    """The runs of one row: one per seed, and per held-out fold with cross-validation (the
    partition into folds is shuffled with the seed)."""
    from ..train.session import TrainConfig

    dataset, root = _resolve_dataset(recipe, data_root)
    budget = recipe.budget(quick) if budget is None else budget
    head = prefix or f"{recipe.name}{'-quick' if quick else ''}"
    jobs = []
    for seed in (recipe.seeds if seeds is None else seeds):
        folds = [None] if recipe.cv_folds is None else list(range(recipe.cv_folds))
        for fold in folds:
            settings = {"val_split": val_split, **budget} if val_split is not None else dict(budget)
            cfg = TrainConfig(model=recipe.model, data=dataset, seed=seed, data_root=root, fold=fold,
                              folds=recipe.cv_folds or 5, **settings)
            key = f"{head}-seed{seed}" + ("" if fold is None else f"-fold{fold}")
            jobs.append(Job(key=key, cfg=cfg, group=group or recipe.name, seed=seed, fold=fold))
    return jobs


def run_job(job: Job, runs_root: str, *, progress: bool | None = False, callbacks=()) -> JobResult:
    """Train ``job`` into ``runs_root/job.key`` in this process."""
    from ..train.session import train_run

    t0 = time.perf_counter()
    history, run, test = train_run(job.cfg, out=Path(runs_root) / job.key, root=runs_root, force=True,
                                   progress=progress, log=None, callbacks=list(callbacks))
    return JobResult(key=job.key, test=_plain(test), val=_plain(history.last_val),
                     parameters=_count_parameters(run), seconds=time.perf_counter() - t0)


def _plain(metrics: dict | None) -> dict | None:
    """The scalar metrics (no confusion matrix, no speed: it depends on the machine)."""
    if metrics is None:
        return None
    return {k: v for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "images_per_s"}


def figure(result: JobResult, metric: str, split: str = "test") -> float:
    """A run's figure in table units: accuracy in %, RMSE and loss as they are."""
    metrics = result.test if split == "test" else (result.val or {})
    return float(metrics[metric] * 100 if metric == "accuracy" else metrics[metric])


def seed_values(jobs: list[Job], results: dict, metric: str, split: str = "test") -> tuple[list, list]:
    """Per seed, the pooled figure over its folds, and the figure of each fold."""
    values, per_fold = [], []
    for seed in dict.fromkeys(j.seed for j in jobs):
        mine = [results[j.key] for j in jobs if j.seed == seed]
        figures = [figure(r, metric, split) for r in mine]
        sizes = [int((r.test if split == "test" else r.val)["count"]) for r in mine]
        values.append(_pool_folds(figures, sizes, metric))
        per_fold.append(figures)
    return values, per_fold


@contextmanager
def blas_threads(threads: int | None):
    """Limit the BLAS threads of this process (``None``: leave them). OpenBLAS rounds some
    matrix products differently with another thread count, so runs that must agree bit for
    bit (serial against a Dask worker) train with the same count."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield


def run_jobs(jobs: list[Job], runs_root: str, *, cluster: str | None = None, progress: bool | None = False,
             log=print, display=None, stop_on_error: bool = True) -> dict:
    """Every job, serially in this process or as Dask tasks (``cluster``); ``{key: JobResult}``.

    With a cluster the runs' files come back to this process and are written under
    ``runs_root`` here, so the workers need no shared file system.
    """
    if cluster:
        from ..cluster.dask_runs import run_on_dask

        return run_on_dask(jobs, runs_root, cluster, log=log, display=display, stop_on_error=stop_on_error)
    results = {}
    for job in jobs:
        if display is not None:
            display.started(job.key)
        try:
            results[job.key] = run_job(job, runs_root, progress=progress,
                                       callbacks=[display.callback(job.key)] if display is not None else ())
        except Exception:
            if display is not None:
                display.failed(job.key)
            raise
        if display is not None:
            display.finished(job.key)
        _log_result(job, results[job.key], log)
    return results


def _log_result(job: Job, result: JobResult, log) -> None:
    if log is None:
        return
    what = "" if job.fold is None else f" fold {job.fold}"
    metrics = result.test
    value = (f"accuracy {100 * metrics['accuracy']:.3f}" if "accuracy" in metrics
             else f"rmse {metrics.get('rmse', math.nan):.3f}")
    log(f"  {job.group} seed {job.seed}{what}: test {value} ({result.seconds:.1f} s)")


def recipe_row(recipe: Recipe, jobs: list[Job], results: dict, *, quick: bool) -> RowResult:
    """The table row of ``recipe`` from its runs' results."""
    values, fold_values = seed_values(jobs, results, recipe.metric)
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    dataset = jobs[0].cfg.data
    same_data = dataset != "mnist10k"
    return RowResult(
        name=recipe.name, experiment=recipe.experiment, dataset=dataset, model=recipe.model,
        parameters=results[jobs[-1].key].parameters, metric=recipe.metric, lecture=recipe.lecture,
        values=values, mean=mean, std=std, seeds=list(dict.fromkeys(j.seed for j in jobs)),
        train_seconds=sum(results[j.key].seconds for j in jobs), protocol=recipe.protocol, quick=quick,
        same_data=same_data, verdict=_verdict(recipe, mean, same_data, quick),
        cv_folds=recipe.cv_folds, fold_values=fold_values if recipe.cv_folds else None,
    )


def run_recipe(recipe: Recipe, *, quick: bool = False, data_root: str | None = None,
               runs_root: str = "runs/reproduce", progress: bool | None = False, log=print) -> RowResult:
    """Train every seed (and fold) of ``recipe`` in this process and return its row."""
    jobs = recipe_jobs(recipe, quick=quick, data_root=data_root)
    return recipe_row(recipe, jobs, run_jobs(jobs, runs_root, progress=progress, log=log), quick=quick)


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
              cluster: str | None = None, threads: int | None = None, log=print) -> list[RowResult]:
    """Run every recipe (or ``only`` those) and write ``reproduce.md`` and ``reproduce.json``
    (and, for a robustness recipe, ``robustness.png`` and ``robustness.json``).

    ``cluster`` (``local``, ``local:WORKERS`` or ``tcp://HOST:PORT``) runs every seed and fold
    of the table's recipes as a Dask task; each run is seeded on its own, so the table equals
    the serial one run with the workers' BLAS thread count (``threads``, for the serial runs;
    default: all cores). A robustness recipe (trainings plus sweeps) runs here, after them.
    """
    from . import robustness

    recipes = load_recipes(only=only)
    table_recipes = [r for r in recipes if r.kind != "robustness"]
    plan = [(recipe, recipe_jobs(recipe, quick=quick, data_root=data_root)) for recipe in table_recipes]
    if cluster and plan:
        from ..cluster.progress import SweepDisplay

        jobs = [j for _, js in plan for j in js]
        log(f"{len(plan)} experiment(s), {len(jobs)} runs on Dask cluster {cluster}{' (quick)' if quick else ''}")
        display = SweepDisplay([j.key for j in jobs])
        results = run_jobs(jobs, runs_root, cluster=cluster, log=log, display=display)
        rows = [recipe_row(recipe, js, results, quick=quick) for recipe, js in plan]
    else:
        rows = []
        for recipe, jobs in plan:
            log(f"{recipe.experiment}: {len(recipe.seeds)} seeds{' (quick)' if quick else ''}")
            with blas_threads(threads):
                results = run_jobs(jobs, runs_root, progress=progress, log=log)
            rows.append(recipe_row(recipe, jobs, results, quick=quick))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    for recipe in recipes:
        if recipe.kind != "robustness":
            continue
        log(f"{recipe.experiment}: {len(recipe.models)} models x (plain, augmented) x {len(recipe.seeds)} "
            f"seed(s){' (quick)' if quick else ''}")
        with blas_threads(threads):
            result = robustness.run_robustness(recipe, quick=quick, data_root=data_root, runs_root=runs_root,
                                               progress=progress, log=log)
        robustness.write(result, out)
        sections.append(robustness.render_markdown(result))
    title = "# cnnlab reproduces the lecture" + (" (quick run: reduced budgets)" if quick else "") + "\n\n"
    table = render_markdown(rows) if rows else ""
    (out / "reproduce.md").write_text(title + "\n".join([table, *sections]))
    (out / "reproduce.json").write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    if rows:
        log("\n" + render_text(rows))
    for s in sections:
        log("\n" + s)
    return rows
