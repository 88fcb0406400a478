"""JSON encoders shared by the shipped adapters, built once.

``json.dumps`` (and ``JSONEncoder.encode``) build a new C encoder on every call; for the
small texts an adapter writes per posting (valuation headers, layer rows, event payloads)
that set-up costs more than the encoding. These functions keep one C encoder each and give
the same text as ``json.dumps`` with the options named (no circular-reference check: the
adapters only encode plain data made by the domain).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:
    from json.encoder import c_make_encoder  # type: ignore[attr-defined]
    from json.encoder import encode_basestring as _unicode
    from json.encoder import encode_basestring_ascii as _ascii
except ImportError:  # pragma: no cover - CPython always has the C encoder
    c_make_encoder = None

__all__: list[str] = []


def _refuse(o: object) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _encoder(ascii_only: bool, default: Callable[[Any], Any], compact: bool
             ) -> Callable[[Any], str]:
    separators = (",", ":") if compact else (", ", ": ")
    if c_make_encoder is None:  # pragma: no cover
        return json.JSONEncoder(ensure_ascii=ascii_only, default=default,
                                separators=separators, check_circular=False).encode
    make = c_make_encoder(None, default, _ascii if ascii_only else _unicode, None,
                          separators[1], separators[0], False, False, True)
    join = "".join

    def encode(o: Any) -> str:
        return join(make(o, 0))

    return encode


#: compact, ASCII only (``json.dumps(o, separators=(",", ":"))``)
dumps = _encoder(True, _refuse, True)
#: compact, non-ASCII kept (Chinese text stays readable in the file)
text = _encoder(False, _refuse, True)
#: event payloads: non-ASCII kept, anything else as ``str`` (Decimals, dates)
payload = _encoder(False, str, False)
#: the same, compact: what JSON gives back is the same data, for a store that keeps the text
#: only to give it back (the memory adapter's outbox)
payload_compact = _encoder(False, str, True)

_SCALARS = frozenset({str, int, bool, float, type(None)})


def plain(o: Any) -> Any:
    """``json.loads(dumps(o))`` without the text: a deep copy of plain data (dicts with str
    keys, lists, str, int, float, bool, None), what JSON gives back for the rest (a tuple as a
    list, an int key as a str), and JSON's ``TypeError`` for what it cannot carry (a Decimal,
    a set). For an adapter that keeps data as SQLite would, without encoding it."""
    t = type(o)
    if t is dict:
        out = {}
        for k, v in o.items():
            if type(k) is not str:  # JSON turns other keys into text: as it does
                return json.loads(dumps(o))
            tv = type(v)
            if tv in _SCALARS:
                out[k] = v
            elif tv is list and _SCALARS.issuperset(map(type, v)):  # a flat list: a copy
                out[k] = v.copy()
            else:
                out[k] = plain(v)
        return out
    if t is list:
        if _SCALARS.issuperset(map(type, o)):  # flat (the common case): copied in C
            return o.copy()
        return [v if type(v) in _SCALARS else plain(v) for v in o]
    if t in _SCALARS:
        return o
    return json.loads(dumps(o))
