"""The storage contract on the SQLite adapter (with restart durability)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import SqliteStorage
from jxc_core.adapters.sqlite import LEDGER_HAS_DOC, MIGRATIONS, MULTI_ROWS, SERIALS_IN
from jxc_core.ports import Storage, ValuationChange
from jxc_core.services import Jxc
from jxc_core.stock import Item
from jxc_core.stock.model import LedgerEntry
from jxc_core.testing import StorageContract


def _big_entry(no: int, doc: str = "x" * 30000) -> LedgerEntry:
    """A ledger entry of about 30 kB (its document number), to fill a disk quickly."""
    return LedgerEntry(no, "T", "W", "", "", Decimal(1), Decimal(1), dt.datetime(2026, 1, 1),
                       "receipt", "receipt", doc, 1, "")



def _file_of_schema(path: str, version: int) -> sqlite3.Connection:
    """A new file at ``path`` made by the first ``version`` migrations, as a jxc_core of that
    schema left it (``user_version`` set); the open connection, for the test's own rows."""
    con = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:version]:
        for statement in script.split(";"):
            if statement.strip():
                con.execute(statement)
    con.execute(f"PRAGMA user_version = {version}")
    return con


class TestSqlite(StorageContract):
    def make_storage(self, tmp_path: Path) -> Storage:
        return SqliteStorage(str(tmp_path / "contract.db"))

    def reopen(self, storage: Storage, tmp_path: Path) -> Storage | None:
        return SqliteStorage(str(tmp_path / "contract.db"))

    def other_writer(self, storage: Storage, tmp_path: Path) -> Storage:
        return SqliteStorage(str(tmp_path / "contract.db"))

    def test_schema_version_survives_restart(self, storage: Storage, tmp_path: Path) -> None:
        assert isinstance(storage, SqliteStorage)
        assert storage.schema_version == len(MIGRATIONS)
        again = self.restart(storage, tmp_path)
        assert isinstance(again, SqliteStorage)
        assert again.schema_version == len(MIGRATIONS)

    def test_journal_of_schema_5_is_migrated_with_its_positions(self, tmp_path: Path) -> None:
        """A file of schema 5 (journal keyed by seq) holding rows stored alone (each a JSON
        object, the earliest form) and rows stored a posting per table row: opened, it is
        migrated; every row reads back in order, ``since`` starts at any position, and new
        appends continue the positions."""
        path = str(tmp_path / "v5.db")
        con = _file_of_schema(path, 5)
        alone = {"doc_id": "OLD", "role": "inventory", "debit": "1.00", "credit": "0"}
        keys = ["doc_id", "role", "debit", "credit"]
        batch = [["B", "grni", "0", "2.00"], ["B", "inventory", "2.00", "0"]]
        con.execute("INSERT INTO journal (doc_id, data) VALUES (?, ?)", ("OLD", json.dumps(alone)))
        con.execute("INSERT INTO journal (doc_id, data) VALUES (?, ?)",
                    ("B", json.dumps([keys, *batch])))
        con.execute("INSERT INTO journal (doc_id, data) VALUES (?, ?)", ("OLD", json.dumps(alone)))
        con.close()
        storage = SqliteStorage(path)
        assert storage.schema_version == len(MIGRATIONS)
        rows = [alone, *[dict(zip(keys, v, strict=True)) for v in batch], alone]
        new = {"doc_id": "NEW", "role": "grni", "debit": "0", "credit": "1.00"}
        with storage.unit_of_work() as u:
            assert u.journal.all() == rows
            assert [u.journal.since(n) for n in range(6)] == [rows[n:] for n in range(6)]
            u.journal.append([new, new])
            u.commit()
        rows += [new, new]
        with storage.unit_of_work() as u:
            assert u.journal.all() == rows
            assert u.journal.all("OLD") == [alone, alone]
            assert [u.journal.since(n) for n in range(8)] == [rows[n:] for n in range(8)]
        table = storage._connection().execute("SELECT pos, n, doc_id FROM journal ORDER BY pos")
        assert table.fetchall() == [(0, 1, "OLD"), (1, 2, "B"), (3, 1, "OLD"), (4, 2, "NEW")]
        storage.close()

    def test_serials_of_schema_6_get_the_index_that_lists_a_warehouse(
            self, tmp_path: Path) -> None:
        """A file of schema 6 (serials keyed by item and serial only) is migrated: its
        serials stay, and ``in_warehouse`` reads them through the index ``serials_place``
        (item, warehouse, serial), in its order, not by a scan of every serial."""
        path = str(tmp_path / "v6.db")
        con = _file_of_schema(path, 6)
        con.executemany("INSERT INTO serials VALUES (?, ?, ?)",
                        [("P", "S2", "W"), ("P", "S1", "W"), ("P", "S3", "V"), ("Q", "S1", "W")])
        con.close()
        storage = SqliteStorage(path)
        assert storage.schema_version == len(MIGRATIONS)
        with storage.unit_of_work() as u:
            assert u.serials.in_warehouse("P", "W") == ["S1", "S2"]
            assert u.serials.in_warehouse("P", "V") == ["S3"]
        plan = " ".join(str(row[-1]) for row in storage._connection().execute(
            f"EXPLAIN QUERY PLAN {SERIALS_IN}", ("P", "W")))
        assert "INDEX serials_place" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # read in the index's order, not sorted after
        storage.close()

    def test_a_file_of_schema_7_gets_the_ledger_index_by_document(
            self, tmp_path: Path) -> None:
        """A file of schema 7 is migrated: ``has_document`` finds its entries through the
        index ``ledger_doc``, not by a scan of the ledger."""
        path = str(tmp_path / "v7.db")
        con = _file_of_schema(path, 7)
        con.execute("INSERT INTO ledger VALUES (1, 'P', 'W', '', '', '1', '2.00', "
                    "'2026-03-02T09:00:00', 'receipt', 'receipt', 'RK-7', 1, '')")
        con.close()
        storage = SqliteStorage(path)
        assert storage.schema_version == len(MIGRATIONS)
        with storage.unit_of_work() as u:
            assert u.ledger.has_document("RK-7")
            assert not u.ledger.has_document("RK-8")
        plan = " ".join(str(row[-1]) for row in storage._connection().execute(
            f"EXPLAIN QUERY PLAN {LEDGER_HAS_DOC}", ("RK-7",)))
        assert "INDEX ledger_doc" in plan, plan
        storage.close()


    def test_an_outbox_of_schema_8_keeps_its_order_without_autoincrement(
            self, tmp_path: Path) -> None:
        """A file of schema 8 (outbox with AUTOINCREMENT) is migrated: its events stay,
        pending ones in their order and delivered ones delivered; the events recorded after
        it come after them; and recording an event no longer writes ``sqlite_sequence``."""
        path = str(tmp_path / "v8.db")
        con = _file_of_schema(path, 8)
        con.executemany("INSERT INTO outbox (event_id, type, occurred_at, payload, delivered) "
                        "VALUES (?, 'stock_changed', '2026-03-02T09:00:00', '{}', ?)",
                        [("E1", 1), ("E2", 0), ("E3", 0)])
        con.close()
        storage = SqliteStorage(path)
        assert storage.schema_version == len(MIGRATIONS)
        import datetime as dt

        from jxc_core.ports import Event
        at = dt.datetime(2026, 3, 2, 10, 0)
        with storage.unit_of_work() as u:
            u.outbox.add([Event("E4", "stock_changed", at, {})])
            u.commit()
        with storage.unit_of_work() as u:
            assert [e.event_id for e in u.outbox.pending(10)] == ["E2", "E3", "E4"]
        con = storage._connection()
        assert con.execute("SELECT seq, event_id FROM outbox ORDER BY seq").fetchall() == [
            (1, "E1"), (2, "E2"), (3, "E3"), (4, "E4")]
        assert "AUTOINCREMENT" not in con.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'outbox'").fetchone()[0]
        assert con.execute("SELECT count(*) FROM sqlite_sequence WHERE name LIKE 'outbox%'"
                           ).fetchone()[0] == 0
        storage.close()

    def test_valuations_of_schema_9_read_as_they_are_and_are_written_compact(
            self, tmp_path: Path) -> None:
        """A file of schema 9 (headers as JSON objects) opens at the current version, its
        states read as they were stored, and a header written after it is compact."""
        path = str(tmp_path / "v9.db")
        con = _file_of_schema(path, 9)
        header = {"method": "moving_average", "version": 1, "quantity": "5", "value": "10.00"}
        con.execute("INSERT INTO valuations (item, scope, state, version) VALUES "
                    "('M1', 'W1', ?, 3)", (json.dumps(header),))
        con.execute("INSERT INTO valuation_rows VALUES ('M1', 'W1', 0, '[\"RK1/1\", \"5\"]')")
        con.close()
        storage = SqliteStorage(path)
        assert storage.schema_version == len(MIGRATIONS)
        with storage.unit_of_work() as u:
            assert u.valuations.get(("M1", "W1")) == {**header, "rows": [[0, ["RK1/1", "5"]]]}
            u.valuations.write([ValuationChange(("M1", "W1"), {**header, "quantity": "4"},
                                                ((0, ["RK1/1", "4"]),))])
            u.commit()
        with storage.unit_of_work() as u:
            assert u.valuations.get(("M1", "W1")) == {**header, "quantity": "4",
                                                       "rows": [[0, ["RK1/1", "4"]]]}
            assert u.valuations.version(("M1", "W1")) == 4
        text = storage._connection().execute("SELECT state FROM valuations").fetchone()[0]
        assert json.loads(text) == [list(header), "moving_average", 1, "4", "10.00"]
        storage.close()


