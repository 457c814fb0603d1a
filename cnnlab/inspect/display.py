"""A run as HTML for Jupyter: what ``RunInfo`` knows, the last metrics, and the curves.

The curves are inline SVG drawn from the checkpoint's history (the training loss of every step,
and each epoch's train, validation and test values), so showing a run needs no plotting
library and no file next to the checkpoint.
"""

from __future__ import annotations

from .. import _html


def _fields(info) -> list[list[str]]:
    shape = None if info.input_shape is None else " × ".join(str(s) for s in info.input_shape)
    pre = None
    if info.preprocess == "image" and info.mean is not None:
        pre = ("pixels / 255, then (x − mean) / std per channel; mean "
               + ", ".join(f"{v:.4f}" for v in info.mean) + ", std " + ", ".join(f"{v:.4f}" for v in info.std))
    elif info.preprocess == "tabular":
        pre = f"each of {info.features} features standardised with the training set's mean and std"
    classes = None if info.classes is None else f"{len(info.classes)}: " + ", ".join(info.classes)
    rows = [("checkpoint", info.path), ("model", info.model), ("model class", info.model_class),
            ("task", info.task), ("dataset", info.dataset), ("classes", classes), ("input shape", shape),
            ("preprocessing", pre), ("epochs done", info.epoch)]
    return [[k, v] for k, v in rows if v is not None]


def _metrics(info) -> list[list[str]]:
    out = []
    for k, v in info.metrics.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        text = f"{100 * v:.2f}%" if "accuracy" in k else (f"{v:,}" if isinstance(v, int) else f"{v:.4g}")
        out.append([k, text])
    return out


def _curves(info) -> str:
    records = list(info.history)
    charts = []
    loss = {}
    if info.step_loss:
        last_step = records[-1].get("step") if records else None
        per_epoch = (last_step / len(records)) if last_step else len(info.step_loss)
        loss["train (per step)"] = ([(i + 1) / per_epoch for i in range(len(info.step_loss))], list(info.step_loss))
    for part in ("train", "val", "test"):
        pts = [(r["epoch"], r[f"{part}_loss"]) for r in records if r.get(f"{part}_loss") is not None]
        if pts:
            loss[f"{part} (epoch)"] = tuple(zip(*pts))
    charts.append(_html.line_chart(loss, title="loss", xlabel="epoch", xmin=0))
    acc = {}
    for part in ("train", "val", "test"):
        pts = [(r["epoch"], r[f"{part}_accuracy"]) for r in records if r.get(f"{part}_accuracy") is not None]
        if pts:
            acc[part] = tuple(zip(*pts))
    charts.append(_html.line_chart(acc, title="accuracy", xlabel="epoch", xmin=0))
    return "".join(c for c in charts if c)


def run_info_html(info) -> str:
    """The run's description, its last metrics and its curves, as one HTML fragment."""
    title = f"Run: {info.model or info.model_class or 'model'}" + (f" on {info.dataset}" if info.dataset else "")
    parts = [_html.table(["about the run", ""], _fields(info), caption=title)]
    metrics = _metrics(info)
    if metrics:
        parts.append(_html.table(["metric (last epoch)", "value"], metrics, right={1}))
    curves = _curves(info)
    if curves:
        parts.append(f"<div>{curves}</div>")
    row = "display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start"
    return f'<div style="{row}">' + "".join(parts) + "</div>"
