"""``cnnlab errors RUN``: where does the model fail? Most-confused pairs, worst images, a report."""

from __future__ import annotations

from .args import checkpoint_path, output_dir, positive_int
from .errors import CLIError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "errors", help="error analysis of a run: most-confused classes, worst images with Grad-CAM, a JSON report",
        description="Run a trained classifier over its test split (or validation part) and show where it "
                    "fails: the most-confused class pairs, the images with the highest loss with the "
                    "Grad-CAM of the predicted class, per-class precision/recall/F1 and the confusion "
                    "matrix with the images of each cell (errors.json).")
    p.add_argument("checkpoint", type=checkpoint_path, metavar="RUN", help="a run directory or a .safetensors checkpoint")
    p.add_argument("--split", default="test", help="test (default) or val (the run's validation part)")
    p.add_argument("--top", type=positive_int, default=16, help="images in the gallery, highest loss first (default 16)")
    p.add_argument("--pair", default=None, metavar="TRUE,PREDICTED",
                   help='show only images of class TRUE predicted as PREDICTED, e.g. "Shirt,T-shirt/top"')
    p.add_argument("--layer", default=None, metavar="NAME",
                   help="Grad-CAM's layer (default: the last convolution)")
    p.add_argument("--limit", type=positive_int, default=None, help="use only the first N images of the split")
    p.add_argument("--out", type=output_dir, default="errors", metavar="DIR",
                   help="folder for errors.png and errors.json (default ./errors)")
    p.set_defaults(handler=run)


def run(args) -> int:
    try:
        return _run(args)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None


def _pair(text: str, analysis) -> tuple[int, int]:
    names = [s.strip() for s in text.split(",")]
    if len(names) != 2 or not all(names):
        raise CLIError(f'--pair {text!r}: expected "TRUE,PREDICTED", two class names separated by a comma')
    try:
        return analysis.class_index(names[0]), analysis.class_index(names[1])
    except ValueError as e:
        raise CLIError(f"--pair {text!r}: {e}") from None


def _table(rows, limit: int = 10) -> list[str]:
    if not rows:
        return ["  no confused pairs: every image is classified correctly"]
    wt = max(len("true"), *(len(t) for t, _, _ in rows[:limit]))
    wp = max(len("predicted"), *(len(p) for _, p, _ in rows[:limit]))
    lines = [f"  {'true':<{wt}}  {'predicted':<{wp}}  count"]
    lines += [f"  {t:<{wt}}  {p:<{wp}}  {c:5d}" for t, p, c in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  ... {len(rows) - limit} more pairs in errors.json")
    return lines


def _run(args) -> int:
    import json
    import os

    from ..attribution import grad_cam, upsample
    from ..errors import analyze_run
    from ..viz.attribution import default_layer, plot_error_gallery

    analysis, data, model, info = analyze_run(args.checkpoint, args.split, args.limit)
    classes = analysis.classes
    if args.pair:
        t, p = _pair(args.pair, analysis)
        cell = analysis.cell(t, p)
        rows = analysis.top_losses(args.top, indices=cell)
        title = (f"{classes[t]} predicted as {classes[p]}: {len(cell)} of {len(analysis)} {args.split} images"
                 f"{', the ' + str(len(rows)) + ' with the highest loss' if len(cell) > len(rows) else ''}")
    else:
        rows = analysis.top_losses(args.top)
        title = (f"The {len(rows)} {args.split} images with the highest loss "
                 f"(accuracy {analysis.accuracy():.2%} on {len(analysis)} images)")
    try:
        layer = args.layer or default_layer(model, data.inputs[0])
    except ValueError:   # an MLP: the analysis and the gallery, without the Grad-CAM overlays
        layer = None
    os.makedirs(args.out, exist_ok=True)
    report = analysis.report(top=args.top)
    report.update({"model": info.model, "dataset": info.dataset, "checkpoint": str(info.path),
                   "gallery": {"title": title, "grad_cam_layer": layer,
                               "images": [r.as_dict(classes) for r in rows]}})
    if args.pair:
        report["gallery"]["pair"] = {"true": classes[t], "predicted": classes[p], "indices": cell}
    if rows:
        idx = [r.index for r in rows]
        cams = None
        if layer is not None:
            try:
                cams = grad_cam(model, data.inputs[idx], [r.predicted for r in rows], layer)
            except ValueError as e:
                raise CLIError(f"--layer {layer!r}: {str(e).split(': ', 1)[-1]}") from None
            cams = upsample(cams, data.inputs.shape[2:]).numpy()
        about = (f"Grad-CAM of {layer}, predicted class" if layer is not None
                 else "no Grad-CAM: the model has no convolution layer")
        plot_error_gallery(data.images[idx], cams, [r.as_dict(classes) for r in rows],
                           os.path.join(args.out, "errors.png"), title=f"{info.model} on {info.dataset}: {title}; {about}")
    with open(os.path.join(args.out, "errors.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"{info.model} on {info.dataset} ({args.split}, {len(analysis)} images): accuracy "
          f"{analysis.accuracy():.2%}, {len(analysis.misclassified())} misclassified")
    print("most confused (true → predicted):")
    print("\n".join(_table(analysis.most_confused())))
    if rows:
        print(f"wrote {os.path.join(args.out, 'errors.png')} ({title})")
    else:
        print(f"no images in the gallery: {title}")
    print(f"wrote {os.path.join(args.out, 'errors.json')}")
    return 0
