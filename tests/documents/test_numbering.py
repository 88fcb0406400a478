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

from .support import BOSS, Shop

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
    {"purchase_order": "CG{yyyy}-{MM}-{seq:03}"},  # {MM} would stay in every number as is
    {"purchase_order": "CG{seq}-{seq}"},  # two sequences
    {"adjustment": "ADJ{seq}-R"},  # -R marks a cancellation (红冲)
])
def test_bad_patterns_are_refused(shop: Shop, numbering: dict[str, Any]) -> None:
    with pytest.raises(JxcError) as e:
        Documents(shop.jxc, numbering=numbering)
    assert e.value.code == "configuration"
    assert e.value.data["field"] == "numbering"


def test_a_document_may_not_post_under_a_number_a_direct_posting_used(shop: Shop) -> None:
    """The ledger keeps one document per number: a direct posting took ``RK-7``, so the
    receipt numbered ``RK-7`` is refused at posting (``duplicate_key``), nothing written, and
    stays approved; the same holds for the number of a cancellation (``<doc_id>-R``)."""
    shop.jxc.receive("A", "W1", D(1), D("1.00"), doc_id="RK-7")
    doc_id = shop.approved("purchase_receipt", [Line(1, "A", D(2), D("2.00"), warehouse="W1")],
                           "S1", doc_id="RK-7")
    entries = len(shop.jxc.ledger("A", "W1"))
    with pytest.raises(JxcError) as exc:
        shop.docs.post(doc_id, BOSS)
    assert exc.value.code == "duplicate_key" and exc.value.data["doc_id"] == "RK-7"
    assert shop.docs.get(doc_id).state.value == "approved"
    assert (shop.qty("A"), len(shop.jxc.ledger("A", "W1"))) == (D(1), entries)

    posted = shop.run("purchase_receipt", [Line(1, "A", D(2), D("2.00"), warehouse="W1")],
                      "S1", doc_id="RK-8")
    shop.jxc.receive("A", "W1", D(1), D("1.00"), doc_id="RK-8-R")
    with pytest.raises(JxcError) as exc:
        shop.docs.cancel(posted.doc_id, BOSS)
    assert exc.value.code == "duplicate_key" and exc.value.data["doc_id"] == "RK-8-R"
    assert shop.docs.get(posted.doc_id).state.value == "posted"
    assert shop.qty("A") == D(4)


def test_numbering_skips_a_number_typed_by_hand(shop: Shop) -> None:
    """A number the pattern will draw later, typed in by hand (``doc_id``), is skipped: the
    numbered documents of that day go on around it instead of failing on it for the rest of
    the day (``duplicate_key``, the failed create giving its number back)."""
    line = [Line(1, "A", D(1), D(1), warehouse="W1")]
    made = [shop.docs.create("purchase_order", line, party="S1").doc_id]
    made.append(shop.docs.create("purchase_order", line, party="S1",
                                 doc_id="CG20260302-0002").doc_id)
    made.append(shop.docs.create("purchase_order", line, party="S1",
                                 doc_id="CG20260302-0003").doc_id)
    made += [shop.docs.create("purchase_order", line, party="S1").doc_id for _ in range(2)]
    assert made == ["CG20260302-0001", "CG20260302-0002", "CG20260302-0003",
                    "CG20260302-0004", "CG20260302-0005"]
    with pytest.raises(JxcError) as e:  # a number typed twice is still refused
        shop.docs.create("purchase_order", line, party="S1", doc_id="CG20260302-0004")
    assert e.value.code == "duplicate_key"
