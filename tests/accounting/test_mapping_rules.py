"""Account mappings that could never apply, or would break the books, are refused on load;
a settlement number is used once; ``Accounting`` takes a loaded mapping only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest

from jxc_core.accounting import DOC_TYPES, AccountMapping, chinese_mapping
from jxc_core.adapters import MemoryStorage
from jxc_core.documents import DocType, Line, User
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse


def _with(*rules: dict[str, Any], accounts: dict[str, str] | None = None) -> dict[str, Any]:
    data = chinese_mapping().to_data()
    data["accounts"].update(accounts or {"1405.99": "库存商品-其他"})
    data["rules"] += list(rules)
    return data


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(JxcError) as err:
        AccountMapping.from_data(data)
    assert err.value.code == "invalid_mapping"
    assert err.value.message("zh") != err.value.message("en")
    return str(err.value.data["reason"])


@pytest.mark.parametrize(("rule", "says"), [
    # a misspelt document type: the rule would never match
    ({"role": "cogs", "account": "1405.99", "doc_type": "purchase_reciept"},
     "unknown doc_type 'purchase_reciept'"),
    # the inventory account by document type: receipts and deliveries on two accounts, and
    # the inventory account no longer equals the stock valuation
    ({"role": "inventory", "account": "1405.99", "doc_type": "delivery"},
     "role 'inventory' cannot depend on doc_type"),
    ({"role": "grni", "account": "1405.99", "doc_type": "purchase_receipt"},
     "role 'grni' cannot depend on doc_type"),
    ({"role": "credit_pending", "account": "1405.99", "doc_type": "purchase_return"},
     "role 'credit_pending' cannot depend on doc_type"),
    # what settlements clear: their rows have no document line, item or warehouse
    ({"role": "payable", "account": "1405.99", "warehouse": "W"},
     "role 'payable' takes no condition"),
    ({"role": "receivable", "account": "1405.99", "category": "material"},
     "role 'receivable' takes no condition"),
    ({"role": "receivable", "account": "1405.99", "doc_type": "sales_invoice"},
     "role 'receivable' takes no condition"),
    # a second default of a role (the first wins: this one could never apply)
    ({"role": "inventory", "account": "1405.99"}, "the same role and conditions as rules[0]"),
    # a non-text field
    ({"role": "inventory", "account": 1405}, "rules[16].account must be text"),
    ({"role": "inventory", "account": "1405.99", "warehouse": 7},
     "rules[16].warehouse must be text"),
    ({"role": None, "account": "1405.99"}, "rules[16].role must be text"),
])
def test_rules_that_cannot_apply_or_break_the_books_are_refused(rule: dict[str, Any],
                                                                says: str) -> None:
    assert says in _refused(_with(rule))


def test_a_null_condition_is_no_condition() -> None:
    """An empty cell of a stored table (JSON null) is no condition, not the text 'None'."""
    m = AccountMapping.from_data(_with(
        {"role": "inventory", "account": "1405.99", "category": None, "warehouse": "RAW",
         "doc_type": None}))
    assert m.account_for("inventory", "delivery", "", "RAW") == "1405.99"
    assert m.account_for("inventory", "delivery", "", "W") == "1405"
    assert {"role": "inventory", "account": "1405.99", "warehouse": "RAW"} in (
        m.to_data()["rules"])


def test_conditions_that_keep_the_books_whole_still_load() -> None:
    m = AccountMapping.from_data(_with(
        {"role": "inventory", "account": "1405.99", "warehouse": "BJ"},
        {"role": "grni", "account": "6602.99", "category": "material"},
        {"role": "adjustment", "account": "6602.99", "doc_type": "adjustment"},
        {"role": "cogs", "account": "6602.99", "doc_type": "period_close", "warehouse": "BJ"},
        {"role": "bank", "account": "6602.99", "doc_type": "payment"},
        accounts={"1405.99": "库存商品-北京", "6602.99": "其他"}))
    assert m.account_for("inventory", "delivery", "", "BJ") == "1405.99"
    assert m.account_for("bank", "payment") == "6602.99"


@pytest.mark.parametrize("rule", [
    {"role": "adjustment", "account": "1405"},  # the preset's default inventory account
    {"role": "count_gain_loss", "account": "1405", "warehouse": "W"},
    {"role": "cogs", "account": "1403", "category": "material"},  # the materials' one
    {"role": "price_difference", "account": "1405.99", "doc_type": "purchase_invoice"},
])
def test_another_role_on_an_inventory_account_is_refused(rule: dict[str, Any]) -> None:
    """Only the inventory role may book an account the stock is on: an adjustment booked
    Dr 1405 / Cr 1405 nets to nothing, and the account no longer equals the valuation."""
    data = _with({"role": "inventory", "account": "1405.99", "warehouse": "BJ"}, rule)
    if rule["role"] == "adjustment":  # the default rule of the role, replaced
        data["rules"] = [r for r in data["rules"] if r != {"role": "adjustment",
                                                           "account": "1901"}]
    says = _refused(data)
    assert f"role {rule['role']!r} on the inventory account {rule['account']!r}" in says


def test_every_document_type_is_a_journal_doc_type() -> None:
    assert {t.value for t in DocType} <= set(DOC_TYPES)


class _Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 1, 5, 9)

    def now(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=7)
        return self.at


def _invoiced(amount: str) -> tuple[Jxc, Documents, Accounting]:
    """A customer P owing ``amount`` (one sales invoice of 10 units at 20.00 + 13% VAT)."""
    j = Jxc(MemoryStorage(), clock=_Clock())
    j.define_item(Item("A", "a"))
    j.define_warehouse(Warehouse("W", "W"))
    j.define_party(Party("P", "p", "both"))
    docs, acc = Documents(j), Accounting(j)
    u = [User("boss", frozenset({"all"}))]

    def post(kind: str, lines: list[Line], party: str = "") -> str:
        return docs.approve_through(docs.create(kind, lines, party=party).doc_id, u).doc_id

    post("adjustment", [Line(1, "A", D(10), D("10.00"), warehouse="W")])
    dl = post("delivery", [Line(1, "A", D(10), D("20.00"), D("0.13"), warehouse="W")], "P")
    post("sales_invoice", [Line(1, "A", D(10), D("20.00"), D("0.13"), source=(dl, 1))], "P")
    assert sum((i.open for i in acc.open_items("receivable")), D(0)) == D(amount)
    return j, docs, acc


def test_a_settlement_number_is_used_once() -> None:
    """Two settlements under one number would be reversed together (126.00 for a cancel of
    the 26.00 one): the second is refused and writes nothing."""
    j, docs, acc = _invoiced("226.00")
    acc.settle("receivable", "P", D("100.00"), date=dt.date(2026, 1, 6), doc_id="SK-BANK-1")
    with j.storage.unit_of_work() as uow:
        before = uow.journal.all()
    with pytest.raises(JxcError) as err:
        acc.settle("receivable", "P", D("26.00"), date=dt.date(2026, 1, 7), doc_id="SK-BANK-1")
    assert err.value.code == "duplicate_key" and err.value.data["key"] == "SK-BANK-1"
    with j.storage.unit_of_work() as uow:
        assert uow.journal.all() == before
    # nor a document's number
    invoice = docs.ids("sales_invoice")[0]
    with pytest.raises(JxcError) as err:
        acc.settle("receivable", "P", D("26.00"), date=dt.date(2026, 1, 7), doc_id=invoice)
    assert err.value.code == "duplicate_key"
    rows = acc.cancel_settlement("SK-BANK-1")
    assert sum((r.debit for r in rows if r.role == "receivable"), D(0)) == D("100.00")
    assert sum((i.open for i in acc.open_items("receivable")), D(0)) == D("226.00")


def test_accounting_takes_a_loaded_mapping() -> None:
    j = Jxc(MemoryStorage())
    with pytest.raises(TypeError, match="AccountMapping"):
        Accounting(j, mapping=chinese_mapping().to_data())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Accounting(j, mapping={})  # type: ignore[arg-type]
    assert Accounting(j).mapping.name == chinese_mapping().name
