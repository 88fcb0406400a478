"""Stock (库存): master data, ledger entries, balances, reservations, availability rules."""

from jxc_core.stock.model import (
    Balance,
    Item,
    LedgerEntry,
    Lot,
    Party,
    Reservation,
    StockLevels,
    Warehouse,
)
from jxc_core.stock.replenishment import (
    PurchaseSuggestion,
    ReplenishmentRule,
    group_by_supplier,
    suggest_quantity,
    without_supplier,
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
    "PurchaseSuggestion",
    "ReplenishmentRule",
    "Reservation",
    "ReservationShortError",
    "ShortLine",
    "StockLevels",
    "Warehouse",
    "fefo_order",
    "group_by_supplier",
    "plan_reservations",
    "suggest_quantity",
    "without_supplier",
]
