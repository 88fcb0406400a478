"""A document dated an earlier day (entered late, 补录) posts at that day with the clock's time
of day, but never before the movements already on that day of the items it moves: then just
after the last of them (never past the day's last moment), so documents entered late for one
day follow each other in the order they were posted, each at a moment of its own; dated today
it posts at the clock's now (docs/decisions.md, 2026-12-15). On both adapters, with a naive and
with an aware clock."""

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
US = dt.timedelta(microseconds=1)


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


def _unbalanced_roles(docs: Documents) -> dict[str, Decimal]:
    """The roles of the journal that do not net to zero, with what they leave."""
    net: dict[str, Decimal] = {}
    for r in docs.journal():
        net[r.role] = net.get(r.role, D(0)) + r.debit - r.credit
    return {k: v for k, v in net.items() if v}


class _OrgShop:
    """Item ``X`` of ``method`` costed by organisation in warehouses W and V, a supplier S
    and a customer C; each document posted or cancelled 7 minutes after the one before."""

    def __init__(self, storage: Storage, method: str) -> None:
        self.clock = HandClock(dt.datetime(2026, 3, 20, 8, 0))
        self.j = Jxc(storage, clock=self.clock, organisation_scope=True)
        self.j.define_item(Item("X", "x", costing_method=method))
        for wh in ("W", "V"):
            self.j.define_warehouse(Warehouse(wh, wh))
        self.j.define_party(Party("S", "supplier", "supplier"))
        self.j.define_party(Party("C", "customer", "customer"))
        self.docs = Documents(self.j)

    def post(self, doc_type: str, line: Line, day: int, party: str = "") -> str:
        self.clock.at += dt.timedelta(minutes=7)
        doc = self.docs.create(doc_type, [line], party=party, date=dt.date(2026, 3, day))
        return self.docs.approve_through(doc.doc_id, [BOSS]).doc_id

    def cancel(self, *doc_ids: str) -> None:
        for doc_id in doc_ids:
            self.clock.at += dt.timedelta(minutes=7)
            self.docs.cancel(doc_id, BOSS)

    def figures(self) -> list[tuple[Decimal, Decimal]]:
        """(on hand, value) of X in W, then in V."""
        return [(self.j.balance("X", wh).on_hand, self.j.balance("X", wh).value)
                for wh in ("W", "V")]


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
    six = dt.datetime(2026, 3, 2, 18, 0)
    assert _moments(j, item) == [(rk, dt.datetime(2026, 3, 2, 15, 0)), (ck, six),
                                 (late1, six + US), (late2, six + 2 * US),
                                 (today, dt.datetime(2026, 3, 3, 8, 0))]
    # the late delivery took from the 6 @ 2.00 left after 18:00; the late receipt came after
    # it. FIFO: 2 @ 2.00 + 5 @ 4.00 left. Moving average: 3 @ 2.00 + 5 @ 4.00 = 26.00 for 8,
    # one of them delivered today at 3.25
    b = j.balance(item, "W")
    assert (b.on_hand, b.value) == (D(7), D("24.00") if item == "F" else D("22.75"))
    end = dt.datetime.combine(day, dt.time.max)
    assert j.balance(item, "W", as_of=end).on_hand == D(8)  # the day holds both late ones
    assert j.balance(item, "W", as_of=six).on_hand == D(6)


def test_a_late_cancellation_goes_after_the_day_too(storage: Storage) -> None:
    clock = HandClock(dt.datetime(2026, 3, 2, 9, 0))
    j, docs = _shop(storage, clock)
    rk = _post(docs, "purchase_receipt", "F", 10, "2.00", "S")
    clock.at = dt.datetime(2026, 3, 2, 17, 0)
    ck = _post(docs, "delivery", "F", 4, "5.00", "C")
    clock.at = dt.datetime(2026, 3, 3, 7, 0)
    docs.cancel(ck, BOSS)
    docs.cancel(rk, BOSS)
    five = dt.datetime(2026, 3, 2, 17, 0)
    assert _moments(j, "F")[2:] == [(f"{ck}-R", five + US), (f"{rk}-R", five + 2 * US)]
    b = j.balance("F", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))


