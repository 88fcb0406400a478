"""Vouchers (记账凭证): balanced, in the book currency, traced to their source lines.

:func:`build_voucher` turns the accounting events (journal rows) of one posting into a voucher
through an :class:`~jxc_core.accounting.mapping.AccountMapping`. Each row becomes a line with
its account, debit or credit in the book currency (``round_half_up(amount x rate)``, or the
row's ``book_amount`` when it has one: the GRNI slice that clears the last of a receipt line's
GRNI in a foreign currency, and the settlement part that clears the last of an open item, carry
the book amount left, so the account ends at exactly zero), the original currency, amount and
rate, and the source document and line. A line in another currency than the book's is
converted whatever its rate (at rate 1, 0.005 BHD is 0.01 CNY). When conversion rounding leaves
debits and credits a few cents apart (at most half a minor unit per converted line before
rounding), one ``fx_difference`` line closes the gap, so every voucher balances exactly;
anything else that does not balance is refused (``unbalanced_voucher``, with each side's sum
before rounding). A cancellation's rows carry negative amounts on their original side: a red
voucher (红字凭证).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from jxc_core.accounting.mapping import AccountMapping
from jxc_core.errors import JxcError
from jxc_core.values import ZERO, period_key, round_money

__all__ = ["Voucher", "VoucherLine", "build_voucher"]


@attrs.frozen(slots=True)
class VoucherLine:
    account: str
    account_name: str
    debit: Decimal
    credit: Decimal
    currency: str
    amount: Decimal
    rate: Decimal
    memo: str
    doc_id: str
    line_no: int
    role: str = ""
    party: str = ""
    item: str = ""
    warehouse: str = ""


@attrs.frozen(slots=True)
class Voucher:
    number: str
    date: dt.date
    period: str
    doc_type: str
    doc_id: str
    lines: tuple[VoucherLine, ...]

    @property
    def debit(self) -> Decimal:
        return sum((x.debit for x in self.lines), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((x.credit for x in self.lines), ZERO)

    @property
    def red(self) -> bool:
        """A red voucher (红字): the reversal of a cancelled document."""
        return self.debit < 0 or any(x.debit < 0 or x.credit < 0 for x in self.lines)

    def to_data(self) -> dict[str, Any]:
        return {
            "number": self.number, "date": self.date.isoformat(), "period": self.period,
            "doc_type": self.doc_type, "doc_id": self.doc_id,
            "lines": [{**attrs.asdict(x), "debit": str(x.debit), "credit": str(x.credit),
                       "amount": str(x.amount), "rate": str(x.rate)} for x in self.lines],
        }

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Voucher:
        lines = tuple(VoucherLine(**{**x, "debit": Decimal(x["debit"]),
                                     "credit": Decimal(x["credit"]),
                                     "amount": Decimal(x["amount"]),
                                     "rate": Decimal(x["rate"])}) for x in d["lines"])
        return cls(d["number"], dt.date.fromisoformat(d["date"]), d["period"], d["doc_type"],
                   d["doc_id"], lines)


def build_voucher(
    rows: Sequence[dict[str, Any]],
    mapping: AccountMapping,
    *,
    number: str,
    book_currency: str = "CNY",
    rate_for: Callable[[str, dt.date], Decimal] | None = None,
    category_of: Callable[[str], str] | None = None,
    digits: int = 2,
) -> Voucher:
    """One voucher from the journal rows of one posting (see the module docstring)."""
    if not rows:
        raise JxcError("unbalanced_voucher", doc_id="", debit="0", credit="0")
    first = rows[0]
    day = dt.date.fromisoformat(first["date"]) if first.get("date") else dt.date.today()
    lines: list[VoucherLine] = []
    exact_dr = exact_cr = ZERO  # each side in the book currency before rounding
    converted = 0
    for r in rows:
        currency = r.get("currency") or book_currency
        if currency == book_currency:
            rate = Decimal(1)
        elif r.get("rate") not in (None, "", "1") or rate_for is None:
            rate = Decimal(r.get("rate") or 1)
        else:
            rate = rate_for(currency, day)
        debit, credit = Decimal(r["debit"]), Decimal(r["credit"])
        book = r.get("book_amount")
        if book:  # the book-currency amount is given: used as it is, not converted again
            given = Decimal(book)
            book_dr, book_cr = (given, ZERO) if debit else (ZERO, given)
        else:
            book_dr, book_cr = debit * rate, credit * rate
        exact_dr += book_dr
        exact_cr += book_cr
        # a line in another currency is converted, whatever its rate: at rate 1 too, 0.005 BHD
        # is 0.01 CNY, rounded like any conversion
        converted += currency != book_currency
        amount = debit if debit else -credit
        category = category_of(r["item"]) if category_of is not None and r.get("item") else ""
        account = mapping.account_for(r["role"], r["doc_type"], category, r.get("warehouse", ""))
        lines.append(VoucherLine(
            account, mapping.name_of(account), round_money(book_dr, digits),
            round_money(book_cr, digits), currency, amount, rate,
            f"{r['role']} {r.get('item', '')}".strip(), r["doc_id"], int(r["line_no"]),
            r["role"], r.get("party", ""), r.get("item", ""), r.get("warehouse", "")))
    dr = sum((x.debit for x in lines), ZERO)
    cr = sum((x.credit for x in lines), ZERO)
    # only conversion rounding may separate the sides: at most half a cent per line
    if abs(exact_dr - exact_cr) > Decimal(5).scaleb(-(digits + 1)) * converted:
        # the sides as they are before rounding: rounded, they may well look equal
        raise JxcError("unbalanced_voucher", doc_id=first["doc_id"],
                       debit=_shown(exact_dr, digits), credit=_shown(exact_cr, digits))
    if dr != cr:  # conversion rounding only: close it on the exchange difference account
        gap = dr - cr
        account = mapping.account_for("fx_difference", first["doc_type"])
        zero = ZERO.quantize(Decimal(1).scaleb(-digits))
        lines.append(VoucherLine(account, mapping.name_of(account),
                                 zero if gap > 0 else -gap, gap if gap > 0 else zero,
                                 book_currency, ZERO, Decimal(1), "rounding of conversion",
                                 first["doc_id"], 0, "fx_difference"))
    return Voucher(number, day, period_key(day), first["doc_type"], first["doc_id"],
                   tuple(_net_out(lines)))


def _shown(amount: Decimal, digits: int) -> str:
    """``amount`` at the book currency's digits when that is exact (10 -> ``10.00``), else
    with all the digits it has (0.005 -> ``0.005``, 71.234000 -> ``71.234``)."""
    quantum = Decimal(1).scaleb(-digits)
    if amount == amount.quantize(quantum):
        return f"{amount.quantize(quantum):f}"
    return f"{amount.normalize():f}"


def _net_out(lines: list[VoucherLine]) -> list[VoucherLine]:
    """Drop a debit and a credit of the same amount on the same account, warehouse and source
    line (they say nothing). A transfer keeps its two lines when the warehouses differ, even on
    one inventory account: the warehouse is the voucher's auxiliary dimension (辅助核算), so the
    inventory account still equals the stock valuation per costing scope; the account's net
    movement is zero, as domain rules section 5 asks."""
    out = list(lines)
    for i, a in enumerate(out):
        if a.debit <= 0 or a.credit:
            continue
        for j, b in enumerate(out):
            if (j != i and b.credit == a.debit and not b.debit and b.account == a.account
                    and b.warehouse == a.warehouse
                    and (b.doc_id, b.line_no) == (a.doc_id, a.line_no)):
                out[i] = out[j] = attrs.evolve(a, debit=ZERO, credit=ZERO, amount=ZERO,
                                               memo="")
                break
    # a line of nothing in the book currency still says its amount in another one (the last
    # slice of a foreign GRNI whose book amount earlier slices already cleared)
    return [x for x in out if x.debit or x.credit or x.amount]
