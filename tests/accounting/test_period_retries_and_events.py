"""Period close and reopen (月结、反结账): retried under an idempotency key they return the first
result instead of refusing; the month-end valuation of monthly-average issues, and its undoing
by a reopening, are announced as ``cost_adjusted`` events (a consumer following stock value by
events saw the close move the value with no event)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Jxc
from jxc_core.stock import Item, Warehouse
from jxc_core.testing.contract import RecordingNotifier

D = Decimal


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 3, 5, 9, 0)

    def now(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=1)
        return self.at


@pytest.fixture(params=["memory", "sqlite"])
def books(request: pytest.FixtureRequest, tmp_path: Path
          ) -> Iterator[tuple[Jxc, Accounting, RecordingNotifier]]:
    storage = (MemoryStorage() if request.param == "memory"
               else SqliteStorage(str(tmp_path / "p.db")))
    notes = RecordingNotifier()
    j = Jxc(storage, clock=Clock(), notifier=notes)
    j.define_item(Item("M", "monthly", costing_method="monthly_average"))
    j.define_item(Item("F", "fifo"))
    j.define_warehouse(Warehouse("W1", "main"))
    # February: 10 @ 1.00, 5 out, 10 @ 3.00: the month's unit cost is 40 / 20 = 2.00
    j.receive("M", "W1", D(10), D(1), posted_at=dt.datetime(2026, 2, 10), doc_id="RM1")
    j.issue("M", "W1", D(5), posted_at=dt.datetime(2026, 2, 11), doc_id="IM1")
    j.receive("M", "W1", D(10), D(3), posted_at=dt.datetime(2026, 2, 12), doc_id="RM2")
    j.receive("F", "W1", D(4), D(5), posted_at=dt.datetime(2026, 2, 13), doc_id="RF1")
    yield j, Accounting(j), notes
    storage.close()


def _costs(notes: RecordingNotifier, since: int) -> list[dict[str, object]]:
    return [e.payload for e in notes.delivered[since:] if e.type == "cost_adjusted"]


def test_close_and_reopen_announce_the_change_of_stock_value(
        books: tuple[Jxc, Accounting, RecordingNotifier]) -> None:
    j, acc, notes = books
    assert j.balance("M", "W1").value == D("40.00")
    n = len(notes.delivered)
    acc.close_period(2026, 2)
    assert j.balance("M", "W1").value == D("30.00")  # the 5 issued valued at 2.00
    assert _costs(notes, n) == [{
        "item": "M", "warehouse": "W1", "reason": "period_close", "amount": "-10.00",
        "quantity": "0", "issue_ref": None, "receipt_ref": None, "period": "2026-02"}]
    n = len(notes.delivered)
    acc.reopen_period(2026, 2, user="u", reason="late invoice")
    assert j.balance("M", "W1").value == D("40.00")
    assert _costs(notes, n) == [{
        "item": "M", "warehouse": "W1", "reason": "period_reopen", "amount": "10.00",
        "quantity": "0", "issue_ref": None, "receipt_ref": None, "period": "2026-02"}]
    # closed again, valued again; the FIFO item, which the close does not value, never has one
    n = len(notes.delivered)
    acc.close_period(2026, 2)
    assert [(c["item"], c["amount"]) for c in _costs(notes, n)] == [("M", "-10.00")]


def test_a_retried_close_returns_the_first_result(
        books: tuple[Jxc, Accounting, RecordingNotifier]) -> None:
    _, acc, notes = books
    first = acc.close_period(2026, 2, user="fin", idempotency_key="close-2026-02")
    n = len(notes.delivered)
    again = acc.close_period(2026, 2, user="fin", idempotency_key="close-2026-02")
    assert again == first
    assert first.monthly_issues == 1 and first.period == "2026-02"
    assert len(notes.delivered) == n  # nothing more happened
    assert [r["action"] for r in acc.period_log()] == ["close"]
    with pytest.raises(JxcError) as err:  # the key with another user: another command
        acc.close_period(2026, 2, user="someone else", idempotency_key="close-2026-02")
    assert err.value.code == "idempotency_conflict"
    with pytest.raises(JxcError) as closed:  # without a key a second close is refused
        acc.close_period(2026, 2, user="fin")
    assert closed.value.code == "period_closed"


def test_a_retried_reopen_does_nothing_more(
        books: tuple[Jxc, Accounting, RecordingNotifier]) -> None:
    j, acc, notes = books
    acc.close_period(2026, 2)
    acc.reopen_period(2026, 2, user="u", reason="r", idempotency_key="reopen-1")
    value = j.balance("M", "W1").value
    n = len(notes.delivered)
    acc.reopen_period(2026, 2, user="u", reason="r", idempotency_key="reopen-1")
    assert len(notes.delivered) == n
    assert j.balance("M", "W1").value == value == D("40.00")
    assert [r["action"] for r in acc.period_log()] == ["close", "reopen"]
    with pytest.raises(JxcError) as err:
        acc.reopen_period(2026, 2, user="u", reason="other", idempotency_key="reopen-1")
    assert err.value.code == "idempotency_conflict"
    with pytest.raises(JxcError) as again:
        acc.reopen_period(2026, 2, user="u", reason="r")
    assert again.value.code == "invalid_transition"
