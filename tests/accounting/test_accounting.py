"""Vouchers, settlement, month-end close and the reports, on both adapters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.accounting import (
    AccountMapping,
    Formatter,
    build_voucher,
    chinese_mapping,
    english_mapping,
    to_csv,
)
from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse
from tests.costing.monthly_forms import listed_form

D = Decimal
U = User("boss")


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


class Rates:
    def __init__(self) -> None:
        self.table: dict[dt.date, Decimal] = {}

    def rate(self, from_currency: str, to_currency: str, on: dt.date) -> Decimal:
        assert (from_currency, to_currency) == ("USD", "CNY")
        known = [d for d in self.table if d <= on]
        return self.table[max(known)] if known else D("7.00")


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path
          ) -> Iterator[tuple[Jxc, Documents, Accounting, Clock, Rates]]:
    storage = MemoryStorage() if request.param == "memory" else SqliteStorage(
        str(tmp_path / "a.db"))
    clock = Clock(dt.datetime(2026, 11, 3, 10))
    rates = Rates()
    j = Jxc(storage, clock=clock, rates=rates)
    j.define_item(Item("A", "tea"))
    j.define_item(Item("M", "leaf", category="material", costing_method="moving_average"))
    j.define_warehouse(Warehouse("W", "main"))
    j.define_party(Party("S", "supplier", "supplier"))
    j.define_party(Party("C", "customer", "customer"))
    j.define_party(Party("X", "us customer", "customer"))
    yield j, Documents(j), Accounting(j), clock, rates
    storage.close()


def post(docs: Documents, kind: str, lines: list[Line], party: str = "",
         date: dt.date | None = None, currency: str = "CNY") -> str:
    doc = docs.create(kind, lines, party=party, date=date, currency=currency)
    docs.approve_through(doc.doc_id, [U])
    return doc.doc_id


def account_of(acc: Accounting, account: str) -> Decimal:
    return acc.account_balance(account)


def test_vouchers_for_each_document_and_the_books_agree_with_stock(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    j, docs, acc, _, _ = world
    rk = post(docs, "purchase_receipt", [
        Line(1, "A", D(10), D("10.00"), D("0.13"), warehouse="W"),
        Line(2, "M", D(4), D("2.26"), D("0.13"), True, warehouse="W")], "S",
        dt.date(2026, 11, 3))
    made = acc.generate_vouchers()
    assert len(made) == 1
    v = made[0]
    assert v.number == "记-2026-11-0001" and v.debit == v.credit == D("108.00")
    lines = {(x.account, x.debit, x.credit) for x in v.lines}
    # Dr 1405 库存商品 100.00, Dr 1403 原材料 8.00 / Cr 2202.02 暂估应付款 108.00
    assert lines == {("1405", D("100.00"), D(0)), ("1403", D("8.00"), D(0)),
                     ("2202.02", D(0), D("100.00")), ("2202.02", D(0), D("8.00"))}
    assert {x.doc_id for x in v.lines} == {rk} and {x.line_no for x in v.lines} == {1, 2}
    ck = post(docs, "delivery", [Line(1, "A", D(4), D("20"), D("0.13"), warehouse="W")], "C",
              dt.date(2026, 11, 4))
    post(docs, "sales_invoice", [Line(1, "A", D(4), D("20.00"), D("0.13"), source=(ck, 1))],
         "C", dt.date(2026, 11, 4))
    post(docs, "purchase_invoice", [Line(1, "A", D(10), D("11.00"), D("0.13"),
                                         source=(rk, 1))], "S", dt.date(2026, 11, 5))
    made = acc.generate_vouchers()
    assert [m.doc_type for m in made] == ["delivery", "sales_invoice", "purchase_invoice"]
    assert all(m.debit == m.credit for m in made)
    sale = {(x.account, x.debit, x.credit) for x in made[1].lines}
    # 4 x 20.00 = 80.00 + 13% = 10.40: Dr 1122 90.40 / Cr 6001 80.00, Cr 2221.01.02 10.40
    assert sale == {("1122", D("90.40"), D(0)), ("6001", D(0), D("80.00")),
                    ("2221.01.02", D(0), D("10.40"))}
    inv = {(x.account, x.debit, x.credit) for x in made[2].lines}
    # price difference 10.00: 6 of 10 on hand -> 6.00 to stock, 4.00 to COGS
    assert inv == {("2202.02", D("100.00"), D(0)), ("2221.01.01", D("14.30"), D(0)),
                   ("2202", D(0), D("124.30")), ("1405", D("6.00"), D(0)),
                   ("6401", D("4.00"), D(0))}
    stock = sum((j.balance(i, "W").value for i in ("A", "M")), D(0))
    assert account_of(acc, "1405") + account_of(acc, "1403") == stock == D("74.00")
    tb = acc.trial_balance()
    assert sum((r.debit for r in tb), D(0)) == sum((r.credit for r in tb), D(0))


def test_cancellation_gives_a_red_voucher(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    j, docs, acc, _, _ = world
    rk = post(docs, "purchase_receipt", [Line(1, "A", D(3), D("5.00"), warehouse="W")], "S",
              dt.date(2026, 11, 3))
    docs.cancel(rk, U)
    first, red = acc.generate_vouchers()
    assert not first.red and red.red and red.doc_id == f"{rk}-R"
    assert red.debit == red.credit == D("-15.00")
    assert account_of(acc, "1405") == j.balance("A", "W").value == D("0.00")


def test_fx_sale_and_settlement_with_exchange_difference(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    _, docs, acc, _, rates = world
    rates.table = {dt.date(2026, 11, 1): D("7.10"), dt.date(2026, 11, 20): D("7.20")}
    post(docs, "purchase_receipt", [Line(1, "A", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 3))
    ck = post(docs, "delivery", [Line(1, "A", D(2), D("100"), warehouse="W")], "X",
              dt.date(2026, 11, 4), currency="USD")  # the invoice's currency
    inv = post(docs, "sales_invoice", [Line(1, "A", D(2), D("100.00"), source=(ck, 1))], "X",
               dt.date(2026, 11, 4), currency="USD")
    items = acc.open_items("receivable", "X")
    assert [(i.doc_id, i.currency, i.open, i.rate) for i in items] == [
        (inv, "USD", D("200.00"), D("7.10"))]
    acc.settle("receivable", "X", D("50.00"), date=dt.date(2026, 11, 25), currency="USD")
    assert acc.open_items("receivable", "X")[0].open == D("150.00")
    with pytest.raises(JxcError) as err:
        acc.settle("receivable", "X", D("150.01"), date=dt.date(2026, 11, 25), currency="USD")
    assert err.value.code == "over_settlement"
    vouchers = acc.generate_vouchers()
    settle = vouchers[-1]
    got = {(x.account, x.debit, x.credit) for x in settle.lines}
    # bank gets 50 x 7.20 = 360.00; the invoice was booked at 7.10 = 355.00; gain 5.00
    assert got == {("1002", D("360.00"), D(0)), ("1122", D(0), D("355.00")),
                   ("6603", D(0), D("5.00"))}
    assert settle.debit == settle.credit
    aging = acc.aging("receivable", as_of=dt.date(2027, 1, 20))
    # aging is in the book currency, at the invoice's rate: 150.00 x 7.10
    assert [(a.party, a.days_61_90, a.total) for a in aging] == [("X", D("1065.00"),
                                                                   D("1065.00"))]


def test_close_locks_the_period_snapshot_and_reopen(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    j, docs, acc, clock, _ = world
    post(docs, "purchase_receipt", [Line(1, "A", D(10), D("3.00"), warehouse="W")], "S",
         dt.date(2026, 11, 3))
    draft = docs.create("adjustment", [Line(1, "A", D(1), D("3.00"), warehouse="W")],
                        date=dt.date(2026, 11, 20))
    with pytest.raises(JxcError) as err:
        acc.close_period(2026, 11, strict=True)
    assert err.value.code == "drafts_in_period"
    closed = acc.close_period(2026, 11, user="cfo")
    assert closed.warnings and draft.doc_id in closed.warnings[0]
    # nothing may be posted inside the closed month any more
    with pytest.raises(JxcError) as err:
        j.receive("A", "W", D(1), D(1), posted_at=dt.datetime(2026, 11, 30, 12))
    assert err.value.code == "period_closed"
    with pytest.raises(JxcError) as err:
        docs.approve_through(draft.doc_id, [U])
    assert err.value.code == "period_closed"
    clock.at = dt.datetime(2026, 12, 2, 9)
    j.issue("A", "W", D(4), posted_at=dt.datetime(2026, 12, 2, 9))
    # a historic balance reads the snapshot plus the period's own ledger
    assert j.balance("A", "W", as_of=dt.datetime(2026, 11, 30, 23)).on_hand == D(10)
    summary = acc.inventory_summary(2026, 12)
    assert [(r.item, r.opening_qty, r.opening_value, r.out_qty, r.closing_qty,
             r.closing_value) for r in summary] == [("A", D(10), D("30.00"), D(4), D(6),
                                                     D("18.00"))]
    assert summary[0].closing_value == j.balance("A", "W").value
    acc.reopen_period(2026, 11, user="cfo", reason="late invoice")
    j.receive("A", "W", D(1), D(1), posted_at=dt.datetime(2026, 12, 2, 10))
    log = acc.period_log()
    assert [e["action"] for e in log] == ["close", "reopen"] and log[1]["reason"]


def test_mapping_is_checked_when_loaded() -> None:
    with pytest.raises(JxcError) as err:
        AccountMapping.from_data({"accounts": {"1": "x"}, "rules": [
            {"role": "inventory", "account": "1"}]})
    assert err.value.code == "invalid_mapping" and "no default account" in err.value.message()
    with pytest.raises(JxcError):
        AccountMapping.from_data({"accounts": {"1": "x"}, "rules": [
            {"role": "inventory", "account": "9"}]})
    with pytest.raises(JxcError):
        AccountMapping.from_data({"accounts": {"1": "x"}, "rules": [
            {"role": "nonsense", "account": "1"}]})
    m = chinese_mapping()
    assert m.account_for("inventory") == "1405"
    assert m.account_for("inventory", category="material") == "1403"
    assert english_mapping().account_for("grni") == "2110"
    again = AccountMapping.from_data(m.to_data())
    assert again.to_data() == m.to_data()


def test_a_mapping_stored_before_credit_pending_books_it_to_payable() -> None:
    """A mapping saved by an embedder before the role existed still loads: the invoiced goods
    returned awaiting a red-letter invoice go to its payable account (a part of what is owed
    to suppliers); one that names a default for the role keeps it."""
    data = chinese_mapping().to_data()
    data["rules"] = [r for r in data["rules"] if r["role"] != "credit_pending"]
    old = AccountMapping.from_data(data)
    assert old.account_for("credit_pending") == old.account_for("payable") == "2202"
    assert chinese_mapping().account_for("credit_pending") == "2202.03"
    data["rules"] = [r for r in data["rules"] if r["role"] != "payable"]
    with pytest.raises(JxcError) as err:  # no payable either: both are missing
        AccountMapping.from_data(data)
    assert "payable" in err.value.message() and "credit_pending" in err.value.message()


def test_voucher_that_would_not_balance_is_refused() -> None:
    rows = [{"doc_type": "x", "doc_id": "D1", "line_no": 1, "role": "inventory",
             "debit": "10.00", "credit": "0", "date": "2026-11-01", "currency": "CNY"},
            {"doc_type": "x", "doc_id": "D1", "line_no": 1, "role": "grni", "debit": "0",
             "credit": "9.99", "date": "2026-11-01", "currency": "CNY"}]
    with pytest.raises(JxcError) as err:
        build_voucher(rows, chinese_mapping(), number="记-1")
    assert err.value.code == "unbalanced_voucher"


def test_reports_format_and_export() -> None:
    zh, en = Formatter("zh_CN"), Formatter("en_US", "USD")
    assert zh.money(D("1234.5")) == "¥1,234.50" and en.money(D("1234.50")) == "$1,234.50"
    assert en.date(dt.date(2026, 11, 25)) == "Nov 25, 2026"
    assert zh.date(dt.date(2026, 11, 25)) == "2026年11月25日"
    m = chinese_mapping()
    csv_text = to_csv(m.rules[:2])
    assert csv_text.splitlines()[0] == "role,account,doc_type,category,warehouse"
    assert csv_text.splitlines()[1] == "inventory,1405,,,"


def test_monthly_weighted_average_is_valued_at_the_close(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(5), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 3))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("12.00"), warehouse="W")], "S",
         dt.date(2026, 11, 4))
    j.issue("Q", "W", D(3), doc_id="LY-1")
    # during the month the issues are recorded by quantity only
    assert docs.get(ck).counters[1]["cost"] == D("0.00")
    assert j.balance("Q", "W").value == D("220.00")
    closed = acc.close_period(2026, 11)
    assert closed.monthly_issues == 2
    # unit cost (100 + 120) / 20 = 11.00: 5 -> 55.00, 3 -> 33.00, closing 12 -> 132.00
    lines = j.ledger("Q", "W")
    costs = {(x.entry.doc_id, x.entry.value) for x in lines if x.entry.kind == "period_cost"}
    assert costs == {(ck, D("-55.00")), ("LY-1", D("-33.00"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(12), D("132.00"))
    assert lines[-1].running_value == b.value
    close_voucher = [v for v in acc.vouchers() if v.doc_type == "period_close"]
    assert len(close_voucher) == 1 and close_voucher[0].debit == D("88.00")
    stock = sum((j.balance(i, "W").value for i in ("A", "M", "Q")), D(0))
    assert acc.account_balance("1405") + acc.account_balance("1403") == stock
    j.define_warehouse(Warehouse("W2", "second"))
    clock.at = dt.datetime(2026, 12, 1, 9)
    with pytest.raises(JxcError) as err:  # a per-warehouse monthly value is known at month end
        j.transfer("Q", "W", "W2", D(1))
    assert err.value.code == "configuration"


def _monthly_books_agree(j: Jxc, acc: Accounting) -> None:
    """After a close: every voucher balances, 1405 equals the stock valuation, the ledger's
    running value ends at the balance."""
    acc.generate_vouchers()
    assert all(v.debit == v.credit for v in acc.vouchers())
    b = j.balance("Q", "W")
    assert acc.account_balance("1405") == sum((j.balance(i, "W").value for i in ("A", "Q")),
                                              D(0))
    assert j.ledger("Q", "W")[-1].running_value == b.value


def _period_costs(j: Jxc) -> set[tuple[str, Decimal]]:
    return {(x.entry.doc_id, x.entry.value) for x in j.ledger("Q", "W")
            if x.entry.kind == "period_cost"}


@pytest.mark.parametrize(
    ("returned", "back", "cogs", "closing"),
    [
        pytest.param("5", "50.00", "0.00", ("10", "100.00"), id="whole_delivery_back"),
        pytest.param("2", "20.00", "30.00", ("7", "70.00"), id="partial_return"),
    ],
)
def test_monthly_average_sales_return_of_the_month_reduces_its_issues(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates], returned: str, back: str,
        cogs: str, closing: tuple[str, str]) -> None:
    """Receive 10 @ 10.00, deliver 5, take back 5 (or 2), close: the return is not a receipt at
    0.00 (which gave COGS 33.33 and 10 on hand at 66.67); it reduces the month's issues and is
    valued at the month's unit cost 10.00, like the delivery."""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(5), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 3))
    th = post(docs, "sales_return", [Line(1, "Q", D(returned), D("30"), warehouse="W",
                                          source=(ck, 1))], "C", dt.date(2026, 11, 4))
    # during the month: back on hand by quantity, the month's receipts unchanged
    assert docs.get(th).counters[1]["value"] == D("0.00")
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(5) + D(returned), D("100.00"))
    closed = acc.close_period(2026, 11)
    assert closed.monthly_issues == 2
    assert _period_costs(j) == {(ck, D("-50.00")), (th, D(back))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(closing[0]), D(closing[1]))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D(cogs)
    assert [r.cost for r in acc.gross_profit("item") if r.key == "Q"] == [D(cogs)]
    close_voucher = [v for v in acc.vouchers() if v.doc_type == "period_close"]
    assert len(close_voucher) == 1
    assert {(x.account, x.debit, x.credit) for x in close_voucher[0].lines} == {
        ("6401", D("50.00"), D(0)), ("1405", D(0), D("50.00")),
        ("1405", D(back), D(0)), ("6401", D(0), D(back))}
    # the documents carry the costs given at the close
    assert docs.get(ck).counters[1]["cost"] == D("50.00")
    assert docs.get(ck).counters[1]["returned_value"] == D(back)
    assert docs.get(th).counters[1]["value"] == D(back)


