"""Standard cost: cancelling (红冲) an adjustment, a stock count, a transfer or a purchase receipt
after a new standard (DOMAIN.md sections 2, 5 and 6).

Stock is carried at the standard of the day, so a cancellation moves the units at the
*current* standard. The counter-account of the document (``adjustment``, ``count_gain_loss``
待处理财产损溢) is undone at what the document booked to it (its ``value`` counter, or
``gain_value`` / ``loss_value`` for a serial count line), and the difference between that and
the current standard goes to ``material_variance`` (1404 材料成本差异), the account the
revaluation was booked to, as for customer returns (test_standard_cost_returns.py). So the
counter-account nets to zero, and 1404 holds exactly the revaluation of the units still on
hand. Transfers and purchase receipts already did so (guards).

The base of every scenario: item S at standard 10.00, a receipt of 10 @ 10.00 into W1."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.services import Accounting
from jxc_core.stock import Item

from .support import BOSS, Shop

D = Decimal


@pytest.fixture
def std(shop: Shop) -> Shop:
    shop.jxc.define_item(Item("S", "standard item", costing_method="standard",
                              standard_cost=D(10)))
    shop.receipt([Line(1, "S", D(10), D(10), warehouse="W1")])
    return shop


def _revalue(shop: Shop, standard: Decimal) -> None:
    Accounting(shop.jxc).revalue_standard("S", standard)


def _red(shop: Shop, doc_id: str) -> dict[str, Decimal]:
    """Net (debit - credit) per role of the cancellation's rows only."""
    out: dict[str, Decimal] = {}
    for r in shop.journal(f"{doc_id}-R"):
        out[r.role] = out.get(r.role, D(0)) + r.debit - r.credit
    return out


def _check(shop: Shop, accounts: dict[str, Decimal]) -> None:
    """Every posting balances; the inventory role, per warehouse, equals the stock value,
    which is on hand x the current standard; the vouchers (Chinese preset) balance, 1405 equals
    the stock valuation, and ``accounts`` (balance, debit - credit, per account) hold."""
    rows = shop.journal()
    for doc_id in {r.doc_id for r in rows}:
        mine = [r for r in rows if r.doc_id == doc_id]
        assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
    standard = shop.jxc.item("S").standard_cost
    for wh in ("W1", "W2"):
        inventory = sum((r.debit - r.credit for r in rows
                         if r.role == "inventory" and r.item == "S" and r.warehouse == wh),
                        D(0))
        assert inventory == shop.value("S", wh) == (shop.qty("S", wh) * standard).quantize(
            D("0.01"))
    books = Accounting(shop.jxc)
    vouchers = books.generate_vouchers()
    assert vouchers
    for v in books.vouchers():
        assert sum((x.debit for x in v.lines), D(0)) == sum((x.credit for x in v.lines), D(0))
    assert books.account_balance("1405") == shop.value("S", "W1") + shop.value("S", "W2")
    for name, want in accounts.items():
        assert books.account_balance(name) == want, name


# -- adjustments (其他出入库) ------------------------------------------------------------------


@pytest.mark.parametrize(("standard", "inventory", "variance"), [
    (D(11), D("-44.00"), D("4.00")),  # a rise: the units leave at 44.00, booked in at 40.00
    (D(9), D("-36.00"), D("-4.00")),  # a fall: 36.00 out, the 4.00 lost is a variance
])
def test_cancelling_an_adjustment_in_after_a_new_standard(
        std: Shop, standard: Decimal, inventory: Decimal, variance: Decimal) -> None:
    qt = std.run("adjustment", [Line(1, "S", D(4), D(10), warehouse="W1")]).doc_id
    assert std.roles(qt) == {"inventory": D("40.00"), "adjustment": D("-40.00")}
    _revalue(std, standard)  # 14 on hand
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": inventory, "adjustment": D("40.00"),
                             "material_variance": variance}
    assert std.net("adjustment") == D(0)  # the adjustment is undone, at what it booked
    assert (std.qty("S"), std.value("S")) == (D(10), 10 * standard)
    # 1404: the revaluation of the 10 units still on hand, no more
    _check(std, {"1901": D(0), "1404": -10 * (standard - 10)})


