"""Approvals as data (审批流): steps, roles, amount thresholds and named guards.

A workflow is plain data — a dict or JSON a low-code platform can store — layered on the frozen
core lifecycle (:mod:`jxc_core.documents.lifecycle`). It is checked when loaded: an unknown
state, action or document type, a step that can never apply (its amount range is empty, or a
bound is negative), a guard name that is not registered, a duplicate step, a step with no role,
and a value of the wrong type (a role that is not a string, ``doc_types`` given as one string,
``actions`` as a list, a float amount, ...) are errors (``invalid_workflow``, with ``field``
naming the value at fault). Nothing is converted: ``str(["a", "b"])`` never becomes a role.
An optional key given as ``null`` is the same as an absent one.

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
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from jxc_core.documents.lifecycle import CLOSABLE, TRANSITIONS, Action, State, offered_actions
from jxc_core.documents.model import DocType, Document
from jxc_core.errors import JxcError
from jxc_core.values import check_text

__all__ = ["Step", "User", "Workflow", "lifecycle_data"]

Guard = Callable[[Document], bool]


def _roles(raw: Iterable[str]) -> frozenset[str]:
    """``User.roles``: any iterable of non-empty strings, kept as a frozenset. A bare string
    (or bytes) is refused, not split into characters or matched as a substring; so are a
    mapping, a member that is not a string and a blank one (no workflow role is blank)."""
    def bad(reason: str, zh: str) -> JxcError:
        return JxcError("configuration", field="roles", reason=f"roles {reason}",
                        reason_zh=f"roles（角色）{zh}")

    if isinstance(raw, (str, bytes, bytearray)):
        raise bad(f"must be a set or list of role names, not the single {type(raw).__name__} "
                  f"{raw!r}", f"须为角色名的集合或列表，不能是单个 {type(raw).__name__} {raw!r}")
    if isinstance(raw, Mapping):
        raise bad(f"must be a set or list of role names, not a mapping {raw!r}",
                  f"须为角色名的集合或列表，不能是映射 {raw!r}")
    try:
        members = list(raw)
    except TypeError:
        raise bad(f"must be a set or list of role names, got {raw!r}",
                  f"须为角色名的集合或列表，实际为 {raw!r}") from None
    for i, role in enumerate(members):
        if not isinstance(role, str) or not role.strip():
            raise bad(f"must be non-empty strings, got {role!r}",
                      f"须为非空字符串，实际为 {role!r}")
        check_text(role, f"roles[{i}]")  # a lone surrogate: invalid_text, as every store says
    return frozenset(members)


def _user_name(_: object, __: attrs.Attribute[Any], name: object) -> None:
    """``User.name`` is a str (else ``TypeError``) that a store can keep (else
    ``invalid_text``): it is written into every action it takes."""
    check_text(name, "name")


@attrs.frozen(slots=True)
class User:
    """Who acts, with the roles they hold. ``roles`` takes any iterable of non-empty strings
    (a set, a list, a tuple) and keeps a frozenset; a bare string, a mapping, a member that is
    not a string or a blank one is a ``configuration`` error with ``field="roles"``. ``name``
    is a str (``User(None)``, ``User(5)``: ``TypeError``); a name or a role with a lone
    surrogate is ``invalid_text``."""

    name: str = attrs.field(validator=_user_name)
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)


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


def _bad(reason: str, zh: str, field: str | None = None) -> JxcError:
    """``invalid_workflow`` with its reason in English and in Chinese."""
    if field is None:
        return JxcError("invalid_workflow", reason=reason, reason_zh=zh)
    return JxcError("invalid_workflow", reason=reason, reason_zh=zh, field=field)


def _text(raw: object, field: str, why: str = "") -> str:
    """A required non-empty string: absent, ``null`` or blank is missing; any other type is
    refused, never converted with ``str()``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise _bad(f"{field} is required{why}", f"缺少 {field}{_WHY_ZH.get(why, '')}", field)
    if not isinstance(raw, str):
        raise _bad(f"{field} must be a non-empty string, got {raw!r}",
                   f"{field} 须为非空字符串，实际为 {raw!r}", field)
    return raw


