"""A Starlette app for the xss family's tests: reflecting routes beside their hardened twins.

Every route reflects its input somewhere; the weak ones leave it unencoded where a browser
runs it (or let it leave an attribute value), the twins encode it, or serve it where no browser
renders HTML, or put it where a tag is no tag (an encoded attribute value, a filtered
`<textarea>` or comment). Some weak routes are weaker than they look and must be reported
lower: a PUT endpoint, a page sandboxed without scripts.
"""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

NOSNIFF = {"X-Content-Type-Options": "nosniff"}
#: Types the `/typed/...` routes answer with: none but XML and an invalid type are reported.
TYPES = (
    "text/csv",
    "application/octet-stream",
    "application/pdf",
    "image/png",
    "font/woff2",
    "text/javascript",
    "application/xml",
    "application/rss+xml",
    "html",
)


def _page(body: str) -> str:
    return f"<!doctype html><html><head><title>Search</title></head><body>{body}</body></html>"


def _q(request: Request) -> str:
    return request.query_params.get("q", "")


async def html_page(request: Request) -> Response:
    """Weak: the query in an HTML page as it came."""
    return HTMLResponse(_page(f"<p>Results for {_q(request)}</p>"))


async def escaped_page(request: Request) -> Response:
    """Twin: the query HTML-escaped."""
    return HTMLResponse(_page(f"<p>Results for {html.escape(_q(request))}</p>"))


async def json_nosniff(request: Request) -> Response:
    """Twin: the query in JSON served as application/json with nosniff."""
    return JSONResponse({"query": _q(request), "results": []}, headers=NOSNIFF)


async def json_sniffable(request: Request) -> Response:
    """JSON without nosniff: only old browsers would render it."""
    return JSONResponse({"query": _q(request), "results": []})


async def json_as_html(request: Request) -> Response:
    """Weak: JSON served as text/html."""
    body = json.dumps({"query": _q(request), "results": []})
    return Response(body, media_type="text/html")


async def untyped_html(request: Request) -> Response:
    """Weak: an HTML page with no Content-Type at all."""
    return Response(_page(f"<p>Results for {_q(request)}</p>"), media_type=None)


async def untyped_nosniff(request: Request) -> Response:
    """Twin: an HTML-looking body with no Content-Type but nosniff."""
    return Response(_page(f"<p>{_q(request)}</p>"), media_type=None, headers=NOSNIFF)


async def plain_nosniff(request: Request) -> Response:
    """Twin: the query in text/plain with nosniff."""
    return PlainTextResponse(f"You searched for {_q(request)}", headers=NOSNIFF)


async def attribute(request: Request) -> Response:
    """Twin: the query in a double-quoted attribute with only `"` encoded; `<` and `>` stay
    raw but cannot open a tag inside the attribute value."""
    value = _q(request).replace("&", "&amp;").replace('"', "&quot;")
    return HTMLResponse(_page(f'<form><input name="q" value="{value}"></form>'))


def _input(value: str) -> HTMLResponse:
    return HTMLResponse(_page(f"<form><input name=q value={value}></form>"))


async def attribute_quotes_raw(request: Request) -> Response:
    """Weak: a double-quoted attribute escaped without its quotes (`html.escape(quote=False)`):
    a `"` ends the value and the rest becomes attributes, an event handler among them."""
    return _input(f'"{html.escape(_q(request), quote=False)}"')


async def attribute_unquoted(request: Request) -> Response:
    """Weak: fully escaped but unquoted, so a space ends the value."""
    return _input(html.escape(_q(request)))


async def attribute_escaped(request: Request) -> Response:
    """Twin: a double-quoted attribute fully escaped (quotes included)."""
    return _input(f'"{html.escape(_q(request))}"')


async def attribute_single_escaped(request: Request) -> Response:
    """Twin: a single-quoted attribute fully escaped (`'` becomes `&#x27;`)."""
    return _input(f"'{html.escape(_q(request))}'")


async def shouted(request: Request) -> Response:
    """Weak: the query upper-cased, raw (`<PRB...>` is still a tag to a browser)."""
    return HTMLResponse(_page(f"<h1>{_q(request).upper()}!</h1>"))


async def shouted_escaped(request: Request) -> Response:
    """Twin: the query escaped, then upper-cased (`&LT;` still encodes `<`)."""
    return HTMLResponse(_page(f"<h1>{html.escape(_q(request)).upper()}!</h1>"))


