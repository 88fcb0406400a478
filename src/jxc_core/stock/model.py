"""Master data and stock records: items with units, warehouses, lots, ledger entries, balances.

All records are frozen attrs classes with Decimal quantities; validation happens at the
boundary (the service layer) so that records read back from storage are not re-checked.
"""

from __future__ import annotations

import datetime as dt
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any

import attrs

from jxc_core._fast import fast_init
from jxc_core.errors import JxcError
from jxc_core.values import ZERO, check_number

__all__ = [
    "Balance",
    "Item",
    "LedgerEntry",
    "Lot",
    "Party",
    "Reservation",
    "StockLevels",
    "Warehouse",
]

COSTING_METHODS = ("fifo", "lifo", "moving_average", "monthly_average", "standard",
                   "specific_lot")

#: multiplies exactly (no digit is ever rounded away), so that a quantity times a unit factor
#: is checked as it is: 5/12 箱 typed as 0.4166666666666666666666666667 is 5.0000...0004 个, not
#: the 5 that 28 digits round it to (DOMAIN 1: conversions are exact or refused)
_ONE = Decimal(1)
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _check_units(_: object, __: attrs.Attribute[Any], units: dict[str, Decimal]) -> None:
    for name, factor in units.items():
        f = check_number(factor, f"units[{name}]")
        if f <= 0:
            raise JxcError("invalid_quantity", field=f"units[{name}]", value=f)


def _level(value: object, field: str) -> Decimal | None:
    """A stock level: ``None`` (no alert) or a non-negative number."""
    if value is None:
        return None
    level = check_number(value, field)
    if level < 0:
        raise JxcError("negative_amount", field=field, value=level)
    return level


@attrs.frozen(slots=True)
class StockLevels:
    """The low-stock levels of an item in one warehouse (``None``: no alert on that level)."""

    safety_stock: Decimal | None = None
    reorder_point: Decimal | None = None

    def __attrs_post_init__(self) -> None:  # an int is kept as the Decimal it means
        object.__setattr__(self, "safety_stock", _level(self.safety_stock, "safety_stock"))
        object.__setattr__(self, "reorder_point", _level(self.reorder_point, "reorder_point"))


def _check_levels(_: object, __: attrs.Attribute[Any], levels: dict[str, StockLevels]) -> None:
    if not isinstance(levels, dict):
        raise TypeError(f"levels must be a dict of warehouse -> StockLevels, got "
                        f"{type(levels).__name__}")
    for warehouse, found in levels.items():
        if not isinstance(warehouse, str) or not warehouse:
            raise JxcError("configuration", field="levels",
                           reason=f"levels: a warehouse code is a non-empty text, got "
                                  f"{warehouse!r}",
                           reason_zh=f"levels：仓库代码须为非空文本，实际为 {warehouse!r}")
        if not isinstance(found, StockLevels):
            raise TypeError(f"levels[{warehouse!r}] must be a StockLevels, got "
                            f"{type(found).__name__}")


