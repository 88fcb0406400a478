"""With a timezone-aware clock the months (and days) of the books are the clock's local ones,
everywhere alike: moments are kept in UTC, but the stock snapshot of a close, the period lock,
the 进销存汇总表, the period of the monthly weighted average and the vouchers all take a
moment's month in the timezone of ``clock.now()``. With months in UTC (as before 2026-12-09)
a receipt posted at 07:00 on 1 December in UTC+8 (23:00 UTC on 30 November) was in
November's snapshot and monthly average while its voucher was dated 1 December: November's
1405 differed from the stock valuation, and closing November refused a posting at 00:30 on
1 December as closed.

A store keeps the timezone of its closes: once a month is closed, a clock whose timezone puts
that close's end elsewhere than at a month end is refused (``period_zone_mismatch``).
On both adapters."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import zoneinfo
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.services import Accounting, Documents, Jxc
from jxc_core.stock import Item, Party, Warehouse

D = Decimal
BOSS = User("boss", frozenset({"all"}))
INVENTORY = "1405"
EAST = dt.timezone(dt.timedelta(hours=8))  # China Standard Time
WEST = dt.timezone(dt.timedelta(hours=-5))  # US Eastern Standard Time
ITEMS = ("A", "M")


def _zone(name: str) -> dt.tzinfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


SHANGHAI = _zone("Asia/Shanghai")
NEW_YORK = _zone("America/New_York")  # daylight saving time ends on 1 November 2026
needs_shanghai = pytest.mark.skipif(SHANGHAI is None, reason="no tz database: Asia/Shanghai")


class HandClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


Shop = tuple[Jxc, Documents, Accounting, HandClock]


def _open(storage: MemoryStorage | SqliteStorage, zone: dt.tzinfo) -> Shop:
    clock = HandClock(dt.datetime(2026, 11, 2, 9, tzinfo=zone))
    j = Jxc(storage, clock=clock)
    j.define_item(Item("A", "fifo"))
    j.define_item(Item("M", "monthly", costing_method="monthly_average"))
    j.define_warehouse(Warehouse("W", "main"))
    j.define_party(Party("S", "supplier and customer", "both"))
    return j, Documents(j), Accounting(j), clock


def _storage(adapter: str, path: Path) -> MemoryStorage | SqliteStorage:
    return MemoryStorage() if adapter == "memory" else SqliteStorage(str(path / "m.db"))


@pytest.fixture(params=["memory", "sqlite"])
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def east(adapter: str, tmp_path: Path) -> Iterator[Shop]:
    storage = _storage(adapter, tmp_path)
    yield _open(storage, EAST)
    storage.close()


def _post(shop: Shop, at: dt.datetime, kind: str, item: str, qty: int, price: str) -> str:
    """A document created and posted at ``at`` (dated, as any, on the clock's day)."""
    _, docs, _, clock = shop
    clock.at = at
    doc = docs.create(kind, [Line(1, item, D(qty), D(price), warehouse="W")], party="S")
    return docs.approve_through(doc.doc_id, [BOSS]).doc_id


def _last_moment(zone: dt.tzinfo, year: int, month: int) -> dt.datetime:
    """The last moment of a month of ``zone``, in UTC."""
    after = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return after.astimezone(dt.UTC) - dt.timedelta(microseconds=1)


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _inventory_account(books: Accounting, through: dt.date) -> Decimal:
    """1405 of the vouchers dated up to ``through``."""
    books.generate_vouchers()
    return sum((x.debit - x.credit for v in books.vouchers() if v.date <= through
                for x in v.lines if x.account == INVENTORY), D(0))


def _ledger_value(j: Jxc, end: dt.datetime) -> Decimal:
    """The stock value at ``end`` from the ledger alone (no snapshot)."""
    with j.storage.unit_of_work() as uow:
        return sum((e.value for i in ITEMS for e in uow.ledger.after(i, "W", None, 1 << 62)
                    if e.posted_at <= end), D(0))


def _snapshot_value(j: Jxc, end: dt.datetime) -> Decimal:
    """The stock value at ``end`` as ``balance(as_of=)`` reads it (the close's snapshot)."""
    return sum((j.balance(i, "W", as_of=end).value for i in ITEMS), D(0))


# -- (a) a posting at local dawn of 1 December is December's everywhere --------------------------

def test_a_posting_at_local_dawn_of_december_is_december_everywhere(east: Shop) -> None:
    j, docs, books, clock = east
    november = dt.datetime(2026, 11, 20, 10, tzinfo=EAST)
    for item in ITEMS:
        _post(east, november, "purchase_receipt", item, 10, "10.00")
    dawn = dt.datetime(2026, 12, 1, 7, tzinfo=EAST)  # 2026-11-30 23:00 UTC
    moved = [_post(east, dawn, "purchase_receipt", "A", 5, "12.00"),
             _post(east, dawn, "purchase_receipt", "M", 10, "20.00"),
             _post(east, dawn, "delivery", "A", 4, "30.00"),
             _post(east, dawn, "delivery", "M", 4, "30.00")]
    # the vouchers: dated 1 December, numbered in December (M's delivery has none: its cost
    # is booked by the close of its month, and its revenue by the invoice)
    books.generate_vouchers()
    for doc_id in moved[:3]:
        (voucher,) = [v for v in books.vouchers() if v.doc_id == doc_id]
        assert (voucher.date, voucher.period) == (dt.date(2026, 12, 1), "2026-12")
        assert voucher.number.startswith("记-2026-12-")
    # the 进销存汇总表: November without them, December with them
    nov = {r.item: r for r in books.inventory_summary(2026, 11)}
    assert [(r.in_qty, r.out_qty, r.closing_qty, r.closing_value) for r in nov.values()] == [
        (D(10), D(0), D(10), D("100.00"))] * 2
    dec = {r.item: r for r in books.inventory_summary(2026, 12)}
    assert (dec["A"].opening_qty, dec["A"].in_qty, dec["A"].out_qty, dec["A"].closing_qty) == (
        D(10), D(5), D(4), D(11))
    assert (dec["M"].opening_qty, dec["M"].in_qty, dec["M"].out_qty) == (D(10), D(10), D(4))
    # closing November (at dawn on 1 December): M's delivery is December's, not valued now
    closed = books.close_period(2026, 11)
    assert closed.monthly_issues == 0
    assert docs.get(moved[3]).counter(1, "cost") == 0
    nov_end = dt.datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=EAST)
    for item in ITEMS:  # the snapshot: November's stock only
        at_end = j.balance(item, "W", as_of=nov_end)
        assert (at_end.on_hand, at_end.value) == (D(10), D("100.00"))
    assert _inventory_account(books, dt.date(2026, 11, 30)) == D("200.00")
    # the lock ends with the local month: 00:30 on 1 December is open, 23:30 on 30 November
    # (15:30 UTC) closed, by documents and by direct postings alike
    for late in (dt.datetime(2026, 11, 30, 23, 30, tzinfo=EAST),
                 dt.datetime(2026, 11, 30, 15, 59, 59, 999999, tzinfo=dt.UTC)):
        with pytest.raises(JxcError) as e:  # a document of 30 November
            _post(east, late.astimezone(EAST), "purchase_receipt", "A", 1, "10.00")
        assert e.value.code == "period_closed"
        with pytest.raises(JxcError) as e:
            j.receive("A", "W", D(1), D("10.00"), posted_at=late)
        assert e.value.code == "period_closed"
    early = dt.datetime(2026, 12, 1, 0, 30, tzinfo=EAST)  # 2026-11-30 16:30 UTC
    rc = _post(east, early, "purchase_receipt", "A", 1, "10.00")
    assert {r.date for r in docs.journal(rc)} == {"2026-12-01"}
    # December's close values M's delivery at December's average: (100.00 + 200.00) / 20
    clock.at = dt.datetime(2026, 12, 31, 18, tzinfo=EAST)
    closed = books.close_period(2026, 12)
    assert closed.monthly_issues == 1
    assert docs.get(moved[3]).counter(1, "cost") == D("60.00")
    (yj,) = [v for v in books.vouchers() if v.doc_id == "YJ-2026-12"]
    assert yj.date == dt.date(2026, 12, 31)
    assert books.reconcile_inventory(differences_only=True) == []


