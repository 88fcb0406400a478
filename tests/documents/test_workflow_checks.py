"""Approvals as data, checked at the edges: step names of any text give a valid Mermaid
diagram, ``User.roles`` is a set of role names (never a string matched by substring), an
unknown action is ``invalid_transition``, and a negative amount bound is refused at load."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import Action, DocType, Document, Line, State, User, Workflow
from jxc_core.errors import JxcError

D = Decimal

#: an id of a Mermaid state: a core state name, a generated step id, or [*]
MERMAID_ID = re.compile(r"[A-Za-z0-9_\[\]*]+")
TRANSITION = re.compile(r"^    (\S+) --> (\S+)(?:: .*)?$")


def submitted(price: str = "100") -> Document:
    return Document(DocType.PURCHASE_ORDER, "X", lines=(Line(1, "A", D(1), D(price)),),
                    state=State.SUBMITTED)


# -- to_mermaid: generated ids for steps ----------------------------------------------------

NAMES = ("first check", "cfo-review", "财务审批")


def chart_of(*names: str) -> list[str]:
    wf = Workflow.from_data({"name": "w", "steps": [
        {"name": n, "role": f"role{i}", **({"min_amount": "10"} if i == 1 else {})}
        for i, n in enumerate(names)]})
    return wf.to_mermaid().splitlines()


def test_step_names_of_any_text_give_ids_mermaid_accepts() -> None:
    chart = chart_of(*NAMES)
    transitions = [line for line in chart if "-->" in line]
    assert transitions
    for line in transitions:
        found = TRANSITION.match(line)
        assert found, line
        for node in found.groups():
            assert MERMAID_ID.fullmatch(node), line
    for i, name in enumerate(NAMES):
        declared = [line for line in chart if f'"{name}"' in line]
        assert declared == [f'    state "{name}" as s{i}']
    assert "    submitted --> s0: approve by role0" in chart
    assert "    s0 --> s1: approve by role1 [>= 10]" in chart
    assert "    s1 --> s2: approve by role2" in chart
    assert "    s2 --> approved: last approval" in chart


def test_a_double_quote_in_a_step_name_is_escaped() -> None:
    chart = chart_of('say "yes"', "a\nb")
    assert '    state "say #quot;yes#quot;" as s0' in chart
    assert '    state "a b" as s1' in chart  # a line break would end the statement
    assert all(line.count('"') in (0, 2) for line in chart)


def test_the_core_states_are_drawn_as_before() -> None:
    chart = chart_of("manager")
    assert chart[:2] == ["stateDiagram-v2", "    [*] --> draft"]
    assert chart[-2:] == ["    closed --> [*]", "    cancelled --> [*]"]
    assert "    draft --> submitted: submit" in chart
    assert not any("step_" in line for line in chart)


# -- User.roles: a set of role names ---------------------------------------------------------

def gen() -> Iterator[str]:
    yield from ("cfo", "buyer")


@pytest.mark.parametrize("roles", [["cfo", "buyer"], ("cfo", "buyer", "cfo"),
                                   {"cfo", "buyer"}, frozenset({"cfo", "buyer"}), gen()],
                         ids=["list", "tuple", "set", "frozenset", "generator"])
def test_roles_of_any_iterable_are_kept_as_a_frozenset(roles: Any) -> None:
    user = User("u", roles=roles)
    assert user.roles == frozenset({"cfo", "buyer"})
    assert type(user.roles) is frozenset
    assert user == User("u", frozenset({"buyer", "cfo"}))
    assert User("u").roles == frozenset()


def test_a_list_of_roles_approves_its_step() -> None:
    wf = Workflow.from_data({"name": "w", "actions": {"cancel": ["cfo"]},
                             "steps": [{"name": "finance", "role": "cfo"}]})
    cfo = User("u", roles=["cfo"])
    assert wf.allowed(submitted(), cfo, "approve")
    assert wf.allowed(submitted(), cfo, "cancel")  # roles & user.roles: a TypeError on a list
    assert wf.available_actions(submitted(), cfo) == ["approve", "reject", "cancel"]


#: (id, roles, words of the reason)
BAD_ROLES: list[tuple[str, Any, str]] = [
    ("bare_str", "cfo_assistant", "not the single str 'cfo_assistant'"),
    ("bare_bytes", b"cfo", "not the single bytes"),
    ("mapping", {"cfo": False}, "not a mapping"),
    ("not_iterable", 5, "got 5"),
    ("none", None, "got None"),
    ("member_not_a_str", ["cfo", 7], "got 7"),
    ("member_a_list", [["cfo"]], "got ['cfo']"),
    ("member_empty", ["cfo", ""], "got ''"),
    ("member_blank", frozenset({" "}), "got ' '"),
]


@pytest.mark.parametrize(("roles", "words"), [(r, w) for _, r, w in BAD_ROLES],
                         ids=[i for i, _, _ in BAD_ROLES])
def test_bad_roles_are_a_configuration_error(roles: Any, words: str) -> None:
    with pytest.raises(JxcError) as err:
        User("u", roles=roles)
    assert err.value.code == "configuration"
    assert err.value.data["field"] == "roles"
    assert words in err.value.data["reason"]
    assert err.value.data["reason"].startswith("roles")
    assert "配置无效" in err.value.message("zh_CN")


def test_a_bare_str_role_never_approves_by_substring() -> None:
    # "cfo" in "cfo_assistant" is True: the assistant would have approved the CFO's step
    with pytest.raises(JxcError) as err:
        User("u", roles="cfo_assistant")
    assert (err.value.code, err.value.data["field"]) == ("configuration", "roles")
    wf = Workflow.from_data({"name": "w", "steps": [{"name": "finance", "role": "cfo"}]})
    assert not wf.allowed(submitted(), User("u", roles=["cfo_assistant"]), "approve")


# -- allowed: an unknown action ---------------------------------------------------------------

@pytest.mark.parametrize("action", ["archive", "Approve", "", 5, None])
def test_an_unknown_action_is_invalid_transition(action: Any) -> None:
    wf = Workflow.from_data({"name": "w", "steps": [{"name": "finance", "role": "cfo"}]})
    with pytest.raises(JxcError) as err:
        wf.allowed(submitted(), User("u", {"cfo"}), action)
    assert err.value.code == "invalid_transition"
    assert err.value.data == {"state": "submitted", "action": str(action)}
    draft = Document(DocType.PURCHASE_ORDER, "X")
    with pytest.raises(JxcError) as err:
        wf.allowed(draft, User("u", {"cfo"}), action)
    assert err.value.data == {"state": "draft", "action": str(action)}


def test_known_actions_are_answered_as_before() -> None:
    wf = Workflow.from_data({"name": "w", "steps": [{"name": "finance", "role": "cfo"}]})
    cfo = User("u", {"cfo"})
    assert wf.allowed(submitted(), cfo, Action.APPROVE)
    assert wf.allowed(submitted(), cfo, "reject")
    assert not wf.allowed(submitted(), cfo, "post")  # not in the table from submitted


# -- from_data: negative amount bounds ---------------------------------------------------------

@pytest.mark.parametrize(("steps", "field"), [
    ([{"name": "s", "role": "r", "max_amount": "-1"}], "steps[0].max_amount"),
    ([{"name": "s", "role": "r", "min_amount": -100}], "steps[0].min_amount"),
    ([{"name": "s", "role": "r", "min_amount": D("-0.01"), "max_amount": "5"}],
     "steps[0].min_amount"),
    ([{"name": "s", "role": "r"}, {"name": "t", "role": "r", "max_amount": "-5"}],
     "steps[1].max_amount"),
    ([{"name": "s", "role": "r", "min_amount": "-10", "max_amount": "-1"}],
     "steps[0].min_amount"),
], ids=["max", "min_int", "min_decimal", "second_step", "both"])
def test_a_negative_amount_bound_is_invalid_workflow(steps: list[dict[str, Any]],
                                                     field: str) -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_data({"name": "w", "steps": steps})
    assert err.value.code == "invalid_workflow"
    assert err.value.data["field"] == field
    assert err.value.data["reason"].startswith(f"{field}: ")
    assert "negative" in err.value.data["reason"]
    assert "审批流定义无效" in err.value.message("zh_CN")


def test_a_zero_bound_is_accepted() -> None:
    wf = Workflow.from_data({"name": "w", "steps": [
        {"name": "s", "role": "r", "min_amount": "0", "max_amount": 0}]})
    assert (wf.steps[0].min_amount, wf.steps[0].max_amount) == (D(0), D(0))


# -- to_mermaid: syntax in roles and guards, the paths past conditional steps -----------------
def test_syntax_in_roles_guards_and_names_is_written_as_entities() -> None:
    """``;`` ends a Mermaid statement, ``:`` starts a label, ``#`` starts an entity: in a role,
    a guard or a step name each is written as its entity code, so no line breaks apart."""
    wf = Workflow.from_data({"name": "w", "actions": {"submit": ["buyer; clerk"]},
                             "steps": [{"name": "a:b #1", "role": "cfo; x", "guard": "g:1"}]},
                            guards={"g:1": lambda doc: True})
    chart = wf.to_mermaid().splitlines()
    assert '    state "a#58;b #35;1" as s0' in chart
    assert "    submitted --> s0: approve by cfo#59; x [if g#58;1]" in chart
    assert "    draft --> submitted: submit (buyer#59; clerk)" in chart
    for line in chart[1:]:  # one statement per line, one label after the first ": "
        assert ";" not in line.replace("#59;", "").replace("#58;", "").replace(
            "#35;", "").replace("#quot;", ""), line
        if "-->" in line:
            assert TRANSITION.match(line), line
            assert ":" not in line.split(": ", 1)[-1].replace("#58;", ""), line


def test_the_chart_leads_past_conditional_steps() -> None:
    """Steps: a (always), b (from 100), c (if a guard), d (always). Approved by a, the
    document goes to b, or past b to c, or past both to d; nothing leads past d. With only
    conditional steps one approval may approve it at once. Every step node may be rejected or
    cancelled, as ``submitted`` may."""
    wf = Workflow.from_data({"name": "w", "steps": [
        {"name": "a", "role": "ra"}, {"name": "b", "role": "rb", "min_amount": "100"},
        {"name": "c", "role": "rc", "guard": "g"}, {"name": "d", "role": "rd"}]},
        guards={"g": lambda doc: True})
    edges = {tuple(TRANSITION.match(line).groups()) for line in wf.to_mermaid().splitlines()
             if "-->" in line and TRANSITION.match(line)}
    steps = {("submitted", "s0"), ("s0", "s1"), ("s0", "s2"), ("s0", "s3"), ("s1", "s2"),
             ("s1", "s3"), ("s2", "s3"), ("s3", "approved")}
    among = {(a, b) for a, b in edges if a in {"submitted", "s0", "s1", "s2", "s3"}
             and b in {"s0", "s1", "s2", "s3", "approved"}}
    assert among == steps
    for node in ("s0", "s1", "s2", "s3"):
        assert {(node, "draft"), (node, "cancelled")} <= edges
    only_conditional = Workflow.from_data({"name": "w", "steps": [
        {"name": "big", "role": "cfo", "min_amount": "5000"}]}).to_mermaid().splitlines()
    assert "    submitted --> approved: approve (no step applies)" in only_conditional
    assert "    s0 --> approved: last approval" in only_conditional


def test_a_workflow_made_in_code_with_a_set_of_mixed_roles_is_refused_as_data_would_be() -> None:
    with pytest.raises(JxcError) as e:
        Workflow("w", actions={"submit": {"buyer", 5}})  # type: ignore[arg-type]
    assert e.value.code == "invalid_workflow"
    assert e.value.data["field"].startswith("actions.submit[")