def test_monthly_average_sales_return_after_the_close_comes_back_at_the_closed_cost(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """3 units worth 100.00 delivered in November: the close gives the delivery 100.00. Taken
    back one by one in December they come back at the delivery's closed cost per unit,
    round half up, the last taking the rest: 33.33, 33.34 (66.67 / 2 = 33.335), 33.33 —
    not at December's average (a December receipt at 50.00)."""
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(1), D("33.34"), warehouse="W"),
                                    Line(2, "Q", D(2), D("33.33"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(3), D("60"), warehouse="W")], "C",
              dt.date(2026, 11, 3))
    acc.close_period(2026, 11)
    assert docs.get(ck).counters[1]["cost"] == D("100.00")  # was left at 0.00
    clock.at = dt.datetime(2026, 12, 1, 9)
    post(docs, "purchase_receipt", [Line(1, "Q", D(2), D("50.00"), warehouse="W")], "S",
         dt.date(2026, 12, 1))
    values = []
    for day in (2, 3, 4):
        th = post(docs, "sales_return", [Line(1, "Q", D(1), D("60"), warehouse="W",
                                              source=(ck, 1))], "C", dt.date(2026, 12, day))
        values.append(docs.get(th).counters[1]["value"])
    assert values == [D("33.33"), D("33.34"), D("33.33")]
    assert docs.get(ck).counters[1]["returned_value"] == D("100.00")
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(5), D("200.00"))
    acc.close_period(2026, 12)
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(5), D("200.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("0.00")  # November's 100.00 all came back


def test_monthly_average_cancelled_return_and_delivery_of_the_month(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Receive 10 @ 10.00. Deliver 5, take back 5, cancel that return (红冲), take back 3:
    the cancelled return leaves no trace in the month's figures, the delivery can be taken
    back again; COGS 20.00, 8 on hand at 80.00. A second delivery of 4, cancelled, nets to
    zero at the close (was: a receipt at 0.00 that lowered the month's average)."""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(5), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 3))
    th = post(docs, "sales_return", [Line(1, "Q", D(5), D("30"), warehouse="W",
                                          source=(ck, 1))], "C", dt.date(2026, 11, 4))
    docs.cancel(th, U)
    th2 = post(docs, "sales_return", [Line(1, "Q", D(3), D("30"), warehouse="W",
                                           source=(ck, 1))], "C", dt.date(2026, 11, 5))
    ck2 = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
               dt.date(2026, 11, 6))
    docs.cancel(ck2, U)
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(8), D("100.00"))
    acc.close_period(2026, 11)
    assert _period_costs(j) == {(ck, D("-50.00")), (th2, D("30.00")),
                                (ck2, D("-40.00")), (f"{ck2}-R", D("40.00"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(8), D("80.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("20.00")
    assert docs.get(th).counters[1]["value"] == D("0.00")  # cancelled before the close
    assert docs.get(ck).counters[1]["returned"] == D(3)
    assert docs.get(ck).counters[1]["returned_value"] == D("30.00")


def test_monthly_average_return_of_the_month_to_another_warehouse_is_refused(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Per warehouse, a return of a delivery of the open month goes back where it left: in
    another warehouse it would be a receipt at a cost known only at month end (it came in at
    0.00). After the close it is a receipt there at the delivery's closed cost."""
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    j.define_warehouse(Warehouse("W2", "second"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(5), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 3))
    th = docs.create("sales_return", [Line(1, "Q", D(2), D("30"), warehouse="W2",
                                           source=(ck, 1))], party="C",
                     date=dt.date(2026, 11, 4))
    with pytest.raises(JxcError) as err:
        docs.approve_through(th.doc_id, [U])
    assert err.value.code == "configuration" and "W" in err.value.message()
    assert j.balance("Q", "W2").on_hand == 0
    assert docs.get(ck).counters[1].get("returned", D(0)) == 0
    acc.close_period(2026, 11)
    clock.at = dt.datetime(2026, 12, 1, 9)
    th2 = post(docs, "sales_return", [Line(1, "Q", D(2), D("30"), warehouse="W2",
                                           source=(ck, 1))], "C", dt.date(2026, 12, 1))
    assert docs.get(th2).counters[1]["value"] == D("20.00")
    b = j.balance("Q", "W2")
    assert (b.on_hand, b.value) == (D(2), D("20.00"))


def _count(docs: Documents, counted: int, day: dt.date) -> str:
    """A stock count of Q in W that finds ``counted`` units, posted on ``day``."""
    pc = docs.create("stock_count", [Line(1, "Q", D(0), warehouse="W")], date=day)
    docs.submit(pc.doc_id, U)
    docs.record_count(pc.doc_id, {1: D(counted)})
    docs.approve(pc.doc_id, U)
    return docs.post(pc.doc_id, U).doc_id


def _close_voucher(acc: Accounting, period: str) -> set[tuple[str, Decimal, Decimal]]:
    found = [v for v in acc.vouchers() if v.doc_type == "period_close"
             and v.doc_id == f"YJ-{period}"]
    assert len(found) == 1
    return {(x.account, x.debit, x.credit) for x in found[0].lines}


@pytest.mark.parametrize("kind", ["adjustment", "stock_count"])
def test_monthly_average_cancelled_loss_takes_back_its_issue(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates], kind: str) -> None:
    """Receive 10 @ 10.00, take 3 out (an adjustment, or a count that finds 7), cancel it
    (红冲), close: the reversal takes back its own issue, the month's unit cost stays 10.00, the
    loss (30.00) and its reversal (30.00) cancel, 10 remain at 100.00. (It came back as a
    receipt at 0.00: unit 100.00 / 13, the loss cost 23.08, 10 left at 76.92.)"""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    if kind == "adjustment":
        out = post(docs, "adjustment", [Line(1, "Q", D(-3), D(0), warehouse="W")], "",
                   dt.date(2026, 11, 3))
    else:
        out = _count(docs, 7, dt.date(2026, 11, 3))
    docs.cancel(out, U)
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(10), D("100.00"))
    closed = acc.close_period(2026, 11)
    assert closed.monthly_issues == 2
    assert _period_costs(j) == {(out, D("-30.00")), (f"{out}-R", D("30.00"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(10), D("100.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("1901") == D("0.00")  # 待处理财产损溢: the loss is undone
    assert acc.account_balance("6401") == D("0.00")
    assert _close_voucher(acc, "2026-11") == {("1901", D("30.00"), D(0)),
                                              ("1405", D(0), D("30.00")),
                                              ("1405", D("30.00"), D(0)),
                                              ("1901", D(0), D("30.00"))}


def test_monthly_average_cancelled_purchase_return_takes_back_its_issue(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Receive 10 @ 10.00 and 10 @ 12.00, return 4 of the first to the supplier, cancel that
    return, deliver 5: the month's unit cost is 220.00 / 20 = 11.00 (with the cancelled
    return as a receipt at 0.00 it was 220.00 / 24); the return (44.00) and its reversal
    (44.00) cancel, the delivery costs 55.00, 15 remain at 165.00."""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    rk = post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
              dt.date(2026, 11, 2))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("12.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    th = post(docs, "purchase_return", [Line(1, "Q", D(4), D("10.00"), warehouse="W",
                                             source=(rk, 1))], "S", dt.date(2026, 11, 3))
    docs.cancel(th, U)
    ck = post(docs, "delivery", [Line(1, "Q", D(5), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 4))
    acc.close_period(2026, 11)
    assert _period_costs(j) == {(th, D("-44.00")), (f"{th}-R", D("44.00")),
                                (ck, D("-55.00"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(15), D("165.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("55.00")  # the delivery; the return nets to 0
    assert acc.account_balance("2202.02") == D("-220.00")
    assert docs.get(ck).counters[1]["cost"] == D("55.00")
    assert docs.get(rk).counters[1].get("returned", D(0)) == 0


@pytest.mark.parametrize("kind", ["purchase_receipt", "adjustment"])
def test_monthly_average_cancelled_receipt_of_the_month_leaves_its_receipts(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates], kind: str) -> None:
    """Receive 10 @ 10.00, bring in 5 more @ 40.00 (a purchase receipt, or an adjustment),
    deliver 4, cancel the 5: the reversal takes out the 200.00 they brought, the month's
    unit cost is as if they never came, 10.00: the delivery costs 40.00, 6 remain at 60.00.
    (They went out at the month's average 300.00 / 15 = 20.00, taking 100.00 of the 200.00
    they brought; the delivery cost 80.00 and 6 stayed at 120.00.)"""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    party = "S" if kind == "purchase_receipt" else ""
    extra = post(docs, kind, [Line(1, "Q", D(5), D("40.00"), warehouse="W")], party,
                 dt.date(2026, 11, 3))
    ck = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 4))
    docs.cancel(extra, U)
    reversal = [x.entry for x in j.ledger("Q", "W") if x.entry.doc_id == f"{extra}-R"]
    assert [(e.quantity, e.value) for e in reversal] == [(D(-5), D("-200.00"))]
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(6), D("100.00"))
    acc.close_period(2026, 11)
    assert _period_costs(j) == {(ck, D("-40.00"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(6), D("60.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("40.00")
    assert acc.account_balance("1901") == D("0.00")
    assert acc.account_balance("2202.02") == D("-100.00")


def test_monthly_average_cancelled_count_gain_leaves_the_receipts(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Receive 10 @ 10.00, count 15 (a gain of 5 at the average then, 50.00), receive 10 @
    25.00, deliver 4, cancel the count: the gain leaves with its 50.00, the month's receipts
    are 350.00 for 20, unit 17.50: the delivery costs 70.00, 16 remain at 280.00. (The gain
    went out at the month's average 400.00 / 25 = 16.00, 80.00; the delivery cost 64.00.)"""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    pc = _count(docs, 15, dt.date(2026, 11, 3))
    assert docs.get(pc).counters[1] == {"quantity": D(5), "value": D("50.00")}
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("25.00"), warehouse="W")], "S",
         dt.date(2026, 11, 4))
    ck = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 5))
    docs.cancel(pc, U)
    reversal = [x.entry for x in j.ledger("Q", "W") if x.entry.doc_id == f"{pc}-R"]
    assert [(e.quantity, e.value) for e in reversal] == [(D(-5), D("-50.00"))]
    acc.close_period(2026, 11)
    assert _period_costs(j) == {(ck, D("-70.00"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(16), D("280.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("70.00")
    assert acc.account_balance("1901") == D("0.00")


def test_monthly_average_count_gain_after_issues_is_valued_at_the_month_unit_cost(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Receive 10 @ 10.00, deliver 5, count 6: the gain of 1 is valued at the month's unit
    cost as it stands (100.00 / 10 = 10.00), not at the value over the units left (100.00 / 5,
    which left out the delivery not yet valued); the close: the delivery 50.00, 6 at 60.00.
    (It was 20.00: the delivery then cost 54.55 and 6 remained at 65.45.)"""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(5), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 3))
    pc = _count(docs, 6, dt.date(2026, 11, 4))
    assert docs.get(pc).counters[1] == {"quantity": D(1), "value": D("10.00")}
    acc.close_period(2026, 11)
    assert _period_costs(j) == {(ck, D("-50.00"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(6), D("60.00"))
    _monthly_books_agree(j, acc)


@pytest.mark.parametrize("close_november_first", [True, False])
def test_monthly_average_count_gain_of_a_later_open_month_uses_that_month_cost(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates], close_november_first: bool
) -> None:
    """November: receive 10 @ 10.00; December: receive 10 @ 30.00, count 21 (a gain of 1).
    The gain joins December's receipts and is valued at December's unit cost as it stands,
    (100.00 + 300.00) / 20 = 20.00, whether November is closed yet or not (it was November's
    10.00 while November was open)."""
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    clock.at = dt.datetime(2026, 12, 2, 9)
    if close_november_first:
        acc.close_period(2026, 11)
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("30.00"), warehouse="W")], "S",
         dt.date(2026, 12, 2))
    pc = _count(docs, 21, dt.date(2026, 12, 3))
    assert docs.get(pc).counters[1] == {"quantity": D(1), "value": D("20.00")}
    acc.close_period(2026, 12)
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(21), D("420.00"))
    _monthly_books_agree(j, acc)


def test_monthly_average_cancelled_return_of_a_closed_month_delivery_leaves_the_receipts(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """November: receive 10 @ 10.00, deliver 4 (closed: 40.00). December: receive 6 @ 20.00,
    take back 2 of November's delivery (a receipt at its closed cost, 20.00), deliver 3,
    cancel the return: it leaves with its 20.00, December's unit cost is (60.00 + 120.00) /
    12 = 15.00, the delivery costs 45.00, 9 remain at 135.00. (It went out at December's
    average 200.00 / 14: 28.57, the delivery 42.86, 9 left at 128.57.)"""
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 4))
    acc.close_period(2026, 11)
    clock.at = dt.datetime(2026, 12, 1, 9)
    post(docs, "purchase_receipt", [Line(1, "Q", D(6), D("20.00"), warehouse="W")], "S",
         dt.date(2026, 12, 1))
    th = post(docs, "sales_return", [Line(1, "Q", D(2), D("30"), warehouse="W",
                                          source=(ck, 1))], "C", dt.date(2026, 12, 2))
    assert docs.get(th).counters[1]["value"] == D("20.00")
    ck2 = post(docs, "delivery", [Line(1, "Q", D(3), D("30"), warehouse="W")], "C",
               dt.date(2026, 12, 3))
    docs.cancel(th, U)
    reversal = [x.entry for x in j.ledger("Q", "W") if x.entry.doc_id == f"{th}-R"]
    assert [(e.quantity, e.value) for e in reversal] == [(D(-2), D("-20.00"))]
    assert docs.get(ck).counters[1]["returned"] == 0
    assert docs.get(ck).counters[1]["returned_value"] == D("0.00")
    acc.close_period(2026, 12)
    assert docs.get(ck2).counters[1]["cost"] == D("45.00")
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(9), D("135.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("85.00")


def _november_and_december(world: tuple[Jxc, Documents, Accounting, Clock, Rates]
                           ) -> tuple[str, str]:
    """Q (monthly average) in W. November: receive 10 @ 10.00, deliver 4. December, posted
    before November closes: receive 10 @ 20.00, deliver 6. The two deliveries."""
    _, docs, _, clock, _ = world
    world[0].define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    nov = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
               dt.date(2026, 11, 5))
    clock.at = dt.datetime(2026, 12, 2, 9)
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("20.00"), warehouse="W")], "S",
         dt.date(2026, 12, 2))
    dec = post(docs, "delivery", [Line(1, "Q", D(6), D("30"), warehouse="W")], "C",
               dt.date(2026, 12, 3))
    return nov, dec


def test_monthly_average_close_values_only_the_months_own_movements(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """November: receive 10 @ 10.00, deliver 4. December, posted before November closes:
    receive 10 @ 20.00, deliver 6. Closing November values its delivery at November's 10.00
    (40.00) and leaves December alone (it gave both deliveries November 30th costs at
    (100.00 + 200.00) / 20 = 15.00: 60.00 and 90.00, and November ended at 6 worth -50.00).
    The November snapshot is 6 @ 60.00.
    A December return of the November delivery waits for November's close; then it comes back
    at the closed 10.00 and joins December: (60.00 + 200.00 + 10.00) / 17 -> the delivery
    costs 95.29, 11 remain at 174.71."""
    j, docs, acc, _, _ = world
    nov, dec = _november_and_december(world)
    early = docs.create("sales_return", [Line(1, "Q", D(1), D("30"), warehouse="W",
                                              source=(nov, 1))], party="C",
                        date=dt.date(2026, 12, 4))
    with pytest.raises(JxcError) as err:
        docs.approve_through(early.doc_id, [U])
    assert err.value.code == "issue_period_open"
    assert err.value.data["ref"] == f"{nov}/1"
    assert err.value.data["issue_period"] == "2026-11"
    assert docs.get(nov).counters[1].get("returned", D(0)) == 0
    docs.cancel(early.doc_id, U)
    closed = acc.close_period(2026, 11)
    assert closed.monthly_issues == 1
    assert _period_costs(j) == {(nov, D("-40.00"))}
    assert docs.get(nov).counters[1]["cost"] == D("40.00")
    assert docs.get(dec).counters[1]["cost"] == D("0.00")  # December is still open
    old = j.balance("Q", "W", as_of=dt.datetime(2026, 11, 30, 23, 59, 59, 999999))
    assert (old.on_hand, old.value) == (D(6), D("60.00"))
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(10), D("260.00"))
    _monthly_books_agree(j, acc)
    assert _close_voucher(acc, "2026-11") == {("6401", D("40.00"), D(0)),
                                              ("1405", D(0), D("40.00"))}
    th = post(docs, "sales_return", [Line(1, "Q", D(1), D("30"), warehouse="W",
                                          source=(nov, 1))], "C", dt.date(2026, 12, 4))
    assert docs.get(th).counters[1]["value"] == D("10.00")
    acc.close_period(2026, 12)
    assert docs.get(dec).counters[1]["cost"] == D("95.29")
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(11), D("174.71"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("125.29")
    assert [v.date for v in acc.vouchers() if v.doc_type == "period_close"] == [
        dt.date(2026, 11, 30), dt.date(2026, 12, 31)]


def test_reopening_a_month_keeps_the_months_its_close_locked_before_it(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Closing December with November still open values November first and locks both.
    Reopening December reopens December only: a November posting is still refused (it was
    accepted, and valued on top of December's figures: 32.50 instead of November's 10.00)."""
    j, docs, acc, _, _ = world
    nov, _ = _november_and_december(world)
    acc.close_period(2026, 12)
    acc.reopen_period(2026, 12, user="cfo", reason="late December invoice")
    late = docs.create("delivery", [Line(1, "Q", D(2), D("30"), warehouse="W")], party="C",
                       date=dt.date(2026, 11, 20))
    with pytest.raises(JxcError) as err:
        docs.approve_through(late.doc_id, [U])
    assert err.value.code == "period_closed"
    post(docs, "purchase_receipt", [Line(1, "Q", D(2), D("20.00"), warehouse="W")], "S",
         dt.date(2026, 12, 20))
    acc.close_period(2026, 12)
    assert docs.get(nov).counters[1]["cost"] == D("40.00")
    _monthly_books_agree(j, acc)


def test_monthly_average_closing_a_later_month_closes_the_earlier_one_first(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """The same November and December, closed at once by closing December: November's
    delivery is valued with November's figures (40.00, at 30 November, in YJ-2026-11), then
    December's with December's: (60.00 + 200.00) / 16 = 16.25, 97.50; 10 remain at 162.50.
    (Both were valued at December's close at 15.00: 60.00 and 90.00, 10 left at 150.00.)"""
    j, _, acc, _, _ = world
    nov, dec = _november_and_december(world)
    closed = acc.close_period(2026, 12)
    assert closed.monthly_issues == 2
    costs = {(x.entry.doc_id, x.entry.posted_at.date(), x.entry.value)
             for x in j.ledger("Q", "W") if x.entry.kind == "period_cost"}
    assert costs == {(nov, dt.date(2026, 11, 30), D("-40.00")),
                     (dec, dt.date(2026, 12, 31), D("-97.50"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(10), D("162.50"))
    _monthly_books_agree(j, acc)
    assert _close_voucher(acc, "2026-11") == {("6401", D("40.00"), D(0)),
                                              ("1405", D(0), D("40.00"))}
    assert _close_voucher(acc, "2026-12") == {("6401", D("97.50"), D(0)),
                                              ("1405", D(0), D("97.50"))}


def test_monthly_average_state_stored_before_months_were_named_still_closes(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """A scope stored in the earlier form keeps its open movements unnamed: they load, and the
    next close takes them with the month it closes; a December receipt posted since keeps to
    December."""
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 5))
    with j.storage.unit_of_work() as uow:  # the same movements, in the earlier form
        state = uow.valuations.get(("Q", "W"))
        assert state is not None
        state = listed_form(state)
        [[month, movements]] = state.pop("periods")
        assert month == "2026-11"
        movements.pop("receipt_refs")
        uow.valuations.put(("Q", "W"), {**state, **movements})
        uow.commit()
    j = Jxc(j.storage, clock=clock)  # nothing kept from before
    docs, acc = Documents(j), Accounting(j)
    clock.at = dt.datetime(2026, 12, 2, 9)
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("20.00"), warehouse="W")], "S",
         dt.date(2026, 12, 2))
    acc.close_period(2026, 11)
    assert _period_costs(j) == {(ck, D("-40.00"))}
    old = j.balance("Q", "W", as_of=dt.datetime(2026, 11, 30, 23, 59, 59, 999999))
    assert (old.on_hand, old.value) == (D(6), D("60.00"))
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(16), D("260.00"))
    _monthly_books_agree(j, acc)


def _gross(acc: Accounting, by: str, period: str | None = None
           ) -> dict[str, tuple[Decimal, Decimal]]:
    return {g.key: (g.revenue, g.cost) for g in acc.gross_profit(by, period)}


def test_monthly_average_gross_profit_by_customer_counts_the_month_end_cost(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Two customers buy Q (monthly average) and A (FIFO) in November; C returns one of each.

    Q: receive 10 @ 10.00 and 3 @ 12.00: unit cost (0.00 + 100.00 + 36.00) / (0 + 13) =
    10.461538...; the issues in order, each round_half_up, the residue on the last:
    C's delivery 3 -> 31.38 (31.3846), the direct issue LY-1 2 -> 20.92 (20.9231), the
    adjustment -1 -> 10.46, X's delivery 5 (the last) -> the residue; C's return 1 -> 10.46;
    closing 13 - 3 - 2 - 1 - 5 + 1 = 3 -> 31.38 (31.3846); so X's delivery costs
    136.00 - (31.38 + 20.92 + 10.46) + 10.46 - 31.38 = 52.32 (5 x 10.4615 = 52.3077 would be
    52.31).
    A (FIFO, for comparison): receive 10 @ 5.00, then 10 @ 6.00; C takes 2 (10.00) and returns
    1 (5.00); X takes 9: 8 x 5.00 + 1 x 6.00 = 46.00.
    Invoiced at 30.00 a Q and 12.00 an A: C 2 Q + 1 A = 72.00, X 5 Q + 9 A = 258.00.

    By customer: C 72.00 revenue, cost 31.38 - 10.46 + 10.00 - 5.00 = 25.92; X 258.00, cost
    52.32 + 46.00 = 98.32 (without the month-end cost: C 5.00, X 46.00).
    By item: Q 31.38 - 10.46 + 52.32 + 20.92 (LY-1, no customer's) = 94.16, A 51.00: 145.16 =
    25.92 + 98.32 + 20.92 = 6401. The adjustment's 10.46 goes to 1901, in neither."""
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))

    def on(day: int) -> dt.date:
        clock.at = dt.datetime(2026, 11, day, 10)
        return dt.date(2026, 11, day)

    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W"),
                                    Line(2, "A", D(10), D("5.00"), warehouse="W")], "S", on(2))
    ck_c = post(docs, "delivery", [Line(1, "Q", D(3), D("30"), warehouse="W"),
                                   Line(2, "A", D(2), D("12"), warehouse="W")], "C", on(3))
    post(docs, "purchase_receipt", [Line(1, "Q", D(3), D("12.00"), warehouse="W"),
                                    Line(2, "A", D(10), D("6.00"), warehouse="W")], "S", on(4))
    th = post(docs, "sales_return", [Line(1, "Q", D(1), D("30"), warehouse="W",
                                          source=(ck_c, 1)),
                                     Line(2, "A", D(1), D("12"), warehouse="W",
                                          source=(ck_c, 2))], "C", on(5))
    on(6)
    j.issue("Q", "W", D(2), doc_id="LY-1")  # a direct issue (领用): cogs, nobody's
    loss = post(docs, "adjustment", [Line(1, "Q", D(-1), D(0), warehouse="W")], "", on(7))
    ck_x = post(docs, "delivery", [Line(1, "Q", D(5), D("30"), warehouse="W"),
                                   Line(2, "A", D(9), D("12"), warehouse="W")], "X", on(9))
    post(docs, "sales_invoice", [Line(1, "Q", D(2), D("30.00"), source=(ck_c, 1)),
                                 Line(2, "A", D(1), D("12.00"), source=(ck_c, 2))], "C", on(10))
    post(docs, "sales_invoice", [Line(1, "Q", D(5), D("30.00"), source=(ck_x, 1)),
                                 Line(2, "A", D(9), D("12.00"), source=(ck_x, 2))], "X", on(10))
    # before the close the month-end cost is absent, by customer as by item
    assert _gross(acc, "customer") == {"C": (D("72.00"), D("5.00")),
                                       "X": (D("258.00"), D("46.00"))}
    assert _gross(acc, "item") == {"A": (D("120.00"), D("51.00")), "Q": (D("210.00"), D(0))}
    acc.close_period(2026, 11)
    assert _period_costs(j) == {(ck_c, D("-31.38")), ("LY-1", D("-20.92")),
                                (loss, D("-10.46")), (ck_x, D("-52.32")), (th, D("10.46"))}
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(3), D("31.38"))
    by_customer = {"C": (D("72.00"), D("25.92")), "X": (D("258.00"), D("98.32"))}
    assert _gross(acc, "customer") == by_customer
    assert _gross(acc, "customer", "2026-11") == by_customer
    by_item = _gross(acc, "item")
    assert by_item == {"A": (D("120.00"), D("51.00")), "Q": (D("210.00"), D("94.16"))}
    # by item = by customer + the costs that are no customer's (LY-1's 20.92)
    item_cost = sum((c for _, c in by_item.values()), D(0))
    assert item_cost == sum((c for _, c in by_customer.values()), D(0)) + D("20.92")
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == item_cost == D("145.16")
    assert acc.account_balance("1901") == D("10.46")  # the adjustment, in no gross profit
    # the month-end voucher names the customer on the lines of its deliveries and returns
    [close] = [v for v in acc.vouchers() if v.doc_type == "period_close"]
    assert close.debit == close.credit
    assert sorted((x.account, x.debit, x.credit, x.party) for x in close.lines) == sorted([
        ("6401", D("31.38"), D(0), "C"), ("1405", D(0), D("31.38"), "C"),
        ("6401", D("20.92"), D(0), ""), ("1405", D(0), D("20.92"), ""),
        ("1901", D("10.46"), D(0), ""), ("1405", D(0), D("10.46"), ""),
        ("6401", D("52.32"), D(0), "X"), ("1405", D(0), D("52.32"), "X"),
        ("1405", D("10.46"), D(0), "C"), ("6401", D(0), D("10.46"), "C")])
    # December: X takes 1 more Q, invoiced; its cost is December's, dated 31 December
    clock.at = dt.datetime(2026, 12, 2, 10)
    ck_dec = post(docs, "delivery", [Line(1, "Q", D(1), D("30"), warehouse="W")], "X",
                  dt.date(2026, 12, 2))
    post(docs, "sales_invoice", [Line(1, "Q", D(1), D("30.00"), source=(ck_dec, 1))], "X",
         dt.date(2026, 12, 2))
    assert _gross(acc, "customer", "2026-12") == {"X": (D("30.00"), D(0))}
    acc.close_period(2026, 12)
    # 3 @ 31.38: closing 2 -> 20.92, the delivery 31.38 - 20.92 = 10.46
    assert _gross(acc, "customer", "2026-12") == {"X": (D("30.00"), D("10.46"))}
    assert _gross(acc, "customer", "2026-11") == by_customer
    assert _gross(acc, "customer") == {"C": (D("72.00"), D("25.92")),
                                       "X": (D("288.00"), D("108.78"))}


def test_monthly_average_gross_profit_by_customer_nets_cancelled_documents_of_the_month(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Receive 10 @ 10.00 of Q (monthly average). C: delivery of 4 cancelled (红冲), delivery
    of 3 with 1 returned and that return cancelled; X: delivery of 2. At the close the
    cancellations take their issues back, at the cost of what they reverse: C's cost is
    30.00 (3 x 10.00), X's 20.00 — each cancellation (``-R``) counts for the customer of the
    document it reverses, as a FIFO red entry does."""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    gone = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
                dt.date(2026, 11, 3))
    docs.cancel(gone, U)
    ck = post(docs, "delivery", [Line(1, "Q", D(3), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 4))
    th = post(docs, "sales_return", [Line(1, "Q", D(1), D("30"), warehouse="W",
                                          source=(ck, 1))], "C", dt.date(2026, 11, 5))
    docs.cancel(th, U)
    post(docs, "delivery", [Line(1, "Q", D(2), D("30"), warehouse="W")], "X",
         dt.date(2026, 11, 6))
    acc.close_period(2026, 11)
    assert (gone, D("-40.00")) in _period_costs(j)
    assert (f"{gone}-R", D("40.00")) in _period_costs(j)
    assert _gross(acc, "customer") == {"C": (D(0), D("30.00")), "X": (D(0), D("20.00"))}
    assert _gross(acc, "item") == {"Q": (D(0), D("50.00"))}
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("50.00")


def test_back_dated_posting_replays_an_earlier_invoice_price_difference(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Found by the books state machine: a replay must keep the on-hand share of an earlier
    receipt cost (an invoice price difference), or the layer goes back to its old value."""
    j, docs, acc, clock, _ = world
    clock.at = dt.datetime(2026, 11, 16, 10)
    rk = post(docs, "purchase_receipt", [Line(1, "A", D(1), D("0.02"), warehouse="W")], "S",
              dt.date(2026, 11, 1))
    post(docs, "purchase_invoice", [Line(1, "A", D(1), D("0.01"), source=(rk, 1))], "S",
         dt.date(2026, 11, 1))
    post(docs, "purchase_receipt", [Line(1, "A", D(1), D("0.01"), warehouse="W")], "S",
         dt.date(2026, 11, 17))
    post(docs, "adjustment", [Line(1, "A", D(1), D("0.01"), warehouse="W")])  # dated the 16th
    acc.generate_vouchers()
    b = j.balance("A", "W")
    assert (b.on_hand, b.value) == (D(3), D("0.03"))
    assert acc.account_balance("1405") == b.value
    assert j.ledger("A", "W")[-1].running_value == b.value


def test_reopened_month_is_valued_anew_with_what_was_posted_into_it(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """November: receive 10 @ 10.00, deliver 4; December (open): receive 10 @ 20.00, deliver
    6. Closing November gives its delivery 40.00. Reopen November (反结账) and post the receipt
    it forgot, 10 @ 16.00 on 20 November: the close values every November issue anew at
    (100.00 + 160.00) / 20 = 13.00, the delivery 52.00, 16 left at 208.00 on 30 November, as if
    the receipt had been there at the first close; the first close's 40.00 is reversed in
    YJ-2026-11-R1. (Before, the close valued only what came after the reopening on top of the
    closing 6 @ 60.00: the delivery kept 40.00 and 16 were left at 220.00.) December then
    closes at (208.00 + 200.00) / 26: its delivery 94.15, 20 left at 313.85. Reopening
    November again reopens December too; closing December closes both again to the same
    figures."""
    j, docs, acc, clock, _ = world
    nov, dec = _november_and_december(world)
    acc.close_period(2026, 11)
    assert docs.get(nov).counters[1]["cost"] == D("40.00")
    acc.reopen_period(2026, 11, user="cfo", reason="a receipt was forgotten")
    assert docs.get(nov).counters[1]["cost"] == D("0.00")
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("16.00"), warehouse="W")], "S",
         dt.date(2026, 11, 20))
    acc.close_period(2026, 11)
    assert docs.get(nov).counters[1]["cost"] == D("52.00")
    assert [(x.entry.doc_id, x.entry.value) for x in j.ledger("Q", "W")
            if x.entry.kind == "period_cost"] == [(nov, D("-40.00")), (nov, D("40.00")),
                                                   (nov, D("-52.00"))]
    old = j.balance("Q", "W", as_of=dt.datetime(2026, 11, 30, 23, 59, 59, 999999))
    assert (old.on_hand, old.value) == (D(16), D("208.00"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("52.00")
    closes = [(v.doc_id, {(x.account, x.debit, x.credit) for x in v.lines})
              for v in acc.vouchers() if v.doc_type == "period_close"]
    assert closes == [
        ("YJ-2026-11", {("6401", D("40.00"), D(0)), ("1405", D(0), D("40.00"))}),
        ("YJ-2026-11-R1", {("1405", D("40.00"), D(0)), ("6401", D(0), D("40.00"))}),
        ("YJ-2026-11", {("6401", D("52.00"), D(0)), ("1405", D(0), D("52.00"))})]
    acc.close_period(2026, 12)
    assert docs.get(dec).counters[1]["cost"] == D("94.15")
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(20), D("313.85"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("146.15")
    # once more, with nothing new: the same figures
    clock.at = dt.datetime(2027, 1, 5, 9)
    acc.reopen_period(2026, 11, user="cfo", reason="check")
    assert [docs.get(d).counters[1]["cost"] for d in (nov, dec)] == [D("0.00"), D("0.00")]
    acc.close_period(2026, 12)
    assert [docs.get(d).counters[1]["cost"] for d in (nov, dec)] == [D("52.00"), D("94.15")]
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(20), D("313.85"))
    _monthly_books_agree(j, acc)
    assert acc.account_balance("6401") == D("146.15")


@pytest.mark.parametrize(
    ("late", "costs", "left"),
    [
        # receive 2 @ 16.00 and deliver 2 in the reopened November: (100.00 + 32.00) / 12 =
        # 11.00 for both deliveries (before: the first kept 40.00, the new one 23.00)
        pytest.param("receive_and_deliver", ["44.00", "22.00"], ("6", "66.00"), id="more"),
        # cancel the first receipt (10 @ 10.00 of 10 @ 10.00 and 10 @ 20.00): it leaves at its
        # own 100.00 and the delivery costs 20.00 a unit (before: the reversal cost 150.00,
        # 10 remained at 150.00)
        pytest.param("cancel_receipt", ["80.00"], ("6", "120.00"), id="cancel"),
    ],
)
def test_reopened_month_takes_its_movements_back_as_if_never_closed(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates], late: str, costs: list[str],
        left: tuple[str, str]) -> None:
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    first = post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")],
                 "S", dt.date(2026, 11, 2))
    if late == "cancel_receipt":
        post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("20.00"), warehouse="W")], "S",
             dt.date(2026, 11, 3))
    sold = [post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
                 dt.date(2026, 11, 5))]
    clock.at = dt.datetime(2026, 12, 1, 9)
    acc.close_period(2026, 11)
    acc.reopen_period(2026, 11, user="cfo", reason="fix November")
    clock.at = dt.datetime(2026, 11, 28, 9)
    if late == "cancel_receipt":
        docs.cancel(first, U)
        reversal = [x.entry for x in j.ledger("Q", "W") if x.entry.doc_id == f"{first}-R"]
        assert [e.value for e in reversal] == [D("-100.00")]
    else:
        post(docs, "purchase_receipt", [Line(1, "Q", D(2), D("16.00"), warehouse="W")], "S",
             dt.date(2026, 11, 28))
        sold.append(post(docs, "delivery", [Line(1, "Q", D(2), D("30"), warehouse="W")], "C",
                         dt.date(2026, 11, 28)))
    clock.at = dt.datetime(2026, 12, 1, 10)
    acc.close_period(2026, 11)
    assert [docs.get(d).counters[1]["cost"] for d in sold] == [D(c) for c in costs]
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(left[0]), D(left[1]))
    _monthly_books_agree(j, acc)


