"""Numbers of jxc_core: Decimal quantities and money, checked at the boundary.

Rules (domain rules section 1):

* Quantities, prices, costs and amounts are ``decimal.Decimal`` (or ``int``). A ``float``, a
  ``bool``, a ``str`` or anything else raises ``TypeError`` naming the field; NaN and Infinity
  raise ``ValueError``. Nothing is ever silently converted.
* Money is rounded to the currency's minor unit with ROUND_HALF_UP (四舍五入) by
  :func:`round_money`. Rounding is explicit; formatting only displays.
  :func:`currency_minor_unit` gives a currency's number of decimals (ISO 4217, as CLDR lists
  them through babel): CNY/USD/EUR 2, JPY/KRW 0, BHD/KWD 3.

Arithmetic precision: jxc_core adds, subtracts and multiplies with Decimal operators in the
calling thread's context (exact for money and quantities of realistic size under the default
precision of 28 digits) and divides in a private 60-digit context before it rounds, so that a
quotient is never rounded twice.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

from babel.numbers import get_currency_precision, is_currency

from jxc_core.errors import InvalidQuantityError, JxcError

__all__ = [
    "DIVISION_CONTEXT",
    "EXACT_CONTEXT",
    "MAX_AMOUNT",
    "MAX_LINE_NO",
    "MAX_MAGNITUDE",
    "ZERO",
    "check_amount",
    "check_number",
    "check_quantity",
    "check_text",
    "currency_minor_unit",
    "money_quantum",
    "multiply",
    "period_key",
    "round_money",
    "round_to",
]

ZERO = Decimal(0)

#: Every quantity and unit price (a price, a unit cost, a standard cost) given to jxc_core is
#: below this in magnitude (``JxcError("number_out_of_range")``): a thousand million million.
#: Their products (a quantity times a price) must still round to cents inside Decimal's 28
#: digits; a command whose figures do not is refused whole
#: (``JxcError("computation_out_of_range")``).
MAX_MAGNITUDE = Decimal(10) ** 15
#: Every amount (a line's value, a landed cost, a settlement) is below this in magnitude: room
#: for the values of large stocks in currencies without a minor unit (10^15 VND is about 40
#: million dollars), and for their sums to stay exact to the cent in 28 digits.
MAX_AMOUNT = Decimal(10) ** 21
#: The largest line number of a document or a stock posting: what every adapter stores in its
#: ledger's ``line_no`` column (PostgreSQL ``INTEGER``, 2**31 - 1).
MAX_LINE_NO = 2**31 - 1

#: Context for divisions before rounding: 60 significant digits, errors trapped.
DIVISION_CONTEXT = Context(
    prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)

#: Context for the products rounded to money (a quantity times a price, a unit cost or a rate):
#: exact, so that the one rounding is the half-up one to the currency's digits. In Python's
#: default 28 digits 4.515 x 0.3333333333333333333333333333 (1.50499...) was first rounded to
#: 1.505 and then to 1.51.
EXACT_CONTEXT = Context(prec=MAX_PREC, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN,
                        traps=[InvalidOperation, Overflow])
#: ``multiply(a, b)``: the exact product of two Decimals (:data:`EXACT_CONTEXT`)
multiply = EXACT_CONTEXT.multiply

_QUANTA: dict[int, Decimal] = {d: Decimal(1).scaleb(-d) for d in range(0, 13)}


def money_quantum(digits: int) -> Decimal:
    """``Decimal('0.01')`` for 2 digits, ``Decimal('1')`` for 0 digits."""
    q = _QUANTA.get(digits)
    if q is None:
        if type(digits) is not int or digits < 0:
            raise ValueError(f"currency_digits must be a non-negative int, got {digits!r}")
        q = Decimal(1).scaleb(-digits)
    return q


def currency_minor_unit(currency: str) -> int:
    """The number of decimals of ``currency``'s minor unit: ``"CNY"`` 2, ``"JPY"`` 0,
    ``"BHD"`` 3 (ISO 4217 as the CLDR data of babel gives it). A code babel does not know
    (``"usd"``, ``"RMB"``, ``""``) raises ``JxcError("unknown_currency")``."""
    if type(currency) is not str:
        raise JxcError("unknown_currency", currency=currency)
    return _minor_unit(currency)


@functools.lru_cache(maxsize=256)
def _minor_unit(currency: str) -> int:
    if not is_currency(currency):
        raise JxcError("unknown_currency", currency=currency)
    return get_currency_precision(currency)


def round_to(value: Decimal, quantum: Decimal) -> Decimal:
    """Round ``value`` half up to ``quantum`` (e.g. ``Decimal('0.01')``)."""
    return value.quantize(quantum, ROUND_HALF_UP)


def round_money(value: Decimal, digits: int = 2) -> Decimal:
    """Round ``value`` half up (四舍五入) to ``digits`` decimal places."""
    return value.quantize(money_quantum(digits), ROUND_HALF_UP)


def check_number(value: object, name: str, limit: Decimal = MAX_AMOUNT) -> Decimal:
    """Return ``value`` as a finite Decimal, or raise ``TypeError``/``ValueError`` naming it;
    ``JxcError("number_out_of_range")`` at ``limit`` or beyond (default :data:`MAX_AMOUNT`;
    quantities and unit prices: :data:`MAX_MAGNITUDE`)."""
    t = type(value)
    if t is Decimal:
        assert isinstance(value, Decimal)
        if value.is_finite():
            return _in_range(value, name, limit)
        raise ValueError(f"{name} must be a finite number, got {value}")
    if t is int:
        assert isinstance(value, int)
        return _in_range(Decimal(value), name, limit)
    if isinstance(value, Decimal):  # a subclass of Decimal
        if value.is_finite():
            return _in_range(Decimal(value), name, limit)
        raise ValueError(f"{name} must be a finite number, got {value}")
    raise TypeError(
        f"{name} must be a Decimal or an int, got {t.__name__} {value!r}"
        " (floats and strings are refused: pass Decimal('...'))"
    )


def _in_range(value: Decimal, name: str, limit: Decimal) -> Decimal:
    if -limit < value < limit:
        return value
    raise JxcError("number_out_of_range", field=name, value=value, limit=limit)


def check_quantity(value: object, name: str = "quantity") -> Decimal:
    """A quantity strictly greater than zero, else ``InvalidQuantityError``."""
    q = check_number(value, name, MAX_MAGNITUDE)
    if q <= 0:
        raise InvalidQuantityError(field=name, value=q)
    return q


def check_text(value: object, name: str) -> str:
    """``value`` if it is a ``str`` (a code: a document number, a lot, a location), else a
    ``TypeError`` naming it (a ``None`` kept by one adapter broke every later read). A ``str``
    that is not encodable as UTF-8 (a lone surrogate such as ``"\\ud800"``) is
    ``JxcError("invalid_text")``: SQLite cannot store it, so no adapter is given it."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: no store can keep it
            raise JxcError("invalid_text", field=name, value=repr(value),  # printable
                           position=exc.start) from None
    return value


def check_amount(value: object, name: str, limit: Decimal = MAX_AMOUNT) -> Decimal:
    """A money amount or price that is zero or more, else ``JxcError('negative_amount')``
    (below ``limit``: pass :data:`MAX_MAGNITUDE` for a unit price)."""
    a = check_number(value, name, limit)
    if a < 0:
        raise JxcError("negative_amount", field=name, value=a)
    return a


def period_key(day: dt.date) -> str:
    """The accounting period (月份) of a day, ``YYYY-MM`` with four digits of year also before
    the year 1000 (``0001-01``, where ``strftime("%Y")`` writes ``1``)."""
    return f"{day.year:04d}-{day.month:02d}"
