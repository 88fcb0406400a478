"""The application layer: :class:`Jxc`, one method per use case, each one unit of work."""

from jxc_core.services.documents import PREFIXES, Documents, JournalRow
from jxc_core.services.jxc import (
    Jxc,
    LedgerLine,
    Posting,
    ReservationResult,
    ReserveLine,
    StockBalance,
    StockLine,
)

__all__ = [
    "PREFIXES",
    "Documents",
    "JournalRow",
    "Jxc",
    "LedgerLine",
    "Posting",
    "ReservationResult",
    "ReserveLine",
    "StockBalance",
    "StockLine",
]
