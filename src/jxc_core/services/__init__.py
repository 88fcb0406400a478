"""The application layer: :class:`Jxc`, one method per use case, each one unit of work."""

from jxc_core.services.accounting import (
    Accounting,
    AgingRow,
    GrossProfitRow,
    InventoryReconciliation,
    OpenItem,
    PeriodClose,
    SummaryRow,
    TrialRow,
)
from jxc_core.services.documents import (
    APPROVAL_STEP_EVENT,
    CREATED_EVENT,
    LIFECYCLE_EVENTS,
    PREFIXES,
    Documents,
    DraftedOrders,
    JournalRow,
)
from jxc_core.services.jxc import (
    EXPIRED_LOT_KINDS,
    Jxc,
    LedgerLine,
    Posting,
    ReservationResult,
    ReserveLine,
    StockBalance,
    StockLine,
    StockPosting,
)

__all__ = [
    "APPROVAL_STEP_EVENT",
    "CREATED_EVENT",
    "EXPIRED_LOT_KINDS",
    "LIFECYCLE_EVENTS",
    "PREFIXES",
    "Accounting",
    "AgingRow",
    "Documents",
    "DraftedOrders",
    "GrossProfitRow",
    "InventoryReconciliation",
    "JournalRow",
    "Jxc",
    "LedgerLine",
    "OpenItem",
    "PeriodClose",
    "Posting",
    "ReservationResult",
    "ReserveLine",
    "StockBalance",
    "StockLine",
    "StockPosting",
    "SummaryRow",
    "TrialRow",
]
