"""Shipped storage adapters: in-memory (reference, fast) and SQLite (embedded default)."""

from jxc_core.adapters.memory import MemoryStorage
from jxc_core.adapters.sqlite import SqliteStorage

__all__ = ["MemoryStorage", "SqliteStorage"]