def test_a_full_disk_in_a_multi_row_insert_writes_none_of_its_rows(tmp_path: Path) -> None:
    """A few rows (up to ``MULTI_ROWS``) are one multi-row INSERT, all or nothing by itself:
    a full disk is ``storage_error`` (``full``) and none of its rows is there, whether SQLite
    rolled back the statement (the unit of work goes on and commits the rest) or the whole
    transaction (a later write is refused as ``rolled_back``)."""
    from jxc_core.errors import JxcError

    storage, _ = _filled(tmp_path / "full.db")

    before = storage._connection().execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    _fill_up(storage, spare_pages=2)
    with storage.unit_of_work() as u:
        with pytest.raises(JxcError) as inside:
            u.ledger.append([_big_entry(100 + i) for i in range(MULTI_ROWS)])
        assert inside.value.code == "storage_error" and inside.value.data["problem"] == "full"
        try:
            u.commit()
        except JxcError as later:
            assert later.data["problem"] == "rolled_back"
    _fill_up(storage, spare_pages=10_000)
    with storage.unit_of_work() as u:
        assert u.ledger.count() == before
    storage.close()


def test_the_journal_keeps_the_columns_a_posting_repeats_once(tmp_path: Path) -> None:
    """The rows of one posting share their document, party, date, ...: the table row keeps
    those once (``[keys, {same}, values of the others, ...]``) and reads every row back as it
    was given: the same keys in the same order, the same values of the same types (``1`` and
    ``True`` are equal, never the same), ``since`` from any position."""
    storage = SqliteStorage(str(tmp_path / "journal.db"))
    rows = [{"doc_id": "D1", "line_no": n, "role": role, "debit": debit, "flag": flag,
             "party": "S1", "ref": ""}
            for n, role, debit, flag in ((1, "inventory", "2.00", 1), (1, "grni", "0", True),
                                         (2, "inventory", "3.00", 1))]
    alone = [{"doc_id": "D2", "role": "grni", "debit": "1.00"}]
    with storage.unit_of_work() as u:
        u.journal.append(rows)
        u.journal.append(alone)
        u.commit()
    with storage.unit_of_work() as u:
        got = u.journal.all()
        assert got == rows + alone
        assert [list(r) for r in got] == [list(r) for r in rows + alone]
        assert [[type(v) for v in r.values()] for r in got] == [
            [type(v) for v in r.values()] for r in rows + alone]
        assert [u.journal.since(n) for n in range(5)] == [(rows + alone)[n:] for n in range(5)]
    text = storage._connection().execute("SELECT data FROM journal WHERE doc_id = 'D1'"
                                         ).fetchone()[0]
    stored = json.loads(text)
    assert stored[1] == {"doc_id": "D1", "party": "S1", "ref": ""}
    assert stored[2:] == [[1, "inventory", "2.00", 1], [1, "grni", "0", True],
                          [2, "inventory", "3.00", 1]]
    storage.close()


