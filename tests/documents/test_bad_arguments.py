"""Bad arguments to the public methods of Documents, Accounting and Jxc, on both adapters: a
``TypeError`` naming the argument for a value of the wrong Python type, a coded JxcError (with
its reason in English and in Chinese) for a value that means nothing, and nothing written —
never a raw ``AttributeError``, ``KeyError``, ``ValueError`` or ``calendar.IllegalMonthError``.
Unit conversions are exact or refused (DOMAIN.md 1), also for quantities typed as a fraction
of 28 digits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage
from jxc_core.documents import Line, document_from_data, document_to_data
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Jxc

from .support import BOSS, Shop

D = Decimal


def posted_invoice(shop: Shop) -> str:
    """A posted purchase invoice of S1 (an open payable of 11.30)."""
    rc = shop.receipt([Line(1, "A", D(10), D(1), D("0.13"), warehouse="W1")])
    return shop.run("purchase_invoice", [Line(1, "A", D(10), D(1), D("0.13"),
                                              source=(rc.doc_id, 1))], "S1").doc_id


# -- unit conversions: exact or refused ---------------------------------------------------------

@pytest.mark.parametrize("boxes", [D(5) / 12, D(1) / 3, D(7) / 12])
def test_a_return_in_boxes_that_is_not_whole_pieces_is_refused(shop: Shop, boxes: Decimal
                                                               ) -> None:
    """5/12 箱 typed with 28 digits (0.4166666666666666666666666667) is 5.0000...0004 个: the
    28-digit product rounded to 5 and the return posted 5 个."""
    shop.stock_in("A", D(24), D(10))
    delivery = shop.run("delivery", [Line(1, "A", D(2), D(200), unit="箱", warehouse="W1")],
                        "C1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.create("sales_return", [Line(1, "A", boxes, D(200), unit="箱", warehouse="W1",
                                               source=(delivery.doc_id, 1))], party="C1")
    assert err.value.code == "unit_conversion_inexact"
    with pytest.raises(JxcError) as err:
        shop.jxc.receive("A", "W1", boxes, D(1), unit="箱")
    assert err.value.code == "unit_conversion_inexact"
    assert shop.snapshot() == before
    # whole pieces in boxes still convert: 5/12 箱 exactly is not typeable, 0.5 箱 is 6 个
    shop.run("sales_return", [Line(1, "A", D("0.5"), D(200), unit="箱", warehouse="W1",
                                   source=(delivery.doc_id, 1))], "C1")
    assert shop.qty("A") == 6


# -- Documents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["submit", "approve", "reject", "post", "cancel", "close"])
def test_every_action_wants_a_user_not_a_name(shop: Shop, action: str) -> None:
    doc = shop.docs.create("adjustment", [Line(1, "A", D(1), D(1), warehouse="W1")])
    before = shop.snapshot()
    with pytest.raises(TypeError, match="user must be a User, got str 'boss'"):
        getattr(shop.docs, action)(doc.doc_id, "boss")
    assert shop.snapshot() == before


def test_the_other_user_arguments_want_a_user(shop: Shop) -> None:
    doc = shop.docs.create("adjustment", [Line(1, "A", D(1), D(1), warehouse="W1")])
    before = shop.snapshot()
    with pytest.raises(TypeError, match="user must be a User"):
        shop.docs.available_actions(doc.doc_id, "boss")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="user must be a User"):
        shop.docs.post_many([doc.doc_id], "boss")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"users\[1\] must be a User"):
        shop.docs.approve_through(doc.doc_id, [BOSS, "boss"])  # type: ignore[list-item]
    assert shop.snapshot() == before


def test_a_line_given_as_a_tuple_is_a_type_error_naming_it(shop: Shop) -> None:
    before = shop.snapshot()
    with pytest.raises(TypeError, match=r"lines\[1\] must be a Line, got tuple"):
        shop.docs.create("purchase_receipt", [Line(1, "A", D(1), D(1), warehouse="W1"),
                                              (2, "A", D(1))], party="S1")  # type: ignore[list-item]
    assert shop.snapshot() == before


@pytest.mark.parametrize(("source", "got"), [
    ("CG-1", "str"),  # read as its characters: line "G" of document "C"
    (["CG-1", 1], "list"),
    (("CG-1", "1"), "tuple"),
    (("CG-1",), "tuple"),
    ((1, 1), "tuple"),
])
def test_a_line_source_that_is_not_a_doc_id_and_line_no_is_a_type_error(
        shop: Shop, source: object, got: str) -> None:
    po = shop.po([Line(1, "A", D(1), D(1), warehouse="W1")]).doc_id
    before = shop.snapshot()
    with pytest.raises(TypeError, match=f"source must be None or a \\(doc_id, line_no\\) "
                                        f"tuple of a str and an int, got {got}"):
        shop.docs.create("purchase_receipt", [Line(1, "A", D(1), D(1), warehouse="W1",
                                                   source=source)],  # type: ignore[arg-type]
                         party="S1")
    assert shop.snapshot() == before
    shop.docs.create("purchase_receipt", [Line(1, "A", D(1), D(1), warehouse="W1",
                                               source=(po, 1))], party="S1")


def test_a_price_includes_tax_that_is_not_a_bool_is_a_type_error(shop: Shop) -> None:
    before = shop.snapshot()
    with pytest.raises(TypeError, match="price_includes_tax must be a bool, got str"):
        shop.docs.create("purchase_order", [Line(1, "A", D(1), D(1), warehouse="W1",
                                                 price_includes_tax="no")],  # type: ignore[arg-type]
                         party="S1")
    assert shop.snapshot() == before


def test_replenishment_arguments_of_the_wrong_type_are_type_errors(shop: Shop) -> None:
    """``draft_purchase_orders(["x"])`` leaked an AttributeError; ``user=None`` was stored as
    the creator of the orders (``user`` is who creates them, a str, as in ``create``)."""
    from jxc_core.stock.replenishment import PurchaseSuggestion, ReplenishmentRule

    good = PurchaseSuggestion("A", "W1", "S1", D(0), D(5), D(2))
    before = shop.snapshot()
    with pytest.raises(TypeError, match=r"suggestions\[0\] must be a PurchaseSuggestion, got str"):
        shop.docs.draft_purchase_orders(["x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="suggestions must be a list of PurchaseSuggestion"):
        shop.docs.draft_purchase_orders(good)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="user must be a str, got NoneType"):
        shop.docs.draft_purchase_orders([good], user=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tax_rate must be a Decimal or an int, got float"):
        shop.docs.draft_purchase_orders([good], tax_rate=0.13)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"rules\[0\] must be a ReplenishmentRule, got tuple"):
        shop.docs.suggest_purchases([("A", "W1", D(10))])  # type: ignore[list-item]
    assert shop.snapshot() == before
    assert shop.docs.suggest_purchases([ReplenishmentRule("A", "W1", D(10))])
    (order,) = shop.docs.draft_purchase_orders([good], user="planner")
    assert order.created_by == "planner"


def test_other_document_arguments_of_the_wrong_type_are_type_errors(shop: Shop) -> None:
    doc = shop.docs.create("stock_count", [Line(1, "A", D(0), warehouse="W1")])
    shop.docs.submit(doc.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(TypeError, match="doc must be a Document or its doc_id"):
        shop.docs.available_actions(None, BOSS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="blind must be a bool, got str"):
        shop.docs.count_sheet(doc.doc_id, blind="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="doc_id must be a str, got int"):
        shop.docs.record_count(5, {1: D(0)})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="doc_ids must be a list of document ids, got NoneType"):
        shop.docs.post_many(None, BOSS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lines must be a list of Line, got NoneType"):
        shop.docs.create("purchase_order", None, party="S1")  # type: ignore[arg-type]
    # a generator was read up by the check and the document refused as having no lines
    with pytest.raises(TypeError, match="lines must be a list of Line, got generator"):
        shop.docs.create("purchase_order", (x for x in [Line(1, "A", D(1), D(1))]),  # type: ignore[arg-type]
                         party="S1")
    assert shop.snapshot() == before
    assert shop.docs.available_actions(doc.doc_id, BOSS) == ["approve", "reject", "cancel"]


def test_accounting_codes_of_the_wrong_type_are_type_errors(shop: Shop) -> None:
    """``kind`` and ``by`` were refused as ``configuration`` whatever they were; an account,
    a party or a currency that is not a str read nothing, or leaked ``unhashable type``."""
    posted_invoice(shop)
    acc = Accounting(shop.jxc)
    before = shop.snapshot()
    for call, text in [
        (lambda: acc.open_items(None), "kind must be a str, got NoneType"),  # type: ignore[arg-type]
        (lambda: acc.open_items("payable", 5), "party must be a str, got int"),  # type: ignore[arg-type]
        (lambda: acc.aging(1, as_of=dt.date(2026, 3, 3)), "kind must be a str, got int"),  # type: ignore[arg-type]
        (lambda: acc.gross_profit(by=["item"]), "by must be a str, got list"),  # type: ignore[arg-type]
        (lambda: acc.account_balance(1405), "account must be a str, got int"),  # type: ignore[arg-type]
        (lambda: acc.settle(None, "S1", D(1), date=dt.date(2026, 3, 3)),  # type: ignore[arg-type]
         "kind must be a str, got NoneType"),
        (lambda: acc.settle("payable", "S1", D(1), date=dt.date(2026, 3, 3),
                            currency=["CNY"]),  # type: ignore[arg-type]
         "currency must be a str, got list"),
    ]:
        with pytest.raises(TypeError, match=text):
            call()
    with pytest.raises(JxcError) as err:  # a datetime is not a day (it was taken as midnight)
        acc.revalue_standard("A", D(1), date=dt.datetime(2026, 3, 3, 10, 0))  # type: ignore[arg-type]
    assert (err.value.code, err.value.data["field"]) == ("invalid_date", "date")
    with pytest.raises(JxcError) as err:  # a str is still a kind that is none of the two
        acc.open_items("payables")
    assert err.value.code == "configuration"
    assert shop.snapshot() == before


def test_an_unknown_document_type_is_a_coded_error_listing_the_types(shop: Shop) -> None:
    with pytest.raises(JxcError) as err:
        shop.docs.create("purchse_order", [Line(1, "A", D(1), D(1), warehouse="W1")],
                         party="S1")
    assert err.value.code == "invalid_document"
    assert err.value.data["field"] == "doc_type"
    assert err.value.data["doc_type"] == "purchse_order"
    assert "purchase_order, purchase_receipt" in str(err.value)
    assert "未知的单据类型" in err.value.message_zh
    with pytest.raises(TypeError, match="doc_type must be a DocType or a str"):
        shop.docs.create(3, [Line(1, "A", D(1), D(1), warehouse="W1")])  # type: ignore[arg-type]
    assert shop.docs.ids() == []


def test_listing_documents_by_a_misspelt_type_or_state_is_refused_not_empty(shop: Shop
                                                                           ) -> None:
    po = shop.po([Line(1, "A", D(1), D(1), warehouse="W1")]).doc_id
    assert shop.docs.ids("purchase_order", "posted") == [po]
    assert shop.docs.ids(state="draft") == []
    with pytest.raises(JxcError) as err:
        shop.docs.ids("purchse_order")
    assert (err.value.code, err.value.data["field"]) == ("invalid_document", "doc_type")
    with pytest.raises(JxcError) as err:
        shop.docs.ids(state="poste")
    assert (err.value.code, err.value.data["field"]) == ("invalid_document", "state")
    assert "draft, submitted" in str(err.value) and "未知的单据状态" in err.value.message_zh
    with pytest.raises(TypeError, match="state must be a State or a str"):
        shop.docs.ids(state=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="doc_id must be a str"):
        shop.docs.journal(7)  # type: ignore[arg-type]
    assert shop.docs.journal("nothing-R") == []


@pytest.mark.parametrize("missing", ["doc_id", "state", "lines", "history"])
def test_document_data_without_a_field_is_invalid_document_naming_it(shop: Shop, missing: str
                                                                      ) -> None:
    doc = shop.docs.create("purchase_receipt", [Line(1, "A", D(1), D(1), warehouse="W1")],
                           party="S1")
    data = document_to_data(doc)
    del data[missing]
    with pytest.raises(JxcError) as err:
        document_from_data(data)
    assert err.value.code == "invalid_document"
    assert err.value.data["field"] == missing
    assert repr(missing) in str(err.value) and "缺少字段" in err.value.message_zh


def test_a_form_of_a_few_fields_is_not_a_document() -> None:
    form = {"doc_type": "sales_order", "party": "C", "lines": [
        {"line_no": 1, "item": "A", "quantity": "10", "price": "12.50"}]}
    with pytest.raises(JxcError) as err:
        document_from_data(form)
    assert err.value.code == "invalid_document" and err.value.data["field"] == "doc_id"


# -- Accounting ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "field", "value"), [
    (lambda a: a.close_period(2026, 13), "month", 13),
    (lambda a: a.close_period(2026, 0), "month", 0),
    (lambda a: a.inventory_summary(2026, 0), "month", 0),
    (lambda a: a.inventory_summary(0, 3), "year", 0),
    (lambda a: a.reopen_period(2026, 13, user="cfo", reason="r"), "month", 13),
    (lambda a: a.vouchers("2026-3"), "period", "2026-3"),
    (lambda a: a.vouchers("2026"), "period", "2026"),
    (lambda a: a.vouchers("2026-13"), "period", "2026-13"),
    (lambda a: a.vouchers(""), "period", ""),
    (lambda a: a.trial_balance("2026-03-01"), "period", "2026-03-01"),
    (lambda a: a.account_balance("1405", "2026-00"), "period", "2026-00"),
    (lambda a: a.gross_profit("item", "garbage"), "period", "garbage"),
])
def test_a_month_or_period_that_names_no_month_is_invalid_period(
        shop: Shop, call: Callable[[Accounting], object], field: str, value: object) -> None:
    books = Accounting(shop.jxc)
    shop.stock_in("A", D(1), D(1))
    before = (shop.snapshot(), books.period_log())
    with pytest.raises(JxcError) as err:
        call(books)
    assert err.value.code == "invalid_period"
    assert err.value.data["field"] == field and err.value.data["value"] == value
    assert err.value.reason_zh and "会计期间无效" in err.value.message_zh
    assert (shop.snapshot(), books.period_log()) == before


def test_a_period_of_the_documented_forms_is_read(shop: Shop) -> None:
    books = Accounting(shop.jxc)
    shop.stock_in("A", D(3), D(2))
    books.generate_vouchers()
    assert len(books.vouchers("2026-03")) == len(books.vouchers()) == 1
    assert books.account_balance("1405", "2026-03") == books.account_balance("1405") == D(6)
    assert books.vouchers("2026-04") == []


@pytest.mark.parametrize(("call", "name"), [
    (lambda a: a.close_period("2026", 4), "year"),
    (lambda a: a.close_period(2026, 4.0), "month"),
    (lambda a: a.inventory_summary(2026, True), "month"),
    (lambda a: a.vouchers(202603), "period"),
])
def test_a_year_month_or_period_of_the_wrong_type_is_a_type_error(
        shop: Shop, call: Callable[[Accounting], object], name: str) -> None:
    with pytest.raises(TypeError, match=f"^{name} must be"):
        call(Accounting(shop.jxc))


@pytest.mark.parametrize("date", ["2026-03-03", dt.datetime(2026, 3, 3, 10, 0), None])
def test_a_settlement_date_is_a_date(shop: Shop, date: Any) -> None:
    books = Accounting(shop.jxc)
    posted_invoice(shop)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        books.settle("payable", "S1", D(1), date=date)
    assert err.value.code == "invalid_date" and err.value.data["field"] == "date"
    with pytest.raises(JxcError) as err:
        books.aging("payable", as_of=date)
    assert err.value.code == "invalid_date" and err.value.data["field"] == "as_of"
    assert shop.snapshot() == before


def test_settling_with_an_unknown_party_is_not_found(shop: Shop) -> None:
    books = Accounting(shop.jxc)
    posted_invoice(shop)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        books.settle("payable", "NOPE", D(1), date=dt.date(2026, 3, 3))
    assert err.value.code == "not_found"
    assert err.value.data == {"kind": "party", "key": "NOPE"}
    assert shop.snapshot() == before
    # a known party with nothing open is still over_settlement
    with pytest.raises(JxcError) as err:
        books.settle("receivable", "C1", D(1), date=dt.date(2026, 3, 3))
    assert err.value.code == "over_settlement"


# -- Jxc settings -------------------------------------------------------------------------------

@pytest.mark.parametrize(("kw", "message"), [
    ({"currency_digits": "2"}, "currency_digits must be an int, got str '2'"),
    ({"currency_digits": 2.0}, "currency_digits must be an int, got float 2.0"),
    ({"currency_digits": True}, "currency_digits must be an int, got bool True"),
    ({"currency_digits": None}, "currency_digits must be an int, got NoneType None"),
    ({"checkpoint_every": 64.0}, "checkpoint_every must be an int, got float 64.0"),
    ({"organisation_scope": "yes"}, "organisation_scope must be a bool, got str 'yes'"),
])
def test_a_setting_of_the_wrong_type_is_refused_at_construction(kw: dict[str, Any],
                                                                 message: str) -> None:
    with pytest.raises(TypeError) as err:
        Jxc(MemoryStorage(), **kw)
    assert str(err.value) == message


@pytest.mark.parametrize(("kw", "field"), [
    ({"currency_digits": -1}, "currency_digits"),
    ({"checkpoint_every": 0}, "checkpoint_every"),
])
def test_a_setting_out_of_range_is_refused_at_construction(kw: dict[str, Any], field: str
                                                           ) -> None:
    with pytest.raises(JxcError) as err:
        Jxc(MemoryStorage(), **kw)
    assert err.value.code == "configuration" and err.value.data["field"] == field
    assert err.value.reason_zh is not None


def test_valid_settings_construct() -> None:
    jxc = Jxc(MemoryStorage(), currency_digits=0, checkpoint_every=1, organisation_scope=True)
    assert (jxc.currency_digits, jxc.checkpoint_every, jxc.organisation_scope) == (0, 1, True)


@pytest.mark.parametrize("rate", [D(1), D(13), D("1.00")])
def test_a_tax_rate_of_one_or_more_names_its_field_and_line(shop: Shop, rate: Decimal) -> None:
    """13 (percent written as a number) would tax thirteen times the price: refused when the
    document is made, naming the field, the line and the rate (DOMAIN §9: the offending
    fields as data); nothing written."""
    lines = [Line(1, "A", D(1), D(1), D("0.13"), warehouse="W1"),
             Line(2, "A", D(1), D(1), rate, warehouse="W1")]
    with pytest.raises(JxcError) as e:
        shop.docs.create("purchase_order", lines, party="S1")
    assert e.value.code == "configuration"
    assert {k: e.value.data[k] for k in ("field", "line", "value")} == {
        "field": "tax_rate", "line": 2, "value": rate}
    assert shop.docs.ids() == []
