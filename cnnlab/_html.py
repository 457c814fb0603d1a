"""Small HTML pieces for Jupyter's rich display (``_repr_html_``): tables, captions, line charts.

A leaf module (standard library only): the model (``nn.Module``), the summary and a loaded run
all build their HTML from these, so the three look alike in a notebook. Every value is escaped;
the output is a fragment of well-formed XHTML-style markup (closed tags, quoted attributes).

Example:
    >>> table(["layer", "params"], [["conv1", "416"]], right={1}).startswith("<table")
    True
"""

from __future__ import annotations

import html
import math

_STYLE = "border-collapse: collapse; font-family: monospace; font-size: 12px"
_CELL = "padding: 2px 8px; border-bottom: 1px solid #ddd"


def escape(value) -> str:
    """``value`` as text, with ``& < > " '`` escaped."""
    return html.escape(str(value), quote=True)


def table(headers, rows, *, right=(), caption: str | None = None, footer=None) -> str:
    """A ``<table>`` with one header row, ``rows`` of cells and optional footer rows.

    Args:
        headers: column titles.
        rows: lists of cells (any value; escaped as text).
        right: indices of the columns aligned right (numbers).
        caption: a title above the table.
        footer: rows drawn in bold under the body (totals).
    """
    def row(cells, tag="td", bold=False):
        weight = "; font-weight: bold" if bold else ""
        out = []
        for i, c in enumerate(cells):
            align = "right" if i in right else "left"
            out.append(f'<{tag} style="{_CELL}; text-align: {align}{weight}">{escape(c)}</{tag}>')
        return "<tr>" + "".join(out) + "</tr>"

    parts = [f'<table class="cnnlab" style="{_STYLE}">']
    if caption:
        parts.append(f'<caption style="text-align: left; font-weight: bold">{escape(caption)}</caption>')
    parts.append("<thead>" + row(headers, "th") + "</thead>")
    parts.append("<tbody>" + "".join(row(r) for r in rows) + "</tbody>")
    if footer:
        parts.append("<tfoot>" + "".join(row(r, bold=True) for r in footer) + "</tfoot>")
    parts.append("</table>")
    return "".join(parts)


def bullets(lines) -> str:
    """An unordered list of text lines."""
    return '<ul style="font-size: 12px">' + "".join(f"<li>{escape(s)}</li>" for s in lines) + "</ul>"


def details(summary: str, text: str) -> str:
    """A folded block: ``summary`` as its title, ``text`` shown as preformatted text when opened."""
    return f"<details><summary>{escape(summary)}</summary><pre>{escape(text)}</pre></details>"


_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def line_chart(series: dict, *, title: str, xlabel: str, xmin: float | None = None, width: int = 440,
               height: int = 180) -> str:
    """An inline SVG with one polyline per ``{name: (xs, ys)}`` (non-finite points skipped), the
    x and y ranges written at the axes and a legend on the right; an empty string when there is
    nothing to draw. ``xmin`` starts the x axis there (or at the first point, if that is lower)."""
    pts = {k: [(float(x), float(y)) for x, y in zip(*v) if math.isfinite(float(y))] for k, v in series.items()}
    pts = {k: v for k, v in pts.items() if v}
    if not pts:
        return ""
    xs = [x for v in pts.values() for x, _ in v]
    ys = [y for v in pts.values() for _, y in v]
    x0, x1 = min(xs) if xmin is None else min(min(xs), xmin), max(xs)
    y0, y1 = min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    left, top, bottom, legend = 48, 20, 30, 130
    w, h = width - left - legend, height - top - bottom

    def sx(x):
        return left + (x - x0) / (x1 - x0) * w

    def sy(y):
        return top + (1 - (y - y0) / (y1 - y0)) * h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" style="font-family: sans-serif; font-size: 10px">',
           f'<text x="{left}" y="12" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
           f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{y1:.3g}</text>',
           f'<text x="{left - 4}" y="{top + h}" text-anchor="end">{y0:.3g}</text>',
           f'<text x="{left}" y="{height - 16}" text-anchor="middle">{x0:.3g}</text>',
           f'<text x="{left + w}" y="{height - 16}" text-anchor="middle">{x1:.3g}</text>',
           f'<text x="{left + w / 2}" y="{height - 4}" text-anchor="middle">{escape(xlabel)}</text>']
    for i, (name, v) in enumerate(pts.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in v)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        if len(v) <= 12:  # few points (one per epoch): mark each
            out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>' for x, y in v]
        out.append(f'<text x="{left + w + 8}" y="{top + 8 + 13 * i}" fill="{colour}">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
