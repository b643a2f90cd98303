"""Real rate-limited apps for the rate_limit probe's tests, each weak app with a hardened twin.

The limiters are slowapi (on `limits`, fixed windows kept in memory) where it fits, and a small
fixed-window counter written here where the test needs a limiter keyed in a particular wrong
way (the raw path, a racy check), or a server that is no rate limiter at all (a lockout, a cap
on requests in flight, answers that only speak of limits). Windows are one second long, limits
five, so a test waits about a second per reset; scans run beside others use `LONG_WINDOW` and
`LONG_RULE`. Serve every app with `proxy_headers=False`: uvicorn would otherwise trust
X-Forwarded-For from 127.0.0.1 and rewrite the client address itself.
"""

from __future__ import annotations

import asyncio
import math
import random
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

LIMIT = 5
WINDOW = 1.0
RULE = f"{LIMIT}/second"
# For scans run beside many others: a slower machine must not see the window reset between
# the burst and the bypass attempts.
LONG_WINDOW = 5.0
LONG_RULE = f"{LIMIT} per 3 seconds"
LOGIN = {"token": "not-a-real-token", "user": "alice"}
SERVE = {"proxy_headers": False}


async def _login(request: Request) -> Response:
    return JSONResponse(LOGIN)


# -- slowapi ---------------------------------------------------------------------------------


def _forwarded_for(request: Request) -> str:
    """The weak key: whatever address the client claims in X-Forwarded-For."""
    claimed = request.headers.get("x-forwarded-for", "")
    return claimed.split(",")[0].strip() or get_remote_address(request)


def slowapi_app(
    *,
    headers: bool = True,
    http_date: bool = False,
    key: Callable[[Request], str] = get_remote_address,
    status: int = 429,
    rule: str = RULE,
    token: str | None = None,
) -> Starlette:
    """POST /api/login limited by slowapi to `rule` per key.

    `headers` turns on slowapi's Retry-After and X-RateLimit-* headers (`http_date`: the
    Retry-After as a date); `key` says whom the limit counts (the connection's address, or the
    weak `forwarded_for`); `status` other than 429 answers the limit with that status; with
    `token`, a request without `Authorization: Bearer <token>` gets a 401.
    """
    limiter = Limiter(
        key_func=key, headers_enabled=headers, retry_after="http-date" if http_date else None
    )

    async def login_as(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "who are you?"}, 401)
        return await _login(request)

    login = limiter.limit(rule)(_login if token is None else login_as)

    app = Starlette(routes=[Route("/api/login", login, methods=["POST"])])
    app.state.limiter = limiter
    if status == 429:
        app.add_exception_handler(
            RateLimitExceeded,
            _rate_limit_exceeded_handler,  # type: ignore[arg-type]
        )
    else:

        async def refuse(request: Request, exc: Exception) -> Response:
            body = {"error": "slow down: too many attempts"}
            return JSONResponse(body, status, headers={"Retry-After": "1"})

        app.add_exception_handler(RateLimitExceeded, refuse)
    return app


def forwarded_for_app(rule: str = RULE) -> Starlette:
    """slowapi keyed on the client-supplied X-Forwarded-For: bypassable."""
    return slowapi_app(key=_forwarded_for, rule=rule)


# -- no limiter, or an overloaded one -----------------------------------------------------------


@dataclass
class Hits:
    """Requests an app received, per path."""

    paths: Counter[str] = field(default_factory=Counter)


def unlimited_app(hits: Hits | None = None) -> Starlette:
    """GET /api/items, POST /api/login and GET /api/health with no limit at all; `hits`
    counts the requests each path received."""
    seen = hits or Hits()

    async def items(request: Request) -> Response:
        seen.paths[request.url.path] += 1
        return JSONResponse([{"id": 1}, {"id": 2}])

    async def login(request: Request) -> Response:
        seen.paths[request.url.path] += 1
        return JSONResponse(LOGIN)

    async def health(request: Request) -> Response:
        seen.paths[request.url.path] += 1
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/api/items", items),
            Route("/api/login", login, methods=["POST"]),
            Route("/api/health", health),
        ]
    )


def broken_app(hits: Hits) -> Starlette:
    """GET /api/items always fails with a 500; `hits` counts requests."""

    async def items(request: Request) -> Response:
        hits.paths[request.url.path] += 1
        return PlainTextResponse("Internal Server Error", 500)

    return Starlette(routes=[Route("/api/items", items)])