def test_valuation_headers_are_stored_compact_and_earlier_objects_still_read(
        tmp_path: Path) -> None:
    """A header is stored as ``[[key, ...], value, ...]`` (schema version 10) and reads back
    the same: the same keys in the same order, values of the same types. A header stored as a
    JSON object (earlier versions, or rows written with SQL) reads as it is; a header with a
    key that is not a str stays an object, so JSON turns the key into text as it always did."""
    storage = SqliteStorage(str(tmp_path / "headers.db"))
    header = {"method": "fifo", "version": 1, "allow_negative": False, "default_cost": None,
              "last": ["60", "600.00"], "shortages": [], "quantity": "167", "note": "入库"}
    rows = [[0, ["5", "50.00", "RK1/1", "5"]]]
    with storage.unit_of_work() as u:
        u.valuations.put(("F1", "W1"), {**header, "rows": rows})
        u.valuations.put(("F1", "W2"), {1: "one", "two": 2})
        u.commit()
    con = storage._connection()
    text = con.execute("SELECT state FROM valuations WHERE scope = 'W1'").fetchone()[0]
    assert json.loads(text) == [list(header), *header.values()]
    odd = con.execute("SELECT state FROM valuations WHERE scope = 'W2'").fetchone()[0]
    assert json.loads(odd) == {"1": "one", "two": 2}
    con.execute("INSERT INTO valuations (item, scope, state, version) VALUES "
                "('F2', 'W1', ?, 1)", (json.dumps(header),))
    with storage.unit_of_work() as u:
        got = u.valuations.get(("F1", "W1"))
        assert got == {**header, "rows": rows}
        assert got is not None and list(got) == [*header, "rows"]
        assert [type(v) for v in got.values()] == [type(v) for v in [*header.values(), rows]]
        assert u.valuations.get(("F1", "W2")) == {"1": "one", "two": 2}
        assert u.valuations.get(("F2", "W1")) == header
        u.valuations.write([ValuationChange(("F2", "W1"), {**header, "quantity": "7"})])
        u.commit()
    with storage.unit_of_work() as u:
        assert u.valuations.get(("F2", "W1")) == {**header, "quantity": "7"}
    storage.close()


