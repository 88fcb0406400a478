"""Shared by the service tests: a clock a test moves by hand, and a small shop over a storage."""

from __future__ import annotations

import datetime as dt

from jxc_core.ports import Storage
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
