"""Standard cost: an adjustment in (其他入库) at a price other than the standard (DOMAIN.md
sections 2 and 6).

Stock moves at standard; the price is the receipt's cost, as the costing engine already takes
it (a ``price_variance`` cost adjustment, published as a ``cost_adjusted`` event). The
counter-account of the adjustment (``adjustment``, or ``attributes["account_role"]``) takes
the line's own amount, ``round_money(quantity x price)`` in the line's unit, the stock the
standard value, and the difference goes to ``material_variance`` (1404 材料成本差异), as for a
purchase receipt. The line's ``value`` counter keeps what it booked to the counter-account, so
a cancellation (红冲) undoes that account at it, whatever the standard became since.

The base of every scenario: item S at standard 10.00, a receipt of 10 @ 10.00 into W1."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.services import Accounting
from jxc_core.stock import Item
from tests.services.support import Events

from .support import BOSS, Shop

D = Decimal


@pytest.fixture
def std(shop: Shop) -> Shop:
    shop.jxc.define_item(Item("S", "standard item", costing_method="standard",
                              standard_cost=D(10), units={"箱": D(12)}))
    shop.receipt([Line(1, "S", D(10), D(10), warehouse="W1")])
    return shop


def _red(shop: Shop, doc_id: str) -> dict[str, Decimal]:
    """Net (debit - credit) per role of the cancellation's rows only."""
    out: dict[str, Decimal] = {}
    for r in shop.journal(f"{doc_id}-R"):
        out[r.role] = out.get(r.role, D(0)) + r.debit - r.credit
    return out


def _check(shop: Shop, accounts: dict[str, Decimal]) -> None:
    """Every posting balances; the inventory role equals the stock value (on hand x the
    current standard); the vouchers (Chinese preset) balance, 1405 equals the stock
    valuation, and ``accounts`` (balance, debit - credit, per account) hold."""
    rows = shop.journal()
    for doc_id in {r.doc_id for r in rows}:
        mine = [r for r in rows if r.doc_id == doc_id]
        assert sum((r.debit for r in mine), D(0)) == sum((r.credit for r in mine), D(0))
    standard = shop.jxc.item("S").standard_cost
    inventory = sum((r.debit - r.credit for r in rows
                     if r.role == "inventory" and r.item == "S"), D(0))
    assert inventory == shop.value("S") == (shop.qty("S") * standard).quantize(D("0.01"))
    books = Accounting(shop.jxc)
    assert books.generate_vouchers()
    for v in books.vouchers():
        assert sum((x.debit for x in v.lines), D(0)) == sum((x.credit for x in v.lines), D(0))
    assert books.account_balance("1405") == shop.value("S")
    for name, want in accounts.items():
        assert books.account_balance(name) == want, name


def _variances(events: Events, doc_id: str) -> list[Decimal]:
    """The ``price_variance`` amounts the costing published for ``doc_id``'s lines."""
    return [D(e["amount"]) for e in events.of("cost_adjusted")
            if e.get("reason") == "price_variance"
            and str(e.get("receipt_ref") or "").startswith(f"{doc_id}/")]


def test_an_adjustment_in_at_a_price_books_the_variance(std: Shop) -> None:
    """4 @ 12.00 at a standard of 10.00: Dr inventory 40.00, Dr material_variance 8.00, Cr
    adjustment 48.00 — and the journal's variance is the engine's price_variance."""
    events = Events()
    std.jxc.notifier = events
    qt = std.run("adjustment", [Line(1, "S", D(4), D(12), warehouse="W1")]).doc_id
    assert std.roles(qt) == {"inventory": D("40.00"), "material_variance": D("8.00"),
                             "adjustment": D("-48.00")}
    assert std.counters(qt, 1, "quantity", "value") == {"quantity": D(4), "value": D("48.00")}
    assert _variances(events, qt) == [D("8.00")] == [std.net("material_variance", qt)]
    assert (std.qty("S"), std.value("S")) == (D(14), D("140.00"))
    _check(std, {"1901": D("-48.00"), "1404": D("8.00")})


def test_cancelling_it_puts_every_account_back(std: Shop) -> None:
    qt = std.run("adjustment", [Line(1, "S", D(4), D(12), warehouse="W1")]).doc_id
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": D("-40.00"), "material_variance": D("-8.00"),
                             "adjustment": D("48.00")}
    assert std.roles(qt) == {"inventory": D(0), "material_variance": D(0),
                             "adjustment": D(0)}
    assert (std.qty("S"), std.value("S")) == (D(10), D("100.00"))
    _check(std, {"1901": D(0), "1404": D(0)})


