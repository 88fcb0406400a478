"""Document numbers from the numbering pattern (``Documents(numbering=...)``): a pattern per
document type with ``{yyyyMMdd}``/``{yyyyMM}``/``{yyyy}`` and ``{seq[:0N]}``; a pattern for an
unknown type, or one without ``{seq}`` (every number would be the same), is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import DocType, Line
from jxc_core.errors import JxcError
from jxc_core.services import Documents

from .support import Shop

D = Decimal


def test_patterns_number_documents(shop: Shop) -> None:
    docs = Documents(shop.jxc, numbering={"purchase_order": "PO-{yyyy}-{seq:05}",
                                          DocType.DELIVERY: "OUT{yyyyMM}/{seq}"})
    first = docs.create("purchase_order", [Line(1, "A", D(1), D(1), warehouse="W1")],
                        party="S1")
    second = docs.create("purchase_order", [Line(1, "A", D(1), D(1), warehouse="W1")],
                         party="S1")
    assert (first.doc_id, second.doc_id) == ("PO-2026-00001", "PO-2026-00002")
    out = docs.create("delivery", [Line(1, "A", D(1), D(1), warehouse="W1")], party="C1")
    assert out.doc_id == "OUT202603/1"


@pytest.mark.parametrize("numbering", [
    {"purchse_order": "CG{seq}"},  # misspelt: would number nothing
    {"purchase_order": "CG-FIXED"},  # no {seq}: every order the same number
    {"purchase_order": 5},
])
def test_bad_patterns_are_refused(shop: Shop, numbering: dict[str, Any]) -> None:
    with pytest.raises(JxcError) as e:
        Documents(shop.jxc, numbering=numbering)
    assert e.value.code == "configuration"
    assert e.value.data["field"] == "numbering"