@pytest.mark.parametrize(("standard", "inventory", "variance"), [
    (D(11), D("44.00"), D("-4.00")),
    (D(9), D("36.00"), D("4.00")),
])
def test_cancelling_an_adjustment_out_after_a_new_standard(
        std: Shop, standard: Decimal, inventory: Decimal, variance: Decimal) -> None:
    qt = std.run("adjustment", [Line(1, "S", D(-4), warehouse="W1")]).doc_id
    assert std.roles(qt) == {"inventory": D("-40.00"), "adjustment": D("40.00")}
    _revalue(std, standard)  # 6 on hand
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": inventory, "adjustment": D("-40.00"),
                             "material_variance": variance}
    assert std.net("adjustment") == D(0)
    assert (std.qty("S"), std.value("S")) == (D(10), 10 * standard)
    _check(std, {"1901": D(0), "1404": -10 * (standard - 10)})


def test_an_adjustment_with_its_own_account_role_is_undone_on_it(std: Shop) -> None:
    """``attributes["account_role"]`` names the counter role: that role is undone at what it
    booked, the variance still goes to material_variance."""
    qt = std.run("adjustment", [Line(1, "S", D(-3), warehouse="W1")],
                 attributes={"account_role": "cogs"}).doc_id
    _revalue(std, D(12))  # 7 on hand: +14.00
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": D("36.00"), "cogs": D("-30.00"),
                             "material_variance": D("-6.00")}
    assert std.net("cogs") == D(0)
    _check(std, {"6401": D(0), "1404": D("-20.00")})


def test_cancelling_an_adjustment_without_a_new_standard_books_no_variance(std: Shop) -> None:
    qt = std.run("adjustment", [Line(1, "S", D(4), D(10), warehouse="W1"),
                                Line(2, "S", D(-2), warehouse="W1")]).doc_id
    std.docs.cancel(qt, BOSS)
    assert std.roles(qt) == {"inventory": D(0), "adjustment": D(0)}
    assert "material_variance" not in _red(std, qt)
    _check(std, {"1404": D(0)})


def test_two_new_standards_between_posting_and_cancelling(std: Shop) -> None:
    qt = std.run("adjustment", [Line(1, "S", D(5), D(10), warehouse="W1")]).doc_id
    _revalue(std, D(12))  # 15 on hand: +30.00
    std.run("delivery", [Line(1, "S", D(3), D(20), warehouse="W1")], "C1")  # 36.00
    _revalue(std, D("10.50"))  # 12 on hand: -18.00
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": D("-52.50"), "adjustment": D("50.00"),
                             "material_variance": D("2.50")}
    assert (std.qty("S"), std.value("S")) == (D(7), D("73.50"))
    # 1404: -30.00 + 18.00 + 2.50 = -9.50 — the revaluations of units still on hand (7 x 0.50
    # = 3.50) and of the 3 delivered at 12.00 (-6.00), whose COGS was booked at 12.00
    _check(std, {"1901": D(0), "1404": D("-9.50"), "6401": D("36.00")})


# -- stock counts (盘点) -----------------------------------------------------------------------


def _count(shop: Shop, counted: Decimal) -> str:
    pd = shop.make("stock_count", [Line(1, "S", D(0), warehouse="W1")]).doc_id
    shop.docs.submit(pd, BOSS)
    shop.docs.record_count(pd, {1: counted})
    shop.docs.approve(pd, BOSS)
    shop.docs.post(pd, BOSS)
    return pd