def _name(raw: object, field: str) -> str:
    """A non-empty string inside a list or under an optional key (a role, a guard)."""
    if not isinstance(raw, str) or not raw.strip():
        raise _bad(f"{field} must be a non-empty string, got {raw!r}",
                   f"{field} 须为非空字符串，实际为 {raw!r}", field)
    return raw


def _list(raw: object, field: str, what: str) -> list[Any] | tuple[Any, ...]:
    """A list (a tuple too, in Python data): not a string, not a mapping."""
    if not isinstance(raw, (list, tuple)):
        raise _bad(f"{field} must be a list of {what}, got {raw!r}",
                   f"{field} 须为列表，实际为 {raw!r}", field)
    return raw


def _unknown(keys: set[Any]) -> list[Any]:
    return sorted(keys, key=repr)  # keys of any type (a number, None) sort and print


def _amount(raw: object, field: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, (float, bool)) or not isinstance(raw, (str, int, Decimal)):
        raise _bad(f"{field}: amounts are strings or ints, got {raw!r}",
                   f"{field}：金额须为字符串或整数，实际为 {raw!r}", field)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _bad(f"{field}: {raw!r} is not a number", f"{field}：{raw!r} 不是数字",
                   field) from None
    if not value.is_finite():
        raise _bad(f"{field}: {raw!r} is not finite", f"{field}：{raw!r} 不是有限数", field)
    if value < 0:
        raise _bad(f"{field}: {raw!r} is negative (a gross amount is never below zero)",
                   f"{field}：{raw!r} 为负数（含税金额不会小于零）", field)
    return value


#: the Chinese of the explanations that follow "is required"
_WHY_ZH = {": a step needs a name and a role": "：审批步骤需要名称和角色"}

_ACTIONS = frozenset(a.value for a in Action) - {"approve", "reject"}
_STATES = frozenset(s.value for s in State)
_DOC_TYPES = frozenset(t.value for t in DocType)


