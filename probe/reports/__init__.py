"""Report renderers: JSON (with its JSON Schema), self-contained HTML, and a console summary.

Renderers are pure: they take a finished `Report` and return text. `write_reports` is the only
part that touches files.
"""

from __future__ import annotations

from probe.reports.console import console_summary
from probe.reports.html_report import render_html
from probe.reports.json_report import render_json, report_json_schema
from probe.reports.write import FORMATS, write_reports

__all__ = [
    "FORMATS",
    "console_summary",
    "render_html",
    "render_json",
    "report_json_schema",
    "write_reports",
]
