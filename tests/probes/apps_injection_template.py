"""A Starlette app for the template family's tests: Jinja2 fed input as template text versus
as data, beside answers that only look like evaluation.

Weak routes build a Jinja2 template from the input (a query parameter, a JSON field, a
header, a template rendered into a response header), one mimics a single-brace engine and
one an engine multiplying in 32-bit integers.
Twins pass the input as data to a fixed template, reflect it verbatim (in the body or a
header), strip the template syntax and show the operands, compute any bare `a*b` (a
calculator, not a template), or give the same page for every input.
"""

from __future__ import annotations

import html
import re

from jinja2 import Environment, TemplateError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

_ENV = Environment(autoescape=True)
_FIXED = _ENV.from_string("<p>Hello {{ name }}!</p>")
_PRODUCT = re.compile(r"(\d+)\s*\*\s*(\d+)")
_BRACES = re.compile(r"\{(\d+)\*(\d+)\}")
_DOLLAR = re.compile(r"\$\{(\d+)\*(\d+)\}")


def _render(text: str) -> Response:
    try:
        page = Environment().from_string(text).render()
    except TemplateError:
        return HTMLResponse("<p>bad greeting</p>", status_code=400)
    return HTMLResponse(page)


async def hello(request: Request) -> Response:
    """Weak: the name becomes part of the template's text."""
    return _render("<p>Hello " + request.query_params.get("name", "") + "!</p>")


async def greet(request: Request) -> Response:
    """Weak: a JSON field becomes the template."""
    body = await request.json()
    return _render(f"<p>Dear {body.get('name', '')}, welcome.</p>")


async def banner(request: Request) -> Response:
    """Weak: a header becomes the template."""
    return _render("<p>Client " + request.headers.get("x-client", "") + "</p>")


async def tagline(request: Request) -> Response:
    """Weak: the name is rendered as a template into a response header; the body is fixed."""
    try:
        line = Environment().from_string("Hi " + request.query_params.get("name", "")).render()
    except TemplateError:
        line = "Hi"
    return PlainTextResponse("ok", headers={"X-Tagline": line, "X-Request-Id": "42"})


async def tagline_safe(request: Request) -> Response:
    """Twin: the name copied into a response header verbatim."""
    line = "Hi " + request.query_params.get("name", "")
    return PlainTextResponse("ok", headers={"X-Tagline": line, "X-Request-Id": "42"})


async def single(request: Request) -> Response:
    """Weak: a toy engine evaluating `{a*b}`, single braces only."""
    name = request.query_params.get("name", "")
    text = _BRACES.sub(lambda m: str(int(m.group(1)) * int(m.group(2))), name)
    return PlainTextResponse(f"Hello {text}")


def _int32(match: re.Match[str]) -> str:
    # Java `int` arithmetic: the product wraps to signed 32 bits.
    product = (int(match.group(1)) * int(match.group(2))) & 0xFFFFFFFF
    return str(product - (1 << 32) if product >= 1 << 31 else product)


async def spel(request: Request) -> Response:
    """Weak: a toy 32-bit expression engine (as Spring SpEL multiplies two int literals),
    evaluating `${a*b}` only."""
    name = _DOLLAR.sub(_int32, request.query_params.get("name", ""))
    return HTMLResponse(f"<p>Hello {html.escape(name)}</p>")


async def spel_safe(request: Request) -> Response:
    """Twin: the same page with the name shown as data, expression and all."""
    return HTMLResponse(f"<p>Hello {html.escape(request.query_params.get('name', ''))}</p>")


async def hello_safe(request: Request) -> Response:
    """Twin: the name is data passed to a fixed template."""
    return HTMLResponse(_FIXED.render(name=request.query_params.get("name", "")))


async def echo(request: Request) -> Response:
    """Twin: the name reflected verbatim, expression and all."""
    return JSONResponse({"hello": request.query_params.get("name", "")})


async def strip(request: Request) -> Response:
    """Twin: template syntax stripped, the operands shown as they came."""
    name = re.sub(r"[{}$#<>%=]", "", request.query_params.get("name", ""))
    return PlainTextResponse(f"Hello {name.strip()}")


async def calc(request: Request) -> Response:
    """Twin: a calculator, computing any `a*b` it finds (template syntax or not)."""
    found = _PRODUCT.search(request.query_params.get("expr", ""))
    result = int(found.group(1)) * int(found.group(2)) if found else 0
    return JSONResponse({"result": result})


async def same(request: Request) -> Response:
    """Twin: the same page for every input."""
    return HTMLResponse("<html><body><h1>Welcome</h1></body></html>")


def app() -> Starlette:
    """Weak routes and their twins."""
    return Starlette(
        routes=[
            Route("/hello", hello),
            Route("/greet", greet, methods=["POST"]),
            Route("/banner", banner),
            Route("/single", single),
            Route("/spel", spel),
            Route("/spel-safe", spel_safe),
            Route("/tagline", tagline),
            Route("/tagline-safe", tagline_safe),
            Route("/hello-safe", hello_safe),
            Route("/echo", echo),
            Route("/strip", strip),
            Route("/calc", calc),
            Route("/same", same),
        ]
    )