def test_a_sequence_number_believed_known_is_checked_by_the_store(tmp_path: Path) -> None:
    """A storage takes the next number of a sequence it gave last by an ``UPDATE`` that
    holds only while the row still has that value; after another storage on the file moved
    it, or after a unit of work that took numbers was rolled back, the numbers go on from
    the stored value, never repeating or skipping one."""
    path = str(tmp_path / "seq.db")
    a, b = SqliteStorage(path), SqliteStorage(path)
    statements: list[str] = []

    def next_of(storage: SqliteStorage, count: int = 1, commit: bool = True) -> int:
        with storage.unit_of_work() as u:
            n = u.sequences.next("s", count)
            if commit:
                u.commit()
        return n

    assert next_of(a) == 1
    a._connection().set_trace_callback(statements.append)
    assert next_of(a, 3) == 2  # from the value a gave last: no RETURNING
    assert not any("RETURNING" in sql for sql in statements)
    assert next_of(b) == 5
    assert next_of(a) == 6  # b moved it: a's belief failed, the upsert read it
    assert any("RETURNING" in sql for sql in statements)
    assert next_of(a, commit=False) == 7  # rolled back
    assert next_of(a) == 7
    assert next_of(a, 0) == 8  # count 0: the next number, nothing taken
    assert next_of(b) == 8
    a.close()
    b.close()