def test_a_month_to_come_is_one_of_the_clock_zone(east: Shop) -> None:
    """At 07:00 on 1 December in UTC+8 (still November in UTC) December has begun: it may be
    closed; at 23:00 on 30 November it has not (``period_not_started``, ``now`` as the clock
    gives it)."""
    _, _, books, clock = east
    clock.at = dt.datetime(2026, 11, 30, 23, tzinfo=EAST)
    with pytest.raises(JxcError) as e:
        books.close_period(2026, 12)
    assert e.value.data == {"period": "2026-12", "now": "2026-11-30T23:00:00+08:00"}
    clock.at = dt.datetime(2026, 12, 1, 7, tzinfo=EAST)
    assert books.close_period(2026, 12).period == "2026-12"


def test_a_draft_dated_on_the_first_of_the_month_is_not_the_month_before(
        adapter: str, tmp_path: Path) -> None:
    """UTC−5: November ends at 04:59:59 UTC on 1 December; a draft dated 1 December is not in
    November (no warning, no refusal with ``strict=True``)."""
    storage = _storage(adapter, tmp_path)
    _, docs, books, clock = _open(storage, WEST)
    clock.at = dt.datetime(2026, 12, 1, 9, tzinfo=WEST)
    docs.create("purchase_receipt", [Line(1, "A", D(1), D("1.00"), warehouse="W")], party="S")
    assert books.close_period(2026, 11, strict=True).warnings == ()
    storage.close()


