"""The core lifecycle of every document (单据状态): a frozen transition table.

``draft -> submitted -> approved -> posted -> closed``, and ``cancelled``. Only ``post`` touches
stock and accounting; ``cancel`` of a posted document posts its reversal (红冲). Anything not in
the table raises ``invalid_transition`` naming the state and the action.

``close`` ends an order's life (:data:`CLOSABLE`: purchase and sales orders stop expecting their
open remainder). Other documents are never closed: a receipt or delivery is done when its units
are invoiced or returned, and a closed one could be neither invoiced, returned nor cancelled
(its GRNI stuck); an invoice, a return or a stock document has nothing open to end.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from jxc_core.errors import JxcError

__all__ = ["CLOSABLE", "TRANSITIONS", "Action", "State", "next_state", "offered_actions"]


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


#: the document types (values of ``DocType``) that ``close`` applies to: the orders
CLOSABLE: frozenset[str] = frozenset({"purchase_order", "sales_order"})


def next_state(state: State | str, action: Action | str, doc_type: str | None = None
               ) -> State:
    """The state after ``action``, or ``invalid_transition``. Given the ``doc_type`` (a
    ``DocType`` or its value), ``close`` of a document that is not an order
    (:data:`CLOSABLE`) is ``invalid_transition`` too, with ``doc_type`` and a ``reason``."""
    try:
        key = (State(state), Action(action))
    except ValueError:
        raise JxcError("invalid_transition", state=str(state), action=str(action)) from None
    found = TRANSITIONS.get(key)
    if found is None:
        raise JxcError("invalid_transition", state=key[0].value, action=key[1].value)
    if key[1] == Action.CLOSE and doc_type is not None and doc_type not in CLOSABLE:
        raise JxcError("invalid_transition", state=key[0].value, action=key[1].value,
                       doc_type=str(doc_type),
                       reason=f"close ends an order (its open remainder); a document of type "
                              f"{doc_type} is not closed: it is done once posted (a receipt or "
                              "delivery once invoiced or returned) and undone by cancelling it "
                              "(红冲)",
                       reason_zh=f"关闭用于结束订单（不再执行其余量），{doc_type} 类单据不能"
                                 "关闭：过账即完成（入库单、出库单开票或退货后即完成），要撤销"
                                 "请红冲")
    return found


def offered_actions(state: State | str, doc_type: str) -> list[Action]:
    """The actions of the table from ``state`` for a document of ``doc_type``, in table
    order: ``close`` only for an order (:data:`CLOSABLE`)."""
    here = State(state)
    return [a for (s, a) in TRANSITIONS
            if s == here and (a != Action.CLOSE or doc_type in CLOSABLE)]
