"""The statements a posted document costs on SQLite, and what the statements it saves rely on:
the journal's end kept by a connection between its units of work, the data alone of a
document whose type and state stay, the rows of a valuation write in one statement."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.services import Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

USER = User("u", frozenset({"all"}))


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[SqliteStorage]:
    s = SqliteStorage(tmp_path / "db.sqlite")
    yield s
    s.close()


def _row(doc_id: str, line_no: int) -> dict[str, str | int]:
    return {"doc_type": "t", "doc_id": doc_id, "line_no": line_no, "role": "r",
            "debit": "1", "credit": "0"}


def _shop(storage: SqliteStorage) -> Documents:
    j = Jxc(storage)
    for code in ("F0", "F1"):
        j.define_item(Item(code, code))
    j.define_item(Item("M0", "M0", costing_method="moving_average"))
    j.define_warehouse(Warehouse("W1", "W1"))
    j.define_party(Party("S1", "supplier", "supplier"))
    return Documents(j)


def _lines(source: str | None = None, quantity: int = 2) -> list[Line]:
    return [Line(n, item, Decimal(quantity), Decimal("10.00"), Decimal("0.13"), warehouse="W1",
                 source=(source, n) if source else None)
            for n, item in enumerate(("F0", "F1", "M0"), start=1)]


def test_a_receipt_against_an_order_posts_in_fewer_statements(
        storage: SqliteStorage) -> None:
    """The second receipt against an order: the journal's end is not read (the last commit
    of the connection left it), the order's counters are written by one UPDATE of its data
    (its type and state stay), and the layers of the three scopes by one statement."""
    docs = _shop(storage)
    po = docs.create("purchase_order", _lines(quantity=4), party="S1")
    docs.approve_through(po.doc_id, [USER])
    ids = []
    for _ in range(2):
        rc = docs.create("purchase_receipt", _lines(po.doc_id), party="S1")
        docs.submit(rc.doc_id, USER)
        ids.append(docs.approve(rc.doc_id, USER).doc_id)
    docs.post(ids[0], USER)
    seen: list[str] = []
    con = storage._connection()
    con.set_trace_callback(seen.append)
    try:
        docs.post(ids[1], USER)
    finally:
        con.set_trace_callback(None)
    assert not [s for s in seen if s.startswith("SELECT pos + n FROM journal")]
    updates = [s for s in seen if s.startswith("UPDATE documents")]
    assert len(updates) == 2  # the order's data, the receipt's state and data
    assert sum(s.startswith("UPDATE documents SET data") for s in updates) == 1
    assert len([s for s in seen if s.startswith("INSERT OR REPLACE INTO valuation_rows")]) == 1
    assert docs.get(ids[1]).state.value == "posted"
    order = docs.get(po.doc_id)
    assert order.state.value == "posted"
    assert [order.counter(n, "received") for n in (1, 2, 3)] == [Decimal(4)] * 3
    assert po.doc_id in docs.ids("purchase_order", "posted")


def test_the_journal_end_is_read_again_after_another_connection_wrote(
        tmp_path: Path) -> None:
    """Two storages on one file (two connections) append in turn: each append starts where
    the other's ended, and a row written on the connection outside a unit of work is not
    overwritten either."""
    a = SqliteStorage(tmp_path / "db.sqlite")
    b = SqliteStorage(tmp_path / "db.sqlite")
    try:
        for k, (s, n) in enumerate([(a, 2), (a, 1), (b, 3), (a, 2), (b, 1), (b, 2)]):
            with s.unit_of_work() as u:
                u.stamp()  # PRAGMA data_version read, as a command reads it
                u.journal.append([_row(f"D{k}", i) for i in range(n)])
                u.commit()
        con = a._connection()  # a row of a table written outside the units of work
        con.execute("INSERT INTO journal (pos, n, doc_id, data) VALUES (11, 1, 'X', ?)",
                    ['{"doc_id": "X", "line_no": 0}'])
        with a.unit_of_work() as u:
            u.stamp()
            u.journal.append([_row("D6", 0)])
            u.commit()
        with b.unit_of_work() as u:
            rows = u.journal.since(0)
            assert [r["doc_id"] for r in rows] == (
                ["D0"] * 2 + ["D1"] + ["D2"] * 3 + ["D3"] * 2 + ["D4"] + ["D5"] * 2
                + ["X", "D6"])
            assert [r["doc_id"] for r in u.journal.since(11)] == ["X", "D6"]
    finally:
        a.close()
        b.close()


def test_the_journal_end_of_a_rolled_back_append_is_not_kept(storage: SqliteStorage) -> None:
    with storage.unit_of_work() as u:
        u.stamp()
        u.journal.append([_row("A", 0)])
        u.commit()
    with storage.unit_of_work() as u:  # rolled back: its rows are gone
        u.stamp()
        u.journal.append([_row("B", i) for i in range(5)])
    with storage.unit_of_work() as u:
        u.stamp()
        u.journal.append([_row("C", 0)])
        u.commit()
    with storage.unit_of_work() as u:
        assert [r["doc_id"] for r in u.journal.since(0)] == ["A", "C"]
        assert [r["doc_id"] for r in u.journal.since(1)] == ["C"]


def test_a_document_changed_by_another_connection_is_written_whole(tmp_path: Path) -> None:
    """The type and state a storage last saved a document in are a hint only: another
    connection moved it to another state since, and the next save of the first puts it back
    in the state it gives (and the document's index with it)."""
    a = SqliteStorage(tmp_path / "db.sqlite")
    b = SqliteStorage(tmp_path / "db.sqlite")
    try:
        for s, state, note in ((a, "posted", 1), (b, "closed", 2), (a, "posted", 3)):
            with s.unit_of_work() as u:
                u.documents.put("D1", "purchase_order", state, {"note": note})
                u.commit()
        with b.unit_of_work() as u:
            assert u.documents.get("D1") == {"note": 3}
            assert u.documents.ids("purchase_order", "posted") == ["D1"]
            assert u.documents.ids("purchase_order", "closed") == []
    finally:
        a.close()
        b.close()
