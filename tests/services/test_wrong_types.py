"""Every public method of :class:`Jxc`, :class:`Documents` and :class:`Accounting` refuses an
argument of the wrong Python type at its boundary, and writes nothing.

House rule (``services/_checks.py``): a value of the wrong type is a ``TypeError`` naming the
argument; a date argument that is not a date is ``invalid_date`` (a :class:`JxcError`, the
rule of every date). Never an ``AttributeError``, ``IndexError``, ``KeyError`` or
``ValueError`` from inside, never a silent success.

:data:`METHODS` declares, for every public method, the kind of each parameter (and a good value
where the default will not do); :data:`BAD` gives the wrong values tried for each kind: ``None``
where it is not accepted, an int, a str where a list is expected, a list where a str is
expected, a float where a Decimal is expected. A new public method, or a new parameter, must be
declared here (:func:`test_every_public_method_is_swept`); each good call is checked to pass
(:func:`test_the_good_calls_pass`), so that a refusal in the sweep is the bad argument's.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jxc_core.adapters import MemoryStorage, SqliteStorage
from jxc_core.documents import Line, User
from jxc_core.errors import JxcError
from jxc_core.ports import Storage
from jxc_core.services import Accounting, Documents, Jxc, ReserveLine, StockLine, StockPosting
from jxc_core.stock import Item, Party, Warehouse
from jxc_core.stock.replenishment import PurchaseSuggestion, ReplenishmentRule

D = Decimal
NOW = dt.datetime(2026, 3, 10, 10, 0)
BOSS = User("boss", frozenset({"all"}))


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


class Shop:
    """The three services over one storage, with something of everything: items (FIFO,
    standard, serial-tracked), warehouses (one with locations), a supplier and a customer,
    stock, a reservation, purchase orders in every state, a posted receipt and its invoice, a
    settlement, a submitted stock count, a closed month."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        j = self.jxc = Jxc(storage, clock=FixedClock())
        self.docs = Documents(j)
        self.acc = Accounting(j)
        j.define_item(Item("A", "apple"))
        j.define_item(Item("STD", "standard", costing_method="standard",
                           standard_cost=D(5)))
        j.define_item(Item("PH", "phone", serial_tracked=True))
        j.define_item(Item("CNT", "counted"))
        j.define_warehouse(Warehouse("W", "main"))
        j.define_warehouse(Warehouse("V", "second"))
        j.define_warehouse(Warehouse("R", "racked", locations=("A1", "B1")))
        j.define_party(Party("S1", "supplier", "supplier"))
        j.define_party(Party("C1", "customer", "customer"))
        self.acc.close_period(2026, 1)
        j.receive("A", "W", D(10), D(2), doc_id="RK-A")
        j.receive("A", "R", D(4), D(2), location="A1", doc_id="RK-R")
        j.receive("STD", "W", D(3), D(5), doc_id="RK-S")
        j.receive("PH", "W", D(2), D(100), serials=("S1", "S2"), doc_id="RK-P")
        j.receive("CNT", "W", D(10), D(1), doc_id="RK-C")
        j.reserve([ReserveLine("SO-1/1", "A", "W", D(3))])
        docs = self.docs

        def po(doc_id: str) -> None:
            docs.create("purchase_order", [Line(1, "A", D(5), D(2), warehouse="W")],
                        party="S1", doc_id=doc_id)

        po("CG-D")  # draft
        po("CG-S")  # submitted
        docs.submit("CG-S", BOSS)
        po("CG-AP")  # approved
        docs.submit("CG-AP", BOSS)
        docs.approve("CG-AP", BOSS)
        po("CG-P")  # posted
        docs.approve_through("CG-P", [BOSS])
        docs.create("purchase_receipt", [Line(1, "A", D(5), D(2), warehouse="W",
                                              source=("CG-P", 1))],
                    party="S1", doc_id="RK-1")
        docs.approve_through("RK-1", [BOSS])
        docs.create("purchase_invoice", [Line(1, "A", D(5), D(2), source=("RK-1", 1))],
                    party="S1", doc_id="FP-1")
        docs.approve_through("FP-1", [BOSS])
        self.acc.settle("payable", "S1", D(1), date=NOW.date(), doc_id="FK-1")
        docs.create("stock_count", [Line(1, "CNT", D(0), warehouse="W")], doc_id="PD-1")
        docs.submit("PD-1", BOSS)

    def state(self) -> dict[str, Any]:
        """What a command may write: ledger, balances, reservations, valuations, documents,
        journal, records, serials, master data, the outbox."""
        with self.storage.unit_of_work() as u:
            return {
                "ledger": u.ledger.count(),
                "entries": [u.ledger.entries(i) for i in ("A", "STD", "PH", "CNT")],
                "balances": u.balances.all(),
                "reservations": u.reservations.all(),
                "valuations": [u.valuations.get((i, w)) for i in ("A", "STD", "PH", "CNT")
                               for w in ("W", "V", "R")],
                "documents": {d: u.documents.get(d) for d in u.documents.ids()},
                "journal": u.journal.all(),
                "records": {k: u.records.list(k) for k in (
                    "voucher", "period", "period_log", "snapshot", "accounting")},
                "serials": [u.serials.in_warehouse("PH", w) for w in ("W", "V", "R")],
                "master": [*(u.master.get_item(i) for i in ("A", "STD", "PH", "X")),
                           *(u.master.get_warehouse(w) for w in ("W", "V", "R", "X")),
                           *(u.master.get_party(p) for p in ("S1", "C1", "X"))],
                "outbox": u.outbox.pending(),
                "idempotency": u.idempotency.get("K"),
            }


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def kind_of_storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def shop(kind_of_storage: str, tmp_path: Path) -> Iterator[Shop]:
    storage: Storage = MemoryStorage() if kind_of_storage == "memory" else SqliteStorage(
        str(tmp_path / "sweep.db"))
    yield Shop(storage)
    storage.close()