def test_the_last_day_of_a_month_entered_late_belongs_to_that_month(storage: Storage) -> None:
    clock = HandClock(dt.datetime(2026, 3, 31, 10, 0))
    j, docs = _shop(storage, clock)
    _post(docs, "purchase_receipt", "F", 10, "2.00", "S")
    clock.at = dt.datetime(2026, 4, 1, 9, 0)
    late = _post(docs, "delivery", "F", 4, "5.00", "C", date=dt.date(2026, 3, 31))
    assert _moments(j, "F")[-1] == (late, dt.datetime(2026, 3, 31, 10, 0, 0, 1))
    books = Accounting(j)
    books.close_period(2026, 3)
    [row] = [r for r in books.inventory_summary(2026, 3) if r.item == "F"]
    assert row.closing_qty == D(6)
    with pytest.raises(JxcError) as info:  # March is closed now: no more late entries
        _post(docs, "delivery", "F", 1, "5.00", "C", date=dt.date(2026, 3, 31))
    assert info.value.code == "period_closed"
    assert j.balance("F", "W").on_hand == D(6)


def test_an_aware_clock_keeps_the_day_of_its_timezone(storage: Storage) -> None:
    clock = HandClock(dt.datetime(2026, 3, 2, 16, 0, tzinfo=CST))
    j, docs = _shop(storage, clock)
    _post(docs, "purchase_receipt", "F", 10, "2.00", "S")
    clock.at = dt.datetime(2026, 3, 3, 0, 30, tzinfo=CST)
    late = _post(docs, "delivery", "F", 4, "5.00", "C", date=dt.date(2026, 3, 2))
    # just after the receipt of 2026-03-02 16:00+08:00, kept in UTC
    assert _moments(j, "F")[-1] == (late, dt.datetime(2026, 3, 2, 8, 0, 0, 1, tzinfo=dt.UTC))


def test_the_day_end_caps_the_moment(storage: Storage) -> None:
    """A movement at the day's very last moment (posted so through ``Jxc.post``): a document
    entered late for that day goes at that moment too, after it by entry number, not into the
    next day."""
    clock = HandClock(dt.datetime(2026, 3, 3, 9, 0))
    j, docs = _shop(storage, clock)
    last = dt.datetime(2026, 3, 2, 23, 59, 59, 999999)
    j.receive("F", "W", D(5), D("1.00"), doc_id="RK-LAST", posted_at=last)
    late = _post(docs, "delivery", "F", 2, "5.00", "C", date=dt.date(2026, 3, 2))
    assert _moments(j, "F") == [("RK-LAST", last), (late, last)]
    assert j.balance("F", "W").on_hand == D(3)


def test_a_charge_cancelled_before_a_delivery_entered_after_it_for_its_day(
        storage: Storage) -> None:
    """An invoice's price difference and a delivery, both dated an earlier day and entered in
    that order: the invoice's cancellation goes back to the moment it was charged, before the
    delivery (which has a moment of its own), and the replay takes the charge out of the
    delivery's cost; the delivery and the receipt can then be cancelled, every role nets to
    zero. When both shared the day's last moment the cancellation came after the delivery,
    left 1.64 in cost of goods sold and the receipt could not be cancelled."""
    clock = HandClock(dt.datetime(2026, 3, 9, 9, 0))
    j, docs = _shop(storage, clock)
    rk = _post(docs, "purchase_receipt", "F", 6, "10.35", "S", date=dt.date(2026, 3, 2))
    clock.at = dt.datetime(2026, 3, 9, 9, 1)
    fp = docs.create("purchase_invoice", [Line(1, "F", D(6), D("9.94"), warehouse="W",
                                               source=(rk, 1))],
                     party="S", date=dt.date(2026, 3, 6))
    docs.approve_through(fp.doc_id, [BOSS])
    clock.at = dt.datetime(2026, 3, 9, 9, 2)
    ck = _post(docs, "delivery", "F", 4, "30.00", "C", date=dt.date(2026, 3, 6))
    for doc_id in (fp.doc_id, ck, rk):
        clock.at += dt.timedelta(minutes=1)
        docs.cancel(doc_id, BOSS)
    b = j.balance("F", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))
    assert _unbalanced_roles(docs) == {}


@pytest.mark.parametrize(("item", "price"), [
    ("F", "10.00"), ("F", "12.50"), ("M", "12.50")])
