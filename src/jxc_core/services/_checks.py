"""Argument checks of the public methods of :class:`Documents` and :class:`Accounting`.

House rule: a value of the wrong Python type is a ``TypeError`` naming the argument; a value of
the right type that means nothing (month 13, the period ``"2026-3"``, a document type nobody
knows) is a :class:`JxcError` with a stable code. Both are raised before anything is read or
written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from jxc_core.documents.lifecycle import State
from jxc_core.documents.model import DocType
from jxc_core.documents.workflow import User
from jxc_core.errors import JxcError
from jxc_core.values import check_text

__all__ = ["check_attributes", "check_bool", "check_day", "check_doc_type",
           "check_list_of", "check_month", "check_period", "check_texts", "check_user"]

#: the years a period may name: a month's first day and the first day of the month after it
#: (and the days before it, for an opening balance) must be dates Python can hold
YEARS = (1900, 9998)

#: a period (会计期间) as the books name it: ``YYYY-MM``, month 01 to 12
PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")

_DOC_TYPES = tuple(t.value for t in DocType)


def check_user(user: object, name: str = "user") -> None:
    """``user`` is a :class:`User` (not its name), else ``TypeError``."""
    if not isinstance(user, User):
        raise TypeError(f"{name} must be a User, got {type(user).__name__} {user!r} "
                        "(pass User(name, roles), not the user's name)")


def check_bool(value: object, name: str) -> None:
    """``value`` is a ``bool`` (not ``"no"``, not ``1``), else ``TypeError`` naming it."""
    if type(value) is not bool:
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")


def check_list_of(values: object, kind: type, name: str) -> None:
    """``values`` is a list or tuple (a ``Sequence``, not a str) of ``kind`` (a
    :class:`ReserveLine`, a ``PurchaseSuggestion``), else ``TypeError`` naming ``name`` or the
    wrong element ``name[i]`` (a tuple of a line's fields, a ``None``), instead of an
    ``AttributeError`` from inside."""
    what = kind.__name__
    if isinstance(values, (str, bytes, bytearray)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list of {what}, got {type(values).__name__} "
                        f"{values!r}")
    for i, value in enumerate(values):
        if not isinstance(value, kind):
            raise TypeError(f"{name}[{i}] must be a {what}, got {type(value).__name__} "
                            f"{value!r}")


def check_texts(values: object, name: str) -> tuple[str, ...]:
    """A list (or tuple) of texts, each as :func:`check_text` takes it. A bare ``str`` is a
    ``TypeError`` (it is not a list of texts: ``"L1"`` is not the locations ``L`` and ``1``)."""
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of str, got {type(values).__name__} "
                        f"{values!r}")
    return tuple(check_text(v, f"{name}[{i}]") for i, v in enumerate(values))


def _attribute(value: object, path: str) -> None:
    """One value of ``Document.attributes``: what JSON keeps as it is, else
    ``invalid_document`` naming its path."""
    if value is None or type(value) in (bool, int):
        return
    if isinstance(value, str):
        check_text(value, path)
        return
    if type(value) is list:
        assert isinstance(value, list)
        for i, v in enumerate(value):
            _attribute(v, f"{path}[{i}]")
        return
    if type(value) is dict:
        assert isinstance(value, dict)
        for k, v in value.items():
            if not isinstance(k, str):
                raise JxcError(
                    "invalid_document", doc_id="", field=path,
                    reason=f"{path}: a key is a str, got {type(k).__name__} {k!r} (it would "
                           f"read back as the text {str(k)!r})",
                    reason_zh=f"{path}：键须为字符串，实际为 {type(k).__name__} {k!r}")
            check_text(k, path)
            _attribute(v, f"{path}.{k}")
        return
    kind = type(value).__name__
    if isinstance(value, (float, Decimal)):
        raise JxcError(
            "invalid_document", doc_id="", field=path,
            reason=f"{path}: {value!r} is a {kind}: pass a number as text (\"0.5\"), the "
                   "exact digits typed (a float is not, and JSON cannot keep a Decimal)",
            reason_zh=f"{path}：{value!r} 是 {kind}，数字请以文本传入（如 \"0.5\"）")
    raise JxcError(
        "invalid_document", doc_id="", field=path,
        reason=f"{path}: a {kind} cannot be stored as it is: attributes hold str, int, bool, "
               "None, lists and dicts with str keys (JSON)",
        reason_zh=f"{path}：{kind} 无法原样保存；attributes 仅可含字符串、整数、布尔、None、"
                  "列表及键为字符串的字典（JSON）")


def check_attributes(attributes: object) -> dict[str, Any]:
    """``Document.attributes``: ``None`` (none) or a mapping with str keys whose values are
    str, int, bool, None, lists and dicts of them (what JSON stores and reads back as it is).
    Not a mapping: ``TypeError``; a float, a ``Decimal``, a set, a tuple, a date or a key that
    is not a str: ``invalid_document`` with ``field`` its path (``attributes.discount``)."""
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a dict or None, got {type(attributes).__name__} "
                        f"{attributes!r}")
    out = dict(attributes)
    _attribute(out, "attributes")
    return out


def _check_name(value: object, names: tuple[str, ...], field: str, type_name: str,
                what: str, what_zh: str) -> str:
    """``value`` if it is one of ``names``. Not a str: ``TypeError`` naming ``field``; another
    name: ``invalid_document`` (``field``, the value under ``field``) listing ``names``."""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a {type_name} or a str, got {type(value).__name__} "
                        f"{value!r}")
    if value not in names:
        known = ", ".join(names)
        raise JxcError("invalid_document", doc_id="", field=field, **{field: value},
                       reason=f"unknown {what} {value!r} (one of {known})",
                       reason_zh=f"未知的{what_zh} {value!r}（可选：{known}）")
    return value


def check_doc_type(doc_type: object) -> DocType:
    """The :class:`DocType` named by ``doc_type`` (a ``DocType`` or its value). Not a str:
    ``TypeError``; a name that is no document type: ``invalid_document`` listing them."""
    return DocType(_check_name(doc_type, _DOC_TYPES, "doc_type", "DocType", "document type",
                               "单据类型"))


_STATES = tuple(s.value for s in State)


def check_state(state: object) -> State:
    """The :class:`State` named by ``state`` (a ``State`` or its value). Not a str:
    ``TypeError``; a name that is no state: ``invalid_document`` listing them."""
    return State(_check_name(state, _STATES, "state", "State", "document state", "单据状态"))


def check_day(value: object, name: str) -> None:
    """``value`` is a ``datetime.date`` (not a datetime, not a str), else ``invalid_date``
    (the rule of every date argument: ``Documents.create(date=)``, ``Jxc.receive(expiry=)``)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise JxcError("invalid_date", field=name, expected="datetime.date",
                       kind=type(value).__name__, value=value)


def check_month(year: object, month: object) -> None:
    """``year`` and ``month`` are ints (else ``TypeError``), year 1900 to 9998 (:data:`YEARS`:
    a month's neighbours must be dates) and month 1 to 12 (else ``invalid_period`` naming the
    field)."""
    for name, value in (("year", year), ("month", month)):
        if type(value) is not int:
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    assert isinstance(year, int) and isinstance(month, int)
    if not YEARS[0] <= year <= YEARS[1]:
        raise JxcError("invalid_period", field="year", value=year,
                       reason=f"a year is from {YEARS[0]} to {YEARS[1]}",
                       reason_zh=f"年份须在 {YEARS[0]} 到 {YEARS[1]} 之间")
    if not 1 <= month <= 12:
        raise JxcError("invalid_period", field="month", value=month,
                       reason="a month is from 1 to 12", reason_zh="月份须在 1 到 12 之间")


def check_period(period: object, name: str = "period") -> None:
    """``period`` is ``None`` (every period) or a ``YYYY-MM`` text with a month 01 to 12:
    ``"2026-3"``, ``"2026"`` or ``"2026-13"`` is ``invalid_period`` (a prefix matched none
    or several months); not a str: ``TypeError``."""
    if period is None:
        return
    if type(period) is not str:
        raise TypeError(f"{name} must be a str 'YYYY-MM' or None, got {type(period).__name__} "
                        f"{period!r}")
    if PERIOD.fullmatch(period) is None:
        raise JxcError("invalid_period", field=name, value=period,
                       reason="a period is written YYYY-MM, month 01 to 12 (e.g. '2026-03')",
                       reason_zh="会计期间的格式为 YYYY-MM，月份 01 到 12（如 '2026-03'）")