def test_a_cancellation_at_local_dawn_follows_its_document(east: Shop) -> None:
    """A receipt posted at 07:00 on 1 December in UTC+8 (30 November in UTC), cancelled at
    08:00: the reversal is at 08:00. Its posting moment, read back from the document's history
    (kept in UTC), was set against the document's date by its UTC day: the receipt was taken
    for one posted at 07:00 on 2 December, and the reversal went there, a day late."""
    j, docs, _, clock = east
    rc = _post(east, dt.datetime(2026, 12, 1, 7, tzinfo=EAST), "purchase_receipt", "A", 3,
               "10.00")
    clock.at = dt.datetime(2026, 12, 1, 8, tzinfo=EAST)
    docs.cancel(rc, BOSS)
    reversal = [line.entry for line in j.ledger("A") if line.entry.doc_id == f"{rc}-R"]
    assert [e.posted_at for e in reversal] == [dt.datetime(2026, 12, 1, 0, tzinfo=dt.UTC)]
    assert {r.date for r in docs.journal(f"{rc}-R")} == {"2026-12-01"}


def test_a_return_on_its_delivery_day_is_of_that_local_day(east: Shop) -> None:
    """A delivery dated 1 December posts at 09:00 local (01:00 UTC on 1 December); its
    customer return, entered at 07:00 on 1 December (23:00 UTC on 30 November), is of the same
    local day and posts just after it: by UTC days it was refused as dated before its
    source."""
    j, docs, _, clock = east
    _post(east, dt.datetime(2026, 11, 30, 9, tzinfo=EAST), "purchase_receipt", "A", 5, "10.00")
    dl = docs.create("delivery", [Line(1, "A", D(2), D("30.00"), warehouse="W")], party="S",
                     date=dt.date(2026, 12, 1))  # entered the day before, 09:00
    docs.approve_through(dl.doc_id, [BOSS])
    clock.at = dt.datetime(2026, 12, 1, 7, tzinfo=EAST)
    back = docs.create("sales_return", [Line(1, "A", D(1), D("30.00"), warehouse="W",
                                             source=(dl.doc_id, 1))], party="S")
    docs.approve_through(back.doc_id, [BOSS])
    assert j.balance("A", "W").on_hand == 4
    (entry,) = [line.entry for line in j.ledger("A") if line.entry.doc_id == back.doc_id]
    assert entry.posted_at == dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)


