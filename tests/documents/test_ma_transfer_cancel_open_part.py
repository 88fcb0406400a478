"""Moving average, negative stock allowed, costed per warehouse: a delivery's cancellation
that closed the delivery's open part at its estimate when posted (DOMAIN.md §2, §5; the
rest of its units came back at what receipts had settled of it), replayed later by a
movement dated before it. In the replay a receipt settles that delivery's shortage whole (an
older shortage it settled before is gone: the older issue's cancellation, dated at its own
moment, closed it there), so nothing of the delivery is open at its cancellation any more.
The cancellation now comes back at what its delivery costs by then, as one posted at that
point would; it kept its value as posted before, and cost of goods sold and price difference
ended apart by the settlement that moved to the delivery (docs/decisions.md, 2026-12-20,
"a replayed cancellation whose closed open part is settled by then")."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from .support import BOSS, Shop
from .test_ma_receipt_settled_shortages import (
    _books_see_the_items,
    _delivery,
    _receipt,
    _roles,
    _shop,
    _stock,
    _transfer,
)

D = Decimal
X = "NAVG"


__all__ = ["_books_see_the_items"]  # the fixture (autouse) applies here too


def _cancel(shop: Shop, doc_id: str) -> None:
    shop.docs.cancel(doc_id, BOSS)
    shop.check_books()


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_delivery_cancellation_replayed_comes_back_at_its_cost_by_then(
        storage: str, tmp_path: Path) -> None:
    """3 delivered on day 4 and 3 on day 5 (both short, at 0.00); 5 @ 12.50 received on day 5
    (settles the first delivery's 3 and 2 of the second: cost of goods sold 62.50). The
    second delivery cancelled: its open unit closed at 0.00, the other 2 back at 25.00. The
    receipt cancelled (out of turn: taken back at its own cost, 5 out of 2 on hand). The
    first delivery's cancellation, dated day 4, closes its shortage there; the replay's
    receipt then settles the second delivery's 3 units (37.50), and its cancellation comes
    back at 37.50 (it kept 25.00 before: cost of goods sold 12.50, price difference
    -12.50 once all was cancelled)."""
    shop = _shop(storage, tmp_path)
    first = _delivery(shop, 3, 4)
    second = _delivery(shop, 3, 5)
    r = _receipt(shop, 5, "12.50", 5)
    assert _stock(shop, "W1") == (-1, D("0.00"))
    assert _roles(shop) == {"cogs": D("62.50"), "grni": D("-62.50")}
    _cancel(shop, second)
    assert _stock(shop, "W1") == (2, D("25.00"))
    assert _roles(shop) == {"cogs": D("37.50"), "inventory": D("25.00"),
                            "grni": D("-62.50")}
    _cancel(shop, r)
    assert _stock(shop, "W1") == (-3, D("-37.50"))
    assert _roles(shop) == {"cogs": D("37.50"), "inventory": D("-37.50")}
    _cancel(shop, first)
    assert _stock(shop, "W1") == (0, D("0.00"))
    assert _roles(shop) == {}
    shop.assert_all_undone(X)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_transfer_cancelled_before_a_replayed_delivery_cancellation_nets_every_role(
        storage: str, tmp_path: Path) -> None:
    """2 delivered from W1 on day 9 (short); 2 sent W1 -> W2 on day 6 (short too: W1 -4 /
    0.00); 3 @ 12.50 into W1 on day 9 (settles the transfer's 2, carried on to W2: 2 /
    25.00, and 1 of the delivery: cost of goods sold 12.50). The delivery cancelled (its open
    unit closed at 0.00, the other back at 12.50), then the receipt (out of turn: at its own
    cost), then the transfer, dated day 6: its units close the transfer's own shortage there
    with the value they carry, and the replay's receipt settles the delivery's 2 units
    (25.00): the delivery's cancellation comes back at 25.00 (it kept 12.50 before: cost of
    goods sold 12.50, price difference -12.50)."""
    shop = _shop(storage, tmp_path)
    d = _delivery(shop, 2, 9)
    t = _transfer(shop, 2, 6, "W1", "W2")
    r = _receipt(shop, 3, "12.50", 9)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((-1, D("0.00")), (2, D("25.00")))
    assert _roles(shop) == {"cogs": D("12.50"), "inventory": D("25.00"),
                            "grni": D("-37.50")}
    _cancel(shop, d)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((1, D("12.50")), (2, D("25.00")))
    assert _roles(shop) == {"inventory": D("37.50"), "grni": D("-37.50")}
    _cancel(shop, r)
    assert (_stock(shop, "W1"), _stock(shop, "W2")) == ((-2, D("-25.00")), (2, D("25.00")))
    assert _roles(shop) == {}
    _cancel(shop, t)
    assert _roles(shop) == {}
    shop.assert_all_undone(X)
