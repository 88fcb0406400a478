"""Text, attributes and types at the boundary, on both adapters: a text that no store can keep
(a lone surrogate) is ``invalid_text`` naming the argument on MemoryStorage as on SQLite, an
attribute JSON would not read back as it is given is ``invalid_document`` naming its path, a
value of the wrong Python type is a ``TypeError`` naming it, and nothing is written."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.accounting.mapping import AccountMapping, chinese_mapping
from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.documents.workflow import User
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Jxc
from jxc_core.stock.model import Item, StockLevels, Warehouse

from .support import BOSS, Shop

D = Decimal
S = "\ud800"  # a lone surrogate: no UTF-8 store can keep it
LINE = Line(1, "A", D(1), D(1), warehouse="W1")
FORM = ('{"doc_type": "purchase_order", "party": "S1", "attributes": {"discount": 0.50, '
        '"terms": {"days": 30, "rate": 1.5}}, "lines": [{"item": "A", "quantity": 2, '
        '"price": 96.10, "warehouse": "W1"}]}')


# -- A: attributes ------------------------------------------------------------------------------

@pytest.mark.parametrize(("attributes", "field"), [
    ({"discount": D("0.5")}, "attributes.discount"),
    ({"discount": 0.5}, "attributes.discount"),
    ({"discount": float("nan")}, "attributes.discount"),
    ({"tags": {"a", "b"}}, "attributes.tags"),
    ({"pair": (1, 2)}, "attributes.pair"),
    ({"day": dt.date(2026, 3, 2)}, "attributes.day"),
    ({"terms": [1, {"rate": D(1)}]}, "attributes.terms[1].rate"),
    ({1: "x"}, "attributes"),
    ({"terms": {2: "x"}}, "attributes.terms"),
])
def test_an_attribute_json_would_change_is_refused_naming_its_path(
        shop: Shop, attributes: dict[Any, Any], field: str) -> None:
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.create("purchase_order", [LINE], party="S1", attributes=attributes)
    assert err.value.code == "invalid_document" and err.value.data["field"] == field
    assert err.value.reason_zh
    assert shop.snapshot() == before


def test_attributes_of_json_values_read_back_as_given(shop: Shop) -> None:
    attributes = {"a": "x", "n": 10**30, "b": True, "none": None, "l": [1, {"k": ["v"]}]}
    doc = shop.docs.create("purchase_order", [LINE], party="S1", attributes=attributes)
    assert shop.docs.get(doc.doc_id).attributes == attributes
    with pytest.raises(TypeError, match="attributes must be a dict or None"):
        shop.docs.create("purchase_order", [LINE], party="S1",
                         attributes=[("a", 1)])  # type: ignore[arg-type]


def test_a_form_parsed_with_decimals_keeps_attribute_numbers_as_their_exact_text(shop: Shop
                                                                                 ) -> None:
    """The documented ``json.loads(text, parse_float=Decimal)``: a number in the attributes
    is kept as the text typed (a raw TypeError from the JSON encoder before)."""
    doc = shop.docs.create_from_form(json.loads(FORM, parse_float=Decimal))
    expected = {"discount": "0.50", "terms": {"days": 30, "rate": "1.5"}}
    assert doc.attributes == expected
    assert shop.docs.get(doc.doc_id).attributes == expected
    assert doc.lines[0].price == D("96.10")
    # a float in the attributes of a form is refused, as by create
    form = json.loads(FORM, parse_float=Decimal)
    form["attributes"] = {"discount": 0.5}
    with pytest.raises(JxcError) as err:
        shop.docs.create_from_form(form)
    assert err.value.data["field"] == "attributes.discount"


# -- B: text a store cannot keep ----------------------------------------------------------------

def _invalid_text(call: Callable[[], object], field: str) -> None:
    with pytest.raises(JxcError) as err:
        call()
    assert err.value.code == "invalid_text" and err.value.data["field"] == field


@pytest.mark.parametrize(("kw", "field"), [
    ({"party": S}, "party"), ({"user": S}, "user"), ({"currency": S}, "currency"),
    ({"doc_id": S}, "doc_id")])
def test_a_document_with_a_lone_surrogate_is_invalid_text_naming_the_argument(
        shop: Shop, kw: dict[str, Any], field: str) -> None:
    before = shop.snapshot()
    _invalid_text(lambda: shop.docs.create("purchase_order", [LINE], **kw), field)
    assert shop.snapshot() == before


def test_a_lone_surrogate_in_an_action_or_a_user_is_invalid_text(shop: Shop) -> None:
    doc = shop.docs.create("adjustment", [LINE])
    before = shop.snapshot()
    _invalid_text(lambda: shop.docs.submit(doc.doc_id, BOSS, comment=S), "comment")
    _invalid_text(lambda: User(S, {"all"}), "name")
    _invalid_text(lambda: User("x", {S}), "roles[0]")
    _invalid_text(lambda: shop.docs.get(S), "doc_id")
    _invalid_text(lambda: shop.docs.submit(S, BOSS), "doc_id")
    _invalid_text(lambda: shop.docs.post_many([doc.doc_id, S], BOSS), "doc_ids[1]")
    assert shop.snapshot() == before


def test_a_lone_surrogate_in_accounting_is_invalid_text(shop: Shop) -> None:
    books = Accounting(shop.jxc)
    before = (shop.snapshot(), books.period_log())
    _invalid_text(lambda: books.close_period(2026, 1, user=S), "user")
    _invalid_text(lambda: books.reopen_period(2026, 1, user=S, reason="r"), "user")
    _invalid_text(lambda: books.reopen_period(2026, 1, user="u", reason=S), "reason")
    day = dt.date(2026, 3, 3)
    _invalid_text(lambda: books.settle("payable", S, D(1), date=day), "party")
    _invalid_text(lambda: books.settle("payable", "S1", D(1), date=day, doc_id=S), "doc_id")
    _invalid_text(lambda: books.settle("payable", "S1", D(1), date=day, invoices=[S]),
                  "invoices[0]")
    _invalid_text(lambda: books.cancel_settlement(S), "number")
    assert (shop.snapshot(), books.period_log()) == before


@pytest.mark.parametrize(("item", "field"), [
    (Item("X1", "x", base_unit=S), "base_unit"),
    (Item("X2", "x", units={S: D(2)}), "units"),
    (Item("X3", "x", category=S), "category"),
    (Item("X4", "x", levels={S: StockLevels()}), "levels"),
])
def test_an_item_with_a_lone_surrogate_is_invalid_text(shop: Shop, item: Item, field: str
                                                       ) -> None:
    _invalid_text(lambda: shop.jxc.define_item(item), field)
    with pytest.raises(JxcError) as err:
        shop.jxc.item(item.code)
    assert err.value.code == "not_found"


def test_a_warehouse_is_checked_before_it_is_stored(shop: Shop) -> None:
    _invalid_text(lambda: shop.jxc.define_warehouse(Warehouse("W9", "w", locations=(S,))),
                  "locations[0]")
    with pytest.raises(TypeError, match="locations must be a list of str, got str 'L1'"):
        shop.jxc.define_warehouse(Warehouse("W9", "w", locations="L1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="in_transit must be a bool, got str 'no'"):
        shop.jxc.define_warehouse(Warehouse("W9", "w", in_transit="no"))  # type: ignore[arg-type]
    shop.jxc.define_warehouse(Warehouse("W9", "w", locations=["L1", "L2"]))  # type: ignore[arg-type]
    with shop.jxc.storage.unit_of_work() as uow:
        assert uow.master.get_warehouse("W9") == Warehouse("W9", "w", ("L1", "L2"))


def test_an_account_mapping_with_a_lone_surrogate_is_invalid_text() -> None:
    data = chinese_mapping().to_data()
    bad = dict(data, accounts={**data["accounts"], "9999": "x" + S})
    with pytest.raises(JxcError) as err:
        AccountMapping.from_data(bad)
    assert err.value.code == "invalid_text" and err.value.data["field"] == "accounts['9999']"
    bad = dict(data, accounts={**data["accounts"], S: "x"})
    with pytest.raises(JxcError) as err:
        AccountMapping.from_data(bad)
    assert err.value.code == "invalid_text" and err.value.data["field"] == "accounts"


# -- C: the SQLite path -------------------------------------------------------------------------

def test_a_sqlite_path_is_a_str_that_sqlite_can_open(tmp_path: Path) -> None:
    with pytest.raises(JxcError) as err:
        SqliteStorage(str(tmp_path / f"{S}.db"))
    assert err.value.code == "configuration" and err.value.data["field"] == "path"
    assert err.value.reason_zh
    with pytest.raises(TypeError, match="path must be a str"):
        SqliteStorage(None)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# -- D: types -----------------------------------------------------------------------------------

def test_a_user_name_is_a_str() -> None:
    for name in (None, 5, ("a",)):
        with pytest.raises(TypeError, match="name must be a str"):
            User(name)  # type: ignore[arg-type]


def test_the_text_arguments_of_documents_are_str(shop: Shop) -> None:
    doc = shop.docs.create("adjustment", [LINE])
    before = shop.snapshot()
    with pytest.raises(TypeError, match="user must be a str"):
        shop.docs.create("adjustment", [LINE], user=None)  # type: ignore[arg-type]
    for comment in (None, 5):
        with pytest.raises(TypeError, match="comment must be a str"):
            shop.docs.submit(doc.doc_id, BOSS, comment=comment)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="doc_ids must be a list of document ids"):
        shop.docs.post_many(doc.doc_id, BOSS)
    assert shop.snapshot() == before


def test_approve_through_needs_at_least_one_user(shop: Shop) -> None:
    doc = shop.docs.create("adjustment", [LINE])
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.approve_through(doc.doc_id, [])
    assert err.value.code == "invalid_document" and err.value.data["field"] == "users"
    assert err.value.reason_zh
    with pytest.raises(TypeError, match="users must be a list of User"):
        shop.docs.approve_through(doc.doc_id, BOSS)  # type: ignore[arg-type]
    assert shop.snapshot() == before


def test_the_arguments_of_accounting_have_their_types(shop: Shop) -> None:
    books = Accounting(shop.jxc)
    before = (shop.snapshot(), books.period_log())
    with pytest.raises(TypeError, match="user must be a str"):
        books.close_period(2026, 1, user=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="strict must be a bool, got str 'no'"):
        books.close_period(2026, 1, strict="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="user must be a str"):
        books.reopen_period(2026, 1, user=None, reason=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reason must be a str"):
        books.reopen_period(2026, 1, user="u", reason=None)  # type: ignore[arg-type]
    for number in (None, 5):
        with pytest.raises(TypeError, match="number must be a str"):
            books.cancel_settlement(number)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="party must be a str"):
        books.settle("payable", None, D(1), date=dt.date(2026, 3, 3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="invoices must be a list of str"):
        books.settle("payable", "S1", D(1), date=dt.date(2026, 3, 3), invoices="INV")
    assert (shop.snapshot(), books.period_log()) == before


@pytest.mark.parametrize(("kw", "message"), [
    ({"digits_by_currency": [("USD", 2)]}, "digits_by_currency must be a dict"),
    ({"clock": "x"}, "clock must have a now"),
])
def test_a_setting_of_the_wrong_type_is_a_type_error(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Jxc(MemoryStorage(), **kw)


# -- E: currency digits -------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{"currency_digits": 8}, {"currency_digits": 27},
                                {"digits_by_currency": {"USD": 8}}])
def test_currency_digits_are_bounded_at_construction(kw: dict[str, Any]) -> None:
    with pytest.raises(JxcError) as err:
        Jxc(MemoryStorage(), **kw)
    assert err.value.code == "configuration" and err.value.reason_zh


def test_the_most_currency_digits_still_post_the_largest_amounts() -> None:
    """7 decimals: an amount just below 10**21 still has its 28 digits."""
    jxc = Jxc(MemoryStorage(), currency_digits=7)
    jxc.define_item(Item("A", "a"))
    jxc.define_warehouse(Warehouse("W1", "w"))
    jxc.receive("A", "W1", D(10**6 - 1), D(10**15 - 1))
    assert jxc.stock_balances()[0].value == D(10**6 - 1) * D(10**15 - 1)


# -- F: years -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda a: a.inventory_summary(1, 1),
    lambda a: a.reopen_period(1, 1, user="u", reason="r"),
    lambda a: a.close_period(1, 1),
    lambda a: a.inventory_summary(9999, 12),
])
def test_a_year_out_of_the_calendar_is_invalid_period(
        shop: Shop, call: Callable[[Accounting], object]) -> None:
    books = Accounting(shop.jxc)
    with pytest.raises(JxcError) as err:
        call(books)
    assert err.value.code == "invalid_period" and err.value.data["field"] == "year"
