"""The core lifecycle of every document (单据状态): a frozen transition table.

``draft -> submitted -> approved -> posted -> closed``, and ``cancelled``. Only ``post`` touches
stock and accounting; ``cancel`` of a posted document posts its reversal (红冲). Anything not in
the table raises ``invalid_transition`` naming the state and the action.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from jxc_core.errors import JxcError

__all__ = ["TRANSITIONS", "Action", "State", "next_state"]


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    POSTED = "posted"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    POST = "post"
    CLOSE = "close"
    CANCEL = "cancel"


#: (state, action) -> next state. Frozen: a workflow may only narrow it (with approval steps).
TRANSITIONS: MappingProxyType[tuple[State, Action], State] = MappingProxyType({
    (State.DRAFT, Action.SUBMIT): State.SUBMITTED,
    (State.DRAFT, Action.CANCEL): State.CANCELLED,
    (State.SUBMITTED, Action.APPROVE): State.APPROVED,
    (State.SUBMITTED, Action.REJECT): State.DRAFT,
    (State.SUBMITTED, Action.CANCEL): State.CANCELLED,
    (State.APPROVED, Action.POST): State.POSTED,
    (State.APPROVED, Action.CANCEL): State.CANCELLED,
    (State.POSTED, Action.CLOSE): State.CLOSED,
    (State.POSTED, Action.CANCEL): State.CANCELLED,
})


def next_state(state: State | str, action: Action | str) -> State:
    """The state after ``action``, or ``invalid_transition``."""
    try:
        key = (State(state), Action(action))
    except ValueError:
        raise JxcError("invalid_transition", state=str(state), action=str(action)) from None
    found = TRANSITIONS.get(key)
    if found is None:
        raise JxcError("invalid_transition", state=key[0].value, action=key[1].value)
    return found