def _parse(data: Mapping[str, Any], guards: Mapping[str, Guard] | None
           ) -> tuple[str, tuple[str, ...], tuple[Step, ...], dict[str, frozenset[str]],
                      Mapping[str, Guard]]:
    """The checked parts of a workflow given as data (:meth:`Workflow.from_data`)."""
    guards = guards or {}
    if not isinstance(guards, Mapping):
        raise _bad("guards is a mapping of name to a callable(document) -> bool",
                   "guards 须为名称到 callable(document) -> bool 的映射", field="guards")
    for key, fn in guards.items():
        if not isinstance(key, str) or not callable(fn):
            raise _bad(f"guards[{key!r}] must be a callable(document) -> bool, got "
                       f"{type(fn).__name__}",
                       f"guards[{key!r}] 须为 callable(document) -> bool，实际为 "
                       f"{type(fn).__name__}", field=f"guards.{key}")
    if not isinstance(data, Mapping):
        raise _bad("a workflow is a mapping", "审批流须为映射")
    unknown = set(data) - {"name", "doc_types", "steps", "actions"}
    if unknown:
        raise _bad(f"unknown keys {_unknown(unknown)}", f"未知的键 {_unknown(unknown)}")
    name = _text(data.get("name"), "name")
    doc_types: list[str] = []
    raw_types = data.get("doc_types")
    if raw_types is not None:
        for i, kind in enumerate(_list(raw_types, "doc_types", "document types")):
            field = f"doc_types[{i}]"
            if _name(kind, field) not in _DOC_TYPES:
                raise _bad(f"{field}: unknown document type {kind!r}",
                           f"{field}：未知的单据类型 {kind!r}", field)
            doc_types.append(DocType(kind).value)
    actions: dict[str, frozenset[str]] = {}
    raw_actions = data.get("actions")
    if raw_actions is not None and not isinstance(raw_actions, Mapping):
        raise _bad("actions must be a mapping of action to a list of roles, "
                   f"got {raw_actions!r}",
                   f"actions 须为动作到角色列表的映射，实际为 {raw_actions!r}", "actions")
    for action, roles in (raw_actions or {}).items():
        if not isinstance(action, str) or action not in _ACTIONS:
            raise _bad(f"actions: unknown action {action!r} (approve/reject belong to steps)",
                       f"actions：未知的动作 {action!r}（approve/reject 属于审批步骤）",
                       "actions")
        field = f"actions.{action}"
        if not isinstance(roles, (list, tuple)) or not roles:
            raise _bad(f"{field} needs a list of roles, got {roles!r}",
                       f"{field} 需要角色列表，实际为 {roles!r}", field)
        actions[action] = frozenset(_name(r, f"{field}[{j}]") for j, r in enumerate(roles))
    steps: list[Step] = []
    raw_steps = data.get("steps")
    for i, raw in enumerate(() if raw_steps is None
                            else _list(raw_steps, "steps", "steps (mappings)")):
        where = f"steps[{i}]"
        if not isinstance(raw, Mapping):
            raise _bad(f"{where} is not a mapping", f"{where} 不是映射", where)
        extra = set(raw) - {"name", "role", "min_amount", "max_amount", "guard", "state"}
        if extra:
            raise _bad(f"{where}: unknown keys {_unknown(extra)}",
                       f"{where}：未知的键 {_unknown(extra)}")
        state = raw.get("state")
        if state is not None:
            _name(state, f"{where}.state")
            if state not in _STATES:
                raise _bad(f"{where}.state: unknown state {state!r}",
                           f"{where}.state：未知的状态 {state!r}", f"{where}.state")
            if state != State.SUBMITTED.value:
                raise _bad(f"{where}.state: approval steps act on submitted documents, "
                           f"not {state!r}",
                           f"{where}.state：审批步骤作用于已提交的单据，不是 {state!r}",
                           f"{where}.state")
        why = ": a step needs a name and a role"
        guard = raw.get("guard")
        step = Step(
            name=_text(raw.get("name"), f"{where}.name", why),
            role=_text(raw.get("role"), f"{where}.role", why),
            min_amount=_amount(raw.get("min_amount"), f"{where}.min_amount"),
            max_amount=_amount(raw.get("max_amount"), f"{where}.max_amount"),
            guard=None if guard is None else _name(guard, f"{where}.guard"),
        )
        if any(s.name == step.name for s in steps):
            raise _bad(f"{where}.name: duplicate step {step.name!r}",
                       f"{where}.name：步骤 {step.name!r} 重复", f"{where}.name")
        if (step.min_amount is not None and step.max_amount is not None
                and step.min_amount > step.max_amount):
            raise _bad(f"{where}: step {step.name!r} is unreachable "
                       f"(min_amount {step.min_amount} > max_amount {step.max_amount})",
                       f"{where}：步骤 {step.name!r} 永远不会被执行"
                       f"（min_amount {step.min_amount} > max_amount {step.max_amount}）",
                       where)
        if step.guard is not None and step.guard not in guards:
            raise _bad(f"{where}.guard: guard {step.guard!r} is not registered",
                       f"{where}.guard：条件 {step.guard!r} 未注册", f"{where}.guard")
        steps.append(step)
    return name, tuple(doc_types), tuple(steps), actions, guards