@pytest.mark.parametrize("standard", [D(11), D(9)])
@pytest.mark.parametrize(("counted", "sign"), [(D(14), 1), (D(6), -1)], ids=["gain", "loss"])
def test_cancelling_a_count_after_a_new_standard(
        std: Shop, standard: Decimal, counted: Decimal, sign: int) -> None:
    """A gain (counted 14 of 10) or a loss (counted 6) of 4 at 10.00, a new standard, then the
    cancellation: the units go back at the new standard, ``count_gain_loss`` is undone at the
    40.00 it booked, and the difference is ``material_variance`` (gain at 11: inventory
    -44.00, count_gain_loss +40.00, variance +4.00)."""
    pd = _count(std, counted)
    assert std.roles(pd) == {"inventory": sign * D("40.00"),
                             "count_gain_loss": sign * D("-40.00")}
    _revalue(std, standard)
    std.docs.cancel(pd, BOSS)
    assert _red(std, pd) == {"inventory": -4 * standard * sign,
                             "count_gain_loss": sign * D("40.00"),
                             "material_variance": 4 * (standard - 10) * sign}
    assert std.net("count_gain_loss") == D(0)
    assert (std.qty("S"), std.value("S")) == (D(10), 10 * standard)
    _check(std, {"1901": D(0), "1404": -10 * (standard - 10)})


def test_cancelling_a_serial_count_that_gained_and_lost_after_a_new_standard(
        shop: Shop) -> None:
    """A serial count line books its gain and its loss apart; each is undone at what it
    booked."""
    shop.jxc.define_item(Item("S", "standard phone", costing_method="standard",
                              standard_cost=D(10), serial_tracked=True))
    shop.run("adjustment", [Line(1, "S", D(3), D(10), warehouse="W1",
                                 serials=("SN1", "SN2", "SN3"))])
    pd = shop.make("stock_count", [Line(1, "S", D(0), warehouse="W1")]).doc_id
    shop.docs.submit(pd, BOSS)
    shop.docs.record_count(pd, {1: D(3)}, serials={1: ["SN1", "SN2", "SN9"]})
    shop.docs.approve(pd, BOSS)
    shop.docs.post(pd, BOSS)  # SN3 lost, SN9 gained: 10.00 each way
    _revalue(shop, D(13))  # 3 on hand: +9.00
    shop.docs.cancel(pd, BOSS)
    red = _red(shop, pd)
    assert red == {"inventory": D(0), "count_gain_loss": D(0), "material_variance": D(0)}
    rows = [(r.role, r.debit, r.credit) for r in shop.journal(f"{pd}-R")]
    # the loss comes back at 13.00 (10.00 to 1901, 3.00 variance), the gain leaves at 13.00
    assert sorted(rows) == sorted([  # red ink: the posted sides, negated
        ("inventory", D(0), D("-13.00")), ("count_gain_loss", D("-10.00"), D(0)),
        ("material_variance", D("-3.00"), D(0)),
        ("inventory", D("-13.00"), D(0)), ("count_gain_loss", D(0), D("-10.00")),
        ("material_variance", D(0), D("-3.00"))])
    assert shop.jxc.serials_in("S", "W1") == ("SN1", "SN2", "SN3")
    assert (shop.qty("S"), shop.value("S")) == (D(3), D("39.00"))
    assert shop.net("count_gain_loss") == D(0)
    # 1901: the adjustment that brought the three in (30.00), the count undone
    _check(shop, {"1901": D("-30.00"), "1404": D("-9.00")})


# -- transfers and purchase receipts (guards: already right) ------------------------------------


def test_cancelling_a_transfer_after_a_new_standard(std: Shop) -> None:
    db = std.run("transfer", [Line(1, "S", D(4), D(0), warehouse="W1",
                                   to_warehouse="W2")]).doc_id
    _revalue(std, D(11))  # W1 6 on hand: +6.00, W2 4: +4.00
    std.docs.cancel(db, BOSS)
    rows = {(r.warehouse, r.role): r.debit - r.credit for r in std.journal(f"{db}-R")}
    # both sides at the standard of the day: inventory to inventory, no variance
    assert rows == {("W2", "inventory"): D("-44.00"), ("W1", "inventory"): D("44.00")}
    assert (std.qty("S", "W2"), std.value("S", "W2")) == (D(0), D(0))
    assert (std.qty("S"), std.value("S")) == (D(10), D("110.00"))
    _check(std, {"1404": D("-10.00")})