def test_cancelling_it_after_a_new_standard(std: Shop) -> None:
    """New standard 11.00 (14 on hand: +14.00): the cancellation moves the 4 units out at
    44.00, undoes ``adjustment`` at the 48.00 it booked, and material_variance takes the
    rest; 1404 keeps only the revaluation of the 10 units still on hand."""
    qt = std.run("adjustment", [Line(1, "S", D(4), D(12), warehouse="W1")]).doc_id
    Accounting(std.jxc).revalue_standard("S", D(11))
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": D("-44.00"), "adjustment": D("48.00"),
                             "material_variance": D("-4.00")}
    assert std.net("adjustment") == D(0)
    assert (std.qty("S"), std.value("S")) == (D(10), D("110.00"))
    _check(std, {"1901": D(0), "1404": D("-10.00")})  # 8.00 - 14.00 - 4.00


def test_a_price_of_zero_is_a_price(std: Shop) -> None:
    """Goods at no cost: the whole standard value is a (negative) variance, as the engine's
    price_variance says; the counter-account books nothing."""
    events = Events()
    std.jxc.notifier = events
    qt = std.run("adjustment", [Line(1, "S", D(4), D(0), warehouse="W1")]).doc_id
    assert std.roles(qt) == {"inventory": D("40.00"), "material_variance": D("-40.00")}
    assert std.counters(qt, 1, "value") == {"value": D(0)}
    assert _variances(events, qt) == [D("-40.00")]
    _check(std, {"1901": D(0), "1404": D("-40.00")})
    Accounting(std.jxc).revalue_standard("S", D(11))  # 14 on hand: +14.00
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": D("-44.00"), "material_variance": D("44.00")}
    _check(std, {"1901": D(0), "1404": D("-10.00")})  # -40.00 - 14.00 + 44.00


def test_a_line_in_another_unit_is_priced_per_that_unit(std: Shop) -> None:
    """1 箱 (12 个) @ 125.99 per 箱: the stock 120.00 at standard, the counter-account the
    line's amount 125.99 (what the engine took as the receipt's cost, not 12 x a rounded unit
    price), 5.99 variance; cancelled after a new standard of 11.00, the 12 units leave at
    132.00 and the counter-account is undone at 125.99."""
    events = Events()
    std.jxc.notifier = events
    qt = std.run("adjustment", [Line(1, "S", D(1), D("125.99"), unit="箱",
                                     warehouse="W1")]).doc_id
    assert std.roles(qt) == {"inventory": D("120.00"), "material_variance": D("5.99"),
                             "adjustment": D("-125.99")}
    assert std.counters(qt, 1, "quantity", "value") == {"quantity": D(12),
                                                        "value": D("125.99")}
    assert _variances(events, qt) == [D("5.99")]
    _check(std, {"1901": D("-125.99"), "1404": D("5.99")})
    Accounting(std.jxc).revalue_standard("S", D(11))  # 22 on hand: +22.00
    std.docs.cancel(qt, BOSS)
    assert _red(std, qt) == {"inventory": D("-132.00"), "adjustment": D("125.99"),
                             "material_variance": D("6.01")}
    assert std.net("adjustment") == D(0)
    _check(std, {"1901": D(0), "1404": D("-10.00")})  # 5.99 - 22.00 + 6.01


def test_an_adjustment_with_its_own_account_role_takes_the_price(std: Shop) -> None:
    qt = std.run("adjustment", [Line(1, "S", D(4), D("9.50"), warehouse="W1")],
                 attributes={"account_role": "cogs"}).doc_id
    assert std.roles(qt) == {"inventory": D("40.00"), "material_variance": D("-2.00"),
                             "cogs": D("-38.00")}
    std.docs.cancel(qt, BOSS)
    assert std.roles(qt) == {"inventory": D(0), "material_variance": D(0), "cogs": D(0)}
    _check(std, {"6401": D(0), "1404": D(0)})


def test_lines_that_remove_stock_and_other_methods_are_unchanged(std: Shop) -> None:
    """An adjustment out moves at standard (no price); a FIFO item's adjustment in is booked
    at its price on both sides (its stock value is the price)."""
    out = std.run("adjustment", [Line(1, "S", D(-2), D(15), warehouse="W1")]).doc_id
    assert std.roles(out) == {"inventory": D("-20.00"), "adjustment": D("20.00")}
    fifo = std.run("adjustment", [Line(1, "C", D(4), D(12), warehouse="W1")]).doc_id
    assert std.roles(fifo) == {"inventory": D("48.00"), "adjustment": D("-48.00")}
    assert std.counters(fifo, 1, "value") == {"value": D("48.00")}
