"""Stock (库存): master data, ledger entries, balances, reservations, availability rules."""

from jxc_core.stock.model import (
    Balance,
    Item,
    LedgerEntry,
    Lot,
    Party,
    Reservation,
    Warehouse,
)
from jxc_core.stock.rules import (
    AvailabilityLine,
    ReservationShortError,
    ShortLine,
    fefo_order,
    plan_reservations,
)

__all__ = [
    "AvailabilityLine",
    "Balance",
    "Item",
    "LedgerEntry",
    "Lot",
    "Party",
    "Reservation",
    "ReservationShortError",
    "ShortLine",
    "Warehouse",
    "fefo_order",
    "plan_reservations",
]
