"""Reports as text: CSV export and readable tables with babel formatting (zh_CN, en_US).

The report *data* are typed rows (:class:`~jxc_core.services.accounting.SummaryRow`,
:class:`~jxc_core.accounting.vouchers.Voucher`, ...). This module only displays them: money
with the currency's symbol and grouping of the locale, dates in the locale's medium format.
Rounding happened before, in the domain; formatting never changes a figure.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

__all__ = ["Formatter", "render_table", "to_csv"]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]],
                 right: Sequence[bool] | None = None) -> str:
    """A boxed plain-text table, aware of the width of CJK characters."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [_width(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], _width(c))
    align = list(right) if right is not None else [
        all(_looks_numeric(r[i]) for r in cells if r[i]) and any(r[i] for r in cells)
        for i in range(len(headers))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(row: Sequence[str], header: bool = False) -> str:
        out = []
        for i, c in enumerate(row):
            gap = " " * (widths[i] - _width(c))
            out.append(" " + (gap + c if align[i] and not header else c + gap) + " ")
        return "|" + "|".join(out) + "|"

    return "\n".join([title, line, fmt(list(headers), True), line,
                      *(fmt(r) for r in cells), line])


def _looks_numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace(".", "").replace("-", "").replace(" ", "")
    stripped = stripped.lstrip("¥$€£").replace("CN", "").replace("US", "")
    return stripped.isdigit()


def to_csv(rows: Sequence[Any], columns: Sequence[str] | None = None) -> str:
    """CSV of attrs rows (or dicts), Decimals written exactly as they are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    dicts = [attrs.asdict(r, recurse=False) if attrs.has(type(r)) else dict(r) for r in rows]
    cols = list(columns) if columns is not None else (
        [k for k, v in dicts[0].items() if not isinstance(v, (dict, list, tuple))]
        if dicts else [])
    writer.writerow(cols)
    for d in dicts:
        writer.writerow([_csv_cell(d.get(c)) for c in cols])
    return out.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


class Formatter:
    """Money, numbers and dates for one locale (``zh_CN`` or ``en_US``, any babel locale)."""

    def __init__(self, locale: str = "zh_CN", currency: str = "CNY") -> None:
        self.locale = Locale.parse(locale.replace("-", "_"))
        self.currency = currency

    @property
    def chinese(self) -> bool:
        return self.locale.language == "zh"

    def money(self, value: Decimal, currency: str | None = None) -> str:
        return format_currency(value, currency or self.currency, locale=self.locale,
                               currency_digits=True, format_type="standard",
                               decimal_quantization=False)

    def number(self, value: Decimal) -> str:
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def date(self, value: dt.date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def label(self, english: str, chinese: str) -> str:
        return chinese if self.chinese else english
