"""Scenario format version 1 as pydantic models.

The models check shapes and values one key at a time; `reference_problems` checks what spans
keys (unique names, identities and endpoints that are referred to). Both report a location as a
key path, which the loader turns into file:line.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

PROBE_IDS = ("headers", "https", "rate_limit", "jwt", "errors", "injection", "access")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")

Loc = tuple[str | int, ...]


def _no_bool(value: Any) -> Any:
    # YAML `true` would otherwise pass as the number 1.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


PositiveInt = Annotated[int, Field(gt=0), BeforeValidator(_no_bool)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_no_bool)]
MAX_ENDPOINTS = 1000


def _number_to_text(value: Any) -> Any:
    # `id: 1001` in YAML is a number; in a URL or a header it is the text "1001".
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


#: A string value that may be written as a bare number in YAML.
Text = Annotated[str, BeforeValidator(_number_to_text)]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header names must be HTTP tokens and values free of CR, LF and NUL."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"the value of header {name!r} contains a line break or NUL")
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


class _Strict(BaseModel):
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


class Target(_Strict):
    """Where the API lives and which hosts the scan may contact."""

    base_url: str = Field(description="Root URL of the API; endpoint paths are joined to it.")
    http_url: str | None = Field(
        default=None,
        description="Plain-HTTP twin for the https probe; default: base_url over http, port 80.",
    )
    scope: list[str] | None = Field(
        default=None,
        description="host or host:port entries the scan may contact; default: the URLs' hosts.",
    )
    verify_tls: bool | str = Field(
        default=True, description="true, false, or the path of a CA bundle to trust."
    )
    headers: Headers = Field(default_factory=dict, description="Headers sent on every request.")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return check_url(value, field="base_url")

    @field_validator("http_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = check_url(value, field="http_url")
        if not value.startswith("http://"):
            raise ValueError("http_url must be a plain http:// URL")
        return value

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("scope must list at least one host")
        for entry in value:
            if "/" in entry or not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", entry):
                raise ValueError(f"scope entries are host or host:port, got {entry!r}")
        return [entry.lower() for entry in value]

    @property
    def effective_http_url(self) -> str:
        """The plain-HTTP twin: http_url, or base_url over http on the default port."""
        if self.http_url:
            return self.http_url
        parts = urlsplit(self.base_url)
        if parts.scheme == "http":
            return self.base_url
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        return parts._replace(scheme="http", netloc=host).geturl()

    def scope_keys(self) -> frozenset[str]:
        """Normalised `host:port` (or bare `host`, meaning any port) entries in scope."""
        if self.scope is not None:
            return frozenset(self.scope)
        return frozenset({host_key(self.base_url), host_key(self.effective_http_url)})


class Settings(_Strict):
    """How hard and how long the scan may push the target."""

    concurrency: PositiveInt = Field(8, description="Requests in flight at most (not bursts).")
    requests_per_second: PositiveFloat = Field(20, description="Politeness cap outside bursts.")
    timeout: PositiveFloat = Field(10, description="Seconds per request.")
    max_requests: PositiveInt = Field(5000, description="Hard request budget for the scan.")
    body_cap: PositiveInt = Field(
        1_048_576, description="Bytes of a response body read at most (after decompression)."
    )
    burst_cap: PositiveInt = Field(500, description="Largest burst any endpoint may ask for.")


class Login(_Strict):
    """A login request made at scan start to obtain the identity's token."""

    method: Literal["GET", "POST", "PUT", "PATCH"] = "POST"
    path: str = Field(description="Path of the login endpoint, joined to base_url.")
    headers: Headers = Field(default_factory=dict)
    json_body: JsonBody = Field(default=None, alias="json", description="JSON body to send.")
    form: dict[str, Text] | None = Field(default=None, description="Form fields to send.")
    token_path: str = Field(description="Dotted path of the token in the JSON answer.")
    refresh_path: str | None = Field(default=None, description="Dotted path of a refresh token.")

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_path(value)

    @model_validator(mode="after")
    def _one_body(self) -> Login:
        if self.json_body is not None and self.form is not None:
            raise ValueError("login takes json or form, not both")
        return self


class Identity(_Strict):
    """Someone the scan can act as: a ready token or a login."""

    token: str | None = Field(default=None, description="A ready bearer token.")
    login: Login | None = Field(default=None, description="Log in at scan start instead.")
    header: str = Field("Authorization", description="Header that carries the token.")
    scheme: str = Field("Bearer", description='Prefix before the token; "" sends it bare.')
    tags: list[str] = Field(default_factory=list, description="Roles, e.g. [admin].")

    @field_validator("header")
    @classmethod
    def _header(cls, value: str) -> str:
        check_headers({value: ""})
        return value

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, value: str) -> str:
        check_headers({"scheme": value})
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Identity:
        if (self.token is None) == (self.login is None):
            raise ValueError("an identity needs exactly one of token or login")
        if self.token is not None and not self.token.strip():
            raise ValueError("token is empty")
        return self


