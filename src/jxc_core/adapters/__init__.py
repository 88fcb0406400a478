"""Shipped storage adapters: in-memory (reference, fast), SQLite (embedded default) and
PostgreSQL (a server; needs the ``postgres`` extra, imported when first used)."""

from jxc_core.adapters.memory import MemoryStorage
from jxc_core.adapters.postgres import PostgresStorage
from jxc_core.adapters.sqlite import SqliteStorage

__all__ = ["MemoryStorage", "PostgresStorage", "SqliteStorage"]
