"""Documents (单据): lines with VAT, the core lifecycle, approvals as data — pure."""

from jxc_core.documents.codec import LINE_FIELDS, document_from_data, document_to_data
from jxc_core.documents.forms import (
    FORM_FIELDS,
    LINE_FORM_FIELDS,
    DocumentForm,
    document_form,
    line_from_form,
)
from jxc_core.documents.lifecycle import (
    CLOSABLE,
    TRANSITIONS,
    Action,
    State,
    next_state,
    offered_actions,
)
from jxc_core.documents.model import (
    VAT_RATES,
    ActionRecord,
    DocType,
    Document,
    Fulfilment,
    Line,
    LineAmounts,
    line_amounts,
)
from jxc_core.documents.workflow import Step, User, Workflow, lifecycle_data

__all__ = [
    "CLOSABLE",
    "FORM_FIELDS",
    "LINE_FIELDS",
    "LINE_FORM_FIELDS",
    "TRANSITIONS",
    "VAT_RATES",
    "Action",
    "ActionRecord",
    "DocType",
    "Document",
    "DocumentForm",
    "Fulfilment",
    "Line",
    "LineAmounts",
    "State",
    "Step",
    "User",
    "Workflow",
    "document_form",
    "document_from_data",
    "document_to_data",
    "lifecycle_data",
    "line_amounts",
    "line_from_form",
    "next_state",
    "offered_actions",
]
