"""A workflow built in code (``Workflow(...)`` with ``Step`` objects) is checked as one loaded
from data (docs/approvals.md): the same refusals, the same workflow when valid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jxc_core.documents import Step, Workflow
from jxc_core.errors import JxcError

D = Decimal


def refused(**kwargs: Any) -> JxcError:
    args = {"name": "po", "doc_types": ("purchase_order",), **kwargs}
    with pytest.raises(JxcError) as err:
        Workflow(**args)
    assert err.value.code == "invalid_workflow", err.value
    return err.value


def test_a_workflow_in_code_equals_the_one_loaded_from_its_data() -> None:
    def new_supplier(_: object) -> bool:
        return True

    wf = Workflow("po", ["purchase_order"],
                  [Step("manager", "manager"),
                   Step("finance", "cfo", min_amount=D(50000), guard="new_supplier")],
                  {"submit": {"buyer"}, "cancel": ["buyer", "manager"]},
                  {"new_supplier": new_supplier})
    loaded = Workflow.from_data(wf.to_data(), {"new_supplier": new_supplier})
    assert wf.to_data() == loaded.to_data()
    assert wf.actions == {"submit": frozenset({"buyer"}),
                          "cancel": frozenset({"buyer", "manager"})}
    assert wf.doc_types == ("purchase_order",) and wf.steps == loaded.steps


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"steps": [Step("m", "manager", min_amount=D(10), max_amount=D(5))]}, "steps[0]"),
    ({"steps": [Step("m", "manager", max_amount=D(-1))]}, "steps[0].max_amount"),
    ({"steps": [Step("m", "")]}, "steps[0].role"),
    ({"steps": [Step("m", "a"), Step("m", "b")]}, "steps[1].name"),
    ({"steps": [Step("m", "a", guard="vip")]}, "steps[0].guard"),
    ({"steps": [{"name": "m", "role": "a"}]}, "steps[0]"),
    ({"steps": [Step("m", "a", min_amount=1.5)]}, "steps[0].min_amount"),  # type: ignore[arg-type]
    ({"doc_types": ("purchase_ordr",)}, "doc_types[0]"),
    ({"doc_types": "purchase_order"}, "doc_types"),
    ({"actions": {"submit": []}}, "actions.submit"),
    ({"actions": {"approve": ["boss"]}}, "actions"),
])
def test_a_workflow_in_code_is_refused_as_its_data_would_be(kwargs: dict[str, Any],
                                                            field: str) -> None:
    assert refused(**kwargs).data["field"] == field


def test_a_workflow_in_code_needs_a_name() -> None:
    with pytest.raises(JxcError) as err:
        Workflow("")
    assert (err.value.code, err.value.data["field"]) == ("invalid_workflow", "name")
    assert Workflow("any").steps == ()
