"""Documents from forms: the plain data a web form or a low-code platform sends (JSON).

A form is a mapping with the arguments of :meth:`Documents.create
<jxc_core.services.Documents.create>` (``doc_type``, ``lines``, ``party``, ``date``,
``currency``, ``attributes``, ``doc_id``), each line a mapping with the fields of
:class:`~jxc_core.documents.model.Line`::

    {"doc_type": "purchase_order", "party": "S1", "date": "2026-03-02",
     "lines": [{"item": "CUP", "quantity": "10", "unit": "箱", "price": "96.00",
                "tax_rate": "0.13", "warehouse": "W1"}]}

What a form may carry, exactly:

- numbers (``quantity``, ``price``, ``tax_rate``, ``counted``, ``weight``, ``volume``) as text
  (``"96.00"``, read exactly as a Decimal), an ``int`` or a ``Decimal``. A ``float`` is refused:
  it is not the number that was typed (``0.1 + 0.2``); parse JSON with
  ``json.loads(text, parse_float=Decimal)``, or send numbers as text;
- dates (``date``, ``expiry``) as ``"YYYY-MM-DD"`` (or a ``datetime.date``);
- ``source`` as ``[doc_id, line_no]``; ``serials`` as a list of texts;
- ``line_no`` may be left out: the position in ``lines``, from 1;
- ``attributes`` as an object of JSON values (text, integers, booleans, null, lists, objects);
  a ``Decimal`` in it (``json.loads(text, parse_float=Decimal)`` of ``{"discount": 0.50}``) is
  kept as its exact text (``"0.50"``): JSON cannot store a Decimal, and a float is refused
  (``attributes.discount``), as ``Documents.create`` refuses both;
- a key that is not a field (``"qty"``) is refused, not ignored, so that a typo never drops a
  value silently.

Every refusal is ``JxcError("invalid_document")`` naming the field by its path
(``lines[2].price``) in ``data["field"]``; nothing is written. The rules of the documents
(known items and parties, units, positive quantities...) are checked by ``create`` as for
any document.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from jxc_core.documents.model import Line
from jxc_core.errors import JxcError

__all__ = ["FORM_FIELDS", "LINE_FORM_FIELDS", "DocumentForm", "document_form", "line_from_form"]

#: the keys of a form
FORM_FIELDS = ("doc_type", "lines", "party", "date", "currency", "attributes", "doc_id")
#: the keys of a form's line (the fields of :class:`Line`)
LINE_FORM_FIELDS = tuple(a.name for a in attrs.fields(Line))

#: a number as text: ASCII digits, an optional sign, point and exponent ("96.10", "-2", "1E+3")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                          re.ASCII)
#: a date as text: exactly YYYY-MM-DD
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_NUMBERS = frozenset({"quantity", "price", "tax_rate", "counted", "weight", "volume"})
_TEXTS = frozenset({"item", "warehouse", "to_warehouse", "location", "lot", "to_location"})


@attrs.frozen(slots=True)
class DocumentForm:
    """A form read by :func:`document_form`: the arguments of ``Documents.create``."""

    doc_type: str
    lines: tuple[Line, ...]
    party: str = ""
    date: dt.date | None = None
    currency: str | None = None
    attributes: Mapping[str, Any] | None = None
    doc_id: str | None = None


def _bad(field: str, reason: str, reason_zh: str) -> JxcError:
    return JxcError("invalid_document", doc_id="", field=field,
                    reason=f"{field}: {reason}", reason_zh=f"字段 {field}：{reason_zh}")


def _number(value: object, field: str) -> Decimal:
    if type(value) is Decimal:
        assert isinstance(value, Decimal)
        number = value
    elif type(value) is int:
        number = Decimal(value)
    elif type(value) is float:
        raise _bad(field, f"{value!r} is a float, not the number that was typed: send it as "
                          "text (\"8.10\"), or parse JSON with json.loads(text, "
                          "parse_float=Decimal)",
                   f"{value!r} 是浮点数，不是录入的那个数：请以文本发送（\"8.10\"），或用 "
                   "json.loads(text, parse_float=Decimal) 解析 JSON")
    elif type(value) is str:
        assert isinstance(value, str)
        # ASCII digits only: Decimal() also reads "1_000", "１２" and "١٢", which a form must
        # not turn into a number nobody typed as such
        number = Decimal(value) if _NUMBER_TEXT.fullmatch(value) else Decimal("NaN")
    else:
        raise _bad(field, f"a number is text, an int or a Decimal, got "
                          f"{type(value).__name__} {value!r}",
                   f"数值须为文本、int 或 Decimal，实际为 {type(value).__name__} {value!r}")
    if not number.is_finite():
        raise _bad(field, f"{value!r} is not a number", f"{value!r} 不是数值")
    return number


def _text(value: object, field: str) -> str:
    if type(value) is not str:
        raise _bad(field, f"must be text, got {type(value).__name__} {value!r}",
                   f"须为文本，实际为 {type(value).__name__} {value!r}")
    assert isinstance(value, str)
    return value


def _date(value: object, field: str) -> dt.date | None:
    if value is None or (type(value) is dt.date):
        return value
    if type(value) is str:
        assert isinstance(value, str)
        try:
            if _DATE_TEXT.fullmatch(value):
                return dt.date.fromisoformat(value)
        except ValueError:  # 2026-02-30
            pass
    raise _bad(field, f"a date is \"YYYY-MM-DD\", got {value!r}",
               f"日期须为 \"YYYY-MM-DD\"，实际为 {value!r}")


def _keys(data: object, allowed: Sequence[str], field: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _bad(field, f"must be an object (a mapping), got {type(data).__name__}",
                   f"须为对象（映射），实际为 {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise _bad(field, f"unknown field(s) {', '.join(unknown)} (known: "
                          f"{', '.join(allowed)})",
                   f"未知字段 {', '.join(unknown)}（可用：{', '.join(allowed)}）")
    return data


def line_from_form(data: Mapping[str, Any], line_no: int = 1, *, field: str = "line"
                   ) -> Line:
    """A :class:`Line` from a form's line (see the module docstring); ``line_no`` when the
    line gives none; ``field`` names the line in errors."""
    data = _keys(data, LINE_FORM_FIELDS, field)
    for required in ("item", "quantity"):
        if data.get(required) is None:
            raise _bad(f"{field}.{required}", "is required", "为必填项")
    values: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{field}.{key}"
        if key in _NUMBERS:
            if value is not None or key != "counted":
                values[key] = _number(value, path)
        elif key in _TEXTS:
            values[key] = _text(value, path)
        elif key == "line_no":
            if type(value) is not int or value < 1:
                raise _bad(path, f"must be a whole number from 1, got {value!r}",
                           f"须为从 1 起的整数，实际为 {value!r}")
            values[key] = value
        elif key == "unit":
            values[key] = None if value is None else _text(value, path)
        elif key == "price_includes_tax":
            if type(value) is not bool:
                raise _bad(path, f"must be true or false, got {value!r}",
                           f"须为 true 或 false，实际为 {value!r}")
            values[key] = value
        elif key == "expiry":
            values[key] = _date(value, path)
        elif key == "source":
            if value is not None:
                if (not isinstance(value, list | tuple) or len(value) != 2
                        or type(value[0]) is not str or type(value[1]) is not int):
                    raise _bad(path, f"is [doc_id, line_no], got {value!r}",
                               f"须为 [单号, 行号]，实际为 {value!r}")
                values[key] = (value[0], value[1])
        elif key == "serials":
            if not isinstance(value, list | tuple):
                raise _bad(path, f"is a list of texts, got {value!r}",
                           f"须为文本列表，实际为 {value!r}")
            values[key] = tuple(_text(s, f"{path}[{k}]") for k, s in enumerate(value))
    values.setdefault("line_no", line_no)
    return Line(**values)


def _decimals_as_text(value: Any) -> Any:
    """``value`` with every ``Decimal`` in it (at any depth of dicts and lists) replaced by its
    exact text: what ``json.loads(text, parse_float=Decimal)`` gives for ``0.50`` is kept as
    ``"0.50"``. Anything else is left for ``Documents.create`` to accept or refuse."""
    if type(value) is Decimal:
        return str(value)
    if type(value) is dict:
        return {k: _decimals_as_text(v) for k, v in value.items()}
    if type(value) is list:
        return [_decimals_as_text(v) for v in value]
    return value


def document_form(data: Mapping[str, Any]) -> DocumentForm:
    """Read a form (see the module docstring): the arguments of ``Documents.create``."""
    data = _keys(data, FORM_FIELDS, "form")
    doc_type = _text(data.get("doc_type"), "doc_type")
    lines = data.get("lines")
    if not isinstance(lines, list | tuple):
        raise _bad("lines", f"is a list of lines, got {type(lines).__name__}",
                   f"须为行的列表，实际为 {type(lines).__name__}")
    attributes = data.get("attributes")
    if attributes is not None and not isinstance(attributes, Mapping):
        raise _bad("attributes", f"must be an object, got {type(attributes).__name__}",
                   f"须为对象，实际为 {type(attributes).__name__}")
    currency = data.get("currency")
    doc_id = data.get("doc_id")
    return DocumentForm(
        doc_type,
        tuple(line_from_form(x, n, field=f"lines[{n - 1}]") for n, x in enumerate(lines, 1)),
        party=_text(data.get("party", ""), "party"),
        date=_date(data.get("date"), "date"),
        currency=None if currency is None else _text(currency, "currency"),
        attributes=None if attributes is None else _decimals_as_text(dict(attributes)),
        doc_id=None if doc_id is None else _text(doc_id, "doc_id"))
