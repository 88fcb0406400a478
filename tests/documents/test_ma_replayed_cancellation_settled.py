"""Moving average, negative stock allowed (per warehouse and by organisation): a delivery whose
shortage a receipt settled, cancelled after it, then a receipt dated before the delivery
cancelled (DOMAIN.md §2, §5; docs/decisions.md, 2026-12-19, "a replayed cancellation of a
settled delivery").

The back-dated cancellation replays the delivery and its cancellation. Replayed, the
cancellation comes back at what its delivery costs by then: what it took as replayed (its
estimate) plus what the receipt settled of its shortage since, as a cancellation posted then
is valued. It came back at the estimate alone, the opposite way to the delivery's own
correction: cost of goods sold and price difference ended apart (-4.00 / +4.00) once every
document was cancelled."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.documents import Line

from .support import BOSS
from .test_ma_roles_after_undo import X, _books_see_the_items, _day, _receipt, _shop

D = Decimal
__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


@pytest.mark.parametrize("org", [False, True])
@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_receipt_dated_before_a_settled_and_cancelled_delivery_cancels_clean(
        storage: str, org: bool, tmp_path: Path) -> None:
    """2 delivered short on day 8 (at 0.00), 3 @ 8.00 received on day 8 (it settles them:
    16.00), 1 @ 10.00 received back-dated to day 3 (replayed, the delivery takes that unit
    and goes short by 1 at 10.00, settled at 8.00: 18.00); the delivery cancelled (back at
    18.00); then the day-3 receipt (its replay finds the delivery short by 2 again, settled at
    16.00, and its cancellation back at that) and the day-8 receipt: everything nets to
    zero."""
    shop = _shop(storage, tmp_path, org)
    d = shop.run("delivery", [Line(1, X, D(2), D("99.00"), warehouse="W1")], "C1",
                 date=_day(8)).doc_id
    r8 = _receipt(shop, 3, "8.00", 8)
    r3 = _receipt(shop, 1, "10.00", 3)
    assert shop.net("cogs") == D("18.00")
    shop.docs.cancel(d, BOSS)
    shop.check_books()
    assert shop.net("cogs", f"{d}-R") == D("-18.00")
    for doc_id in (r3, r8):
        shop.docs.cancel(doc_id, BOSS)
        shop.check_books()
    shop.assert_all_undone(X)