def check_path(value: str) -> str:
    """An endpoint path must start with a slash and carry no scheme, query or fragment."""
    if not value.startswith("/"):
        raise ValueError(f"path must start with '/', got {value!r}")
    if "?" in value or "#" in value:
        raise ValueError("put query parameters under `query`, not in the path")
    return value


class Endpoint(_Strict):
    """One request the probes may send, with what each probe may do to it."""

    name: str | None = Field(default=None, description='Unique name; default "METHOD path".')
    method: str = Field("GET", description="HTTP method.")
    path: str = Field(description="Path joined to base_url; {name} placeholders allowed.")
    path_params: dict[str, Text] = Field(default_factory=dict)
    query: dict[str, str | int | float | bool | list[Text]] = Field(default_factory=dict)
    headers: Headers = Field(default_factory=dict)
    json_body: JsonBody = Field(default=None, alias="json", description="JSON body.")
    form: dict[str, Text] | None = Field(default=None, description="Form body.")
    body: str | None = Field(default=None, description="Raw body text.")
    content_type: str | None = Field(default=None, description="Content-Type for `body`.")
    identity: str | None = Field(default=None, description="Send as this identity.")
    owner: str | None = Field(default=None, description="Identity that owns the resource.")
    inject: list[str] | Literal["all"] = Field(
        default_factory=list, description="Parameters the injection probe may fuzz."
    )
    burst: PositiveInt | None = Field(default=None, description="Opt-in burst size.")
    expect_limit: PositiveInt | None = Field(
        default=None, description="A limit response must come within this many requests."
    )
    tags: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in HTTP_METHODS:
            raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)}, got {value!r}")
        return upper

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_path(value)

    @model_validator(mode="after")
    def _consistent(self) -> Endpoint:
        bodies = [b for b in (self.json_body, self.form, self.body) if b is not None]
        if len(bodies) > 1:
            raise ValueError("an endpoint takes one of json, form or body")
        missing = [p for p in _PLACEHOLDER.findall(self.path) if p not in self.path_params]
        if missing:
            raise ValueError(f"path placeholder {{{missing[0]}}} has no value in path_params")
        return self

    @property
    def label(self) -> str:
        """The endpoint's name, or "METHOD path" when it has none."""
        return self.name or f"{self.method} {self.path}"

    @property
    def rendered_path(self) -> str:
        """The path with placeholders filled from path_params."""
        return _PLACEHOLDER.sub(lambda m: self.path_params[m.group(1)], self.path)

    def parameter_names(self) -> list[str]:
        """Every parameter the endpoint defines, as `inject` may name them."""
        names = list(self.path_params) + list(self.query) + list(self.headers)
        if isinstance(self.json_body, dict):
            names += _dotted_keys(self.json_body)
        if self.form:
            names += list(self.form)
        return names


