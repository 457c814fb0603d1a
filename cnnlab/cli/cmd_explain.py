"""``cnnlab explain [CHECKPOINT]``: the interactive CNN explainer in the browser."""

from __future__ import annotations

import argparse

from .args import checkpoint_path, existing_dir, int_range, not_a_file, output_dir, port
from .errors import CLIError, CLIRuntimeError

# Real MNIST digits (the 10,000-image subset), so drawing a digit on the page makes sense; ~10 s.
BRIEF_TRAINING = dict(model="mnist-cnn", data="mnist10k", epochs=2)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explain", help="an interactive CNN explainer in the browser for a trained model",
        description="Serve a local web page that shows every layer of a model at work on an input: "
                    "feature maps, the arithmetic of each value, a hyperparameter playground, training "
                    "curves, filters and a shift test. With no CHECKPOINT it uses the latest run under "
                    "--runs; if there is none, it first trains mnist-cnn briefly on Fashion-MNIST. "
                    "With --export DIR it writes the page as a folder that any static web server can "
                    "serve (the model runs in the visitor's browser) instead of serving it.")
    p.add_argument("checkpoint", nargs="?", type=checkpoint_path, help="a checkpoint file or run directory (default: the latest run)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=port, default=8000, help="port (default 8000)")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.add_argument("--runs", type=not_a_file, default="runs", help="where runs live (default ./runs)")
    p.add_argument("--data-root", type=existing_dir, default=None, help="where the dataset files are (default: cnnlab's cache)")
    p.add_argument("--export", type=output_dir, default=None, metavar="DIR",
                   help="write a static site into DIR (page, model.onnx, samples, runtime) instead of serving")
    p.add_argument("--samples", type=int_range(1, 1000), default=None,
                   help="with --export: test samples the site's gallery offers (default 64)")
    p.set_defaults(handler=run)


def _train_briefly(runs: str) -> str:
    from ..train.session import TrainConfig, train_run

    cfg = TrainConfig(**BRIEF_TRAINING)
    try:
        output_dir(runs)  # only now is --runs written to
    except argparse.ArgumentTypeError as e:
        raise CLIError(f"--runs: {e}") from None
    print(f"explain: no run found under {runs!r}; training {cfg.model} briefly first "
          f"({cfg.epochs} epochs on {cfg.data}) so there is a model to explain")
    try:
        _, run_dir, test = train_run(cfg, root=runs, log=lambda line: print("  " + line))
    except Exception as e:
        raise CLIRuntimeError(f"could not train {cfg.model} on {cfg.data}: {e} (run `make setup` to install the data)") from None
    print(f"explain: trained {run_dir} (test accuracy {100 * test.get('accuracy', float('nan')):.1f}%)")
    return str(run_dir)


def run(args) -> int:
    from pathlib import Path

    if args.samples is not None and args.export is None:
        raise CLIError("--samples needs --export DIR (the live page offers the whole test set)")
    if args.export is not None:
        from ..explain.site import RuntimeMissing, find_runtime

        try:
            find_runtime()   # before any training or loading: say at once what to install
        except RuntimeMissing as e:
            raise CLIRuntimeError(str(e)) from None
    path = args.checkpoint
    if path is None:
        from ..train.run_dir import latest_run

        latest = latest_run(args.runs)
        path = str(latest) if latest is not None else _train_briefly(args.runs)
        print(f"explain: using the latest run {path}")
    elif not Path(path).exists():
        raise CLIError(f"checkpoint {path!r} does not exist")
    try:
        from ..explain.loading import app_kwargs_from_checkpoint

        from .cmd_eval import recorded_data_root

        kwargs, notes = app_kwargs_from_checkpoint(path, args.data_root or recorded_data_root(path))
    except (FileNotFoundError, ValueError, KeyError, OSError) as e:
        raise CLIError(f"cannot load {path!r}: {e}") from None
    for n in notes:
        print(f"explain: {n}")
    if args.export is not None:
        return export(kwargs, args.export, 64 if args.samples is None else args.samples)
    from ..explain import create_app

    app = create_app(**kwargs)
    serve(app, args.host, args.port, args.open)
    return 0


def export(kwargs: dict, out: str, samples: int) -> int:
    """Write the static site of the loaded model into ``out`` and say what it holds."""
    from ..explain import Explainer
    from ..explain.site import SiteError, export_site

    ex = Explainer(kwargs["model"], kwargs["meta"], kwargs["dataset"], input_shape=kwargs["input_shape"],
                   classes=kwargs["classes"], normalize=kwargs["normalize"], run=kwargs["run"],
                   filter_history=kwargs.get("filter_history"))
    try:
        summary = export_site(ex, out, samples=samples)
    except SiteError as e:
        raise CLIError(f"--export: {e}") from None
    except ImportError as e:   # the onnx extra is missing
        raise CLIRuntimeError(str(e)) from None
    for n in summary.notes:
        print(f"explain: {n}")
    big = sorted(summary.files.items(), key=lambda kv: -kv[1])[:4]
    print(f"explain: wrote {len(summary.files)} files, {summary.bytes / 1e6:.1f} MB, into {summary.path} "
          f"({summary.samples} samples; largest: {', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in big)})")
    print(f"explain: try it with `python3 -m http.server -d {summary.path} 8000` and open http://127.0.0.1:8000/; "
          "any static host (GitHub Pages, a web server's folder) serves it as it is")
    return 0


def serve(app, host: str, port: int, open_browser: bool = False) -> None:
    """Run ``app`` with uvicorn until Ctrl-C; warns when bound beyond this machine."""
    import socket
    import threading
    import webbrowser

    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"explain: warning: binding {host}: anyone who can reach this address can use the page "
              "(it has no login); the default 127.0.0.1 keeps it on this machine")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host, port))
    except OSError as e:
        raise CLIError(f"cannot listen on {host}:{port}: {e.strerror or e}; choose another --port") from None
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    print(f"explain: serving on {url} (Ctrl-C to stop)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
