"""Undoing documents newest first under FIFO/LIFO (红冲 in reverse order).

The cancellation of an issue (a delivery, a supplier return, an adjustment or count loss)
puts its units back into the layers they left, at the cost each left with: the receipt they
came from finds its own layer whole again, so it can be cancelled in turn, and the units
leave again in their old turn. A back-dated movement that changes what the issue took moves
its cancellation with it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.documents import Line, State
from jxc_core.errors import JxcError
from jxc_core.stock import Item

from . import support
from .support import BOSS, Shop

D = Decimal


@pytest.fixture(autouse=True)
def _books_see_the_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Shop.check_books`` compares the inventory account with the stock of these items."""
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "XFIFO", "XLIFO"])


def _item(shop: Shop, method: str) -> str:
    for m in ("fifo", "lifo"):  # both, as the books check reads both
        shop.jxc.define_item(Item(f"X{m.upper()}", f"{m} item", costing_method=m))
    return f"X{method.upper()}"


def _receipt(shop: Shop, item: str, qty: int, price: str, **kw: object) -> str:
    return shop.run("purchase_receipt", [Line(1, item, D(qty), D(price), warehouse="W1")],
                    "S1", **kw).doc_id


def _delivery(shop: Shop, item: str, qty: int, **kw: object) -> str:
    return shop.run("delivery", [Line(1, item, D(qty), D("99.00"), warehouse="W1")], "C1",
                    **kw).doc_id


def _landed(shop: Shop, receipt: str, amount: str, **kw: object) -> str:
    return shop.run("landed_cost", [Line(1, "freight", D(1), D(amount))], "S1",
                    attributes={"receipts": [receipt], "basis": "quantity"}, **kw).doc_id


def _cost(shop: Shop, doc_id: str) -> Decimal:
    return shop.counters(doc_id, 1, "cost")["cost"]


def _empty(shop: Shop, item: str) -> None:
    b = shop.jxc.balance(item, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))


@pytest.mark.parametrize("method", ["fifo", "lifo"])
def test_receipts_can_be_cancelled_after_their_delivery_was(shop: Shop, method: str) -> None:
    x = _item(shop, method)
    r1, r2 = _receipt(shop, x, 10, "10.00"), _receipt(shop, x, 10, "20.00")
    dl = _delivery(shop, x, 12)  # FIFO: 10 of R1 and 2 of R2; LIFO: 10 of R2 and 2 of R1
    assert _cost(shop, dl) == (D("140.00") if method == "fifo" else D("220.00"))
    shop.docs.cancel(dl, BOSS)
    for doc_id in (r2, r1):  # newest first, each at its own cost
        shop.docs.cancel(doc_id, BOSS)
        assert shop.docs.get(doc_id).state == State.CANCELLED
        assert shop.roles(doc_id).get("price_difference", D(0)) == 0
    _empty(shop, x)
    assert shop.net("grni") == 0
    shop.check_books()


def test_a_cancelled_delivery_leaves_again_in_its_old_turn(shop: Shop) -> None:
    x = _item(shop, "fifo")
    _receipt(shop, x, 10, "10.00")
    _receipt(shop, x, 10, "20.00")
    dl = _delivery(shop, x, 10)  # all of R1
    shop.docs.cancel(dl, BOSS)
    again = _delivery(shop, x, 10)
    assert _cost(shop, again) == D("100.00")  # R1's units again, not R2's
    shop.check_books()


def test_lifo_units_go_back_under_the_later_receipts(shop: Shop) -> None:
    x = _item(shop, "lifo")
    _receipt(shop, x, 10, "10.00")
    _receipt(shop, x, 10, "20.00")
    dl = _delivery(shop, x, 10)  # R2
    _receipt(shop, x, 10, "30.00")
    shop.docs.cancel(dl, BOSS)
    assert _cost(shop, _delivery(shop, x, 10)) == D("300.00")  # the newest, R3
    assert _cost(shop, _delivery(shop, x, 10)) == D("200.00")  # then R2, back in its place
    shop.check_books()


