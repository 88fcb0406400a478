"""Refusals that used to leave something behind or take the wrong input, on both adapters:

* ``approve_through`` is one unit of work: a post refused (short stock) leaves the document a
  draft, with no lifecycle event; a retry under its idempotency key returns the first result;
* a stock count's freeze is released by the count only: ``Jxc.hold`` releasing it from outside
  (which let stock move during the count and left the count unable to post or be cancelled)
  is ``hold_release_exceeded``, and so is any release beyond the hold;
* ``record_count`` takes line numbers (int) to quantities and fingerprints them by value.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError

from .support import BOSS, Shop

D = Decimal


def test_approve_through_refused_at_post_leaves_the_draft(shop: Shop) -> None:
    shop.stock_in("A", D(2), D(10))
    delivery = shop.make("delivery", [Line(1, "A", D(5), D(20), warehouse="W1")], "C1")
    before = shop.snapshot()
    events = shop.jxc.storage.unit_of_work
    with events() as uow:
        pending = len(uow.outbox.pending())
    with pytest.raises(JxcError) as err:
        shop.docs.approve_through(delivery.doc_id, [BOSS])
    assert err.value.code == "insufficient_stock"
    assert shop.docs.get(delivery.doc_id).state == State.DRAFT
    assert shop.docs.get(delivery.doc_id).history == delivery.history
    assert shop.snapshot() == before
    with events() as uow:
        assert len(uow.outbox.pending()) == pending  # no submitted / approved event
    # with stock it goes through, and a retry under the key returns the first result
    shop.stock_in("A", D(3), D(10))
    posted = shop.docs.approve_through(delivery.doc_id, [BOSS], idempotency_key="at-1")
    assert posted.state == State.POSTED
    after = shop.snapshot()
    assert shop.docs.approve_through(delivery.doc_id, [BOSS], idempotency_key="at-1") == posted
    assert shop.snapshot() == after
    with pytest.raises(JxcError) as conflict:  # the key with another document
        shop.docs.approve_through("other", [BOSS], idempotency_key="at-1")
    assert conflict.value.code == "idempotency_conflict"


def _count(shop: Shop) -> str:
    shop.stock_in("A", D(10), D(10))
    pc = shop.make("stock_count", [Line(1, "A", D(0), warehouse="W1")])
    return shop.docs.submit(pc.doc_id, BOSS).doc_id


def test_a_count_freeze_is_released_by_the_count_only(shop: Shop) -> None:
    pc = _count(shop)
    assert shop.jxc.balance("A", "W1").held == 10
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.jxc.hold("A", "W1", D(-10))
    assert err.value.code == "hold_release_exceeded"
    assert err.value.data == {"item": "A", "warehouse": "W1", "location": "", "lot": "",
                              "quantity": D(10), "held": D(10), "frozen": D(10)}
    assert "只能由盘点解除" in err.value.message("zh_CN")
    assert shop.snapshot() == before
    with pytest.raises(JxcError):  # stock stays frozen: nothing can be issued meanwhile
        shop.jxc.issue("A", "W1", D(4), doc_id="X1")
    # a hold of its own beside the count's is released as before, the count's is not
    shop.stock_in("A", D(3), D(10))
    shop.jxc.hold("A", "W1", D(2))
    shop.jxc.hold("A", "W1", D(-2))
    with pytest.raises(JxcError) as more:
        shop.jxc.hold("A", "W1", D(-1))
    assert more.value.code == "hold_release_exceeded"
    # the count posts (9 counted while the book says 13) and releases its freeze
    shop.docs.record_count(pc, {1: D(9)})
    shop.docs.approve(pc, BOSS)
    shop.docs.post(pc, BOSS)
    a = shop.jxc.balance("A", "W1")
    assert (a.on_hand, a.held) == (9, 0)
    shop.jxc.hold("A", "W1", D(5))
    shop.jxc.hold("A", "W1", D(-5))
    assert shop.jxc.balance("A", "W1").held == 0


def test_a_cancelled_count_releases_its_freeze_and_the_next_count_starts(shop: Shop) -> None:
    pc = _count(shop)
    shop.docs.cancel(pc, BOSS)
    assert shop.jxc.balance("A", "W1").held == 0
    with pytest.raises(JxcError) as err:  # nothing held: a release is beyond the hold
        shop.jxc.hold("A", "W1", D(-1))
    assert err.value.code == "hold_release_exceeded"
    assert err.value.data["frozen"] == 0
    second = shop.make("stock_count", [Line(1, "A", D(0), warehouse="W1")])
    assert shop.docs.submit(second.doc_id, BOSS).attributes["held"] == {"1": "10"}


def test_record_count_takes_line_numbers_and_compares_by_value(shop: Shop) -> None:
    pc = _count(shop)
    first = shop.docs.record_count(pc, {1: D(5)}, idempotency_key="rc-1")
    assert shop.docs.record_count(pc, {1: D("5.0")}, idempotency_key="rc-1") == first
    with pytest.raises(JxcError) as err:
        shop.docs.record_count(pc, {1: D(6)}, idempotency_key="rc-1")
    assert err.value.code == "idempotency_conflict"
    with pytest.raises(TypeError, match="serials must be a mapping"):
        shop.docs.record_count(pc, {1: D(5)}, serials=["S1"])  # type: ignore[arg-type]
    with pytest.raises(JxcError) as negative:
        shop.docs.record_count(pc, {1: D(-1)})
    assert negative.value.code == "invalid_quantity"
    assert negative.value.message("en") == (
        "counted -1 is not a valid quantity here: a counted quantity is zero or more")
