"""The HTML report as text: self-contained, no script, escaped, with its own CSP."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from probe.report import Report, ScanStatus
from probe.reports import render_html
from probe.reports.html_report import code_spans, format_duration
from tests.reports.factories import (
    CATALOGUE,
    HOSTILE,
    hostile_report,
    make_report,
    sample_report,
)


class Page(HTMLParser):
    """Tags with their attributes, the text, and the `<style>` text of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        """Attributes of every element with this tag name."""
        return [attrs for name, attrs in self.tags if name == tag]

    def csp(self) -> str:
        """The content of the CSP meta element."""
        (meta,) = [
            a for a in self.named("meta") if a.get("http-equiv") == "Content-Security-Policy"
        ]
        return meta["content"] or ""


def _page(report: Report) -> Page:
    return Page(render_html(report, CATALOGUE))


@pytest.mark.parametrize("report", [sample_report(), hostile_report()], ids=["sample", "hostile"])
def test_page_has_no_script_handler_or_external_resource(report: Report) -> None:
    page = _page(report)
    names = {name for name, _ in page.tags}
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "base", "form"}
    for _, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")]
        assert "src" not in attrs
        assert "style" not in attrs
    assert all((a.get("href") or "").startswith("#") for a in page.named("a"))


def test_csp_allows_nothing_but_the_pinned_stylesheet() -> None:
    page = _page(sample_report())
    (style,) = page.styles
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in page.csp().split(";"))
    assert directives == {
        "default-src": "'none'",
        "style-src": f"'sha256-{digest}'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }


def test_csp_meta_comes_before_the_stylesheet() -> None:
    html = render_html(sample_report(), CATALOGUE)
    assert html.index('http-equiv="Content-Security-Policy"') < html.index("<style>")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_shown_as_text_not_markup(hostile: str) -> None:
    html = render_html(hostile_report(), CATALOGUE)
    text = "".join(Page(html).text)
    assert hostile in text
    if "<" in hostile:
        assert hostile not in html


def test_template_syntax_in_target_data_is_not_evaluated() -> None:
    text = "".join(_page(hostile_report()).text)
    assert "{{7*7}}" in text


def test_hidden_control_and_direction_characters_are_spelt_out() -> None:
    html = render_html(hostile_report(), CATALOGUE)
    assert "\x1b" not in html
    assert "\u202e" not in html
    assert "\\x1b[31mred\\x1b[0m \\u202eevil\\u202c" in html


def test_interrupted_scan_is_marked_in_the_header_and_a_banner() -> None:
    html = render_html(sample_report(ScanStatus.interrupted), CATALOGUE)
    assert 'class="pill status-interrupted">interrupted: partial results<' in html
    assert "banner-interrupted" in html
    assert "This scan was interrupted before it finished." in html


def test_failed_scan_is_marked_failed() -> None:
    html = render_html(sample_report(ScanStatus.failed), CATALOGUE)
    assert 'class="pill status-failed">failed<' in html
    assert "banner-failed" in html


def test_complete_scan_has_no_banner() -> None:
    assert 'class="banner' not in render_html(sample_report(), CATALOGUE)


def test_warnings_are_listed() -> None:
    html = render_html(sample_report(), CATALOGUE)
    assert "<li>identity &#39;bob&#39; was refused (401)" in html


def test_evidence_is_folded_away_and_curl_lines_are_preformatted() -> None:
    page = _page(sample_report())
    details = page.named("details")
    assert len(details) == 1 + 4  # all checks + one per evidence
    assert all("open" not in d for d in details)
    html = render_html(sample_report(), CATALOGUE)
    curl = "curl -i --path-as-is &#34;http://127.0.0.1:8000/api/orders/1&#34;"
    assert '<div class="curl">' in html
    assert f"<pre><code>{curl}</code></pre>" in html


def test_findings_are_grouped_by_rule_worst_first() -> None:
    html = render_html(sample_report(), CATALOGUE)
    assert html.count('<code class="rule-id">') == 3
    positions = [
        html.index(f'<code class="rule-id">{rule}</code>')
        for rule in ("errors.stack-trace", "headers.hsts-missing", "headers.version-banner")
    ]
    assert positions == sorted(positions)


def test_owasp_and_coverage_tables_are_rendered() -> None:
    html = render_html(sample_report(), CATALOGUE)
    assert '<td class="cat">A05:2021</td>' in html
    assert "nothing found by errors" in html
    assert ">not covered</td>" in html
    assert re.search(r'class="cell cell-skipped inherited"', html)
    assert '<th class="probe">errors</th>' in html


def test_chart_has_one_bar_per_severity_with_findings() -> None:
    page = _page(sample_report())
    (svg,) = page.named("svg")
    assert svg["role"] == "img"
    fills = [a["class"] for a in page.named("rect") if (a.get("class") or "").startswith("fill")]
    assert fills == ["fill-high", "fill-medium", "fill-low"]


def test_error_and_skipped_checks_are_listed_with_their_reasons() -> None:
    html = render_html(sample_report(), CATALOGUE)
    assert "Errors and skipped checks (2)" in html
    assert "<td>timeout after 5 s</td>" in html
    assert "<td>not part of this release</td>" in html


def test_empty_report_renders_without_tables() -> None:
    html = render_html(make_report(checks=[], probes=[], endpoints=[]), CATALOGUE)
    assert "No findings." in html
    assert "No check was recorded." in html


def test_print_stylesheet_unfolds_evidence() -> None:
    (style,) = _page(sample_report()).styles
    assert "@media print" in style
    assert "details::details-content" in style


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.42, "0.4 s"), (59.94, "59.9 s"), (185, "3 min 05 s")]
)
def test_durations_read_naturally(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_rendering_is_deterministic() -> None:
    assert render_html(hostile_report(), CATALOGUE) == render_html(hostile_report(), CATALOGUE)


def test_rule_prose_shows_backticked_names_as_code_and_escapes_the_rest() -> None:
    html = str(code_spans("tag it `public`; a `<b>` and <script>x</script>"))
    assert html == (
        "tag it <code>public</code>; a <code>&lt;b&gt;</code> and &lt;script&gt;x&lt;/script&gt;"
    )
