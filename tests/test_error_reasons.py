"""Free reasons of refusals speak the reader's language.

Some codes (``configuration``, ``invalid_document``, ``invalid_state``, ...) carry a free
``reason`` in their data. Programs read the English ``reason``; the Chinese message uses the
``reason_zh`` given with it, which stays out of ``data``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from jxc_core.costing import valuation_from_state
from jxc_core.documents.workflow import User, Workflow
from jxc_core.errors import JxcError, StateError
from jxc_core.stock.model import Item

SRC = Path(__file__).resolve().parents[1] / "src" / "jxc_core"
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_chinese_reason_is_used_in_chinese_and_kept_out_of_the_data() -> None:
    err = JxcError("configuration", reason="kind is receivable or payable: x",
                   reason_zh="类型应为应收或应付：x")
    assert err.data == {"reason": "kind is receivable or payable: x"}
    assert err.reason_zh == "类型应为应收或应付：x"
    assert str(err) == "Invalid configuration: kind is receivable or payable: x"
    assert err.message_zh == "配置无效：类型应为应收或应付：x"
    assert err.to_dict()["data"] == {"reason": "kind is receivable or payable: x"}
    assert err.to_dict()["message_zh"] == "配置无效：类型应为应收或应付：x"


def test_without_a_chinese_reason_the_english_one_stands_in() -> None:
    err = JxcError("configuration", reason="something else")
    assert err.reason_zh is None
    assert err.message_zh == "配置无效：something else"


def test_a_chinese_reason_without_a_reason_changes_nothing() -> None:
    err = JxcError("not_found", kind="item", key="X", reason_zh="无")
    assert "reason_zh" not in err.data and "无" not in err.message_zh


@pytest.mark.parametrize("make, english, chinese", [
    (lambda: Item("A", "a", costing_method="bogus"), "unknown costing method bogus",
     "未知的计价方法 bogus"),
    (lambda: Item("A", "a", costing_method="standard"), "standard costing needs standard_cost",
     "标准成本法需要 standard_cost"),
    (lambda: valuation_from_state({"method": "nope"}), "unknown costing method 'nope'",
     "未知的计价方法 'nope'"),
    (lambda: Workflow.from_data({"name": "x", "bogus": 1}), "unknown keys ['bogus']",
     "未知的键 ['bogus']"),
    (lambda: User("u", roles="cfo"), "roles must be a set or list of role names, not the "
     "single str 'cfo'", "roles（角色）须为角色名的集合或列表，不能是单个 str 'cfo'"),
])
def test_real_refusals_give_their_reason_in_chinese(make: Callable[[], object], english: str,
                                                    chinese: str) -> None:
    with pytest.raises(JxcError) as err:
        make()
    assert err.value.data["reason"] == english
    assert chinese in err.value.message_zh
    assert english not in err.value.message_zh


def _called_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _literal_text(node: ast.expr) -> str:
    """The constant parts of a str or f-string (or of either branch of a conditional)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_text(v) for v in node.values)
    if isinstance(node, ast.IfExp):
        return _literal_text(node.body) + _literal_text(node.orelse)
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) + _literal_text(node.right)
    return ""


def _reason_sites() -> list[tuple[str, int, ast.Call]]:
    sites = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node).endswith("Error") and any(
                    k.arg == "reason" for k in node.keywords):
                sites.append((str(path.relative_to(SRC)), node.lineno, node))
    return sites


def test_every_refusal_with_a_reason_gives_it_in_chinese_too() -> None:
    """Every ``...Error(..., reason=...)`` in the library passes ``reason_zh=`` as well, and
    a literal one is Chinese (a name passed on, as in a local ``bad(reason, zh)``, is checked
    at its callers by this same rule or by mypy)."""
    sites = _reason_sites()
    assert len(sites) > 50  # the scan finds the refusals
    missing, english = [], []
    for where, line, call in sites:
        zh = [k.value for k in call.keywords if k.arg == "reason_zh"]
        if not zh:
            missing.append(f"{where}:{line}")
        elif _literal_text(zh[0]) and not CJK.search(_literal_text(zh[0])):
            english.append(f"{where}:{line}")
    assert missing == [] and english == []


def test_a_state_error_from_stored_data_is_readable_in_chinese() -> None:
    with pytest.raises(StateError) as err:
        valuation_from_state({"method": "fifo", "version": 7})
    assert err.value.code == "invalid_state"
    assert CJK.search(err.value.message_zh.split("：", 1)[1])
