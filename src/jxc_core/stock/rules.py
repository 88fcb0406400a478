"""Pure stock rules: availability, FEFO picking, reservation planning (no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import attrs

from jxc_core.errors import JxcError
from jxc_core.stock.model import Balance, Lot
from jxc_core.values import ZERO

__all__ = [
    "AvailabilityLine",
    "ReservationShortError",
    "ShortLine",
    "fefo_order",
    "plan_reservations",
]


@attrs.frozen(slots=True)
class ShortLine:
    """One line that cannot be served: what was wanted and what is available."""

    item: str
    warehouse: str
    wanted: Decimal
    available: Decimal
    lot: str = ""

    @property
    def short(self) -> Decimal:
        return self.wanted - self.available

    def to_data(self) -> dict[str, str]:
        return {"item": self.item, "warehouse": self.warehouse, "lot": self.lot,
                "wanted": str(self.wanted), "available": str(self.available),
                "short": str(self.short)}


@attrs.frozen(slots=True)
class AvailabilityLine:
    """Answer of an availability query for one wanted line."""

    item: str
    warehouse: str
    wanted: Decimal
    available: Decimal

    @property
    def short(self) -> Decimal:
        return max(ZERO, self.wanted - self.available)

    @property
    def ok(self) -> bool:
        return self.available >= self.wanted


class ReservationShortError(JxcError):
    """Every short line at once (``data['lines']``), not only the first."""

    default_code = "reservation_short"

    def __init__(self, lines: Sequence[ShortLine]) -> None:
        summary = "; ".join(
            f"{s.item}@{s.warehouse}{'/' + s.lot if s.lot else ''} {s.wanted} > {s.available}"
            for s in lines
        )
        super().__init__(
            "reservation_short", count=len(lines), summary=summary,
            lines=[s.to_data() for s in lines],
        )
        self.short_lines = tuple(lines)


def lot_usable(lot: Lot | None, today: dt.date) -> bool:
    """A lot is usable until (and including) its expiry date."""
    return lot is None or lot.expiry is None or lot.expiry >= today


def fefo_order(rows: Sequence[Balance], lots: dict[str, Lot | None], today: dt.date
               ) -> list[Balance]:
    """Rows to pick from, first expired first out (no expiry last), expired lots left out."""
    usable = [b for b in rows if b.on_hand > 0 and lot_usable(lots.get(b.lot), today)]
    far = dt.date.max

    def key(b: Balance) -> tuple[dt.date, str, str]:
        lot = lots.get(b.lot)
        return (lot.expiry if lot is not None and lot.expiry else far, b.lot, b.location)

    return sorted(usable, key=key)


def plan_reservations(
    wanted: Sequence[tuple[int, Decimal, Decimal]], partial: bool
) -> tuple[dict[int, Decimal], list[int]]:
    """Decide what each line gets. ``wanted`` holds (line index, quantity, available).

    Lines sharing availability must be passed with the availability left after the earlier
    ones (the caller walks them in order). Returns ({line: quantity to reserve}, short lines).
    Never more than available; with ``partial=False`` nothing is granted when any line is short.
    """
    grant: dict[int, Decimal] = {}
    short: list[int] = []
    for i, qty, avail in wanted:
        if avail >= qty:
            grant[i] = qty
        else:
            short.append(i)
            if partial and avail > 0:
                grant[i] = avail
    if short and not partial:
        return {}, short
    return grant, short