async def cut(request: Request) -> Response:
    """Weak: only the first 40 characters of the query, raw."""
    return HTMLResponse(_page(f"<p>Hi {_q(request)[:40]}</p>"))


async def cut_escaped(request: Request) -> Response:
    """Twin: the query escaped, then cut to 40 characters."""
    return HTMLResponse(_page(f"<p>Hi {html.escape(_q(request))[:40]}</p>"))


async def textarea_filtered(request: Request) -> Response:
    """Twin: the query in a `<textarea>` with every `</` removed, so it cannot close it."""
    value = _q(request).replace("</", "")
    return HTMLResponse(_page(f"<textarea>{value}</textarea>"))


async def textarea_open(request: Request) -> Response:
    """Weak: the query in a `<textarea>` as it came (a `</textarea>` closes it)."""
    return HTMLResponse(_page(f"<textarea>{_q(request)}</textarea>"))


async def comment_filtered(request: Request) -> Response:
    """Twin: the query in an HTML comment with `--` removed, so it cannot end the comment."""
    value = _q(request).replace("--", "")
    return HTMLResponse(_page(f"<!-- searched: {value} --><p>No results</p>"))


async def redirect(request: Request) -> Response:
    """Twin: a redirect whose body repeats the query (browsers never show it)."""
    body = f"<a href='/html'>Moved: {_q(request)}</a>"
    return HTMLResponse(body, status_code=302, headers={"Location": "/html"})


async def same_page(request: Request) -> Response:
    """Twin: the same page whatever the input."""
    return HTMLResponse(_page("<p>Welcome</p>"))


async def item(request: Request) -> Response:
    """Weak: a path parameter in an HTML page."""
    return HTMLResponse(_page(f"<h1>Item {request.path_params['name']}</h1>"))


async def comment(request: Request) -> Response:
    """Weak: a form field in an HTML page."""
    # Parsed by hand: Starlette's form parser needs python-multipart.
    form = parse_qs((await request.body()).decode())
    return HTMLResponse(_page(f"<p>Thanks for: {form.get('text', [''])[0]}</p>"))


async def render(request: Request) -> Response:
    """Weak, but reachable only by a script: a JSON field in an HTML page."""
    data = await request.json()
    return HTMLResponse(_page(f"<p>Hello {data.get('name', '')}</p>"))


async def client(request: Request) -> Response:
    """Weak, but reachable only by a script: a header in an HTML page."""
    return HTMLResponse(_page(f"<p>Client: {request.headers.get('x-client', '')}</p>"))


# A legacy marked section that Python's HTML reader raises on (browsers read it as a comment).
LEGACY = "<div class=legacy><![ CDATA[ imported from the old CMS ]]></div>"


async def legacy_textarea(request: Request) -> Response:
    """Twin: a filtered `<textarea>` (as `textarea_filtered`) on a page whose legacy section
    makes the standard library's HTML reader fail after the reflection."""
    value = _q(request).replace("</", "")
    return HTMLResponse(_page(f"<textarea>{value}</textarea>{LEGACY}"))


async def legacy_page(request: Request) -> Response:
    """Weak: the query as it came, after the same legacy section."""
    return HTMLResponse(_page(f"{LEGACY}<p>Results for {_q(request)}</p>"))


async def settings(request: Request) -> Response:
    """Weak, but reachable only by a script: a PUT endpoint that shows the query raw."""
    return HTMLResponse(_page(f"<p>Language set to {request.query_params.get('lang', '')}</p>"))


async def settings_escaped(request: Request) -> Response:
    """Twin: the PUT endpoint with the query HTML-escaped."""
    lang = html.escape(request.query_params.get("lang", ""))
    return HTMLResponse(_page(f"<p>Language set to {lang}</p>"))


async def sandboxed(request: Request) -> Response:
    """Weak, but scripts cannot run: raw reflection under a CSP sandbox without
    allow-scripts."""
    csp = {"Content-Security-Policy": "default-src 'none'; sandbox allow-forms"}
    return HTMLResponse(_page(f"<p>{_q(request)}</p>"), headers=csp)