def test_a_receipt_whose_return_was_cancelled_after_another_receipt_was(
        storage: Storage, item: str, price: str) -> None:
    """R4 (03-04) and R8 (03-08, at ``price``) received, R4's 3 units returned to the supplier
    at 11.00 (03-08); R8 cancelled the next day while the return is still posted (not newest
    first), then the return, then R4. R8's reversal sits between the return and the return's
    reversal (both entered late, each just after the day's last movement). R4's back-dated
    cancellation replays the day: the return and its reversal are passed over as a void pair,
    R8's reversal between them taking R8's own units back at their own value (it nets R8 to
    zero, R8 came in before the return), so R4 goes through and every role nets to zero.
    Until 2026-12-16 the pair was replayed: the return took R8's units there, R8's reversal
    went short, and R4 was refused (``insufficient_stock``) though its 3 units were on hand.
    Moving average alike since 2026-12-17: R8's reversal emptied the stock and took the 45.71
    left there (the return had left at the average), less than R8's own 50.00; the pair is
    passed over all the same and the replay takes R8's units back at their own 50.00 (a
    correction of -4.29 of R8's reversal, its price difference taken back). Until then the
    pair was replayed and R4 refused."""
    clock = HandClock(dt.datetime(2026, 3, 8, 7, 0))
    j, docs = _shop(storage, clock)
    r4 = _post(docs, "purchase_receipt", item, 3, "10.00", "S", date=dt.date(2026, 3, 4))
    clock.at = dt.datetime(2026, 3, 8, 7, 43)
    r8 = _post(docs, "purchase_receipt", item, 4, price, "S")
    clock.at = dt.datetime(2026, 3, 8, 19, 18)
    th = docs.create("purchase_return", [Line(1, item, D(3), D("11.00"), warehouse="W",
                                              source=(r4, 1))], party="S")
    docs.approve_through(th.doc_id, [BOSS])
    b = j.balance(item, "W")
    # moving average: the return leaves at the average, 3 x 80.00 / 7 = 34.29
    assert (b.on_hand, b.value) == (D(4), D(price) * 4 if item == "F" else D("45.71"))
    clock.at = dt.datetime(2026, 3, 9, 10, 0)
    docs.cancel(r8, BOSS)
    b = j.balance(item, "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))
    clock.at = dt.datetime(2026, 3, 10, 10, 0)
    docs.cancel(th.doc_id, BOSS)
    b = j.balance(item, "W")
    # back at the value they left with (moving average: 34.29, not R4's 30.00)
    assert (b.on_hand, b.value) == (D(3), D("30.00") if item == "F" else D("34.29"))
    docs.cancel(r4, BOSS)
    b = j.balance(item, "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))
    assert _unbalanced_roles(docs) == {}


def test_moving_average_the_reversal_between_the_pair_is_taken_back_at_its_own_value(
        storage: Storage) -> None:
    """The moving-average case above, figure by figure (docs/decisions.md, 2026-12-17): R4 3 @
    10.00, R8 4 @ 12.50 (7 / 80.00); R4's units returned at the average (34.29); R8's
    reversal takes the 45.71 left (price difference -4.29); the return's reversal brings the
    34.29 back. R4's cancellation, dated 03-04, passes over the return and its reversal: R8's
    reversal, replayed on R8's units alone, takes their own 50.00 (a correction of -4.29,
    booked with R4's cancellation, which takes R4's 30.00 and the 4.29 back from price
    difference). Every role nets to zero, the stock is 0 / 0.00."""
    clock = HandClock(dt.datetime(2026, 3, 8, 7, 0))
    j, docs = _shop(storage, clock)
    r4 = _post(docs, "purchase_receipt", "M", 3, "10.00", "S", date=dt.date(2026, 3, 4))
    clock.at = dt.datetime(2026, 3, 8, 7, 43)
    r8 = _post(docs, "purchase_receipt", "M", 4, "12.50", "S")
    clock.at = dt.datetime(2026, 3, 8, 19, 18)
    th = docs.create("purchase_return", [Line(1, "M", D(3), D("11.00"), warehouse="W",
                                              source=(r4, 1))], party="S")
    docs.approve_through(th.doc_id, [BOSS])
    for doc_id, day in ((r8, 9), (th.doc_id, 10), (r4, 10)):
        clock.at = dt.datetime(2026, 3, day, 10, 0)
        docs.cancel(doc_id, BOSS)

    def booked(doc_id: str) -> dict[str, Decimal]:
        rows = [r for r in docs.journal() if r.doc_id == doc_id]
        return {role: sum((r.debit - r.credit for r in rows if r.role == role), D(0))
                for role in sorted({r.role for r in rows})}

    assert [(e.entry.kind, e.entry.doc_id, e.entry.quantity, e.entry.value)
            for e in j.ledger("M", "W") if e.entry.doc_id.endswith("-R")] == [
        ("receipt_reversal", f"{r4}-R", -3, D("-30.00")),
        ("receipt_reversal", f"{r8}-R", -4, D("-45.71")),
        ("return_reversal", f"{th.doc_id}-R", 3, D("34.29")),
        ("cost_backdating", f"{r8}-R", 0, D("-4.29"))]
    assert booked(f"{r8}-R") == {"grni": D("50.00"), "inventory": D("-45.71"),
                                 "price_difference": D("-4.29")}
    assert booked(f"{r4}-R") == {"grni": D("30.00"), "inventory": D("-34.29"),
                                 "price_difference": D("4.29")}
    b = j.balance("M", "W")
    assert (b.on_hand, b.value) == (D(0), D("0.00"))
    assert _unbalanced_roles(docs) == {}


@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
def test_a_receipt_whose_transfer_was_cancelled_after_another_receipt_was_by_organisation(
        storage: Storage, method: str) -> None:
    """Costed by organisation (one scope per item): R4 3 @ 10.00 (03-04), R8 4 @ 12.50
    (03-08), 3 transferred W -> V (03-08); R8 cancelled, then the transfer, then R4. R8's
    reversal lies between the transfer and its cancellation in W. Inside one scope a transfer
    moves no value (it is shown at the average: 34.29 out, 30.00 back), so its pair does not
    net to zero in value; the stock check of W passes over it by quantities (docs/decisions.md,
    2026-12-16) and R4 goes: W and V end 0 / 0.00 and every role nets to zero. Before, R4 was
    refused (``insufficient_stock``) though W held its 3 units."""
    shop = _OrgShop(storage, method)
    r4 = shop.post("purchase_receipt", Line(1, "X", D(3), D("10.00"), warehouse="W"), 4, "S")
    r8 = shop.post("purchase_receipt", Line(1, "X", D(4), D("12.50"), warehouse="W"), 8, "S")
    t = shop.post("transfer", Line(1, "X", D(3), D(0), warehouse="W", to_warehouse="V"), 8)
    assert shop.figures() == [(D(4), D("45.71")), (D(3), D("34.29"))]  # at the average
    shop.cancel(r8, t)
    assert shop.figures() == [(D(3), D("30.00")), (D(0), D("0.00"))]
    shop.cancel(r4)
    assert shop.figures() == [(D(0), D("0.00")), (D(0), D("0.00"))]
    assert _unbalanced_roles(shop.docs) == {}


@pytest.mark.parametrize("method", ["fifo", "lifo", "moving_average"])
def test_a_delivery_cancelled_around_a_transfer_cancellation_by_organisation(
        storage: Storage, method: str) -> None:
    """Costed by organisation: R1 2 @ 10.00 into W (03-02), R4 3 @ 20.00 into W (03-04), R5
    2 @ 11.00 into V (03-05); 3 transferred W -> V and 2 delivered from V (03-08); the
    transfer cancelled, then the delivery, then R5 and R4. The transfer's cancellation lies
    between the delivery and its cancellation; inside the one scope its legs (out of V, back
    into W) net to zero, and with the transfer's own legs the four entries are one void pair
    (docs/decisions.md, 2026-12-17). R1's cancellation, dated 03-02, passes over both pairs:
    everything ends 0 / 0.00 and every role nets to zero. Before, the replay of the scope
    kept the delivery, found no stock for it and refused R1 (``insufficient_stock``)."""
    shop = _OrgShop(storage, method)
    r1 = shop.post("purchase_receipt", Line(1, "X", D(2), D("10.00"), warehouse="W"), 2, "S")
    r4 = shop.post("purchase_receipt", Line(1, "X", D(3), D("20.00"), warehouse="W"), 4, "S")
    r5 = shop.post("purchase_receipt", Line(1, "X", D(2), D("11.00"), warehouse="V"), 5, "S")
    t = shop.post("transfer", Line(1, "X", D(3), D(0), warehouse="W", to_warehouse="V"), 8)
    i = shop.post("delivery", Line(1, "X", D(2), D("99.00"), warehouse="V"), 8, "C")
    shop.cancel(t, i, r5, r4)
    assert shop.figures() == [(D(2), D("20.00")), (D(0), D("0.00"))]
    shop.cancel(r1)
    assert shop.figures() == [(D(0), D("0.00")), (D(0), D("0.00"))]
    assert _unbalanced_roles(shop.docs) == {}
