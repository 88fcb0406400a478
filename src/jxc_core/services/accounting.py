"""Vouchers, settlement, month-end close and the reports (the books side of jxc_core).

``Accounting(jxc)`` reads the accounting events that postings recorded (the journal) and:

* :meth:`Accounting.generate_vouchers` turns each posting's events into one balanced voucher
  (记账凭证) through the account mapping (Chinese preset by default), numbered per period
  (``记-2026-11-0001``); cancellations give red vouchers;
* :meth:`Accounting.settle` books receipts and payments (收付款) against invoices, partial or
  whole, with the exchange difference when the rate moved since the invoice;
  :meth:`open_items` and :meth:`aging` report what is still open (0-30, 31-60, 61-90, >90 days);
* :meth:`Accounting.close_period` (月结) vouchers everything, writes the period's balance
  snapshot, and locks the period against any posting dated inside it; :meth:`reopen_period` is
  explicit and recorded; drafts dated in the period give a warning (or a refusal with
  ``strict=True``);
* the reports: 进销存汇总表 (:meth:`inventory_summary`), gross profit by item or customer, the
  trial balance and the vouchers; see :mod:`jxc_core.accounting.reports` for CSV and tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from jxc_core.accounting.mapping import AccountMapping, chinese_mapping
from jxc_core.accounting.vouchers import Voucher, build_voucher
from jxc_core.costing import MonthlyAverageValuation, PeriodCloseResult
from jxc_core.documents.codec import document_from_data
from jxc_core.documents.lifecycle import State
from jxc_core.errors import JxcError, NotFoundError, PeriodClosedError
from jxc_core.ports import UnitOfWork
from jxc_core.services._checks import (
    check_bool,
    check_day,
    check_month,
    check_period,
    check_texts,
)
from jxc_core.services.documents import LATE_RETURN, SETTLED, Documents, JournalRow
from jxc_core.services.jxc import (
    _MOVE_KINDS,
    Jxc,
    Posting,
    _doc_id,
    _moment,
    _split_group,
    _Work,
)
from jxc_core.stock.model import LedgerEntry
from jxc_core.values import (
    DIVISION_CONTEXT,
    ZERO,
    check_number,
    check_text,
    money_quantum,
    multiply,
    period_key,
    round_money,
    round_to,
)

__all__ = [
    "Accounting",
    "AgingRow",
    "GrossProfitRow",
    "InventoryReconciliation",
    "OpenItem",
    "PeriodClose",
    "SummaryRow",
    "TrialRow",
]

_CUSTOMER_COST = frozenset({"delivery", "sales_return"})

#: the documents whose counters take the month-end costs of their lines
_COST_COUNTERS = frozenset({"delivery", "sales_return"})
#: record kind: what the close of a month did to a monthly-average scope (for its reopening)
_MONTHLY_CLOSE = "monthly_close"

#: the account role that takes the month-end cost of an issue, by the issuing document type
_COUNTER_ROLE = {"delivery": "cogs", "issue": "cogs", "purchase_return": "price_difference",
                 "adjustment": "adjustment", "stock_count": "count_gain_loss"}


def _cancelled_transfer(uow: UnitOfWork, doc_id: str, known: dict[str, bool]) -> bool:
    """Whether ledger entries of ``doc_id`` are the cancellation (红冲, ``<id>-R``) of a
    transfer document: its own entries are transfers too, out and in."""
    found = known.get(doc_id)
    if found is None:
        data = uow.documents.get(doc_id[:-2]) if doc_id.endswith("-R") else None
        # cancelled after it was posted: a draft cancelled never wrote ``-R`` entries, and
        # a transfer of its own may carry such an id
        found = known[doc_id] = data is not None and data.get("doc_type") == "transfer" and (
            data.get("state") == "cancelled") and any(
                h[0] == "cancel" and h[3] == "posted" for h in data.get("history", ()))
    return found


@attrs.frozen(slots=True)
class OpenItem:
    doc_id: str
    party: str
    date: dt.date
    currency: str
    amount: Decimal
    settled: Decimal
    rate: Decimal

    @property
    def open(self) -> Decimal:
        return self.amount - self.settled


@attrs.frozen(slots=True)
class AgingRow:
    party: str
    days_0_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal

    @property
    def total(self) -> Decimal:
        return self.days_0_30 + self.days_31_60 + self.days_61_90 + self.over_90


@attrs.frozen(slots=True)
class TrialRow:
    account: str
    name: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


@attrs.frozen(slots=True)
class InventoryReconciliation:
    """A row of the reconciliation of the books with the stock (存货与总账对账): for one item
    in one warehouse (``"*"`` costed by organisation), the inventory role of the journal
    (``books``: debits less credits, book currency) and the stock valuation (``stock``)."""

    item: str
    warehouse: str
    books: Decimal
    stock: Decimal

    @property
    def difference(self) -> Decimal:
        """``stock - books``: what reached the stock and not the books (a direct ``Jxc``
        posting, which writes no journal rows), or the books and not the stock."""
        return self.stock - self.books


@attrs.frozen(slots=True)
class SummaryRow:
    """A row of the 进销存汇总表: one item in one warehouse over one period."""

    item: str
    warehouse: str
    opening_qty: Decimal
    opening_value: Decimal
    in_qty: Decimal
    in_value: Decimal
    out_qty: Decimal
    out_value: Decimal
    closing_qty: Decimal
    closing_value: Decimal
    in_by_kind: dict[str, tuple[Decimal, Decimal]] = attrs.field(factory=dict)
    out_by_kind: dict[str, tuple[Decimal, Decimal]] = attrs.field(factory=dict)
    cost_adjustments: Decimal = ZERO
    #: costed by organisation: the change of the row's share of the item's value that its
    #: movements do not carry (opening and closing are the warehouse's share of the scope's
    #: value by quantity; the ``"*"`` row, holding no stock, opens and closes at 0.00), so that
    #: opening + in − out + cost_adjustments + allocation = closing; the rows of an item add
    #: it up to 0.00. Always 0 costed by warehouse.
    allocation: Decimal = ZERO


@attrs.frozen(slots=True)
class GrossProfitRow:
    key: str
    revenue: Decimal
    cost: Decimal

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        return None if not self.revenue else round_money(self.profit / self.revenue * 100, 2)


@attrs.frozen(slots=True)
class PeriodClose:
    period: str
    vouchers: int
    snapshot_rows: int
    warnings: tuple[str, ...]
    monthly_issues: int = 0


def _announce_period_costs(w: _Work, entries: Sequence[LedgerEntry], reason: str) -> None:
    """One ``cost_adjusted`` event per monthly-average scope and month whose stock value the
    close (``reason`` ``period_close``) or the reopening (``period_reopen``) changed: its
    ``period_cost`` entries together, ``amount`` the change of the stock value (negative
    when the month's issues are valued), ``period`` the month. Without it a consumer that
    follows stock value by events drifted from the ledger at every close. The month of an
    entry is that of the clock's timezone (:meth:`_Work.month_of`)."""
    totals: dict[tuple[str, str, str], Decimal] = {}
    for e in entries:
        key = (e.item, e.warehouse, w.month_of(e.posted_at))
        totals[key] = totals.get(key, ZERO) + e.value
    for (item, wh, month), amount in totals.items():
        if amount:
            w.event("cost_adjusted", {"item": item, "warehouse": wh, "reason": reason,
                                      "amount": str(amount), "quantity": "0",
                                      "issue_ref": None, "receipt_ref": None,
                                      "period": month})


def _close_data(c: PeriodClose) -> dict[str, Any]:
    """A period close as stored for its idempotency key."""
    return {"period": c.period, "vouchers": c.vouchers, "snapshot_rows": c.snapshot_rows,
            "warnings": list(c.warnings), "monthly_issues": c.monthly_issues}


def _close_of(d: dict[str, Any]) -> PeriodClose:
    return PeriodClose(d["period"], d["vouchers"], d["snapshot_rows"], tuple(d["warnings"]),
                       d["monthly_issues"])


def _rows_data(rows: Sequence[JournalRow]) -> dict[str, Any]:
    """The journal rows a command returned, as stored for its idempotency key."""
    return {"rows": [r.to_data() for r in rows]}


def _rows_of(data: dict[str, Any]) -> list[JournalRow]:
    return [JournalRow.from_data(r) for r in data["rows"]]


def _count_settled(w: _Work, rows: Sequence[JournalRow]) -> None:
    """Keep, per invoice, what settlements cleared (``settled`` records; a reversal's rows
    count negative): an invoice with settlements standing cannot be cancelled."""
    cleared: dict[str, Decimal] = {}
    for r in rows:
        if r.ref and r.role in ("receivable", "payable"):
            part = r.credit - r.debit if r.role == "receivable" else r.debit - r.credit
            cleared[r.ref] = cleared.get(r.ref, ZERO) + part
    for ref, amount in cleared.items():
        found = w.uow.records.get(SETTLED, ref)
        total = (Decimal(found["amount"]) if found else ZERO) + amount
        w.uow.records.put(SETTLED, ref, {"amount": str(total)})


def _book_of(r: JournalRow, book_currency: str, digits: int) -> Decimal:
    """Debit minus credit of a journal row in the book currency, as its voucher line books it
    (:func:`~jxc_core.accounting.vouchers.build_voucher`): its ``book_amount`` when it has
    one, else each side converted at the row's rate and rounded."""
    if r.book_amount:
        given = Decimal(r.book_amount)
        return given if r.debit else -given
    rate = Decimal(1) if r.currency == book_currency else Decimal(r.rate or 1)
    return (round_money(multiply(r.debit, rate), digits)
            - round_money(multiply(r.credit, rate), digits))


def locked_until(w: _Work) -> dt.datetime | None:
    return w.locked_until()


class Accounting:
    """The books side over a :class:`Jxc` service; see the module docstring."""

    def __init__(self, jxc: Jxc, *, mapping: AccountMapping | None = None) -> None:
        if not isinstance(jxc, Jxc):  # (an AttributeError at the first call otherwise)
            raise TypeError(f"jxc must be a Jxc, got {type(jxc).__name__} {jxc!r}")
        self.jxc = jxc
        if mapping is not None and not isinstance(mapping, AccountMapping):
            raise TypeError("mapping must be an AccountMapping (AccountMapping.from_data(data) "
                            f"loads plain data), got {type(mapping).__name__}")
        self.mapping = mapping if mapping is not None else chinese_mapping()

    # -- vouchers -----------------------------------------------------------------------------
    def generate_vouchers(self) -> list[Voucher]:
        """Voucher every journal event not vouchered yet: one voucher per posting (and per
        date, when some of its rows carry a later one: a cost correction)."""
        with self.jxc.storage.unit_of_work() as uow:
            w = _Work(self.jxc, uow)
            made = self._generate(w)
            uow.commit()
        return made

    def _generate(self, w: _Work) -> list[Voucher]:
        cursor = int((w.uow.records.get("accounting", "cursor") or {}).get("n", 0))
        rows = w.uow.journal.since(cursor)
        groups: list[list[dict[str, Any]]] = []
        #: the groups of the posting being read (its rows follow each other) by date: a
        #: posting's rows of another date (a cost correction dated later, as its ledger entry
        #: is) are a voucher of their own, on that date, wherever they lie among its rows (a
        #: back-dated landed cost writes a later issue's correction between two receipts'
        #: shares: grouping only neighbours split it into unbalanced vouchers)
        dated: dict[str, list[dict[str, Any]]] = {}
        doc: str | None = None
        for r in rows:
            if r["doc_id"] != doc:
                doc, dated = r["doc_id"], {}
            found = dated.get(r["date"])
            if found is None:
                found = dated[r["date"]] = [r]
                groups.append(found)
            else:
                found.append(r)
        made: list[Voucher] = []
        for group in groups:
            day = dt.date.fromisoformat(group[0]["date"])
            period = period_key(day)
            voucher = build_voucher(
                group, self.mapping, number="",
                book_currency=self.jxc.book_currency,
                category_of=lambda code: w.item(code).category,
                digits=self.jxc.currency_digits)
            if not voucher.lines:  # nothing left to say: no voucher, no number used
                continue
            seq = w.uow.sequences.next(f"voucher:{period}")
            voucher = attrs.evolve(voucher, number=f"记-{period}-{seq:04d}")
            w.uow.records.put("voucher", voucher.number, voucher.to_data())
            made.append(voucher)
        w.uow.records.put("accounting", "cursor", {"n": cursor + len(rows)})
        return made

    def vouchers(self, period: str | None = None) -> list[Voucher]:
        """The stored vouchers, of one period (``"YYYY-MM"``) or all (``None``); any other
        text is ``invalid_period``."""
        check_period(period)
        with self.jxc.storage.unit_of_work() as uow:
            rows = uow.records.list("voucher", f"记-{period}" if period else "")
        return [Voucher.from_data(d) for _, d in rows]

    def trial_balance(self, period: str | None = None) -> list[TrialRow]:
        """Debits and credits per account over the vouchers (of one period, or all)."""
        check_period(period)
        sums: dict[str, list[Decimal]] = {}
        for v in self.vouchers(period):
            for x in v.lines:
                pair = sums.setdefault(x.account, [ZERO, ZERO])
                pair[0] += x.debit
                pair[1] += x.credit
        return [TrialRow(a, self.mapping.name_of(a), d, c) for a, (d, c) in sorted(sums.items())]

    def reconcile_inventory(self, *, differences_only: bool = False
                            ) -> list[InventoryReconciliation]:
        """The inventory role of the journal set against the stock valuation, per item and
        warehouse (per item, warehouse ``"*"``, costed by organisation), read in one unit of
        work. They agree when every stock movement went through documents (and month-end
        closes); a direct ``Jxc`` posting moves the stock only, and shows here as a
        ``difference``. The journal is what vouchers are made of, vouchered or not yet.
        ``differences_only``: only the rows that differ. Sorted by item, then warehouse."""
        if type(differences_only) is not bool:
            raise TypeError(f"differences_only must be a bool, got {differences_only!r}")
        org = self.jxc.organisation_scope
        books: dict[tuple[str, str], Decimal] = {}
        with self.jxc.storage.unit_of_work() as uow:
            w = _Work(self.jxc, uow)
            for r in uow.journal.all():
                if r["role"] != "inventory":
                    continue
                key = (r["item"], "*" if org else r["warehouse"])
                books[key] = books.get(key, ZERO) + Decimal(r["debit"]) - Decimal(r["credit"])
            stock = {(b.item, b.warehouse): b.value for b in self.jxc._stock_balances(w)}
        rows = [InventoryReconciliation(i, wh, books.get((i, wh), ZERO),
                                        stock.get((i, wh), ZERO))
                for i, wh in sorted(set(books) | set(stock))]
        return [r for r in rows if r.difference] if differences_only else rows

    def account_balance(self, account: str, period: str | None = None) -> Decimal:
        """The balance (debit - credit) of ``account`` (a str, else ``TypeError``) over the
        vouchers of ``period`` (``"YYYY-MM"``, else ``invalid_period``) or of all."""
        check_text(account, "account")
        check_period(period)
        return sum((r.balance for r in self.trial_balance(period) if r.account == account),
                   ZERO)

    # -- settlement (收付款与核销) -----------------------------------------------------------------
    def open_items(self, kind: str = "receivable", party: str | None = None) -> list[OpenItem]:
        """Invoices not fully settled (receivable: sales invoices; payable: purchase ones and
        landed costs). A red-letter invoice (红字发票, a credit note) is an open item of a
        negative amount until :meth:`settle` offsets it against the party's invoices.
        ``kind`` is a str (``"receivable"`` or ``"payable"``, else ``configuration``) and
        ``party`` ``None`` or a str (else ``TypeError``)."""
        check_text(kind, "kind")
        if party is not None:
            check_text(party, "party")
        with self.jxc.storage.unit_of_work() as uow:
            rows = [JournalRow.from_data(r) for r in uow.journal.all()]
        return self._open_items(rows, kind, party)[0]

    def _open_items(self, rows: Sequence[JournalRow], kind: str, party: str | None
                    ) -> tuple[list[OpenItem], dict[str, Decimal]]:
        """The open items, and what each one still holds in the book currency: the book
        amounts its rows booked (as their voucher lines do, :func:`_book_of`) less those its
        settlements cleared — receivable debit positive, payable credit positive."""
        if kind not in ("receivable", "payable"):
            raise JxcError("configuration", reason=f"kind is receivable or payable: {kind}",
                           reason_zh=f"类型应为 receivable（应收）或 payable（应付）：{kind}")
        book_currency, digits = self.jxc.book_currency, self.jxc.currency_digits
        items: dict[str, OpenItem] = {}
        settled: dict[str, Decimal] = {}
        book_left: dict[str, Decimal] = {}
        for r in rows:
            if r.role != kind or (party is not None and r.party != party):
                continue
            amount = r.debit - r.credit if kind == "receivable" else r.credit - r.debit
            book = _book_of(r, book_currency, digits)
            if kind == "payable":
                book = -book
            if r.ref:
                settled[r.ref] = settled.get(r.ref, ZERO) - amount
                book_left[r.ref] = book_left.get(r.ref, ZERO) + book
                continue
            doc = r.doc_id[:-2] if r.doc_id.endswith("-R") else r.doc_id
            book_left[doc] = book_left.get(doc, ZERO) + book
            found = items.get(doc)
            if found is None:
                items[doc] = OpenItem(doc, r.party, dt.date.fromisoformat(r.date), r.currency,
                                      amount, ZERO, Decimal(r.rate))
            else:
                items[doc] = attrs.evolve(found, amount=found.amount + amount)
        out = [attrs.evolve(i, settled=settled.get(i.doc_id, ZERO)) for i in items.values()]
        return [i for i in out if i.open], book_left

    def settle(
        self,
        kind: str,
        party: str,
        amount: Decimal,
        *,
        date: dt.date,
        currency: str | None = None,
        invoices: Sequence[str] | None = None,
        doc_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[JournalRow]:
        """Book a receipt (``kind="receivable"``, 收款) or a payment (``"payable"``, 付款) of
        ``amount`` in ``currency`` against the party's open invoices — the ones named, else the
        oldest first. Partial settlement is fine; more than is open is refused
        (``over_settlement``). In a foreign currency the invoices are cleared at their own rate,
        the bank at today's rate, and the difference is an exchange difference. The part that
        clears an invoice (its last open amount) clears what the invoice still holds in the
        book currency (``book_amount`` on its row when that is not the part's own conversion),
        so that a fully settled invoice leaves exactly 0 on its account in both currencies.

        ``currency`` must be one the service knows (``unknown_currency``), and ``amount`` may
        not have more decimals than it (``invalid_amount_precision``: 10.5 JPY, 10.005 USD);
        the amount is booked at the currency's digits (``Decimal("10.5")`` USD as 10.50).
        ``date`` is a ``datetime.date`` (else ``invalid_date``); an unknown party is
        ``not_found`` (kind ``party``).

        Credit notes (red-letter invoices: open items of a negative amount) are offset
        against the invoices cleared: the ones named in ``invoices``, else all of the party's
        in ``currency``, oldest first — as much of them as the invoices take. ``amount`` is
        then what the bank pays or receives on top (113.00 invoiced, a credit note of 45.20:
        67.80 settles all); it may be 0 when credit notes alone clear invoices, and it may
        not be more than the invoices left open after the credit notes (``over_settlement``,
        ``open``: that net amount).

        Refunds: when ``invoices`` names credit notes that the invoices named (if any) do not
        take whole, ``amount`` is the money refunded — by the supplier (``"payable"``: Dr
        bank) or to the customer (``"receivable"``: Cr bank) — and clears the rest of the
        credit notes, oldest first, at most their net open amount (``over_settlement``,
        ``open``: credit notes less invoices named). ``cancel_settlement`` reverses it as
        any settlement. Naming credit notes alone with ``amount`` 0 is ``invalid_quantity``
        (nothing to offset them against). ``kind``, ``party`` (and ``currency``, ``doc_id``
        when given) are str, ``invoices`` a list of str (else ``TypeError``)."""
        check_day(date, "date")
        check_text(kind, "kind")
        check_text(party, "party")
        if currency is not None:
            check_text(currency, "currency")
        if invoices is not None:
            invoices = list(check_texts(invoices, "invoices"))
        if doc_id is not None:
            check_text(doc_id, "doc_id")
        amount = check_number(amount, "amount")
        if amount < 0:
            raise JxcError("invalid_quantity", field="amount", value=amount)
        cur = self.jxc.book_currency if currency is None else currency
        quantum = money_quantum(self.jxc.digits_of(cur))  # unknown_currency
        rounded = round_to(amount, quantum)
        if rounded != amount:
            raise JxcError("invalid_amount_precision", field="amount", value=amount,
                           quantum=quantum, currency=cur)
        amount = rounded
        payload = (kind, party, amount, date, cur, list(invoices or []), doc_id)

        def body(w: _Work) -> list[JournalRow]:
            if type(party) is not str or w.uow.master.get_party(party) is None:
                raise NotFoundError(kind="party", key=party)
            self._check_open(w, date)
            rows = [JournalRow.from_data(r) for r in w.uow.journal.all()]
            found, book_left = self._open_items(rows, kind, party)
            # an item with nothing open (or less: overpaid by an earlier version) takes nothing
            items = [i for i in found if i.currency == cur and i.open > 0]
            credits = [i for i in found if i.currency == cur and i.open < 0]
            if invoices:
                by_id = {i.doc_id: i for i in items}
                credit_by_id = {i.doc_id: i for i in credits}
                # each invoice once, however often it is named (named twice, it was cleared
                # twice at its full open amount: 200.00 paid on an invoice of 113.00)
                named = list(dict.fromkeys(invoices))
                items = [by_id[d] for d in named if d in by_id]
                credits = [credit_by_id[d] for d in named if d in credit_by_id]
            items.sort(key=lambda i: (i.date, i.doc_id))
            credits.sort(key=lambda i: (i.date, i.doc_id))
            total_open = sum((i.open for i in items), ZERO)
            total_credit = -sum((i.open for i in credits), ZERO)
            # the credit notes offset as much of the invoices as they can
            offset = min(total_open, total_credit)
            # credit notes named that the invoices named do not take whole: ``amount`` is the
            # money the supplier refunds (the customer is refunded), clearing the rest of them
            refund = bool(invoices) and total_credit > total_open
            if not amount and not offset:
                if credits:
                    raise JxcError("invalid_quantity", field="amount", value=amount,
                                   reason="the credit notes named have no open invoice to "
                                          "offset them against: name the invoices too, or "
                                          "give the amount refunded",
                                   reason_zh="所指明的红字发票没有可冲抵的未核销发票：请同时指明"
                                             "发票，或给出退款金额")
                raise JxcError("invalid_quantity", field="amount", value=amount)
            net_open = total_credit - total_open if refund else total_open - offset
            if amount > net_open:
                raise JxcError("over_settlement", party=party, amount=amount, open=net_open)
            number = doc_id or f"{'SK' if kind == 'receivable' else 'FK'}-{date:%Y%m%d}-" \
                f"{w.uow.sequences.next('settlement'):04d}"
            # one number, one settlement: a cancellation reverses what its number booked
            if w.uow.journal.all(number) or w.uow.documents.get(number) is not None:
                raise JxcError("duplicate_key", table="journal", key=number)
            if cur == self.jxc.book_currency:
                rate = Decimal(1)
            elif self.jxc.rates is None:
                raise JxcError("configuration",
                               reason=f"a settlement in {cur} needs exchange rates (Jxc(rates=))",
                               reason_zh=f"以 {cur} 核销需要汇率（Jxc(rates=)）")
            else:
                rate = check_number(self.jxc.rates.rate(cur, self.jxc.book_currency, date),
                                    "rate")
            digits = self.jxc.currency_digits
            doc_type = "receipt" if kind == "receivable" else "payment"
            out: list[JournalRow] = []
            booked_total = ZERO
            left = offset + amount if refund else offset
            for item in credits:  # the credit notes first: the other side of their rows
                if not left:
                    break
                take = min(left, -item.open)
                left -= take
                dr, cr = (take, ZERO) if kind == "receivable" else (ZERO, take)
                converted = round_money(multiply(take, item.rate), digits)
                booked = -book_left[item.doc_id] if take == -item.open else converted
                out.append(JournalRow(doc_type, number, len(out) + 1, kind, dr, cr, "", "",
                                      party, date.isoformat(), cur, "", str(item.rate),
                                      item.doc_id,
                                      str(booked) if booked != converted else ""))
                booked_total -= booked
            left = offset if refund else amount + offset
            for item in items:
                if not left:
                    break
                take = min(left, item.open)
                left -= take
                dr, cr = (ZERO, take) if kind == "receivable" else (take, ZERO)
                # the item's part at the rate it was booked at; the part that clears the item
                # clears what it holds in the book currency, so that its account ends at 0.00
                # in both currencies (37.66 USD at 7.1234 booked 268.27; 10.00 + 10.00 +
                # 17.66 clear 71.23 + 71.23 + 125.81, not 125.80)
                converted = round_money(multiply(take, item.rate), digits)
                booked = book_left[item.doc_id] if take == item.open else converted
                out.append(JournalRow(doc_type, number, len(out) + 1, kind, dr, cr, "", "",
                                      party, date.isoformat(), cur, "", str(item.rate),
                                      item.doc_id,
                                      str(booked) if booked != converted else ""))
                booked_total += booked
            # exchange difference: what the invoices were booked at vs what the bank got, the
            # bank converted once as its voucher line is (not part by part: two parts of
            # 10.02 USD at 7.75 are 77.66 each, the bank 20.04 x 7.75 = 155.31)
            # a refund moves the money the other way (the bank receives on payables)
            paid = round_money(multiply(amount, rate), digits) * (-1 if refund else 1)
            fx = (booked_total - paid) if kind == "receivable" else (paid - booked_total)
            bank_dr, bank_cr = (amount, ZERO) if (kind == "receivable") != refund else (
                ZERO, amount)
            if amount:  # (credit notes alone: no money moves)
                out.append(JournalRow(doc_type, number, len(out) + 1, "bank", bank_dr,
                                      bank_cr, "", "", party, date.isoformat(), cur, "",
                                      str(rate)))
            if fx:
                out.append(JournalRow(doc_type, number, len(out) + 1, "fx_difference",
                                      fx if fx > 0 else ZERO, -fx if fx < 0 else ZERO, "", "",
                                      party, date.isoformat(), self.jxc.book_currency, "", "1"))
            w.uow.journal.append([r.to_data() for r in out])
            _count_settled(w, out)
            w.event("settled", {"doc_id": number, "party": party, "amount": str(amount),
                                "currency": cur})
            return out

        result: list[JournalRow] = self.jxc._run(
            "settle", payload, idempotency_key, body,
            _rows_data, _rows_of)
        return result

    def cancel_settlement(self, number: str, *, date: dt.date | None = None,
                          idempotency_key: str | None = None) -> list[JournalRow]:
        """Reverse a settlement (反核销): its rows again with debit and credit swapped, under
        ``{number}-R`` dated ``date`` (default: the settlement's own date; not in a closed
        period): the invoices it cleared are open again by what it cleared, in both
        currencies, and the bank and exchange difference are taken back. An unknown number is
        ``not_found``; one already reversed, or itself a reversal, ``invalid_transition``."""
        check_text(number, "number")
        if date is not None:
            check_day(date, "date")
        payload = (number, date)

        def body(w: _Work) -> list[JournalRow]:
            rows = [JournalRow.from_data(r) for r in w.uow.journal.all(number)]
            if not rows or rows[0].doc_type not in ("receipt", "payment"):
                raise NotFoundError(kind="settlement", key=number)
            if number.endswith("-R") or w.uow.journal.all(f"{number}-R"):
                raise JxcError("invalid_transition", state="reversed",
                               action="cancel_settlement")
            day = date or dt.date.fromisoformat(rows[0].date)
            self._check_open(w, day)
            out = [attrs.evolve(r, doc_id=f"{number}-R", debit=r.credit, credit=r.debit,
                                date=day.isoformat()) for r in rows]
            w.uow.journal.append([r.to_data() for r in out])
            _count_settled(w, out)
            w.event("settlement_cancelled", {"doc_id": number})
            return out

        result: list[JournalRow] = self.jxc._run(
            "cancel_settlement", payload, idempotency_key, body,
            _rows_data, _rows_of)
        return result

    def aging(self, kind: str = "receivable", *, as_of: dt.date) -> list[AgingRow]:
        """Open items per party by age in days: 0-30, 31-60, 61-90, over 90. ``kind`` is a
        str (else ``TypeError``), ``as_of`` a ``datetime.date`` (else ``invalid_date``)."""
        check_text(kind, "kind")
        check_day(as_of, "as_of")
        buckets: dict[str, list[Decimal]] = {}
        for item in self.open_items(kind):
            days = (as_of - item.date).days
            row = buckets.setdefault(item.party, [ZERO, ZERO, ZERO, ZERO])
            index = 0 if days <= 30 else 1 if days <= 60 else 2 if days <= 90 else 3
            # in the book currency, at the rate each invoice was booked at
            row[index] += round_money(multiply(item.open, item.rate), self.jxc.currency_digits)
        return [AgingRow(p, *b) for p, b in sorted(buckets.items())]

    # -- month-end close (月结) -----------------------------------------------------------------
    @staticmethod
    def _check_open(w: _Work, day: dt.date | dt.datetime) -> None:
        w.check_open(day)

    def close_period(self, year: int, month: int, *, user: str = "",
                     strict: bool = False, idempotency_key: str | None = None) -> PeriodClose:
        """Close a month: voucher everything, snapshot the balances, lock the period.
        ``year`` and ``month`` are ints (else ``TypeError``), month 1 to 12 (else
        ``invalid_period``); ``user`` is a str, ``strict`` a bool (else ``TypeError``).
        With ``idempotency_key``, a retry (the same key, month, user and ``strict``) returns
        the first close's :class:`PeriodClose` instead of ``period_closed``."""
        check_month(year, month)
        check_text(user, "user")
        check_bool(strict, "strict")
        period = f"{year:04d}-{month:02d}"

        def body(w: _Work) -> PeriodClose:
            start, end = w.month_bounds(year, month)  # the month of the clock's timezone
            lock = locked_until(w)
            if lock is not None and end <= lock:
                raise PeriodClosedError(date=period)
            if start > w.now:  # a month to come: its lock would refuse today's postings
                raise JxcError("period_not_started", period=period, now=w.now.isoformat())
            last_day = w.day_of(end)
            drafts = []
            for state in (State.DRAFT, State.SUBMITTED, State.APPROVED):
                for doc_id in w.uow.documents.ids(state=state.value):
                    date = (w.uow.documents.get(doc_id) or {}).get("date")
                    if date and dt.date.fromisoformat(date) <= last_day:
                        drafts.append(doc_id)
            warnings = []
            if drafts:
                if strict:
                    raise JxcError("drafts_in_period", period=period, count=len(drafts),
                                   docs=", ".join(drafts[:10]))
                warnings.append(f"{len(drafts)} unposted document(s) dated in {period}: "
                                + ", ".join(drafts[:10]))
            valued = self._value_monthly(w, end, period)
            vouchers = self._generate(w)
            rows = self._snapshot(w, end)
            for (item, wh), (q, v) in rows.items():
                w.uow.records.put("snapshot", f"{end.isoformat()}|{item}|{wh}",
                                  {"quantity": str(q), "value": str(v)})
            closed = (w.uow.records.get("period", "closed") or {}).get("ends", [])
            w.uow.records.put("period", "closed", {"ends": sorted({*closed, end.isoformat()})})
            w.uow.records.put("period", "lock", {"until": end.isoformat(), "period": period})
            seq = w.uow.sequences.next("period_log")
            w.uow.records.put("period_log", f"{seq:06d}", {
                "action": "close", "period": period, "user": user,
                "at": w.now.isoformat(), "warnings": warnings})
            w.event("period_closed", {"period": period, "user": user})
            return PeriodClose(period, len(vouchers), len(rows), tuple(warnings), valued)

        result: PeriodClose = self.jxc._run(
            "close_period", (period, user, strict), idempotency_key, body, _close_data,
            _close_of, keep_warm=False)
        return result

    def _value_monthly(self, w: _Work, end: dt.datetime, period: str) -> int:
        """Value the month's issues of monthly-weighted-average scopes (全月一次加权平均):
        a ``period_cost`` ledger entry per issue and per return of an issue of the month, one
        journal posting per month for all of them, and the costs in the documents' counters (a
        delivery's ``cost``, a sales return's ``value`` and its delivery's ``returned_value``)
        so that later returns and cancellations start from them.

        Each scope closes its open months up to ``period``, the earliest first, each with its
        own movements (dated at that month's last moment, in that month's ``YJ-YYYY-MM``); the
        movements of later months stay open for their own close.

        The journal rows of an issue or a return of a customer's document (a delivery, a sales
        return, or the cancellation ``-R`` of one) name that document's party, so that gross
        profit by customer counts them; the others name none. The party comes from the
        documents the counters read anyway (each read once); a cancellation is no stored
        document and names the party of the one it reverses, read here only when the counters
        did not read it."""
        scopes = sorted({w.scope(w.item(b.item), b.warehouse) for b in w.uow.balances.all()
                         if w.item(b.item).costing_method == "monthly_average"})
        entries: list[LedgerEntry] = []
        #: the month-end postings by month: their journal rows, each with the group (doc
        #: type, doc id) of the movement it values, whose customer it names
        rows: dict[str, list[tuple[JournalRow, str, str]]] = {}
        counted: dict[tuple[str, str], dict[int, dict[str, Decimal]]] = {}
        #: what each scope's close of each month did, kept for its reopening (反结账)
        kept: dict[tuple[str, str, str], dict[str, Any]] = {}
        #: by month: the later returns of its deliveries, and the rows that revalue them
        late: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        late_rows: list[JournalRow] = []
        mine: dict[str, Any] = {}  # the kept record of the scope and month being closed
        #: the party of each customer's document read ("" when not such a document), by id
        parties: dict[str, str] = {}

        roles: dict[str, str] = {}

        def own_role(g_doc: str) -> str:
            """The role an adjustment (其他出入库) named for its counterpart
            (``account_role``), which its month-end cost takes too; a cancellation names its
            document's."""
            if g_doc not in roles:
                found = w.uow.documents.get(g_doc[:-2] if g_doc.endswith("-R") else g_doc)
                attributes = (found or {}).get("attributes") or {}
                roles[g_doc] = str(attributes.get("account_role", "adjustment"))
            return roles[g_doc]

        def customer(g_type: str, g_doc: str) -> str:
            """The party of the customer's document behind an issue or a return, else ""."""
            if g_type not in _CUSTOMER_COST:
                return ""
            if g_doc not in parties and g_doc.endswith("-R"):  # a cancellation (红冲)
                g_doc = g_doc[:-2]  # names its document's party
            if g_doc not in parties:
                found = w.uow.documents.get(g_doc)  # none for a direct engine posting
                parties[g_doc] = (str(found.get("party") or "") if found is not None
                                  and found.get("doc_type") == g_type else "")
            return parties[g_doc]

        def count(ref: str, name: str, amount: Decimal) -> None:
            g_type, g_doc, g_line = _split_group(ref)
            if g_type in _COST_COUNTERS and amount:
                line = counted.setdefault((g_type, g_doc), {}).setdefault(g_line, {})
                line[name] = line.get(name, ZERO) + amount
                mine["counted"].append([g_type, g_doc, g_line, name, str(amount)])

        for scope in scopes:
            state = w.uow.valuations.get(scope)
            if state is None:
                continue
            inner = MonthlyAverageValuation.from_state(state)
            # the item's policy and default cost of now, not those stored with the scope's
            # last posting (a default cost set since values the month's issues)
            inner.set_policy(*w.policy(w.item(scope[0]), scope))
            due = [k for k in inner.periods if k <= period]  # the unnamed one sorts first
            months = [k for k in due if k] or ([period] if due else [])
            for month in months:  # the unnamed period goes with the first
                mine = kept[(month, *scope)] = {
                    "scope": list(scope), "closing": inner.closing_data(month), "entries": [],
                    "counted": [], "journal": []}
                result = inner.close_period(month)
                at = w.month_bounds(int(month[:4]), int(month[5:7]))[1]
                day = w.day_of(at).isoformat()  # the month's last day, as its vouchers
                doc_id = f"YJ-{month}"
                posting = rows.setdefault(month, [])
                # (ref, value leaving stock, is a return): a return brings its value back
                costs = [(ic.ref or "", ic.cost, False) for ic in result.issues]
                costs += [(rc.ref or "", -rc.cost, True) for rc in result.returns]
                if result.settled:
                    costs.append(("", result.settled, False))
                for ref, cost, back in costs:
                    g_type, g_doc, g_line = (_split_group(ref) if ref
                                             else ("period_close", doc_id, 0))
                    entries.append(LedgerEntry(0, scope[0], scope[1], "", "", ZERO, -cost, at,
                                               "period_cost", g_type, g_doc, g_line))
                    mine["entries"].append([g_type, g_doc, g_line, str(-cost)])
                    role = (own_role(g_doc) if g_type == "adjustment"
                            else _COUNTER_ROLE.get(g_type, "cogs"))
                    n = len(posting) // 2 + 1
                    pair = ((("inventory", -cost, ZERO), (role, ZERO, -cost)) if back  # Dr 1405
                            else ((role, cost, ZERO), ("inventory", ZERO, cost)))
                    for r, dr, cr in pair:
                        if cost:
                            posting.append((JournalRow("period_close", doc_id, n, r, dr, cr,
                                                       scope[0], scope[1], "", day,
                                                       self.jxc.book_currency), g_type, g_doc))
                for ic in result.issues:
                    count(ic.ref or "", "cost", ic.cost)
                for rc in result.returns:
                    count(rc.ref or "", "value", rc.cost)
                    if _split_group(rc.ref)[0] == "sales_return":
                        count(rc.issue_ref, "returned_value", rc.cost)
                if month not in late:  # returns of the month's deliveries posted after it
                    late[month] = w.uow.records.list(LATE_RETURN, f"{month}|")
                if late[month]:
                    self._follow_late_returns(w, scope, inner, result, late[month], entries,
                                              late_rows, counted)
            if not months:
                continue
            self._store_monthly(w, scope, inner, state)
        self._append_numbered(w, entries)
        _announce_period_costs(w, entries, "period_close")
        parties.update(self._add_counters(w, counted))
        for month in sorted(rows):  # one posting per month, its rows together
            if rows[month]:
                data = [{**r.to_data(), "party": customer(g_type, g_doc)}
                        for r, g_type, g_doc in rows[month]]
                w.uow.journal.append(data)
                for d in data:
                    kept[(month, d["item"], d["warehouse"])]["journal"].append(d)
        if late_rows:  # one posting, apart from the month-end ones a reopening reverses
            w.uow.journal.append([r.to_data() for r in late_rows])
        for (month, item, wh), record in kept.items():
            w.uow.records.put(_MONTHLY_CLOSE, f"{month}|{item}|{wh}", record)
        return len(entries)

    def _follow_late_returns(
        self, w: _Work, scope: tuple[str, str], inner: MonthlyAverageValuation,
        result: PeriodCloseResult, notes: list[tuple[str, dict[str, Any]]],
        entries: list[LedgerEntry], rows: list[JournalRow],
        counted: dict[tuple[str, str], dict[int, dict[str, Decimal]]],
    ) -> None:
        """A month valued anew after a reopening: the returns of its deliveries posted in a
        later month came back at the cost the first close gave them. Each takes its share of
        the delivery's new cost, as it would have at its posting (the delivery's cost less
        what the month's own returns and the earlier later returns took, over the units left;
        the last unit back takes the rest); the difference joins its month's receipts (it is
        still open: reopening opens every later month), with a ``period_cost`` entry at the
        return, Dr 1405 / Cr 6401 naming its customer, and the counters."""
        cost: dict[str, list[Decimal]] = {}
        for ic in result.issues:
            got = cost.setdefault(ic.ref or "", [ZERO, ZERO])
            got[0] += ic.quantity
            got[1] += ic.cost
        for rc in result.returns:
            back = cost.get(rc.issue_ref)
            if back is not None:
                back[0] -= rc.quantity
                back[1] -= rc.cost
        digits = self.jxc.currency_digits
        for key, note in notes:
            if note.get("cancelled") or note.get("scope") != list(scope):
                continue
            left = cost.get(note["issue"])
            if left is None:
                continue
            q, old = Decimal(note["quantity"]), Decimal(note["value"])
            value = left[1] if q == left[0] else round_money(
                DIVISION_CONTEXT.divide(q * left[1], left[0]), digits)
            left[0] -= q
            left[1] -= value
            w.uow.records.put(LATE_RETURN, key, {**note, "value": str(value)})
            delta = value - old
            if not delta:
                continue
            at = dt.datetime.fromisoformat(note["at"])
            inner.add_receipt_cost(delta, note["ref"], period=w.month_of(at))
            g_type, g_doc, g_line = _split_group(note["ref"])
            entries.append(LedgerEntry(0, scope[0], scope[1], "", "", ZERO, delta, at,
                                       "period_cost", g_type, g_doc, g_line))
            n = len(rows) // 2 + 1
            for role, dr, cr in (("inventory", delta, ZERO), ("cogs", ZERO, delta)):
                rows.append(JournalRow("period_close", f"YJ-{key.split('|')[0]}-TH", n, role,
                                       dr, cr, scope[0], scope[1], note.get("party", ""),
                                       w.day_of(at).isoformat(), self.jxc.book_currency))
            for ref, name in ((note["ref"], "value"), (note["issue"], "returned_value")):
                r_type, r_doc, r_line = _split_group(ref)
                line = counted.setdefault((r_type, r_doc), {}).setdefault(r_line, {})
                line[name] = line.get(name, ZERO) + delta

    @staticmethod
    def _store_monthly(w: _Work, scope: tuple[str, str], inner: MonthlyAverageValuation,
                       state: dict[str, Any]) -> None:
        """Store a monthly-average scope whole after a close or a reopening, keeping what
        the engine keeps beside the kernel's state (``posted_until``, ``moves``)."""
        new_state = inner.to_state()
        for key in ("posted_until", "moves"):
            if key in state:
                new_state[key] = state[key]
        w.uow.valuations.put(scope, new_state)

    @staticmethod
    def _append_numbered(w: _Work, entries: list[LedgerEntry]) -> None:
        """Append ledger entries made with no number, numbered in order."""
        if entries:
            first = w.uow.sequences.next("ledger", len(entries))
            w.uow.ledger.append([attrs.evolve(e, entry_no=first + k)
                                 for k, e in enumerate(entries)])

    @staticmethod
    def _add_counters(w: _Work, counted: dict[tuple[str, str], dict[int, dict[str, Decimal]]]
                      ) -> dict[str, str]:
        """Add month-end costs to the counters of the documents they value (a direct engine
        posting has no document: nothing to add). Returns the party of each document read."""
        parties: dict[str, str] = {}
        for (g_type, g_doc), lines in sorted(counted.items()):
            found = w.uow.documents.get(g_doc)
            if found is None or found.get("doc_type") != g_type:
                continue
            doc = document_from_data(found)
            parties[g_doc] = doc.party
            for line_no, add in lines.items():
                row = doc.counters.setdefault(line_no, {})
                for name, amount in add.items():
                    row[name] = row.get(name, ZERO) + amount
            Documents._save(w, doc)
        return parties

    def _reopen_monthly(self, w: _Work, months: list[str], at: str) -> int:
        """Put back what the closes of ``months`` did to monthly-average scopes (反结账): each
        scope's closed months are open again with their movements and their opening
        (:meth:`MonthlyAverageValuation.reopen`), so the next close values them anew with
        what is posted into them meanwhile; their month-end costs are reversed (红冲): a
        ``period_cost`` entry taking back each one, at the month's end, the journal rows
        reversed in ``YJ-YYYY-MM-Rn``, and the documents' counters less those costs. Months
        closed by a version that kept no record of its close stay as they closed (their
        later postings are valued on top of their figures). Returns the costs reversed."""
        found: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for month in months:
            for key, record in w.uow.records.list(_MONTHLY_CLOSE, f"{month}|"):
                if "closing" in record and key.startswith(f"{month}|"):
                    item, wh = record["scope"]
                    found.setdefault((item, wh), []).append((month, record))
        entries: list[LedgerEntry] = []
        journal: dict[str, list[dict[str, Any]]] = {}
        counted: dict[tuple[str, str], dict[int, dict[str, Decimal]]] = {}
        for scope, records in sorted(found.items()):
            records.sort(key=lambda mr: mr[0])
            state = w.uow.valuations.get(scope)
            if state is None:
                continue
            inner = MonthlyAverageValuation.from_state(state)
            inner.reopen([r["closing"] for _, r in records])
            self._store_monthly(w, scope, inner, state)
            for month, record in records:
                end = w.month_bounds(int(month[:4]), int(month[5:7]))[1]
                for g_type, g_doc, g_line, value in record["entries"]:
                    entries.append(LedgerEntry(0, scope[0], scope[1], "", "", ZERO,
                                               -Decimal(value), end, "period_cost", g_type,
                                               g_doc, int(g_line)))
                journal.setdefault(month, []).extend(
                    {**d, "debit": d["credit"], "credit": d["debit"]} for d in record["journal"])
                for g_type, g_doc, g_line, name, amount in record["counted"]:
                    line = counted.setdefault((g_type, g_doc), {}).setdefault(int(g_line), {})
                    line[name] = line.get(name, ZERO) - Decimal(amount)
                w.uow.records.put(_MONTHLY_CLOSE, f"{month}|{scope[0]}|{scope[1]}",
                                  {"scope": list(scope), "reopened": at})
        self._append_numbered(w, entries)
        _announce_period_costs(w, entries, "period_reopen")
        for month in sorted(journal):
            n = w.uow.sequences.next(f"reopen:{month}")
            w.uow.journal.append([{**d, "doc_id": f"YJ-{month}-R{n}"} for d in journal[month]])
        self._add_counters(w, counted)
        return len(entries)

    def reopen_period(self, year: int, month: int, *, user: str, reason: str,
                      idempotency_key: str | None = None) -> None:
        """Reopen a closed month (and every later one): explicit and recorded. ``user`` and
        ``reason`` are str (else ``TypeError``). With ``idempotency_key``, a retry (the same
        key, month, user and reason) does nothing more instead of ``invalid_transition``."""
        check_month(year, month)
        check_text(user, "user")
        check_text(reason, "reason")
        period = f"{year:04d}-{month:02d}"

        def body(w: _Work) -> None:
            start, end = w.month_bounds(year, month)
            lock = locked_until(w)
            if lock is None or end > lock:
                raise JxcError("invalid_transition", state="open", action="reopen")
            before = start - dt.timedelta(microseconds=1)
            closed = (w.uow.records.get("period", "closed") or {}).get("ends", [])
            keep = [e for e in closed if dt.datetime.fromisoformat(e) <= before]
            w.uow.records.put("period", "closed", {"ends": keep})
            # the months before stay locked, also those a later close valued and locked
            # without their own close (closing December closes an open November first)
            w.uow.records.put("period", "lock", {"until": before.isoformat(), "period": ""})
            months = []  # every month from this one to the last one valued
            y, m = year, month
            while w.month_bounds(y, m)[1] <= lock:
                months.append(f"{y:04d}-{m:02d}")
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            self._reopen_monthly(w, months, w.now.isoformat())
            seq = w.uow.sequences.next("period_log")
            w.uow.records.put("period_log", f"{seq:06d}", {
                "action": "reopen", "period": period, "user": user, "reason": reason,
                "at": w.now.isoformat()})
            w.event("period_reopened", {"period": period, "user": user, "reason": reason})

        self.jxc._run("reopen_period", (period, user, reason), idempotency_key, body,
                      lambda _: {}, lambda _: None, keep_warm=False)

    def period_log(self) -> list[dict[str, Any]]:
        with self.jxc.storage.unit_of_work() as uow:
            return [d for _, d in uow.records.list("period_log")]

    def _snapshot(self, w: _Work, end: dt.datetime) -> dict[tuple[str, str], tuple[Decimal,
                                                                                  Decimal]]:
        """Quantity and value of every (item, warehouse) at ``end``: the previous snapshot
        plus the ledger entries after it (never the whole history twice). Costed by
        organisation, each item also has the warehouse ``"*"``: the value-only entries of its
        one scope (settlements, back-dating corrections, month-end costs) stand there."""
        closed = (w.uow.records.get("period", "closed") or {}).get("ends", [])
        previous = max((e for e in closed if e <= end.isoformat()), default=None)
        out: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        keys = {(b.item, b.warehouse) for b in w.uow.balances.all()}
        if self.jxc.organisation_scope:
            keys |= {(item, "*") for item, _ in keys}
        for item, wh in sorted(keys):
            q = v = ZERO
            since = None
            if previous is not None:
                snap = w.uow.records.get("snapshot", f"{previous}|{item}|{wh}")
                if snap is not None:
                    q, v = Decimal(snap["quantity"]), Decimal(snap["value"])
                since = dt.datetime.fromisoformat(previous)
            for e in w.uow.ledger.after(item, wh, since, 1 << 62):
                if e.posted_at > end:
                    break
                q += e.quantity
                v += e.value
            out[(item, wh)] = (q, v)
        return out

    # -- reports ----------------------------------------------------------------------------------
    def inventory_summary(self, year: int, month: int) -> list[SummaryRow]:
        """进销存汇总表: per item and warehouse, opening, receipts and issues by kind, closing.
        Location moves (``move_out``/``move_in``, inside one warehouse) are neither."""
        check_month(year, month)
        with self.jxc.storage.unit_of_work() as uow:
            w = _Work(self.jxc, uow)
            start, end = w.month_bounds(year, month)  # the month of the clock's timezone
            opening = self._snapshot(w, start - dt.timedelta(microseconds=1))
            org = self.jxc.organisation_scope
            #: costed by organisation, each warehouse's value at the start and the end: its
            #: share of the item's (按存货核算); "*" holds no stock
            shares: dict[str, tuple[dict[str, Decimal], dict[str, Decimal]]] = {}
            quantum = money_quantum(self.jxc.currency_digits)
            cancelled: dict[str, bool] = {}
            out: list[SummaryRow] = []
            for item, wh in sorted(opening):
                oq, ov = opening[(item, wh)]
                ins: dict[str, list[Decimal]] = {}
                outs: dict[str, list[Decimal]] = {}
                adjust = ZERO
                #: the bucket of each movement of the month, by (doc type, doc, line): the
                #: month-end cost of a monthly-average issue (``period_cost``) completes it
                moved: dict[tuple[str, str, int], tuple[list[Decimal], bool]] = {}
                costs: list[LedgerEntry] = []
                for e in uow.ledger.after(item, wh, start - dt.timedelta(microseconds=1),
                                          1 << 62):
                    if e.posted_at > end:
                        break
                    if e.kind in _MOVE_KINDS:  # between locations: neither in nor out
                        continue
                    if not e.quantity:
                        if e.kind == "period_cost":
                            costs.append(e)
                        else:
                            adjust += e.value
                        continue
                    bucket = ins if e.quantity > 0 else outs
                    kind = e.kind
                    if kind in ("transfer_out", "transfer_in") and _cancelled_transfer(
                            uow, e.doc_id, cancelled):
                        kind = "transfer_reversal"  # as the other documents' cancellations
                    pair = bucket.setdefault(kind, [ZERO, ZERO])
                    pair[0] += abs(e.quantity)
                    pair[1] += abs(e.value) if e.quantity > 0 else -e.value
                    moved[(e.doc_type, e.doc_id, e.line_no)] = (pair, e.quantity > 0)
                for e in costs:  # at the month's end, after every movement it values
                    found = moved.get((e.doc_type, e.doc_id, e.line_no))
                    if found is None:  # no movement of this month here (a settled pool)
                        adjust += e.value
                    elif found[1]:  # a return of the month's issue: its value comes back
                        found[0][1] += e.value
                    else:  # an issue: its cost leaves
                        found[0][1] -= e.value
                in_q = sum((p[0] for p in ins.values()), ZERO)
                in_v = sum((p[1] for p in ins.values()), ZERO)
                out_q = sum((p[0] for p in outs.values()), ZERO)
                out_v = sum((p[1] for p in outs.values()), ZERO)
                cv = ov + in_v - out_v + adjust
                allocation = ZERO
                if org:
                    if item not in shares:
                        it = w.item(item)
                        shares[item] = (
                            self.jxc._values_at(uow, it, start - dt.timedelta(microseconds=1))[1],
                            self.jxc._values_at(uow, it, end)[1])
                    ov = shares[item][0].get(wh, ZERO).quantize(quantum)
                    cv = shares[item][1].get(wh, ZERO).quantize(quantum)
                    allocation = cv - (ov + in_v - out_v + adjust)
                if not (oq or ov or in_q or out_q or adjust or allocation):
                    continue
                out.append(SummaryRow(
                    item, wh, oq, ov, in_q, in_v, out_q, out_v, oq + in_q - out_q, cv,
                    {k: (p[0], p[1]) for k, p in ins.items()},
                    {k: (p[0], p[1]) for k, p in outs.items()}, adjust, allocation))
            return out

    def gross_profit(self, by: str = "item", period: str | None = None) -> list[GrossProfitRow]:
        """Revenue minus cost of goods sold, by item or by customer (from the journal).

        The cost is what the account mapping books to cost of sales: every ``cogs`` row, and
        the rows of any other role that the mapping sends to the account ``cogs`` takes for the
        same document type, item category and warehouse — with the Chinese preset the
        ``price_difference`` of purchase returns (and their month-end cost under the monthly
        average), which go to 6401 主营业务成本 as ``cogs`` does; with the English preset they
        go to 5100 Purchase price variance, not to 5000, and are not counted. So the costs by
        item add up to the cost-of-sales account of the trial balance.

        By customer the cost is that of the customer's own deliveries and sales returns; for
        monthly-average items it is their month-end cost, there once their month is closed (the
        close names the customer on those ``period_close`` rows; before it: no cost). ``by``
        is a str (else ``TypeError``)."""
        check_period(period)
        check_text(by, "by")
        if by not in ("item", "customer"):
            raise JxcError("configuration", reason=f"gross profit by item or customer: {by}",
                           reason_zh=f"毛利按 item（商品）或 customer（客户）统计：{by}")
        with self.jxc.storage.unit_of_work() as uow:
            rows = [JournalRow.from_data(r) for r in uow.journal.all()]
            is_cost = self._cost_of_sales(_Work(self.jxc, uow))
            sums: dict[str, list[Decimal]] = {}
            digits = self.jxc.currency_digits
            book = self.jxc.book_currency
            for r in rows:
                if period is not None and not r.date.startswith(period):
                    continue
                if r.role == "revenue":
                    amount = round_money((r.credit - r.debit) * Decimal(r.rate), digits)
                    key = r.item if by == "item" else r.party
                    sums.setdefault(key, [ZERO, ZERO])[0] += amount
                elif is_cost(r) and (by == "item" or r.doc_type in _CUSTOMER_COST
                                     or (r.doc_type == "period_close" and r.party)):
                    # by item: every cost of goods sold (deliveries, returns, month end,
                    # invoice price differences, landed costs of units sold, what the mapping
                    # books with them); by customer: what the customer's own deliveries and
                    # returns cost, also their month-end cost under the monthly average (the
                    # close names the customer on those rows only)
                    key = r.item if by == "item" else r.party
                    sums.setdefault(key, [ZERO, ZERO])[1] += _book_of(r, book, digits)
        return [GrossProfitRow(k, rv, c) for k, (rv, c) in sorted(sums.items())]

    def _cost_of_sales(self, w: _Work) -> Callable[[JournalRow], bool]:
        """Whether a journal row is cost of sales: a ``cogs`` row, or a row of another role
        (not ``revenue``) that the mapping books to the account ``cogs`` would take in its
        place (the same document type, item category and warehouse)."""
        mapping = self.mapping
        seen: dict[tuple[str, str, str, str], bool] = {}
        categories: dict[str, str] = {}

        def category(code: str) -> str:
            if code not in categories:
                try:
                    categories[code] = w.item(code).category if code else ""
                except NotFoundError:
                    categories[code] = ""
            return categories[code]

        def is_cost(r: JournalRow) -> bool:
            if r.role == "cogs":
                return True
            if r.role == "revenue":
                return False
            key = (r.role, r.doc_type, r.item, r.warehouse)
            found = seen.get(key)
            if found is None:
                cat = category(r.item)
                found = seen[key] = (
                    mapping.account_for(r.role, r.doc_type, cat, r.warehouse)
                    == mapping.account_for("cogs", r.doc_type, cat, r.warehouse))
            return found

        return is_cost

    def revalue_standard(
        self,
        item: str,
        standard_cost: Decimal,
        *,
        date: dt.date | None = None,
        doc_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Posting:
        """Adopt a new standard cost and book the revaluation (标准成本调整): the stock effect
        of :meth:`Jxc.set_standard_cost` and, per warehouse, Dr ``inventory`` / Cr
        ``material_variance`` (材料成本差异) for a rise, the reverse for a fall — in one unit
        of work. ``date``: the revaluation's day (default: now; a past day is the start of that
        day in the clock's timezone, and must not be before later movements of the item)."""
        if date is not None:  # a datetime.date (a datetime, a str: invalid_date)
            check_day(date, "date")
        number = _doc_id("BZ", doc_id, idempotency_key)
        payload = (number, item, standard_cost, date)

        def body(w: _Work) -> Posting:
            # a moment as stored (in UTC when aware), its day that of the clock's timezone
            when = (self.jxc._own_now(w, _moment(w.now, "clock.now()")) if date is None
                    else w.day_start(date))
            posting = self.jxc._revalue_standard(w, item, standard_cost, number, when)
            rows: list[JournalRow] = []
            day, book = w.day_of(when).isoformat(), self.jxc.book_currency
            for e in posting.entries:
                if not e.value:
                    continue
                up, amount = e.value > 0, abs(e.value)
                for role, debit in (("inventory", up), ("material_variance", not up)):
                    rows.append(JournalRow("standard_revaluation", number, e.line_no, role,
                                           amount if debit else ZERO,
                                           ZERO if debit else amount, item, e.warehouse, "",
                                           day, book))
            if rows:
                w.uow.journal.append([r.to_data() for r in rows])
            return posting

        result: Posting = self.jxc._run("revalue_standard", payload, idempotency_key, body,
                                        Posting.to_data, Posting.from_data)
        return result