def test_a_storage_reopened_after_close_never_repeats_a_stamp(tmp_path: Path) -> None:
    """After ``close()`` a new connection starts its ``data_version`` at the same value and
    CPython may give it the freed connection's id(): a stamp made of id() repeated, so a
    ``Jxc`` kept rows that another writer had changed meanwhile and issued stock that was gone
    (on hand then differed from the ledger). Each connection has a serial of its own now."""
    import gc
    from decimal import Decimal as D

    from jxc_core.errors import JxcError
    from jxc_core.services import Jxc
    from jxc_core.stock import Item, Warehouse

    path = str(tmp_path / "stamp.db")
    s = SqliteStorage(path, checkpoints="inline")
    a = Jxc(s)
    a.define_warehouse(Warehouse("W", "w"))
    a.define_item(Item("X", "x"))
    other = Jxc(SqliteStorage(path, checkpoints="inline"))
    stamps = set()
    for i in range(20):
        a.receive("X", "W", D(5), D(1), doc_id=f"R{i}")  # a keeps its rows: 5 on hand
        for _ in range(3):  # the storage reconnects a few times
            s.close()
            gc.collect()
            with s.unit_of_work() as u:
                stamps.add(u.stamp())
        s.close()
        gc.collect()
        other.issue("X", "W", D(5), doc_id=f"B{i}")  # meanwhile another writer takes all 5
        try:
            a.issue("X", "W", D(5), doc_id=f"A{i}")
        except JxcError as exc:
            assert exc.code == "insufficient_stock"
        else:
            raise AssertionError(f"round {i}: issued 5 units that were gone")
    assert len(stamps) == 60  # a new connection, a new stamp
    with s.unit_of_work() as u:
        ledger = sum((e.quantity for e in u.ledger.entries("X", "W")), D(0))
        rows = sum((b.on_hand for b in u.balances.for_item("X", "W")), D(0))
    assert ledger == rows == 0
    other.storage.close()
    s.close()


def test_a_file_it_cannot_open_is_a_clear_refusal(tmp_path: Path) -> None:
    """A missing directory, a directory, a file that is no database, and a file written by a
    newer jxc_core (a schema version it does not know: writing into it could break it) are
    ``configuration`` naming the path, not raw sqlite3 errors."""
    from jxc_core.errors import JxcError

    not_db = tmp_path / "notes.txt"
    not_db.write_text("not a database " * 100)
    newer = tmp_path / "newer.db"
    SqliteStorage(str(newer)).close()
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    con.commit()
    con.close()
    for path, why in ((tmp_path / "nope" / "x.db", "cannot open"), (tmp_path, "cannot open"),
                      (not_db, "not a database"), (newer, "schema version")):
        try:
            SqliteStorage(str(path))
        except JxcError as exc:
            assert exc.code == "configuration" and exc.data["field"] == "path"
            assert str(path) in exc.data["reason"] and why in exc.data["reason"]
        else:
            raise AssertionError(f"{path} opened")
    con = sqlite3.connect(newer)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    con.close()


def _filled(path: Path) -> tuple[SqliteStorage, Jxc]:
    from decimal import Decimal as D

    from jxc_core.services import Jxc
    from jxc_core.stock import Item, Warehouse

    storage = SqliteStorage(str(path), checkpoints="inline")
    jxc = Jxc(storage)
    jxc.define_warehouse(Warehouse("W", "w"))
    jxc.define_item(Item("A", "a"))
    jxc.receive("A", "W", D(10), D("1.00"), doc_id="R0")
    return storage, jxc


