"""Apps for the traversal family's tests: file reads joined unsafely beside their safe twins.

Every app reads from a fake root that the test builds in a temporary folder (`make_root`):
`etc/passwd` with made-up accounts, `files/readme.txt`, `files/reports/2024.txt`, a container
image with its own `etc/passwd` under `images/42`, and for the Windows-like app
`windows/win.ini`. The weak apps join the input onto `/files` and normalise it the way
`os.path.join` + `normpath` would, but inside the fake root, like a chroot: `..` stops at the
fake root and an absolute path lands in it, so no test ever reads the machine's own files.
The safe twins resolve the path and refuse anything outside `files/`.

Each app records the request target exactly as its server received it (ASGI `raw_path` and
`query_string`, WSGI `REQUEST_URI`/`RAW_URI`), so the tests can check that payloads arrived
unnormalised.
"""

from __future__ import annotations

import base64
import html
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
prbtest:x:1000:1000:Fake Test User,,,:/home/prbtest:/bin/bash
"""
WIN_INI = """\
; for 16-bit app support
[fonts]
[extensions]
[mci extensions]
[files]
[Mail]
MAPI=1
"""
# The container image's own accounts, unlike the fake machine's.
IMAGE_PASSWD = """\
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
app:x:1000:1000:app user:/home/app:/bin/sh
"""
IMAGE = "images/42"
# A tutorial page quoting a passwd file, as documentation sites do.
TUTORIAL = """\
<html><body><h1>Reading /etc/passwd</h1><p>Each line is one account:</p>
<pre>
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1001:1001:Alice,,,:/home/alice:/bin/zsh
</pre></body></html>
"""


def make_root(folder: Path, *, windows: bool = False) -> Path:
    """Build a fake file system root in `folder`; Windows-like: win.ini, no /etc."""
    (folder / "files" / "reports").mkdir(parents=True)
    (folder / "files" / "readme.txt").write_text("Hello from the files folder.\n")
    (folder / "files" / "reports" / "2024.txt").write_text("Report 2024: all good.\n")
    (folder / IMAGE / "etc").mkdir(parents=True)
    (folder / IMAGE / "etc" / "hostname").write_text("build-box\n")
    (folder / IMAGE / "etc" / "passwd").write_text(IMAGE_PASSWD)
    if windows:
        (folder / "windows").mkdir()
        (folder / "windows" / "win.ini").write_text(WIN_INI.replace("\n", "\r\n"))
    else:
        (folder / "etc").mkdir()
        (folder / "etc" / "passwd").write_text(PASSWD)
    return folder


def read_unsafely(root: Path, name: str) -> str | None:
    """The weak read: `/files` joined with the name and normalised, inside the fake root."""
    virtual = posixpath.normpath(posixpath.join("/files", name))
    return _inside(root, root / virtual.lstrip("/"))


def read_in_image(root: Path, name: str) -> str | None:
    """A file of the container image: `..` stops at the image's own root, as in a chroot."""
    virtual = posixpath.normpath("/" + name)
    return _inside(root / IMAGE, root / IMAGE / virtual.lstrip("/"))


def read_safely(root: Path, name: str) -> str | None:
    """The safe read: the resolved path must stay inside `files/`."""
    return _inside(root / "files", root / "files" / name)


def _inside(folder: Path, path: Path) -> str | None:
    # Resolving also follows symlinks: nothing outside the fake root is ever opened.
    real = path.resolve()
    if not real.is_relative_to(folder.resolve()) or not real.is_file():
        return None
    return real.read_text()


class RawTargets:
    """ASGI middleware that records each request target as the server received it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record `raw_path` and the query string, then pass the request on."""
        if scope["type"] == "http":
            query = scope["query_string"].decode("latin-1")
            self.seen.append(scope["raw_path"].decode("latin-1") + ("?" + query if query else ""))
        await self.app(scope, receive, send)


def _missing(name: str) -> Response:
    return PlainTextResponse(f"no such file: {name}", status_code=404)


def starlette_app(root: Path) -> RawTargets:
    """Weak and safe routes over the fake root, in path and query parameters."""

    async def files(request: Request) -> Response:
        name = request.path_params["name"]
        text = read_unsafely(root, name)
        return PlainTextResponse(text) if text is not None else _missing(name)

    async def safe_files(request: Request) -> Response:
        name = request.path_params["name"]
        text = read_safely(root, name)
        return PlainTextResponse(text) if text is not None else _missing(name)

    async def read(request: Request) -> Response:
        name = request.query_params.get("name", "")
        text = read_unsafely(root, name)
        if text is None:
            return JSONResponse({"error": f"cannot open {name}"}, status_code=404)
        return JSONResponse({"name": name, "content": text})

    async def safe_read(request: Request) -> Response:
        name = request.query_params.get("name", "")
        text = read_safely(root, name)
        if text is None:
            return JSONResponse({"error": f"cannot open {name}"}, status_code=404)
        return JSONResponse({"name": name, "content": text})

    async def filtered(request: Request) -> Response:
        # Strips `../` once and refuses absolute paths: `....//` gets through.
        name = request.query_params.get("name", "")
        if name.startswith("/"):
            return _missing(name)
        text = read_unsafely(root, name.replace("../", ""))
        return PlainTextResponse(text) if text is not None else _missing(name)

    async def decode_twice(request: Request) -> Response:
        # Checks the once-decoded value, then decodes it again: `%252e%252e%252f` gets through.
        name = request.query_params.get("name", "")
        if ".." in name or name.startswith("/"):
            return _missing(name)
        text = read_unsafely(root, unquote(name))
        return PlainTextResponse(text) if text is not None else _missing(name)

    async def open_json(request: Request) -> Response:
        name = str((await request.json()).get("path", ""))
        text = read_safely(root, name)
        return PlainTextResponse(text) if text is not None else _missing(name)

    routes = [
        *shaped_routes(root),
        Route("/open", open_json, methods=["POST"]),
        Route("/files/{name:path}", files),
        Route("/safe/files/{name:path}", safe_files),
        Route("/read", read),
        Route("/safe/read", safe_read),
        Route("/filtered", filtered),
        Route("/decode-twice", decode_twice),
        *decoy_routes(),
    ]
    return RawTargets(Starlette(routes=routes))