def test_cancelling_a_purchase_receipt_after_a_new_standard(std: Shop) -> None:
    rk = std.receipt([Line(1, "S", D(4), D(12), warehouse="W1")]).doc_id
    assert std.roles(rk) == {"inventory": D("40.00"), "grni": D("-48.00"),
                             "material_variance": D("8.00")}
    _revalue(std, D(11))  # 14 on hand: +14.00
    std.docs.cancel(rk, BOSS)
    assert _red(std, rk) == {"inventory": D("-44.00"), "grni": D("48.00"),
                             "material_variance": D("-4.00")}
    assert std.roles(rk)["grni"] == D(0)
    assert (std.qty("S"), std.value("S")) == (D(10), D("110.00"))
    # 8.00 - 14.00 - 4.00: the revaluation of the 10 units on hand, the receipt's variance gone
    _check(std, {"1404": D("-10.00"), "2202.02": D("-100.00")})


# -- found by the property test (test_standard_cost_cancel_property.py) -------------------------


def test_a_count_that_finds_nothing_in_an_empty_warehouse_keeps_no_old_standard(
        std: Shop) -> None:
    """A count line of W2, where S never was, that counts 0 moves nothing; it stored the
    scope's valuation (at 10.00) all the same, and a new standard — which revalues the
    warehouses with balances — never reached it: 1 unit later counted in W2 came in at 10.00,
    not at the standard of 0.50."""
    pd = std.make("stock_count", [Line(1, "S", D(0), warehouse="W2")]).doc_id
    std.docs.submit(pd, BOSS)
    std.docs.record_count(pd, {1: D(0)})
    std.docs.approve(pd, BOSS)
    std.docs.post(pd, BOSS)
    _revalue(std, D("0.50"))  # W1: 10 on hand, -95.00
    std.run("adjustment", [Line(1, "S", D(1), D(7), warehouse="W2")])
    assert (std.qty("S", "W2"), std.value("S", "W2")) == (D(1), D("0.50"))
    # the adjustment's price 7.00 is its cost: 6.50 over the standard is 1404 too
    # (test_standard_cost_adjustment_price.py)
    _check(std, {"1404": D("101.50"), "1901": D("-7.00")})


# -- receipt costs (invoice price difference, landed cost) posted before a new standard --------


def _charge(shop: Shop, kind: str, receipt: str) -> str:
    if kind == "purchase_invoice":
        return shop.run("purchase_invoice", [Line(1, "S", D(10), D("10.50"), warehouse="W1",
                                                  source=(receipt, 1))], "S1").doc_id
    return shop.run("landed_cost", [Line(1, "freight", D(1), D("30.00"))], "S1",
                    attributes={"receipts": [receipt], "basis": "quantity"}).doc_id


@pytest.mark.parametrize(("kind", "variance"), [("purchase_invoice", D("5.00")),
                                                 ("landed_cost", D("30.00"))])
def test_a_receipt_cost_from_before_a_new_standard_can_be_cancelled(
        std: Shop, kind: str, variance: Decimal) -> None:
    """Under standard cost a purchase invoice's price difference or a landed cost is all
    variance (1404) and moves no stock value, so a new standard after it changes nothing its
    cancellation (dated at the charge's moment, before the change) would undo: it is
    accepted (it was ``backdated_posting``, and with it the receipt could never be cancelled),
    the variance comes back out, and then the receipt can be cancelled as well."""
    receipt = next(e.entry.doc_id for e in std.jxc.ledger("S", "W1"))
    charge = _charge(std, kind, receipt)
    assert std.roles(charge)["material_variance"] == variance
    _revalue(std, D(11))  # +10.00 on the 10 units: 1404 -10.00
    std.docs.cancel(charge, BOSS)
    assert _red(std, charge)["material_variance"] == -variance
    assert std.value("S", "W1") == D("110.00")
    _check(std, {"1404": D("-10.00")})
    std.docs.cancel(receipt, BOSS)
    assert (std.qty("S", "W1"), std.value("S", "W1")) == (D(0), D("0.00"))
    _check(std, {"1404": D("0.00")})