@pytest.mark.parametrize("method", ["fifo", "lifo"])
def test_a_receipt_after_its_cancelled_supplier_return(shop: Shop, method: str) -> None:
    x = _item(shop, method)
    r1 = _receipt(shop, x, 10, "10.00")
    r2 = _receipt(shop, x, 10, "20.00")
    ret = shop.run("purchase_return", [Line(1, x, D(4), D("10.00"), warehouse="W1",
                                            source=(r1, 1))], "S1").doc_id
    shop.docs.cancel(ret, BOSS)
    shop.docs.cancel(r1, BOSS)
    assert shop.roles(r1).get("price_difference", D(0)) == 0
    shop.docs.cancel(r2, BOSS)
    _empty(shop, x)
    shop.check_books()


@pytest.mark.parametrize("method", ["fifo", "lifo"])
def test_a_receipt_after_its_cancelled_adjustment_out(shop: Shop, method: str) -> None:
    x = _item(shop, method)
    r1 = _receipt(shop, x, 10, "10.00")
    out = shop.run("adjustment", [Line(1, x, D(-6), D(0), warehouse="W1")]).doc_id
    shop.docs.cancel(out, BOSS)
    shop.docs.cancel(r1, BOSS)
    _empty(shop, x)
    shop.check_books()


def test_a_partial_cancellation_chain_of_two_deliveries(shop: Shop) -> None:
    x = _item(shop, "fifo")
    r1 = _receipt(shop, x, 10, "10.00")
    r2 = _receipt(shop, x, 10, "20.00")
    d1 = _delivery(shop, x, 6)   # 6 of R1
    d2 = _delivery(shop, x, 8)   # 4 of R1, 4 of R2
    assert (_cost(shop, d1), _cost(shop, d2)) == (D("60.00"), D("120.00"))
    shop.docs.cancel(d1, BOSS)   # the older one first: R1 gets 6 back
    with pytest.raises(Exception) as err:  # R1 still lacks the 4 that d2 holds
        shop.docs.cancel(r1, BOSS)
    assert getattr(err.value, "code", "") == "reversal_impossible"
    shop.docs.cancel(d2, BOSS)
    shop.docs.cancel(r1, BOSS)
    shop.docs.cancel(r2, BOSS)
    _empty(shop, x)
    shop.check_books()


def test_a_back_dated_receipt_moves_the_cancellation_with_its_issue(shop: Shop) -> None:
    """The delivery took R1; after its cancellation a receipt dated before R1 makes the
    delivery take that one instead (FIFO): the cancellation goes back into it, so both
    receipts can still be cancelled, each finding its own layer whole."""
    x = _item(shop, "fifo")
    r1 = _receipt(shop, x, 10, "10.00")
    dl = _delivery(shop, x, 5)
    shop.docs.cancel(dl, BOSS)
    earlier = shop.jxc.clock.now().date() - dt.timedelta(days=3)  # type: ignore[attr-defined]
    r0 = _receipt(shop, x, 5, "8.00", date=earlier)
    shop.docs.cancel(r0, BOSS)
    shop.docs.cancel(r1, BOSS)
    _empty(shop, x)
    shop.check_books()


def test_restored_layers_survive_a_reopened_store(tmp_path: object) -> None:
    from pathlib import Path

    from jxc_core.adapters import SqliteStorage
    from jxc_core.services import Documents, Jxc

    from .support import TickingClock, setup_master

    path = str(Path(str(tmp_path)) / "undo.db")
    clock = TickingClock()
    first = SqliteStorage(path)
    j = Jxc(first, clock=clock)
    setup_master(j)
    shop = Shop(j, Documents(j))
    x = _item(shop, "fifo")
    r1 = _receipt(shop, x, 10, "10.00")
    dl = _delivery(shop, x, 10)
    shop.docs.cancel(dl, BOSS)
    first.close()
    again = SqliteStorage(path)
    j2 = Jxc(again, clock=clock)
    shop2 = Shop(j2, Documents(j2))
    shop2.docs.cancel(r1, BOSS)
    _empty(shop2, x)
    again.close()


@pytest.mark.parametrize("method", ["fifo", "lifo"])
def test_a_receipt_after_its_cancelled_transfer(shop: Shop, method: str) -> None:
    x = _item(shop, method)
    r1 = _receipt(shop, x, 10, "10.00")
    r2 = _receipt(shop, x, 10, "20.00")
    tr = shop.run("transfer", [Line(1, x, D(12), D(0), warehouse="W1", to_warehouse="W2")])
    shop.docs.cancel(tr.doc_id, BOSS)
    shop.docs.cancel(r2, BOSS)
    shop.docs.cancel(r1, BOSS)
    _empty(shop, x)
    assert shop.jxc.balance(x, "W2").on_hand == 0
    shop.check_books()