class Workflow:
    """A validated approval workflow. Build it with :meth:`from_data` or :meth:`from_json`,
    or in code: ``Workflow(name, doc_types=(), steps=(), actions=None, guards=None)`` with
    :class:`Step` objects and ``actions`` mapping an action to its roles — checked as the
    data form is (``invalid_workflow``), so no workflow in use has skipped the checks."""

    def __init__(self, name: str, doc_types: Iterable[str] = (), steps: Iterable[Step] = (),
                 actions: Mapping[str, Iterable[str]] | None = None,
                 guards: Mapping[str, Guard] | None = None) -> None:
        step_data: list[Any] = []
        for i, step in enumerate(() if isinstance(steps, (str, Mapping)) else steps):
            if not isinstance(step, Step):
                raise _bad(f"steps[{i}] must be a Step, got {step!r}",
                           f"steps[{i}] 须为 Step，实际为 {step!r}", f"steps[{i}]")
            step_data.append({"name": step.name, "role": step.role,
                              "min_amount": step.min_amount, "max_amount": step.max_amount,
                              "guard": step.guard})
        data: dict[str, Any] = {
            "name": name,
            "doc_types": (doc_types if isinstance(doc_types, (str, Mapping))
                          else list(doc_types)),  # one string stays one: refused
            "steps": steps if isinstance(steps, (str, Mapping)) else step_data,
        }
        if actions is not None:
            data["actions"] = (actions if not isinstance(actions, Mapping) else
                               {a: (r if isinstance(r, str) else sorted(r, key=repr) if
                                    isinstance(r, (set, frozenset)) else list(r))
                                for a, r in actions.items()})
        self._set(*_parse(data, guards))

    def _set(self, name: str, doc_types: tuple[str, ...], steps: tuple[Step, ...],
             actions: dict[str, frozenset[str]], guards: Mapping[str, Guard]) -> None:
        self.name = name
        self.doc_types = doc_types
        self.steps = steps
        self.actions = actions
        self.guards = dict(guards)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], guards: Mapping[str, Guard] | None = None
                  ) -> Workflow:
        """Load and check a workflow given as data (see the module docstring); a bad one is
        refused with ``invalid_workflow`` (``reason``, and ``field`` for a value at fault)."""
        wf = cls.__new__(cls)
        wf._set(*_parse(data, guards))
        return wf

    @classmethod
    def from_json(cls, text: str, guards: Mapping[str, Guard] | None = None) -> Workflow:
        """:meth:`from_data` of a JSON text; text that is not JSON is ``invalid_workflow``."""
        try:
            data = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8/16/32
            raise _bad(f"not valid JSON: {exc}", f"不是有效的 JSON：{exc}") from None
        return cls.from_data(data, guards)

    # -- decisions ------------------------------------------------------------------------
    def pending_steps(self, doc: Document) -> list[Step]:
        """Steps that apply to ``doc`` and are not approved yet, in order."""
        return [s for s in self.steps
                if s.applies(doc, self.guards) and s.name not in doc.approvals_done]

    def allowed(self, doc: Document, user: User, action: str) -> bool:
        """May ``user`` take ``action`` on ``doc`` now? An action that is not one of the
        lifecycle's is ``invalid_transition`` naming the document's state and the action."""
        state = State(doc.state)
        try:
            action = Action(action).value
        except (ValueError, TypeError):
            raise JxcError("invalid_transition", state=state.value, action=str(action)) from None
        if action in ("approve", "reject"):
            if state != State.SUBMITTED:
                return False
            pending = self.pending_steps(doc)
            if not pending:
                return action == "approve"  # no step applies: approval is automatic
            return pending[0].role in user.roles
        if Action(action) not in offered_actions(state, doc.doc_type):
            return False  # not from this state, or close of a document that is no order
        roles = self.actions.get(action)
        return roles is None or bool(roles & user.roles)

    def available_actions(self, doc: Document, user: User) -> list[str]:
        """What a UI should offer ``user`` for ``doc`` now."""
        candidates = [a.value for a in offered_actions(doc.state, doc.doc_type)]
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
        """The lifecycle with this workflow's approval steps, as a Mermaid state diagram.

        The core states keep their names as ids. A step's name is free text (a space, a
        hyphen, Chinese), so each step gets a generated id, ``s0``, ``s1``, ... in step order,
        declared once with ``state "<name>" as s0``; in names, roles and guards a line break
        is written as a space and ``"``, ``;``, ``:``, ``#`` as Mermaid's entity codes
        (``#quot;``, ``#59;``, ``#58;``, ``#35;``). A step with a condition (an amount bound or
        a guard) is skipped when it does not apply, so each node also leads past the
        conditional steps after it (all of them conditional: ``submitted --> approved``, one
        approval with no step applying); from every step node, as from ``submitted``, the
        document may be rejected or cancelled."""
        out = ["stateDiagram-v2", "    [*] --> draft"]
        # ``close`` only where an order may take it: a workflow for receipts or invoices only
        # does not draw it (one for no type in particular, or for an order, does)
        closable = not self.doc_types or any(t in CLOSABLE for t in self.doc_types)
        for (state, action), target in TRANSITIONS.items():
            if action == Action.APPROVE and self.steps:
                continue
            if action == Action.CLOSE and not closable:
                continue
            roles = self.actions.get(action.value)
            label = action.value + (
                f" ({', '.join(_mermaid_text(r) for r in sorted(roles))})" if roles else "")
            out.append(f"    {state.value} --> {target.value}: {label}")
        if self.steps:
            for i, s in enumerate(self.steps):
                out.append(f'    state "{_mermaid_text(s.name)}" as s{i}')
            labels = []
            for s in self.steps:
                cond = []
                if s.min_amount is not None:
                    cond.append(f">= {s.min_amount}")
                if s.max_amount is not None:
                    cond.append(f"<= {s.max_amount}")
                if s.guard:
                    cond.append(f"if {_mermaid_text(s.guard)}")
                labels.append(f"approve by {_mermaid_text(s.role)}"
                              + (f" [{' '.join(cond)}]" if cond else ""))
            # a step with a condition may not apply to a document: it is skipped at run time,
            # so each node also leads past the conditional steps that follow it
            skippable = [s.min_amount is not None or s.max_amount is not None or bool(s.guard)
                         for s in self.steps]
            n = len(self.steps)
            for a in range(-1, n):
                source = "submitted" if a < 0 else f"s{a}"
                for b in range(a + 1, n + 1):
                    if b < n:
                        out.append(f"    {source} --> s{b}: {labels[b]}")
                    else:
                        out.append(f"    {source} --> approved: " + (
                            "approve (no step applies)" if a < 0 else "last approval"))
                    if b < n and not skippable[b]:
                        break
            for i in range(n):  # between steps the document is submitted: reject, cancel
                for action in (Action.REJECT, Action.CANCEL):
                    roles = self.actions.get(action.value)
                    target = TRANSITIONS[(State.SUBMITTED, action)]
                    out.append(f"    s{i} --> {target.value}: {action.value}" + (
                        f" ({', '.join(_mermaid_text(r) for r in sorted(roles))})"
                        if roles else ""))
        if closable:
            out.append("    closed --> [*]")
        out.append("    cancelled --> [*]")
        return "\n".join(out)


#: what a name, role or guard may hold that Mermaid would read as syntax, as its entity code:
#: ``"`` ends a quoted name, ``;`` ends a statement, ``:`` starts a label, ``#`` an entity
_MERMAID_ENTITIES = str.maketrans({'"': "#quot;", ";": "#59;", ":": "#58;", "#": "#35;"})


def _mermaid_text(text: str) -> str:
    """A name, role or guard inside a Mermaid diagram: a line break becomes a space (it would
    end the statement) and the characters Mermaid reads as syntax their entity codes."""
    return " ".join(text.splitlines()).translate(_MERMAID_ENTITIES)


def lifecycle_data(doc_type: str | None = None) -> list[dict[str, str]]:
    """The core transition table as plain data (for export). For ``doc_type`` the transitions
    that type may take: ``close`` only for an order (:data:`CLOSABLE`)."""
    return [{"from": s.value, "action": a.value, "to": t.value}
            for (s, a), t in TRANSITIONS.items()
            if doc_type is None or a != Action.CLOSE or doc_type in CLOSABLE]

