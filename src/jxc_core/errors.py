"""The ``JxcError`` family: every refusal of jxc_core.

Each error has a stable machine ``code`` (part of the public API: never renamed), the offending
fields as ``data`` (plain values), and a human message in English and Chinese, rendered from the
catalogue below with the error's data. ``str(error)`` is the English message; ``error.message(
"zh_CN")`` gives the Chinese one. Locale names are parsed with babel, so ``"zh"``, ``"zh_Hans_CN"``
and ``"zh-CN"`` all select Chinese.
"""

from __future__ import annotations

from typing import Any, ClassVar

from babel import Locale, UnknownLocaleError

__all__ = [
    "MESSAGES",
    "ConfigurationError",
    "InsufficientStockError",
    "InvalidQuantityError",
    "JxcError",
    "LotError",
    "NotFoundError",
    "PeriodClosedError",
    "StateError",
]

#: code -> (English template, Chinese template). Templates use ``str.format`` with the data.
MESSAGES: dict[str, tuple[str, str]] = {
    "insufficient_stock": (
        "Insufficient stock of {item} in {warehouse}: needed {needed}, available {available}, "
        "short {short}",
        "{item} 在 {warehouse} 库存不足：需要 {needed}，可用 {available}，缺 {short}",
    ),
    "invalid_quantity": (
        "{field} must be greater than zero, got {value}",
        "{field} 必须大于零，实际为 {value}",
    ),
    "hold_release_exceeded": (
        "Cannot release {quantity} of {item} in {warehouse}: {held} is held there, {frozen} of "
        "it by open stock counts (only the count releases its freeze)",
        "无法解除 {item} 在 {warehouse} 的冻结数量 {quantity}：该处冻结 {held}，其中 {frozen} "
        "由未完成的盘点冻结（只能由盘点解除）",
    ),
    "received_below_on_hand": (
        "{ref}: received_quantity {received} is less than the {on_hand} units of it on hand",
        "{ref}：received_quantity {received} 小于其在库数量 {on_hand}",
    ),
    "number_out_of_range": (
        "{field} is out of range: {value} (figures must stay below {limit} in magnitude)",
        "{field} 超出范围：{value}（数值的绝对值须小于 {limit}）",
    ),
    "computation_out_of_range": (
        "A figure computed by {command} is out of range: quantities times prices must stay "
        "below {limit} in magnitude",
        "{command} 计算出的数值超出范围：数量与价格之积的绝对值须小于 {limit}",
    ),
    "negative_amount": (
        "{field} must not be negative, got {value}",
        "{field} 不能为负数，实际为 {value}",
    ),
    "unknown_receipt": (
        "No receipt layer named {ref}",
        "找不到入库批次 {ref}",
    ),
    "over_return": (
        "{ref}: {quantity} is more than the {open} that can be taken back in the open period",
        "{ref}：数量 {quantity} 超过本期可冲回的 {open}",
    ),
    "issue_period_open": (
        "{ref} is an issue of {issue_period}, which is still open: a movement of {period} cannot "
        "take it back before {issue_period} is closed",
        "{ref} 是 {issue_period} 的出库，该期间尚未结账：{period} 的单据须待 {issue_period} 结账后"
        "才能冲回",
    ),
    "lot_required": (
        "Specific identification needs the lot to receive into or to issue from",
        "个别计价法的入库和出库都必须指定批次",
    ),
    "period_closed": (
        "The period containing {date} is closed",
        "{date} 所在的会计期间已结账",
    ),
    "invalid_period": (
        "Invalid period: {field} {value!r}: {reason}",
        "会计期间无效：{field} {value!r}：{reason}",
    ),
    "invalid_amount_precision": (
        "{field} {value} has more decimals than the currency's minor unit {quantum}",
        "{field} {value} 的小数位超过了币种最小单位 {quantum}",
    ),
    "unknown_currency": (
        "Unknown currency {currency!r}: not an ISO 4217 code, and no digits are configured for "
        "it (Jxc(digits_by_currency=...))",
        "未知币种 {currency!r}：不是 ISO 4217 币种代码，也没有为它配置小数位数"
        "（Jxc(digits_by_currency=...)）",
    ),
    "currency_mismatch": (
        "Line {line} is in {currency}, but its source {source} is in {source_currency}: a "
        "document made from another is in the source's currency",
        "第 {line} 行的币种为 {currency}，但其来源单据 {source} 的币种为 {source_currency}："
        "依来源生成的单据须与来源单据币种相同",
    ),
    "book_currency_required": (
        "A document of type {doc_type} has no counterparty: it is kept in the book currency "
        "{book_currency}, not in {currency}",
        "{doc_type} 类单据没有往来单位，只能使用本位币 {book_currency}，不能使用 {currency}",
    ),
    "invalid_state": (
        "Invalid valuation state: {reason}",
        "计价状态数据无效：{reason}",
    ),
    "invalid_transition": (
        "Action {action} is not allowed in state {state}",
        "状态 {state} 下不允许执行 {action}",
    ),
    "invalid_allocation": (
        "Cannot allocate: {reason}",
        "无法分摊：{reason}",
    ),
    "not_found": (
        "{kind} {key} not found",
        "找不到 {kind} {key}",
    ),
    "unknown_unit": (
        "Item {item} has no conversion for unit {unit}",
        "存货 {item} 没有计量单位 {unit} 的换算关系",
    ),
    "unit_conversion_inexact": (
        "{quantity} {unit} of {item} is not a whole number of base units at {digits} decimals",
        "{item} 的 {quantity} {unit} 换算为基本单位后超出 {digits} 位小数",
    ),
    "lot_expired": (
        "Lot {lot} of {item} expired on {expiry}",
        "{item} 的批次 {lot} 已于 {expiry} 过期",
    ),
    "lot_missing": (
        "Item {item} is lot-tracked: a lot is required",
        "存货 {item} 启用批次管理，必须指定批次",
    ),
    "serial_on_hand": (
        "Serial number {serial} of {item} is already on hand in {warehouse}",
        "{item} 的序列号 {serial} 已在仓库 {warehouse} 中",
    ),
    "serial_not_on_hand": (
        "Serial number {serial} of {item} is not on hand in {warehouse}",
        "{item} 的序列号 {serial} 不在仓库 {warehouse} 中",
    ),
    "serial_count": (
        "{item}: {count} serial numbers given for a quantity of {quantity}",
        "{item}：数量 {quantity} 与序列号个数 {count} 不符",
    ),
    "duplicate_serial": (
        "Serial number {serial} of {item} is listed twice: on line {first} and on line {line}",
        "{item} 的序列号 {serial} 重复：第 {first} 行和第 {line} 行都列出了它",
    ),
    "duplicate_key": (
        "Duplicate key {key} in {table}",
        "{table} 中的键 {key} 重复",
    ),
    "idempotency_conflict": (
        "Idempotency key {key} was already used with different data",
        "幂等键 {key} 已用于不同的数据",
    ),
    "reservation_short": (
        "Cannot reserve: {count} line(s) short (wanted > available): {summary}",
        "无法锁库：{count} 行库存不足（需求 > 可用）：{summary}",
    ),
    "invalid_date": (
        "{field} must be a {expected}, got {kind} {value!r}",
        "{field} 必须是 {expected}，实际为 {kind} {value!r}",
    ),
    "store_timezone_mismatch": (
        "{value} cannot be posted for {item}: its last posting is at {last}; one store keeps "
        "either naive or timezone-aware moments, not both (use a clock of the store's kind)",
        "{item} 不能在 {value} 过账：其最后一笔过账在 {last}；同一存储只能保存不带时区或带时区的"
        "时刻之一，不能混用（请使用与存储一致的时钟）",
    ),
    "timezone_mismatch": (
        "{field} {value} and the service clock's now() {now} must both be naive or both "
        "timezone-aware",
        "{field} {value} 与服务时钟的当前时间 {now} 必须同为不带时区（naive）或同为带时区（aware）",
    ),
    "expiry_not_in_future": (
        "expires_at {expires_at} is not after the service clock's now() {now}: a soft "
        "reservation must lapse in the future",
        "软锁库的到期时间 {expires_at} 不晚于服务时钟的当前时间 {now}：到期时间必须在将来",
    ),
    "empty_posting": (
        "A posting needs at least one line",
        "过账至少需要一行",
    ),
    "empty_batch": (
        "A batch needs at least one posting",
        "批量过账至少需要一笔过账",
    ),
    "same_warehouse": (
        "A transfer needs two different warehouses, got {warehouse} twice",
        "调拨的调出仓与调入仓不能相同：{warehouse}",
    ),
    "same_location": (
        "A location move needs two different locations of {warehouse}, got {location!r} twice "
        "('' is the stock without a location)",
        "移库的移出库位与移入库位不能相同：{warehouse} 的 {location!r}（'' 表示无库位的库存）",
    ),
    "backdated_posting": (
        "{item} in {warehouse}: cannot post back-dated at {posted_at}: {reason}",
        "{item} 在 {warehouse}：不能补录到 {posted_at}：{reason}",
    ),
    "invalid_workflow": (
        "Invalid workflow: {reason}",
        "审批流定义无效：{reason}",
    ),
    "not_allowed": (
        "User {user} may not {action} document {doc_id} (state {state})",
        "用户 {user} 无权对单据 {doc_id}（状态 {state}）执行 {action}",
    ),
    "over_receipt": (
        "Line {line} of {order}: {kind} {quantity} exceeds the open quantity {open} "
        "(tolerance {tolerance})",
        "{order} 第 {line} 行：{kind} 数量 {quantity} 超过未执行数量 {open}（容差 {tolerance}）",
    ),
    "duplicate_count_line": (
        "Lines {first} and {line} both count {item} in {warehouse}: a stock count counts each "
        "balance on one line (a line without a lot counts every lot of the item, a line "
        "without a location every location)",
        "第 {first} 行和第 {line} 行盘点的是同一库存（{warehouse} 的 {item}）：盘点单的每个余额只能"
        "占一行（不指定批次的行盘点该存货的所有批次，不指定库位的行盘点所有库位）",
    ),
    "count_overlap": (
        "Line {line} of stock count {doc_id} counts {item} in {warehouse}, which line {first} "
        "of open stock count {other} counts already: post or cancel that count first",
        "盘点单 {doc_id} 第 {line} 行盘点的 {warehouse} 的 {item} 已由未完成的盘点单 {other} 第 "
        "{first} 行盘点：请先过账或作废该盘点单",
    ),
    "invalid_document": (
        "Document {doc_id} is invalid: {reason}",
        "单据 {doc_id} 无效：{reason}",
    ),
    "reversal_impossible": (
        "Cannot reverse {doc_id}: {reason}",
        "无法红冲 {doc_id}：{reason}",
    ),
    "invalid_mapping": (
        "Invalid account mapping: {reason}",
        "科目映射无效：{reason}",
    ),
    "unbalanced_voucher": (
        "The voucher of {doc_id} does not balance: debit {debit}, credit {credit}",
        "{doc_id} 的凭证借贷不平：借方 {debit}，贷方 {credit}",
    ),
    "over_settlement": (
        "{party}: {amount} is more than the open items {open}",
        "{party}：金额 {amount} 超过未核销余额 {open}",
    ),
    "period_not_started": (
        "Period {period} has not begun (now {now}): a month can be closed from its first day on",
        "会计期间 {period} 尚未开始（当前 {now}）：月份自其第一天起才能结账",
    ),
    "period_zone_mismatch": (
        "The closed periods end at {until}, which the service clock's timezone reads as "
        "{local}: not the end of a month there. The months were closed in another timezone, "
        "and a store keeps the timezone of its closes (use a clock of that timezone)",
        "已结账期间截止于 {until}，按服务时钟的时区为 {local}：不是该时区的月末。这些月份是在另一"
        "时区结账的，同一存储须沿用结账时的时区（请使用该时区的时钟）",
    ),
    "drafts_in_period": (
        "Period {period} still has {count} draft document(s): {docs}",
        "会计期间 {period} 仍有 {count} 张未过账单据：{docs}",
    ),
    "configuration": (
        "Invalid configuration: {reason}",
        "配置无效：{reason}",
    ),
    "invalid_text": (
        "{field} is not valid text: {value} has a lone surrogate at position {position} "
        "(text must be encodable as UTF-8)",
        "{field} 不是有效文本：{value} 在第 {position} 位含有孤立的代理字符（文本须能以 UTF-8 "
        "编码）",
    ),
    "storage_error": (
        "The store {path} failed ({problem}): {reason}",
        "存储 {path} 出错（{problem}）：{reason}",
    ),
}


