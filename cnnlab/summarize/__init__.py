"""Model summaries (the lecture's per-layer table) and the output-size calculator.

Public names are re-exported by ``cnnlab``: ``cnnlab.summary`` and ``cnnlab.conv_output_size``.
(The package is called ``summarize`` so that ``cnnlab.summary`` can be the function.)

Example:
    >>> import cnnlab
    >>> s = cnnlab.summary(cnnlab.models.create("mnist-cnn"), (1, 28, 28))
    >>> s.total_params
    35330
    >>> print(s)            # the table; s.render("markdown"|"csv"|"json") for the others
"""

from __future__ import annotations

from contextlib import contextmanager

from .render import FORMATS, MAC_CONVENTION, Summary, lecture_shape
from .sizing import OutputSize, conv_output_size, explain_output_size, format_shape, layer_flow, parse_layers
from .table import LayerRow, build_rows

__all__ = [
    "summary", "skip_init", "Summary", "LayerRow", "FORMATS", "MAC_CONVENTION", "lecture_shape", "parse_input_size",
    "conv_output_size", "explain_output_size", "OutputSize", "layer_flow", "parse_layers", "format_shape",
]


def parse_input_size(input_size) -> tuple[int, ...]:
    """'3x227x227', '3,227,227', 784 or (3, 227, 227) → (3, 227, 227).

    Raises:
        ValueError: for anything that is not 1 to 3 positive integers.
    """
    if isinstance(input_size, str):
        parts = input_size.lower().replace("×", "x").replace(",", "x").split("x")
        try:
            shape = tuple(int(p) for p in parts if p.strip())
        except ValueError:
            raise ValueError(f"summary: input size must look like 3x227x227 or 784, got {input_size!r}") from None
    elif isinstance(input_size, int):
        shape = (input_size,)
    else:
        shape = tuple(int(s) for s in input_size)
    if not 1 <= len(shape) <= 3 or min(shape) < 1:
        raise ValueError(
            f"summary: input size is one sample's shape, (C, H, W) or (features,) with positive sizes, got {input_size!r}"
        )
    return shape


@contextmanager
def skip_init():
    """Build modules without drawing initial weights (they stay zero), like ``torch.nn.utils.skip_init``.

    A summary needs shapes, not values; drawing AlexNet's 62 M random weights takes longer
    than the whole table. Not thread-safe: it swaps the fill functions of ``cnnlab.nn.init``.

    Example:
        >>> with skip_init():
        ...     net = models.create("alexnet")
    """
    from ..nn import init

    names = [n for n in vars(init) if n.endswith("_") and not n.startswith("_") and callable(getattr(init, n))]
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for n, fn in saved.items():
            setattr(init, n, fn)


def summary(model, input_size=None, *, method: str = "forward", name: str | None = None, **model_kwargs) -> Summary:
    """The lecture's per-layer table for ``model`` on one sample of ``input_size``.

    Runs one forward pass on a batch of one zero sample with ``cnnlab.inspect.trace`` (every
    leaf module's call, under ``no_grad`` and in eval mode; the model is left as it was).

    Args:
        model: a cnnlab ``nn.Module``, or a registry name such as "alexnet" (built with
            ``model_kwargs`` and without drawing random weights).
        input_size: one sample's shape, (C, H, W) or (features,), or a string like "3x227x227"
            (default for a registry name: its ``input_shape``; required for a module).
        method: "forward" (compute every layer) or "shapes" (shape inference for convolutions
            and pooling: same table, no arithmetic) (default "forward").
        name: title of the table (default: the registry name or the model's class name).

    Returns:
        A ``Summary``: ``print(s)`` shows the text table; ``s.render("markdown"|"csv"|"json")``,
        ``s.rows``, ``s.totals()``, ``s.shares()`` give the rest.

    Example:
        >>> s = cnnlab.summary("alexnet")
        >>> s.rows[1].shape, s.rows[1].params, s.rows[1].formula
        ((96, 55, 55), 34944, '11·11·3·96 + 96')
    """
    if isinstance(model, str):
        from .. import models

        spec = models.spec(model)
        with skip_init():
            built = models.create(model, **model_kwargs)
        name = name or model
        input_size = spec.input_shape if input_size is None else input_size
        model = built
    elif model_kwargs:
        raise TypeError(f"summary: keyword arguments {sorted(model_kwargs)} only apply to a registry name")
    if input_size is None:
        raise ValueError("summary: give `input_size`, one sample's shape such as (3, 227, 227)")
    shape = parse_input_size(input_size)
    rows = build_rows(model, shape, method=method)
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    itemsize = params[0].dtype.itemsize if params else 4
    return Summary(name or type(model).__name__, rows, total, trainable, itemsize)
