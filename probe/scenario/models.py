"""Scenario format version 1 as pydantic models.

The models check shapes and values one key at a time (the value checks they share are in
`values`, the options of each probe in `probe_configs`); `reference_problems` (in
`references`) checks what spans keys (unique names, identities and endpoints that are referred
to). Both report a location as a key path, which the loader turns into file:line.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator, model_validator

from probe.scenario.probe_configs import (
    PROBE_IDS,
    AccessConfig,
    ErrorsConfig,
    HeadersConfig,
    HttpsConfig,
    InjectionConfig,
    JwtConfig,
    Probes,
    RateLimitConfig,
)
from probe.scenario.references import reference_problems
from probe.scenario.values import (
    Headers,
    JsonBody,
    PathText,
    PositiveFloat,
    PositiveInt,
    StrictModel,
    Text,
    check_header_value,
    check_headers,
    check_url,
    host_key,
)

# The names other modules import from here, defined here or re-exported.
__all__ = [
    "HTTP_METHODS",
    "MAX_ENDPOINTS",
    "PROBE_IDS",
    "AccessConfig",
    "Endpoint",
    "ErrorsConfig",
    "HeadersConfig",
    "HttpsConfig",
    "Identity",
    "InjectionConfig",
    "JwtConfig",
    "Loc",
    "Login",
    "LoginFields",
    "MassAssignment",
    "Probes",
    "RateLimitConfig",
    "Refresh",
    "Scenario",
    "Settings",
    "Target",
    "host_key",
    "reference_problems",
]

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")

Loc = tuple[str | int, ...]

MAX_ENDPOINTS = 1000


class Target(StrictModel):
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
        if not value.lower().startswith("http://"):
            raise ValueError(f"http_url must be a plain http:// URL, got {value!r}")
        value = check_url(value, field="http_url")
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
            # host:port (or [v6]:port); a bare IPv6 address has several colons and no port.
            port = entry.rsplit(":", 1)[1] if entry.count(":") == 1 or "]:" in entry else None
            if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
                raise ValueError(f"scope entry {entry!r} has an invalid port {port!r}")
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


class Settings(StrictModel):
    """How hard and how long the scan may push the target."""

    concurrency: PositiveInt = Field(8, description="Requests in flight at most (not bursts).")
    requests_per_second: PositiveFloat = Field(20, description="Politeness cap outside bursts.")
    timeout: PositiveFloat = Field(10, description="Seconds per request.")
    max_requests: PositiveInt = Field(5000, description="Hard request budget for the scan.")
    body_cap: PositiveInt = Field(
        1_048_576, description="Bytes of a response body read at most (after decompression)."
    )
    burst_cap: PositiveInt = Field(500, description="Largest burst any endpoint may ask for.")


class Refresh(StrictModel):
    """How to exchange a refresh token for a new access token (the jwt probe's rotation check)."""

    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    path: PathText = Field(description="Path of the refresh endpoint, joined to base_url.")
    headers: Headers = Field(default_factory=dict)
    field: str = Field(
        "refresh_token", description="Body field (JSON, or form with `form: true`) of the token."
    )
    form: bool = Field(False, description="Send a form body instead of JSON.")
    token_path: str | None = Field(
        default=None, description="Dotted path of the new access token; default: the login's."
    )

    model_config = ConfigDict(extra="forbid", frozen=True)


class Login(StrictModel):
    """A login request made at scan start to obtain the identity's token."""

    method: Literal["GET", "POST", "PUT", "PATCH"] = "POST"
    path: PathText = Field(description="Path of the login endpoint, joined to base_url.")
    headers: Headers = Field(default_factory=dict)
    json_body: JsonBody = Field(default=None, alias="json", description="JSON body to send.")
    form: dict[str, Text] | None = Field(default=None, description="Form fields to send.")
    token_path: str = Field(description="Dotted path of the token in the JSON answer.")
    refresh_path: str | None = Field(default=None, description="Dotted path of a refresh token.")
    refresh: Refresh | None = Field(
        default=None, description="The refresh request (needs refresh_path); jwt tests rotation."
    )

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _one_body(self) -> Login:
        if self.json_body is not None and self.form is not None:
            raise ValueError("login takes json or form, not both")
        if self.refresh is not None and self.refresh_path is None:
            raise ValueError("login.refresh needs refresh_path: where the login answer holds it")
        return self


class Identity(StrictModel):
    """Someone the scan can act as: a ready token or a login."""

    token: str | None = Field(default=None, description="A ready bearer token.")
    login: Login | None = Field(default=None, description="Log in at scan start instead.")
    header: str = Field("Authorization", description="Header that carries the token.")
    scheme: str = Field("Bearer", description='Prefix before the token; "" sends it bare.')
    tags: list[str] = Field(
        default_factory=list,
        description="Roles, e.g. [admin]: admin-tagged endpoints are tried without the role.",
    )

    @field_validator("header")
    @classmethod
    def _header(cls, value: str) -> str:
        check_headers({value: ""})
        return value

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, value: str) -> str:
        return check_header_value("", value, what="the scheme")

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        # The token goes into a header line as it is.
        return None if value is None else check_header_value("", value, what="the token")

    @model_validator(mode="after")
    def _one_source(self) -> Identity:
        if (self.token is None) == (self.login is None):
            raise ValueError("an identity needs exactly one of token or login")
        if self.token is not None and not self.token.strip():
            raise ValueError("token is empty")
        return self