def test_monthly_average_summary_shows_month_end_costs_in_their_columns(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """Receive 10 @ 10.00, deliver 4, take 1 back, take 2 out by an adjustment booked against
    `cogs` (account_role), close November at 10.00 a unit. The 进销存汇总表 shows the month-end
    costs where their movements stand: out 4 deliveries 40.00 and 2 adjustments 20.00, in 1
    return 10.00, no cost adjustment (it showed the issues at 0.00 and -50.00 as cost
    adjustments). The adjustment's month-end cost goes to the role it named (6401), not to
    `adjustment` (1901)."""
    j, docs, acc, _, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    ck = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 3))
    post(docs, "sales_return", [Line(1, "Q", D(1), D("30"), warehouse="W", source=(ck, 1))],
         "C", dt.date(2026, 11, 4))
    out = docs.create("adjustment", [Line(1, "Q", D(-2), warehouse="W")],
                      date=dt.date(2026, 11, 5), attributes={"account_role": "cogs"})
    docs.approve_through(out.doc_id, [U])
    acc.close_period(2026, 11)
    [row] = [r for r in acc.inventory_summary(2026, 11) if r.item == "Q"]
    assert row.in_by_kind == {"purchase_receipt": (D(10), D("100.00")),
                              "sales_return": (D(1), D("10.00"))}
    assert row.out_by_kind == {"delivery": (D(4), D("40.00")),
                               "adjustment_out": (D(2), D("20.00"))}
    assert (row.in_value, row.out_value, row.cost_adjustments) == (
        D("110.00"), D("60.00"), D(0))
    assert (row.closing_qty, row.closing_value) == (D(5), D("50.00"))
    assert row.closing_value == j.balance("Q", "W").value
    _monthly_books_agree(j, acc)
    assert (acc.account_balance("6401"), acc.account_balance("1901")) == (D("50.00"), D(0))


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
def test_organisation_scope_monthly_transfer_shows_the_months_unit_cost(
        adapter: str, tmp_path: Path) -> None:
    """Costed by organisation, a transfer moves no value; each warehouse shows it at the
    month's unit cost: receive 10 @ 10.00, deliver 4, transfer 3: 30.00 (it was value over
    quantity, 100.00 / 6, the month's issues not being valued yet: 50.00)."""
    storage = MemoryStorage() if adapter == "memory" else SqliteStorage(str(tmp_path / "o.db"))
    j = Jxc(storage, organisation_scope=True)
    j.define_item(Item("Q", "q", costing_method="monthly_average"))
    for code in ("W1", "W2"):
        j.define_warehouse(Warehouse(code, code))
    at = dt.datetime(2026, 11, 2, 9)
    j.receive("Q", "W1", D(10), D("10.00"), posted_at=at)
    j.issue("Q", "W1", D(4), posted_at=at + dt.timedelta(days=1))
    moved = j.transfer("Q", "W1", "W2", D(3), posted_at=at + dt.timedelta(days=2))
    assert [(e.kind, e.value) for e in moved.entries] == [("transfer_out", D("-30.00")),
                                                           ("transfer_in", D("30.00"))]
    storage.close()


