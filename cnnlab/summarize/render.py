"""The ``Summary`` object: totals, conv/FC shares, and text, markdown, CSV and JSON renderings."""

from __future__ import annotations

import csv
import io
import json

from .table import LayerRow

MAC_CONVENTION = (
    "1 MAC = 1 multiply + 1 add (FLOPs ≈ 2 × MACs). conv: outputs × C_in/groups·k·k; linear: outputs × "
    "in_features (bias = the accumulator's start); pooling: outputs × window; LRN: outputs × size; "
    "BatchNorm, activations: 1 per output; dropout, flatten: 0. Per sample (batch of 1), inference mode."
)
FORMATS = ("text", "markdown", "csv", "json")
_COLUMNS = ("Layer", "Activation shape", "Activation size", "# parameters", "Formula", "MACs", "RF", "Jump")


def lecture_shape(shape: tuple) -> str:
    """Shape as the lecture prints it: (96, 55, 55) → '55 x 55 x 96', (4096,) → '4096 x 1'."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h} x {w} x {c}"
    if len(shape) == 1:
        return f"{shape[0]} x 1"
    return " x ".join(str(s) for s in shape)


def _hw(v, shape) -> str:
    if v is None:
        return "all" if len(shape) <= 1 else "—"
    return f"{v[0]}" if v[0] == v[1] else f"{v[0]}x{v[1]}"


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.2f} MB"


class Summary:
    """A model's per-layer table with totals. ``str(summary)`` is the text table.

    Attributes:
        rows: ``LayerRow`` list, the input first.
        total_params / trainable_params: unique parameters of the model (not just the rows).
        total_macs: Σ row MACs for one sample.
        itemsize: bytes per element of the parameters/activations (4 for float32).
    """

    def __init__(self, model_name: str, rows: list[LayerRow], total_params: int, trainable_params: int,
                 itemsize: int = 4):
        self.model_name = model_name
        self.rows = rows
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.itemsize = itemsize
        self.total_macs = sum(r.macs for r in rows)

    # ------------------------------------------------------------------ numbers
    @property
    def activation_elements(self) -> int:
        """Elements of every layer output plus the input, for one sample."""
        return sum(r.size for r in self.rows)

    def totals(self) -> dict:
        fwd = self.activation_elements * self.itemsize
        return {
            "params": self.total_params,
            "trainable_params": self.trainable_params,
            "params_in_rows": sum(r.params for r in self.rows),
            "macs": self.total_macs,
            "flops": 2 * self.total_macs,
            "activation_bytes_forward": fwd,
            # Training keeps every activation for backward and creates a gradient of the same size.
            "activation_bytes_forward_backward": 2 * fwd,
            "param_bytes": self.total_params * self.itemsize,
        }

    def shares(self) -> dict:
        """Percent of parameters and of MACs in conv, fully connected and other layers."""
        out = {}
        for cat in ("conv", "fc", "other"):
            rows = [r for r in self.rows if (r.category == cat if cat != "other" else r.category not in ("conv", "fc"))]
            out[cat] = {
                "params": sum(r.params for r in rows),
                "params_pct": _pct(sum(r.params for r in rows), sum(r.params for r in self.rows)),
                "macs": sum(r.macs for r in rows),
                "macs_pct": _pct(sum(r.macs for r in rows), self.total_macs),
            }
        return out

    def lecture_claim(self) -> str:
        """A sentence checking "conv ≈ 90–95 % of the computation, ≈ 5 % of the parameters"."""
        sh = self.shares()
        conv, fc = sh["conv"], sh["fc"]
        if conv["params"] == 0 and conv["macs"] == 0:
            return "Lecture claim (conv ≈ 90–95% of compute, ≈ 5% of params): not applicable, this model has no conv layers."
        compute_ok = 90.0 <= conv["macs_pct"] <= 95.0
        params_ok = 2.5 <= conv["params_pct"] <= 7.5
        verdict = {
            (True, True): "supports both parts",
            (True, False): "supports the compute part but not the parameter part",
            (False, True): "supports the parameter part but not the compute part",
            (False, False): "supports neither part",
        }[(compute_ok, params_ok)]
        return (
            f"Lecture claim (conv ≈ 90–95% of compute, ≈ 5% of params; FC ≈ 95% of params): here conv layers do "
            f"{conv['macs_pct']:.1f}% of the MACs and hold {conv['params_pct']:.1f}% of the parameters, FC layers "
            f"{fc['macs_pct']:.1f}% and {fc['params_pct']:.1f}%; this model {verdict}."
        )

    # ---------------------------------------------------------------- renderers
    def _cells(self, r: LayerRow) -> list[str]:
        name = r.layer if r.name == "input" else f"{r.name}: {r.layer}"
        return [name, lecture_shape(r.shape), f"{r.size:,}", f"{r.params:,}", r.formula, f"{r.macs:,}",
                _hw(r.rf, r.shape), _hw(r.jump, r.shape)]

    def _footer_lines(self) -> list[str]:
        t, sh = self.totals(), self.shares()
        lines = [
            f"Total parameters: {t['params']:,} (trainable {t['trainable_params']:,})",
            f"Total MACs: {t['macs']:,} ({t['macs'] / 1e6:,.1f} M; ≈ {t['flops'] / 1e6:,.1f} MFLOPs)",
            f"Activation memory per sample: forward {_mb(t['activation_bytes_forward'])}, "
            f"forward + backward {_mb(t['activation_bytes_forward_backward'])}",
            f"Parameter memory: {_mb(t['param_bytes'])} ({self.itemsize} bytes per value)",
            "Share of parameters: " + ", ".join(f"{k} {v['params_pct']:.1f}%" for k, v in sh.items()),
            "Share of MACs: " + ", ".join(f"{k} {v['macs_pct']:.1f}%" for k, v in sh.items()),
            self.lecture_claim(),
            "MACs convention: " + MAC_CONVENTION,
            "RF: receptive field in input pixels; Jump: input pixels between adjacent outputs "
            "(r_out = r_in + (K_eff − 1)·j_in, j_out = j_in·S); 'all' = every input pixel.",
        ]
        if t["params_in_rows"] != t["params"]:
            lines.insert(1, f"Note: the rows hold {t['params_in_rows']:,} parameters; the rest belong to "
                            f"modules not called in forward.")
        return lines

    def to_text(self) -> str:
        cells = [list(_COLUMNS)] + [self._cells(r) for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(_COLUMNS))]
        right = {2, 3, 5, 6, 7}

        def fmt(row):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

        rule = "-" * len(fmt(cells[0]))
        out = [f"{self.model_name}", rule, fmt(cells[0]), rule] + [fmt(r) for r in cells[1:]] + [rule]
        return "\n".join(out + self._footer_lines())

    def to_markdown(self) -> str:
        head = "| " + " | ".join(_COLUMNS) + " |"
        align = "|" + "|".join(["---", "---", "---:", "---:", "---", "---:", "---:", "---:"]) + "|"
        body = ["| " + " | ".join(c.replace("|", "\\|") or " " for c in self._cells(r)) + " |" for r in self.rows]
        return "\n".join([f"**{self.model_name}**", "", head, align, *body, ""] + [f"- {s}" for s in self._footer_lines()])

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["name", "layer", "category", "shape", "activation_size", "params", "formula", "macs",
                    "receptive_field", "jump"])
        for r in self.rows:
            w.writerow([r.name, r.layer, r.category, lecture_shape(r.shape), r.size, r.params, r.formula, r.macs,
                        _hw(r.rf, r.shape), _hw(r.jump, r.shape)])
        t = self.totals()
        w.writerow(["total", "", "", "", self.activation_elements, t["params"], "", t["macs"], "", ""])
        return buf.getvalue()

    def to_dict(self) -> dict:
        return {
            "model": self.model_name,
            "rows": [r.as_dict() | {"shape_text": lecture_shape(r.shape)} for r in self.rows],
            "totals": self.totals(),
            "shares": self.shares(),
            "lecture_claim": self.lecture_claim(),
            "mac_convention": MAC_CONVENTION,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_html(self) -> str:
        """The table as HTML with the totals and notes under it (what Jupyter shows)."""
        from .. import _html

        body = [self._cells(r) for r in self.rows]
        total = ["total", "", f"{self.activation_elements:,}", f"{self.total_params:,}", "", f"{self.total_macs:,}",
                 "", ""]
        return (_html.table(_COLUMNS, body, right={2, 3, 5, 6, 7}, caption=self.model_name, footer=[total])
                + _html.bullets(self._footer_lines()))

    def _repr_html_(self) -> str:
        return self.to_html()

    def render(self, format: str = "text") -> str:
        """The summary as ``text`` (default), ``markdown``, ``csv`` or ``json``."""
        renderers = {"text": self.to_text, "markdown": self.to_markdown, "csv": self.to_csv, "json": self.to_json}
        if format not in renderers:
            raise ValueError(f"summary: unknown format {format!r}; valid: {', '.join(FORMATS)}")
        return renderers[format]()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()