#: the messages of a refusal that names no document yet (``doc_id`` ``""``: a new document
#: refused before it was numbered, or no document at all)
_NO_NUMBER: dict[str, tuple[str, str]] = {
    "invalid_document": ("Invalid document: {reason}", "单据无效：{reason}"),
}


#: the messages of a refusal that gives a ``reason`` where its code usually gives none
_WITH_REASON: dict[str, tuple[str, str]] = {
    "period_closed": ("The period containing {date} is closed: {reason}",
                      "{date} 所在的会计期间已结账：{reason}"),
    "invalid_transition": ("Action {action} is not allowed in state {state}: {reason}",
                           "状态 {state} 下不允许执行 {action}：{reason}"),
    "invalid_quantity": ("{field} {value} is not a valid quantity here: {reason}",
                         "{field} 的数量 {value} 在此无效：{reason}"),
}


def _is_chinese(locale: str | Locale) -> bool:
    if isinstance(locale, Locale):
        return locale.language == "zh"
    try:
        return Locale.parse(locale.replace("-", "_")).language == "zh"
    except (ValueError, UnknownLocaleError):
        return locale.lower().startswith("zh")


class JxcError(Exception):
    """Base of every refusal. ``code`` is stable; ``data`` holds the offending fields."""

    default_code: ClassVar[str] = "jxc_error"

    def __init__(self, code: str | None = None, /, **data: Any) -> None:
        self.code: str = code or self.default_code
        #: the Chinese text of a free ``reason`` (given as ``reason_zh=``, kept out of ``data``:
        #: programs read the English ``reason``, people read the message of their language)
        self.reason_zh: str | None = data.pop("reason_zh", None)
        self.data: dict[str, Any] = data
        super().__init__(self.message("en"))

    def message(self, locale: str | Locale = "en") -> str:
        """The human message in ``locale`` (Chinese for any ``zh`` locale, else English)."""
        templates = MESSAGES.get(self.code)
        if templates is None:
            return f"{self.code}: {self.data}"
        chinese = _is_chinese(locale)
        data = self.data
        if data.get("doc_id") == "" and self.code in _NO_NUMBER:  # refused before numbering
            templates = _NO_NUMBER[self.code]
        elif "reason" in data and self.code in _WITH_REASON:
            templates = _WITH_REASON[self.code]
        template = templates[1] if chinese else templates[0]
        if chinese and self.reason_zh is not None and "reason" in data:
            data = {**data, "reason": self.reason_zh}
        try:
            return template.format(**data)
        except (KeyError, IndexError):
            return f"{template} {self.data}"

    @property
    def message_en(self) -> str:
        return self.message("en")

    @property
    def message_zh(self) -> str:
        return self.message("zh_CN")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an API response or a log line."""
        return {
            "code": self.code,
            "data": {k: str(v) if not isinstance(v, (int, str, list, dict)) else v
                     for k, v in self.data.items()},
            "message_en": self.message_en,
            "message_zh": self.message_zh,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.data!r})"


class InsufficientStockError(JxcError):
    """Short stock; when the short part is one lot or one location (``lot``, ``location`` in
    the data) the message names them too.

    ``available`` in the data is what the refused line could take (free stock: on hand less
    reservations and holds, or what a back-dated movement found at its moment); ``on_hand``
    holds the same figure under the name the first versions gave it."""

    default_code = "insufficient_stock"

    def __init__(self, code: str | None = None, /, **data: Any) -> None:
        if "on_hand" in data and "available" not in data:
            data["available"] = data["on_hand"]
        super().__init__(code, **data)

    def message(self, locale: str | Locale = "en") -> str:
        text = super().message(locale)
        lot, location = self.data.get("lot") or "", self.data.get("location") or ""
        if not (lot or location):
            return text
        if _is_chinese(locale):
            parts = ([f"批次 {lot}"] if lot else []) + ([f"库位 {location}"] if location else [])
            return f"{text}（{'，'.join(parts)}）"
        parts = ([f"lot {lot}"] if lot else []) + ([f"location {location}"] if location else [])
        return f"{text} ({', '.join(parts)})"


class InvalidQuantityError(JxcError):
    default_code = "invalid_quantity"


class NotFoundError(JxcError):
    default_code = "not_found"


class LotError(JxcError):
    default_code = "lot_required"


class PeriodClosedError(JxcError):
    default_code = "period_closed"


class StateError(JxcError):
    default_code = "invalid_state"


class ConfigurationError(JxcError):
    default_code = "configuration"
