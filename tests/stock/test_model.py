"""The fast constructors of the hot posting loop build exactly the records attrs builds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jxc_core.stock.model import Balance, LedgerEntry, _new_balance, _new_entry

text = st.text(max_size=5)
number = st.decimals(allow_nan=False, allow_infinity=False, places=2,
                     min_value=-10**6, max_value=10**6)


@given(no=st.integers(1, 10**9), item=text, warehouse=text, location=text, lot=text,
       quantity=number, value=number, kind=text, doc_id=text, line_no=st.integers(0, 99),
       from_ref=text)
def test_a_fast_entry_is_the_entry_attrs_builds(
        no: int, item: str, warehouse: str, location: str, lot: str, quantity: Decimal,
        value: Decimal, kind: str, doc_id: str, line_no: int, from_ref: str) -> None:
    args = (no, item, warehouse, location, lot, quantity, value, dt.datetime(2026, 1, 1),
            kind, "receipt", doc_id, line_no, from_ref)
    fast, built = _new_entry(*args), LedgerEntry(*args)
    assert type(fast) is LedgerEntry
    assert fast == built and hash(fast) == hash(built) and repr(fast) == repr(built)
    assert attrs.asdict(fast) == attrs.asdict(built)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.item = "other"  # type: ignore[misc]


def test_a_fast_balance_is_the_balance_attrs_builds() -> None:
    args = ("A", "W", "L1", "B7", Decimal(5), Decimal(1), Decimal(2), Decimal(3), Decimal(4))
    fast = _new_balance(*args)
    assert fast == Balance(*args) and type(fast) is Balance
    assert fast.available == Balance(*args).available
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.on_hand = Decimal(0)  # type: ignore[misc]


def test_fast_init_refuses_a_record_with_validators() -> None:
    from jxc_core._fast import fast_init
    from jxc_core.ports import ValuationChange
    from jxc_core.stock.model import StockLevels

    made = fast_init(ValuationChange)(("A", "W"), {"q": "1"}, (), False, True)
    assert made == ValuationChange(("A", "W"), {"q": "1"}, (), False, True)
    if any(f.validator or f.converter for f in attrs.fields(StockLevels)):
        with pytest.raises(TypeError):
            fast_init(StockLevels)

    @attrs.frozen(slots=True)
    class Checked:
        n: int = attrs.field(validator=attrs.validators.instance_of(int))

    with pytest.raises(TypeError):
        fast_init(Checked)

    @attrs.frozen(slots=True)
    class Hooked:
        n: int

        def __attrs_post_init__(self) -> None:
            pass

    with pytest.raises(TypeError):
        fast_init(Hooked)