def test_a_standard_cost_change_is_kept_in_utc_and_booked_on_its_local_day(east: Shop) -> None:
    """``revalue_standard(date=...)`` with an aware clock: the first local moment of that day,
    kept in UTC (a naive moment beside the aware ones was refused, ``store_timezone_mismatch``),
    booked on that day; ``set_standard_cost`` keeps its moment in UTC as every posting."""
    j, _, books, clock = east
    j.define_item(Item("S", "standard", costing_method="standard", standard_cost=D("10.00")))
    j.receive("S", "W", D(2), D("10.00"), posted_at=dt.datetime(2026, 11, 30, 9, tzinfo=EAST))
    clock.at = dt.datetime(2026, 12, 1, 9, tzinfo=EAST)
    books.revalue_standard("S", D("11.00"), date=dt.date(2026, 12, 1), doc_id="BZ-1")
    j.set_standard_cost("S", D("12.00"), doc_id="BZ-2")
    moments = {line.entry.doc_id: line.entry.posted_at for line in j.ledger("S")}
    assert moments["BZ-1"] == dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)
    assert moments["BZ-2"] == dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)
    assert moments["BZ-2"].utcoffset() == dt.timedelta(0)
    books.generate_vouchers()
    (voucher,) = [v for v in books.vouchers() if v.doc_id == "BZ-1"]
    assert (voucher.date, voucher.period) == (dt.date(2026, 12, 1), "2026-12")


# -- (b) November's 1405 is November's snapshot -------------------------------------------------

@pytest.mark.parametrize("zone", [EAST, WEST], ids=["utc+8", "utc-5"])
def test_the_november_books_equal_the_november_snapshot(
        adapter: str, tmp_path: Path, zone: dt.timezone) -> None:
    """Receipts and deliveries on both sides of the local and the UTC month ends (the evening
    of 30 November is December in UTC−5's UTC, the dawn of 1 December November in UTC+8's),
    November closed: 1405 of the vouchers up to 30 November equals the snapshot at the local
    end of November, the ledger's value then and the summary's closing value; the journal
    equals the stock."""
    storage = _storage(adapter, tmp_path)
    shop = _open(storage, zone)
    j, _, books, clock = shop
    moments = [dt.datetime(2026, 11, 1, 0, 30, tzinfo=zone),
               dt.datetime(2026, 11, 30, 20, tzinfo=zone),
               dt.datetime(2026, 11, 30, 23, 30, tzinfo=zone),
               dt.datetime(2026, 12, 1, 0, 30, tzinfo=zone),
               dt.datetime(2026, 12, 1, 7, tzinfo=zone)]
    for n, at in enumerate(moments):
        for item in ITEMS:
            _post(shop, at, "purchase_receipt", item, 10, f"{10 + n}.00")
            _post(shop, at, "delivery", item, 3 + n, "40.00")
    clock.at = moments[-1]
    books.close_period(2026, 11)
    assert books.reconcile_inventory(differences_only=True) == []
    end = _last_moment(zone, 2026, 11)
    books_nov = _inventory_account(books, dt.date(2026, 11, 30))
    summary = sum((r.closing_value for r in books.inventory_summary(2026, 11)), D(0))
    assert books_nov == _snapshot_value(j, end) == _ledger_value(j, end) == summary
    # the monthly-average scope: November's three receipts of 10 at 10, 11, 12 (330.00), its
    # deliveries 3 + 4 + 5: 18 left at 11.00
    assert j.balance("M", "W", as_of=end).value == D("198.00")
    storage.close()


