"""Account mapping (科目映射) as data, with the Chinese chart preset and a generic English one.

A mapping turns an accounting role (``inventory``, ``grni``, ``cogs``...) into an account code,
optionally depending on the document type, the item category and the warehouse. The most
specific rule wins (the one matching the most of those three), then the earlier one. Loading
checks that every account a rule names exists in the chart and that every role has a default
rule (no conditions), so every event of every posting resolves (``invalid_mapping``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from jxc_core.errors import JxcError
from jxc_core.values import check_text

__all__ = [
    "CHINESE_CHART",
    "DOC_TYPES",
    "ENGLISH_CHART",
    "FALLBACK_ROLES",
    "ROLES",
    "AccountMapping",
    "MappingRule",
    "chinese_mapping",
    "english_mapping",
]

#: every role a posting or a settlement can write
ROLES: tuple[str, ...] = (
    "inventory", "grni", "payable", "input_tax", "cogs", "price_difference",
    "material_variance", "count_gain_loss", "adjustment", "receivable", "revenue",
    "output_tax", "bank", "fx_difference", "credit_pending",
)


#: the document types of journal rows, the values a rule's ``doc_type`` may name: the 12
#: documents' (``jxc_core.documents.DocType``) and those of the books' own postings
#: (settlements: ``receipt``/``payment``; month-end close; standard-cost revaluation)
DOC_TYPES: tuple[str, ...] = (
    "purchase_order", "purchase_receipt", "purchase_return", "purchase_invoice",
    "sales_order", "delivery", "sales_return", "sales_invoice", "transfer", "stock_count",
    "adjustment", "landed_cost", "receipt", "payment", "period_close", "standard_revaluation",
)

#: roles that one document books and another clears line by line (the stock, the goods
#: received not invoiced, the returns awaiting a red invoice): by document type they would be
#: booked on one account and cleared from another, and the inventory account would no longer
#: equal the stock valuation
_NO_DOC_TYPE = frozenset({"inventory", "grni", "credit_pending"})
#: roles that settlements clear, whose rows name no document line, item or warehouse: no
#: condition can hold on both sides
_NO_CONDITION = frozenset({"payable", "receivable"})

#: roles added after mappings were first stored, and the role whose default account takes
#: them in a mapping that names none: the invoiced goods returned awaiting a red-letter
#: invoice (待冲发票) are a part of what is owed to suppliers (应付账款)
FALLBACK_ROLES: dict[str, str] = {"credit_pending": "payable"}


@attrs.frozen(slots=True)
class MappingRule:
    role: str
    account: str
    doc_type: str = ""
    category: str = ""
    warehouse: str = ""

    def matches(self, doc_type: str, category: str, warehouse: str) -> int:
        """How specific a match this is (-1: no match)."""
        score = 0
        for want, got in ((self.doc_type, doc_type), (self.category, category),
                          (self.warehouse, warehouse)):
            if want:
                if want != got:
                    return -1
                score += 1
        return score


class AccountMapping:
    """A validated chart of accounts and role rules; see the module docstring."""

    def __init__(self, name: str, accounts: Mapping[str, str], rules: Sequence[MappingRule]
                 ) -> None:
        self.name = name
        self.accounts = dict(accounts)
        self.rules = tuple(rules)
        self._by_role: dict[str, list[MappingRule]] = {}
        for r in self.rules:
            self._by_role.setdefault(r.role, []).append(r)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], roles: Sequence[str] = ROLES) -> AccountMapping:
        def bad(reason: str, zh: str) -> JxcError:
            return JxcError("invalid_mapping", reason=reason, reason_zh=zh)

        if not isinstance(data, Mapping):
            raise bad("a mapping is a dict", "映射应为字典")
        accounts = data.get("accounts")
        if not isinstance(accounts, Mapping) or not accounts:
            raise bad("accounts: a dict of code -> name is required",
                      "accounts：须为科目代码 -> 名称的字典")
        rules: list[MappingRule] = []
        seen: dict[tuple[str, str, str, str], int] = {}  # role and conditions -> first rule
        for i, raw in enumerate(data.get("rules") or []):
            if not isinstance(raw, Mapping):
                raise bad(f"rules[{i}] is not a dict", f"rules[{i}] 不是字典")
            extra = set(raw) - {"role", "account", "doc_type", "category", "warehouse"}
            if extra:
                raise bad(f"rules[{i}]: unknown keys {sorted(extra)}",
                          f"rules[{i}]：未知的键 {sorted(extra)}")
            fields: dict[str, str] = {}
            for key in ("role", "account", "doc_type", "category", "warehouse"):
                got = raw.get(key)
                if got is None and key not in ("role", "account"):
                    got = ""  # a null condition (an empty cell of a stored table): none
                if type(got) is not str:
                    raise bad(f"rules[{i}].{key} must be text, got {got!r}",
                              f"rules[{i}].{key} 应为文本，而不是 {got!r}")
                fields[key] = got
            rule = MappingRule(**fields)
            if rule.role not in roles:
                raise bad(f"rules[{i}]: unknown role {rule.role!r}",
                          f"rules[{i}]：未知的角色 {rule.role!r}")
            if rule.account not in accounts:
                raise bad(f"rules[{i}]: account {rule.account!r} is not in the chart",
                          f"rules[{i}]：科目 {rule.account!r} 不在科目表中")
            if rule.doc_type and rule.doc_type not in DOC_TYPES:
                raise bad(f"rules[{i}]: unknown doc_type {rule.doc_type!r} (one of "
                          f"{', '.join(DOC_TYPES)})",
                          f"rules[{i}]：未知的单据类型 {rule.doc_type!r}（应为 "
                          f"{', '.join(DOC_TYPES)} 之一）")
            if rule.role in _NO_CONDITION and (rule.doc_type or rule.category
                                               or rule.warehouse):
                raise bad(f"rules[{i}]: role {rule.role!r} takes no condition (settlements "
                          "clear it with rows of no document type, item or warehouse)",
                          f"rules[{i}]：角色 {rule.role!r} 不能带条件（核销冲销它的分录没有"
                          "单据类型、存货或仓库）")
            if rule.role in _NO_DOC_TYPE and rule.doc_type:
                raise bad(f"rules[{i}]: role {rule.role!r} cannot depend on doc_type (one "
                          "document books it and another clears it: the account must follow "
                          "the item and the warehouse)",
                          f"rules[{i}]：角色 {rule.role!r} 不能按单据类型区分（由一种单据记入、"
                          "另一种单据冲销：科目须随存货与仓库而定）")
            j = seen.setdefault((rule.role, rule.doc_type, rule.category, rule.warehouse), i)
            if j != i:
                raise bad(f"rules[{i}]: the same role and conditions as rules[{j}] (it "
                          "could never apply)",
                          f"rules[{i}]：角色与条件与 rules[{j}] 相同（永远不会生效）")
            rules.append(rule)
        defaults = {r.role: r.account for r in rules
                    if not (r.doc_type or r.category or r.warehouse)}
        for role, instead in FALLBACK_ROLES.items():  # a mapping made before the role
            if role in roles and role not in defaults and instead in defaults:
                rules.append(MappingRule(role, defaults[instead]))
                defaults[role] = defaults[instead]
        stock = {r.account for r in rules if r.role == "inventory"}
        for i, r in enumerate(rules):
            if r.role != "inventory" and r.account in stock:
                # the row of such a role would move the account the stock is on (and a
                # posting that books the stock against it would net to nothing): the
                # inventory account would no longer equal the stock valuation
                raise bad(f"rules[{i}]: role {r.role!r} on the inventory account "
                          f"{r.account!r} (only the inventory role may book it: its balance "
                          "must equal the stock valuation)",
                          f"rules[{i}]：角色 {r.role!r} 使用了存货科目 {r.account!r}（只有 "
                          "inventory 角色可以记入该科目：其余额须等于存货估值）")
        missing = [r for r in roles if r not in defaults]
        if missing:
            raise bad(f"no default account for roles {missing}",
                      f"以下角色没有默认科目：{missing}")
        for i, r in enumerate(rules):  # a lone surrogate: invalid_text, on every store
            for key in ("doc_type", "category", "warehouse"):
                check_text(getattr(r, key), f"rules[{i}].{key}")
        chart = {check_text(str(k), "accounts"): check_text(str(v), f"accounts[{str(k)!r}]")
                 for k, v in accounts.items()}
        return cls(check_text(str(data.get("name", "")), "name"), chart, rules)

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "accounts": dict(self.accounts),
                "rules": [{k: v for k, v in attrs.asdict(r).items() if v}
                          for r in self.rules]}

    def account_for(self, role: str, doc_type: str = "", category: str = "",
                    warehouse: str = "") -> str:
        best: MappingRule | None = None
        best_score = -1
        for rule in self._by_role.get(role, ()):
            score = rule.matches(doc_type, category, warehouse)
            if score > best_score:
                best, best_score = rule, score
        if best is None:
            raise JxcError("invalid_mapping", reason=f"role {role!r} has no account",
                           reason_zh=f"角色 {role!r} 没有对应科目")
        return best.account

    def name_of(self, account: str) -> str:
        return self.accounts.get(account, "")


#: 企业会计准则 accounts used by the preset
CHINESE_CHART: dict[str, str] = {
    "1002": "银行存款",
    "1122": "应收账款",
    "1403": "原材料",
    "1404": "材料成本差异",
    "1405": "库存商品",
    "1901": "待处理财产损溢",
    "2202": "应付账款",
    "2202.02": "应付账款-暂估应付款",
    "2202.03": "应付账款-待冲发票",
    "2221.01.01": "应交税费-应交增值税-进项税额",
    "2221.01.02": "应交税费-应交增值税-销项税额",
    "6001": "主营业务收入",
    "6401": "主营业务成本",
    "6603": "财务费用-汇兑损益",
    "6711": "营业外支出",
}

_CN_RULES = [
    ("inventory", "1405"), ("grni", "2202.02"), ("payable", "2202"),
    ("input_tax", "2221.01.01"), ("cogs", "6401"), ("price_difference", "6401"),
    ("material_variance", "1404"), ("count_gain_loss", "1901"), ("adjustment", "1901"),
    ("receivable", "1122"), ("revenue", "6001"), ("output_tax", "2221.01.02"),
    ("bank", "1002"), ("fx_difference", "6603"), ("credit_pending", "2202.03"),
]

ENGLISH_CHART: dict[str, str] = {
    "1000": "Bank", "1200": "Accounts receivable", "1300": "Inventory",
    "1310": "Raw materials", "1410": "VAT receivable (input)", "2100": "Accounts payable",
    "2110": "Goods received not invoiced", "2120": "Returns awaiting credit note",
    "2210": "VAT payable (output)", "4000": "Sales",
    "5000": "Cost of goods sold", "5100": "Purchase price variance",
    "5900": "Inventory adjustments", "7900": "Exchange differences",
}

_EN_RULES = [
    ("inventory", "1300"), ("grni", "2110"), ("payable", "2100"), ("input_tax", "1410"),
    ("cogs", "5000"), ("price_difference", "5100"), ("material_variance", "5100"),
    ("count_gain_loss", "5900"), ("adjustment", "5900"), ("receivable", "1200"),
    ("revenue", "4000"), ("output_tax", "2210"), ("bank", "1000"), ("fx_difference", "7900"),
    ("credit_pending", "2120"),
]


def chinese_mapping() -> AccountMapping:
    """企业会计准则 preset; items of category ``material`` go to 1403 原材料."""
    rules: list[dict[str, str]] = [{"role": r, "account": a} for r, a in _CN_RULES]
    rules.append({"role": "inventory", "account": "1403", "category": "material"})
    return AccountMapping.from_data({"name": "企业会计准则", "accounts": CHINESE_CHART,
                                     "rules": rules})


def english_mapping() -> AccountMapping:
    """A generic English chart; items of category ``material`` go to 1310 Raw materials."""
    rules: list[dict[str, str]] = [{"role": r, "account": a} for r, a in _EN_RULES]
    rules.append({"role": "inventory", "account": "1310", "category": "material"})
    return AccountMapping.from_data({"name": "generic", "accounts": ENGLISH_CHART,
                                     "rules": rules})
