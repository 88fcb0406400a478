"""Approvals as data (domain rules 5): loading and checking, available actions, steps by amount
and guard, not_allowed, reject, the action history, JSON and Mermaid export."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import DocType, Document, Line, State, Step, User, Workflow, workflow
from jxc_core.errors import JxcError
from jxc_core.services import Documents

from .support import Shop, TickingClock

D = Decimal

BUYER = User("bob", frozenset({"buyer"}))
MANAGER = User("mia", frozenset({"manager"}))
CFO = User("carl", frozenset({"cfo"}))
NOBODY = User("nobody")


def new_supplier(doc: Document) -> bool:
    return bool(doc.attributes.get("new_supplier"))


GUARDS = {"new_supplier": new_supplier}


def example() -> dict[str, Any]:
    """The example of the workflow module docstring, parsed from the docstring itself."""
    doc = workflow.__doc__ or ""
    text = doc.split("Example::", 1)[1].split("A submitted document", 1)[0]
    data: dict[str, Any] = json.loads(text)
    return data


def shop_with(shop: Shop, wf: Workflow) -> Shop:
    return Shop(shop.jxc, Documents(shop.jxc, workflows={"purchase_order": wf}))


def po(shop: Shop, price: str, tax: str = "0", *, new: bool = True) -> Document:
    """A purchase order of one line: 1 x price at tax (without tax)."""
    return shop.make("purchase_order", [Line(1, "A", D(1), D(price), D(tax), warehouse="W1")],
                     "S1", attributes={"new_supplier": new})


@pytest.fixture
def wf() -> Workflow:
    return Workflow.from_data(example(), GUARDS)


def test_loads_the_docstring_example(wf: Workflow) -> None:
    assert wf.name == "purchase"
    assert wf.doc_types == ("purchase_order",)
    assert wf.steps == (
        Step("manager", "manager"),
        Step("finance", "cfo", min_amount=D(50000), guard="new_supplier"),
    )
    assert wf.actions == {"submit": frozenset({"buyer"}), "post": frozenset({"buyer"}),
                          "cancel": frozenset({"buyer", "manager"}),
                          "close": frozenset({"manager"})}


def test_the_example_needs_its_guard_registered() -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_data(example())
    assert err.value.code == "invalid_workflow"
    assert "new_supplier" in err.value.data["reason"]


def step(**kw: Any) -> dict[str, Any]:
    return {"name": "s", "role": "manager", **kw}


#: (id, workflow data, words the reason names)
BAD: list[tuple[str, Any, str]] = [
    ("unknown_key", {"name": "w", "approvers": []}, "unknown keys"),
    ("not_a_mapping", ["name"], "mapping"),
    ("no_name", {"steps": []}, "name"),
    ("unknown_action", {"name": "w", "actions": {"delete": ["x"]}}, "unknown action"),
    ("approve_is_a_step", {"name": "w", "actions": {"approve": ["x"]}}, "unknown action"),
    ("action_without_roles", {"name": "w", "actions": {"post": []}}, "list of roles"),
    ("unknown_step_state", {"name": "w", "steps": [step(state="archived")]}, "unknown state"),
    ("step_on_posted", {"name": "w", "steps": [step(state="posted")]}, "submitted"),
    ("unknown_step_key", {"name": "w", "steps": [step(limit="5")]}, "unknown keys"),
    ("unreachable", {"name": "w", "steps": [step(min_amount="100", max_amount="99.99")]},
     "unreachable"),
    ("unregistered_guard", {"name": "w", "steps": [step(guard="vip")]}, "not registered"),
    ("duplicate_step", {"name": "w", "steps": [step(), step(role="cfo")]}, "duplicate"),
    ("step_without_role", {"name": "w", "steps": [{"name": "s"}]}, "role"),
    ("step_without_name", {"name": "w", "steps": [{"role": "cfo"}]}, "name"),
    ("float_min", {"name": "w", "steps": [step(min_amount=100.5)]}, "strings or ints"),
    ("float_max", {"name": "w", "steps": [step(max_amount=1e3)]}, "strings or ints"),
    ("bool_amount", {"name": "w", "steps": [step(min_amount=True)]}, "strings or ints"),
    ("text_amount", {"name": "w", "steps": [step(min_amount="lots")]}, "not a number"),
    ("infinite_amount", {"name": "w", "steps": [step(max_amount="Infinity")]}, "finite"),
    ("step_not_mapping", {"name": "w", "steps": ["manager"]}, "not a mapping"),
]


@pytest.mark.parametrize(("data", "words"), [(d, w) for _, d, w in BAD],
                         ids=[i for i, _, _ in BAD])
def test_every_load_error_is_invalid_workflow(data: Any, words: str) -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_data(data, GUARDS)
    assert err.value.code == "invalid_workflow"
    assert words in err.value.data["reason"]
    assert err.value.data["reason"].startswith(err.value.data.get("field", ""))
    assert "审批流定义无效" in err.value.message("zh_CN")


#: (id, workflow data, the field at fault): a value of the wrong type is refused, never
#: converted (str(["a", "b"]) as a role, a str of doc_types split into characters)
WRONG_TYPES: list[tuple[str, Any, str]] = [
    ("name_not_a_string", {"name": 5}, "name"),
    ("name_a_list", {"name": ["w"]}, "name"),
    ("actions_a_list", {"name": "w", "actions": ["submit"]}, "actions"),
    ("actions_a_string", {"name": "w", "actions": "submit"}, "actions"),
    ("actions_empty_list", {"name": "w", "actions": []}, "actions"),
    ("action_roles_a_string", {"name": "w", "actions": {"post": "buyer"}}, "actions.post"),
    ("action_role_not_a_string", {"name": "w", "actions": {"post": ["buyer", 7]}},
     "actions.post[1]"),
    ("action_role_a_list", {"name": "w", "actions": {"post": [["buyer"]]}}, "actions.post[0]"),
    ("action_role_blank", {"name": "w", "actions": {"post": [" "]}}, "actions.post[0]"),
    ("doc_types_a_string", {"name": "w", "doc_types": "purchase_order"}, "doc_types"),
    ("doc_types_a_mapping", {"name": "w", "doc_types": {"purchase_order": True}}, "doc_types"),
    ("doc_type_not_a_string", {"name": "w", "doc_types": [1]}, "doc_types[0]"),
    ("doc_type_unknown", {"name": "w", "doc_types": ["purchase_order", "purchse_order"]},
     "doc_types[1]"),
    ("steps_a_mapping", {"name": "w", "steps": step()}, "steps"),
    ("steps_a_string", {"name": "w", "steps": "manager"}, "steps"),
    ("steps_empty_mapping", {"name": "w", "steps": {}}, "steps"),
    ("step_role_a_list", {"name": "w", "steps": [step(role=["a", "b"])]}, "steps[0].role"),
    ("step_role_not_a_string", {"name": "w", "steps": [step(role=5)]}, "steps[0].role"),
    ("step_role_blank", {"name": "w", "steps": [step(role="  ")]}, "steps[0].role"),
    ("step_name_not_a_string", {"name": "w", "steps": [step(name=1)]}, "steps[0].name"),
    ("step_guard_a_list", {"name": "w", "steps": [step(guard=["new_supplier"])]},
     "steps[0].guard"),
    ("step_guard_blank", {"name": "w", "steps": [step(guard="")]}, "steps[0].guard"),
    ("step_state_a_list", {"name": "w", "steps": [step(state=["submitted"])]},
     "steps[0].state"),
    ("min_amount_a_float", {"name": "w", "steps": [step(min_amount=100.5)]},
     "steps[0].min_amount"),
    ("max_amount_a_list", {"name": "w", "steps": [step(), step(name="t", max_amount=["5"])]},
     "steps[1].max_amount"),
    ("min_amount_not_a_number", {"name": "w", "steps": [step(min_amount="5k")]},
     "steps[0].min_amount"),
]


@pytest.mark.parametrize(("data", "field"), [(d, f) for _, d, f in WRONG_TYPES],
                         ids=[i for i, _, _ in WRONG_TYPES])
def test_a_wrong_type_is_invalid_workflow_naming_the_field(data: Any, field: str) -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_data(data, GUARDS)
    assert err.value.code == "invalid_workflow"
    assert err.value.data["field"] == field
    assert err.value.data["reason"].startswith(field)
    assert "审批流定义无效" in err.value.message("zh_CN")


def test_actions_given_as_a_list_is_refused_not_an_attribute_error() -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_data({"name": "w", "actions": ["submit"]})
    assert err.value.code == "invalid_workflow"
    assert err.value.data["reason"] == (
        "actions must be a mapping of action to a list of roles, got ['submit']")


def test_a_step_has_one_role_a_list_is_refused() -> None:
    # the format gives a step one role (docs/approvals.md): a list would have loaded as the
    # role "['a', 'b']", which no user holds, and the step could never be approved
    with pytest.raises(JxcError) as err:
        Workflow.from_data({"name": "w", "steps": [step(role=["a", "b"])]})
    assert err.value.data["reason"] == (
        "steps[0].role must be a non-empty string, got ['a', 'b']")


def test_doc_types_are_known_document_types() -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_data({"name": "w", "doc_types": "purchase_order"})
    assert err.value.data["reason"] == (
        "doc_types must be a list of document types, got 'purchase_order'")
    wf = Workflow.from_data({"name": "w", "doc_types": ["purchase_order", DocType.DELIVERY]})
    assert wf.doc_types == ("purchase_order", "delivery")


def test_unknown_keys_of_any_type_are_reported() -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_data({"name": "w", 1: "x", "owner": "y"})
    assert err.value.data["reason"] == "unknown keys ['owner', 1]"
    with pytest.raises(JxcError) as err:
        Workflow.from_data({"name": "w", "steps": [step(when=1)]})
    assert err.value.data["reason"] == "steps[0]: unknown keys ['when']"


def test_null_optional_keys_are_absent_ones() -> None:
    wf = Workflow.from_data({"name": "w", "doc_types": None, "actions": None, "steps": [
        step(min_amount=None, max_amount=None, guard=None, state=None)]})
    assert (wf.doc_types, wf.actions, wf.steps) == ((), {}, (Step("s", "manager"),))
    assert Workflow.from_data({"name": "w", "steps": None}).steps == ()


def test_lists_may_be_tuples_in_python_data() -> None:
    wf = Workflow.from_data({"name": "w", "doc_types": ("purchase_order",),
                             "actions": {"post": ("buyer",)}, "steps": (step(),)})
    assert wf.doc_types == ("purchase_order",)
    assert wf.actions == {"post": frozenset({"buyer"})}
    assert wf.steps == (Step("s", "manager"),)


@pytest.mark.parametrize("text", ['{"name": "w",', "", "[1, 2", b"\xff"])
def test_text_that_is_not_json_is_invalid_workflow(text: Any) -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_json(text)
    assert err.value.code == "invalid_workflow"
    assert err.value.data["reason"].startswith("not valid JSON")


def test_bad_json_text_is_refused_too() -> None:
    with pytest.raises(JxcError) as err:
        Workflow.from_json('{"name": "w", "steps": [{"name": "a", "role": "r", '
                           '"min_amount": 1.5}]}')
    assert err.value.code == "invalid_workflow"


def test_equal_min_and_max_is_reachable() -> None:
    wf = Workflow.from_data({"name": "w", "steps": [step(min_amount="100", max_amount=100)]})
    assert wf.steps[0].min_amount == wf.steps[0].max_amount == D(100)


@pytest.mark.parametrize("key", ["purchse_order", "Purchase_Order", "order", "", 1, None])
def test_a_workflow_under_an_unknown_document_type_is_refused(shop: Shop, wf: Workflow,
                                                              key: Any) -> None:
    # a misspelt key would govern no document at all, silently
    with pytest.raises(JxcError) as err:
        Documents(shop.jxc, workflows={key: wf})
    assert err.value.code == "configuration"
    assert err.value.data["field"] == "workflows"
    assert err.value.data["doc_type"] == key
    assert f"unknown document type {key!r}" in err.value.data["reason"]
    assert "配置无效" in err.value.message("zh_CN")


def test_workflows_hold_loaded_workflows(shop: Shop, wf: Workflow) -> None:
    with pytest.raises(JxcError) as err:  # the stored data, not loaded (nor checked)
        Documents(shop.jxc, workflows={"purchase_order": example()})  # type: ignore[dict-item]
    assert err.value.code == "configuration"
    assert err.value.data["doc_type"] == "purchase_order"
    assert "Workflow.from_data" in err.value.data["reason"]
    with pytest.raises(JxcError) as err2:
        Documents(shop.jxc, workflows=[("purchase_order", wf)])  # type: ignore[arg-type]
    assert err2.value.code == "configuration"
    assert err2.value.data["field"] == "workflows"


def test_a_workflow_may_be_registered_under_a_doc_type_member(shop: Shop, wf: Workflow) -> None:
    docs = Documents(shop.jxc, workflows={DocType.PURCHASE_ORDER: wf})
    assert docs.workflows == {"purchase_order": wf}
    doc = po(Shop(shop.jxc, docs), "1.00")
    assert docs.available_actions(doc, MANAGER) == ["cancel"]  # governed: only buyers submit
    assert Documents(shop.jxc).workflows == {}


def test_available_actions_follow_state_and_roles(shop: Shop, wf: Workflow) -> None:
    s = shop_with(shop, wf)
    doc = po(s, "100.00")
    assert s.docs.available_actions(doc, BUYER) == ["submit", "cancel"]
    assert s.docs.available_actions(doc, MANAGER) == ["cancel"]
    assert s.docs.available_actions(doc, NOBODY) == []
    doc = s.docs.submit(doc.doc_id, BUYER)
    assert s.docs.available_actions(doc.doc_id, MANAGER) == ["approve", "reject", "cancel"]
    assert s.docs.available_actions(doc.doc_id, BUYER) == ["cancel"]
    assert s.docs.available_actions(doc.doc_id, CFO) == []
    doc = s.docs.approve(doc.doc_id, MANAGER)
    # "post" is limited to buyers; "cancel" to buyers and managers
    assert s.docs.available_actions(doc, BUYER) == ["post", "cancel"]
    assert s.docs.available_actions(doc, MANAGER) == ["cancel"]
    doc = s.docs.post(doc.doc_id, BUYER)
    assert s.docs.available_actions(doc, MANAGER) == ["close", "cancel"]
    assert s.docs.available_actions(doc, CFO) == []


def test_without_a_workflow_every_transition_is_offered(shop: Shop) -> None:
    doc = po(shop, "1.00")
    assert shop.docs.available_actions(doc, NOBODY) == ["submit", "cancel"]
    doc = shop.docs.submit(doc.doc_id, NOBODY)
    assert shop.docs.available_actions(doc, NOBODY) == ["approve", "reject", "cancel"]


@pytest.mark.parametrize(
    ("price", "tax", "new", "steps"),
    [
        ("100.00", "0", True, ["manager"]),
        ("49999.99", "0", True, ["manager"]),  # below the threshold
        ("50000", "0", True, ["manager", "finance"]),  # the threshold is inclusive
        ("44247.79", "0.13", True, ["manager", "finance"]),  # gross 44247.79 + 5752.21
        ("44247.78", "0.13", True, ["manager"]),  # gross 49999.99
        ("90000", "0", False, ["manager"]),  # the guard says no
    ],
)
def test_steps_apply_by_gross_amount_and_guard(shop: Shop, wf: Workflow, price: str, tax: str,
                                              new: bool, steps: list[str]) -> None:
    s = shop_with(shop, wf)
    doc = s.docs.submit(po(s, price, tax, new=new).doc_id, BUYER)
    assert [x.name for x in wf.pending_steps(doc)] == steps
    users = {"manager": MANAGER, "finance": CFO}
    for n, name in enumerate(steps):
        assert doc.state == State.SUBMITTED
        doc = s.docs.approve(doc.doc_id, users[name])
        assert doc.approvals_done == tuple(steps[: n + 1])
        assert doc.history[-1].step == name
    assert doc.state == State.APPROVED
    assert [h.to_state for h in doc.history] == ["submitted"] * len(steps) + ["approved"]


def test_two_step_approval_in_order(shop: Shop, wf: Workflow) -> None:
    s = shop_with(shop, wf)
    doc = s.docs.submit(po(s, "60000").doc_id, BUYER)
    before = s.snapshot()
    with pytest.raises(JxcError) as err:  # the cfo comes second
        s.docs.approve(doc.doc_id, CFO)
    assert err.value.code == "not_allowed"
    assert err.value.data == {"user": "carl", "action": "approve", "doc_id": doc.doc_id,
                              "state": "submitted"}
    assert s.snapshot() == before
    doc = s.docs.approve(doc.doc_id, MANAGER)
    assert (doc.state, doc.approvals_done) == (State.SUBMITTED, ("manager",))
    with pytest.raises(JxcError) as err2:  # the manager cannot approve twice
        s.docs.approve(doc.doc_id, MANAGER)
    assert err2.value.code == "not_allowed"
    doc = s.docs.approve(doc.doc_id, CFO)
    assert (doc.state, doc.approvals_done) == (State.APPROVED, ("manager", "finance"))


def test_approve_without_the_role_writes_nothing(shop: Shop, wf: Workflow) -> None:
    s = shop_with(shop, wf)
    doc = s.docs.submit(po(s, "10.00").doc_id, BUYER)
    before = s.snapshot()
    for user in (BUYER, CFO, NOBODY):
        with pytest.raises(JxcError) as err:
            s.docs.approve(doc.doc_id, user)
        assert err.value.code == "not_allowed"
        assert err.value.data["user"] == user.name
    assert s.snapshot() == before
    assert s.docs.get(doc.doc_id).history == doc.history
    draft = po(s, "1.00")
    with pytest.raises(JxcError) as err2:
        s.docs.submit(draft.doc_id, MANAGER)  # only buyers submit
    assert err2.value.code == "not_allowed"
    assert s.docs.get(draft.doc_id) == draft


def test_reject_clears_the_approvals(shop: Shop, wf: Workflow) -> None:
    s = shop_with(shop, wf)
    doc = s.docs.submit(po(s, "80000").doc_id, BUYER)
    doc = s.docs.approve(doc.doc_id, MANAGER)
    with pytest.raises(JxcError) as err:  # only the pending step's role may reject
        s.docs.reject(doc.doc_id, MANAGER)
    assert err.value.code == "not_allowed"
    doc = s.docs.reject(doc.doc_id, CFO, comment="price too high")
    assert (doc.state, doc.approvals_done) == (State.DRAFT, ())
    assert [x.name for x in wf.pending_steps(doc)] == ["manager", "finance"]
    doc = s.docs.submit(doc.doc_id, BUYER)
    with pytest.raises(JxcError):
        s.docs.approve(doc.doc_id, CFO)  # the manager must approve again first
    doc = s.docs.approve(doc.doc_id, MANAGER)
    doc = s.docs.approve(doc.doc_id, CFO)
    assert doc.state == State.APPROVED


def test_the_history_records_who_when_what_and_why(shop: Shop, wf: Workflow) -> None:
    s = shop_with(shop, wf)
    clock = s.jxc.clock
    assert isinstance(clock, TickingClock)
    doc = po(s, "70000")
    seen = []
    for action, user, comment in [("submit", BUYER, "please"), ("approve", MANAGER, "ok"),
                                  ("reject", CFO, "no"), ("submit", BUYER, "again"),
                                  ("approve", MANAGER, ""), ("approve", CFO, "fine"),
                                  ("post", BUYER, "")]:
        doc = getattr(s.docs, action)(doc.doc_id, user, comment)
        seen.append(clock.at)
    got = [(h.action, h.user, h.from_state, h.to_state, h.comment, h.step)
           for h in s.docs.get(doc.doc_id).history]
    assert got == [
        ("submit", "bob", "draft", "submitted", "please", ""),
        ("approve", "mia", "submitted", "submitted", "ok", "manager"),
        ("reject", "carl", "submitted", "draft", "no", ""),
        ("submit", "bob", "draft", "submitted", "again", ""),
        ("approve", "mia", "submitted", "submitted", "", "manager"),
        ("approve", "carl", "submitted", "approved", "fine", "finance"),
        ("post", "bob", "approved", "posted", "", ""),
    ]
    assert [h.at for h in doc.history] == seen
    assert seen == sorted(seen)


def test_no_applicable_step_means_automatic_approval(shop: Shop) -> None:
    wf = Workflow.from_data({"name": "big", "steps": [
        {"name": "board", "role": "board", "min_amount": "1000000"}]})
    s = shop_with(shop, wf)
    doc = s.docs.submit(po(s, "5.00").doc_id, NOBODY)
    assert s.docs.available_actions(doc, NOBODY) == ["approve", "cancel"]
    doc = s.docs.approve(doc.doc_id, NOBODY)
    assert doc.state == State.APPROVED
    assert (doc.approvals_done, doc.history[-1].step) == ((), "")


def test_a_max_amount_step_only_for_small_documents(shop: Shop) -> None:
    wf = Workflow.from_data({"name": "w", "steps": [
        {"name": "clerk", "role": "clerk", "max_amount": "999.99"},
        {"name": "boss", "role": "boss", "min_amount": 1000}]})
    small = Document(DocType.PURCHASE_ORDER, "X", lines=(Line(1, "A", D(1), D("999.99")),))
    big = Document(DocType.PURCHASE_ORDER, "Y", lines=(Line(1, "A", D(1), D(1000)),))
    assert [x.name for x in wf.pending_steps(small)] == ["clerk"]
    assert [x.name for x in wf.pending_steps(big)] == ["boss"]
    submitted = Document(DocType.PURCHASE_ORDER, "Y", lines=big.lines, state=State.SUBMITTED)
    assert wf.allowed(submitted, User("b", frozenset({"boss"})), "approve")
    assert not wf.allowed(submitted, User("c", frozenset({"clerk"})), "approve")


def test_json_round_trip(wf: Workflow) -> None:
    again = Workflow.from_json(wf.to_json(), GUARDS)
    assert again.to_data() == wf.to_data()
    assert again.steps == wf.steps
    assert again.actions == wf.actions
    assert json.loads(wf.to_json()) == {
        "name": "purchase", "doc_types": ["purchase_order"],
        "actions": {"cancel": ["buyer", "manager"], "close": ["manager"], "post": ["buyer"],
                    "submit": ["buyer"]},
        "steps": [{"name": "manager", "role": "manager"},
                  {"name": "finance", "role": "cfo", "min_amount": "50000",
                   "guard": "new_supplier"}],
    }


def test_mermaid_shows_the_steps(wf: Workflow) -> None:
    chart = wf.to_mermaid().splitlines()
    assert chart[0] == "stateDiagram-v2"
    # steps get generated ids in step order (names are free text: tests/documents/
    # test_workflow_checks.py draws names with spaces, hyphens and Chinese)
    assert '    state "manager" as s0' in chart
    assert '    state "finance" as s1' in chart
    assert "    submitted --> s0: approve by manager" in chart
    assert "    s0 --> s1: approve by cfo [>= 50000 if new_supplier]" in chart
    assert "    s1 --> approved: last approval" in chart
    assert not any(line.startswith("    submitted --> approved") for line in chart)
    assert "    draft --> submitted: submit (buyer)" in chart
    assert "    posted --> cancelled: cancel (buyer, manager)" in chart
    assert "    submitted --> draft: reject" in chart
    assert "    approved --> posted: post (buyer)" in chart


@pytest.mark.parametrize(("guards", "field"), [
    ({"new_supplier": "not callable"}, "guards.new_supplier"),
    ({"new_supplier": new_supplier, 7: new_supplier}, "guards.7"),
    (["new_supplier"], "guards"),
])
def test_guards_that_cannot_be_called_are_refused_at_load(guards: Any, field: str) -> None:
    """A guard is checked when the workflow is loaded, not when a document first meets it."""
    with pytest.raises(JxcError) as e:
        Workflow.from_data(example(), guards)
    assert e.value.code == "invalid_workflow"
    assert e.value.data["field"] == field
