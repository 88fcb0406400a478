"""The document codec: full and compact forms carry the same document, exactly; the storage
keeps the compact form and still reads documents stored in the full form."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from jxc_core.documents import (
    LINE_FIELDS,
    ActionRecord,
    DocType,
    Document,
    Line,
    State,
    document_from_data,
    document_to_data,
)

from .support import Shop

D = Decimal

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
# decimals with their exponent kept: "1.10" and "1.1" are different texts of the same value
decimals = st.decimals(min_value=-10**6, max_value=10**6, allow_nan=False,
                       allow_infinity=False, places=3).map(lambda d: D(str(d)))
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))

lines = st.builds(
    Line,
    line_no=st.integers(1, 999), item=texts, quantity=decimals, price=decimals,
    tax_rate=st.sampled_from([D("0"), D("0.13"), D("0.130"), D("0.09"), D("0.06")]),
    price_includes_tax=st.booleans(), unit=st.none() | texts, warehouse=texts,
    to_warehouse=texts, location=texts, lot=texts, expiry=st.none() | dates,
    source=st.none() | st.tuples(texts, st.integers(1, 999)),
    counted=st.none() | decimals, weight=decimals, volume=decimals, to_location=texts,
    serials=st.lists(texts, max_size=3).map(tuple),
)
records = st.builds(
    ActionRecord, action=texts, user=texts,
    at=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    from_state=texts, to_state=texts, comment=texts, step=texts,
)
documents = st.builds(
    Document,
    doc_type=st.sampled_from(list(DocType)), doc_id=texts, party=texts,
    date=st.none() | dates, currency=st.sampled_from(["CNY", "USD"]),
    lines=st.lists(lines, max_size=4).map(tuple), state=st.sampled_from(list(State)),
    source=texts, created_by=texts, history=st.lists(records, max_size=3).map(tuple),
    counters=st.dictionaries(st.integers(1, 99), st.dictionaries(texts, decimals, max_size=3),
                             max_size=3),
    approvals_done=st.lists(texts, max_size=2).map(tuple),
    attributes=st.dictionaries(texts, st.none() | st.integers() | texts, max_size=3),
    reversal_of=texts,
)


def _same(a: Document, b: Document) -> None:
    """Equal, and every Decimal with the same text (exponent included)."""
    assert a == b
    for x, y in zip(a.lines, b.lines, strict=True):
        for name in ("quantity", "price", "tax_rate", "counted", "weight", "volume"):
            assert str(getattr(x, name)) == str(getattr(y, name))
    assert {k: {n: str(q) for n, q in v.items()} for k, v in a.counters.items()} == \
        {k: {n: str(q) for n, q in v.items()} for k, v in b.counters.items()}


@given(documents)
def test_both_forms_carry_the_document_exactly_through_json(doc: Document) -> None:
    for compact in (False, True):
        data = json.loads(json.dumps(document_to_data(doc, compact=compact)))
        _same(document_from_data(data), doc)


@given(documents)
def test_compact_lines_are_the_full_lines_in_field_order(doc: Document) -> None:
    full = document_to_data(doc)
    compact = document_to_data(doc, compact=True)
    assert [list(x) for x in full["lines"]] == [list(LINE_FIELDS)] * len(doc.lines)
    # the compact form leaves out the serials of a line that has none (stored as before)
    assert compact["lines"] == [list(x.values()) if x["serials"] else list(x.values())[:-1]
                                for x in full["lines"]]
    assert {k: v for k, v in compact.items() if k != "lines"} == \
        {k: v for k, v in full.items() if k != "lines"}


def test_storage_keeps_the_compact_form_and_reads_the_full_one(shop: Shop) -> None:
    doc = shop.po([Line(1, "A", D(5), D("2.50"), D("0.13"), warehouse="W1"),
                   Line(2, "B", D(3), D("1.10"), warehouse="W2")])
    with shop.jxc.storage.unit_of_work() as uow:
        stored = uow.documents.get(doc.doc_id)
        assert stored is not None
        assert [type(x) for x in stored["lines"]] == [list, list]  # arrays, not objects
        # no serials: the serials field left out, as documents were stored before it
        assert [len(x) for x in stored["lines"]] == [len(LINE_FIELDS) - 1] * 2
        # a document stored in the full form (as earlier versions did) reads back the same
        uow.documents.put(doc.doc_id, doc.doc_type.value, doc.state.value,
                          document_to_data(doc))
        uow.commit()
    _same(shop.docs.get(doc.doc_id), doc)
    received = shop.receipt([Line(1, "A", D(2), D("2.50"), warehouse="W1",
                                  source=(doc.doc_id, 1))])
    assert shop.docs.get(doc.doc_id).counter(1, "received") == D(2)
    assert received.state == State.POSTED


def test_line_fields_are_the_line_model_in_order() -> None:
    """Compact lines are read positionally into Line: the stored order is the model's (a
    change to either must be a deliberate, migrated one)."""
    import attrs

    assert tuple(f.name for f in attrs.fields(Line)) == LINE_FIELDS


def test_lines_stored_before_to_location_read_with_none() -> None:
    """Lines written before ``Line.to_location`` existed (one field fewer, compact or full)
    read back with an empty ``to_location``."""
    doc = Document(DocType.TRANSFER, "DB-1", lines=(
        Line(1, "A", D(2), warehouse="W1", to_warehouse="W1", location="L1",
             to_location="L2"),))
    for compact in (False, True):
        data = document_to_data(doc, compact=compact)
        assert document_from_data(data) == doc
        old = json.loads(json.dumps(data))
        line = old["lines"][0]
        if compact:
            line.pop()
        else:
            del line["to_location"]
        assert document_from_data(old).lines[0] == attrs.evolve(doc.lines[0], to_location="")
