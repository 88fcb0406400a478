"""Bad input for every document type: a coded JxcError (or TypeError for floats), and
nothing written — no document id, no ledger entry, no journal row, no balance change."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest

from jxc_core.documents import DocType, Document, Line
from jxc_core.errors import JxcError

from .support import BOSS, Shop

D = Decimal

SUPPLIER = {"purchase_order", "purchase_receipt", "purchase_return", "purchase_invoice",
            "landed_cost"}
CUSTOMER = {"sales_order", "delivery", "sales_return", "sales_invoice"}
SOURCED = {"purchase_receipt": "po", "delivery": "so", "purchase_return": "rc",
           "purchase_invoice": "rc", "sales_return": "dl", "sales_invoice": "dl"}
NEEDS_SOURCE = {"purchase_return", "purchase_invoice", "sales_return", "sales_invoice"}
NO_WAREHOUSE = {"purchase_invoice", "sales_invoice", "landed_cost"}
ALL = [t.value for t in DocType]


@attrs.frozen
class Case:
    lines: list[Line]
    party: str
    attributes: dict[str, Any]


def world(shop: Shop) -> dict[str, Document]:
    """Posted sources: an order, a receipt, a sales order and a delivery (A, unit None)."""
    po = shop.po([Line(1, "A", D(10), D(10), warehouse="W1")])
    rc = shop.receipt([Line(1, "A", D(10), D(10), warehouse="W1", source=(po.doc_id, 1))])
    so = shop.run("sales_order", [Line(1, "A", D(5), D(20), warehouse="W1")], "C1")
    dl = shop.run("delivery", [Line(1, "A", D(5), D(20), warehouse="W1",
                                    source=(so.doc_id, 1))], "C1")
    return {"po": po, "rc": rc, "so": so, "dl": dl}


def valid(kind: str, w: dict[str, Document]) -> Case:
    """A document of ``kind`` that would be accepted."""
    party = "S1" if kind in SUPPLIER else "C1" if kind in CUSTOMER else ""
    attributes: dict[str, Any] = {}
    if kind == "landed_cost":
        line = Line(1, "freight", D(1), D(5))
        attributes = {"receipts": [w["rc"].doc_id], "basis": "quantity"}
    else:
        line = Line(1, "A", D(1), D(10), warehouse="" if kind in NO_WAREHOUSE else "W1")
    if kind in SOURCED:
        line = attrs.evolve(line, source=(w[SOURCED[kind]].doc_id, 1))
    if kind == "transfer":
        line = attrs.evolve(line, to_warehouse="W2")
    return Case([line], party, attributes)


def first(case: Case, **changes: Any) -> Case:
    return attrs.evolve(case, lines=[attrs.evolve(case.lines[0], **changes)])


Mutation = Callable[[str, Case, dict[str, Document]], Case | None]

#: name -> (applies to, mutation, expected code)
MUTATIONS: dict[str, tuple[set[str], Mutation, str]] = {
    # internal documents need no party, but one named must exist (no dangling code)
    "unknown_party": (set(ALL), lambda k, c, w: attrs.evolve(c, party="NOPE"), "not_found"),
    "no_party": (SUPPLIER | CUSTOMER, lambda k, c, w: attrs.evolve(c, party=""),
                 "not_found"),
    "wrong_kind_of_party": (SUPPLIER | CUSTOMER, lambda k, c, w: attrs.evolve(
        c, party="C1" if k in SUPPLIER else "S1"), "invalid_document"),
    "empty": (set(ALL), lambda k, c, w: attrs.evolve(c, lines=[]), "invalid_document"),
    "negative_price": (set(ALL), lambda k, c, w: first(c, price=D("-0.01")),
                       "negative_amount"),
    "negative_weight": (set(ALL), lambda k, c, w: first(c, weight=D("-0.1")),
                        "negative_amount"),
    "negative_volume": (set(ALL), lambda k, c, w: first(c, volume=D(-1)), "negative_amount"),
    "negative_counted": (set(ALL), lambda k, c, w: first(c, counted=D(-1)),
                         "invalid_quantity"),
    "tax_rate_not_a_fraction": (set(ALL), lambda k, c, w: first(c, tax_rate=D(13)),
                                "configuration"),
    "zero_quantity": (set(ALL) - {"stock_count"}, lambda k, c, w: first(c, quantity=D(0)),
                      "invalid_quantity"),
    "negative_quantity": (set(ALL) - {"adjustment"},
                          lambda k, c, w: first(c, quantity=D(-1)), "invalid_quantity"),
    "unit_differs_from_source": (set(SOURCED), lambda k, c, w: first(c, unit="箱"),
                                 "invalid_document"),
    "item_differs_from_source": (set(SOURCED), lambda k, c, w: first(c, item="C"),
                                 "invalid_document"),
    "source_of_the_wrong_type": (set(SOURCED), lambda k, c, w: first(
        c, source=(w["so" if SOURCED[k] in ("po", "rc") else "po"].doc_id, 1)),
        "invalid_document"),
    "unknown_source": (set(SOURCED), lambda k, c, w: first(c, source=("NOPE", 1)),
                       "not_found"),
    "unknown_source_line": (set(SOURCED), lambda k, c, w: first(
        c, source=(c.lines[0].source[0] if c.lines[0].source else "", 9)), "not_found"),
    "missing_source": (NEEDS_SOURCE, lambda k, c, w: first(c, source=None),
                       "invalid_document"),
    "unknown_item": (set(ALL) - {"landed_cost"}, lambda k, c, w: first(c, item="NOPE"),
                     "not_found"),
    "unknown_unit": (set(ALL) - {"landed_cost"} - set(SOURCED),
                     lambda k, c, w: first(c, unit="袋"), "unknown_unit"),
    "unknown_warehouse": (set(ALL) - NO_WAREHOUSE, lambda k, c, w: first(c, warehouse="W9"),
                          "not_found"),
    # an invoice needs no warehouse (its source line's counts), but one named must exist
    "unknown_warehouse_of_an_invoice": (
        {"purchase_invoice", "sales_invoice"}, lambda k, c, w: first(c, warehouse="W9"),
        "not_found"),
    "no_warehouse": (set(ALL) - NO_WAREHOUSE, lambda k, c, w: first(c, warehouse=""),
                     "invalid_document"),
    "unknown_target_warehouse": ({"transfer"}, lambda k, c, w: first(c, to_warehouse="W9"),
                                 "not_found"),
    "same_warehouse": ({"transfer"}, lambda k, c, w: first(c, to_warehouse="W1"),
                       "same_warehouse"),
    "line_no_zero": (set(ALL), lambda k, c, w: first(c, line_no=0), "invalid_document"),
    "line_no_beyond_any_adapter": (set(ALL), lambda k, c, w: first(c, line_no=2**63),
                                   "invalid_document"),
    "duplicate_line_no": (set(ALL), lambda k, c, w: attrs.evolve(
        c, lines=[c.lines[0], c.lines[0]]), "invalid_document"),
    "same_stock_counted_twice": ({"stock_count"}, lambda k, c, w: attrs.evolve(
        c, lines=[c.lines[0], attrs.evolve(c.lines[0], line_no=2)]), "duplicate_count_line"),
    "landed_cost_without_receipts": ({"landed_cost"}, lambda k, c, w: attrs.evolve(
        c, attributes={"basis": "value"}), "invalid_document"),
    "landed_cost_on_an_order": ({"landed_cost"}, lambda k, c, w: attrs.evolve(
        c, attributes={"receipts": [w["po"].doc_id]}), "invalid_document"),
    "landed_cost_on_unknown_receipt": ({"landed_cost"}, lambda k, c, w: attrs.evolve(
        c, attributes={"receipts": ["NOPE"]}), "not_found"),
}

BUGS: dict[tuple[str, str], str] = {}  # (mutation, kind) -> reason: known bugs, as xfail


def params() -> list[Any]:
    out = []
    for name, (kinds, _, code) in MUTATIONS.items():
        for kind in ALL:
            if kind not in kinds:
                continue
            marks = []
            if (name, kind) in BUGS:
                marks = [pytest.mark.xfail(strict=True, reason=BUGS[(name, kind)])]
            out.append(pytest.param(kind, name, code, marks=marks, id=f"{kind}-{name}"))
    return out


def test_every_valid_document_is_accepted(shop: Shop) -> None:
    """The baseline of the mutations below: each valid case is created."""
    w = world(shop)
    for kind in ALL:
        c = valid(kind, w)
        doc = shop.docs.create(kind, c.lines, party=c.party, attributes=c.attributes)
        assert doc.doc_type == kind
    assert len(shop.docs.ids(state="draft")) == len(ALL)


@pytest.mark.parametrize(("kind", "name", "code"), params())
def test_bad_document_is_refused_with_a_code(shop: Shop, kind: str, name: str,
                                             code: str) -> None:
    w = world(shop)
    case = MUTATIONS[name][1](kind, valid(kind, w), w)
    assert case is not None
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.create(kind, case.lines, party=case.party, attributes=case.attributes)
    assert err.value.code == code
    assert err.value.message("zh_CN")  # a human message in Chinese too
    assert shop.snapshot() == before


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("field", ["quantity", "price", "tax_rate", "weight", "volume",
                                   "counted"])
def test_float_numbers_are_refused(shop: Shop, kind: str, field: str) -> None:
    w = world(shop)
    case = first(valid(kind, w), **{field: 1.5 if field != "tax_rate" else 0.13})
    before = shop.snapshot()
    with pytest.raises(TypeError, match=field):
        shop.docs.create(kind, case.lines, party=case.party, attributes=case.attributes)
    assert shop.snapshot() == before


#: (field, value): not a Decimal or an int (a line number: not an int)
WRONG_TYPES = [("weight", "2"), ("volume", "0.5"), ("counted", "3"), ("quantity", "1"),
               ("line_no", "1"), ("line_no", 1.0), ("line_no", True), ("line_no", D(1))]


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize(("field", "value"), WRONG_TYPES)
def test_line_fields_of_the_wrong_type_are_refused(shop: Shop, kind: str, field: str,
                                                   value: object) -> None:
    w = world(shop)
    case = first(valid(kind, w), **{field: value})
    before = shop.snapshot()
    with pytest.raises(TypeError, match=field):
        shop.docs.create(kind, case.lines, party=case.party, attributes=case.attributes)
    assert shop.snapshot() == before


def test_unknown_landed_cost_basis_is_a_coded_error(shop: Shop) -> None:
    w = world(shop)
    before = shop.snapshot()
    with pytest.raises(JxcError):
        shop.docs.create("landed_cost", [Line(1, "freight", D(1), D(5))], party="S1",
                         attributes={"receipts": [w["rc"].doc_id], "basis": "by_mood"})
    assert shop.snapshot() == before


@pytest.mark.parametrize(("receipts", "why"), [
    (["{rc}", "{rc}"], "named twice"),
    ("{rc}", "list of receipt numbers"),
    ([1], "list of receipt numbers"),
])
def test_landed_cost_receipts_are_refused_at_creation(shop: Shop, receipts: object,
                                                      why: str) -> None:
    """Named twice (it was refused only at posting, leaving an approved document that could
    never post), or not a list of numbers: refused when created, nothing written."""
    w = world(shop)
    rc = w["rc"].doc_id
    given = (receipts.format(rc=rc) if isinstance(receipts, str) else
             [r.format(rc=rc) if isinstance(r, str) else r for r in receipts]  # type: ignore[attr-defined]
             )
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.create("landed_cost", [Line(1, "freight", D(1), D(5))], party="S1",
                         attributes={"receipts": given, "basis": "quantity"})
    assert err.value.code == "invalid_document" and why in err.value.data["reason"]
    assert err.value.data["doc_id"] == ""
    assert err.value.message_en.startswith("Invalid document: ")  # no number yet
    assert err.value.message_zh.startswith("单据无效：")
    assert shop.snapshot() == before


def test_unknown_document_type_and_id(shop: Shop) -> None:
    with pytest.raises(JxcError) as unknown:
        shop.docs.create("invoice", [Line(1, "A", D(1), warehouse="W1")])
    assert unknown.value.code == "invalid_document"
    assert unknown.value.data["doc_type"] == "invoice"
    with pytest.raises(JxcError) as err:
        shop.docs.submit("NOPE", BOSS)
    assert err.value.code == "not_found"
    with pytest.raises(JxcError) as err2:
        shop.docs.get("NOPE")
    assert err2.value.data == {"kind": "document", "key": "NOPE"}
    assert shop.docs.ids() == []


def test_a_duplicate_document_id_is_refused(shop: Shop) -> None:
    shop.docs.create("adjustment", [Line(1, "A", D(1), warehouse="W1")], doc_id="QT-1")
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.create("adjustment", [Line(1, "A", D(2), warehouse="W1")], doc_id="QT-1")
    assert err.value.code == "duplicate_key"
    assert shop.snapshot() == before


#: (document, its source type, the source's party, the document's party)
UNPOSTED_SOURCES = [
    ("purchase_receipt", "purchase_order", "S1"),
    ("purchase_return", "purchase_receipt", "S1"),
    ("purchase_invoice", "purchase_receipt", "S1"),
    ("delivery", "sales_order", "C1"),
    ("sales_return", "delivery", "C1"),
    ("sales_invoice", "delivery", "C1"),
]


@pytest.mark.parametrize(("kind", "source_kind", "party"), UNPOSTED_SOURCES)
def test_source_that_is_not_posted_is_refused_at_posting(shop: Shop, kind: str,
                                                         source_kind: str, party: str) -> None:
    shop.stock_in("A", D(10), D(1))
    src = shop.make(source_kind, [Line(1, "A", D(5), D(1), warehouse="W1")], party)
    shop.docs.submit(src.doc_id, BOSS)  # submitted, not posted
    wh = "" if kind in NO_WAREHOUSE else "W1"
    doc = shop.make(kind, [Line(1, "A", D(1), D(1), warehouse=wh, source=(src.doc_id, 1))],
                    party)
    shop.docs.submit(doc.doc_id, BOSS)
    shop.docs.approve(doc.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(doc.doc_id, BOSS)
    assert err.value.code == "invalid_document"
    assert "not posted" in err.value.data["reason"]
    assert shop.snapshot() == before


def test_a_failing_line_leaves_no_trace_of_the_others(shop: Shop) -> None:
    w = world(shop)
    so = shop.run("sales_order", [Line(1, "A", D(3), D(20), warehouse="W1")], "C1")
    dl = shop.make("delivery", [
        Line(1, "A", D(2), D(20), warehouse="W1", source=(so.doc_id, 1)),
        Line(2, "C", D(1), D(20), warehouse="W1")], "C1")  # no C in stock
    shop.docs.submit(dl.doc_id, BOSS)
    shop.docs.approve(dl.doc_id, BOSS)
    before = shop.snapshot()
    with pytest.raises(JxcError) as err:
        shop.docs.post(dl.doc_id, BOSS)
    assert err.value.code == "insufficient_stock"
    assert shop.snapshot() == before
    assert shop.docs.get(so.doc_id).counter(1, "delivered") == 0
    assert shop.docs.get(w["so"].doc_id).counter(1, "delivered") == 5
    assert shop.jxc.reservations(f"{so.doc_id}/1")[0].quantity == 3
    assert shop.qty("A") == 5


@pytest.mark.parametrize("kind", sorted(set(ALL) - SUPPLIER - CUSTOMER))
@pytest.mark.parametrize("party", ["S1", "C1"])
def test_an_internal_document_may_name_a_party_of_any_kind(shop: Shop, kind: str,
                                                           party: str) -> None:
    w = world(shop)
    c = valid(kind, w)
    doc = shop.docs.create(kind, c.lines, party=party, attributes=c.attributes)
    assert doc.party == party
