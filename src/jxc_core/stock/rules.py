"""Pure stock rules: availability, FEFO picking, reservation planning (no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import attrs

from jxc_core.errors import JxcError
from jxc_core.stock.model import Balance, Lot, Reservation
from jxc_core.values import ZERO

__all__ = [
    "AvailabilityLine",
    "FreeStock",
    "ReservationShortError",
    "ShortLine",
    "consumption_order",
    "fefo_order",
    "free_stock",
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
    #: the location (库位) of a stock check that failed on one balance row
    location: str = ""
    #: the demand line of a reservation that is short (``ReserveLine.demand``)
    demand: str | None = None

    @property
    def short(self) -> Decimal:
        return self.wanted - self.available

    def to_data(self) -> dict[str, str]:
        data = {"item": self.item, "warehouse": self.warehouse, "lot": self.lot,
                "wanted": str(self.wanted), "available": str(self.available),
                "short": str(self.short)}
        if self.location:
            data["location"] = self.location
        if self.demand is not None:
            data["demand"] = self.demand
        return data


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


def fefo_order(rows: Sequence[Balance], lots: dict[str, Lot | None], today: dt.date,
               *, expired: bool = False) -> list[Balance]:
    """Rows to pick from, first expired first out (no expiry last), expired lots left out —
    or, with ``expired``, included: they come first, they expired first (a count's loss
    without a lot, the freeze of a count)."""
    usable = [b for b in rows
              if b.on_hand > 0 and (expired or lot_usable(lots.get(b.lot), today))]
    far = dt.date.max

    def key(b: Balance) -> tuple[dt.date, str, str]:
        lot = lots.get(b.lot)
        return (lot.expiry if lot is not None and lot.expiry else far, b.lot, b.location)

    return sorted(usable, key=key)


@attrs.frozen(slots=True)
class FreeStock:
    """The usable stock of one (item, warehouse) and what is claimed of it, lot by lot.

    ``stock``: on hand of each usable lot, its rows at every location summed (``""``: the
    rows without a lot). ``bound``: claims on one lot — active reservations naming it and the
    quantity held on its rows. ``floating``: claims on the warehouse as a whole — reservations
    without a lot and the quantity held on rows without a lot. A hold counts for its lot
    whatever the location of the row that records it.

    A claim no usable stock can back is short (``uncovered``): one on an expired lot, or the
    part of a lot's claims beyond its stock. It takes nothing from the other lots. Floating
    claims are never short here: any usable lot can serve them, so beyond the stock they
    make :meth:`total` negative.
    """

    stock: dict[str, Decimal]
    bound: dict[str, Decimal]
    floating: Decimal
    #: claims on expired lots (reservations, holds)
    expired_claims: Decimal = ZERO

    def lot(self, lot: str) -> Decimal:
        """Free in ``lot``: its usable stock less the claims on it (0 for an expired lot;
        below 0 when its claims exceed its stock)."""
        return self.stock.get(lot, ZERO) - self.bound.get(lot, ZERO)

    def total(self) -> Decimal:
        """Free in the warehouse: each usable lot gives its stock less the claims on it that
        the stock covers (a lot claimed beyond its stock gives 0, a lot below zero its
        negative stock), less the floating claims."""
        bound = self.bound
        free = ZERO
        for lot, qty in self.stock.items():
            claimed = bound.get(lot)
            free += qty if not claimed else qty - min(claimed, max(qty, ZERO))
        return free - self.floating

    @property
    def uncovered(self) -> Decimal:
        """Claims on lots that their usable stock does not cover (short reservations and
        holds of expired lots, or beyond a lot's stock)."""
        stock = self.stock
        return self.expired_claims + sum(
            (max(ZERO, claimed - max(stock.get(lot, ZERO), ZERO))
             for lot, claimed in self.bound.items()), ZERO)


def free_stock(rows: Sequence[Balance], lots: dict[str, Lot | None],
               reservations: Sequence[Reservation], today: dt.date) -> FreeStock:
    """The :class:`FreeStock` of the balance rows of one (item, warehouse) and its active
    reservations; ``lots`` gives the lots of the rows (a lot missing is usable)."""
    stock: dict[str, Decimal] = {}
    bound: dict[str, Decimal] = {}
    floating = expired = ZERO
    usable: dict[str, bool] = {"": True}
    for b in rows:
        lot = b.lot
        ok = usable.get(lot)
        if ok is None:
            ok = usable[lot] = lot_usable(lots.get(lot), today)
        if not ok:
            expired += b.held
            continue
        stock[lot] = stock.get(lot, ZERO) + b.on_hand
        if b.held:
            if lot:
                bound[lot] = bound.get(lot, ZERO) + b.held
            else:
                floating += b.held
    for r in reservations:
        lot = r.lot
        if not lot:
            floating += r.quantity
        elif usable.get(lot, True):
            bound[lot] = bound.get(lot, ZERO) + r.quantity
        else:
            expired += r.quantity
    return FreeStock(stock, bound, floating, expired)


def consumption_order(reservations: Sequence[Reservation], demand: str, lot: str
                      ) -> list[Reservation]:
    """The reservations of ``demand`` that an out line of it taking ``lot`` consumes, in the
    order it consumes them: those naming that lot first, then those without a lot (a
    reservation of another lot is not touched: its units are still there)."""
    named = [r for r in reservations if r.demand == demand and lot and r.lot == lot]
    return named + [r for r in reservations if r.demand == demand and not r.lot]


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