# -- kinds of parameter and the wrong values of each ------------------------------------------
TEXT = "text"  # a str (a code, a name, a comment)
OPT_TEXT = "optional text"  # a str or None
NUMBER = "number"  # a Decimal or an int
OPT_NUMBER = "optional number"
BOOL = "bool"
INT = "int"
TEXTS = "texts"  # a list or tuple of str
OPT_TEXTS = "optional texts"
MOMENT = "moment"  # a datetime.datetime or None (posted_at, expires_at, as_of)
DATE = "date"  # a datetime.date
OPT_DATE = "optional date"
USER = "user"  # a User
USERS = "users"  # a list of User
OBJECT = "object"  # an Item, a Party, a Warehouse
LINES = "lines"  # a list of StockLine, ReserveLine, Line, PurchaseSuggestion, ...
TRIPLES = "triples"  # availability: a list of (item, warehouse, wanted)
MAPPING = "mapping"  # a mapping (record_count's counted, a form)
OPT_MAPPING = "optional mapping"
DOC = "doc"  # a Document or its number

_LIST = ["A"]
BAD: dict[str, list[object]] = {
    TEXT: [None, 5, 1.5, _LIST],
    OPT_TEXT: [5, 1.5, _LIST],
    NUMBER: [None, "1", 1.5, [1]],
    OPT_NUMBER: ["1", 1.5, [1]],
    BOOL: [None, "no", 1, [True]],
    INT: [None, "1", 1.5, True, [1]],
    TEXTS: [None, 5, "A", [5], [None]],
    OPT_TEXTS: [5, "A", [5]],
    MOMENT: ["2026-03-10", 5, 1.5, dt.date(2026, 3, 10), _LIST],
    DATE: [None, "2026-03-10", 5, dt.datetime(2026, 3, 10, 10, 0), _LIST],
    OPT_DATE: ["2026-03-10", 5, dt.datetime(2026, 3, 10, 10, 0), _LIST],
    USER: [None, "boss", 5, [BOSS]],
    USERS: [None, "boss", BOSS, 5, [None], ["boss"]],
    OBJECT: [None, 5, "A", _LIST],
    LINES: [None, 5, "A", [None], [("A", "W", D(1))], ["A"]],
    TRIPLES: [None, 5, "AWx", [None], [("A", "W")], [("A", "W", 1.5)], [(5, "W", D(1))],
              [("A", "W", "1")], ["AWx"]],
    MAPPING: [None, 5, "A", [1]],
    OPT_MAPPING: [5, "A", [1]],
    DOC: [None, 5, _LIST],
}