def overloaded_app() -> Starlette:
    """GET /api/items: every third request fails with a plain 503, scattered, no limiter."""
    count = Counter[str]()

    async def items(request: Request) -> Response:
        count["n"] += 1
        if count["n"] % 3 == 0:
            return PlainTextResponse("Service Unavailable", 503)
        return JSONResponse([{"id": 1}, {"id": 2}])

    return Starlette(routes=[Route("/api/items", items)])


# -- a fixed-window counter keyed as the test needs ----------------------------------------------


class Window:
    """A fixed window per key: LIMIT requests per WINDOW seconds from the window's first hit."""

    def __init__(self, limit: int = LIMIT, seconds: float = WINDOW) -> None:
        self.limit = limit
        self.seconds = seconds
        self._windows: dict[str, tuple[float, int]] = {}

    def remaining(self, key: str) -> tuple[float, int]:
        """(seconds until the key's window resets, requests it has used)."""
        now = time.monotonic()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.seconds:
            start, used = now, 0
        self._windows[key] = (start, used)
        return self.seconds - (now - start), used

    def hit(self, key: str) -> float | None:
        """Count a request; None when admitted, else seconds until the window resets."""
        left, used = self.remaining(key)
        if used >= self.limit:
            return left
        start = self._windows[key][0]
        self._windows[key] = (start, used + 1)
        return None


def _too_many(left: float, extra: dict[str, str] | None = None) -> Response:
    headers = {"Retry-After": str(max(1, math.ceil(left))), **(extra or {})}
    return JSONResponse({"error": "too many requests"}, 429, headers=headers)


def malformed_app() -> Starlette:
    """GET /api/items limited, its 429 announcing Retry-After in milliseconds (beside a
    RateLimit field that says the same in seconds)."""
    window = Window()

    async def items(request: Request) -> Response:
        left = window.hit("all")
        if left is not None:
            seconds = max(1, math.ceil(left))
            return JSONResponse(
                {"error": "too many requests"},
                429,
                headers={
                    "Retry-After": str(seconds * 1000),
                    "RateLimit": f'"default";r=0;t={seconds}',
                    "RateLimit-Policy": f'"default";q={LIMIT};w=1',
                },
            )
        return JSONResponse([{"id": 1}, {"id": 2}])

    return Starlette(routes=[Route("/api/items", items)])


def _normalised(path: str) -> str:
    return "/" + "/".join(part for part in path.lower().split("/") if part)


def path_app(*, key_on_raw: bool, seconds: float = WINDOW) -> ASGIApp:
    """GET /api/items, routed by the path normalised (letter case, slashes), limited in front
    of the routing (LIMIT per `seconds`): keyed on the raw request target (path and query:
    weak) or on the normalised path (hardened)."""
    window = Window(seconds=seconds)
    inner = Starlette(routes=[Route("/api/items", _items)])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        path = _normalised(scope["path"])
        key = f"{scope['path']}?{scope['query_string'].decode()}" if key_on_raw else path
        left = window.hit(key)
        if left is not None:
            await _too_many(left)(scope, receive, send)
            return
        await inner({**scope, "path": path, "raw_path": path.encode()}, receive, send)

    return app


async def _items(request: Request) -> Response:
    return JSONResponse([{"id": 1}, {"id": 2}])


def strict_path_app() -> ASGIApp:
    """GET /api/items, limited per exact path in front of strict routing: every path variant
    gets a 404 (unlimited, but never the normal answer)."""
    window = Window()
    inner = Starlette(routes=[Route("/api/items", _items)], debug=False)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            left = window.hit(scope["path"]) if scope["path"] == "/api/items" else None
            if left is not None:
                await _too_many(left)(scope, receive, send)
                return
        await inner(scope, receive, send)

    return app


# -- a bucket that refills gradually -----------------------------------------------------------