def _fill_up(storage: SqliteStorage, spare_pages: int = 0) -> None:
    """The file may not grow by more than ``spare_pages`` pages: a full disk."""
    con = storage._connection()
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.execute(f"PRAGMA max_page_count = {pages + spare_pages}")


def test_a_full_disk_is_a_storage_error_and_the_next_command_works(tmp_path: Path) -> None:
    """SQLite rolls the transaction back itself when the disk is full; rolling back again
    (or to a savepoint) raised "cannot rollback - no transaction is active" or "no such
    savepoint" in place of the real error. The caller now gets ``storage_error``
    (problem ``full``, the path, SQLite's error as ``__cause__``), nothing is written, and the
    next command works."""
    from decimal import Decimal as D

    from jxc_core.errors import JxcError

    storage, jxc = _filled(tmp_path / "full.db")
    _fill_up(storage)
    with pytest.raises(JxcError) as info:
        jxc.receive("A", "W", D(1), D("1.00"), doc_id="x" * 20000)
    error = info.value
    assert error.code == "storage_error" and error.data["problem"] == "full"
    assert error.data["path"] == storage.path
    assert isinstance(error.__cause__, sqlite3.OperationalError)
    assert "full" in str(error.__cause__) and "磁盘或数据库已满" in error.message_zh
    assert jxc.balance("A", "W").on_hand == 10
    jxc.receive("A", "W", D(1), D("1.00"), doc_id="R1")  # a small one still fits
    assert jxc.balance("A", "W").on_hand == 11
    storage.close()


def test_a_full_disk_inside_a_savepoint_loses_the_unit_of_work_clearly(tmp_path: Path) -> None:
    """A full disk during a multi-row append (its savepoint): ``storage_error`` inside the
    block and at its end, never "no such savepoint"; the unit of work is lost (SQLite
    rolled it back), so a later write or commit in it is refused (``rolled_back``) instead
    of committing half of it; the next unit of work works."""
    from jxc_core.errors import JxcError

    storage, _ = _filled(tmp_path / "full.db")

    before = storage._connection().execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    _fill_up(storage, spare_pages=2)
    with pytest.raises(JxcError) as at_exit, storage.unit_of_work() as u:
        u.sequences.next("s")
        with pytest.raises(JxcError) as inside:
            # more rows than one multi-row INSERT takes: executemany in its savepoint
            u.ledger.append([_big_entry(100 + i) for i in range(MULTI_ROWS + 1)])
        assert inside.value.code == "storage_error" and inside.value.data["problem"] == "full"
        for write in (lambda: u.sequences.next("s"), u.commit):
            with pytest.raises(JxcError) as later:
                write()
            assert later.value.data["problem"] == "rolled_back"
            assert later.value.__cause__ is inside.value
        raise inside.value
    assert at_exit.value is inside.value  # the real error, not a failed rollback
    _fill_up(storage, spare_pages=10_000)
    with storage.unit_of_work() as u:
        assert u.ledger.count() == before
        assert u.sequences.next("s") == 1  # the lost unit of work kept nothing
        u.ledger.append([_big_entry(100, "small"), _big_entry(101, "small")])
        u.commit()
    with storage.unit_of_work() as u:
        assert u.ledger.count() == before + 2
    storage.close()


def test_a_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """The path is made absolute when the storage is made: a thread that connects after the
    working directory changed opens the same file (it used to make an empty one in the new
    directory and fail on "no such table")."""
    import threading
    from decimal import Decimal as D

    from jxc_core.services import Jxc
    from jxc_core.stock import Item, Warehouse

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    storage = SqliteStorage("shop.db")
    assert storage.path == str(first / "shop.db")
    jxc = Jxc(storage)
    jxc.define_warehouse(Warehouse("W", "w"))
    jxc.define_item(Item("A", "a"))
    jxc.receive("A", "W", D(5), D(1))
    monkeypatch.chdir(second)
    seen: list[object] = []

    def read() -> None:
        try:
            seen.append(jxc.balance("A", "W").on_hand)
        except Exception as exc:  # the assertion below reports it
            seen.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [D(5)]
    assert list(second.iterdir()) == []
    storage.close()