# -- (c) the monthly weighted average of each local month ---------------------------------------

@pytest.mark.parametrize("zone_name", ["utc+8", "utc-5", "Asia/Shanghai"])
def test_the_monthly_average_takes_the_receipts_of_its_local_month(
        adapter: str, tmp_path: Path, zone_name: str) -> None:
    """At 22:00 and 23:00 on 30 November and at 07:00 and 07:30 on 1 December (local time)
    one UTC month holds all four movements in UTC+8 (November) and in UTC−5 (December); the
    local months hold two each. November's delivery costs November's average (10.00), the
    December one December's: (50.00 left + 300.00) / 15."""
    zone = {"utc+8": EAST, "utc-5": WEST, "Asia/Shanghai": SHANGHAI}[zone_name]
    if zone is None:
        pytest.skip("no tz database: Asia/Shanghai")
    storage = _storage(adapter, tmp_path)
    shop = _open(storage, zone)
    j, docs, books, clock = shop
    _post(shop, dt.datetime(2026, 11, 30, 22, tzinfo=zone), "purchase_receipt", "M", 10,
          "10.00")
    nov = _post(shop, dt.datetime(2026, 11, 30, 23, tzinfo=zone), "delivery", "M", 5, "40.00")
    _post(shop, dt.datetime(2026, 12, 1, 7, tzinfo=zone), "purchase_receipt", "M", 10, "30.00")
    dec = _post(shop, dt.datetime(2026, 12, 1, 7, 30, tzinfo=zone), "delivery", "M", 5,
                "40.00")
    clock.at = dt.datetime(2026, 12, 1, 8, tzinfo=zone)
    assert books.close_period(2026, 11).monthly_issues == 1
    assert docs.get(nov).counter(1, "cost") == D("50.00")
    assert docs.get(dec).counter(1, "cost") == 0
    assert j.balance("M", "W").value == D("350.00")
    assert books.close_period(2026, 12).monthly_issues == 1
    assert docs.get(dec).counter(1, "cost") == D("116.67")
    assert j.balance("M", "W").value == D("233.33")
    for period, cost in (("2026-11", D("50.00")), ("2026-12", D("116.67"))):
        (tb,) = [r for r in books.trial_balance(period) if r.account == "6401"]
        assert tb.balance == cost
    assert [v.date for v in books.vouchers() if v.doc_id.startswith("YJ-")] == [
        dt.date(2026, 11, 30), dt.date(2026, 12, 31)]
    storage.close()


# -- a store keeps the timezone of its closes ---------------------------------------------------

def _refused_with(storage: MemoryStorage | SqliteStorage, at: dt.datetime) -> None:
    """Every command that reads the lock, by a service whose clock gives ``at`` (a zone other
    than the closes'), is ``period_zone_mismatch``, nothing written; a draft may be created
    and cancelled (no period is checked)."""
    j = Jxc(storage, clock=HandClock(at))
    docs, books = Documents(j), Accounting(j)
    draft = docs.create("purchase_receipt", [Line(1, "A", D(1), D("1.00"), warehouse="W")],
                        party="S")
    refusals = [
        lambda: j.receive("A", "W", D(1), D("1.00")),
        lambda: docs.approve_through(draft.doc_id, [BOSS]),
        lambda: books.close_period(2026, 12),
        lambda: books.reopen_period(2026, 11, user="boss", reason="zone"),
        lambda: books.settle("payable", "S", D("1.00"), date=dt.date(2026, 12, 2)),
    ]
    for refused in refusals:
        with pytest.raises(JxcError) as e:
            refused()
        assert e.value.code == "period_zone_mismatch"
        assert e.value.data == {
            "until": "2026-11-30T15:59:59.999999+00:00",
            "local": _last_moment(EAST, 2026, 11).astimezone(at.tzinfo).isoformat()}
        assert "时区" in e.value.message_zh
    assert docs.get(draft.doc_id).state == "draft"
    docs.cancel(draft.doc_id, BOSS)


