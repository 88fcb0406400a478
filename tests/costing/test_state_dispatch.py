"""to_state() / valuation_from_state(): every method round-trips through JSON exactly and behaves
the same afterwards; bad state is refused with ``invalid_state``."""

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.costing import (
    METHODS,
    FifoValuation,
    LifoValuation,
    MonthlyAverageValuation,
    MovingAverageValuation,
    SpecificLotValuation,
    StandardCostValuation,
    valuation_from_state,
)
from jxc_core.errors import JxcError

D = Decimal


def perpetual(cls: Any) -> Any:
    """Layers or pool, a drained receipt, an open shortage and a pending settlement."""
    v = cls(allow_negative=True, default_cost=D("1.50"))
    v.receive(D(3), D("1.00"), "r1")
    v.receive(D(2), D("2.00"), "r2")
    v.issue(D(4), ref="i1")
    v.issue(D(5), ref="i2")  # 1 on hand, 4 short at an estimate
    v.receive(D(2), D("3.00"), "r3")  # fills 2 of the shortage: a pending adjustment
    assert v.quantity == D(-2) and v.adjustments
    return v


def monthly() -> MonthlyAverageValuation:
    v = MonthlyAverageValuation(allow_negative=True, default_cost=D("0.5"))
    v.receive(D(4), D("2.50"))
    v.issue(D(1), ref="a")
    v.close_period()
    v.receive(D(3), D("3.333"), "r")
    v.issue(D(2), ref="b")
    v.issue(D(1))
    v.return_issue(D(1), "b", ref="t")  # a return of an issue of the open period
    return v


def standard() -> StandardCostValuation:
    v = StandardCostValuation(D("0.335"), currency_digits=2)
    v.receive(D(3), D("0.40"), "r1")  # pending price variance
    v.issue(D(1))
    v.set_standard(D("0.5"), "s1")  # pending revaluation
    return v


def lots() -> SpecificLotValuation:
    v = SpecificLotValuation(currency_digits=0)
    v.receive(D(3), D(0), "L1", value=D(100))
    v.receive(D(2), D(7), "L2")
    v.issue(D(1), "L1")
    v.issue(D(2), "L2")  # emptied lot
    return v


BUILDERS: dict[str, Callable[[], Any]] = {
    "fifo": lambda: perpetual(FifoValuation),
    "lifo": lambda: perpetual(LifoValuation),
    "moving_average": lambda: perpetual(MovingAverageValuation),
    "monthly_average": monthly,
    "standard": standard,
    "specific_lot": lots,
}


def carry_on(v: Any) -> list[Any]:
    """The same later operations on a valuation; returns everything they produced."""
    out: list[Any] = []
    if isinstance(v, MonthlyAverageValuation):
        out.append(v.receive(D(5), D("4.01"), "r9"))
        v.issue(D(4), ref="c")
        out.append(v.close_period())
    elif isinstance(v, SpecificLotValuation):
        out += [v.issue(D(1), "L1"), v.receive(D(1), D(9), "L2"), v.issue(D(1), "L2")]
        out.append(v.lots)
    elif isinstance(v, StandardCostValuation):
        out += [v.issue(D(1)), v.set_standard(D("0.333")), v.issue(D(1)), v.take_adjustments()]
    else:
        out.append(v.take_adjustments())
        out.append(v.receive(D(5), D("3.10"), "r4"))
        out += [v.issue(D(1), ref="i3"), v.issue(D(1), "r4", ref="i4"), v.take_adjustments()]
    out += [v.quantity, v.value]
    return out


@pytest.mark.parametrize("method", sorted(BUILDERS))
def test_state_round_trips_through_json(method: str) -> None:
    v = BUILDERS[method]()
    state = v.to_state()
    assert state["method"] == method and state["version"] == 1
    text = json.dumps(state)
    w = valuation_from_state(json.loads(text))
    assert type(w) is METHODS[method] is type(v)
    assert w.to_state() == state
    assert json.dumps(w.to_state()) == text
    assert (w.quantity, w.value) == (v.quantity, v.value)
    # and it behaves the same from there on
    assert carry_on(w) == carry_on(v)
    assert w.to_state() == v.to_state()


@pytest.mark.parametrize("method", sorted(BUILDERS))
def test_empty_valuation_round_trips(method: str) -> None:
    cls = METHODS[method]
    v = cls(D(1)) if method == "standard" else cls()
    w = valuation_from_state(json.loads(json.dumps(v.to_state())))
    assert w.to_state() == v.to_state()
    assert (w.quantity, w.value) == (D(0), D(0))


@pytest.mark.parametrize("cls", [FifoValuation, LifoValuation])
def test_drained_receipt_behaves_the_same_after_round_trip(cls: Any) -> None:
    def outcome(v: Any) -> Any:
        try:
            return v.add_landed_cost("r1", D("1.00")), v.take_adjustments()
        except JxcError as e:
            return e.code

    v = cls()
    v.receive(D(2), D(1), "r1")
    v.receive(D(2), D(2), "r2")
    v.issue(D(2) if cls is FifoValuation else D(4))  # r1 fully issued
    w = valuation_from_state(json.loads(json.dumps(v.to_state())))
    assert outcome(w) == outcome(v)


# -- bad state ----------------------------------------------------------------------------------


def fifo_state() -> dict[str, Any]:
    return BUILDERS["fifo"]().to_state()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "state",
    [
        pytest.param({"method": "weighted_guess", "version": 1}, id="unknown_method"),
        pytest.param({}, id="no_method"),
        pytest.param([], id="not_a_dict"),
        pytest.param(None, id="none"),
        pytest.param({"method": 1}, id="method_not_str"),
        pytest.param({**fifo_state(), "version": 2}, id="unknown_version"),
        pytest.param({**fifo_state(), "quantity": 1.5}, id="float_not_decimal_string"),
        pytest.param({**fifo_state(), "value": None}, id="none_for_decimal"),
    ],
)
def test_bad_state_is_refused(state: Any) -> None:
    with pytest.raises(JxcError) as err:
        valuation_from_state(state)
    assert err.value.code == "invalid_state"


@pytest.mark.parametrize("method", sorted(BUILDERS))
def test_from_state_of_another_method_is_refused(method: str) -> None:
    other = "lifo" if method == "fifo" else "fifo"
    state = BUILDERS[other]().to_state()
    with pytest.raises(JxcError) as err:
        METHODS[method].from_state(state)
    assert err.value.code == "invalid_state"
    assert other in str(err.value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(s: dict[str, Any]) -> None:
        del s[key]

    return mutate


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(s: dict[str, Any]) -> None:
        s[key] = value

    return mutate


@pytest.mark.parametrize(
    ("method", "mutate"),
    [
        pytest.param("fifo", _drop("currency_digits"), id="fifo_missing_key"),
        pytest.param("monthly_average", _drop("months"), id="monthly_missing_key"),
        pytest.param("fifo", _set("quantity", "abc"), id="fifo_malformed_decimal"),
        pytest.param("standard", _set("standard_cost", "1,5"), id="standard_malformed_decimal"),
        pytest.param("moving_average", _set("value", "NaN"), id="moving_average_nan"),
    ],
)
def test_broken_state_is_refused_with_invalid_state(
    method: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    state = copy.deepcopy(BUILDERS[method]().to_state())
    mutate(state)
    with pytest.raises(JxcError) as err:
        valuation_from_state(state)
    assert err.value.code == "invalid_state"