def shaped_routes(root: Path) -> list[Route]:
    """Reads of special shapes: an image browser (its own `etc/passwd` is what it is for), a
    prefix check, contents sent base64-encoded in JSON, and a rendered HTML preview in JSON;
    each beside its twin."""

    def answer(text: str | None, name: str) -> Response:
        return PlainTextResponse(text) if text is not None else _missing(name)

    async def image(request: Request) -> Response:
        name = request.query_params.get("path", "")
        return answer(read_in_image(root, name), name)

    async def image_absolute(request: Request) -> Response:
        # Relative paths stay in the image; absolute ones are opened on the (fake) machine.
        name = request.query_params.get("path", "")
        reader = read_unsafely if name.startswith("/") else read_in_image
        return answer(reader(root, name), name)

    def reports(read: Any) -> Any:
        async def page(request: Request) -> Response:
            name = request.query_params.get("file", "")
            if not name.startswith("reports/"):
                return PlainTextResponse("only reports", status_code=403)
            return answer(read(root, name), name)

        return page

    def blob(read: Any) -> Any:
        async def page(request: Request) -> Response:
            name = request.query_params.get("path", "")
            text = read(root, name)
            if text is None:
                return JSONResponse({"error": "missing"}, status_code=404)
            content = base64.encodebytes(text.encode()).decode()
            return JSONResponse({"path": name, "encoding": "base64", "content": content})

        return page

    def preview(read: Any) -> Any:
        async def page(request: Request) -> Response:
            name = request.query_params.get("file", "")
            text = read(root, name)
            if text is None:
                return JSONResponse({"error": "missing"}, status_code=404)
            return JSONResponse({"html": f"<pre>{html.escape(text)}</pre>"})

        return page

    return [
        Route("/image/files", image),
        Route("/image/files-absolute", image_absolute),
        Route("/reports", reports(read_unsafely)),
        Route("/safe/reports", reports(read_safely)),
        Route("/blob", blob(read_unsafely)),
        Route("/safe/blob", blob(read_safely)),
        Route("/preview", preview(read_unsafely)),
        Route("/safe/preview", preview(read_safely)),
    ]


def decoy_routes() -> list[Route]:
    """Routes that read no file but could fool a careless judge."""

    async def docs(request: Request) -> Response:
        name = request.query_params.get("name", "")
        return HTMLResponse(TUTORIAL.replace("</h1>", f"</h1><p>You asked for {name}</p>"))

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        if "passwd" in query:
            return HTMLResponse(TUTORIAL)
        return HTMLResponse("<html><body><p>No results.</p></body></html>")

    async def same(request: Request) -> Response:
        return PlainTextResponse("Welcome to the file viewer.")

    async def echo(request: Request) -> Response:
        name = request.query_params.get("name", "")
        return PlainTextResponse(f"cannot open {name}: root:x:0:0 is not allowed here", 404)

    return [
        Route("/docs", docs),
        Route("/search", search),
        Route("/same", same),
        Route("/echo", echo),
    ]


def windows_app(root: Path) -> RawTargets:
    """A Windows-like file server: `\\` is a separator and a drive letter is dropped."""

    async def view(request: Request) -> Response:
        name = request.query_params.get("name", "")
        path = re.sub(r"^[A-Za-z]:", "", name.replace("\\", "/"))
        text = read_unsafely(root, path)
        return PlainTextResponse(text) if text is not None else _missing(name)

    return RawTargets(Starlette(routes=[Route("/view", view)]))


def flask_app(root: Path, seen: list[str]) -> Any:
    """A Flask app (Werkzeug's server): a weak and a safe query parameter read."""
    app = Flask("traversal_test")

    @app.before_request
    def record() -> None:
        environ = request.environ
        seen.append(environ.get("REQUEST_URI") or environ.get("RAW_URI") or "")

    @app.get("/download")
    def download() -> Any:
        name = request.args.get("file", "")
        text = read_unsafely(root, name)
        return (text, 200) if text is not None else (f"no such file: {name}", 404)

    @app.get("/safe/download")
    def safe_download() -> Any:
        name = request.args.get("file", "")
        text = read_safely(root, name)
        return (text, 200) if text is not None else (f"no such file: {name}", 404)

    return app