#: kinds whose wrong values are refused as ``invalid_date`` (every date argument), naming the
#: argument in ``field``
DATE_KINDS = {MOMENT, DATE, OPT_DATE}
#: (service, method, parameter) -> the code of the JxcError (with ``field`` the parameter) a
#: wrong value is refused with where it is not a TypeError: a form is plain data (JSON from a
#: web form), read as ``document_form`` reads it
CODED: dict[tuple[str, str, str], str] = {
    ("docs", "create_from_form", "form"): "invalid_document",
}

P = tuple[str, object]  # (kind, good value); a bare kind: the parameter's default is good


def _line() -> list[StockLine]:
    return [StockLine("A", "W", D(1), unit_cost=D(1))]


#: (service, method) -> {parameter: kind or (kind, good value)}
METHODS: dict[tuple[str, str], dict[str, str | P]] = {
    # -- Jxc --------------------------------------------------------------------------------
    ("jxc", "digits_of"): {"currency": (TEXT, "USD")},
    ("jxc", "deliver_events"): {"limit": INT},
    ("jxc", "purge_events"): {"occurred_before": (MOMENT, NOW), "limit": INT},
    ("jxc", "define_item"): {"item": (OBJECT, Item("N", "new"))},
    ("jxc", "define_party"): {"party": (OBJECT, Party("N", "new", "customer"))},
    ("jxc", "define_warehouse"): {"warehouse": (OBJECT, Warehouse("N", "new"))},
    ("jxc", "item"): {"code": (TEXT, "A")},
    ("jxc", "set_standard_cost"): {
        "item": (TEXT, "STD"), "standard_cost": (NUMBER, D(6)), "doc_id": OPT_TEXT,
        "posted_at": MOMENT, "idempotency_key": OPT_TEXT},
    ("jxc", "post"): {
        "doc_type": (TEXT, "receipt"), "doc_id": (TEXT, "RK-N"), "lines": (LINES, _line()),
        "posted_at": MOMENT, "idempotency_key": OPT_TEXT},
    ("jxc", "post_many"): {
        "postings": (LINES, [StockPosting("receipt", "RK-M", _line())]),
        "idempotency_key": OPT_TEXT},
    ("jxc", "receive"): {
        "item": (TEXT, "A"), "warehouse": (TEXT, "W"), "quantity": (NUMBER, D(1)),
        "unit_cost": (NUMBER, D(1)), "doc_id": OPT_TEXT, "unit": OPT_TEXT, "lot": TEXT,
        "expiry": OPT_DATE, "location": TEXT, "serials": TEXTS, "posted_at": MOMENT,
        "idempotency_key": OPT_TEXT},
    ("jxc", "issue"): {
        "item": (TEXT, "A"), "warehouse": (TEXT, "W"), "quantity": (NUMBER, D(1)),
        "doc_id": OPT_TEXT, "unit": OPT_TEXT, "lot": TEXT, "location": TEXT, "serials": TEXTS,
        "demand": OPT_TEXT, "from_ref": OPT_TEXT, "posted_at": MOMENT,
        "idempotency_key": OPT_TEXT},
    ("jxc", "transfer"): {
        "item": (TEXT, "A"), "from_warehouse": (TEXT, "W"), "to_warehouse": (TEXT, "V"),
        "quantity": (NUMBER, D(1)), "doc_id": OPT_TEXT, "unit": OPT_TEXT, "lot": TEXT,
        "from_location": TEXT, "to_location": TEXT, "serials": TEXTS, "demand": OPT_TEXT,
        "posted_at": MOMENT, "idempotency_key": OPT_TEXT},
    ("jxc", "adjust"): {
        "item": (TEXT, "A"), "warehouse": (TEXT, "W"), "quantity": (NUMBER, D(1)),
        "unit_cost": OPT_NUMBER, "doc_id": OPT_TEXT, "lot": TEXT, "posted_at": MOMENT,
        "idempotency_key": OPT_TEXT},
    ("jxc", "move"): {
        "item": (TEXT, "A"), "warehouse": (TEXT, "R"), "quantity": (NUMBER, D(1)),
        "from_location": (TEXT, "A1"), "to_location": (TEXT, "B1"), "doc_id": OPT_TEXT,
        "unit": OPT_TEXT, "lot": TEXT, "serials": TEXTS, "demand": OPT_TEXT,
        "posted_at": MOMENT, "idempotency_key": OPT_TEXT},
    ("jxc", "reserve"): {
        "lines": (LINES, [ReserveLine("SO-2/1", "A", "W", D(1))]), "partial": BOOL,
        "expires_at": MOMENT, "idempotency_key": OPT_TEXT},
    ("jxc", "release"): {"demand": (TEXT, "SO-1/1"), "idempotency_key": OPT_TEXT},
    ("jxc", "purge_lapsed_reservations"): {"idempotency_key": OPT_TEXT},
    ("jxc", "hold"): {
        "item": (TEXT, "A"), "warehouse": (TEXT, "W"), "quantity": (NUMBER, D(1)),
        "lot": TEXT, "location": TEXT, "idempotency_key": OPT_TEXT},
    ("jxc", "balance"): {
        "item": (TEXT, "A"), "warehouse": OPT_TEXT, "lot": OPT_TEXT, "as_of": MOMENT},
    ("jxc", "stock_balances"): {},
    ("jxc", "balances"): {},
    ("jxc", "serial_warehouse"): {"item": (TEXT, "PH"), "serial": (TEXT, "S1")},
    ("jxc", "serials_in"): {
        "item": (TEXT, "PH"), "warehouse": (TEXT, "W"), "location": OPT_TEXT},
    ("jxc", "reservations"): {"demand": OPT_TEXT},
    ("jxc", "ledger"): {"item": (TEXT, "A"), "warehouse": OPT_TEXT},
    ("jxc", "availability"): {"lines": (TRIPLES, [("A", "W", D(1))])},
    # -- Documents --------------------------------------------------------------------------
    ("docs", "get"): {"doc_id": (TEXT, "CG-D")},
    ("docs", "ids"): {"doc_type": OPT_TEXT, "state": OPT_TEXT},
    ("docs", "journal"): {"doc_id": OPT_TEXT},
    ("docs", "create_from_form"): {
        "form": (MAPPING, {"doc_type": "purchase_order", "party": "S1", "lines": [
            {"item": "A", "quantity": "1", "warehouse": "W"}]}),
        "user": TEXT, "idempotency_key": OPT_TEXT},
    ("docs", "create"): {
        "doc_type": (TEXT, "purchase_order"),
        "lines": (LINES, [Line(1, "A", D(1), D(2), warehouse="W")]),
        "party": (TEXT, "S1"), "date": OPT_DATE, "currency": OPT_TEXT, "user": TEXT,
        "attributes": OPT_MAPPING, "doc_id": OPT_TEXT, "idempotency_key": OPT_TEXT},
    ("docs", "available_actions"): {"doc": (DOC, "CG-D"), "user": (USER, BOSS)},
    ("docs", "submit"): {
        "doc_id": (TEXT, "CG-D"), "user": (USER, BOSS), "comment": TEXT,
        "idempotency_key": OPT_TEXT},
    ("docs", "approve"): {
        "doc_id": (TEXT, "CG-S"), "user": (USER, BOSS), "comment": TEXT,
        "idempotency_key": OPT_TEXT},
    ("docs", "reject"): {
        "doc_id": (TEXT, "CG-S"), "user": (USER, BOSS), "comment": TEXT,
        "idempotency_key": OPT_TEXT},
    ("docs", "post"): {
        "doc_id": (TEXT, "CG-AP"), "user": (USER, BOSS), "comment": TEXT,
        "idempotency_key": OPT_TEXT},
    ("docs", "cancel"): {
        "doc_id": (TEXT, "CG-D"), "user": (USER, BOSS), "comment": TEXT,
        "idempotency_key": OPT_TEXT},
    ("docs", "close"): {
        "doc_id": (TEXT, "CG-P"), "user": (USER, BOSS), "comment": TEXT,
        "idempotency_key": OPT_TEXT},
    ("docs", "approve_through"): {
        "doc_id": (TEXT, "CG-D"), "users": (USERS, [BOSS]), "idempotency_key": OPT_TEXT},
    ("docs", "post_many"): {
        "doc_ids": (TEXTS, ["CG-AP"]), "user": (USER, BOSS), "comment": TEXT,
        "idempotency_key": OPT_TEXT},
    ("docs", "suggest_purchases"): {
        "rules": (LINES, [ReplenishmentRule("A", "W", D(100), supplier="S1")])},
    ("docs", "draft_purchase_orders"): {
        "suggestions": (LINES, [PurchaseSuggestion("A", "W", "S1", D(0), D(5), D(2))]),
        "user": TEXT, "tax_rate": NUMBER, "idempotency_key": OPT_TEXT},
    ("docs", "count_sheet"): {"doc_id": (TEXT, "PD-1"), "blind": BOOL},
    ("docs", "record_count"): {
        "doc_id": (TEXT, "PD-1"), "counted": (MAPPING, {1: D(10)}),
        "idempotency_key": OPT_TEXT, "serials": OPT_MAPPING},
    # -- Accounting -------------------------------------------------------------------------
    ("acc", "generate_vouchers"): {},
    ("acc", "vouchers"): {"period": OPT_TEXT},
    ("acc", "trial_balance"): {"period": OPT_TEXT},
    ("acc", "reconcile_inventory"): {"differences_only": BOOL},
    ("acc", "account_balance"): {"account": (TEXT, "1405"), "period": OPT_TEXT},
    ("acc", "open_items"): {"kind": TEXT, "party": OPT_TEXT},
    ("acc", "settle"): {
        "kind": (TEXT, "payable"), "party": (TEXT, "S1"), "amount": (NUMBER, D(1)),
        "date": (DATE, NOW.date()), "currency": OPT_TEXT, "invoices": OPT_TEXTS,
        "doc_id": OPT_TEXT, "idempotency_key": OPT_TEXT},
    ("acc", "cancel_settlement"): {
        "number": (TEXT, "FK-1"), "date": OPT_DATE, "idempotency_key": OPT_TEXT},
    ("acc", "aging"): {"kind": TEXT, "as_of": (DATE, NOW.date())},
    ("acc", "close_period"): {
        "year": (INT, 2026), "month": (INT, 2), "user": TEXT, "strict": BOOL,
        "idempotency_key": OPT_TEXT},
    ("acc", "reopen_period"): {
        "year": (INT, 2026), "month": (INT, 1), "user": (TEXT, "boss"),
        "reason": (TEXT, "a late invoice"), "idempotency_key": OPT_TEXT},
    ("acc", "period_log"): {},
    ("acc", "inventory_summary"): {"year": (INT, 2026), "month": (INT, 3)},
    ("acc", "gross_profit"): {"by": TEXT, "period": OPT_TEXT},
    ("acc", "revalue_standard"): {
        "item": (TEXT, "STD"), "standard_cost": (NUMBER, D(6)), "date": OPT_DATE,
        "doc_id": OPT_TEXT, "idempotency_key": OPT_TEXT},
}

