"""Shared by the service tests: a clock a test moves by hand, and a small shop over a storage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jxc_core.ports import Event, Storage
from jxc_core.services import Jxc
from jxc_core.stock import Item, Warehouse


class HandClock:
    """A clock a test moves by hand (``clock.at = ...``)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def fifo_shop(storage: Storage, clock: HandClock) -> Jxc:
    """Item F (FIFO) and warehouse W."""
    j = Jxc(storage, clock=clock)
    j.define_item(Item("F", "fifo"))
    j.define_warehouse(Warehouse("W", "main"))
    return j


class Events:
    """A notifier that keeps what it is handed."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    def notify(self, event: Event) -> None:
        self.seen.append(event)

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.seen if e.type == type_]


def group_costs(j: Jxc, item: str = "A", warehouse: str = "W") -> dict[str, Decimal]:
    """Effective cost of every issue document: its entries plus the cost entries naming it."""
    out: dict[str, Decimal] = {}
    for line in j.ledger(item, warehouse):
        e = line.entry
        if e.quantity < 0 or e.kind in ("cost_settlement", "cost_backdating"):
            out[e.doc_id] = out.get(e.doc_id, Decimal(0)) - e.value
    return out