async def sandboxed_scripts(request: Request) -> Response:
    """Weak: a CSP sandbox that allows scripts blocks nothing the tag needs."""
    csp = {"Content-Security-Policy": "sandbox allow-scripts allow-same-origin"}
    return HTMLResponse(_page(f"<p>{_q(request)}</p>"), headers=csp)


def _refuses_quotes(value: str) -> Response | None:
    """A naive filter: any quote gets a 400 page."""
    if "'" in value or '"' in value:
        return HTMLResponse(_page("<p>Invalid characters</p>"), status_code=400)
    return None


async def quotes_refused(request: Request) -> Response:
    """Weak: quotes are refused with a 400, but `<` and `>` come back raw."""
    return _refuses_quotes(_q(request)) or HTMLResponse(_page(f"<p>You searched {_q(request)}</p>"))


async def quotes_refused_escaped(request: Request) -> Response:
    """Twin: quotes refused, everything else HTML-escaped."""
    shown = html.escape(_q(request))
    return _refuses_quotes(_q(request)) or HTMLResponse(_page(f"<p>You searched {shown}</p>"))


def typed(media_type: str, nosniff: bool = False) -> Route:
    """A route answering `/typed/<type>` with the query raw in a body of that type."""

    async def page(request: Request) -> Response:
        headers = NOSNIFF if nosniff else None
        body = f"name,query\nrow,{_q(request)}\n"
        return Response(body, headers=headers, media_type=media_type)

    suffix = "-nosniff" if nosniff else ""
    return Route(f"/typed/{media_type.replace('/', '-')}{suffix}", page)


def once() -> Route:
    """Weak once: the first query with a `<` is reflected as it came, later ones escaped (a
    reflection that does not come back the same way)."""
    seen: list[str] = []

    async def page(request: Request) -> Response:
        value = _q(request)
        if "<" in value:
            seen.append(value)
        shown = value if len(seen) == 1 and "<" in value else html.escape(value)
        return HTMLResponse(_page(f"<p>{shown}</p>"))

    return Route("/once", page)


def then_busy() -> Route:
    """Weak, then rate limited: the first query with a `<` is reflected as it came, every later
    one gets a 429."""
    seen: list[str] = []

    async def page(request: Request) -> Response:
        value = _q(request)
        if "<" in value:
            seen.append(value)
            if len(seen) > 1:
                return PlainTextResponse("slow down", 429, headers={"Retry-After": "1"})
        return HTMLResponse(_page(f"<p>{value}</p>"))

    return Route("/then-busy", page)


def app() -> Starlette:
    """Every route of this module."""
    routes = [
        once(),
        then_busy(),
        Route("/html", html_page),
        Route("/escaped", escaped_page),
        Route("/json", json_nosniff),
        Route("/json-sniffable", json_sniffable),
        Route("/json-as-html", json_as_html),
        Route("/untyped", untyped_html),
        Route("/untyped-nosniff", untyped_nosniff),
        Route("/plain", plain_nosniff),
        Route("/attribute", attribute),
        Route("/attribute-quotes-raw", attribute_quotes_raw),
        Route("/attribute-unquoted", attribute_unquoted),
        Route("/attribute-escaped", attribute_escaped),
        Route("/attribute-single-escaped", attribute_single_escaped),
        Route("/shouted", shouted),
        Route("/shouted-escaped", shouted_escaped),
        Route("/cut", cut),
        Route("/cut-escaped", cut_escaped),
        Route("/textarea", textarea_filtered),
        Route("/textarea-open", textarea_open),
        Route("/comment", comment_filtered),
        Route("/redirect", redirect),
        Route("/same", same_page),
        Route("/items/{name}", item),
        Route("/comments", comment, methods=["POST"]),
        Route("/render", render, methods=["POST"]),
        Route("/client", client),
        Route("/legacy-textarea", legacy_textarea),
        Route("/legacy", legacy_page),
        Route("/settings", settings, methods=["PUT"]),
        Route("/settings-escaped", settings_escaped, methods=["PUT"]),
        Route("/sandboxed", sandboxed),
        Route("/sandboxed-scripts", sandboxed_scripts),
        Route("/quotes-refused", quotes_refused),
        Route("/quotes-refused-escaped", quotes_refused_escaped),
        *(typed(t) for t in TYPES),
        typed("application/xml", nosniff=True),
    ]
    return Starlette(routes=routes)
