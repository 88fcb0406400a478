"""Documents from forms (JSON as a web form or a low-code platform sends it): numbers as text
read exactly, floats refused, unknown keys refused, every refusal naming its field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import Line, document_form, line_from_form
from jxc_core.errors import JxcError

from .support import BOSS, Shop

D = Decimal

FORM = """{"doc_type": "purchase_order", "party": "S1", "date": "2026-03-02",
           "attributes": {"note": "rush"},
           "lines": [{"item": "A", "quantity": "2", "unit": "箱", "price": "96.10",
                      "tax_rate": "0.13", "warehouse": "W1"},
                     {"item": "B", "quantity": 5, "price": "8", "warehouse": "W2",
                      "price_includes_tax": true, "tax_rate": "0.13"}]}"""


def test_a_form_gives_the_lines_create_takes() -> None:
    f = document_form(json.loads(FORM))
    assert f.doc_type == "purchase_order"
    assert (f.party, f.date, f.attributes) == ("S1", dt.date(2026, 3, 2), {"note": "rush"})
    assert f.lines == (
        Line(1, "A", D("2"), D("96.10"), D("0.13"), unit="箱", warehouse="W1"),
        Line(2, "B", D(5), D("8"), D("0.13"), price_includes_tax=True, warehouse="W2"))
    assert str(f.lines[0].price) == "96.10"  # exactly the text: no float on the way


def test_create_from_form_makes_the_document(shop: Shop) -> None:
    doc = shop.docs.create_from_form(json.loads(FORM), user="clerk")
    assert (doc.doc_type.value, doc.party, doc.date) == ("purchase_order", "S1",
                                                          dt.date(2026, 3, 2))
    assert doc.lines[0].amounts().net == D("192.20")
    shop.docs.approve_through(doc.doc_id, [BOSS])
    assert shop.jxc.balance("A", "W1").on_order == 24  # 2 箱 of 12


def test_json_parsed_with_decimal_floats_is_read_exactly(shop: Shop) -> None:
    data = json.loads(FORM.replace('"96.10"', "96.10"), parse_float=D)
    assert document_form(data).lines[0].price == D("96.10")


@pytest.mark.parametrize(("line", "field", "words"), [
    ({"item": "A", "quantity": 0.1}, "lines[0].quantity", "float"),
    ({"item": "A", "quantity": "1", "price": "8,10"}, "lines[0].price", "not a number"),
    ({"item": "A", "quantity": "1", "price": " 8"}, "lines[0].price", "not a number"),
    ({"item": "A", "quantity": "NaN"}, "lines[0].quantity", "not a number"),
    ({"item": "A", "quantity": "1_000"}, "lines[0].quantity", "not a number"),
    ({"item": "A", "quantity": "１２"}, "lines[0].quantity", "not a number"),
    ({"item": "A", "quantity": "١٢"}, "lines[0].quantity", "not a number"),
    ({"item": "A", "quantity": "Infinity"}, "lines[0].quantity", "not a number"),
    ({"item": "A", "quantity": "1", "expiry": "2026-W10-1"}, "lines[0].expiry", "YYYY-MM-DD"),
    ({"item": "A", "quantity": "1", "expiry": "20260302  "}, "lines[0].expiry", "YYYY-MM-DD"),
    ({"item": "A", "quantity": True}, "lines[0].quantity", "bool"),
    ({"item": "A", "qty": "1"}, "lines[0]", "unknown field(s) qty"),
    ({"item": "A"}, "lines[0].quantity", "required"),
    ({"item": 7, "quantity": "1"}, "lines[0].item", "must be text"),
    ({"item": "A", "quantity": "1", "expiry": "2026/3/2"}, "lines[0].expiry", "YYYY-MM-DD"),
    ({"item": "A", "quantity": "1", "source": "PO-1/1"}, "lines[0].source", "[doc_id, line_no]"),
    ({"item": "A", "quantity": "1", "line_no": 0}, "lines[0].line_no", "from 1"),
    ({"item": "A", "quantity": "1", "price_includes_tax": "yes"},
     "lines[0].price_includes_tax", "true or false"),
    ({"item": "A", "quantity": "1", "serials": ["S1", 2]}, "lines[0].serials[1]", "text"),
])
def test_a_bad_line_is_refused_naming_its_field(
        shop: Shop, line: dict[str, Any], field: str, words: str) -> None:
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.create_from_form({"doc_type": "purchase_order", "party": "S1",
                                    "lines": [line]})
    assert err.value.code == "invalid_document"
    assert err.value.data["field"] == field
    assert words in str(err.value)
    assert err.value.message("zh_CN") != str(err.value)
    assert shop.snapshot() == before


@pytest.mark.parametrize(("form", "field"), [
    ({"doc_type": "purchase_order", "lines": [], "vendor": "S1"}, "form"),
    ({"doc_type": "purchase_order", "lines": {"item": "A"}}, "lines"),
    ({"doc_type": "purchase_order", "lines": [], "date": "02.03.2026"}, "date"),
    ({"doc_type": 3, "lines": []}, "doc_type"),
    ({"doc_type": "purchase_order", "lines": [], "attributes": ["x"]}, "attributes"),
    ({"doc_type": "purchase_order", "lines": ["A"]}, "lines[0]"),
])
def test_a_bad_form_is_refused_naming_its_field(form: dict[str, Any], field: str) -> None:
    with pytest.raises(JxcError) as err:
        document_form(form)
    assert (err.value.code, err.value.data["field"]) == ("invalid_document", field)


def test_line_numbers_default_to_the_position_and_may_be_given() -> None:
    f = document_form({"doc_type": "delivery", "lines": [
        {"item": "A", "quantity": "1"}, {"item": "A", "quantity": "2", "line_no": 7},
        {"item": "A", "quantity": "3", "source": ["SO-1", 2], "serials": ["X1", "X2", "X3"]}]})
    assert [x.line_no for x in f.lines] == [1, 7, 3]
    assert (f.lines[2].source, f.lines[2].serials) == (("SO-1", 2), ("X1", "X2", "X3"))
    assert line_from_form({"item": "A", "quantity": "1", "counted": None}).counted is None


def test_the_document_rules_still_apply(shop: Shop) -> None:
    with pytest.raises(JxcError) as err:  # read fine, refused by create: unknown item
        shop.docs.create_from_form({"doc_type": "purchase_order", "party": "S1",
                                    "lines": [{"item": "NOPE", "quantity": "1"}]})
    assert err.value.code == "not_found"


@pytest.mark.parametrize("doc_id", ["PO-1-R", "", "  "])
def test_a_number_that_would_look_like_a_cancellation_or_nothing_is_refused(
        shop: Shop, doc_id: str) -> None:
    """``<id>-R`` is the number of the cancellation of ``<id>`` in the ledger and the journal:
    a document of its own under it would mix with that cancellation's rows."""
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.create("purchase_order", [Line(1, "A", D(1), D("1.00"), warehouse="W1")],
                         party="S1", doc_id=doc_id)
    assert (err.value.code, err.value.data["field"]) == ("invalid_document", "doc_id")
    assert shop.snapshot() == before
