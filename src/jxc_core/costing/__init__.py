"""Costing (存货计价): pure valuation methods over one costing scope, no I/O.

Perpetual methods share one shape — ``receive(qty, unit_cost, ref=None, *, value=None)``
returns the value entering stock, ``issue(qty, from_ref=None, *, ref=None)`` returns the cost
of the issue, ``quantity`` and ``value`` read the scope, ``take_adjustments()`` hands over the
cost adjustments booked after the fact, ``to_state()``/``from_state()`` persist exactly.
"""

from typing import Any

from jxc_core.costing._common import CostAdjustment
from jxc_core.costing.average import MovingAverageValuation
from jxc_core.costing.landed import (
    AllocationBasis,
    AllocationLine,
    allocate,
    allocate_landed_cost,
)
from jxc_core.costing.layers import FifoValuation, LayerSlice, LifoValuation
from jxc_core.costing.lot import SpecificLotValuation
from jxc_core.costing.monthly import (
    IssueCost,
    MonthlyAverageValuation,
    PeriodCloseResult,
    ReturnCost,
)
from jxc_core.costing.standard import StandardCostValuation
from jxc_core.costing.timeline import CostingTimeline, PerpetualValuation, TimelineResult
from jxc_core.errors import StateError

__all__ = [
    "METHODS",
    "AllocationBasis",
    "AllocationLine",
    "CostAdjustment",
    "CostingTimeline",
    "FifoValuation",
    "IssueCost",
    "LayerSlice",
    "LifoValuation",
    "MonthlyAverageValuation",
    "MovingAverageValuation",
    "PeriodCloseResult",
    "PerpetualValuation",
    "ReturnCost",
    "SpecificLotValuation",
    "StandardCostValuation",
    "TimelineResult",
    "allocate",
    "allocate_landed_cost",
    "valuation_from_state",
]

Valuation = (
    FifoValuation
    | LifoValuation
    | MovingAverageValuation
    | MonthlyAverageValuation
    | StandardCostValuation
    | SpecificLotValuation
)

#: method name -> valuation class
METHODS: dict[str, Any] = {
    "fifo": FifoValuation,
    "lifo": LifoValuation,
    "moving_average": MovingAverageValuation,
    "monthly_average": MonthlyAverageValuation,
    "standard": StandardCostValuation,
    "specific_lot": SpecificLotValuation,
}


def valuation_from_state(state: dict[str, Any]) -> Valuation:
    """Rebuild any valuation from its ``to_state()`` data (dispatches on ``state['method']``)."""
    method = state.get("method") if isinstance(state, dict) else None
    cls = METHODS.get(method) if isinstance(method, str) else None
    if cls is None:
        raise StateError(reason=f"unknown costing method {method!r}",
                         reason_zh=f"未知的计价方法 {method!r}")
    try:
        result: Valuation = cls.from_state(state)
    except StateError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError) as exc:
        raise StateError(reason=f"{type(exc).__name__}: {exc}",
                         reason_zh=f"数据无法读取（{type(exc).__name__}: {exc}）") from None
    return result
