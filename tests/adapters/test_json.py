"""The adapters' JSON encoders give exactly the text of ``json.dumps`` with their options,
and refuse what ``json.dumps`` refuses."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jxc_core.adapters import _json

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(plain)
def test_same_text_as_json_dumps(data: Any) -> None:
    assert _json.dumps(data) == json.dumps(data, separators=(",", ":"))
    assert _json.text(data) == json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    assert _json.payload(data) == json.dumps(data, ensure_ascii=False, default=str)
    assert json.loads(_json.dumps(data)) == data


def test_chinese_text_kept_or_escaped() -> None:
    assert _json.text({"名称": "库存"}) == '{"名称":"库存"}'
    assert _json.dumps({"名称": "库存"}) == '{"\\u540d\\u79f0":"\\u5e93\\u5b58"}'


@pytest.mark.parametrize("bad", [Decimal("1.5"), dt.date(2026, 1, 1), {1, 2}, object()])
def test_non_json_refused_like_json_dumps(bad: object) -> None:
    for encode in (_json.dumps, _json.text):
        with pytest.raises(TypeError, match="not JSON serializable"):
            encode({"x": [bad]})


def test_payload_writes_other_values_as_text() -> None:
    data = {"q": Decimal("1.50"), "d": dt.date(2026, 1, 1), "s": "库"}
    assert _json.payload(data) == json.dumps(data, ensure_ascii=False, default=str)
    assert json.loads(_json.payload(data)) == {"q": "1.50", "d": "2026-01-01", "s": "库"}


#: beside plain data: what JSON turns into something else (tuples, int and bool keys)
_loose = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (st.lists(inner, max_size=4) | st.tuples(inner, inner)
                   | st.dictionaries(st.text(), inner, max_size=4)
                   | st.dictionaries(st.integers(), inner, max_size=3)),
    max_leaves=20,
)


@given(_loose)
def test_plain_is_what_json_gives_back(data: Any) -> None:
    """``plain`` (the memory adapter keeps valuation states with it) equals a JSON round trip,
    and is a copy: changing it changes nothing given."""
    got = _json.plain(data)
    assert got == json.loads(_json.dumps(data))
    if isinstance(got, (dict, list)) and got:
        before = json.loads(_json.dumps(data))
        if isinstance(got, dict):
            got.clear()
        else:
            got.append("x")
        assert json.loads(_json.dumps(data)) == before


@pytest.mark.parametrize("bad", [Decimal("1.5"), dt.date(2026, 1, 1), {1, 2}, object(),
                                 {"a": [Decimal(1)]}, [{"b": {1, 2}}]])
def test_plain_refuses_what_json_refuses(bad: object) -> None:
    with pytest.raises(TypeError):
        _json.plain(bad)