@attrs.frozen(slots=True)
class Item:
    """An item (存货). ``units`` maps other units to base units: ``{"箱": Decimal(12)}``.

    ``quantity_digits`` is the precision of the base unit (0 for pieces, 3 for kg).
    ``costing_method`` is one of fifo, lifo, moving_average, standard, specific_lot;
    ``allow_negative`` is the negative-stock policy of the item (a warehouse whose own
    ``allow_negative`` is set overrides it there, see :class:`Warehouse`). ``default_cost``
    (None: 0) is the unit cost of a shortage's estimate when no cost is known yet: no unit
    consumed and no average on hand (DOMAIN 2). ``safety_stock`` and
    ``reorder_point`` trigger low-stock events (None: no alert) in every warehouse that
    ``levels`` does not name; ``levels`` gives the levels of one warehouse
    (``{"SH": StockLevels(safety_stock=Decimal(5), reorder_point=Decimal(8))}``), which replace
    the item's own there (a ``StockLevels()`` of two ``None``: no alert in that warehouse).
    A negative level is ``negative_amount``.
    """

    code: str
    name: str
    base_unit: str = "个"
    units: dict[str, Decimal] = attrs.field(factory=dict, validator=_check_units)
    quantity_digits: int = 0
    costing_method: str = "fifo"
    allow_negative: bool = False
    standard_cost: Decimal | None = None
    lot_tracked: bool = False
    serial_tracked: bool = False
    category: str = ""
    safety_stock: Decimal | None = None
    reorder_point: Decimal | None = None
    levels: dict[str, StockLevels] = attrs.field(factory=dict, validator=_check_levels)
    default_cost: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "safety_stock", _level(self.safety_stock, "safety_stock"))
        object.__setattr__(self, "reorder_point", _level(self.reorder_point, "reorder_point"))
        if self.costing_method not in COSTING_METHODS:
            raise JxcError("configuration", reason=f"unknown costing method {self.costing_method}",
                           reason_zh=f"未知的计价方法 {self.costing_method}")
        if self.costing_method == "standard" and self.standard_cost is None:
            raise JxcError("configuration", reason="standard costing needs standard_cost",
                           reason_zh="标准成本法需要 standard_cost")

    def to_base(self, quantity: Decimal, unit: str | None) -> Decimal:
        """``quantity`` of ``unit`` in base units, exact to ``quantity_digits`` or refused."""
        if unit is None or unit == self.base_unit:
            if not self.quantity_digits:
                whole = quantity.quantize(_ONE)
                if whole == quantity:  # the common case: whole pieces, written as such
                    return whole  # ("5.000" and "1E+2" are 5 and 100: DOMAIN 1)
            base = quantity
        else:
            factor = self.units.get(unit) if isinstance(unit, str) else None
            if factor is None:
                if not isinstance(unit, str):  # (a list was "unhashable", 5 an unknown unit)
                    raise TypeError(f"unit must be a str or None, got {type(unit).__name__} "
                                    f"{unit!r}")
                raise JxcError("unknown_unit", item=self.code, unit=unit)
            base = _EXACT.multiply(quantity, factor)
        quantum = Decimal(1).scaleb(-self.quantity_digits)
        if base.quantize(quantum) != base:
            raise JxcError(
                "unit_conversion_inexact", item=self.code, quantity=quantity,
                unit=unit or self.base_unit,
                digits=self.quantity_digits,
            )
        # a quantity carries the precision of the base unit: 0.5 箱 is 6 个, not 6.0, and
        # 2.5 kg of a 3-digit item is 2.500 (DOMAIN 1), so balances and counters show it so
        return base.quantize(quantum)

    def levels_in(self, warehouse: str) -> StockLevels:
        """The low-stock levels that hold in ``warehouse``: its own, else the item's."""
        found = self.levels.get(warehouse)
        if found is not None:
            return found
        return StockLevels(self.safety_stock, self.reorder_point)

    @property
    def watched(self) -> bool:
        """Whether any low-stock level is set, for some warehouse or for all."""
        return (self.safety_stock is not None or self.reorder_point is not None
                or bool(self.levels))

    def to_data(self) -> dict[str, Any]:
        d = attrs.asdict(self, recurse=False)
        d["units"] = {k: str(v) for k, v in self.units.items()}
        for k in ("standard_cost", "safety_stock", "reorder_point"):
            d[k] = None if d[k] is None else str(d[k])
        if self.levels:
            d["levels"] = {wh: [None if v is None else str(v)
                                for v in (lv.safety_stock, lv.reorder_point)]
                           for wh, lv in self.levels.items()}
        else:
            del d["levels"]  # the stored form of items without levels is unchanged
        if self.default_cost is None:
            del d["default_cost"]  # likewise without a default cost
        else:
            d["default_cost"] = str(self.default_cost)
        return d

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Item:
        d = dict(d)
        d["units"] = {k: Decimal(v) for k, v in d["units"].items()}
        for k in ("standard_cost", "safety_stock", "reorder_point"):
            d[k] = None if d[k] is None else Decimal(d[k])
        d["levels"] = {wh: StockLevels(*(None if v is None else Decimal(v) for v in pair))
                       for wh, pair in (d.get("levels") or {}).items()}
        cost = d.get("default_cost")  # absent from rows stored before it existed
        d["default_cost"] = None if cost is None else Decimal(cost)
        return cls(**d)


