"""Reading the HTML that ``_repr_html_`` returns, for the rich-display tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def parse(fragment: str) -> ET.Element:
    """The fragment as XML inside a ``<div>``: raises if it is not well-formed."""
    return ET.fromstring(f"<div>{fragment}</div>")


def text(el: ET.Element) -> str:
    return "".join(el.itertext())


def tables(fragment: str) -> list[dict]:
    """Every ``<table>``: its caption, header cells, body rows and footer rows, as text."""
    out = []
    for t in parse(fragment).iter("table"):
        cap = t.find("caption")
        out.append({
            "caption": None if cap is None else text(cap),
            "head": [text(c) for c in t.find("thead").iter("th")],
            "body": [[text(c) for c in tr.iter("td")] for tr in t.find("tbody").iter("tr")],
            "foot": [] if t.find("tfoot") is None else [[text(c) for c in tr.iter("td")]
                                                         for tr in t.find("tfoot").iter("tr")],
        })
    return out
