"""The compact lines of a document encoded again (the same lines: an order saved with new
counters) are new lists each time, equal to what the lines give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jxc_core.documents import DocType, Document, Line, document_from_data, document_to_data


def test_lines_encoded_again_are_equal_and_not_shared() -> None:
    lines = (Line(1, "A", Decimal("2.5"), Decimal("10.00"), Decimal("0.13"), warehouse="W1",
                  source=("CG-1", 1), expiry=dt.date(2027, 1, 1)),
             Line(2, "B", Decimal(1), warehouse="W1", serials=("S1", "S2")))
    doc = Document(DocType.PURCHASE_RECEIPT, "RK-1", "S1", dt.date(2026, 12, 1), "CNY", lines)
    first = document_to_data(doc, compact=True)
    first["lines"][0][12].append("changed")  # the caller's own lists
    first["lines"][1][17].append("S3")
    first["lines"][0][1] = "Z"
    again = document_to_data(doc, compact=True)
    assert again["lines"] == [
        [1, "A", "2.5", "10.00", "0.13", False, None, "W1", "", "", "", "2027-01-01",
         ["CG-1", 1], None, "0", "0", ""],
        [2, "B", "1", "0", "0", False, None, "W1", "", "", "", None, None, None, "0", "0", "",
         ["S1", "S2"]]]
    assert document_from_data(again) == doc