def _dotted_keys(value: dict[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, item in value.items():
        name = f"{prefix}{key}"
        keys.append(name)
        if isinstance(item, dict):
            keys += _dotted_keys(item, f"{name}.")
    return keys


class HeadersConfig(_Strict):
    """Options of the headers probe."""

    cors_origin: str = Field(
        "https://probe-cors-check.invalid",
        description="Foreign Origin sent to check CORS reflection (never contacted).",
    )

    @field_validator("cors_origin")
    @classmethod
    def _origin(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise ValueError(
                f"cors_origin must be an origin such as https://a.example, got {value!r}"
            )
        return value


class HttpsConfig(_Strict):
    """Options of the https probe."""


class RateLimitConfig(_Strict):
    """Options of the rate_limit probe."""

    reset_wait_cap: PositiveFloat = Field(
        60, description="Longest wait for a limit window to reset after a burst (seconds)."
    )


class JwtConfig(_Strict):
    """Options of the jwt probe."""

    identity: str | None = Field(default=None, description="Identity whose token is tested.")
    endpoint: str | None = Field(default=None, description="Endpoint that needs the token.")
    max_lifetime: PositiveInt = Field(3600, description="Seconds a token may live.")
    wait_for_expiry: Annotated[int, Field(ge=0)] = Field(
        120, description="Wait up to this long for a real token to expire, then replay it."
    )
    expired_token: str | None = Field(default=None, description="A token known to be expired.")
    secret: str | None = Field(default=None, description="The test environment's secret.")


class ErrorsConfig(_Strict):
    """Options of the errors probe."""

    exposure_paths: bool = Field(True, description="Also request well-known debug paths.")


class InjectionConfig(_Strict):
    """Options of the injection probe."""

    time_based: bool = Field(False, description="Allow time-based (sleep) payloads.")


class AccessConfig(_Strict):
    """Options of the access probe."""


class Probes(_Strict):
    """Which probes run; a probe set to false is off, an absent one runs with defaults."""

    headers: HeadersConfig | Literal[False] = Field(default_factory=HeadersConfig)
    https: HttpsConfig | Literal[False] = Field(default_factory=HttpsConfig)
    rate_limit: RateLimitConfig | Literal[False] = Field(default_factory=RateLimitConfig)
    jwt: JwtConfig | Literal[False] = Field(default_factory=JwtConfig)
    errors: ErrorsConfig | Literal[False] = Field(default_factory=ErrorsConfig)
    injection: InjectionConfig | Literal[False] = Field(default_factory=InjectionConfig)
    access: AccessConfig | Literal[False] = Field(default_factory=AccessConfig)

    @model_validator(mode="before")
    @classmethod
    def _true_and_null_mean_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: ({} if v is True or v is None else v) for k, v in data.items()}
        return data

    def enabled(self) -> dict[str, BaseModel]:
        """Probe id -> its config, for the probes that are on."""
        out: dict[str, BaseModel] = {}
        for probe_id in PROBE_IDS:
            config = getattr(self, probe_id)
            if config is not False:
                out[probe_id] = config
        return out


class Scenario(_Strict):
    """A whole scenario file."""

    version: Literal[1] = Field(1, description="Scenario format version.")
    name: str = Field(min_length=1, description="Name shown in reports.")
    target: Target
    settings: Settings = Field(default_factory=Settings)
    identities: dict[str, Identity] = Field(default_factory=dict)
    endpoints: list[Endpoint] = Field(default_factory=list, max_length=MAX_ENDPOINTS)
    probes: Probes = Field(default_factory=Probes)

    def endpoint(self, label: str) -> Endpoint:
        """The endpoint with this label (name or "METHOD path")."""
        for endpoint in self.endpoints:
            if endpoint.label == label:
                return endpoint
        raise KeyError(label)


def reference_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Problems that span keys, each with the key path where it shows."""
    problems: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    for index, endpoint in enumerate(scenario.endpoints):
        loc: Loc = ("endpoints", index)
        label = endpoint.label
        if label in seen:
            where = "name" if endpoint.name else "path"
            problems.append(
                ((*loc, where), f"duplicate endpoint {label!r} (also endpoints[{seen[label]}])")
            )
        seen.setdefault(label, index)
        for key in ("identity", "owner"):
            ref = getattr(endpoint, key)
            if ref is not None and ref not in scenario.identities:
                problems.append(((*loc, key), _unknown("identity", ref, scenario.identities)))
        if isinstance(endpoint.inject, list):
            names = endpoint.parameter_names()
            for i, param in enumerate(endpoint.inject):
                if param not in names:
                    problems.append(
                        ((*loc, "inject", i), _unknown("parameter", param, names, "endpoint"))
                    )
        if endpoint.burst is not None and endpoint.burst > scenario.settings.burst_cap:
            problems.append(
                (
                    (*loc, "burst"),
                    f"burst {endpoint.burst} is above settings.burst_cap "
                    f"({scenario.settings.burst_cap})",
                )
            )
    problems += _scope_problems(scenario.target)
    jwt = scenario.probes.jwt
    if jwt is not False:
        if jwt.identity is not None and jwt.identity not in scenario.identities:
            problems.append(
                (
                    ("probes", "jwt", "identity"),
                    _unknown("identity", jwt.identity, scenario.identities),
                )
            )
        if jwt.endpoint is not None and jwt.endpoint not in seen:
            problems.append(
                (("probes", "jwt", "endpoint"), _unknown("endpoint", jwt.endpoint, seen))
            )
    return problems


def _scope_problems(target: Target) -> list[tuple[Loc, str]]:
    """base_url must be in scope, or the scan could send nothing at all."""
    if target.scope is None:
        return []
    key = host_key(target.base_url)
    host = key.rsplit(":", 1)[0]
    if key in target.scope or host in target.scope:
        return []
    return [
        (
            ("target", "scope"),
            f"base_url's host {key} is not in scope ({', '.join(target.scope)}): "
            "the scan could not send a single request",
        )
    ]


def _unknown(kind: str, ref: str, known: Any, owner: str = "scenario") -> str:
    import difflib

    names = sorted(str(k) for k in known)
    close = difflib.get_close_matches(ref, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if not names:
        return f"unknown {kind} {ref!r}: the {owner} defines none{hint}"
    return f"unknown {kind} {ref!r}{hint} (defined: {', '.join(names)})"
