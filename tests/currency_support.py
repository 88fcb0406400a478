"""Shared by the multi-currency tests: a rates port from a table, a clock that ticks a minute
per reading, and the shape of the books they build."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal

from jxc_core.services import Accounting, Documents, Jxc

Books = tuple[Jxc, Documents, Accounting]
MakeBooks = Callable[..., Books]


class TableRates:
    """Book-currency units per unit of a currency, from a date on: ``table[(from, to)]`` maps
    the first day of each rate to the rate."""

    table: Mapping[tuple[str, str], Mapping[dt.date, Decimal]] = {}

    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
        found = self.table[(from_currency, to_currency)]
        return found[max(d for d in found if d <= on)]


class MinuteClock:
    """Starts at 2 November 2026, 09:00; every reading is a minute later."""

    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 2, 9, 0)

    def now(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=1)
        return self.at