class MassAssignment(StrictModel):
    """The access probe's mass-assignment check on a create or update endpoint (opt-in)."""

    read: str | None = Field(
        default=None,
        description="Endpoint that reads the object back; default: GET on the same path.",
    )
    fields: dict[str, Any] = Field(
        default_factory=lambda: {"admin": True, "is_admin": True, "role": "admin"},
        description="Privilege fields added to the body.",
    )

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("fields")
    @classmethod
    def _some_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("fields must name at least one privilege field")
        dotted = [name for name in value if "." in name]
        if dotted:
            raise ValueError(
                f"fields names privilege fields alone, not paths: {dotted[0]!r} (they are added "
                "where the body's own fields are)"
            )
        return value


class LoginFields(StrictModel):
    """Where a login endpoint's body holds the user name and the password (access probe)."""

    user: str | None = Field(
        default=None, description="Dotted path (JSON) or form key as written (`user[email]`)."
    )
    password: str | None = Field(default=None, description="The same, for the password.")

    model_config = ConfigDict(extra="forbid", frozen=True)


class Endpoint(StrictModel):
    """One request the probes may send, with what each probe may do to it."""

    name: str | None = Field(default=None, description='Unique name; default "METHOD path".')
    method: str = Field("GET", description="HTTP method.")
    path: PathText = Field(description="Path joined to base_url; {name} placeholders allowed.")
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
    login_fields: LoginFields | None = Field(
        default=None,
        description=(
            "Where this login endpoint's body holds the user name and password; wins over "
            "probes.access.user_field/password_field."
        ),
    )
    mass_assignment: MassAssignment | None = Field(
        default=None,
        description="Opt-in: true, or {read, fields}; the access probe adds privilege fields.",
    )
    tags: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("mass_assignment", mode="before")
    @classmethod
    def _mass_assignment(cls, value: Any) -> Any:
        if value is True:
            return {}
        return None if value is False else value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in HTTP_METHODS:
            raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)}, got {value!r}")
        return upper

    @model_validator(mode="after")
    def _consistent(self) -> Endpoint:
        bodies = [b for b in (self.json_body, self.form, self.body) if b is not None]
        if len(bodies) > 1:
            raise ValueError("an endpoint takes one of json, form or body")
        missing = [p for p in _PLACEHOLDER.findall(self.path) if p not in self.path_params]
        if missing:
            raise ValueError(f"path placeholder {{{missing[0]}}} has no value in path_params")
        if self.mass_assignment is not None:
            if self.method not in ("POST", "PUT", "PATCH"):
                raise ValueError("mass_assignment needs a POST, PUT or PATCH endpoint")
            if not isinstance(self.json_body, dict):
                raise ValueError("mass_assignment needs a JSON object body (json:)")
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


class Scenario(StrictModel):
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