def test_a_clock_of_another_timezone_is_refused_once_a_month_is_closed(
        adapter: str, tmp_path: Path) -> None:
    storage = _storage(adapter, tmp_path)
    shop = _open(storage, EAST)
    j, _, books, clock = shop
    _post(shop, dt.datetime(2026, 11, 20, 10, tzinfo=EAST), "purchase_receipt", "A", 10,
          "10.00")
    clock.at = dt.datetime(2026, 12, 2, 9, tzinfo=EAST)
    books.close_period(2026, 11)
    log = books.period_log()
    for zone in (WEST, dt.UTC):  # the same instant, read in another zone
        _refused_with(storage, clock.at.astimezone(zone))
    assert books.period_log() == log
    assert j.balance("A", "W").on_hand == 10
    # the store's own timezone still works, under another name too
    j.receive("A", "W", D(1), D("1.00"))
    if SHANGHAI is not None:
        j3 = Jxc(storage, clock=HandClock(clock.at.astimezone(SHANGHAI)))
        j3.receive("A", "W", D(1), D("1.00"))
        assert Accounting(j3).close_period(2026, 12).period == "2026-12"
    assert j.balance("A", "W").on_hand == (11 if SHANGHAI is None else 12)
    storage.close()


@needs_shanghai
def test_a_zoneinfo_clock_closes_local_months(adapter: str, tmp_path: Path) -> None:
    assert SHANGHAI is not None
    storage = _storage(adapter, tmp_path)
    shop = _open(storage, SHANGHAI)
    j, _, books, clock = shop
    _post(shop, dt.datetime(2026, 11, 30, 23, tzinfo=SHANGHAI), "purchase_receipt", "A", 2,
          "10.00")
    _post(shop, dt.datetime(2026, 12, 1, 1, tzinfo=SHANGHAI), "purchase_receipt", "A", 3,
          "10.00")
    books.close_period(2026, 11)
    end = dt.datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert j.balance("A", "W", as_of=end).on_hand == 2
    assert _inventory_account(books, dt.date(2026, 11, 30)) == D("20.00")
    with pytest.raises(JxcError) as e:
        j.receive("A", "W", D(1), D("1.00"), posted_at=end)
    assert e.value.code == "period_closed"
    clock.at = dt.datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)
    j.receive("A", "W", D(1), D("1.00"))
    storage.close()


# -- (d) the property ----------------------------------------------------------------------------

_ZONES = [EAST, WEST] + ([NEW_YORK] if NEW_YORK is not None else [])
#: local month starts the postings fall around
_STARTS = [(2026, 11), (2026, 12), (2027, 1)]
_STEP = st.tuples(st.sampled_from(["in", "out"]), st.sampled_from(ITEMS), st.integers(1, 9),
                  st.integers(100, 5000), st.integers(0, len(_STARTS) - 1),
                  st.integers(-16 * 60, 16 * 60))


