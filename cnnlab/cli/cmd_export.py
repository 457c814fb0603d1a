"""``cnnlab export RUN_OR_CKPT --format onnx``: a trained model as a file other tools open."""

from __future__ import annotations

from pathlib import Path

from .args import checkpoint_path, int_range, output_file
from .errors import CLIError

FORMATS = ("onnx",)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="write a trained model as ONNX (onnxruntime, Netron, other frameworks)",
        description="Export a checkpoint (or a run directory's checkpoint) to ONNX. The file carries the "
                    "class names and the input preprocessing in its metadata; onnx must be installed "
                    "(pip install 'cnnlab[onnx]').")
    p.add_argument("checkpoint", type=checkpoint_path, metavar="RUN_OR_CKPT", help="a .safetensors checkpoint or a run directory")
    p.add_argument("--format", default="onnx", choices=FORMATS, help="file format (default onnx)")
    p.add_argument("--out", type=output_file, metavar="FILE", help="file to write (default: model.onnx in the run directory, "
                                                 "or the checkpoint's name with .onnx)")
    p.add_argument("--opset", type=int_range(13), default=17, help="ONNX opset, 13 or newer (default 17)")
    p.add_argument("--intermediates", action="store_true", help="also output every layer's activation")
    p.add_argument("--fixed-batch", action="store_true", help="fix the batch size to 1 instead of a symbolic one")
    p.set_defaults(handler=run)


def _metadata(meta: dict, extra: dict) -> dict:
    keys = {"classes": extra.get("classes"), "preprocess": extra.get("preprocess"), "task": extra.get("task"),
            "dataset": extra.get("dataset"), "input_shape": extra.get("input_shape"),
            "model_name": meta.get("model_name"), "model_config": meta.get("model_config"),
            "epoch": meta.get("epoch"), "metrics": meta.get("metrics") or None}
    return {k: v for k, v in keys.items() if v is not None}


def run(args) -> int:
    import numpy as np

    from .. import models, onnx
    from ..train.session import load_run_model, resolve_checkpoint

    from ..onnx._common import check_opset

    try:
        check_opset(args.opset, "--opset")   # the newest opset is the installed onnx's
        ckpt = resolve_checkpoint(args.checkpoint)
        model, meta, extra = load_run_model(ckpt)
        shape = extra.get("input_shape") or models.spec(meta["model_name"]).input_shape
        out = Path(args.out) if args.out else (
            ckpt.parent / "model.onnx" if Path(args.checkpoint).is_dir() else ckpt.with_suffix(".onnx"))
        proto = onnx.export(model, np.zeros((1, *shape), np.float32), out, opset=args.opset,
                            dynamic_batch=not args.fixed_batch, intermediates=args.intermediates,
                            metadata=_metadata(meta, extra))
    except (ValueError, FileNotFoundError, ImportError, TypeError) as e:
        raise CLIError(str(e)) from None
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {out} ({meta.get('model_name')}, {len(proto.graph.node)} nodes, {params:,} parameters, "
          f"opset {args.opset}, input {'x'.join(map(str, shape))})")
    return 0
