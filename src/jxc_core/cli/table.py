"""Plain-text tables for the terminal (width-aware for CJK characters)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["render_table"]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def render_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A boxed table; numeric-looking cells are right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [_width(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], _width(c))
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(row: Sequence[str], header: bool = False) -> str:
        parts = []
        for i, c in enumerate(row):
            numeric = not header and c.replace(",", "").replace(".", "").lstrip("-").isdigit()
            parts.append(" " + _pad(c, widths[i], numeric) + " ")
        return "|" + "|".join(parts) + "|"

    out = [title, line, fmt(list(headers), header=True), line]
    out += [fmt(row) for row in cells]
    out.append(line)
    return "\n".join(out)