def _half_up(x: Fraction) -> Decimal:
    return (D(x.numerator) / D(x.denominator)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def _month(at: dt.datetime, zone: dt.tzinfo) -> tuple[int, int]:
    local = at.astimezone(zone)
    return local.year, local.month


def _next(month: tuple[int, int]) -> tuple[int, int]:
    y, m = month
    return (y + 1, 1) if m == 12 else (y, m + 1)


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
@pytest.mark.parametrize("zone", _ZONES, ids=[str(z) for z in _ZONES])
@settings(max_examples=30, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, min_size=1, max_size=14))
def test_each_closed_month_books_its_local_stock(
        adapter: str, zone: dt.tzinfo, steps: list[tuple[str, str, int, int, int, int]]) -> None:
    """Receipts and deliveries (FIFO and monthly average) at moments within 16 hours of a
    local month start, in any order; the months before a posting's local month closed in turn
    before it. A posting is refused as closed exactly when its local month is closed. At the
    end every month is closed, and for each: 1405 of the vouchers up to its last local day
    equals the ledger's stock value at its last local moment, the snapshot's and the
    进销存汇总表's; each posting's voucher carries its local day; each month-end cost of an
    issue lies in the issue's local month."""
    tmp = tempfile.mkdtemp(prefix="jxc-local-") if adapter == "sqlite" else None
    storage = MemoryStorage() if tmp is None else SqliteStorage(str(Path(tmp) / "p.db"))
    try:
        shop = _open(storage, zone)
        j, docs, books, clock = shop
        first = (2026, 10)
        closed: tuple[int, int] | None = None  # the last month closed
        posted: list[tuple[str, dt.datetime]] = []
        #: the monthly-average item's movements by local month: (signed quantity, cents)
        moves: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for kind, item, qty, cents, start, minutes in steps:
            y, m = _STARTS[start]
            at = dt.datetime(y, m, 1, tzinfo=zone) + dt.timedelta(minutes=minutes)
            month = _month(at, zone)
            clock.at = at
            while (_next(closed) if closed else first) < month:  # close the months before
                closed = _next(closed) if closed else first
                books.close_period(*closed)
            try:
                doc_id = _post(shop, at, "purchase_receipt" if kind == "in" else "delivery",
                               item, qty, str(D(cents) / 100) if kind == "in" else "20.00")
            except JxcError as e:
                if e.code == "period_closed":
                    assert closed is not None and month <= closed
                    continue
                assert e.code in ("insufficient_stock", "backdated_posting"), e.code
                continue
            assert closed is None or month > closed
            posted.append((doc_id, at))
            if item == "M":
                moves.setdefault(month, []).append((qty if kind == "in" else -qty, cents))
        clock.at = dt.datetime(2027, 1, 1, 17, tzinfo=zone)
        while closed is None or closed < (2027, 1):
            closed = _next(closed) if closed else first
            books.close_period(*closed)
        # every posting's journal rows carry its local day (its own: line 1; a back-dating
        # correction of later issues, line 0, is dated at the entry it corrects; a delivery
        # under the monthly average has no row before its month's close)
        for doc_id, at in posted:
            days = {r.date for r in docs.journal(doc_id) if r.line_no == 1}
            assert days <= {at.astimezone(zone).date().isoformat()}
            assert days or doc_id.startswith("XSCK")
        # every month-end cost of an issue lies in that issue's local month
        with storage.unit_of_work() as uow:
            entries = [e for i in ITEMS for e in uow.ledger.after(i, "W", None, 1 << 62)]
        issued = {(e.doc_id, e.line_no): e.posted_at for e in entries
                  if e.kind == "delivery" and e.quantity}
        for e in entries:
            if e.kind == "period_cost" and (e.doc_id, e.line_no) in issued:
                assert _month(e.posted_at, zone) == _month(issued[(e.doc_id, e.line_no)], zone)
        month, opening = first, (Fraction(0), Fraction(0))
        while month <= (2027, 1):
            end = _last_moment(zone, *month)
            # the monthly average of the local month: (opening + its receipts) / quantity
            q, v = opening
            got = moves.get(month, [])
            q_in = q + sum(n for n, _ in got if n > 0)
            v_in = v + sum(Fraction(n * c, 100) for n, c in got if n > 0)
            left = q_in + sum(n for n, _ in got if n < 0)
            value = _half_up(left * v_in / q_in) if q_in else D("0.00")
            assert j.balance("M", "W", as_of=end).value == value, month
            opening = (left, Fraction(value))
            account = _inventory_account(books, _last_day(*month))
            summary = sum((r.closing_value for r in books.inventory_summary(*month)), D(0))
            assert account == _ledger_value(j, end) == _snapshot_value(j, end) == summary, month
            month = _next(month)
        assert books.reconcile_inventory(differences_only=True) == []
    finally:
        storage.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