class Bucket:
    """A token bucket: `capacity` tokens, one more every 1/`rate` seconds."""

    def __init__(self, capacity: int = LIMIT, rate: float = 10.0) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = float(capacity)
        self.last = time.monotonic()

    def take(self) -> float | None:
        """Take a token; None when there was one, else seconds until the next."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


def bucket_app() -> Starlette:
    """GET /api/items behind one token bucket for everyone (10 requests per second, 5 at
    once): spoofed headers change nothing, yet single requests now and then find a fresh
    token."""
    bucket = Bucket()

    async def items(request: Request) -> Response:
        wait = bucket.take()
        if wait is not None:
            return _too_many(wait)
        return JSONResponse([{"id": 1}, {"id": 2}])

    return Starlette(routes=[Route("/api/items", items)])


# -- a check-then-act race ------------------------------------------------------------------------


@dataclass
class _RaceState:
    start: float = 0.0
    count: int = 0
    in_flight: int = 0


IN_FLIGHT_CAP = 20  # the racy app still refuses more than this many requests in progress


def race_app(*, atomic: bool, in_flight_cap: int | None = IN_FLIGHT_CAP) -> Starlette:
    """POST /api/login limited to LIMIT per second per client.

    Weak (`atomic=False`): the handler reads the count, awaits its "database" for 100 ms, and
    only then counts itself, so a burst's requests all read the same count; a separate, atomic
    cap on requests in progress (`in_flight_cap`, None for none) still refuses some. Hardened:
    check and count in one step.
    """
    state = _RaceState()
    cap = in_flight_cap if in_flight_cap is not None else math.inf

    async def login(request: Request) -> Response:
        now = time.monotonic()
        if now - state.start >= WINDOW:
            state.start, state.count = now, 0
        left = WINDOW - (now - state.start)
        if state.count >= LIMIT or state.in_flight >= cap:
            return _too_many(left)
        if atomic:
            state.count += 1
        state.in_flight += 1
        try:
            await asyncio.sleep(0.1)
        finally:
            state.in_flight -= 1
        if not atomic:
            state.count += 1
        return JSONResponse(LOGIN)

    return Starlette(routes=[Route("/api/login", login, methods=["POST"])])


def serve_options(**extra: Any) -> dict[str, Any]:
    """uvicorn options for these apps (see the module docstring)."""
    return {**SERVE, **extra}


# -- answers that are no limit, and limits that are no rate limit ------------------------------


def chatty_app() -> Starlette:
    """Unlimited GET /api/tips and /api/feed whose normal answers speak of rate limits and vary
    each time (a random tip, a random request id); GET /api/soft, limited to LIMIT per window,
    answers its limit with a 200 and an error body; GET /api/envelope too, but in the very
    shape of its normal answer (`{"status": ..., "message": ...}`)."""
    tips = ["Use pagination", "Cache responses", "Batch writes", "Use ETags"]
    window = Window()

    async def tip(request: Request) -> Response:
        note = "clients that exceed the quota are throttled"
        return JSONResponse({"tip": random.choice(tips), "note": note})

    async def feed(request: Request) -> Response:
        rid = "req_" + "".join(random.choices(string.ascii_letters, k=12))
        limits = {"limit": 1000, "remaining": 999}
        return JSONResponse({"request_id": rid, "items": ["a", "b"], "rate_limit": limits})

    async def soft(request: Request) -> Response:
        if window.hit("soft") is not None:
            return JSONResponse({"error": "rate limit exceeded, slow down"})
        return JSONResponse({"items": [1, 2]})

    async def envelope(request: Request) -> Response:
        if window.hit("envelope") is not None:
            return JSONResponse({"status": "error", "message": "rate limit exceeded"})
        return JSONResponse({"status": "ok", "message": "here are your items"})

    return Starlette(
        routes=[
            Route("/api/tips", tip),
            Route("/api/feed", feed),
            Route("/api/soft", soft),
            Route("/api/envelope", envelope),
        ]
    )


LOCK_AFTER = 5


def lockout_app(*, lock: float | None) -> Starlette:
    """POST /api/login refusing a wrong password with 401; with `lock` (seconds), after
    LOCK_AFTER failures the account is locked: 423 and "try again in 15 minutes" until the lock
    ends (brute-force protection, no rate-limit headers)."""
    state = {"failures": 0, "until": 0.0}

    async def login(request: Request) -> Response:
        now = time.monotonic()
        if now < state["until"]:
            body = {"error": "account locked, try again in 15 minutes"}
            return JSONResponse(body, 423)
        state["failures"] += 1
        if lock is not None and state["failures"] >= LOCK_AFTER:
            state["failures"], state["until"] = 0, now + lock
        return JSONResponse({"error": "invalid credentials"}, 401)

    return Starlette(routes=[Route("/api/login", login, methods=["POST"])])


def refusing_app(hits: Hits) -> ASGIApp:
    """Endpoints whose normal answer refuses everyone: GET /api/forbidden (403), /api/gone
    (410), /api/items (GET only: a POST gets 405), and no route at /api/missing (404); `hits`
    counts the requests each path received."""

    async def forbidden(request: Request) -> Response:
        return JSONResponse({"error": "forbidden"}, 403)

    async def gone(request: Request) -> Response:
        return JSONResponse({"error": "gone"}, 410)

    inner = Starlette(
        routes=[
            Route("/api/forbidden", forbidden),
            Route("/api/gone", gone),
            Route("/api/items", _items),
        ]
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hits.paths[scope["path"]] += 1
        await inner(scope, receive, send)

    return app


def in_flight_app() -> Starlette:
    """POST /api/login refusing a wrong password (401) after 50 ms of "hashing", with at most
    3 requests in progress: more get a 429 with Retry-After. No limit over time at all."""
    state = {"in_flight": 0}

    async def login(request: Request) -> Response:
        if state["in_flight"] >= 3:
            return _too_many(1.0)
        state["in_flight"] += 1
        try:
            await request.body()
            await asyncio.sleep(0.05)
            return JSONResponse({"error": "invalid credentials"}, 401)
        finally:
            state["in_flight"] -= 1

    return Starlette(routes=[Route("/api/login", login, methods=["POST"])])


def slow_app() -> Starlette:
    """GET /api/slow answering after 50 ms, no limiter (serve it with uvicorn's
    `limit_concurrency` for a 503 past a number of connections)."""

    async def slow(request: Request) -> Response:
        await asyncio.sleep(0.05)
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/api/slow", slow)])


HUGE_RETRY_AFTER = "9" * 400
HUGE_RESET = "1" + "0" * 500


def huge_numbers_app() -> Starlette:
    """GET /api/items limited, its 429 announcing a 400-digit Retry-After and a 501-digit
    X-RateLimit-Reset."""
    window = Window()

    async def items(request: Request) -> Response:
        if window.hit("all") is not None:
            headers = {"Retry-After": HUGE_RETRY_AFTER, "X-RateLimit-Reset": HUGE_RESET}
            return JSONResponse({"error": "too many requests"}, 429, headers=headers)
        return JSONResponse([{"id": 1}, {"id": 2}])

    return Starlette(routes=[Route("/api/items", items)])


SPOOF_NAMES = ("x-forwarded-for", "x-real-ip", "forwarded", "true-client-ip", "x-client-ip")


async def _never_answer(request: Request) -> Response:
    """Holds the request until the client leaves (5 s at most), then gives up with a 504."""
    for _ in range(100):
        if await request.is_disconnected():
            break
        await asyncio.sleep(0.05)
    return PlainTextResponse("late", 504)


def tarpit_app() -> Starlette:
    """GET /api/items limited to LIMIT per window; a request claiming a client address in a
    forwarding header is read and never answered (until the client leaves, 5 s at most)."""
    window = Window()

    async def items(request: Request) -> Response:
        if any(name in request.headers for name in SPOOF_NAMES):
            return await _never_answer(request)
        left = window.hit("all")
        if left is not None:
            return _too_many(left)
        return JSONResponse([{"id": 1}, {"id": 2}])

    return Starlette(routes=[Route("/api/items", items)])


@dataclass
class Requests:
    """Every request an app received: (method, path, query)."""

    seen: list[tuple[str, str, str]] = field(default_factory=list)


def recording_app(requests: Requests) -> ASGIApp:
    """Unlimited POST /api/login and PUT /api/profile (routed whatever the letter case or
    slashes of the path); every request is recorded as received."""

    async def ok(request: Request) -> Response:
        return JSONResponse({"ok": True})

    inner = Starlette(
        routes=[
            Route("/api/login", ok, methods=["POST"]),
            Route("/api/profile", ok, methods=["PUT"]),
        ]
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        query = scope["query_string"].decode()
        requests.seen.append((scope["method"], scope["path"], query))
        path = _normalised(scope["path"])
        await inner({**scope, "path": path, "raw_path": path.encode()}, receive, send)

    return app


def stuck_app(*, answered: int) -> Starlette:
    """GET /api/items limited to LIMIT a minute (429, Retry-After); from request number
    `answered` + 1 on, requests are read and never answered (until the client leaves, 5 s at
    most): a wait for the reset ends with a poll that times out."""
    window = Window(seconds=60.0)
    count = Counter[str]()

    async def items(request: Request) -> Response:
        count["n"] += 1
        if count["n"] > answered:
            return await _never_answer(request)
        left = window.hit("all")
        if left is not None:
            return _too_many(left)
        return JSONResponse([{"id": 1}, {"id": 2}])

    return Starlette(routes=[Route("/api/items", items)])