def test_a_later_return_follows_its_delivery_when_the_month_is_valued_anew(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """November receives 10 @ 10.00 and delivers 4 (40.00 at the close); a December return of
    the 4 comes back at 40.00. Reopening November (December with it), posting the receipt it
    forgot (10 @ 16.00) and closing December values the delivery at 52.00, and the return with
    it: 52.00, the customer's cost 0.00, December closing at (208.00 + 52.00) / 20 = 13.00:
    20 @ 260.00. (The return kept 40.00: 12.00 stayed in cost of goods sold for a delivery
    returned whole, and December closed at 20 @ 248.00.)"""
    j, docs, acc, clock, _ = world
    j.define_item(Item("Q", "quarterly leaf", costing_method="monthly_average"))
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    d1 = post(docs, "delivery", [Line(1, "Q", D(4), D("30"), warehouse="W")], "C",
              dt.date(2026, 11, 5))
    clock.at = dt.datetime(2026, 12, 2, 9)
    acc.close_period(2026, 11)
    back = post(docs, "sales_return", [Line(1, "Q", D(4), D("30"), warehouse="W",
                                            source=(d1, 1))], "C", dt.date(2026, 12, 3))
    assert docs.get(back).counters[1]["value"] == D("40.00")
    acc.reopen_period(2026, 11, user="cfo", reason="a receipt was forgotten")
    post(docs, "purchase_receipt", [Line(1, "Q", D(10), D("16.00"), warehouse="W")], "S",
         dt.date(2026, 11, 20))
    clock.at = dt.datetime(2027, 1, 2, 9)
    acc.close_period(2026, 12)
    assert docs.get(d1).counters[1]["cost"] == D("52.00")
    assert docs.get(d1).counters[1]["returned_value"] == D("52.00")
    assert docs.get(back).counters[1]["value"] == D("52.00")
    assert [(g.key, g.cost) for g in acc.gross_profit("customer")] == [("C", D("0.00"))]
    b = j.balance("Q", "W")
    assert (b.on_hand, b.value) == (D(20), D("260.00"))
    _monthly_books_agree(j, acc)
    # cancelling the return now takes out what it brought, 52.00
    clock.at = dt.datetime(2027, 1, 3, 9)
    acc.reopen_period(2026, 12, user="cfo", reason="the return was wrong")
    docs.cancel(back, U)
    assert sum((x.entry.value for x in j.ledger("Q", "W")
                if x.entry.doc_id == f"{back}-R"), D(0)) == D("-52.00")


def test_summary_shows_a_cancelled_transfer_as_a_cancellation(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """A transfer document cancelled: its red entries are transfers too (out of the target,
    back into the source). The 进销存汇总表 shows them under ``transfer_reversal``, as the other
    documents' cancellations (``delivery_reversal``...), not as 3 more units transferred each
    way; a transfer posted by ``Jxc.transfer`` under an id ending in ``-R`` stays a transfer."""
    j, docs, acc, _, _ = world
    j.define_warehouse(Warehouse("W2", "second"))
    j.define_item(Item("T", "tea"))
    post(docs, "purchase_receipt", [Line(1, "T", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    tr = post(docs, "transfer", [Line(1, "T", D(3), warehouse="W", to_warehouse="W2")],
              date=dt.date(2026, 11, 3))
    docs.cancel(tr, U)
    j.transfer("T", "W", "W2", D(1), doc_id="MINE-R", posted_at=dt.datetime(2026, 11, 4, 9))
    rows = {r.warehouse: r for r in acc.inventory_summary(2026, 11) if r.item == "T"}
    w, w2 = rows["W"], rows["W2"]
    assert w.out_by_kind == {"transfer_out": (D(4), D("40.00"))}
    assert w.in_by_kind == {"purchase_receipt": (D(10), D("100.00")),
                            "transfer_reversal": (D(3), D("30.00"))}
    assert w2.in_by_kind == {"transfer_in": (D(4), D("40.00"))}
    assert w2.out_by_kind == {"transfer_reversal": (D(3), D("30.00"))}
    assert (w.closing_qty, w2.closing_qty) == (D(9), D(1))



def test_summary_a_transfer_named_like_a_cancellation_stays_a_transfer(
        world: tuple[Jxc, Documents, Accounting, Clock, Rates]) -> None:
    """A transfer document cancelled as a draft wrote no red entries: a transfer posted
    under its id with ``-R`` is a transfer, not a cancellation."""
    j, docs, acc, _, _ = world
    j.define_warehouse(Warehouse("W2", "second"))
    j.define_item(Item("T", "tea"))
    post(docs, "purchase_receipt", [Line(1, "T", D(10), D("10.00"), warehouse="W")], "S",
         dt.date(2026, 11, 2))
    draft = docs.create("transfer", [Line(1, "T", D(3), warehouse="W", to_warehouse="W2")],
                        date=dt.date(2026, 11, 3))
    docs.cancel(draft.doc_id, U)
    j.transfer("T", "W", "W2", D(4), doc_id=f"{draft.doc_id}-R",
               posted_at=dt.datetime(2026, 11, 4, 9))
    rows = {r.warehouse: r for r in acc.inventory_summary(2026, 11) if r.item == "T"}
    assert rows["W"].out_by_kind == {"transfer_out": (D(4), D("40.00"))}
    assert rows["W2"].in_by_kind == {"transfer_in": (D(4), D("40.00"))}
