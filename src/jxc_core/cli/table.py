"""Plain-text tables for the terminal (the renderer lives with the reports)."""

from jxc_core.accounting.reports import render_table

__all__ = ["render_table"]