SERVICES = {"jxc": Jxc, "docs": Documents, "acc": Accounting}


def _method(shop: Shop, service: str, name: str) -> Callable[..., object]:
    target = {"jxc": shop.jxc, "docs": shop.docs, "acc": shop.acc}[service]
    found: Callable[..., object] = getattr(target, name)
    return found


def _parameters(service: str, name: str) -> list[inspect.Parameter]:
    signature = inspect.signature(getattr(SERVICES[service], name))
    return [p for p in signature.parameters.values() if p.name != "self"]


def _kind(spec: str | P) -> str:
    return spec if isinstance(spec, str) else spec[0]


def good_arguments(service: str, name: str) -> dict[str, object]:
    """The keyword arguments of a call that passes: each parameter's good value, else its
    default."""
    declared = METHODS[(service, name)]
    out: dict[str, object] = {}
    for p in _parameters(service, name):
        spec = declared[p.name]
        if not isinstance(spec, str):
            out[p.name] = spec[1]
        elif p.default is not inspect.Parameter.empty:
            out[p.name] = p.default
        else:
            raise AssertionError(f"{service}.{name}: give {p.name} a good value")
    return out


def _cases() -> list[Any]:
    cases = []
    for (service, name), declared in METHODS.items():
        for param, spec in declared.items():
            for k, bad in enumerate(BAD[_kind(spec)]):
                cases.append(pytest.param(service, name, param, _kind(spec), bad,
                                          id=f"{service}.{name}-{param}-{k}"))
    return cases


