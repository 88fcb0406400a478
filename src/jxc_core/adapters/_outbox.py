"""The rule of ``OutboxRepository.purge``, shared by the adapters so that code tested on one
meets the same refusals and deletes the same events on the other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from jxc_core.errors import JxcError

__all__: list[str] = []


def purge_rule(occurred_before: object, limit: object) -> Callable[[dt.datetime], bool]:
    """Whether a delivered event that occurred at a moment is purged, for the arguments of
    ``purge`` (checked here: ``occurred_before`` a ``datetime`` and ``limit`` an ``int``,
    else ``TypeError``; ``limit`` 1 or more, else ``configuration``). An event of the other
    kind (naive against aware, or the reverse) is never purged: Python cannot order the two."""
    if not isinstance(occurred_before, dt.datetime):
        raise TypeError("occurred_before must be a datetime.datetime, got "
                        f"{type(occurred_before).__name__} {occurred_before!r}")
    if type(limit) is not int:
        raise TypeError(f"limit must be an int, got {type(limit).__name__} {limit!r}")
    if limit < 1:
        raise JxcError("configuration", field="limit", value=limit,
                       reason=f"limit must be 1 or more, got {limit}",
                       reason_zh=f"limit 须为不小于 1 的整数，实际为 {limit}")
    aware = occurred_before.utcoffset() is not None

    def purged(at: dt.datetime) -> bool:
        return (at.utcoffset() is not None) == aware and at < occurred_before

    return purged
