"""Costing (存货计价): pure valuation methods, no I/O."""

from jxc_core.costing._common import CostAdjustment
from jxc_core.costing.average import MovingAverageValuation
from jxc_core.costing.layers import FifoValuation, LifoValuation

__all__ = ["CostAdjustment", "FifoValuation", "LifoValuation", "MovingAverageValuation"]