def test_every_public_method_is_swept() -> None:
    """Each public method of the three services, and each of its parameters, has a kind in
    :data:`METHODS` (a new one must be declared)."""
    for service, cls in SERVICES.items():
        public = {n for n, v in vars(cls).items()
                  if not n.startswith("_") and inspect.isfunction(v)}
        assert public == {n for s, n in METHODS if s == service}, service
        for name in public:
            names = {p.name for p in _parameters(service, name)}
            assert names == set(METHODS[(service, name)]), f"{service}.{name}"


@pytest.mark.parametrize(("service", "name"), list(METHODS), ids=[
    f"{s}.{n}" for s, n in METHODS])
def test_the_good_calls_pass(shop: Shop, service: str, name: str) -> None:
    """The call each wrong value is swapped into passes as it is."""
    _method(shop, service, name)(**good_arguments(service, name))


@pytest.mark.parametrize(("service", "name", "param", "kind", "bad"), _cases())
def test_a_wrong_type_is_refused_naming_it_and_writes_nothing(
        shop: Shop, service: str, name: str, param: str, kind: str, bad: object) -> None:
    arguments = good_arguments(service, name)
    arguments[param] = bad
    before = shop.state()
    with pytest.raises((TypeError, JxcError)) as info:
        _method(shop, service, name)(**arguments)
    err = info.value
    code = "invalid_date" if kind in DATE_KINDS else CODED.get((service, name, param))
    if code is not None:
        assert isinstance(err, JxcError), repr(err)
        assert (err.code, err.data.get("field")) == (code, param), repr(err)
    else:
        assert type(err) is TypeError, repr(err)  # a plain TypeError, not a leak from inside
        assert param in str(err), f"{param} not named: {err!r}"
    assert shop.state() == before