@attrs.frozen(slots=True)
class Warehouse:
    """A warehouse (仓库) with its locations (库位). ``in_transit`` marks a transit warehouse.

    ``allow_negative`` is the negative-stock policy of the stock kept here: ``None`` (the
    default) leaves it to each item's ``allow_negative``; ``True`` or ``False`` overrides the
    item's policy for its stock in this warehouse (DOMAIN 2: policy per item or warehouse)."""

    code: str
    name: str
    locations: tuple[str, ...] = ()
    in_transit: bool = False
    allow_negative: bool | None = None

    def allows_negative(self, item: Item) -> bool:
        """The policy for ``item``'s stock here: this warehouse's if set, else the item's."""
        own = self.allow_negative
        return item.allow_negative if own is None else own

    def to_data(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "name": self.name,
                             "locations": list(self.locations), "in_transit": self.in_transit}
        if self.allow_negative is not None:  # the stored form without a policy is unchanged
            d["allow_negative"] = self.allow_negative
        return d

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Warehouse:
        allow = d.get("allow_negative")  # absent from rows stored before it existed
        return cls(d["code"], d["name"], tuple(d["locations"]), bool(d["in_transit"]),
                   None if allow is None else bool(allow))


@attrs.frozen(slots=True)
class Party:
    """A supplier (供应商) or customer (客户); ``kind`` is supplier, customer or both."""

    code: str
    name: str
    kind: str = "both"

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("supplier", "customer", "both"):
            raise JxcError("configuration", reason=f"party kind {self.kind!r}",
                           reason_zh=f"往来单位类型无效 {self.kind!r}")

    def is_supplier(self) -> bool:
        return self.kind in ("supplier", "both")

    def is_customer(self) -> bool:
        return self.kind in ("customer", "both")


@attrs.frozen(slots=True)
class Lot:
    """A lot/batch (批次) of an item, with an optional expiry date."""

    item: str
    code: str
    expiry: dt.date | None = None


@attrs.frozen(slots=True)
class LedgerEntry:
    """One line of the append-only stock ledger (库存流水).

    ``quantity`` is signed (+ in, - out) in base units; ``value`` is signed rounded money
    (a pure cost adjustment has quantity 0). ``entry_no`` is unique and increasing.
    ``from_ref`` is the receipt a supplier return left from (kept so a replay costs it alike).
    Cost entries (``cost_settlement``, ``cost_backdating``) name the *issue* they adjust in
    ``doc_type``/``doc_id``/``line_no``.
    """

    entry_no: int
    item: str
    warehouse: str
    location: str
    lot: str
    quantity: Decimal
    value: Decimal
    posted_at: dt.datetime
    kind: str
    doc_type: str
    doc_id: str
    line_no: int
    from_ref: str = ""


@attrs.frozen(slots=True)
class Balance:
    """Quantities of one (item, warehouse, location, lot).

    ``available = on_hand - reserved - held``; ``projected = on_hand + on_order - demand``.
    """

    item: str
    warehouse: str
    location: str = ""
    lot: str = ""
    on_hand: Decimal = ZERO
    reserved: Decimal = ZERO
    held: Decimal = ZERO
    on_order: Decimal = ZERO
    demand: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved - self.held

    @property
    def projected(self) -> Decimal:
        return self.on_hand + self.on_order - self.demand


@attrs.frozen(slots=True)
class Reservation:
    """Quantity of (item, warehouse[, lot]) promised to one demand line (锁库).

    A hard reservation has ``expires_at=None``; a soft one lapses at ``expires_at``.
    """

    reservation_id: str
    item: str
    warehouse: str
    lot: str
    demand: str
    quantity: Decimal
    expires_at: dt.datetime | None = None

    def active(self, now: dt.datetime) -> bool:
        return self.expires_at is None or self.expires_at > now



#: ``LedgerEntry(...)`` with every field given, faster (the posting loop builds one per line)
_new_entry = fast_init(LedgerEntry)
#: ``Balance(...)`` with every field given, faster
_new_balance = fast_init(Balance)
