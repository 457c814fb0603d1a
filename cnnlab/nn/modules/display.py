"""A module as an HTML table for Jupyter: one row per layer with its parameters.

A module alone does not know its input size, so the table lists what the module holds (each
leaf layer once, in the order it was registered, with its parameter count and shapes); the
shapes of activations, MACs and receptive fields need an input and are in
``cnnlab.summary(model, input_size)``, whose parameter counts these rows equal.
"""

from __future__ import annotations


def one_line(module) -> str:
    """``Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1))``: the layer with its arguments."""
    extra = module.extra_repr().replace("\n", ", ")
    return f"{type(module).__name__}({extra})"


def layer_rows(model) -> list[dict]:
    """Every leaf module, and every container that holds parameters itself, in registration order.

    Each row: ``name`` (dotted path; ``(model)`` for the model itself), ``layer`` (one line),
    ``params`` (its own parameters, each shared parameter counted once, at its first owner),
    ``shapes`` (``weight 16×1×5×5``...) and ``trainable`` (parameters with ``requires_grad``).
    """
    seen: set[int] = set()
    rows = []
    for name, module in model.named_modules():
        own = [(n, p) for n, p in module.named_parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for _, p in own)
        leaf = not any(True for _ in module.children())
        if not leaf and not own:
            continue
        rows.append({
            "name": name or "(model)",
            "layer": one_line(module) if leaf else type(module).__name__ + " (own parameters)",
            "params": sum(p.numel() for _, p in own),
            "trainable": sum(p.numel() for _, p in own if p.requires_grad),
            "shapes": ", ".join(f"{n} {'×'.join(str(s) for s in p.shape)}" for n, p in own),
        })
    return rows


def module_html(model) -> str:
    """The table of :func:`layer_rows` with the totals, and the text repr folded under it."""
    from ... import _html

    rows = layer_rows(model)
    total = sum(r["params"] for r in rows)
    trainable = sum(r["trainable"] for r in rows)
    body = [[r["name"], r["layer"], f"{r['params']:,}", r["shapes"]] for r in rows]
    footer = [["total", f"{len(rows)} layers", f"{total:,}", f"trainable {trainable:,}"]]
    note = ("Shapes of activations, MACs and receptive fields need an input: "
            "cnnlab.summary(model, input_size).")
    return (_html.table(["name", "layer", "# parameters", "parameter shapes"], body, right={2},
                        caption=f"{type(model).__name__} ({'training' if model.training else 'eval'} mode)",
                        footer=footer)
            + _html.bullets([note]) + _html.details("text repr", repr(model)))
