"""A document dated an earlier day (entered late, 补录) posts at that day's last moment, after
every movement already on that day, and documents entered late for one day follow each other in
the order they were posted; dated today it posts at the clock's now (docs/decisions.md,
2026-12-15). On both adapters, with a naive and with an aware clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.services.support import HandClock

D = Decimal
BOSS = User("boss", frozenset())
CST = dt.timezone(dt.timedelta(hours=8))
DAY_END = dt.time(23, 59, 59, 999999)


def _shop(storage: Storage, clock: HandClock) -> tuple[Jxc, Documents]:
    j = Jxc(storage, clock=clock)
    j.define_item(Item("F", "fifo"))
    j.define_item(Item("M", "moving average", costing_method="moving_average"))
    j.define_warehouse(Warehouse("W", "main"))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    return j, Documents(j)


def _post(docs: Documents, doc_type: str, item: str, qty: int, price: str, party: str = "",
          date: dt.date | None = None) -> str:
    doc = docs.create(doc_type, [Line(1, item, D(qty), D(price), warehouse="W")],
                      party=party, date=date)
    return docs.approve_through(doc.doc_id, [BOSS]).doc_id


def _moments(j: Jxc, item: str) -> list[tuple[str, dt.datetime]]:
    return [(x.entry.doc_id, x.entry.posted_at) for x in j.ledger(item, "W")]


@pytest.mark.parametrize("item", ["F", "M"])
def test_documents_entered_late_come_after_the_day_in_the_order_entered(
        storage: Storage, item: str) -> None:
    clock = HandClock(dt.datetime(2026, 3, 2, 15, 0))
    j, docs = _shop(storage, clock)
    rk = _post(docs, "purchase_receipt", item, 10, "2.00", "S")  # 15:00
    clock.at = dt.datetime(2026, 3, 2, 18, 0)
    ck = _post(docs, "delivery", item, 4, "5.00", "C")  # 18:00
    clock.at = dt.datetime(2026, 3, 3, 0, 30)  # after midnight: both dated the day before
    day = dt.date(2026, 3, 2)
    late1 = _post(docs, "delivery", item, 3, "5.00", "C", date=day)
    clock.at = dt.datetime(2026, 3, 3, 8, 0)
    late2 = _post(docs, "purchase_receipt", item, 5, "4.00", "S", date=day)
    today = _post(docs, "delivery", item, 1, "5.00", "C")
    end = dt.datetime.combine(day, DAY_END)
    assert _moments(j, item) == [(rk, dt.datetime(2026, 3, 2, 15, 0)),
                                 (ck, dt.datetime(2026, 3, 2, 18, 0)),
                                 (late1, end), (late2, end),
                                 (today, dt.datetime(2026, 3, 3, 8, 0))]
    numbers = [x.entry.entry_no for x in j.ledger(item, "W")]
    assert numbers == sorted(numbers)  # ties at one moment: in the order posted
    # the late delivery took from the 6 @ 2.00 left after 18:00; the late receipt came after
    # it. FIFO: 2 @ 2.00 + 5 @ 4.00 left. Moving average: 3 @ 2.00 + 5 @ 4.00 = 26.00 for 8,
    # one of them delivered today at 3.25
    b = j.balance(item, "W")
    assert (b.on_hand, b.value) == (D(7), D("24.00") if item == "F" else D("22.75"))
    assert j.balance(item, "W", as_of=end).on_hand == D(8)  # the day holds both late ones
    assert j.balance(item, "W", as_of=end - dt.timedelta(microseconds=1)).on_hand == D(6)


def test_a_late_cancellation_goes_after_the_day_too(storage: Storage) -> None:
    clock = HandClock(dt.datetime(2026, 3, 2, 9, 0))
    j, docs = _shop(storage, clock)
    rk = _post(docs, "purchase_receipt", "F", 10, "2.00", "S")
    clock.at = dt.datetime(2026, 3, 2, 17, 0)
    ck = _post(docs, "delivery", "F", 4, "5.00", "C")
    clock.at = dt.datetime(2026, 3, 3, 7, 0)
    docs.cancel(ck, BOSS)
    docs.cancel(rk, BOSS)
    end = dt.datetime.combine(dt.date(2026, 3, 2), DAY_END)
    assert _moments(j, "F")[2:] == [(f"{ck}-R", end), (f"{rk}-R", end)]
    b = j.balance("F", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))


def test_the_last_day_of_a_month_entered_late_belongs_to_that_month(storage: Storage) -> None:
    clock = HandClock(dt.datetime(2026, 3, 31, 10, 0))
    j, docs = _shop(storage, clock)
    _post(docs, "purchase_receipt", "F", 10, "2.00", "S")
    clock.at = dt.datetime(2026, 4, 1, 9, 0)
    late = _post(docs, "delivery", "F", 4, "5.00", "C", date=dt.date(2026, 3, 31))
    assert _moments(j, "F")[-1] == (late, dt.datetime(2026, 3, 31, 23, 59, 59, 999999))
    books = Accounting(j)
    books.close_period(2026, 3)
    [row] = [r for r in books.inventory_summary(2026, 3) if r.item == "F"]
    assert row.closing_qty == D(6)
    with pytest.raises(JxcError) as info:  # March is closed now: no more late entries
        _post(docs, "delivery", "F", 1, "5.00", "C", date=dt.date(2026, 3, 31))
    assert info.value.code == "period_closed"
    assert j.balance("F", "W").on_hand == D(6)


def test_an_aware_clock_ends_the_day_of_its_timezone(storage: Storage) -> None:
    clock = HandClock(dt.datetime(2026, 3, 2, 16, 0, tzinfo=CST))
    j, docs = _shop(storage, clock)
    _post(docs, "purchase_receipt", "F", 10, "2.00", "S")
    clock.at = dt.datetime(2026, 3, 3, 0, 30, tzinfo=CST)
    late = _post(docs, "delivery", "F", 4, "5.00", "C", date=dt.date(2026, 3, 2))
    # 2026-03-02 23:59:59.999999+08:00, kept in UTC
    assert _moments(j, "F")[-1] == (late, dt.datetime(2026, 3, 2, 15, 59, 59, 999999,
                                                      tzinfo=dt.UTC))
