"""The refusals of a unit of work used wrongly, shared by the adapters so that code tested on
one meets the same errors on the other."""

from __future__ import annotations

from jxc_core.errors import JxcError


def outside() -> JxcError:
    """A write or a commit through a unit of work whose with-block has ended (or that was
    never entered)."""
    return JxcError("configuration", reason="unit of work used outside its with-block",
                    reason_zh="工作单元在其 with 块之外被使用")


def nested() -> JxcError:
    """A unit of work opened while this thread has one open on the same storage (a callback
    of the service, such as a clock, calling it): refused rather than run inside the other."""
    return JxcError("configuration",
                    reason="a unit of work is already open on this storage in this thread",
                    reason_zh="本线程在该存储上已有一个打开的工作单元")
