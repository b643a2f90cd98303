"""The HTML report in a real browser: hostile target content stays inert text.

A Starlette app on 127.0.0.1 answers with script tags in headers, bodies, a reflected path and
an unhandled exception's message (under debug=True, so its debug page lands in evidence). A
real scan of it produces the report; headless Debian Chromium opens the HTML from disk and the
test asserts that nothing ran, nothing was injected, nothing was fetched and the console is
quiet. A hand-built report with hostile text in every field covers what the probes may not
carry. Chromium missing is a failure, not a skip: CI installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from probe.engine import Scan
from probe.evidence import build_evidence, curl_command
from probe.exchange import Exchange
from probe.findings import Finding
from probe.report import Report
from probe.reports import write_reports
from tests.reports.factories import HOSTILE, finding, hostile_report
from tests.scan import scenario
from tests.servers import serve_asgi

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A .png path: keep 1280x900 screenshots of the hostile reports for a human to look at.
SCREENSHOT_ENV = "PROBE_REPORT_SCREENSHOT"

#: Every element the template itself writes; anything else in the DOM was injected.
_TEMPLATE_TAG_NAMES = (
    "html head meta title style body header main footer nav section article div span p "
    "h1 h2 h3 h4 dl dt dd ul li a code pre em i b strong details summary "
    "table thead tbody tr th td svg text rect"
)
TEMPLATE_TAGS = frozenset(_TEMPLATE_TAG_NAMES.split())

BANNER = "<script>window.__pwned=1</script>"
POWERED = '"><img src=x onerror=window.__pwned=2>'
PAGE = (
    "<html><body><h1>catalogue</h1><script>window.__pwned=3</script>"
    '"><svg onload=window.__pwned=4></pre><script>window.__pwned=5</script>'
    '<a href="javascript:window.__pwned=6">more</a> {{7*7}}</body></html>'
)
CRASH = '<script>window.__pwned=7</script> "><img src=x onerror=window.__pwned=8> {{7*7}}'
IMG_PATH = "/p/<img src=x onerror=window.__pwned=9>"

_INSPECT = """() => {
  const all = [...document.querySelectorAll('*')];
  return {
    pwned: typeof window.__pwned,
    tags: [...new Set(all.map(e => e.localName))],
    handlers: all.flatMap(e => [...e.attributes]
      .filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.localName + ' ' + a.name)),
    links: [...document.querySelectorAll('[href], [src], [action], [formaction]')]
      .map(e => e.getAttribute('href') || e.getAttribute('src') || 'action'),
    styled: document.querySelectorAll('[style]').length,
    svgs: document.querySelectorAll('svg').length,
    text: document.body.textContent,  // closed <details> included
  };
}"""
_PRE_SHOWN = (
    "() => [...document.querySelectorAll('details.evidence pre')].map(e => e.checkVisibility())"
)


# -- the hostile target -----------------------------------------------------------------------


def _crash(request: StarletteRequest) -> Response:
    raise RuntimeError(CRASH)


def _page(request: StarletteRequest) -> Response:
    return HTMLResponse(PAGE)


def _items(request: StarletteRequest) -> Response:
    return JSONResponse({"note": PAGE, "next": "javascript:window.__pwned=10"})


def _reflect(request: StarletteRequest) -> Response:
    return HTMLResponse(f"<p>no such page: {request.url.path}</p>", status_code=404)


def _go(request: StarletteRequest) -> Response:
    return RedirectResponse("javascript:window.__pwned=11", status_code=302)


def _hostile_headers(app: Any) -> Any:
    """Adds the hostile Server and X-Powered-By lines to every answer, debug pages included."""
    extra = [
        (b"server", BANNER.encode()),
        (b"x-powered-by", POWERED.encode()),
        (b"link", b"<javascript:window.__pwned=12>; rel=preload"),
    ]

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


def hostile_app() -> Any:
    """A Starlette app whose every answer carries hostile text."""
    routes = [
        Route("/", _page),
        Route("/api/items", _items, methods=["GET"]),
        Route("/api/items", _crash, methods=["POST"]),
        Route("/crash", _crash),
        Route("/p/{rest:path}", _reflect),
        Route("/go", _go),
    ]
    return _hostile_headers(Starlette(debug=True, routes=routes))


ENDPOINTS: list[dict[str, Any]] = [
    {"name": "home", "path": "/"},
    {"name": "items", "path": "/api/items"},
    {"name": "create-item", "method": "POST", "path": "/api/items", "json": {"n": 1}},
    {"name": "crash", "path": "/crash"},
    {"path": IMG_PATH},
    {"name": "go", "path": "/go"},
]


# -- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (fails, never skips, when it is not installed)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Debian chromium is missing ({CHROMIUM}): install it with "
            "`apt-get install -y chromium` (.ci/run does this); the report XSS test needs it"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Opened:
    """A report opened in the browser, with everything the page did."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def open_report(browser: Browser, tmp_path: Path) -> Iterator[Any]:
    """Returns a function that writes a report's HTML and opens it via file://."""
    contexts = []

    def opener(report: Report) -> Opened:
        (path,) = write_reports(report, tmp_path, formats=["html"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, path.as_uri())
        page.on("request", lambda r: opened.requests.append(_describe(r)))
        page.on("console", lambda m: opened.console.append(_message(m)))
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.goto(opened.url, wait_until="load")
        return opened

    yield opener
    for context in contexts:
        context.close()


def _describe(request: Request) -> str:
    return request.url


def _message(message: ConsoleMessage) -> str:
    return f"{message.type}: {message.text}"


def assert_inert(opened: Opened) -> dict[str, Any]:
    """Nothing ran, nothing was injected or fetched, the console is quiet."""
    page = opened.page
    page.wait_for_timeout(200)  # give any injected handler a chance to fire
    seen: dict[str, Any] = page.evaluate(_INSPECT)
    assert seen["pwned"] == "undefined"
    assert set(seen["tags"]) <= TEMPLATE_TAGS, set(seen["tags"]) - TEMPLATE_TAGS
    assert seen["handlers"] == []
    assert all(link.startswith("#") for link in seen["links"]), seen["links"]
    assert seen["styled"] == 0
    assert seen["svgs"] == 1  # the severity chart
    assert opened.requests == [opened.url]
    assert opened.console == []
    assert opened.errors == []
    return seen


def scan_hostile(endpoints: list[dict[str, Any]]) -> tuple[Report, list[Finding]]:
    """Scan the hostile app with every probe; also one finding per exchange that got an answer.

    The extra findings carry each exchange's evidence and curl line exactly as the engine
    builds them for a probe's finding.
    """

    async def go(base_url: str) -> tuple[Report, list[Finding]]:
        scan = Scan(scenario(base_url, endpoints))
        report = await scan.run()
        answered = [x for x in scan.exchanges() if x.response is not None]
        return report, [_as_finding(x, scan) for x in answered]

    # Playwright's sync API keeps an event loop on this thread; the scan needs its own.
    with serve_asgi(hostile_app(), server_header=False) as base_url, ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, go, base_url).result(timeout=90)


