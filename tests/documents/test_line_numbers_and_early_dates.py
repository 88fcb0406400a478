"""Line numbers every adapter stores, and days before the year 1000.

A document line's number is a whole number from 1 to ``MAX_LINE_NO`` (PostgreSQL's INTEGER):
``Documents.create`` refuses anything else with ``invalid_document``, as a form's line does
(SQLite raised ``OverflowError`` when such a document was posted, from 2**63 on). A day of
the year 1 still has a ``YYYY-MM`` period and an eight-digit ``{yyyyMMdd}`` in its number
(``strftime("%Y")`` writes that year as ``1``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.services import Accounting
from jxc_core.services.documents import format_number
from jxc_core.values import MAX_LINE_NO, period_key

from .support import BOSS, Shop

D = Decimal


@pytest.mark.parametrize("line_no", [0, -1, MAX_LINE_NO + 1, 2**63])
def test_line_numbers_outside_the_range_are_refused(shop: Shop, line_no: int) -> None:
    before = shop.docs.ids()
    with pytest.raises(JxcError) as e:
        shop.docs.create("purchase_receipt", [Line(line_no, "A", D(1), D(2), warehouse="W1")],
                         party="S1")
    assert e.value.code == "invalid_document"
    assert e.value.data["field"] == "line_no"
    assert str(MAX_LINE_NO) in e.value.message_zh
    assert shop.docs.ids() == before


def test_the_largest_line_number_posts(shop: Shop) -> None:
    doc = shop.docs.create("purchase_receipt",
                           [Line(MAX_LINE_NO, "A", D(1), D(2), warehouse="W1")], party="S1")
    posted = shop.docs.approve_through(doc.doc_id, [BOSS])
    assert posted.counter(MAX_LINE_NO, "received") == D(1)
    entries = shop.jxc.ledger("A", "W1")
    assert [x.entry.line_no for x in entries] == [MAX_LINE_NO]


def test_a_day_of_the_year_one_has_a_four_digit_period(shop: Shop) -> None:
    day = dt.date(1, 1, 1)
    assert period_key(day) == "0001-01"
    assert format_number("CG{yyyyMMdd}-{seq:04}", day, 1) == "CG00010101-0001"
    assert format_number("CG{yyyyMM}{yyyy}{seq}", day, 2) == "CG0001010001" + "2"
    doc = shop.docs.create("purchase_receipt", [Line(1, "A", D(1), D(2), warehouse="W1")],
                           party="S1", date=day)
    shop.docs.approve_through(doc.doc_id, [BOSS])
    books = Accounting(shop.jxc)
    made = books.generate_vouchers()
    assert [v.period for v in made] == ["0001-01"]
    assert made[0].number.startswith("记-0001-01-")
    assert [v.number for v in books.vouchers("0001-01")] == [made[0].number]
