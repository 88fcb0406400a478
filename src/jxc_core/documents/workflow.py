"""Approvals as data (审批流): steps, roles, amount thresholds and named guards.

A workflow is plain data — a dict or JSON a low-code platform can store — layered on the frozen
core lifecycle (:mod:`jxc_core.documents.lifecycle`). It is checked when loaded: an unknown
state or action, a step that can never apply (its amount range is empty), a guard name that is
not registered, a duplicate step or a step with no role are errors (``invalid_workflow``).

Example::

    {
      "name": "purchase",
      "doc_types": ["purchase_order"],
      "actions": {"submit": ["buyer"], "post": ["buyer"], "cancel": ["buyer", "manager"],
                  "close": ["manager"]},
      "steps": [
        {"name": "manager", "role": "manager"},
        {"name": "finance", "role": "cfo", "min_amount": "50000", "guard": "new_supplier"}
      ]
    }

A submitted document needs the approval of every step that applies to it (its gross amount
within ``[min_amount, max_amount]`` and its guard true), in order; the last approval moves it
to ``approved``. ``reject`` sends it back to draft and clears the approvals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from jxc_core.documents.lifecycle import TRANSITIONS, Action, State
from jxc_core.documents.model import Document
from jxc_core.errors import JxcError

__all__ = ["Step", "User", "Workflow", "lifecycle_data"]

Guard = Callable[[Document], bool]


@attrs.frozen(slots=True)
class User:
    name: str
    roles: frozenset[str] = frozenset()


@attrs.frozen(slots=True)
class Step:
    name: str
    role: str
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    guard: str | None = None

    def applies(self, doc: Document, guards: Mapping[str, Guard]) -> bool:
        amount = doc.gross_total
        if self.min_amount is not None and amount < self.min_amount:
            return False
        if self.max_amount is not None and amount > self.max_amount:
            return False
        return self.guard is None or guards[self.guard](doc)


def _bad(reason: str) -> JxcError:
    return JxcError("invalid_workflow", reason=reason)


def _amount(raw: object, where: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, (float, bool)) or not isinstance(raw, (str, int, Decimal)):
        raise _bad(f"{where}: amounts are strings or ints, got {raw!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _bad(f"{where}: {raw!r} is not a number") from None
    if not value.is_finite():
        raise _bad(f"{where}: {raw!r} is not finite")
    return value


class Workflow:
    """A validated approval workflow. Build it with :meth:`from_data` or :meth:`from_json`."""

    def __init__(self, name: str, doc_types: tuple[str, ...], steps: tuple[Step, ...],
                 actions: dict[str, frozenset[str]], guards: Mapping[str, Guard]) -> None:
        self.name = name
        self.doc_types = doc_types
        self.steps = steps
        self.actions = actions
        self.guards = dict(guards)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], guards: Mapping[str, Guard] | None = None
                  ) -> Workflow:
        guards = guards or {}
        if not isinstance(data, Mapping):
            raise _bad("a workflow is a mapping")
        unknown = set(data) - {"name", "doc_types", "steps", "actions"}
        if unknown:
            raise _bad(f"unknown keys {sorted(unknown)}")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise _bad("name is required")
        actions: dict[str, frozenset[str]] = {}
        for action, roles in (data.get("actions") or {}).items():
            if action not in {a.value for a in Action} or action in ("approve", "reject"):
                raise _bad(f"unknown action {action!r} (approve/reject belong to steps)")
            if not isinstance(roles, list) or not roles:
                raise _bad(f"action {action!r} needs a list of roles")
            actions[action] = frozenset(str(r) for r in roles)
        steps: list[Step] = []
        for i, raw in enumerate(data.get("steps") or []):
            where = f"steps[{i}]"
            if not isinstance(raw, Mapping):
                raise _bad(f"{where} is not a mapping")
            extra = set(raw) - {"name", "role", "min_amount", "max_amount", "guard", "state"}
            if extra:
                raise _bad(f"{where}: unknown keys {sorted(extra)}")
            state = raw.get("state", State.SUBMITTED.value)
            if state not in {s.value for s in State}:
                raise _bad(f"{where}: unknown state {state!r}")
            if state != State.SUBMITTED.value:
                raise _bad(f"{where}: approval steps act on submitted documents, not {state!r}")
            step = Step(
                name=str(raw.get("name") or ""), role=str(raw.get("role") or ""),
                min_amount=_amount(raw.get("min_amount"), where),
                max_amount=_amount(raw.get("max_amount"), where),
                guard=raw.get("guard"),
            )
            if not step.name or not step.role:
                raise _bad(f"{where}: a step needs a name and a role")
            if any(s.name == step.name for s in steps):
                raise _bad(f"{where}: duplicate step {step.name!r}")
            if (step.min_amount is not None and step.max_amount is not None
                    and step.min_amount > step.max_amount):
                raise _bad(f"{where}: step {step.name!r} is unreachable "
                           f"(min_amount {step.min_amount} > max_amount {step.max_amount})")
            if step.guard is not None and step.guard not in guards:
                raise _bad(f"{where}: guard {step.guard!r} is not registered")
            steps.append(step)
        doc_types = tuple(str(t) for t in data.get("doc_types") or ())
        return cls(name, doc_types, tuple(steps), actions, guards)

    @classmethod
    def from_json(cls, text: str, guards: Mapping[str, Guard] | None = None) -> Workflow:
        return cls.from_data(json.loads(text), guards)

    # -- decisions ------------------------------------------------------------------------
    def pending_steps(self, doc: Document) -> list[Step]:
        """Steps that apply to ``doc`` and are not approved yet, in order."""
        return [s for s in self.steps
                if s.applies(doc, self.guards) and s.name not in doc.approvals_done]

    def allowed(self, doc: Document, user: User, action: str) -> bool:
        """May ``user`` take ``action`` on ``doc`` now?"""
        state = State(doc.state)
        if action in ("approve", "reject"):
            if state != State.SUBMITTED:
                return False
            pending = self.pending_steps(doc)
            if not pending:
                return action == "approve"  # no step applies: approval is automatic
            return pending[0].role in user.roles
        if (state, Action(action)) not in TRANSITIONS:
            return False
        roles = self.actions.get(action)
        return roles is None or bool(roles & user.roles)

    def available_actions(self, doc: Document, user: User) -> list[str]:
        """What a UI should offer ``user`` for ``doc`` now."""
        state = State(doc.state)
        candidates = [a.value for (s, a) in TRANSITIONS if s == state]
        return [a for a in candidates if self.allowed(doc, user, a)]

    # -- export ---------------------------------------------------------------------------
    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "doc_types": list(self.doc_types),
            "actions": {a: sorted(r) for a, r in sorted(self.actions.items())},
            "steps": [
                {k: v for k, v in {
                    "name": s.name, "role": s.role,
                    "min_amount": None if s.min_amount is None else str(s.min_amount),
                    "max_amount": None if s.max_amount is None else str(s.max_amount),
                    "guard": s.guard}.items() if v is not None}
                for s in self.steps
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_data(), ensure_ascii=False, indent=2)

    def to_mermaid(self) -> str:
        """The lifecycle with this workflow's approval steps, as a Mermaid state diagram."""
        out = ["stateDiagram-v2", "    [*] --> draft"]
        for (state, action), target in TRANSITIONS.items():
            if action == Action.APPROVE and self.steps:
                continue
            roles = self.actions.get(action.value)
            label = action.value + (f" ({', '.join(sorted(roles))})" if roles else "")
            out.append(f"    {state.value} --> {target.value}: {label}")
        if self.steps:
            previous = "submitted"
            for s in self.steps:
                cond = []
                if s.min_amount is not None:
                    cond.append(f">= {s.min_amount}")
                if s.max_amount is not None:
                    cond.append(f"<= {s.max_amount}")
                if s.guard:
                    cond.append(f"if {s.guard}")
                node = f"step_{s.name}"
                out.append(f"    {previous} --> {node}: approve by {s.role}"
                           + (f" [{' '.join(cond)}]" if cond else ""))
                previous = node
            out.append(f"    {previous} --> approved: last approval")
        out.append("    closed --> [*]")
        out.append("    cancelled --> [*]")
        return "\n".join(out)


def lifecycle_data() -> list[dict[str, str]]:
    """The core transition table as plain data (for export)."""
    return [{"from": s.value, "action": a.value, "to": t.value}
            for (s, a), t in TRANSITIONS.items()]