def test_a_transfer_chain_through_one_warehouse_can_be_cancelled(shop: Shop) -> None:
    """W1 -> W2 -> W1 in one document: the units coming back into W1 on the second line
    form a layer of their own there; cancelled last line first, each leg goes back into the
    layers it left, and the receipt is whole again."""
    x = _item(shop, "fifo")
    r1 = _receipt(shop, x, 10, "10.00")
    tr = shop.run("transfer", [Line(1, x, D(4), D(0), warehouse="W1", to_warehouse="W2"),
                               Line(2, x, D(4), D(0), warehouse="W2", to_warehouse="W1")])
    shop.docs.cancel(tr.doc_id, BOSS)
    shop.docs.cancel(r1, BOSS)
    _empty(shop, x)
    shop.check_books()


# -- property: whatever was posted, undoing it newest first goes through ---------------------
_STEP = st.tuples(st.sampled_from(["receipt", "delivery", "return", "adjust", "transfer",
                                   "customer_return", "landed"]),
                  st.sampled_from(["XFIFO", "XLIFO"]), st.integers(1, 9), st.integers(1, 40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_STEP, min_size=1, max_size=12))
def test_undoing_everything_newest_first_always_goes_through(
        steps: list[tuple[str, str, int, int]]) -> None:
    """Random receipts, deliveries, supplier and customer returns, adjustments out,
    transfers and landed costs of a FIFO and a LIFO item (a step stock cannot serve is
    skipped); then every posted document is cancelled, the newest first: none is refused,
    and the stock ends at zero units worth 0.00 in both warehouses, with the books balanced
    and every role netting to zero."""
    from jxc_core.adapters import MemoryStorage
    from jxc_core.services import Documents, Jxc

    from .support import TickingClock, setup_master

    j = Jxc(MemoryStorage(), clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    for m in ("fifo", "lifo"):
        _item(shop, m)
    posted: list[str] = []
    receipts: list[tuple[str, str, int]] = []  # (doc_id, item, quantity)
    deliveries: list[tuple[str, str, int]] = []
    for kind, x, q, cents in steps:
        on_hand = int(j.balance(x, "W1").on_hand)
        if kind == "receipt":
            doc = _receipt(shop, x, q, f"{cents}.{q:02d}")
            receipts.append((doc, x, q))
        elif kind == "delivery" and q <= on_hand:
            doc = _delivery(shop, x, q)
            deliveries.append((doc, x, q))
        elif kind == "return" and receipts and q <= on_hand:
            src, item, got = receipts[cents % len(receipts)]
            if item != x or q > got:
                continue
            doc = shop.run("purchase_return", [Line(1, x, D(q), D("1.00"), warehouse="W1",
                                                    source=(src, 1))], "S1").doc_id
            receipts[cents % len(receipts)] = (src, item, got - q)
        elif kind == "customer_return" and deliveries:
            src, item, got = deliveries[cents % len(deliveries)]
            if item != x or q > got:
                continue
            doc = shop.run("sales_return", [Line(1, x, D(q), D("99.00"), warehouse="W1",
                                                 source=(src, 1))], "C1").doc_id
            deliveries[cents % len(deliveries)] = (src, item, got - q)
        elif kind == "landed" and receipts:
            doc = _landed(shop, receipts[cents % len(receipts)][0], f"{q}.{cents:02d}")
        elif kind == "adjust" and q <= on_hand:
            doc = shop.run("adjustment", [Line(1, x, D(-q), D(0), warehouse="W1")]).doc_id
        elif kind == "transfer" and q <= on_hand:
            doc = shop.run("transfer", [Line(1, x, D(q), D(0), warehouse="W1",
                                             to_warehouse="W2")]).doc_id
        else:
            continue
        posted.append(doc)
    for doc_id in reversed(posted):
        shop.docs.cancel(doc_id, BOSS)
    for x in ("XFIFO", "XLIFO"):
        for wh in ("W1", "W2"):
            b = j.balance(x, wh)
            assert (b.on_hand, b.value) == (0, D("0.00"))
    shop.check_books()
    _nets_to_zero(shop)


@pytest.mark.parametrize("method", ["fifo", "lifo"])
def test_a_landed_cost_on_a_sold_out_receipt_does_not_block_later_cancellations(
        shop: Shop, method: str) -> None:
    """Finding what the delivery took replays the scope: a landed cost on a receipt whose
    units had all left is split again as it was (its record), not refused as unknown."""
    x = _item(shop, method)
    ra = _receipt(shop, x, 10, "10.00")
    _delivery(shop, x, 10)
    shop.run("landed_cost", [Line(1, "freight", D(1), D("7.00"))], "S1",
             attributes={"receipts": [ra], "basis": "quantity"})
    _receipt(shop, x, 5, "20.00")
    dl = _delivery(shop, x, 3)
    shop.docs.cancel(dl, BOSS)
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (5, D("100.00"))
    shop.check_books()


@pytest.mark.parametrize(("method", "costs"), [
    ("fifo", [D("10.00")] * 2 + [D("20.00")] * 10),
    ("lifo", [D("20.00")] * 2 + [D("10.00")] * 10),
])
def test_a_back_dated_issue_after_a_cancellation_leaves_the_stock_as_without_it(
        shop: Shop, method: str, costs: list[Decimal]) -> None:
    """R1 10@10, R2 10@20; a delivery of 5 cancelled; then a delivery of 8 dated before it.
    The replay finds that the cancelled delivery now took other layers: its cancellation goes
    back into those, at what it took there, and the difference is a correction of the
    cancellation (it nets the delivery's own correction). The stock is as if the cancelled
    delivery had never been posted: 12 units, each at its receipt's cost."""
    x = _item(shop, method)
    clock = shop.jxc.clock
    clock.at += dt.timedelta(days=10)  # type: ignore[attr-defined]
    _receipt(shop, x, 10, "10.00")
    _receipt(shop, x, 10, "20.00")
    clock.at += dt.timedelta(days=10)  # type: ignore[attr-defined]
    shop.docs.cancel(_delivery(shop, x, 5), BOSS)
    _delivery(shop, x, 8, date=clock.now().date() - dt.timedelta(days=5))  # type: ignore[attr-defined]
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (12, sum(costs, D(0)))
    assert [_cost(shop, _delivery(shop, x, 1)) for _ in range(12)] == costs
    shop.check_books()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_transfer_costed_by_organisation_can_be_cancelled(kind: str, tmp_path: object
                                                            ) -> None:
    """Costed by organisation a transfer moves no value and makes no layer: its cancellation
    has no layer to check (it was always ``reversal_impossible``)."""
    from pathlib import Path

    from jxc_core.adapters import MemoryStorage, SqliteStorage
    from jxc_core.services import Documents, Jxc

    from .support import TickingClock, setup_master

    storage = (MemoryStorage() if kind == "memory"
               else SqliteStorage(str(Path(str(tmp_path)) / "org.db")))
    j = Jxc(storage, clock=TickingClock(), organisation_scope=True)
    setup_master(j)
    shop = Shop(j, Documents(j))
    r1 = shop.receipt([Line(1, "A", D(10), D("3.00"), warehouse="W1")]).doc_id
    shop.receipt([Line(1, "A", D(5), D("7.00"), warehouse="W2")])
    tr = shop.run("transfer", [Line(1, "A", D(2), D(0), warehouse="W1", to_warehouse="W2")])
    shop.docs.cancel(tr.doc_id, BOSS)
    assert (shop.qty("A", "W1"), shop.qty("A", "W2")) == (10, 5)
    assert shop.jxc.balance("A").value == D("65.00")
    shop.docs.cancel(r1, BOSS)  # and what it came after
    assert shop.jxc.balance("A").value == D("35.00")
    storage.close()


# -- specific identification: one lot received at several prices --------------------------
def _lot_item(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> str:
    """The specific-lot item XLOT, which ``check_books`` reads from now on (with the FIFO
    and LIFO items, defined too)."""
    _item(shop, "fifo")
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS, "XLOT"])
    shop.jxc.define_item(Item("XLOT", "lot item", costing_method="specific_lot",
                              lot_tracked=True))
    return "XLOT"