def test_text_sqlite_cannot_store_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    """At the port (below the service's checks): a lone surrogate in any row of a balances
    put or a journal append is ``invalid_text``; neither leaves the rows before it behind
    (each runs in a savepoint, as the other multi-row writes do)."""
    from decimal import Decimal as D

    from jxc_core.errors import JxcError
    from jxc_core.stock.model import Balance

    storage = SqliteStorage(str(tmp_path / "text.db"))
    with storage.unit_of_work() as u:
        u.balances.put([Balance("I", "W", "kept", "", D(2))])
        with pytest.raises(JxcError) as info:
            u.balances.put([Balance("I", "W", "a", "", D(1)),
                            Balance("I", "W", "\ud800", "", D(1))])
        assert info.value.code == "invalid_text"
        assert isinstance(info.value.__cause__, UnicodeEncodeError)
        with pytest.raises(JxcError) as info:
            u.journal.append([{"doc_id": "x", "a": 1}, {"doc_id": "y", "a": 2},
                              {"doc_id": "z\ud800", "a": 3}])
        assert info.value.code == "invalid_text"
        with pytest.raises(JxcError) as info:
            u.master.put_item(Item("\udc00", "x"))
        assert info.value.code == "invalid_text"
        with pytest.raises(JxcError) as info:
            u.master.get_item("\udc00")
        assert info.value.code == "invalid_text"
        u.commit()  # what came before the refused writes is kept
    with storage.unit_of_work() as u:
        assert [b.location for b in u.balances.for_item("I", "W")] == ["kept"]
        assert u.journal.all() == []
    storage.close()


def test_a_damaged_page_is_a_storage_error(tmp_path: Path) -> None:
    """A page found damaged after the file opened ("database disk image is malformed") is
    ``storage_error`` (problem ``corrupt``, the path) for a read and for a posting."""
    from decimal import Decimal as D

    from jxc_core.errors import JxcError
    from jxc_core.services import Jxc

    path = tmp_path / "damaged.db"
    storage, jxc = _filled(path)
    for n in range(20):
        jxc.receive("A", "W", D(1), D("1.00"), doc_id=f"R{n + 1}")
    storage.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ledger'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * size:root * size] = b"\xab" * size
    path.write_bytes(bytes(data))
    damaged = Jxc(SqliteStorage(str(path)))
    for command in (lambda: damaged.ledger("A", "W"),
                    lambda: damaged.receive("A", "W", D(1), D("1.00"))):
        with pytest.raises(JxcError) as info:
            command()
        assert info.value.code == "storage_error" and info.value.data["problem"] == "corrupt"
        assert info.value.data["path"] == str(path)
        assert isinstance(info.value.__cause__, sqlite3.DatabaseError)
    damaged.storage.close()


def test_a_database_it_cannot_write_is_a_storage_error(tmp_path: Path) -> None:
    """SQLite refusing to write ("attempt to write a readonly database": a read-only file,
    here a read-only connection, which refuses the write lock too) is ``storage_error``
    (problem ``read_only``) for reads and postings; once the file can be written again,
    nothing was written and the next command works."""
    from decimal import Decimal as D

    from jxc_core.errors import JxcError

    storage, jxc = _filled(tmp_path / "ro.db")
    storage._connection().execute("PRAGMA query_only = ON")
    with pytest.raises(JxcError) as info:
        jxc.receive("A", "W", D(1), D("1.00"))
    assert info.value.code == "storage_error" and info.value.data["problem"] == "read_only"
    assert "readonly" in str(info.value.__cause__)
    with pytest.raises(JxcError) as info:
        jxc.balance("A", "W")
    assert info.value.data["problem"] == "read_only"
    storage._connection().execute("PRAGMA query_only = OFF")
    assert jxc.balance("A", "W").on_hand == 10
    jxc.receive("A", "W", D(1), D("1.00"))
    assert jxc.balance("A", "W").on_hand == 11
    storage.close()