@pytest.mark.parametrize(("make", "name"), [
    (lambda: Jxc(None), "storage"),  # type: ignore[arg-type]
    (lambda: Jxc(MemoryStorage(), notifier=print), "notifier"),  # type: ignore[arg-type]
    (lambda: Jxc(MemoryStorage(), rates={"USD": D(7)}), "rates"),  # type: ignore[arg-type]
    (lambda: Jxc(MemoryStorage(), clock="2026-03-10"), "clock"),  # type: ignore[arg-type]
    (lambda: Documents(None), "jxc"),  # type: ignore[arg-type]
    (lambda: Documents(MemoryStorage()), "jxc"),  # type: ignore[arg-type]
    (lambda: Accounting(None), "jxc"),  # type: ignore[arg-type]
    (lambda: Accounting(Documents(Jxc(MemoryStorage()))), "jxc"),  # type: ignore[arg-type]
], ids=["jxc-storage", "jxc-notifier", "jxc-rates", "jxc-clock", "documents-none",
        "documents-storage", "accounting-none", "accounting-documents"])
def test_a_service_made_of_the_wrong_parts_is_refused_when_made(
        make: Callable[[], object], name: str) -> None:
    """Not an AttributeError at the first command that needs the part."""
    with pytest.raises(TypeError, match=f"^{name} must "):
        make()
