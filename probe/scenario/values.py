"""Value types and checks shared by the scenario models.

Numbers that refuse YAML booleans, text that may be written as a bare number, header mappings,
JSON bodies, URLs and paths: each check raises ValueError with the message the loader shows.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


def no_bool(value: Any) -> Any:
    """Refuse a boolean where a number is expected (YAML `true` would pass as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


PositiveInt = Annotated[int, Field(gt=0), BeforeValidator(no_bool)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(no_bool)]


def _number_to_text(value: Any) -> Any:
    # `id: 1001` in YAML is a number; in a URL or a header it is the text "1001".
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


#: A string value that may be written as a bare number in YAML.
Text = Annotated[str, BeforeValidator(_number_to_text)]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


#: Headers the HTTP layer writes itself; set by hand they break the framing of the request.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})


def check_header_value(name: str, value: str, *, what: str | None = None) -> str:
    """A header value must be printable ASCII (tabs allowed): no line break, NUL or accent.

    `what` names the value in the message when it is not a header of its own (a token).
    """
    shown = what or f"the value of header {name!r}"
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{shown} contains a line break or NUL")
    if any(not (c == "\t" or " " <= c <= "~") for c in value):
        raise ValueError(f"{shown} holds characters outside printable ASCII")
    return value


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header names must be HTTP tokens, not framing headers; values printable ASCII."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in FRAMING_HEADERS:
            raise ValueError(f"header {name!r} is set by probe itself; remove it")
        check_header_value(name, value)
    return headers


def check_finite(value: Any) -> Any:
    """JSON bodies cannot carry NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a JSON body cannot hold NaN or infinity")
    if isinstance(value, dict):
        for item in value.values():
            check_finite(item)
    elif isinstance(value, list):
        for item in value:
            check_finite(item)
    return value


#: Header lines as a mapping, checked with `check_headers`.
Headers = Annotated[dict[str, Text], AfterValidator(check_headers)]
#: A JSON body, checked with `check_finite`.
JsonBody = Annotated[Any, AfterValidator(check_finite)]


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors and values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_url(value: str, *, field: str) -> str:
    """Accept an absolute http(s) URL with a host and no query or fragment."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{field} must start with http:// or https://, got {value!r}")
    if not parts.hostname:
        raise ValueError(f"{field} has no host: {value!r}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{field} has an invalid port: {value!r}") from None
    if parts.query or parts.fragment:
        raise ValueError(f"{field} must not carry a query or fragment: {value!r}")
    if parts.username or parts.password:
        raise ValueError(f"{field} must not carry credentials; use identities instead")
    return value.rstrip("/")


def host_key(url: str) -> str:
    """`host:port` of a URL with the scheme's default port filled in, lower-cased."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_path(value: str) -> str:
    """An endpoint path must start with a slash and carry no scheme, query or fragment."""
    if not value.startswith("/"):
        raise ValueError(f"path must start with '/', got {value!r}")
    if "?" in value or "#" in value:
        raise ValueError("put query parameters under `query`, not in the path")
    return value


#: A path joined to base_url: starts with a slash, no scheme, query or fragment.
PathText = Annotated[str, AfterValidator(check_path)]
