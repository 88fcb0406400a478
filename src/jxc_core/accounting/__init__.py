"""Accounting (会计): account mapping, vouchers, report formatting — pure.

The use cases (generate vouchers, settle, close a period, the reports) are in
:class:`jxc_core.services.Accounting`.
"""

from jxc_core.accounting.mapping import (
    CHINESE_CHART,
    DOC_TYPES,
    ENGLISH_CHART,
    FALLBACK_ROLES,
    ROLES,
    AccountMapping,
    MappingRule,
    chinese_mapping,
    english_mapping,
)
from jxc_core.accounting.reports import Formatter, render_table, to_csv
from jxc_core.accounting.vouchers import Voucher, VoucherLine, build_voucher

__all__ = [
    "CHINESE_CHART",
    "DOC_TYPES",
    "ENGLISH_CHART",
    "FALLBACK_ROLES",
    "ROLES",
    "AccountMapping",
    "Formatter",
    "MappingRule",
    "Voucher",
    "VoucherLine",
    "build_voucher",
    "chinese_mapping",
    "english_mapping",
    "render_table",
    "to_csv",
]