def _lot_line(x: str, qty: int, price: str, lot: str = "L1", **kw: object) -> Line:
    return Line(1, x, D(qty), D(price), warehouse="W1", lot=lot, **kw)  # type: ignore[arg-type]


def _nets_to_zero(shop: Shop) -> None:
    """Every role nets to zero over the journal (a back-dated cancellation books the
    corrections of the later issues it re-values: in its own rows, not theirs)."""
    roles = {r.role for r in shop.journal()}
    assert {role: shop.net(role) for role in roles if shop.net(role)} == {}


def _days_ago(shop: Shop, n: int) -> dt.date:
    return shop.jxc.clock.now().date() - dt.timedelta(days=n)  # type: ignore[attr-defined]


@pytest.mark.parametrize("second", ["receipt", "adjustment", "receipt_returned"])
def test_a_lot_received_at_two_prices_undone_newest_first_nets_by_role(
        shop: Shop, second: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lot L1 received at 9.99 (3) and then at 7.01 (1) merges into one layer (36.98 for
    4): the second receipt's cancellation takes its unit at 9.25, 2.24 of price
    difference. The first receipt's cancellation is dated at it, before the second
    receipt: it re-values that cancellation to 7.01 (a ``cost_backdating`` correction).
    The correction went to cost of goods sold while the 2.24 stayed in price difference:
    price_difference +2.24, cogs -2.24 left over. It goes where the re-valued issue booked
    its cost (price difference for a receipt's cancellation and a supplier return, the
    adjustment role for an adjustment): with every document cancelled, every role nets to
    zero."""
    x = _lot_item(shop, monkeypatch)
    r1 = shop.run("purchase_receipt", [_lot_line(x, 3, "9.99")], "S1",
                  date=_days_ago(shop, 7)).doc_id
    if second == "adjustment":
        r2 = shop.run("adjustment", [_lot_line(x, 1, "7.01")]).doc_id
        docs = [r2]
    else:
        r2 = shop.run("purchase_receipt", [_lot_line(x, 1, "7.01")], "S1").doc_id
        docs = [r2]
        if second == "receipt_returned":
            docs.append(shop.run("purchase_return", [_lot_line(x, 1, "7.01",
                                                               source=(r2, 1))],
                                 "S1").doc_id)
    for doc_id in reversed(docs):
        shop.docs.cancel(doc_id, BOSS)
    shop.docs.cancel(r1, BOSS)
    _nets_to_zero(shop)
    assert shop.net("cogs") == 0
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    shop.check_books()


def test_a_re_valued_lot_supplier_return_comes_back_at_what_it_cost(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """R1 receives 1 of L1 at 2.01; a supplier return of it; then R2, dated before the
    return, receives 1 at 1.01: the return now took 1.51 (the lot's average), a
    ``cost_backdating`` correction of 0.50. Its cancellation came back at 2.01, the value it
    posted: the pair no longer netted, so the replay of R1's cancellation (dated at R1)
    replayed the return where the lot was empty and refused it (``insufficient_stock``).
    The cancellation of a supplier return now comes back at what the return costs, its
    corrections counted (as a delivery's cancellation does). R2's cancellation takes its unit
    at its own cost (1.01, not the lot's average 1.51): the lot is as if R2 never was, and the
    return costs 2.01 again (a correction of -0.50), what its cancellation brings back."""
    x = _lot_item(shop, monkeypatch)
    r1 = shop.run("purchase_receipt", [_lot_line(x, 1, "2.01")], "S1",
                  date=_days_ago(shop, 3)).doc_id
    ret = shop.run("purchase_return", [_lot_line(x, 1, "1.00", source=(r1, 1))], "S1",
                   date=_days_ago(shop, 1)).doc_id
    r2 = shop.run("purchase_receipt", [_lot_line(x, 1, "1.01")], "S1",
                  date=_days_ago(shop, 2)).doc_id
    assert shop.counters(ret, 1, "stock_value")["stock_value"] == D("2.01")
    for doc_id in (r2, ret, r1):  # newest first
        shop.docs.cancel(doc_id, BOSS)
    back = [e.entry.value for e in shop.jxc.ledger(x, "W1")
            if e.entry.kind == "return_reversal"]
    assert back == [D("2.01")]
    assert sorted(e.entry.value for e in shop.jxc.ledger(x, "W1")
                  if e.entry.kind == "cost_backdating" and e.entry.doc_id == ret) == [
        D("-0.50"), D("0.50")]
    _nets_to_zero(shop)
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    shop.check_books()


_LOT_STEP = st.tuples(st.sampled_from(["receipt", "delivery", "return", "adjust",
                                       "customer_return"]),
                      st.sampled_from(["L1", "L2"]), st.integers(1, 9), st.integers(1, 40))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LOT_STEP, min_size=1, max_size=10))
def test_undoing_specific_lots_newest_first_nets_every_role(
        steps: list[tuple[str, str, int, int]]) -> None:
    """Receipts of two lots at several prices, deliveries, supplier and customer returns
    and adjustments of a specific-lot item, each dated a day after the one before in
    February (so every cancellation is dated at its document, before the later ones, and
    re-values them), then every posted document cancelled newest first: none is refused,
    stock ends at 0 / 0.00 and every role nets to zero."""
    from jxc_core.adapters import MemoryStorage
    from jxc_core.services import Documents, Jxc

    from .support import TickingClock, setup_master

    j = Jxc(MemoryStorage(), clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    with pytest.MonkeyPatch.context() as mp:
        _undo_lots(shop, _lot_item(shop, mp), steps)


def _undo_lots(shop: Shop, x: str, steps: list[tuple[str, str, int, int]]) -> None:
    j = shop.jxc
    posted: list[str] = []
    receipts: list[tuple[str, str, int]] = []
    deliveries: list[tuple[str, str, int]] = []
    for n, (kind, lot, q, cents) in enumerate(steps, 1):
        on = dt.date(2026, 2, n)
        try:
            if kind == "receipt":
                doc = shop.run("purchase_receipt", [_lot_line(x, q, f"{cents}.{q:02d}", lot)],
                               "S1", date=on).doc_id
                receipts.append((doc, lot, q))
            elif kind == "delivery":
                doc = shop.run("delivery", [_lot_line(x, q, "99.00", lot)], "C1",
                               date=on).doc_id
                deliveries.append((doc, lot, q))
            elif kind == "return" and receipts:
                src, rlot, got = receipts[cents % len(receipts)]
                doc = shop.run("purchase_return", [_lot_line(x, min(q, got), "1.00", rlot,
                                                             source=(src, 1))], "S1",
                               date=on).doc_id
            elif kind == "customer_return" and deliveries:
                src, dlot, got = deliveries[cents % len(deliveries)]
                doc = shop.run("sales_return", [Line(1, x, D(min(q, got)), D("99.00"),
                                                     warehouse="W1", lot=dlot,
                                                     source=(src, 1))], "C1",
                               date=on).doc_id
            elif kind == "adjust":
                doc = shop.run("adjustment", [_lot_line(x, q if cents % 2 else -q,
                                                        f"{cents}.00", lot)],
                               date=on).doc_id
            else:
                continue
        except JxcError as err:  # a step the stock (or what is left to return) cannot serve
            assert err.code in ("insufficient_stock", "over_receipt", "backdated_posting")
            continue
        posted.append(doc)
    for doc_id in reversed(posted):
        shop.docs.cancel(doc_id, BOSS)
    _nets_to_zero(shop)
    b = j.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    shop.check_books()


def test_a_lot_adjustment_cancelled_the_same_day_nets_every_role(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three receipts of L1 at 1.01 and an adjustment in at 1.00 (4 for 4.03), all cancelled
    newest first the same day (nothing back-dated, nothing re-valued): the adjustment's
    cancellation took 1.01 (the lot's average), the last receipt's 1.00 (what was left):
    adjustment +0.01, price_difference -0.01, though the stock ended at 0 / 0.00. Each
    cancellation now takes its own units at their own cost: every role nets to zero."""
    x = _lot_item(shop, monkeypatch)
    docs = [shop.run("purchase_receipt", [_lot_line(x, 1, "1.01")], "S1").doc_id
            for _ in range(3)]
    docs.append(shop.run("adjustment", [_lot_line(x, 1, "1.00")]).doc_id)
    for doc_id in reversed(docs):
        shop.docs.cancel(doc_id, BOSS)
    b = shop.jxc.balance(x, "W1")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    shop.check_books()
    _nets_to_zero(shop)


# -- landed costs between an issue and its cancellation -----------------------------------
@pytest.mark.parametrize("delivered", [0, 2])
@pytest.mark.parametrize("item", ["C", "B"])  # FIFO, moving average
def test_a_landed_cost_after_a_cancelled_issue_leaves_the_pair_void(
        shop: Shop, item: str, delivered: int) -> None:
    """A receipt of 6 (1 February); on 2 February [a delivery of 2 and] a supplier return of
    the rest tied to the receipt, then a landed cost of 9.76 on it. Undone newest first: the
    landed cost's cancellation and the return's are dated 2 February, after the landed cost;
    the receipt's is dated 1 February, before all of them, and replays the scope. The return
    and its cancellation are a void pair, passed over as never posted; the landed cost and
    its cancellation lying between them made the pair unrecognised, so the replay took the
    return again from a stock the receipt's cancellation had emptied: refused. A receipt
    cost cancelled in the same span is now a void pair of its own (its splits kept as
    posted), so none is refused, the stock ends at 0 / 0.00 and every role nets to zero."""
    _item(shop, "fifo")  # XFIFO and XLIFO, which the books check reads too
    posted = [shop.run("purchase_receipt", [Line(1, item, D(6), D("10.01"), warehouse="W1")],
                       "S1", date=dt.date(2026, 2, 1)).doc_id]
    receipt = posted[0]
    if delivered:
        posted.append(_delivery(shop, item, delivered, date=dt.date(2026, 2, 2)))
    posted.append(shop.run("purchase_return", [Line(1, item, D(6 - delivered), D("9.00"),
                                                    warehouse="W1", source=(receipt, 1))],
                           "S1", date=dt.date(2026, 2, 2)).doc_id)
    posted.append(_landed(shop, receipt, "9.76", date=dt.date(2026, 2, 2)))
    for doc_id in reversed(posted):
        shop.docs.cancel(doc_id, BOSS)
        assert shop.docs.get(doc_id).state == State.CANCELLED
    _empty(shop, item)
    _nets_to_zero(shop)
    shop.check_books()


def test_a_cancelled_customer_return_puts_nothing_back_for_its_delivery(shop: Shop) -> None:
    """Moving average: a receipt of 6 raised by a landed cost of 9.76, all 6 delivered and
    returned by the customer; undone newest first. The delivery's cancellation puts its
    units back into the receipt's row, less what its customer returns put back there — but
    the return was cancelled already, its units out of the row again: counted anyway, the
    units came back as a row of their own, the landed cost's cancellation found none of the
    receipt's units on hand (its 9.76 to cost of goods sold instead of out of stock) and the
    receipt's cancellation took the 9.76 left in stock as price difference: cogs -9.76,
    price_difference +9.76. Now every role nets to zero."""
    _item(shop, "fifo")  # XFIFO and XLIFO, which the books check reads too
    r = shop.run("purchase_receipt", [Line(1, "B", D(6), D("10.00"), warehouse="W1")],
                 "S1").doc_id
    lc = _landed(shop, r, "9.76")
    dl = _delivery(shop, "B", 6)
    ret = shop.run("sales_return", [Line(1, "B", D(6), D("99.00"), warehouse="W1",
                                         source=(dl, 1))], "C1").doc_id
    for doc_id in (ret, dl, lc):
        shop.docs.cancel(doc_id, BOSS)
    assert shop.roles(lc) == {"inventory": D(0), "payable": D(0)}
    shop.docs.cancel(r, BOSS)
    assert shop.roles(r).get("price_difference", D(0)) == 0
    _empty(shop, "B")
    _nets_to_zero(shop)
    shop.check_books()


_LANDED_STEP = st.tuples(st.sampled_from(["receipt", "delivery", "return", "customer_return",
                                          "landed", "transfer", "transfer_back", "undo"]),
                         st.integers(1, 9), st.integers(1, 40), st.booleans())


@pytest.mark.parametrize("item", ["C", "B"])  # FIFO, moving average (negative stock under
# moving average: a known limit, a delivery partly short cancelled on the day of its
# settlement, test_negative_stock_undo.py, strict xfail)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_LANDED_STEP, min_size=1, max_size=12), dated=st.booleans())
def test_undoing_landed_costs_newest_first_nets_every_role(
        item: str, steps: list[tuple[str, int, int, bool]], dated: bool) -> None:
    """Receipts, deliveries, supplier and customer returns, landed costs and transfers
    (W1 -> W2 and back) of one item (a step the stock cannot serve is skipped; XNEG, moving
    average allowing negative stock, delivers beyond it), either all posted now or dated in
    February, a step on the day of the one before or the next day (so several land on one
    day and the cancellations, dated at their documents, come before later ones and replay
    them); an ``undo`` step cancels the newest document still posted; then every posted
    document cancelled newest first: none is refused, the stock ends at 0 / 0.00 in both
    warehouses and every role nets to zero."""
    from jxc_core.adapters import MemoryStorage
    from jxc_core.services import Documents, Jxc

    from .support import TickingClock, setup_master

    j = Jxc(MemoryStorage(), clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    _item(shop, "fifo")  # XFIFO and XLIFO, which the books check reads too
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(support, "ITEMS", [*support.ITEMS, "XNEG"])
        j.define_item(Item("XNEG", "negative stock item", costing_method="moving_average",
                           allow_negative=True))
        _undo_with_landed_costs(shop, item, steps, dated)


def _undo_with_landed_costs(shop: Shop, item: str, steps: list[tuple[str, int, int, bool]],
                            dated: bool) -> None:
    j = shop.jxc
    short = item == "XNEG"
    posted: list[str] = []
    receipts: list[tuple[str, int]] = []  # (doc_id, units not returned to the supplier)
    deliveries: list[tuple[str, int]] = []  # (doc_id, units not returned by the customer)
    day = 1
    for kind, q, cents, next_day in steps:
        day += next_day
        kw: dict[str, object] = {"date": dt.date(2026, 2, day)} if dated else {}
        on_hand = int(j.balance(item, "W1").on_hand)
        if kind == "receipt":
            doc = _receipt(shop, item, q, f"{cents}.{q:02d}", **kw)
            receipts.append((doc, q))
        elif kind == "delivery" and (short or q <= on_hand):
            doc = _delivery(shop, item, q, **kw)
            deliveries.append((doc, q))
        elif kind in ("transfer", "transfer_back"):
            src, dst = ("W1", "W2") if kind == "transfer" else ("W2", "W1")
            if not 0 < q <= j.balance(item, src).on_hand:
                continue
            doc = shop.run("transfer", [Line(1, item, D(q), D(0), warehouse=src,
                                             to_warehouse=dst)], **kw).doc_id
        elif kind == "undo" and posted:
            gone = posted.pop()
            shop.docs.cancel(gone, BOSS)
            receipts = [r for r in receipts if r[0] != gone]
            deliveries = [d for d in deliveries if d[0] != gone]
            continue
        elif kind == "return" and receipts and q <= on_hand:
            src, left = receipts[cents % len(receipts)]
            if q > left:
                continue
            doc = shop.run("purchase_return", [Line(1, item, D(q), D("1.00"), warehouse="W1",
                                                    source=(src, 1))], "S1", **kw).doc_id
            receipts[cents % len(receipts)] = (src, left - q)
        elif kind == "customer_return" and deliveries:
            src, left = deliveries[cents % len(deliveries)]
            if q > left:
                continue
            doc = shop.run("sales_return", [Line(1, item, D(q), D("99.00"), warehouse="W1",
                                                 source=(src, 1))], "C1", **kw).doc_id
            deliveries[cents % len(deliveries)] = (src, left - q)
        elif kind == "landed" and receipts:
            doc = _landed(shop, receipts[cents % len(receipts)][0], f"{q}.{cents:02d}", **kw)
        else:
            continue
        posted.append(doc)
    for doc_id in reversed(posted):
        shop.docs.cancel(doc_id, BOSS)
    _empty(shop, item)
    b = j.balance(item, "W2")
    assert (b.on_hand, b.value) == (0, D("0.00"))
    _nets_to_zero(shop)
    shop.check_books()