def _as_finding(exchange: Exchange, scan: Scan) -> Finding:
    assert exchange.response is not None
    # Like a probe, cut the excerpt around what matters: the hostile text, deep in a debug page.
    body = exchange.response.text()
    at = body.find("__pwned")
    excerpt = body[max(0, at - 400) : at + 400] if at >= 0 else None
    return finding(
        "errors.stack-trace",
        exchange.endpoint,
        fingerprint=f"x{exchange.seq}",
        detail=f"{exchange.probe}/{exchange.purpose}: {exchange.request.url}",
        evidence=[build_evidence(exchange, scan.redactor, excerpt)],
        reproduce=curl_command(exchange, scan.redactor),
    )


def _screenshot(opened: Opened, suffix: str = "") -> None:
    """Keep a 1280x900 screenshot when PROBE_REPORT_SCREENSHOT names a .png path."""
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        path = Path(target)
        opened.page.screenshot(path=path.with_name(path.stem + suffix + path.suffix))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _holds(report: Report, needle: str) -> bool:
    return any(needle in text for text in _strings(report.model_dump(mode="json")))


# -- tests ------------------------------------------------------------------------------------


def test_scan_of_a_hostile_target_renders_an_inert_report(open_report: Any) -> None:
    report, _ = scan_hostile(ENDPOINTS)

    # The hostile text must really be in the report, or this test proves nothing.
    assert _holds(report, IMG_PATH), "endpoint labels carry the hostile path"
    assert _holds(report, BANNER), "the headers probe puts the Server banner in evidence"
    assert _holds(report, POWERED), "the headers probe puts X-Powered-By in evidence"
    assert _holds(report, "window.__pwned=7"), "the errors probe keeps the exception's text"

    opened = open_report(report)
    seen = assert_inert(opened)
    assert BANNER in seen["text"]
    assert IMG_PATH in seen["text"]
    _screenshot(opened, "-scan")


def test_every_real_hostile_exchange_as_evidence_stays_inert(open_report: Any) -> None:
    # Whatever the probes pick as evidence, it is built from exchanges like these.
    report, evidence = scan_hostile([e for e in ENDPOINTS if e.get("name") != "go"])
    report = report.model_copy(update={"findings": evidence})
    for needle in (BANNER, POWERED, "window.__pwned=3", "window.__pwned=7", "{{7*7}}"):
        assert _holds(report, needle), needle

    seen = assert_inert(open_report(report))
    assert BANNER in seen["text"]
    assert "window.__pwned=7" in seen["text"]


def test_hostile_text_in_every_field_stays_text(open_report: Any) -> None:
    opened = open_report(hostile_report())
    seen = assert_inert(opened)
    for hostile in HOSTILE:
        assert hostile in seen["text"]

    _screenshot(opened)


def test_evidence_is_folded_on_screen_and_unfolded_in_print(open_report: Any) -> None:
    opened = open_report(hostile_report())
    on_screen = opened.page.evaluate(_PRE_SHOWN)
    assert on_screen
    assert not any(on_screen)
    opened.page.emulate_media(media="print")
    assert all(opened.page.evaluate(_PRE_SHOWN))


def test_report_fits_1280_pixels_without_horizontal_scrolling(open_report: Any) -> None:
    opened = open_report(hostile_report())
    width = opened.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280
