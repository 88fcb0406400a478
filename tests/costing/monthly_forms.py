"""The earlier stored forms of a monthly-average state, made from the current one, so that
tests can check they still load (states written by earlier versions stay in stores).

Before the movements were rows (``"next"``, ``"months"``, ``"rows"``) a state listed them: the
unnamed period at the top (``receipts``, ``issues``, and ``returns`` / ``receipt_refs`` when
there were some), named periods under ``periods`` as ``[key, movements]``.
"""

from __future__ import annotations

from typing import Any


def listed_form(state: dict[str, Any]) -> dict[str, Any]:
    """The form with the movements listed in the state (before rows)."""
    periods: dict[str, dict[str, Any]] = {
        key: {"receipts": [q, v], "issues": []} for key, q, v in state["months"]}
    for _, data in state.get("rows", []):
        p = periods.setdefault(data[1], {"receipts": ["0", "0"], "issues": []})
        if data[0] == "i":
            p["issues"].append([data[2], data[3]])
        elif data[0] == "r":
            p.setdefault("returns", []).append([data[2], data[3], data[4]])
        else:
            p.setdefault("receipt_refs", []).append([data[2], data[3], data[4]])
    out = {k: v for k, v in state.items() if k not in ("next", "months", "rows")}
    out.update(periods.pop("", {"receipts": ["0", "0"], "issues": []}))
    if periods:
        out["periods"] = [[k, periods[k]] for k in sorted(periods)]
    return out
