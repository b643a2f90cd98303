"""The HTML report: one self-contained file a browser can open from disk.

Everything the target sent is hostile text. The template engine escapes every value
(autoescaping on, no `|safe` on report data); hidden control and direction characters are
spelt out first (`probe.reports.text.visible`). The page carries no script at all: evidence
folds with `<details>`, curl lines are selectable with one click through CSS. Its own Content
Security Policy allows nothing but its one `<style>` element, pinned by hash, so even an
escaping mistake could not load or run anything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from probe.findings import OWASP_API_2023, OWASP_TOP10_2021, CheckStatus, Severity
from probe.report import Report, ScanStatus
from probe.reports.tables import (
    BAR_GAP,
    BAR_HEIGHT,
    BAR_MAX,
    Catalogue,
    coverage_matrix,
    default_catalogue,
    not_run,
    ordered_checks,
    owasp_table,
    rule_groups,
    severity_bars,
)
from probe.reports.text import visible

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"

_STATUS_LABEL = {
    ScanStatus.complete: "complete",
    ScanStatus.interrupted: "interrupted: partial results",
    ScanStatus.failed: "failed",
}


def _finalize(value: Any) -> Any:
    """Applied to every `{{ }}` value before escaping: make hidden characters visible."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return visible(value)


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("probe.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["first_line"] = lambda text: str(text).split("\n", 1)[0]
    env.filters["when"] = format_time
    env.filters["ticks"] = code_spans
    return env


_TICKED = re.compile(r"`([^`\n]{1,200})`")


def code_spans(text: str) -> Markup:
    """Rule prose with its `backticked` names as <code> (the rest escaped)."""
    plain = visible(str(text))
    out = Markup("")
    position = 0
    for match in _TICKED.finditer(plain):
        out += plain[position : match.start()]  # Markup + str escapes the str
        out += Markup("<code>{}</code>").format(match.group(1))
        position = match.end()
    return out + plain[position:]


@functools.cache
def stylesheet() -> str:
    """The report's CSS, inlined into every report."""
    return resources.files("probe.reports").joinpath("templates", STYLESHEET).read_text("utf-8")


def content_security_policy(css: str) -> str:
    """The report's own CSP: nothing loads or runs; only the given `<style>` text applies."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


def format_time(moment: datetime) -> str:
    """A UTC time as `2024-05-01 12:00:00 UTC`."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(seconds: float) -> str:
    """`0.4 s`, `12.3 s`, `3 min 05 s`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def render_html(report: Report, catalogue: Catalogue | None = None) -> str:
    """The report as one self-contained HTML page (no script, no external resource)."""
    rules = default_catalogue() if catalogue is None else catalogue
    css = stylesheet()
    checks = ordered_checks(report)
    context = {
        "report": report,
        "css": Markup(css),  # noqa: S704 - the package's own stylesheet, never report data
        "csp": content_security_policy(css),
        "status_label": _STATUS_LABEL[report.status],
        "duration": format_duration((report.finished - report.started).total_seconds()),
        "severities": list(Severity),
        "check_statuses": list(CheckStatus),
        "bars": severity_bars(report.summary.findings),
        "bar": {"height": BAR_HEIGHT, "gap": BAR_GAP, "max": BAR_MAX},
        "owasp": owasp_table(report, rules),
        "owasp_api": owasp_table(report, rules, field="owasp_api"),
        "owasp_names": {**OWASP_TOP10_2021, **OWASP_API_2023},
        "matrix": coverage_matrix(report),
        "not_run": not_run(report),
        "groups": rule_groups(report, rules),
        "problems": [c for c in checks if c.status in (CheckStatus.error, CheckStatus.skipped)],
        "checks": checks,
    }
    return _environment().get_template(TEMPLATE).render(context)
