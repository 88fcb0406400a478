"""Documents kept by a service between commands (read or saved by its last commands, trusted
only while nobody else wrote to the store): never stale, never shared with callers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Documents, JournalRow, Jxc

from .support import BOSS, Shop, TickingClock, setup_master

D = Decimal
T13 = D("0.13")


def _storages(kind: str, tmp_path: Path) -> tuple[Storage, Storage]:
    """Two handles on one store: another process's connection for SQLite."""
    if kind == "memory":
        s = MemoryStorage()
        return s, s
    path = str(tmp_path / "kept.db")
    return SqliteStorage(path), SqliteStorage(path)


def _receipt(shop: Shop, po_id: str, qty: int) -> None:
    shop.receipt([Line(1, "A", D(qty), D("10.00"), T13, warehouse="W1", source=(po_id, 1))])


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_order_counted_by_two_services_is_never_stale(kind: str, tmp_path: Path) -> None:
    """Service 1 keeps the order it counted; service 2 counts it too; service 1's next
    receipt must start from the stored order, not from the one it kept."""
    s1, s2 = _storages(kind, tmp_path)
    j1 = Jxc(s1, clock=TickingClock())
    setup_master(j1)
    one = Shop(j1, Documents(j1))
    j2 = Jxc(s2, clock=TickingClock())
    two = Shop(j2, Documents(j2))
    po = one.po([Line(1, "A", D(100), D("10.00"), T13, warehouse="W1")])
    _receipt(one, po.doc_id, 10)  # service 1 now keeps the order
    _receipt(two, po.doc_id, 20)  # counted elsewhere
    _receipt(one, po.doc_id, 30)
    for shop in (one, two):
        assert shop.docs.get(po.doc_id).counter(1, "received") == 60
        assert shop.jxc.balance("A", "W1").on_order == 40
    with pytest.raises(JxcError) as refused:
        _receipt(two, po.doc_id, 41)
    assert refused.value.code == "over_receipt"  # the open quantity is 40 on both sides
    _receipt(one, po.doc_id, 40)
    assert one.docs.get(po.doc_id).counter(1, "received") == 100
    s1.close()
    if s2 is not s1:
        s2.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_changing_a_returned_document_changes_nothing_kept(kind: str, tmp_path: Path
                                                          ) -> None:
    """A document handed to the caller is not the one the service keeps: changing its
    counters or attributes in place (which callers should not do) cannot reach the store."""
    storage, _ = _storages(kind, tmp_path)
    j = Jxc(storage, clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    po = shop.po([Line(1, "A", D(100), D("10.00"), T13, warehouse="W1")])
    po.counters[1]["received"] = D(99)  # meddling with the returned object
    po.attributes["x"] = "y"
    _receipt(shop, po.doc_id, 10)
    kept = shop.docs.get(po.doc_id)
    assert kept.counter(1, "received") == 10
    assert "x" not in kept.attributes
    got = shop.docs.get(po.doc_id)
    got.counters[1]["received"] = D(0)
    _receipt(shop, po.doc_id, 5)
    assert shop.docs.get(po.doc_id).counter(1, "received") == 15
    assert shop.jxc.balance("A", "W1").on_order == 85
    storage.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_failed_posting_leaves_kept_order_exact(kind: str, tmp_path: Path) -> None:
    """A receipt refused half-way (its second line over-receives) counted its first line on
    the order it holds: the next receipt must not see that count."""
    storage, _ = _storages(kind, tmp_path)
    j = Jxc(storage, clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    po = shop.po([Line(1, "A", D(100), D("10.00"), T13, warehouse="W1"),
                  Line(2, "C", D(5), D("3.00"), T13, warehouse="W1")])
    _receipt(shop, po.doc_id, 10)
    bad = shop.make("purchase_receipt", [
        Line(1, "A", D(20), D("10.00"), T13, warehouse="W1", source=(po.doc_id, 1)),
        Line(2, "C", D(6), D("3.00"), T13, warehouse="W1", source=(po.doc_id, 2))], "S1")
    with pytest.raises(JxcError) as refused:
        shop.docs.approve_through(bad.doc_id, [BOSS])
    assert refused.value.code == "over_receipt"
    _receipt(shop, po.doc_id, 1)
    kept = shop.docs.get(po.doc_id)
    assert (kept.counter(1, "received"), kept.counter(2, "received")) == (11, 0)
    assert shop.jxc.balance("A", "W1").on_order == 89
    storage.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_journal_rows_have_the_fields_of_journal_row(kind: str, tmp_path: Path) -> None:
    """The posting builds journal rows as plain data: exactly ``JournalRow.to_data()`` (which
    writes ``book_amount`` only on the rows that have one)."""
    storage, _ = _storages(kind, tmp_path)
    j = Jxc(storage, clock=TickingClock())
    setup_master(j)
    shop = Shop(j, Documents(j))
    po = shop.po([Line(1, "A", D(100), D("10.00"), T13, warehouse="W1")])
    _receipt(shop, po.doc_id, 10)
    with storage.unit_of_work() as u:
        rows = u.journal.all()
    assert rows
    for row in rows:
        assert list(row) == [f.name for f in attrs.fields(JournalRow)
                             if f.name != "book_amount" or "book_amount" in row]
        assert JournalRow.from_data(row).to_data() == row
    storage.close()


def test_own_copy_equals_the_document_and_shares_nothing_mutable() -> None:
    """The copy made for kept documents has every field of the document (each one set to a
    value other than its default here) and counters/attributes of its own."""
    import datetime as dt

    from jxc_core.documents import ActionRecord, DocType, Document, State
    from jxc_core.services.documents import _own

    doc = Document(
        DocType.PURCHASE_ORDER, "CG-1", party="S1", date=dt.date(2026, 1, 2), currency="USD",
        lines=(Line(1, "A", D(2), D("1.50"), T13, warehouse="W1"),), state=State.POSTED,
        source="X-9", created_by="u1",
        history=(ActionRecord("post", "u1", dt.datetime(2026, 1, 2, 3), "approved", "posted",
                              "ok", "s"),),
        counters={1: {"received": D(1)}}, approvals_done=("s",), attributes={"rate": "7.1"},
        reversal_of="CG-0", digits=2,
    )
    defaults = Document(DocType.PURCHASE_ORDER, "CG-1")
    for f in attrs.fields(Document):  # the test document really sets every field
        if f.name not in ("doc_type", "doc_id"):
            assert getattr(doc, f.name) != getattr(defaults, f.name), f.name
    copy = _own(doc)
    assert copy == doc
    copy.counters[1]["received"] += 1
    copy.counters[2] = {}
    copy.attributes["rate"] = "1"
    assert doc.counters == {1: {"received": D(1)}} and doc.attributes == {"rate": "7.1"}