def test_any_sqlite_error_in_a_unit_of_work_reaches_the_caller_as_a_storage_error(
    tmp_path: Path
) -> None:
    """Whatever SQLite error a unit of work meets (here injected before a ledger write,
    where no repository maps it) leaves the block as ``storage_error`` with the original as
    ``__cause__``, and nothing is written."""
    from decimal import Decimal as D

    from jxc_core.errors import JxcError

    storage, jxc = _filled(tmp_path / "any.db")
    raised = sqlite3.OperationalError("disk I/O error")

    def fail(table: str) -> None:
        if table == "ledger":
            raise raised

    storage.fault = fail
    with pytest.raises(JxcError) as info:
        jxc.receive("A", "W", D(1), D("1.00"))
    storage.fault = None
    assert info.value.code == "storage_error" and info.value.data["problem"] == "io"
    assert info.value.__cause__ is raised
    assert info.value.data["path"] == storage.path
    assert jxc.balance("A", "W").on_hand == 10
    storage.close()


def test_a_foreign_sqlite_file_is_refused_not_converted(tmp_path: Path) -> None:
    """A SQLite file with tables but no jxc_core schema version (another application's) is
    ``configuration`` naming the path, and is left as it was (it used to be converted into a
    jxc_core database, or fail with "table items already exists"); an empty file, or one
    without tables, becomes a jxc_core database."""
    from jxc_core.errors import JxcError

    for name, table in (("clash.db", "items"), ("other.db", "customers")):
        path = tmp_path / name
        con = sqlite3.connect(path)
        con.execute(f"CREATE TABLE {table} (id INTEGER, name TEXT)")
        con.commit()
        con.close()
        with pytest.raises(JxcError) as info:
            SqliteStorage(str(path))
        assert info.value.code == "configuration"
        assert info.value.data["path"] == str(path) and info.value.data["field"] == "path"
        assert "not a jxc_core database" in str(info.value) and table in str(info.value)
        assert "不是 jxc_core 数据库" in info.value.message_zh
        con = sqlite3.connect(path)
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == [table]
        assert con.execute("PRAGMA user_version").fetchone()[0] == 0
        con.close()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    bare = tmp_path / "bare.db"
    sqlite3.connect(bare).execute("PRAGMA page_size = 4096").close()
    for path in (empty, bare, tmp_path / "new.db"):
        storage = SqliteStorage(str(path))
        assert storage.schema_version == len(MIGRATIONS)
        storage.close()


def test_a_storage_closed_under_a_unit_of_work_gives_a_storage_error(tmp_path: Path) -> None:
    """``close()`` from another thread while a unit of work is open, or before a unit of
    work made earlier is entered: the unit of work fails with ``storage_error`` (closing the
    connection rolled its transaction back), never a raw ``sqlite3`` error."""
    import threading

    from jxc_core.errors import JxcError

    st = SqliteStorage(str(tmp_path / "c.db"))
    entered, closed, seen = threading.Event(), threading.Event(), []

    def worker() -> None:
        try:
            with st.unit_of_work() as u:
                u.sequences.next("s")
                entered.set()
                closed.wait()
                u.sequences.next("s")
                u.commit()
            seen.append("committed")
        except JxcError as e:
            seen.append(e.code)
        except Exception as e:  # what the caller would see, raw
            seen.append(repr(e))

    t = threading.Thread(target=worker)
    t.start()
    entered.wait()
    st.close()
    closed.set()
    t.join()
    assert seen == ["storage_error"]
    early = st.unit_of_work()
    st.close()
    with pytest.raises(JxcError) as err, early:
        pass
    assert err.value.code == "storage_error"
    again = SqliteStorage(str(tmp_path / "c.db"))  # nothing of the first was kept
    with again.unit_of_work() as u:
        assert u.sequences.next("s") == 1
    again.close()
